//! Dropping a file's pages from the page cache, and checking that they are gone.
//!
//! `posix_fadvise(POSIX_FADV_DONTNEED)` asks the kernel to evict a file's clean pages; dirty pages
//! are written first (`fdatasync`) so they can go too. Pages still mapped by a process, or kept by
//! a file system that ignores the hint, stay: `mincore` tells which. Benchmarks report a cold run
//! whose pages could not be dropped instead of pretending it was cold.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::{Error, Result};

/// What [`drop_pages`] achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropOutcome {
    /// Pages of the file.
    pub pages: u64,
    /// Resident before dropping.
    pub resident_before: u64,
    /// Still resident after dropping.
    pub resident_after: u64,
}

impl DropOutcome {
    /// Whether every page left the cache.
    pub fn dropped(&self) -> bool {
        self.resident_after == 0
    }
}

pub(super) fn page_size() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as u64 } else { 4096 }
}

/// The whole pages under `bytes`: (first page's address, end rounded up to a page), for `madvise`.
pub(super) fn page_span(bytes: &[u8]) -> (usize, usize) {
    let page = page_size() as usize;
    let start = bytes.as_ptr() as usize;
    (start / page * page, (start + bytes.len()).next_multiple_of(page))
}

/// `--drop-cache-after`: drop the pages of each of `files` (each once: the caller names each file one
/// way) from the page cache, and say what that freed and what stayed (checked with `mincore`, as
/// [`drop_pages`] does).
pub fn drop_after<'a>(files: impl IntoIterator<Item = &'a Path>) -> String {
    let page = page_size();
    let (mut before, mut after) = (0u64, 0u64);
    let mut failed = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for f in files.into_iter().filter(|f| seen.insert(*f)) {
        match drop_pages(f) {
            Ok(o) => {
                before += o.resident_before;
                after += o.resident_after;
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    let bytes = |pages: u64| crate::text::bytes(pages.saturating_mul(page));
    let mut s = format!(
        "--drop-cache-after: the measured files held {} of page cache after the last run, and {} of it was dropped",
        bytes(before),
        bytes(before.saturating_sub(after))
    );
    if after > 0 {
        s += &format!(
            "; {} stayed (pages another process maps, or a file system that ignores the advice)",
            bytes(after)
        );
    }
    if !failed.is_empty() {
        s += &format!("; not dropped: {}", failed.join("; "));
    }
    s
}

/// How many of `file`'s pages are in the page cache, and how many it has.
pub fn resident(path: &Path) -> Result<(u64, u64)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    resident_of(path, &file)
}

fn resident_of(path: &Path, file: &File) -> Result<(u64, u64)> {
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let page = page_size();
    let pages = len.div_ceil(page);
    if len == 0 {
        return Ok((0, 0));
    }
    // SAFETY: read-only map used only as an address range for mincore; never dereferenced.
    let map = unsafe { memmap2::Mmap::map(file) }.map_err(|e| Error::io(path, e))?;
    let mut vec = vec![0u8; pages as usize];
    // SAFETY: `vec` holds one byte per page of the mapped range, as mincore requires.
    let rc = unsafe { libc::mincore(map.as_ptr() as *mut libc::c_void, map.len(), vec.as_mut_ptr()) };
    if rc != 0 {
        return Err(Error::io(path, std::io::Error::last_os_error()));
    }
    Ok((vec.iter().filter(|&&b| b & 1 == 1).count() as u64, pages))
}

/// Write back and evict `path`'s pages, then count what is still resident.
pub fn drop_pages(path: &Path) -> Result<DropOutcome> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let (before, pages) = resident_of(path, &file)?;
    // fdatasync works on a read-only descriptor on Linux; failing it only means dirty pages stay.
    // SAFETY: plain syscalls on a descriptor we own.
    unsafe {
        libc::fdatasync(file.as_raw_fd());
        libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED);
    }
    let (after, _) = resident_of(path, &file)?;
    Ok(DropOutcome {
        pages,
        resident_before: before,
        resident_after: after,
    })
}

/// Read the whole file once so its pages are cached (a warm start).
pub fn warm(path: &Path) -> Result<()> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    std::io::copy(&mut f, &mut std::io::sink()).map_err(|e| Error::io(path, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_then_drop() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, vec![1u8; 1 << 20]).unwrap();
        warm(&p).unwrap();
        let (res, pages) = resident(&p).unwrap();
        assert_eq!(pages, (1u64 << 20).div_ceil(page_size()));
        assert!(res <= pages);
        let out = drop_pages(&p).unwrap();
        assert_eq!(out.pages, pages);
        // Some file systems (tmpfs) keep pages; the outcome must then say so.
        assert_eq!(out.dropped(), out.resident_after == 0);
        assert!(out.resident_after <= out.pages);
    }

    #[test]
    fn empty_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty");
        std::fs::write(&p, b"").unwrap();
        assert_eq!(resident(&p).unwrap(), (0, 0));
        assert!(drop_pages(&dir.path().join("missing")).is_err());
    }
}
