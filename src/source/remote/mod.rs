//! Remote files read with HTTP range requests: `hf://ORG/NAME[@REV][/PATH]` and `https://` URLs.
//!
//! # Design: a sparse local mirror
//!
//! Every reader of tensorscope parses `&[u8]` of a whole file through a memory map. Rather than
//! teach each reader about ranges, a remote path becomes a **mirror folder** in the cache, with one
//! **sparse file per remote file**: it has the remote file's size, holes where nothing was fetched,
//! and the fetched ranges listed in a sidecar (`ranges.json`). The usual code (`checkpoint::open`,
//! the scanner) then runs on the mirror folder unchanged, and sees the real bytes wherever it looks —
//! because before a mirrored file is mapped (`Source::open`), the ranges its format needs
//! (headers, pickles, zip directories; never tensor data) are fetched by a *planner* that the floor
//! above registers ([`set_planner`], implemented in `crate::remote`). Tensor values are fetched only
//! when asked for ([`RemoteFile::fetch`], used by `Checkpoint::storage_bytes` and `show`).
//!
//! - **Cache**: `$XDG_CACHE_HOME/tensorscope` (else `~/.cache/tensorscope`):
//!   `hf/ORG/NAME/COMMIT/{listing.json,ranges.json,files/…}` keyed by the commit the revision
//!   resolved to (`hf/ORG/NAME/refs/REV` remembers it for `--offline`), and `url/HASH/…` for URLs
//!   (checked against the server's size and ETag on each run). A second run of the same revision
//!   makes one API call and reads everything else from the cache.
//! - **Offline** ([`set_offline`], `--offline`, `HF_HUB_OFFLINE=1`): no request at all; whatever
//!   is not in the cache is an error.
//! - **Limits**: see [`http`] (requests, bytes, timeouts per command) and [`mirror::MAX_REMOTE_FILES`].

pub mod http;
pub mod mirror;
pub mod url;

use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::{Error, Result};
pub use mirror::Mirror;
pub use url::{RemotePath, is_remote};

/// Requests run at once for one file.
pub const CONCURRENCY: usize = 4;
/// Largest remote tensor storage fetched on demand by `Checkpoint::storage_bytes` (previews and
/// statistics in the UI); `diff` fetches what it compares explicitly, within the per-command limit.
pub const MAX_ON_DEMAND: u64 = 64 << 20;
/// Holes smaller than this between two wanted ranges are fetched too, saving a request.
pub const MERGE_GAP: u64 = 512;

static OFFLINE: AtomicBool = AtomicBool::new(false);

/// Use the cache alone: every request becomes an error.
pub fn set_offline(on: bool) {
    OFFLINE.store(on, Ordering::Relaxed);
}

/// Whether requests are refused (`--offline` or `HF_HUB_OFFLINE=1`).
pub fn offline() -> bool {
    OFFLINE.load(Ordering::Relaxed)
        || std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| matches!(v.trim(), "1" | "true" | "TRUE" | "yes"))
}

/// What fetches the ranges a file's format needs before the file is read; registered by the floor
/// that knows the formats. Returns why the file could not be fetched completely, if so.
pub type Planner = fn(&RemoteFile) -> Result<Option<String>>;

static PLANNER: OnceLock<Planner> = OnceLock::new();

/// Register the planner (the first registration wins).
pub fn set_planner(p: Planner) {
    let _ = PLANNER.set(p);
}

/// A sorted set of disjoint byte ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeSet(Vec<Range<u64>>);

impl RangeSet {
    /// The ranges, sorted and disjoint.
    pub fn ranges(&self) -> &[Range<u64>] {
        &self.0
    }

    /// Add `r`, merging with neighbours.
    pub fn insert(&mut self, r: Range<u64>) {
        if r.start >= r.end {
            return;
        }
        let (mut start, mut end) = (r.start, r.end);
        let mut out = Vec::with_capacity(self.0.len() + 1);
        for x in self.0.drain(..) {
            if x.end < start || x.start > end {
                out.push(x);
            } else {
                start = start.min(x.start);
                end = end.max(x.end);
            }
        }
        out.push(start..end);
        out.sort_by_key(|x| x.start);
        self.0 = out;
    }

    /// The parts of `r` not in the set.
    pub fn missing(&self, r: Range<u64>) -> Vec<Range<u64>> {
        let mut out = Vec::new();
        let mut at = r.start;
        for x in &self.0 {
            if x.end <= at {
                continue;
            }
            if x.start >= r.end {
                break;
            }
            if x.start > at {
                out.push(at..x.start);
            }
            at = at.max(x.end);
        }
        if at < r.end {
            out.push(at..r.end);
        }
        out
    }

