//! Little-endian bytes of every safetensors dtype to values: one element at a time for display
//! ([`element`]), and a run of elements at a time into an `f32` or `f64` buffer for statistics
//! (`fill_f32`, `fill_f64`), with the dtype dispatched once per run, not once per element.
//!
//! Elements are addressed by their index in the storage (in elements, not bytes), so sub-byte
//! kinds (F4, F6) work at any index; see [`super::minifloat`] for their packing.

use half::f16;
use half::slice::HalfFloatSliceExt;
use serde::{Serialize, Serializer};

use super::minifloat::{self, sub_byte_code};
use crate::checkpoint::DType;

/// One element, exact for its dtype: floats of 32 bits or fewer are exact in `f64`, integers are kept as
/// integers (64-bit ones are never rounded through a float).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// Any float kind.
    Float(f64),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A boolean.
    Bool(bool),
    /// A complex number (`C64`): real and imaginary parts.
    Complex(f32, f32),
}

/// How statistics see a dtype: which buffer its elements are decoded into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lanes {
    /// Exactly representable in `f32`: every float kind up to F32, 8- and 16-bit integers, BOOL.
    F32,
    /// Exactly representable in `f64`: F64, I32, U32.
    F64,
    /// 64-bit integers: moments in `f64`, min/max kept exact on the side.
    I64,
    /// 64-bit unsigned integers, likewise.
    U64,
    /// C64: statistics of the magnitudes |z|.
    Complex,
}

pub(crate) fn lanes(dtype: DType) -> Option<Lanes> {
    use DType::*;
    Some(match dtype {
        F64 | I32 | U32 => Lanes::F64,
        I64 => Lanes::I64,
        U64 => Lanes::U64,
        C64 => Lanes::Complex,
        Torch { .. } => return None,
        Ggml(g) if !super::ggml::can_dequantize(g) => return None,
        _ => Lanes::F32,
    })
}

/// Whether the dtype holds integers (BOOL included), which display without a decimal point.
pub fn is_integer(dtype: DType) -> bool {
    use DType::*;
    matches!(dtype, BOOL | U8 | I8 | I16 | U16 | I32 | U32 | I64 | U64)
}

fn bytes_at<const N: usize>(data: &[u8], index: u64) -> Option<[u8; N]> {
    let start = usize::try_from(index).ok()?.checked_mul(N)?;
    data.get(start..start.checked_add(N)?)?.try_into().ok()
}

/// Element `index` (counted in elements from the start of `data`) as a [`Value`]; `None` when it lies
/// beyond `data` or the dtype is a torch-only one.
pub fn element(dtype: DType, data: &[u8], index: u64) -> Option<Value> {
    use DType::*;
    let byte = |i| bytes_at::<1>(data, i).map(|b| b[0]);
    Some(match dtype {
        BOOL => Value::Bool(byte(index)? != 0),
        U8 => Value::UInt(byte(index)?.into()),
        I8 => Value::Int((byte(index)? as i8).into()),
        I16 => Value::Int(i16::from_le_bytes(bytes_at(data, index)?).into()),
        U16 => Value::UInt(u16::from_le_bytes(bytes_at(data, index)?).into()),
        I32 => Value::Int(i32::from_le_bytes(bytes_at(data, index)?).into()),
        U32 => Value::UInt(u32::from_le_bytes(bytes_at(data, index)?).into()),
        I64 => Value::Int(i64::from_le_bytes(bytes_at(data, index)?)),
        U64 => Value::UInt(u64::from_le_bytes(bytes_at(data, index)?)),
        F64 => Value::Float(f64::from_le_bytes(bytes_at(data, index)?)),
        C64 => {
            let b: [u8; 8] = bytes_at(data, index)?;
            let re = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let im = f32::from_le_bytes([b[4], b[5], b[6], b[7]]);
            Value::Complex(re, im)
        }
        Torch { .. } => return None,
        Ggml(g) => Value::Float(super::ggml::element(g, data, index)?.into()),
        _ => Value::Float(element_f32(dtype, data, index)?.into()),
    })
}

