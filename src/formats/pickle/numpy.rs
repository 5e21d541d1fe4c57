//! numpy arrays and scalars pickled inside checkpoints, rebuilt as data.
//!
//! An array pickles as `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')` followed by
//! BUILD with `(1, shape, dtype, is_fortran, raw bytes)`; a dtype as `numpy.dtype('f4', False, True)`
//! with BUILD `(3, '<', …)`; a scalar as `numpy.core.multiarray.scalar(dtype, raw bytes)`.

use super::value::{Heap, Node, NpDtype, Tensor, TensorData, Value};
use crate::model::{DType, contiguous_strides};

/// The element type of a numpy type code (`f4`, `<i8`, `?`), `None` for object and string types.
pub fn dtype_of(code: &str) -> Option<DType> {
    let code = code.trim_start_matches(['<', '>', '|', '=']);
    Some(match code {
        "f8" | "d" => DType::F64,
        "f4" | "f" => DType::F32,
        "f2" | "e" => DType::F16,
        "i8" | "q" => DType::I64,
        "i4" | "i" => DType::I32,
        "i2" | "h" => DType::I16,
        "i1" | "b" => DType::I8,
        "u8" | "Q" => DType::U64,
        "u4" | "I" => DType::U32,
        "u2" | "H" => DType::U16,
        "u1" | "B" => DType::U8,
        "b1" | "?" => DType::BOOL,
        "c8" | "F" => DType::C64,
        "c16" | "D" => DType::Torch {
            name: "complex128",
            bits: 128,
        },
        _ => return None,
    })
}

fn np_dtype<'h, 'a>(heap: &'h Heap<'a>, v: &Value<'a>) -> Option<&'h NpDtype> {
    match heap.node(v)? {
        Node::NpDtype(d) => Some(d),
        _ => None,
    }
}

fn checked_dtype(d: &NpDtype) -> Result<DType, String> {
    let dt = dtype_of(&d.code).ok_or_else(|| format!("numpy dtype {:?} is not a numeric type", d.code))?;
    if d.order == '>' && dt.bits() > 8 {
        return Err(format!(
            "numpy dtype {:?} is big-endian, which cannot be read in place",
            d.code
        ));
    }
    Ok(dt)
}

/// Why an ndarray BUILD state is plain data that no tensor view can show (text, bytes, records,
/// dates; a big-endian number), so that the array is left out of the listing rather than refused;
/// `None` for arrays of numbers in place and for object arrays (which the scanner judges).
pub fn not_a_view<'a>(heap: &Heap<'a>, state: &Value<'a>) -> Option<String> {
    let d = np_dtype(heap, heap.seq(state)?.get(2)?)?;
    let code = d.code.trim_start_matches(['<', '>', '|', '=']);
    if code.starts_with('O') {
        return None;
    }
    checked_dtype(d).err()
}

/// The tensor an ndarray's BUILD state describes.
pub fn array_from_state<'a>(heap: &Heap<'a>, state: &Value<'a>) -> Result<Tensor<'a>, String> {
    let s = heap.seq(state).ok_or("numpy array state is not a tuple")?;
    let [_, shape, dtype, fortran, raw] = s else {
        return Err("numpy array state is not (version, shape, dtype, fortran, data)".into());
    };
    let rank = heap.seq(shape).map_or(0, <[_]>::len);
    if rank > super::machine::MAX_DIMS {
        return Err(format!(
            "numpy array of {rank} dimensions (at most {})",
            super::machine::MAX_DIMS
        ));
    }
    let shape = heap.dims(shape).ok_or("numpy array shape is not a tuple of ints")?;
    let d = np_dtype(heap, dtype).ok_or("numpy array dtype is not a numpy.dtype")?;
    let dt = checked_dtype(d)?;
    let Value::Bytes(blob) = raw else {
        return Err("numpy array data is not bytes (object arrays are not supported)".into());
    };
    let numel = shape
        .iter()
        .try_fold(1u64, |a, &x| a.checked_mul(x))
        .ok_or("numpy array shape overflows")?;
    let need = dt.bytes_for(numel).ok_or("numpy array shape overflows")?;
    if need != blob.len() as u64 {
        return Err(format!("numpy array needs {need} bytes but holds {}", blob.len()));
    }
    let mut strides = contiguous_strides(&shape).ok_or("numpy array shape overflows")?;
    if fortran.as_int() == Some(1) {
        // column-major: the reversed shape's row-major strides, reversed
        let rev: Vec<u64> = shape.iter().rev().copied().collect();
        strides = contiguous_strides(&rev).ok_or("numpy array shape overflows")?;
        strides.reverse();
    }
    Ok(Tensor {
        data: TensorData::Inline(blob.clone()),
        dtype: dt,
        offset: 0,
        shape,
        strides,
    })
}

