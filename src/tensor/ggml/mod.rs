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

use serde::Serialize;

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
    if blocks.len() % size != 0 || out.len() != blocks.len() / size * n {
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

/// The scales of one block that multiply its values (`d`, and `dmin`/`m` where there is one).
fn block_scales(ty: GgmlType, b: &[u8]) -> [f32; 2] {
    use GgmlType::*;
    match ty {
        Q4_1 | Q5_1 | Q4_K | Q5_K => [f16_at(b, 0), f16_at(b, 2)],
        Q2_K => [f16_at(b, 80), f16_at(b, 82)],
        Q3_K => [f16_at(b, 108), 0.0],
        Q6_K => [f16_at(b, 208), 0.0],
        Q8_K => [f32::from_le_bytes([b[0], b[1], b[2], b[3]]), 0.0],
        TQ1_0 => [f16_at(b, 52), 0.0],
        TQ2_0 => [f16_at(b, 64), 0.0],
        IQ1_M => [iquants::iq1_m_scale(b), 0.0],
        // E8M0 and UE4M3 scales decode to finite values by ggml's convention
        MXFP4 | NVFP4 | Unknown(_) => [0.0, 0.0],
        _ => [f16_at(b, 0), 0.0],
    }
}

/// Most block indices [`ScaleCheck::first`] names.
pub const FIRST_BAD_BLOCKS: usize = 8;

/// Blocks of a tensor whose scale is NaN or infinite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScaleCheck {
    /// Blocks examined.
    pub blocks: u64,
    /// Blocks with a NaN scale.
    pub nan_scale_blocks: u64,
    /// Blocks with an infinite scale.
    pub inf_scale_blocks: u64,
    /// The first such blocks (indices from the start of the tensor), at most [`FIRST_BAD_BLOCKS`].
    pub first: Vec<u64>,
}

/// Check every block's scale in `data` (whole blocks of `ty`); `None` for a type without a dequantizer.
pub fn scale_check(ty: GgmlType, data: &[u8]) -> Option<ScaleCheck> {
    block_fn(ty)?;
    let (_, size) = ty.block()?;
    let mut c = ScaleCheck {
        blocks: 0,
        nan_scale_blocks: 0,
        inf_scale_blocks: 0,
        first: Vec::new(),
    };
    for (i, b) in data.chunks_exact(size as usize).enumerate() {
        c.blocks += 1;
        let s = block_scales(ty, b);
        let nan = s.iter().any(|x| x.is_nan());
        let inf = !nan && s.iter().any(|x| x.is_infinite());
        c.nan_scale_blocks += u64::from(nan);
        c.inf_scale_blocks += u64::from(inf);
        if (nan || inf) && c.first.len() < FIRST_BAD_BLOCKS {
            c.first.push(i as u64);
        }
    }
    Some(c)
}

#[cfg(test)]
mod tests;
