//! Opening the files of a mirror: before a sparse copy is read, the range planning fetches what
//! its format needs ([`super::plan::prepare`], asked directly, once per file); the copy is then
//! mapped as a `Source` that knows where to fetch its holes from. Local files open as they are.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::file::{CONCURRENCY, RemoteFile};
use super::mirror::Mirror;
use super::plan;
use crate::Result;
use crate::source::{self, Source};

/// Opens the files of one checkpoint or scan: the files of a mirror after fetching what their
/// format needs, anything else as a local file. [`Opener::default`] opens local files only.
#[derive(Debug, Clone, Default)]
pub struct Opener {
    mirror: Option<Arc<Mirror>>,
}

impl Opener {
    /// An opener for the files of `m` (and local files).
    pub fn mirror(m: Arc<Mirror>) -> Opener {
        Opener { mirror: Some(m) }
    }

    /// The remote file whose sparse copy is `path`, when it is one.
    pub fn remote_file(&self, path: &Path) -> Option<&Arc<RemoteFile>> {
        self.mirror.as_ref()?.file_at(path)
    }

    /// Open `path` as a regular file (see `source::open_regular`), a remote file's copy once
    /// what its format needs is fetched.
    pub fn open_regular(&self, path: &Path) -> Result<std::fs::File> {
        if let Some(f) = self.remote_file(path) {
            prepare(f)?;
        }
        source::open_regular(path)
    }

    /// Map `path`: a remote file's sparse copy once what its format needs is fetched.
    pub(crate) fn source(&self, path: &Path) -> Result<(Source, u64)> {
        match self.remote_file(path) {
            Some(f) => {
                prepare(f)?;
                Source::open_sparse(path, f.clone())
            }
            None => Source::open(path),
        }
    }
}

/// Fetch what `f`'s format needs, once (see [`plan::prepare`]). Returns why the file could not be
/// fetched completely, if so.
pub fn prepare(f: &RemoteFile) -> Result<Option<String>> {
    f.prepare_with(plan::prepare)
}

/// Fetch what every file under the mirror's target needs, a few files at a time (the scanner opens
/// files one by one; fetching ahead keeps the requests of different files overlapping).
pub fn prepare_all(m: &Mirror) {
    prepare_where(m, |_| true);
}

/// Fetch the headers of the safetensors files under the target ahead of `checkpoint::open` (which
/// opens them one after the other), a few at a time: those of `variant` (`model.fp16.safetensors`),
/// or without one those that carry no variant infix.
pub fn prefetch_safetensors(m: &Mirror, variant: Option<&str>) {
    prepare_where(m, |f| {
        let Some(stem) = f.rel.strip_suffix(".safetensors") else {
            return false;
        };
        let infix = stem.rsplit_once('.').map(|x| x.1).filter(|i| !i.contains('/'));
        match (variant, infix) {
            (Some(v), Some(i)) => i == v,
            (Some(_), None) => false,
            (None, Some(i)) => !VARIANTS.contains(&i),
            (None, None) => true,
        }
    });
}

/// Weight variant infixes (`model.fp16.safetensors`), as the folder layout knows them.
const VARIANTS: [&str; 9] = ["fp16", "bf16", "fp32", "ema", "non_ema", "flax", "onnx", "int8", "fp8"];

fn prepare_where(m: &Mirror, keep: impl Fn(&RemoteFile) -> bool) {
    let files: Vec<&Arc<RemoteFile>> = m
        .files
        .iter()
        .filter(|f| f.local.starts_with(&m.target) && keep(f))
        .collect();
    if files.len() < 2 {
        return;
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..CONCURRENCY.min(files.len()) {
            s.spawn(|| {
                while let Some(f) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                    // errors are kept by the file and reported when the scanner opens it
                    let _ = prepare(f);
                }
            });
        }
    });
}
