//! The loading strategies people argue about, as benchmark methods beside [`super::cpu`]'s:
//!
//! - `safetensors-pread`: N threads `pread` disjoint ranges of the file into owned memory
//!   (fastsafetensors, InstantTensor and safetensors issue #562 argue for it on network and FUSE
//!   filesystems, where a map faults in 4 KiB pieces);
//! - `safetensors-direct`: `O_DIRECT` reads into page-aligned owned memory, bypassing the page
//!   cache (each run reads the disk, warm or not); where the filesystem refuses `O_DIRECT`
//!   (tmpfs, some FUSE and overlay setups) it falls back to plain reads and says so;
//! - `safetensors-mmap-prefetch`: map, then `madvise(MADV_WILLNEED)` the tensor data before
//!   handing out views (vLLM's and sglang's prefetch, issue #7469).

use std::fs::File;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use super::Method;
use super::loading::{Arena, Load, Loaded, Sink, contiguous_views, finish, tensor_ranges};
use crate::checkpoint;
use crate::{Error, Result};

/// Most threads `safetensors-pread` uses.
pub const MAX_PREAD_THREADS: usize = 8;
/// Smallest range worth a thread of its own.
const MIN_RANGE: usize = 16 << 20;
/// Bytes per read call.
const READ_STEP: usize = 16 << 20;
/// `O_DIRECT` alignment of offsets, lengths and memory.
pub const DIRECT_ALIGN: usize = 4096;

/// What `safetensors-direct` says when the filesystem refuses `O_DIRECT`.
pub const DIRECT_REFUSED: &str = "the filesystem refused O_DIRECT: safetensors-direct fell back to plain reads";

/// Load once the way `l.method` (one of this module's) says.
pub fn load(arena: &mut Arena, l: &Load<'_>, sink: &mut dyn Sink) -> Result<Loaded> {
    match l.method {
        Method::SafetensorsPread => owned(arena, l, sink, 64, &|path, buf, len| {
            let file = File::open(path).map_err(|e| Error::io(path, e))?;
            read_parallel(&file, path, &mut buf[..len], threads(len))?;
            Ok(false)
        }),
        Method::SafetensorsDirect => owned(arena, l, sink, DIRECT_ALIGN, &read_direct),
        _ => {
            let ck = checkpoint::open(l.root)?;
            let views = contiguous_views(&ck)?;
            prefetch(&views);
            let loaded = finish(l, sink, ck.total_bytes(), &views)?;
            ck.check_intact()?;
            arena.hold(ck);
            Ok(loaded)
        }
    }
}

/// Threads for a read of `len` bytes: one per `MIN_RANGE` (16 MiB), at most the cores and
/// [`MAX_PREAD_THREADS`].
pub fn threads(len: usize) -> usize {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    len.div_ceil(MIN_RANGE).clamp(1, cores.clamp(1, MAX_PREAD_THREADS))
}

/// Fill `buf` from `file` at offset 0 with `n` threads, each reading its own contiguous range
/// (one range is read on the calling thread).
pub fn read_parallel(file: &File, path: &Path, buf: &mut [u8], n: usize) -> Result<()> {
    let read_part = |part: &mut [u8], mut at: u64| -> std::io::Result<()> {
        for step in part.chunks_mut(READ_STEP) {
            file.read_exact_at(step, at)?;
            at += step.len() as u64;
        }
        Ok(())
    };
    if n <= 1 {
        return read_part(buf, 0).map_err(|e| Error::io(path, e));
    }
    let per = buf.len().div_ceil(n).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = buf
            .chunks_mut(per)
            .enumerate()
            .map(|(i, part)| s.spawn(move || read_part(part, (i * per) as u64)))
            .collect();
        for h in handles {
            h.join()
                .unwrap_or_else(|_| Err(std::io::Error::other("a read thread panicked")))
                .map_err(|e| Error::io(path, e))?;
        }
        Ok(())
    })
}

/// Read `path` (`len` bytes) into the page-aligned `buf` (at least `len` rounded up to
/// [`DIRECT_ALIGN`]) with `O_DIRECT`; returns whether it had to fall back to plain reads.
fn read_direct(path: &Path, buf: &mut [u8], len: usize) -> Result<bool> {
    debug_assert!(
        (buf.as_ptr() as usize).is_multiple_of(DIRECT_ALIGN) && buf.len() >= len.next_multiple_of(DIRECT_ALIGN)
    );
    let direct = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path);
    let file = match direct {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => return read_plain(path, &mut buf[..len]),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut at = 0usize;
    while at < len {
        let want = (len - at).next_multiple_of(DIRECT_ALIGN).min(READ_STEP);
        match file.read_at(&mut buf[at..at + want], at as u64) {
            Ok(0) => return Err(Error::format(path, "the file shrank while it was being read")),
            Ok(n) => at += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && at == 0 => {
                return read_plain(path, &mut buf[..len]);
            }
            Err(e) => return Err(Error::io(path, e)),
        }
        // a short read that is not at the end leaves `at` unaligned: finish with plain reads
        if at < len && !at.is_multiple_of(DIRECT_ALIGN) {
            let plain = File::open(path).map_err(|e| Error::io(path, e))?;
            plain
                .read_exact_at(&mut buf[at..len], at as u64)
                .map_err(|e| Error::io(path, e))?;
            at = len;
        }
    }
    Ok(false)
}

