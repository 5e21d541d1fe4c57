//! The K-quants (`Q2_K` … `Q8_K`) and `IQ4_XS`: 256-element super-blocks of 16 or 32-element
//! sub-blocks, each with its own small scale (and minimum) under one or two f16 super-scales.

use super::legacy::IQ4_KVALUES;
use super::{f16_at, nibble};

pub(super) fn q2_k(b: &[u8], out: &mut [f32]) {
    let (scales, qs) = (&b[0..16], &b[16..80]);
    let (d, dmin) = (f16_at(b, 80), f16_at(b, 82));
    for c in 0..2 {
        for s in 0..4 {
            for i in 0..32 {
                let e = c * 128 + s * 32 + i;
                let q = (qs[c * 32 + i] >> (2 * s)) & 3;
                let sc = scales[e / 16];
                out[e] = d * f32::from(sc & 0xF) * f32::from(q) - dmin * f32::from(sc >> 4);
            }
        }
    }
}

pub(super) fn q3_k(b: &[u8], out: &mut [f32]) {
    let (hmask, qs, sc) = (&b[0..32], &b[32..96], &b[96..108]);
    let d = f16_at(b, 108);
    let scales: [f32; 16] = std::array::from_fn(|k| {
        let low = nibble(sc[k % 8], k / 8);
        let high = (sc[8 + k % 4] >> (2 * (k / 4))) & 3;
        f32::from((low | (high << 4)) as i8 - 32)
    });
    for c in 0..2 {
        for s in 0..4 {
            for i in 0..32 {
                let e = c * 128 + s * 32 + i;
                let low = i8::try_from((qs[c * 32 + i] >> (2 * s)) & 3).unwrap_or(0);
                // the high bit set means no offset; clear means -4
                let bit = (hmask[i] >> (e / 32)) & 1;
                let q = low - if bit == 0 { 4 } else { 0 };
                out[e] = d * scales[e / 16] * f32::from(q);
            }
        }
    }
}

/// The 6-bit scales and minimums of Q4_K and Q5_K, eight of each, packed in 12 bytes.
fn scale_min_k4(s: &[u8]) -> ([u8; 8], [u8; 8]) {
    let mut sc = [0u8; 8];
    let mut mn = [0u8; 8];
    for j in 0..4 {
        sc[j] = s[j] & 0x3F;
        mn[j] = s[4 + j] & 0x3F;
        sc[4 + j] = (s[8 + j] & 0x0F) | ((s[j] >> 2) & 0x30);
        mn[4 + j] = (s[8 + j] >> 4) | ((s[4 + j] >> 2) & 0x30);
    }
    (sc, mn)
}

pub(super) fn q4_k(b: &[u8], out: &mut [f32]) {
    let (d, dmin) = (f16_at(b, 0), f16_at(b, 2));
    let (sc, mn) = scale_min_k4(&b[4..16]);
    let qs = &b[16..144];
    for c in 0..4 {
        for s in 0..2 {
            let g = c * 2 + s;
            let (dl, ml) = (d * f32::from(sc[g]), dmin * f32::from(mn[g]));
            for i in 0..32 {
                out[g * 32 + i] = dl * f32::from(nibble(qs[c * 32 + i], s)) - ml;
            }
        }
    }
}

pub(super) fn q5_k(b: &[u8], out: &mut [f32]) {
    let (d, dmin) = (f16_at(b, 0), f16_at(b, 2));
    let (sc, mn) = scale_min_k4(&b[4..16]);
    let (qh, qs) = (&b[16..48], &b[48..176]);
    for c in 0..4 {
        for s in 0..2 {
            let g = c * 2 + s;
            let (dl, ml) = (d * f32::from(sc[g]), dmin * f32::from(mn[g]));
            for i in 0..32 {
                let q = nibble(qs[c * 32 + i], s) | (((qh[i] >> g) & 1) << 4);
                out[g * 32 + i] = dl * f32::from(q) - ml;
            }
        }
    }
}

pub(super) fn q6_k(b: &[u8], out: &mut [f32]) {
    let (ql, qh, scales) = (&b[0..128], &b[128..192], &b[192..208]);
    let d = f16_at(b, 208);
    for c in 0..2 {
        for e in 0..128 {
            let low = nibble(ql[c * 64 + e % 64], e / 64);
            let high = (qh[c * 32 + e % 32] >> (2 * (e / 32))) & 3;
            let q = i16::from(low | (high << 4)) - 32;
            let idx = c * 128 + e;
            out[idx] = d * f32::from(scales[idx / 16] as i8) * f32::from(q);
        }
    }
}

pub(super) fn q8_k(b: &[u8], out: &mut [f32]) {
    let d = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    for (o, &q) in out.iter_mut().zip(&b[4..260]) {
        *o = d * f32::from(q as i8);
    }
}

pub(super) fn iq4_xs(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    let high = u16::from_le_bytes([b[2], b[3]]);
    let (low, qs) = (&b[4..8], &b[8..136]);
    for k in 0..8 {
        let l = nibble(low[k / 2], k % 2);
        let h = ((high >> (2 * k)) & 3) as u8;
        let dl = d * f32::from((l | (h << 4)) as i8 - 32);
        for s in 0..2 {
            for i in 0..16 {
                let q = nibble(qs[k * 16 + i], s);
                out[k * 32 + s * 16 + i] = dl * f32::from(IQ4_KVALUES[usize::from(q)]);
            }
        }
    }
}
