//! The float kinds of 8 bits and fewer, decoded through 256-, 64- or 16-entry tables built at compile
//! time. Every value of these kinds is exactly an `f32` (the smallest, E8M0's 2^-127, is an `f32`
//! subnormal), so decoding is one table lookup.
//!
//! | dtype | layout | bias | specials |
//! |---|---|---|---|
//! | `F8_E4M3` (E4M3FN) | s eeee mmm | 7 | no infinities; `0x7f`/`0xff` are NaN; max 448 |
//! | `F8_E5M2` | s eeeee mm | 15 | IEEE: exponent 31 is ±Inf (m = 0) or NaN |
//! | `F8_E4M3FNUZ` | s eeee mmm | 8 | no infinities, no −0: `0x80` is the only NaN |
//! | `F8_E5M2FNUZ` | s eeeee mm | 16 | no infinities, no −0: `0x80` is the only NaN |
//! | `F8_E8M0` | eeeeeeee | 127 | unsigned power of two 2^(e−127); `0xff` is NaN; no zero |
//! | `F6_E2M3` | s ee mmm | 1 | finite only; max 7.5 |
//! | `F6_E3M2` | s eee mm | 3 | finite only; max 28 |
//! | `F4` (E2M1) | s ee m | 1 | finite only; max 6 |
//!
//! # Packing of the sub-byte kinds
//! Element `i` of an F4 or F6 tensor occupies bits `[i·w, i·w + w)` of the data read as one
//! little-endian bit stream (bit 0 is the least significant bit of byte 0):
//! - **F4**: two per byte, the *first element in the low nibble*. This is PyTorch's
//!   `float4_e2m1fn_x2` (which `safetensors` maps to `F4`; pytorch/ao#2939: "we pack the second element
//!   in MSB in PyTorch core"), and the rule of ONNX and the OCP MX kernels (first element in the LSBs).
//! - **F6**: four values in three bytes, the first in the low six bits of byte 0, the second in the
//!   top two bits of byte 0 (its low bits) and the low four bits of byte 1, and so on. Neither
//!   safetensors (its F6 pull request leaves the layout to implementers), nor ml_dtypes (one value per
//!   byte) nor torch (no float6 dtype) settles this; we chose the same LSB-first bit stream as F4 and
//!   ONNX's sub-byte types, and `tests/data/dtypes/packed.txt` pins it down.

/// How a kind spends its top exponent and its sign bit on special values.
#[derive(Clone, Copy)]
enum Special {
    /// IEEE-style: the top exponent is ±Inf (mantissa 0) or NaN.
    Ieee,
    /// "FN": no infinities; only the all-ones exponent and mantissa pattern is NaN.
    Fn,
    /// "FNUZ": no infinities and no negative zero; the negative-zero pattern is the only NaN.
    Fnuz,
    /// Every pattern is a finite number.
    Finite,
}

const NAN_BITS: u32 = 0x7fc0_0000;

/// The `f32` bits of minifloat `code` (sign, `e_bits` exponent bits, `m_bits` mantissa bits).
const fn to_f32_bits(code: u32, e_bits: u32, m_bits: u32, bias: i32, special: Special) -> u32 {
    let sign = (code >> (e_bits + m_bits)) & 1;
    let e = (code >> m_bits) & ((1 << e_bits) - 1);
    let m = code & ((1 << m_bits) - 1);
    let e_max = (1 << e_bits) - 1;
    match special {
        Special::Ieee if e == e_max => {
            return if m == 0 {
                sign << 31 | 0x7f80_0000
            } else {
                sign << 31 | NAN_BITS
            };
        }
        Special::Fn if e == e_max && m == (1 << m_bits) - 1 => return sign << 31 | NAN_BITS,
        Special::Fnuz if sign == 1 && e == 0 && m == 0 => return NAN_BITS,
        _ => {}
    }
    if e == 0 && m == 0 {
        return sign << 31;
    }
    let (exp, frac) = if e > 0 {
        (e as i32 - bias, m << (23 - m_bits))
    } else {
        // subnormal: 0.m · 2^(1-bias); normalise around m's highest set bit p
        let p = 31 - m.leading_zeros();
        (p as i32 + 1 - bias - m_bits as i32, (m ^ (1 << p)) << (23 - p))
    };
    let biased = exp + 127;
    if biased > 0 {
        sign << 31 | (biased as u32) << 23 | frac
    } else {
        sign << 31 | ((1 << 23 | frac) >> (1 - biased) as u32)
    }
}

