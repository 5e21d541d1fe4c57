//! Where bytes come from: a local file opened as a regular file and memory-mapped, guarded against
//! truncation by another process (see [`guard`]), or a local *sparse* file whose holes are filled on
//! demand by something above (the mirror of a remote file, see the `remote` room, which implements
//! [`Sparse`]: this floor knows no HTTP and imports nothing of `remote`). The ground floor, beside
//! the model. Small outputs are written whole or not at all through [`atomic`].

pub mod atomic;
pub mod guard;
pub mod walk;

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use crate::{Error, Result};

/// Largest remote tensor storage fetched on demand by `Checkpoint::storage_bytes` (previews and
/// statistics in the UI); `diff` fetches what it compares explicitly, within the per-command limit.
pub const MAX_ON_DEMAND: u64 = 64 << 20;

/// A local file whose bytes arrive on demand: the sparse copy of a remote file. Implemented by the
/// floor that fetches (`RemoteFile` in the `remote` room); the readers only see its map.
pub trait Sparse: std::fmt::Debug + Send + Sync {
    /// The file's full size.
    fn size(&self) -> u64;
    /// The name used in reports (`hf://ORG/NAME@COMMIT/PATH` or the URL).
    fn label(&self) -> &str;
    /// Make sure bytes `ranges` are really in the file (fetching what is not).
    fn fetch(&self, ranges: &[Range<u64>]) -> Result<()>;
    /// Whether every byte of `range` is already in the file.
    fn has(&self, range: Range<u64>) -> bool;
    /// Why the file could not be fetched completely, when only part of what its format needs is there.
    fn incomplete(&self) -> Option<String>;
    /// The implementation, for the floor that made it.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A memory map of one file (or nothing, for an empty file, which cannot be mapped), guarded
/// against truncation by another process (see [`guard`]).
#[derive(Debug)]
pub(crate) enum Source {
    Map(guard::GuardedMap),
    Empty,
    /// A sparse file: its map (`None` when empty) and what fills its holes.
    Sparse(Option<guard::GuardedMap>, Arc<dyn Sparse>),
}

/// Open a regular file for reading. A FIFO, socket or device named like a checkpoint is refused
/// without blocking: opening a FIFO for reading waits for a writer, which would hang the reader.
pub(crate) fn open_regular(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let not_regular = || Error::format(path, "not a regular file");
    if !std::fs::metadata(path).map_err(|e| Error::io(path, e))?.is_file() {
        return Err(not_regular());
    }
    // O_NONBLOCK: should the path become a FIFO after the check, open still returns at once
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    match file.metadata() {
        Ok(m) if m.is_file() => Ok(file),
        Ok(_) => Err(not_regular()),
        Err(e) => Err(Error::io(path, e)),
    }
}

impl Source {
    /// Map the sparse file at `path`, whose holes `f` fills (the caller fetched what its format needs).
    pub(crate) fn open_sparse(path: &Path, f: Arc<dyn Sparse>) -> Result<(Self, u64)> {
        let file = open_regular(path)?;
        let size = f.size();
        let map = match size {
            0 => None,
            _ => Some(guard::GuardedMap::map(&file, 0, None).map_err(|e| Error::io(path, e))?),
        };
        Ok((Source::Sparse(map, f), size))
    }

    /// Map the local file at `path`.
    pub(crate) fn open(path: &Path) -> Result<(Self, u64)> {
        let file = open_regular(path)?;
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
        if !meta.is_file() {
            return Err(Error::format(path, "not a regular file"));
        }
        if meta.len() == 0 {
            return Ok((Source::Empty, 0));
        }
        // Another process may truncate the file under the map: the guard turns the resulting SIGBUS
        // into zero pages and a damage mark that `Checkpoint::check_intact` reports.
        let map = guard::GuardedMap::map(&file, 0, None).map_err(|e| Error::io(path, e))?;
        // No read-ahead until the format is known: a torch archive is parsed from its end (the zip
        // directory) and one small member (data.pkl), and read-ahead around each fault would pull
        // megabytes of tensor data into the cache (a cold inspect of a 500 MB .bin read 286 MB).
        // Anything but a pickle or zip gets normal read-ahead back at once; pickle readers call
        // [`Source::advise_sequential`] once parsed.
        map.advise_random(true);
        let head = &map.bytes()[..map.bytes().len().min(4)];
        if !(head.starts_with(b"PK") || head.first() == Some(&0x80)) {
            map.advise_random(false);
        }
        Ok((Source::Map(map), meta.len()))
    }

    /// Start reading `range` of a mapped file now (see [`guard::GuardedMap::will_need`]).
    pub(crate) fn prefetch(&self, range: std::ops::Range<u64>) {
        if let Source::Map(m) = self {
            m.will_need(range);
        }
    }

    /// Normal read-ahead again (after a pickle's structure was parsed with none).
    pub(crate) fn advise_sequential(&self) {
        if let Source::Map(m) = self {
            m.advise_random(false);
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Source::Map(m) | Source::Sparse(Some(m), _) => m.bytes(),
            Source::Empty | Source::Sparse(None, _) => &[],
        }
    }

    pub(crate) fn damaged(&self) -> bool {
        matches!(self, Source::Map(m) | Source::Sparse(Some(m), _) if m.damaged())
    }

    /// What fills the holes of a sparse file (the remote file it is a copy of).
    pub(crate) fn sparse(&self) -> Option<&Arc<dyn Sparse>> {
        match self {
            Source::Sparse(_, f) => Some(f),
            _ => None,
        }
    }

    /// Make sure bytes `r` are really there: fetched for a remote file, a no-op for a local one.
    pub(crate) fn fetch(&self, ranges: &[std::ops::Range<u64>]) -> Result<()> {
        match self {
            Source::Sparse(_, f) => f.fetch(ranges),
            _ => Ok(()),
        }
    }
}
