//! Dequantizing GGML block types to `f32`, as gguf-py's `quants.py` does, one block at a time.
//!
//! A block of `n` elements (32, 64, 128 or 256) is stored in a fixed number of bytes; an element is
//! read by decoding its whole block, so a preview of the first values touches only the blocks it
//! shows, and a run of elements decodes each block once. Every type gguf-py dequantizes is here
//! (the legacy quants, the K-quants, the i-quants with their codebook grids, the ternary `TQ1_0` and
//! `TQ2_0`, `MXFP4` and `NVFP4`), plus `Q8_1` and `Q8_K`; `Q1_0` and unknown type ids have no values.
//!
//! [`scale_check`] finds blocks whose scale is NaN or infinite: every value of such a block is NaN or
//! infinite, the mark of a broken quantization.

// block layouts are index arithmetic (element e of sub-block e / 16 …); loops over indices say it plainly
#![allow(clippy::needless_range_loop)]

mod grids;
mod iquants;
mod kquants;
mod legacy;

// The block-scale check reads only the block layout, so it stands below, in the GGUF format; it is
// named here too, beside the dequantizers it agrees with.
pub use crate::formats::gguf::scales::{FIRST_BAD_BLOCKS, ScaleCheck, scale_check};
use crate::model::dtype::GgmlType;

/// The largest block, in elements.
pub const MAX_BLOCK: usize = 256;

/// `f16` at byte `at` of a block.
fn f16_at(b: &[u8], at: usize) -> f32 {
    half::f16::from_bits(u16::from_le_bytes([b[at], b[at + 1]])).to_f32()
}

/// Low (`which == 0`) or high nibble of a byte.
fn nibble(byte: u8, which: usize) -> u8 {
    if which == 0 { byte & 0xF } else { byte >> 4 }
}

type BlockFn = fn(&[u8], &mut [f32]);

/// The dequantizer of a block type, `None` when tensorscope has none.
fn block_fn(ty: GgmlType) -> Option<BlockFn> {
    use GgmlType::*;
    Some(match ty {
        Q4_0 => legacy::q4_0,
        Q4_1 => legacy::q4_1,
        Q5_0 => legacy::q5_0,
        Q5_1 => legacy::q5_1,
        Q8_0 => |b, o| legacy::q8(b, o, 2),
        Q8_1 => |b, o| legacy::q8(b, o, 4),
        IQ4_NL => legacy::iq4_nl,
        MXFP4 => legacy::mxfp4,
        NVFP4 => legacy::nvfp4,
        TQ1_0 => legacy::tq1_0,
        TQ2_0 => legacy::tq2_0,
        Q2_K => kquants::q2_k,
        Q3_K => kquants::q3_k,
        Q4_K => kquants::q4_k,
        Q5_K => kquants::q5_k,
        Q6_K => kquants::q6_k,
        Q8_K => kquants::q8_k,
        IQ4_XS => kquants::iq4_xs,
        IQ2_XXS => iquants::iq2_xxs,
        IQ2_XS => iquants::iq2_xs,
        IQ2_S => iquants::iq2_s,
        IQ3_XXS => iquants::iq3_xxs,
        IQ3_S => iquants::iq3_s,
        IQ1_S => iquants::iq1_s,
        IQ1_M => iquants::iq1_m,
        Q1_0 | Unknown(_) => return None,
    })
}

/// Whether tensorscope can dequantize `ty`.
pub fn can_dequantize(ty: GgmlType) -> bool {
    block_fn(ty).is_some()
}

/// Why a tensor of type `ty` shows no values, when it does not.
pub fn why_no_values(ty: GgmlType) -> Option<String> {
    match ty {
        GgmlType::Unknown(id) => Some(format!(
            "GGML type id {id} is unknown to tensorscope (newer than this build?): the tensor is listed with its offset, but its size and values are unknown"
        )),
        t if !can_dequantize(t) => Some(format!("tensorscope has no dequantizer for GGML type {}", t.name())),
        _ => None,
    }
}

/// Dequantize whole blocks: `blocks` holds `k` blocks, `out` receives `k × block size` values.
/// `false` (and `out` untouched) when the type has no dequantizer or the lengths disagree.
pub fn dequantize(ty: GgmlType, blocks: &[u8], out: &mut [f32]) -> bool {
    let (Some(f), Some((n, size))) = (block_fn(ty), ty.block()) else {
        return false;
    };
    let (n, size) = (n as usize, size as usize);
    if !blocks.len().is_multiple_of(size) || out.len() != blocks.len() / size * n {
        return false;
    }
    for (b, o) in blocks.chunks_exact(size).zip(out.chunks_exact_mut(n)) {
        f(b, o);
    }
    true
}

/// Element `index` (counted from the start of `data`, the first block): decodes its block.
pub(crate) fn element(ty: GgmlType, data: &[u8], index: u64) -> Option<f32> {
    let f = block_fn(ty)?;
    let (n, size) = ty.block()?;
    let block = index / u64::from(n);
    let start = usize::try_from(block.checked_mul(u64::from(size))?).ok()?;
    let bytes = data.get(start..start.checked_add(size as usize)?)?;
    let mut buf = [0f32; MAX_BLOCK];
    f(bytes, &mut buf[..n as usize]);
    Some(buf[(index % u64::from(n)) as usize])
}

/// Decode `out.len()` elements, the first at element `start` and each next one `step` further;
/// `false` when one lies beyond `data` or the type has no dequantizer.
pub(crate) fn fill(ty: GgmlType, data: &[u8], start: u64, step: u64, out: &mut [f32]) -> bool {
    let (Some(f), Some((n, size))) = (block_fn(ty), ty.block()) else {
        return false;
    };
    let (n64, size) = (u64::from(n), size as usize);
    let mut buf = [0f32; MAX_BLOCK];
    let mut cached: Option<u64> = None;
    for (i, o) in out.iter_mut().enumerate() {
        let Some(x) = (i as u64).checked_mul(step).and_then(|d| d.checked_add(start)) else {
            return false;
        };
        let block = x / n64;
        if cached != Some(block) {
            let Some(s) = block.checked_mul(size as u64).and_then(|s| usize::try_from(s).ok()) else {
                return false;
            };
            let Some(bytes) = s.checked_add(size).and_then(|e| data.get(s..e)) else {
                return false;
            };
            f(bytes, &mut buf[..n as usize]);
            cached = Some(block);
        }
        *o = buf[(x % n64) as usize];
    }
    true
}

#[cfg(test)]
mod tests;