    /// Total bytes in the set.
    pub fn len(&self) -> u64 {
        self.0.iter().map(|r| r.end - r.start).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One remote file and its sparse copy in the cache.
#[derive(Debug)]
pub struct RemoteFile {
    /// Path inside the repository (or the URL's file name).
    pub rel: String,
    /// Where it is downloaded from.
    pub url: String,
    /// Its size, from the listing (or the server).
    pub size: u64,
    /// The sparse copy.
    pub local: PathBuf,
    /// The label used in reports: `hf://ORG/NAME@COMMIT/PATH` or the URL.
    pub label: String,
    pub(crate) mirror: Arc<mirror::State>,
    prepared: OnceLock<std::result::Result<Option<String>, String>>,
}

impl RemoteFile {
    /// Ranges of the file that are in the cache.
    pub fn fetched(&self) -> RangeSet {
        self.mirror.ranges_of(&self.rel)
    }

    /// Fetch whatever of `ranges` is not in the cache yet (clamped to the file), a few requests at a time.
    pub fn fetch(&self, ranges: &[Range<u64>]) -> Result<()> {
        let have = self.fetched();
        let mut todo: Vec<Range<u64>> = Vec::new();
        let mut wanted: Vec<Range<u64>> = ranges
            .iter()
            .map(|r| r.start.min(self.size)..r.end.min(self.size))
            .filter(|r| r.start < r.end)
            .collect();
        wanted.sort_by_key(|r| r.start);
        for r in wanted {
            for m in have.missing(r) {
                match todo.last_mut() {
                    Some(last) if m.start <= last.end.saturating_add(MERGE_GAP) => last.end = last.end.max(m.end),
                    _ => todo.push(m),
                }
            }
        }
        if todo.is_empty() {
            return Ok(());
        }
        if offline() {
            let r = &todo[0];
            return Err(Error::Usage(format!(
                "{}: bytes {}..{} are not in the cache and --offline forbids fetching them",
                crate::text::escape(&self.label),
                r.start,
                r.end
            )));
        }
        let client = self.mirror.client()?;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.local)
            .map_err(|e| Error::io(&self.local, e))?;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let errors: Mutex<Option<Error>> = Mutex::new(None);
        std::thread::scope(|s| {
            for _ in 0..CONCURRENCY.min(todo.len()) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(r) = todo.get(i) else { break };
                        if errors.lock().map(|e| e.is_some()).unwrap_or(true) {
                            break;
                        }
                        let got = client.get_range(&self.url, r.clone(), Some(self.size)).and_then(|g| {
                            file.write_all_at(&g.data, r.start)
                                .map_err(|e| Error::io(&self.local, e))
                        });
                        match got {
                            Ok(()) => self.mirror.add_range(&self.rel, r.clone()),
                            Err(e) => {
                                if let Ok(mut slot) = errors.lock() {
                                    slot.get_or_insert(e);
                                }
                                break;
                            }
                        }
                    }
                });
            }
        });
        self.mirror.save_ranges();
        match errors.into_inner().ok().flatten() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Fetch bytes `r` unless they are in the cache.
    pub fn fetch_range(&self, r: Range<u64>) -> Result<()> {
        self.fetch(std::slice::from_ref(&r))
    }

    /// Bytes `r` of the file, fetched first when needed.
    pub fn read(&self, r: Range<u64>) -> Result<Vec<u8>> {
        let r = r.start.min(self.size)..r.end.min(self.size);
        self.fetch(std::slice::from_ref(&r))?;
        let file = std::fs::File::open(&self.local).map_err(|e| Error::io(&self.local, e))?;
        let mut buf = vec![0u8; (r.end - r.start) as usize];
        file.read_exact_at(&mut buf, r.start)
            .map_err(|e| Error::io(&self.local, e))?;
        Ok(buf)
    }

    /// Run the registered planner once: fetch what the file's format needs. Returns why the file
    /// could not be fetched completely, if so.
    pub fn prepare(&self) -> Result<Option<String>> {
        let got = self.prepared.get_or_init(|| match PLANNER.get() {
            Some(p) => p(self).map_err(|e| e.to_string()),
            None => Ok(Some("no planner registered".into())),
        });
        got.clone().map_err(|m| Error::Format {
            path: PathBuf::from(crate::text::escape(&self.label).into_owned()),
            msg: m.split_once(": ").map_or(m.as_str(), |x| x.1).to_owned(),
        })
    }

    /// Why the file could not be fetched completely, when [`RemoteFile::prepare`] ran and fetched
    /// only part of what the format needs (a failed prepare is an error of opening the file instead).
    pub fn incomplete(&self) -> Option<String> {
        match self.prepared.get() {
            Some(Ok(why)) => why.clone(),
            _ => None,
        }
    }
}

static MIRRORS: Mutex<Vec<Arc<Mirror>>> = Mutex::new(Vec::new());

pub(crate) fn register(m: Arc<Mirror>) {
    if let Ok(mut all) = MIRRORS.lock() {
        all.push(m);
    }
}

fn registered(label: &str) -> Option<Arc<Mirror>> {
    MIRRORS.lock().ok()?.iter().find(|m| m.label == label).cloned()
}

/// The remote file whose sparse copy is `path`, when it is one.
pub fn lookup(path: &Path) -> Option<Arc<RemoteFile>> {
    let all = MIRRORS.lock().ok()?;
    for m in all.iter() {
        if let Ok(rel) = path.strip_prefix(&m.files_dir) {
            let rel = rel.to_str()?;
            return m.files.iter().find(|f| f.rel == rel).cloned();
        }
    }
    None
}

/// The mirror `f` belongs to.
pub fn mirror_of(f: &RemoteFile) -> Option<Arc<Mirror>> {
    let all = MIRRORS.lock().ok()?;
    all.iter().find(|m| f.local.starts_with(&m.files_dir)).cloned()
}

/// Requests and bytes fetched by this process so far.
pub fn traffic() -> (u64, u64) {
    mirror::traffic()
}

#[cfg(test)]
mod tests {
    use super::RangeSet;

    #[test]
    fn range_sets_merge_and_report_holes() {
        let mut s = RangeSet::default();
        s.insert(10..20);
        s.insert(30..40);
        assert_eq!(s.missing(0..50), vec![0..10, 20..30, 40..50]);
        s.insert(20..30);
        assert_eq!(s.ranges(), std::slice::from_ref(&(10..40)));
        assert_eq!(s.missing(15..35), Vec::<std::ops::Range<u64>>::new());
        s.insert(5..12);
        assert_eq!(s.ranges(), std::slice::from_ref(&(5..40)));
        assert_eq!(s.len(), 35);
    }
}
