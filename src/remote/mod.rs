//! Remote paths (`hf://ORG/NAME[@REV][/PATH]`, `https://…`) for `checkpoint::open` and the scanner.
//!
//! The mechanism — a mirror folder of sparse files in the cache, HTTP range requests, limits — is
//! [`crate::source::remote`]. This floor adds what needs the formats: [`plan`] decides which byte
//! ranges each file needs before a reader maps it (the safetensors header, a zip's directory and
//! its pickles, a legacy file's stacked pickles and storage counts, a numpy header), so that
//! `inspect` and `scan` read only headers and pickles, never tensor data.

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
    let files: Vec<&Arc<RemoteFile>> = m.files.iter().filter(|f| f.local.starts_with(&m.target)).collect();
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