/// Element `index` of an [`Lanes::F32`] dtype as `f32`.
fn element_f32(dtype: DType, data: &[u8], index: u64) -> Option<f32> {
    use DType::*;
    let byte = |i| bytes_at::<1>(data, i).map(|b| b[0]);
    Some(match dtype {
        F32 => f32::from_le_bytes(bytes_at(data, index)?),
        F16 => f16::from_bits(u16::from_le_bytes(bytes_at(data, index)?)).to_f32(),
        BF16 => f32::from_bits(u32::from(u16::from_le_bytes(bytes_at(data, index)?)) << 16),
        F8_E4M3 => minifloat::F8_E4M3[byte(index)? as usize],
        F8_E5M2 => minifloat::F8_E5M2[byte(index)? as usize],
        F8_E8M0 => minifloat::F8_E8M0[byte(index)? as usize],
        F8_E4M3FNUZ => minifloat::F8_E4M3FNUZ[byte(index)? as usize],
        F8_E5M2FNUZ => minifloat::F8_E5M2FNUZ[byte(index)? as usize],
        F6_E2M3 => minifloat::F6_E2M3[sub_byte_code(data, index, 6)? as usize],
        F6_E3M2 => minifloat::F6_E3M2[sub_byte_code(data, index, 6)? as usize],
        F4 => minifloat::F4[sub_byte_code(data, index, 4)? as usize],
        BOOL => f32::from(u8::from(byte(index)? != 0)),
        U8 => f32::from(byte(index)?),
        I8 => f32::from(byte(index)? as i8),
        I16 => f32::from(i16::from_le_bytes(bytes_at(data, index)?)),
        U16 => f32::from(u16::from_le_bytes(bytes_at(data, index)?)),
        _ => return None,
    })
}

/// Element `index` of an [`Lanes::F64`] dtype (or the magnitude of a C64, or a 64-bit integer
/// rounded) as `f64`.
fn element_f64(dtype: DType, data: &[u8], index: u64) -> Option<f64> {
    Some(match element(dtype, data, index)? {
        Value::Float(x) => x,
        Value::Int(i) => i as f64,
        Value::UInt(u) => u as f64,
        Value::Bool(b) => f64::from(u8::from(b)),
        Value::Complex(re, im) => f64::from(re).hypot(f64::from(im)),
    })
}

/// The byte slice of elements `start..start + n` of a byte-aligned dtype of `size` bytes.
fn run_bytes(data: &[u8], start: u64, n: usize, size: usize) -> Option<&[u8]> {
    let s = usize::try_from(start).ok()?.checked_mul(size)?;
    data.get(s..s.checked_add(n.checked_mul(size)?)?)
}

fn table_run(table: &[f32; 256], bytes: &[u8], out: &mut [f32]) {
    for (o, &b) in out.iter_mut().zip(bytes) {
        *o = table[b as usize];
    }
}

/// The `len` elements of `size` bytes from element `start` of `data`, as `T`, when they lie aligned for
/// it; only for plain-number `T` (every bit pattern a value) that little-endian data spells as is.
pub(super) fn direct<T: Copy>(data: &[u8], start: u64, len: u64, size: usize) -> Option<&[T]> {
    debug_assert_eq!(size, size_of::<T>());
    if cfg!(target_endian = "big") {
        return None;
    }
    let a = usize::try_from(start).ok()?.checked_mul(size)?;
    let b = a.checked_add(usize::try_from(len).ok()?.checked_mul(size)?)?;
    let bytes = data.get(a..b)?;
    // SAFETY: `T` is `f32` or `f64` (see the callers), for which every bit pattern is a valid value;
    // `align_to` hands out only the aligned middle, which is checked to be all of the bytes.
    let (head, mid, tail) = unsafe { bytes.align_to::<T>() };
    (head.is_empty() && tail.is_empty()).then_some(mid)
}

/// Decode `out.len()` elements of an [`Lanes::F32`] dtype, the first at storage element `start` and each
/// next one `step` elements further, into `out`. `false` when an element lies beyond `data`.
pub(crate) fn fill_f32(dtype: DType, data: &[u8], start: u64, step: u64, out: &mut [f32]) -> bool {
    use DType::*;
    let n = out.len();
    if let Ggml(g) = dtype {
        return super::ggml::fill(g, data, start, step, out);
    }
    if step != 1 || matches!(dtype, F4 | F6_E2M3 | F6_E3M2) {
        for (i, o) in out.iter_mut().enumerate() {
            let Some(x) = (i as u64).checked_mul(step).and_then(|d| d.checked_add(start)) else {
                return false;
            };
            let Some(v) = element_f32(dtype, data, x) else {
                return false;
            };
            *o = v;
        }
        return true;
    }
    let size = (dtype.bits() / 8) as usize;
    let Some(bytes) = run_bytes(data, start, n, size) else {
        return false;
    };
    match dtype {
        F32 => {
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                *o = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
        }
        BF16 => {
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                *o = f32::from_bits(u32::from(u16::from_le_bytes([c[0], c[1]])) << 16);
            }
        }
        F16 => {
            // through half's slice conversion, which uses F16C when the CPU has it
            let mut bits = [f16::ZERO; 256];
            for (o, c) in out.chunks_mut(256).zip(bytes.chunks(512)) {
                let m = o.len();
                for (b, p) in bits.iter_mut().zip(c.chunks_exact(2)) {
                    *b = f16::from_bits(u16::from_le_bytes([p[0], p[1]]));
                }
                bits[..m].convert_to_f32_slice(o);
            }
        }
        F8_E4M3 => table_run(&minifloat::F8_E4M3, bytes, out),
        F8_E5M2 => table_run(&minifloat::F8_E5M2, bytes, out),
        F8_E8M0 => table_run(&minifloat::F8_E8M0, bytes, out),
        F8_E4M3FNUZ => table_run(&minifloat::F8_E4M3FNUZ, bytes, out),
        F8_E5M2FNUZ => table_run(&minifloat::F8_E5M2FNUZ, bytes, out),
        U8 => out.iter_mut().zip(bytes).for_each(|(o, &b)| *o = f32::from(b)),
        I8 => out.iter_mut().zip(bytes).for_each(|(o, &b)| *o = f32::from(b as i8)),
        BOOL => out
            .iter_mut()
            .zip(bytes)
            .for_each(|(o, &b)| *o = f32::from(u8::from(b != 0))),
        I16 => {
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                *o = f32::from(i16::from_le_bytes([c[0], c[1]]));
            }
        }
        U16 => {
            for (o, c) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                *o = f32::from(u16::from_le_bytes([c[0], c[1]]));
            }
        }
        _ => return false,
    }
    true
}

