//! The block-scale check of GGML block types: every block's scale (`d`, and `dmin`/`m` where there
//! is one) read where the block layout keeps it, and the blocks whose scale is NaN or infinite
//! counted. Format knowledge, below the dequantizers of [`crate::tensor::ggml`] and the checkpoint
//! that runs the check on a tensor.

use serde::Serialize;

use crate::model::dtype::GgmlType;

/// `f16` at byte `at` of a block.
fn f16_at(b: &[u8], at: usize) -> f32 {
    half::f16::from_bits(u16::from_le_bytes([b[at], b[at + 1]])).to_f32()
}

/// IQ1_M's f16 super-scale, stored in the top nibbles of its four 16-bit scale words.
pub(crate) fn iq1_m_scale(b: &[u8]) -> f32 {
    let sc: [u16; 4] = std::array::from_fn(|k| u16::from_le_bytes([b[48 + 2 * k], b[49 + 2 * k]]));
    let bits = ((sc[0] & 0xF000) >> 12) | ((sc[1] & 0xF000) >> 8) | ((sc[2] & 0xF000) >> 4) | (sc[3] & 0xF000);
    half::f16::from_bits(bits).to_f32()
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
        IQ1_M => [iq1_m_scale(b), 0.0],
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
    if matches!(ty, GgmlType::Q1_0 | GgmlType::Unknown(_)) {
        return None;
    }
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
