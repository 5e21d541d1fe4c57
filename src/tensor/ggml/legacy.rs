//! The 32-element block types (`Q4_0` … `Q8_1`, `IQ4_NL`, `MXFP4`), `NVFP4` and the ternary types
//! (`TQ1_0`, `TQ2_0`): one or two scales per block and small integer codes.

use super::{f16_at, nibble};

/// IQ4_NL's (and IQ4_XS's) non-linear code book.
pub(super) const IQ4_KVALUES: [i8; 16] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
/// E2M1 values doubled (MXFP4's and NVFP4's scales are halved to match).
const FP4_KVALUES: [i8; 16] = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12];

pub(super) fn q4_0(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    for j in 0..16 {
        out[j] = d * (f32::from(b[2 + j] & 0xF) - 8.0);
        out[j + 16] = d * (f32::from(b[2 + j] >> 4) - 8.0);
    }
}

pub(super) fn q4_1(b: &[u8], out: &mut [f32]) {
    let (d, m) = (f16_at(b, 0), f16_at(b, 2));
    for j in 0..16 {
        out[j] = d * f32::from(b[4 + j] & 0xF) + m;
        out[j + 16] = d * f32::from(b[4 + j] >> 4) + m;
    }
}

/// The 5-bit codes of Q5_0/Q5_1: low nibbles at `qs`, the fifth bits in the u32 at `qh`.
fn q5_codes(b: &[u8], qh: usize, qs: usize) -> [u8; 32] {
    let high = u32::from_le_bytes([b[qh], b[qh + 1], b[qh + 2], b[qh + 3]]);
    std::array::from_fn(|j| {
        let low = nibble(b[qs + j % 16], j / 16);
        low | ((((high >> j) & 1) as u8) << 4)
    })
}

pub(super) fn q5_0(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    for (o, q) in out.iter_mut().zip(q5_codes(b, 2, 6)) {
        *o = d * (f32::from(q) - 16.0);
    }
}

pub(super) fn q5_1(b: &[u8], out: &mut [f32]) {
    let (d, m) = (f16_at(b, 0), f16_at(b, 2));
    for (o, q) in out.iter_mut().zip(q5_codes(b, 4, 8)) {
        *o = d * f32::from(q) + m;
    }
}

/// Q8_0 (`codes` at 2) and Q8_1 (at 4, after the f16 sum).
pub(super) fn q8(b: &[u8], out: &mut [f32], codes: usize) {
    let d = f16_at(b, 0);
    for (o, &q) in out.iter_mut().zip(&b[codes..]) {
        *o = d * f32::from(q as i8);
    }
}

pub(super) fn iq4_nl(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    for j in 0..16 {
        out[j] = d * f32::from(IQ4_KVALUES[usize::from(b[2 + j] & 0xF)]);
        out[j + 16] = d * f32::from(IQ4_KVALUES[usize::from(b[2 + j] >> 4)]);
    }
}

/// MXFP4's E8M0 scale, halved (ggml's `ggml_e8m0_to_fp32_half`).
pub(super) fn e8m0_half(e: u8) -> f32 {
    let bits = if e < 2 {
        0x0020_0000u32 << e
    } else {
        u32::from(e - 1) << 23
    };
    f32::from_bits(bits)
}

pub(super) fn mxfp4(b: &[u8], out: &mut [f32]) {
    let d = e8m0_half(b[0]);
    for j in 0..16 {
        out[j] = d * f32::from(FP4_KVALUES[usize::from(b[1 + j] & 0xF)]);
        out[j + 16] = d * f32::from(FP4_KVALUES[usize::from(b[1 + j] >> 4)]);
    }
}

/// NVFP4's unsigned E4M3 scale (bias 7), halved; 0 and 0x7F read as 0.
pub(super) fn ue4m3_half(x: u8) -> f32 {
    if x == 0 || x == 0x7F {
        return 0.0;
    }
    let exp = i32::from((x >> 3) & 0xF);
    let man = f32::from(x & 7);
    let raw = if exp == 0 {
        man * 2f32.powi(-9)
    } else {
        (1.0 + man / 8.0) * 2f32.powi(exp - 7)
    };
    raw * 0.5
}

pub(super) fn nvfp4(b: &[u8], out: &mut [f32]) {
    for k in 0..4 {
        let d = ue4m3_half(b[k]);
        for j in 0..8 {
            let q = b[4 + k * 8 + j];
            out[k * 16 + j] = d * f32::from(FP4_KVALUES[usize::from(q & 0xF)]);
            out[k * 16 + 8 + j] = d * f32::from(FP4_KVALUES[usize::from(q >> 4)]);
        }
    }
}

/// A base-3 digit packed by TQ1_0: `x·3^n` (wrapping in a byte), then the top of `3·v / 256`.
fn trit(x: u8, pow: u8) -> f32 {
    let v = x.wrapping_mul(pow);
    f32::from(((u16::from(v) * 3) >> 8) as i8 - 1)
}

pub(super) fn tq1_0(b: &[u8], out: &mut [f32]) {
    const POW: [u8; 5] = [1, 3, 9, 27, 81];
    let d = f16_at(b, 52);
    for (n, &p) in POW.iter().enumerate() {
        for i in 0..32 {
            out[n * 32 + i] = d * trit(b[i], p);
        }
        for i in 0..16 {
            out[160 + n * 16 + i] = d * trit(b[32 + i], p);
        }
    }
    for (n, &p) in POW[..4].iter().enumerate() {
        for i in 0..4 {
            out[240 + n * 4 + i] = d * trit(b[48 + i], p);
        }
    }
}

pub(super) fn tq2_0(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 64);
    for c in 0..2 {
        for s in 0..4 {
            for i in 0..32 {
                let q = (b[c * 32 + i] >> (2 * s)) & 3;
                out[c * 128 + s * 32 + i] = d * (f32::from(q) - 1.0);
            }
        }
    }
}
