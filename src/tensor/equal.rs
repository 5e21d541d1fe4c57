//! Equality of two tensors' materialised bytes, chunk by chunk: what `diff` compares first and what
//! `convert` verifies its output with.

use crate::Result;
use crate::checkpoint::TensorInfo;
use crate::tensor::read::TensorReader;

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
    if let Some(equal) = ra.contiguous_equal(ta, rb, tb, elems.clone())? {
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