/// The value of `numpy.core.multiarray.scalar(dtype, bytes)`, `None` when it is not a plain number.
pub fn scalar<'a>(heap: &Heap<'a>, args: &[Value<'a>]) -> Option<Value<'a>> {
    let [dtype, Value::Bytes(b)] = args else { return None };
    let dt = checked_dtype(np_dtype(heap, dtype)?).ok()?;
    let b: &[u8] = b;
    let arr = |n: usize| -> Option<[u8; 8]> {
        let mut a = [0u8; 8];
        a[..n].copy_from_slice(b.get(..n).filter(|_| b.len() == n)?);
        Some(a)
    };
    Some(match dt {
        DType::F64 => Value::Float(f64::from_le_bytes(arr(8)?)),
        DType::F32 => Value::Float(f64::from(f32::from_le_bytes(arr(4)?[..4].try_into().ok()?))),
        DType::F16 => Value::Float(f64::from(half::f16::from_le_bytes(arr(2)?[..2].try_into().ok()?))),
        DType::I64 => Value::Int(i64::from_le_bytes(arr(8)?)),
        DType::I32 => Value::Int(i64::from(i32::from_le_bytes(arr(4)?[..4].try_into().ok()?))),
        DType::I16 => Value::Int(i64::from(i16::from_le_bytes(arr(2)?[..2].try_into().ok()?))),
        DType::I8 => Value::Int(i64::from(arr(1)?[0] as i8)),
        DType::U8 => Value::Int(i64::from(arr(1)?[0])),
        DType::U16 => Value::Int(i64::from(u16::from_le_bytes(arr(2)?[..2].try_into().ok()?))),
        DType::U32 => Value::Int(i64::from(u32::from_le_bytes(arr(4)?[..4].try_into().ok()?))),
        DType::U64 => Value::Int(i64::try_from(u64::from_le_bytes(arr(8)?)).ok()?),
        DType::BOOL => Value::Bool(arr(1)?[0] != 0),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::pickle::value::Blob;

    #[test]
    fn type_codes() {
        assert_eq!(dtype_of("f4"), Some(DType::F32));
        assert_eq!(dtype_of("<f8"), Some(DType::F64));
        assert_eq!(dtype_of("?"), Some(DType::BOOL));
        assert_eq!(dtype_of("O8"), None);
        assert_eq!(dtype_of("U10"), None);
    }

    #[test]
    fn arrays_from_state() {
        let mut h = Heap::default();
        let dt = h
            .alloc(Node::NpDtype(NpDtype {
                code: "i2".into(),
                order: '<',
            }))
            .unwrap();
        let shape = h.alloc(Node::Tuple(vec![Value::Int(2), Value::Int(3)])).unwrap();
        let data: &[u8] = &[0; 12];
        for (fortran, strides) in [(false, vec![3, 1]), (true, vec![1, 2])] {
            let st = vec![
                Value::Int(1),
                shape.clone(),
                dt.clone(),
                Value::Bool(fortran),
                Value::Bytes(Blob::Borrowed(data)),
            ];
            let st = h.alloc(Node::Tuple(st)).unwrap();
            let t = array_from_state(&h, &st).unwrap();
            assert_eq!((t.dtype, t.shape.clone(), t.strides), (DType::I16, vec![2, 3], strides));
        }
        let short = h
            .alloc(Node::Tuple(vec![
                Value::Int(1),
                shape,
                dt,
                Value::Bool(false),
                Value::Bytes(Blob::Borrowed(&[0; 11])),
            ]))
            .unwrap();
        assert!(array_from_state(&h, &short).unwrap_err().contains("needs 12 bytes"));
    }

    #[test]
    fn scalars() {
        let mut h = Heap::default();
        let f8 = h
            .alloc(Node::NpDtype(NpDtype {
                code: "f8".into(),
                order: '<',
            }))
            .unwrap();
        let b = 0.5f64.to_le_bytes();
        assert_eq!(
            scalar(&h, &[f8.clone(), Value::Bytes(Blob::Borrowed(&b))]),
            Some(Value::Float(0.5))
        );
        assert_eq!(scalar(&h, &[f8, Value::Bytes(Blob::Borrowed(&b[..4]))]), None);
        let be = h
            .alloc(Node::NpDtype(NpDtype {
                code: "i4".into(),
                order: '>',
            }))
            .unwrap();
        assert_eq!(scalar(&h, &[be, Value::Bytes(Blob::Borrowed(&[0; 4]))]), None);
    }
}
