//! Where bytes come from: a local file opened as a regular file and memory-mapped, guarded against
//! truncation by another process (see [`guard`]), or the sparse local copy of a remote file (see
//! [`remote`]). The ground floor, beside the model.

pub mod guard;
pub mod remote;

use std::path::Path;

use crate::{Error, Result};

/// A memory map of one file (or nothing, for an empty file, which cannot be mapped), guarded
/// against truncation by another process (see [`guard`]).
#[derive(Debug)]
pub(crate) enum Source {
    Map(guard::GuardedMap),
    Empty,
    /// The sparse copy of a remote file: its map (`None` when empty) and where to fetch holes from.
    Remote(Option<guard::GuardedMap>, std::sync::Arc<remote::RemoteFile>),
}

/// Open a regular file for reading. A FIFO, socket or device named like a checkpoint is refused
/// without blocking: opening a FIFO for reading waits for a writer, which would hang the reader.
pub(crate) fn open_regular(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(f) = remote::lookup(path) {
        f.prepare()?;
    }
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
    pub(crate) fn open(path: &Path) -> Result<(Self, u64)> {
        let file = open_regular(path)?;
        if let Some(f) = remote::lookup(path) {
            let map = match f.size {
                0 => None,
                _ => Some(guard::GuardedMap::map(&file, 0, None).map_err(|e| Error::io(path, e))?),
            };
            return Ok((Source::Remote(map, f.clone()), f.size));
        }
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
            Source::Map(m) | Source::Remote(Some(m), _) => m.bytes(),
            Source::Empty | Source::Remote(None, _) => &[],
        }
    }

    pub(crate) fn damaged(&self) -> bool {
        matches!(self, Source::Map(m) | Source::Remote(Some(m), _) if m.damaged())
    }

    /// The remote file this is a sparse copy of.
    pub(crate) fn remote(&self) -> Option<&std::sync::Arc<remote::RemoteFile>> {
        match self {
            Source::Remote(_, f) => Some(f),
            _ => None,
        }
    }

    /// Make sure bytes `r` are really there: fetched for a remote file, a no-op for a local one.
    pub(crate) fn fetch(&self, ranges: &[std::ops::Range<u64>]) -> Result<()> {
        match self {
            Source::Remote(_, f) => f.fetch(ranges),
            _ => Ok(()),
        }
    }
}
