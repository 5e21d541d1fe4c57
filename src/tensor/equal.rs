//! Equality of two tensors' materialised bytes, chunk by chunk: what `diff` compares first and what
//! `convert` verifies its output with.
//!
//! Contiguous bytes are compared where they lie in the files, through mapped windows, with `memcmp`
//! (the C library's vectorised compare: 32 or 64 bytes at a time); a range of more than
//! [`PARALLEL_MIN_BYTES`] is cut into windows that every core takes in turn, and every thread stops
//! at the first window that differs anywhere ([`file_ranges_equal`]).

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::checkpoint::TensorInfo;
use crate::tensor::read::{MAP_WINDOW, TensorReader, Window};
use crate::{Error, Result};

/// Bytes compared at a time: two such chunks stay in a core's L2 cache between the read and the compare.
pub const COMPARE_CHUNK_BYTES: usize = 256 << 10;

/// Whether the materialised bytes of `ta` (in `ra`'s checkpoint) and `tb` (in `rb`'s) are equal.
/// Dtype and shape must be compared by the caller; this compares bytes only.
pub fn tensors_equal(ra: &TensorReader<'_>, ta: &TensorInfo, rb: &TensorReader<'_>, tb: &TensorInfo) -> Result<bool> {
    elements_equal(ra, ta, rb, tb, 0..u64::MAX)
}

/// Like [`tensors_equal`] for logical elements `elems` only (clamped to the tensor; for sub-byte
/// dtypes the range must start on a multiple of 8).
pub fn elements_equal(
    ra: &TensorReader<'_>,
    ta: &TensorInfo,
    rb: &TensorReader<'_>,
    tb: &TensorInfo,
    elems: std::ops::Range<u64>,
) -> Result<bool> {
    ra.check_view(ta)?;
    rb.check_view(tb)?;
    let numel = ta.numel().unwrap_or(0);
    if tb.numel() != Some(numel) {
        return Ok(false);
    }
    let elems = elems.start.min(numel)..elems.end.min(numel);
    if let Some(equal) = contiguous_equal(ra, ta, rb, tb, elems.clone())? {
        return Ok(equal);
    }
    let step =
        TensorReader::chunk_elems(ta, COMPARE_CHUNK_BYTES).min(TensorReader::chunk_elems(tb, COMPARE_CHUNK_BYTES));
    let (mut ba, mut bb) = (Vec::new(), Vec::new());
    let mut at = elems.start;
    while at < elems.end {
        let n = step.min(elems.end - at);
        if ra.read_elems(ta, at, n, &mut ba)? != rb.read_elems(tb, at, n, &mut bb)? {
            return Ok(false);
        }
        at += n;
    }
    Ok(true)
}

/// Whether elements `elems` of contiguous tensors `ta` (of `reader`) and `tb` (of `other`) hold the same bytes,
/// compared through windows of [`MAP_WINDOW`] bytes mapped and unmapped in turn, on every core
/// when the range is large ([`file_ranges_equal`]): no copy, and each thread never
/// holds more than two windows however large the tensors.
/// `None` when either is not contiguous.
fn contiguous_equal(
    reader: &TensorReader<'_>,
    ta: &TensorInfo,
    other: &TensorReader<'_>,
    tb: &TensorInfo,
    elems: std::ops::Range<u64>,
) -> Result<Option<bool>> {
    let (Some(ra), Some(rb)) = (ta.contiguous_range(), tb.contiguous_range()) else {
        return Ok(None);
    };
    // a compressed storage (a deflated `.npz` member) is not in its file as it is
    if reader.checkpoint().is_inflated(ta) || other.checkpoint().is_inflated(tb) {
        return Ok(None);
    }
    if ra.end - ra.start != rb.end - rb.start || ta.dtype.bits() != tb.dtype.bits() {
        return Ok(Some(false));
    }
    // the byte range of elements `elems` (whole bytes: sub-byte ranges start on multiples of 8)
    let (Some(first), Some(last)) = (ta.dtype.bytes_for(elems.start), ta.dtype.bytes_for(elems.end)) else {
        return Ok(Some(false));
    };
    let last = last.min(ra.end - ra.start);
    let first = first.min(last);
    let (ra, rb) = (ra.start + first..ra.start + last, rb.start + first..rb.start + last);
    let (fa, fb) = (reader.file(ta.file)?, other.file(tb.file)?);
    let (pa, pb) = (
        reader.checkpoint().file_path(ta.file),
        other.checkpoint().file_path(tb.file),
    );
    file_ranges_equal((fa, pa, ra.start), (fb, pb, rb.start), ra.end - ra.start).map(Some)
}

/// Ranges of at least this many bytes are compared on every core ([`file_ranges_equal`]).
pub const PARALLEL_MIN_BYTES: u64 = 2 * MAP_WINDOW;

/// Most threads [`file_ranges_equal`] uses.
const MAX_THREADS: usize = 16;

