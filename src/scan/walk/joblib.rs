//! joblib's arrays inside the pickle stream: `joblib.dump` pickles a `NumpyArrayWrapper` (subclass,
//! shape, order, dtype, allow_mmap, alignment) and writes the array right after its BUILD, and
//! `joblib.load`'s unpickler reads it there (`NumpyArrayWrapper.read_array`) before the next
//! opcode: for a numeric dtype, an optional padding (one length byte and that many bytes) and
//! `elements × itemsize` raw bytes; for a dtype holding objects, one more pickle
//! (`pickle.load(file_handle)`). The walk steps over the raw bytes and walks the inner pickle, so
//! a numeric `.joblib` file is safe and an object one is scanned whole.

use super::{PickleInfo, Value, walk_nested};

/// The bytes the array data takes right after the wrapper's BUILD at `at`; the globals and hazards
/// of an object array's inner pickle are added to `info`. `Err` when the state cannot be followed
/// (the stream is then not scanned past it, which is never safe).
pub(super) fn array_data<'a>(
    data: &'a [u8],
    at: usize,
    state: &Value<'a>,
    depth: u32,
    info: &mut PickleInfo<'a>,
) -> Result<usize, String> {
    let Value::Dict(d) = state else {
        return Err("a joblib NumpyArrayWrapper state that is not a dict".into());
    };
    let d = d.borrow();
    if d.more {
        // a key the scan did not keep may be the alignment joblib reads a padding for
        return Err(format!(
            "a joblib NumpyArrayWrapper state of more than {} keys: where its array data ends is not known",
            super::MAX_DICT_ITEMS
        ));
    }
    let (Some(shape), Some(dtype)) = (d.get("shape"), d.get("dtype")) else {
        return Err("a joblib NumpyArrayWrapper state without a shape and a dtype the scan can follow".into());
    };
    let elements = super::hazard::elements(shape).ok_or("a joblib array shape that is not integers")?;
    let Value::Dtype(dt) = dtype else {
        return Err("a joblib array dtype the scan cannot follow".into());
    };
    // what numpy's `dtype.hasobject` says, structured dtypes all the way down
    let f = super::value::dtype_summary(dt);
    let code = dt.code;
    // a flexible dtype's item size is its BUILD state's, as numpy takes it (`S1` built with an
    // elsize of 8 is `S8`); a structured one's fields are checked to fit in it
    let flexible = matches!(code, 'V' | 'S' | 'U' | 'a');
    let size = match flexible && !f.unchecked && f.end.is_some_and(|e| e <= f.size) && f.size > 0 {
        true => f.size,
        false => dt.size,
    };
    if code == 'O' || f.objects {
        // `pickle.load` of the inner pickle: walked as a pickle of this stream
        let (inner, err) = walk_nested(data, at, depth);
        info.globals.extend(inner.globals);
        info.hazards.extend(inner.hazards);
        if let Some(e) = err {
            return Err(format!("the object array's pickle is broken: {}", e.msg));
        }
        // the inner unpickler read the frame holding its STOP whole: joblib's own goes on at the
        // frame's end or right after STOP, depending on the reader; not followed both ways
        if inner.frame_end.is_some() || !inner.other_ends.is_empty() {
            return Err(
                "the object array's pickle ends inside a frame that runs on past its STOP: \
                        where joblib reads on is not known"
                    .into(),
            );
        }
        return Ok(inner.end - at);
    }
    if f.unchecked || size == 0 {
        return Err(format!(
            "a joblib array of dtype {code}{size}: whether its data is raw bytes or a pickle is not known"
        ));
    }
    // `numpy_array_alignment_bytes` present and not None (joblib 0.12 and later write 8; joblib
    // reads a padding for any other value, `False` too): one byte says the padding
    let mut pad = 0usize;
    if d.get("numpy_array_alignment_bytes")
        .is_some_and(|v| *v != Value::PyNone)
    {
        let n = *data.get(at).ok_or("the joblib array padding runs past the end")?;
        pad = 1 + usize::from(n);
    }
    let bytes = elements
        .checked_mul(size)
        .and_then(|b| usize::try_from(b).ok())
        .and_then(|b| b.checked_add(pad))
        .filter(|&b| at.checked_add(b).is_some_and(|e| e <= data.len()))
        .ok_or_else(|| format!("a joblib array of {elements} × {size} bytes runs past the end of the data"))?;
    Ok(bytes)
}