/// Like [`fill_f32`] for the other dtypes: F64, I32, U32 exactly; I64 and U64 rounded to `f64`; C64 as
/// the magnitude |z|.
pub(crate) fn fill_f64(dtype: DType, data: &[u8], start: u64, step: u64, out: &mut [f64]) -> bool {
    if step == 1 && matches!(dtype, DType::F64) {
        let Some(bytes) = run_bytes(data, start, out.len(), 8) else {
            return false;
        };
        for (o, c) in out.iter_mut().zip(bytes.chunks_exact(8)) {
            *o = f64::from_le_bytes(c.try_into().unwrap_or_default());
        }
        return true;
    }
    for (i, o) in out.iter_mut().enumerate() {
        let Some(x) = (i as u64).checked_mul(step).and_then(|d| d.checked_add(start)) else {
            return false;
        };
        let Some(v) = element_f64(dtype, data, x) else {
            return false;
        };
        *o = v;
    }
    true
}

/// Exact 64-bit integers of a run (I64 as `i128`, U64 as `i128`), for exact min/max.
pub(crate) fn fill_i128(dtype: DType, data: &[u8], start: u64, step: u64, out: &mut [i128]) -> bool {
    for (i, o) in out.iter_mut().enumerate() {
        let Some(x) = (i as u64).checked_mul(step).and_then(|d| d.checked_add(start)) else {
            return false;
        };
        *o = match element(dtype, data, x) {
            Some(Value::Int(v)) => v.into(),
            Some(Value::UInt(v)) => v.into(),
            _ => return false,
        };
    }
    true
}

impl Value {
    /// A statistic of `dtype` computed as `f64` (min or max), an integer when the dtype holds integers
    /// (BOOL gives 0 or 1, as torch's `min`/`max` of a bool tensor converted to int).
    pub fn of_f64(dtype: DType, x: f64) -> Value {
        match dtype {
            DType::BOOL | DType::U8 | DType::U16 | DType::U32 => Value::UInt(x as u64),
            d if is_integer(d) => Value::Int(x as i64),
            _ => Value::Float(x),
        }
    }

    /// The value as `f64` (a complex number gives its real part).
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Float(x) => x,
            Value::Int(i) => i as f64,
            Value::UInt(u) => u as f64,
            Value::Bool(b) => f64::from(u8::from(b)),
            Value::Complex(re, _) => re.into(),
        }
    }
}

fn serialize_float<S: Serializer>(x: f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_nan() {
        s.serialize_str("nan")
    } else if x.is_infinite() {
        s.serialize_str(if x > 0.0 { "inf" } else { "-inf" })
    } else {
        s.serialize_f64(x)
    }
}

/// JSON: numbers (exact), `"nan"`, `"inf"`, `"-inf"`, `true`/`false`, and `[re, im]` for complex.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Value::Float(x) => serialize_float(x, s),
            Value::Int(i) => s.serialize_i64(i),
            Value::UInt(u) => s.serialize_u64(u),
            Value::Bool(b) => s.serialize_bool(b),
            Value::Complex(re, im) => {
                use serde::ser::SerializeTuple;
                struct F(f64);
                impl Serialize for F {
                    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        serialize_float(self.0, s)
                    }
                }
                let mut t = s.serialize_tuple(2)?;
                t.serialize_element(&F(re.into()))?;
                t.serialize_element(&F(im.into()))?;
                t.end()
            }
        }
    }
}

/// Serialize an `f64` statistic like a [`Value::Float`] (`"nan"`, `"inf"` as strings).
pub(crate) fn serialize_opt_f64<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(v) => serialize_float(*v, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
#[path = "decode_tables.rs"]
mod reference_tables;