const fn table<const N: usize>(e_bits: u32, m_bits: u32, bias: i32, special: Special) -> [f32; N] {
    let mut out = [0f32; N];
    let mut i = 0;
    while i < N {
        out[i] = f32::from_bits(to_f32_bits(i as u32, e_bits, m_bits, bias, special));
        i += 1;
    }
    out
}

const fn e8m0_table() -> [f32; 256] {
    let mut out = [0f32; 256];
    let mut e = 0;
    while e < 256 {
        out[e] = f32::from_bits(match e {
            255 => NAN_BITS,
            0 => 0x0040_0000, // 2^-127, an f32 subnormal
            _ => (e as u32) << 23,
        });
        e += 1;
    }
    out
}

/// `F8_E4M3` (E4M3FN) by byte.
pub static F8_E4M3: [f32; 256] = table(4, 3, 7, Special::Fn);
/// `F8_E5M2` by byte.
pub static F8_E5M2: [f32; 256] = table(5, 2, 15, Special::Ieee);
/// `F8_E4M3FNUZ` by byte.
pub static F8_E4M3FNUZ: [f32; 256] = table(4, 3, 8, Special::Fnuz);
/// `F8_E5M2FNUZ` by byte.
pub static F8_E5M2FNUZ: [f32; 256] = table(5, 2, 16, Special::Fnuz);
/// `F8_E8M0` by byte.
pub static F8_E8M0: [f32; 256] = e8m0_table();
/// `F6_E2M3` by 6-bit code.
pub static F6_E2M3: [f32; 64] = table(2, 3, 1, Special::Finite);
/// `F6_E3M2` by 6-bit code.
pub static F6_E3M2: [f32; 64] = table(3, 2, 3, Special::Finite);
/// `F4` (E2M1) by 4-bit code.
pub static F4: [f32; 16] = table(2, 1, 1, Special::Finite);

/// The code of sub-byte element `index` (width 4 or 6 bits) in `data`, per the packing described in the
/// module docs; `None` when the element lies (even partly) beyond `data`.
pub fn sub_byte_code(data: &[u8], index: u64, width: u32) -> Option<u8> {
    let bit = index.checked_mul(u64::from(width))?;
    let byte = usize::try_from(bit / 8).ok()?;
    let shift = (bit % 8) as u32;
    let lo = u16::from(*data.get(byte)?);
    let word = if shift + width > 8 {
        lo | u16::from(*data.get(byte + 1)?) << 8
    } else {
        lo
    };
    Some(((word >> shift) & ((1 << width) - 1)) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landmarks() {
        assert_eq!(F8_E4M3[0x7e], 448.0);
        assert!(F8_E4M3[0x7f].is_nan() && F8_E4M3[0xff].is_nan());
        assert_eq!(F8_E4M3[0x01], 2f32.powi(-9));
        assert_eq!(F8_E5M2[0x7c], f32::INFINITY);
        assert_eq!(F8_E5M2[0xfc], f32::NEG_INFINITY);
        assert_eq!(F8_E5M2[0x7b], 57344.0);
        assert!(F8_E4M3FNUZ[0x80].is_nan());
        assert_eq!(F8_E4M3FNUZ[0x7f], 240.0);
        assert_eq!(F8_E5M2FNUZ[0x7f], 57344.0);
        assert_eq!(F8_E8M0[127], 1.0);
        assert_eq!(F8_E8M0[0], 2f32.powi(-127));
        assert_eq!(F6_E2M3[0x1f], 7.5);
        assert_eq!(F6_E3M2[0x1f], 28.0);
        assert_eq!(F4[0x07], 6.0);
        assert_eq!(F4[0x09], -0.5);
    }

    #[test]
    fn sub_byte_packing_is_lsb_first() {
        // F4: first element in the low nibble
        assert_eq!(sub_byte_code(&[0x21], 0, 4), Some(1));
        assert_eq!(sub_byte_code(&[0x21], 1, 4), Some(2));
        assert_eq!(sub_byte_code(&[0x21], 2, 4), None);
        // F6: codes 1, 2, 3, 4 -> bits 000001 000010 000011 000100 from the LSB up
        let packed = [0x81, 0x30, 0x10];
        let codes: Vec<_> = (0..4).map(|i| sub_byte_code(&packed, i, 6).unwrap()).collect();
        assert_eq!(codes, [1, 2, 3, 4]);
        assert_eq!(sub_byte_code(&packed, 4, 6), None);
        assert_eq!(sub_byte_code(&packed, u64::MAX, 6), None);
    }
}