fn read_plain(path: &Path, buf: &mut [u8]) -> Result<bool> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    file.read_exact_at(buf, 0).map_err(|e| Error::io(path, e))?;
    Ok(true)
}

/// Reads a file of `len` bytes into the front of a slot; returns whether it fell back.
type ReadFn = dyn Fn(&Path, &mut [u8], usize) -> Result<bool>;

/// An eager safetensors load: each file read by `read(path, slot, len)` into the arena (slots
/// `align`-aligned and rounded up), then views into the owned copy.
fn owned(arena: &mut Arena, l: &Load<'_>, sink: &mut dyn Sink, align: usize, read: &ReadFn) -> Result<Loaded> {
    let mut slots = Vec::with_capacity(l.files.len());
    let mut total = 0usize;
    for f in l.files {
        let len = std::fs::metadata(f).map_err(|e| Error::io(f, e))?.len();
        let len = usize::try_from(len).map_err(|_| Error::format(f, "file does not fit in memory"))?;
        let padded = len
            .checked_next_multiple_of(align)
            .ok_or_else(|| Error::format(f, "file does not fit in memory"))?;
        slots.push((total, len));
        total = total
            .checked_add(padded)
            .ok_or_else(|| Error::Usage("checkpoint does not fit in memory".into()))?;
    }
    let buf = arena.take(total)?;
    let mut fell_back = false;
    {
        let mut rest: &mut [u8] = buf;
        for (f, &(_, len)) in l.files.iter().zip(&slots) {
            let (slot, tail) = rest.split_at_mut(len.next_multiple_of(align));
            fell_back |= read(f, slot, len)?;
            rest = tail;
        }
    }
    let buf: &[u8] = buf;
    let mut views: Vec<&[u8]> = Vec::new();
    let mut bytes = 0u64;
    for (f, &(at, len)) in l.files.iter().zip(&slots) {
        let data = &buf[at..at + len];
        let ranges = tensor_ranges(f, data)?;
        views.reserve(ranges.len());
        for r in ranges {
            bytes += r.len() as u64;
            views.push(&data[r]);
        }
    }
    let mut loaded = finish(l, sink, bytes, &views)?;
    if fell_back {
        loaded.note = Some(DIRECT_REFUSED);
    }
    Ok(loaded)
}

/// `madvise(MADV_WILLNEED)` the pages under `views` (mapped file data), merged into as few calls
/// as the layout allows.
pub fn prefetch(views: &[&[u8]]) {
    let page = super::cache::page_size() as usize;
    let mut ranges: Vec<(usize, usize)> = views
        .iter()
        .filter(|v| !v.is_empty())
        .map(|v| super::cache::page_span(v))
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1 + page => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    for (a, b) in merged {
        // SAFETY: the range covers pages of live maps (the views borrow them); MADV_WILLNEED only
        // starts readahead and never changes the contents. A gap of at most one page between two
        // views of one map lies inside the same map.
        unsafe {
            libc::madvise(a as *mut libc::c_void, b - a, libc::MADV_WILLNEED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_reads_split_anywhere() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..100_003u32).map(|i| (i * 31) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let file = File::open(&path).unwrap();
        for n in [1, 2, 3, 7, 64] {
            let mut buf = vec![0u8; data.len()];
            read_parallel(&file, &path, &mut buf, n).unwrap();
            assert!(buf == data, "{n} threads");
        }
        // a file shorter than asked is an error, not zeros
        let mut buf = vec![0u8; data.len() + 1];
        assert!(read_parallel(&file, &path, &mut buf, 2).is_err());
        assert!(threads(1) == 1 && threads(usize::MAX / 2) <= MAX_PREAD_THREADS);
    }

    #[test]
    fn direct_reads_unaligned_lengths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..(3 * DIRECT_ALIGN + 5) as u32).map(|i| (i * 7) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let mut arena = Arena::fresh();
        let buf = arena.take(data.len().next_multiple_of(DIRECT_ALIGN)).unwrap();
        let _fell_back = read_direct(&path, buf, data.len()).unwrap();
        assert!(buf[..data.len()] == data[..]);
    }
}