/// Whether `len` bytes at `a`'s offset of `a`'s file equal `len` bytes at `b`'s offset of `b`'s
/// (each `(file, path for errors, offset)`), compared through mapped windows of [`MAP_WINDOW`]
/// bytes. Ranges of [`PARALLEL_MIN_BYTES`] or more are compared on every core: each thread takes the
/// next window, and all stop once one window differs. A file truncated while it is compared is an
/// error (its map reads as zeros past the cut, see [`crate::source::guard`]).
pub fn file_ranges_equal(a: (&File, &Path, u64), b: (&File, &Path, u64), len: u64) -> Result<bool> {
    let windows = len.div_ceil(MAP_WINDOW);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = if len < PARALLEL_MIN_BYTES {
        1
    } else {
        cores
            .clamp(1, MAX_THREADS)
            .min(usize::try_from(windows).unwrap_or(usize::MAX))
    };
    let next = AtomicU64::new(0);
    let differ = AtomicBool::new(false);
    // `differ` also stops every thread at its next window when one fails: the error wins then
    let window = |w: u64| -> Result<bool> {
        let at = w * MAP_WINDOW;
        let n = (len - at).min(MAP_WINDOW);
        let wa = Window::map(a.0, a.1, a.2 + at, n)?;
        let wb = Window::map(b.0, b.1, b.2 + at, n)?;
        let same = wa.bytes() == wb.bytes();
        wa.check(a.1)?;
        wb.check(b.1)?;
        Ok(same)
    };
    let work = || -> Result<()> {
        loop {
            let w = next.fetch_add(1, Ordering::Relaxed);
            if w >= windows || differ.load(Ordering::Relaxed) {
                return Ok(());
            }
            match window(w) {
                Ok(true) => {}
                Ok(false) => {
                    differ.store(true, Ordering::Relaxed);
                    return Ok(());
                }
                Err(e) => {
                    differ.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
    };
    if threads <= 1 {
        work()?;
    } else {
        std::thread::scope(|s| -> Result<()> {
            // a thread the system refuses is one helper fewer, not a panic
            let helpers: Vec<_> = (1..threads)
                .filter_map(|_| std::thread::Builder::new().spawn_scoped(s, work).ok())
                .collect();
            let mine = work();
            for h in helpers {
                h.join()
                    .unwrap_or_else(|_| Err(Error::format(a.1, "a compare thread panicked")))?;
            }
            mine
        })?;
    }
    // a cut of less than a page after a window was mapped reads as zeros without a fault: the
    // files must still hold every byte compared
    for (f, p, off) in [a, b] {
        let size = f.metadata().map_err(|e| Error::io(p, e))?.len();
        if size < off.saturating_add(len) {
            return Err(Error::format(p, "the file was truncated while it was being compared"));
        }
    }
    Ok(!differ.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two files of `len` bytes of the same pattern; `b` has `flip` bytes changed.
    fn pair(dir: &Path, len: usize, flip: &[usize]) -> (File, File) {
        let a: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let mut b = a.clone();
        for &i in flip {
            b[i] ^= 0x80;
        }
        let (pa, pb) = (dir.join("a"), dir.join("b"));
        std::fs::write(&pa, &a).unwrap();
        std::fs::write(&pb, &b).unwrap();
        (File::open(pa).unwrap(), File::open(pb).unwrap())
    }

    fn equal(fa: &File, fb: &File, off: u64, len: u64) -> bool {
        let p = Path::new("t");
        file_ranges_equal((fa, p, off), (fb, p, off), len).unwrap()
    }

    /// A file shorter than the range by less than a page reads as zeros in its last page, with no
    /// fault to mark: the range is still refused, not called equal to zeros.
    #[test]
    fn a_file_short_of_the_range_is_an_error_not_zeros() {
        let dir = tempfile::tempdir().unwrap();
        // the cut falls inside the last page: no fault past it
        let len = 2 * MAP_WINDOW as usize + 4000;
        let mut bytes = vec![7u8; len];
        bytes[len - 100..].fill(0);
        let (pa, pb) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&pa, &bytes).unwrap();
        std::fs::write(&pb, &bytes[..len - 100]).unwrap();
        let (fa, fb) = (File::open(&pa).unwrap(), File::open(&pb).unwrap());
        let r = file_ranges_equal((&fa, &pa, 0), (&fb, &pb, 0), len as u64);
        assert!(
            r.is_err_and(|e| e.to_string().contains("truncated")),
            "the short file is refused"
        );
    }

    #[test]
    fn a_difference_anywhere_in_a_large_range_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let w = MAP_WINDOW as usize;
        let len = 2 * w + 4099; // three windows, the last short: compared on every core
        assert!(len as u64 >= PARALLEL_MIN_BYTES);
        let (fa, fb) = pair(dir.path(), len, &[]);
        assert!(equal(&fa, &fb, 0, len as u64));
        // the first byte, both sides of each window boundary, the last byte
        for at in [0, w - 1, w, 2 * w - 1, 2 * w, len - 1] {
            let (fa, fb) = pair(dir.path(), len, &[at]);
            assert!(!equal(&fa, &fb, 0, len as u64), "byte {at}");
            // the ranges that stop short of it, or start past it, are equal
            assert!(equal(&fa, &fb, 0, at as u64), "before {at}");
            assert!(equal(&fa, &fb, at as u64 + 1, (len - at - 1) as u64), "after {at}");
        }
        // an unaligned offset (map offsets are rounded down and skipped)
        let (fa, fb) = pair(dir.path(), len, &[w + 17]);
        assert!(!equal(&fa, &fb, 13, (len - 13) as u64));
        assert!(equal(&fa, &fb, w as u64 + 18, (len - w - 18) as u64));
    }

    #[test]
    fn a_file_truncated_under_the_compare_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let len = 3 * MAP_WINDOW as usize;
        let (fa, fb) = pair(dir.path(), len, &[]);
        let w = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join("b"))
            .unwrap();
        w.set_len(MAP_WINDOW).unwrap();
        let p = Path::new("b");
        let e = file_ranges_equal((&fa, p, 0), (&fb, p, 0), len as u64)
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated"), "{e}");
    }
}
