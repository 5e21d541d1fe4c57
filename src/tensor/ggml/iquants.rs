//! The i-quants with codebooks (`IQ1_S`, `IQ1_M`, `IQ2_XXS`, `IQ2_XS`, `IQ2_S`, `IQ3_XXS`, `IQ3_S`):
//! each group of 4 or 8 weights is one row of a fixed grid, with signs and a sub-block scale.

use std::sync::OnceLock;

use super::grids::{self, KSIGNS};
use super::{f16_at, nibble};
use crate::formats::gguf::scales::iq1_m_scale;

/// A decoded codebook: `rows × cols` values, row-major.
pub(super) struct Grid {
    cols: usize,
    values: Vec<f32>,
}

impl Grid {
    /// Unpack gguf-py's hex text: each pair of hex digits is a byte holding 4 (2-bit) or 2 (3-bit)
    /// entries, lowest bits first; each entry indexes the value map.
    fn decode((rows, cols, map, hex): (usize, usize, &[f32], &[u8])) -> Grid {
        let bits = usize::BITS - (map.len() - 1).leading_zeros();
        let per_byte = 8 / bits as usize;
        let shift = 8 / per_byte;
        let mask = (1u8 << bits) - 1;
        let digit = |c: u8| if c > b'9' { (c | 0x20) - b'a' + 10 } else { c - b'0' };
        let mut values = Vec::with_capacity(rows * cols);
        for pair in hex.chunks_exact(2) {
            let byte = (digit(pair[0]) << 4) | digit(pair[1]);
            for k in 0..per_byte {
                let idx = (byte >> (k * shift)) & mask;
                values.push(map.get(usize::from(idx)).copied().unwrap_or(0.0));
            }
        }
        values.resize(rows * cols, 0.0);
        Grid { cols, values }
    }

    /// Row `r` (out of range rows, which valid codes never reach, read as zeros).
    fn row(&self, r: usize) -> &[f32] {
        self.values
            .get(r * self.cols..(r + 1) * self.cols)
            .unwrap_or(&[0.0; 8][..self.cols])
    }
}

macro_rules! grid {
    ($name:ident) => {{
        static G: OnceLock<Grid> = OnceLock::new();
        G.get_or_init(|| Grid::decode(grids::$name))
    }};
}

fn sign(bits: u8, j: usize) -> f32 {
    if (bits >> j) & 1 == 0 { 1.0 } else { -1.0 }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(super) fn iq2_xxs(b: &[u8], out: &mut [f32]) {
    let grid = grid!(IQ2_XXS);
    let d = f16_at(b, 0);
    for g in 0..8 {
        let idx = &b[2 + g * 8..2 + g * 8 + 4];
        let aux = u32_at(b, 2 + g * 8 + 4);
        let db = d * (0.5 + (aux >> 28) as f32) * 0.25;
        for l in 0..4 {
            let signs = KSIGNS[((aux >> (7 * l)) & 0x7F) as usize];
            let row = grid.row(usize::from(idx[l]));
            for j in 0..8 {
                out[g * 32 + l * 8 + j] = db * row[j] * sign(signs, j);
            }
        }
    }
}

pub(super) fn iq2_xs(b: &[u8], out: &mut [f32]) {
    let grid = grid!(IQ2_XS);
    let d = f16_at(b, 0);
    for q in 0..32 {
        let code = u16_at(b, 2 + q * 2);
        let sc = nibble(b[66 + q / 4], (q / 2) % 2);
        let db = d * (0.5 + f32::from(sc)) * 0.25;
        let signs = KSIGNS[usize::from(code >> 9)];
        let row = grid.row(usize::from(code & 511));
        for j in 0..8 {
            out[q * 8 + j] = db * row[j] * sign(signs, j);
        }
    }
}

pub(super) fn iq2_s(b: &[u8], out: &mut [f32]) {
    let grid = grid!(IQ2_S);
    let d = f16_at(b, 0);
    let (qs, signs, qh, scales) = (&b[2..34], &b[34..66], &b[66..74], &b[74..82]);
    for q in 0..32 {
        let high = (qh[q / 4] >> (2 * (q % 4))) & 3;
        let code = usize::from(qs[q]) | (usize::from(high) << 8);
        let sc = nibble(scales[q / 4], (q / 2) % 2);
        let db = d * (0.5 + f32::from(sc)) * 0.25;
        let row = grid.row(code);
        for j in 0..8 {
            out[q * 8 + j] = db * row[j] * sign(signs[q], j);
        }
    }
}

pub(super) fn iq3_xxs(b: &[u8], out: &mut [f32]) {
    let grid = grid!(IQ3_XXS);
    let d = f16_at(b, 0);
    let qs = &b[2..66];
    for g in 0..8 {
        let aux = u32_at(b, 66 + g * 4);
        let db = d * (0.5 + (aux >> 28) as f32) * 0.5;
        for l in 0..4 {
            let signs = KSIGNS[((aux >> (7 * l)) & 0x7F) as usize];
            for j in 0..8 {
                let e = g * 32 + l * 8 + j;
                let row = grid.row(usize::from(qs[e / 4]));
                out[e] = db * row[e % 4] * sign(signs, j);
            }
        }
    }
}

pub(super) fn iq3_s(b: &[u8], out: &mut [f32]) {
    let grid = grid!(IQ3_S);
    let d = f16_at(b, 0);
    let (qs, qh, signs, scales) = (&b[2..66], &b[66..74], &b[74..106], &b[106..110]);
    for q in 0..64 {
        let code = usize::from(qs[q]) | (usize::from((qh[q / 8] >> (q % 8)) & 1) << 8);
        let row = grid.row(code);
        for j in 0..4 {
            let e = q * 4 + j;
            let sc = nibble(scales[e / 64], (e / 32) % 2);
            let db = d * (1.0 + 2.0 * f32::from(sc));
            out[e] = db * row[j] * sign(signs[e / 8], e % 8);
        }
    }
}

const IQ1_DELTA: f32 = 0.125;

pub(super) fn iq1_s(b: &[u8], out: &mut [f32]) {
    let grid = grid!(IQ1_S);
    let d = f16_at(b, 0);
    let qs = &b[2..34];
    for g in 0..8 {
        let qh = u16_at(b, 34 + g * 2);
        let dl = d * f32::from(2 * ((qh >> 12) & 7) + 1);
        let delta = if qh & 0x8000 == 0 { IQ1_DELTA } else { -IQ1_DELTA };
        for l in 0..4 {
            let q = g * 4 + l;
            let code = usize::from(qs[q]) | (usize::from((qh >> (3 * l)) & 7) << 8);
            let row = grid.row(code);
            for j in 0..8 {
                out[q * 8 + j] = dl * (row[j] + delta);
            }
        }
    }
}

pub(super) fn iq1_m(b: &[u8], out: &mut [f32]) {
    let grid = grid!(IQ1_S);
    let d = iq1_m_scale(b);
    let (qs, qh) = (&b[0..32], &b[32..48]);
    for q in 0..32 {
        let k = q / 2;
        let word = u16_at(b, 48 + 2 * (k / 4));
        let dl = d * f32::from(2 * ((word >> (3 * (k % 4))) & 7) + 1);
        let h = nibble(qh[q / 2], q % 2);
        let code = usize::from(qs[q]) | (usize::from(h & 7) << 8);
        let delta = if h & 0x08 == 0 { IQ1_DELTA } else { -IQ1_DELTA };
        let row = grid.row(code);
        for j in 0..8 {
            out[q * 8 + j] = dl * (row[j] + delta);
        }
    }
}
