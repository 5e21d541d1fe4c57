//! One remote file and its sparse copy: fetching the holes a reader needs, a few range requests at
//! a time, through the connection of the context (`Env`) that opened it.

use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};

use super::cache::{RangeSet, State};
use super::options::Net;
use crate::source::Sparse;
use crate::{Error, Result};

/// Requests run at once for one file.
pub const CONCURRENCY: usize = 4;
/// Holes smaller than this between two wanted ranges are fetched too, saving a request.
pub const MERGE_GAP: u64 = 512;

/// The hashes the Hub lists for a file: the git blob id of every file and the SHA-256 of an LFS
/// file (`lfs.oid`). Each is lower-case hex, or `None` when the listing gave none (or an invalid one).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hashes {
    /// The git blob id (SHA-1 of `blob LEN\0` and the bytes), 40 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_sha1: Option<String>,
    /// The SHA-256 of the bytes of an LFS file, 64 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lfs_sha256: Option<String>,
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
    /// What the Hub's listing says the bytes hash to (empty for a URL).
    pub hashes: Hashes,
    /// The fetched ranges of the mirror the file belongs to.
    pub(crate) cache: Arc<State>,
    /// The connection holes are fetched through.
    pub(crate) net: Arc<Net>,
    /// What the planner said, once it ran (see [`RemoteFile::prepare_with`]).
    pub(crate) prepared: OnceLock<std::result::Result<Option<String>, String>>,
}

impl RemoteFile {
    /// Ranges of the file that are in the cache.
    pub fn fetched(&self) -> RangeSet {
        self.cache.ranges_of(&self.rel)
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
        if self.net.offline() {
            let r = &todo[0];
            return Err(Error::Usage(format!(
                "{}: bytes {}..{} are not in the cache and --offline forbids fetching them",
                crate::text::escape(&self.label),
                r.start,
                r.end
            )));
        }
        let client = self.net.client()?;
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
                            Ok(()) => self.cache.add_range(&self.rel, r.clone()),
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
        self.cache.save_ranges();
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

    /// Run `plan` once (the range planning, in `plan`): fetch what the file's format needs.
    /// Returns why the file could not be fetched completely, if so; later calls return the same.
    pub(crate) fn prepare_with(&self, plan: fn(&RemoteFile) -> Result<Option<String>>) -> Result<Option<String>> {
        let got = self.prepared.get_or_init(|| plan(self).map_err(|e| e.to_string()));
        got.clone().map_err(|m| Error::Format {
            path: PathBuf::from(crate::text::escape(&self.label).into_owned()),
            msg: m.split_once(": ").map_or(m.as_str(), |x| x.1).to_owned(),
        })
    }

    /// Why the file could not be fetched completely, when its range planning ran and fetched
    /// only part of what the format needs (a failed prepare is an error of opening the file instead).
    pub fn incomplete(&self) -> Option<String> {
        match self.prepared.get() {
            Some(Ok(why)) => why.clone(),
            _ => None,
        }
    }
}

impl Sparse for RemoteFile {
    fn size(&self) -> u64 {
        self.size
    }

    fn label(&self) -> &str {
        &self.label
    }

    fn fetch(&self, ranges: &[Range<u64>]) -> Result<()> {
        RemoteFile::fetch(self, ranges)
    }

    fn has(&self, range: Range<u64>) -> bool {
        self.fetched().missing(range).is_empty()
    }

    fn incomplete(&self) -> Option<String> {
        RemoteFile::incomplete(self)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
