//! Remote paths (`hf://ORG/NAME[@REV][/PATH]`, `https://…`) for `checkpoint::open` and the scanner.
//!
//! The mechanism — a mirror folder of sparse files in the cache, HTTP range requests, limits — is
//! [`crate::source::remote`]. This floor adds what needs the formats: [`plan`] decides which byte
//! ranges each file needs before a reader maps it (the safetensors header, a zip's directory and
//! its pickles, a legacy file's stacked pickles and storage counts, a numpy header), so that
//! `inspect` and `scan` read only headers and pickles, never tensor data.

mod gguf;
pub mod plan;

use std::path::Path;
use std::sync::Arc;

use crate::Result;
use crate::source::remote::{Mirror, RemoteFile, RemotePath};

/// Parse `path`: `None` when it is a local path; else open its mirror (resolving the revision and
/// listing the files, or reading them from the cache with `--offline`).
pub fn open_mirror(path: &Path) -> Result<Option<Arc<Mirror>>> {
    let Some(s) = path.to_str() else { return Ok(None) };
    let Some(remote) = RemotePath::parse(s)? else {
        return Ok(None);
    };
    crate::source::remote::set_planner(plan::prepare);
    Mirror::open(&remote, s).map(Some)
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
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..crate::source::remote::CONCURRENCY.min(files.len()) {
            s.spawn(|| {
                while let Some(f) = files.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                    // errors are kept by the file and reported when the scanner opens it
                    let _ = f.prepare();
                }
            });
        }
    });
}
