//! What the scan records for calls and BUILDs that are harmful with the arguments a pickle gives
//! them: `bytes(n)` with a huge `n`, a BUILD on a class or function, numpy dtype states whose
//! object flags disagree with the type code.

use super::info::{Hazard, PickleInfo};
use super::value::{Value, holds_objects};
use super::{MAX_BYTES_CALL, MAX_OBJECT_ARRAY_BYTES};

/// numpy dtype flags that make an array hold Python object pointers (`NPY_ITEM_REFCOUNT`,
/// `NPY_LIST_PICKLE`, `NPY_ITEM_IS_POINTER`).
const NPY_OBJECT_FLAGS: i64 = 1 | 2 | 4;

/// The number of elements of a shape (an integer or a tuple of them), `None` when it is not one;
/// negative sizes count as huge (numpy refuses them, but the scan need not agree).
pub(super) fn elements(shape: &Value<'_>) -> Option<u64> {
    let dim = |v: &Value<'_>| match v {
        Value::Int(n) => Some(u64::try_from(*n).unwrap_or(u64::MAX)),
        Value::Long(_) => Some(u64::MAX),
        _ => None,
    };
    match shape {
        Value::Tuple(t) => t.iter().try_fold(1u64, |acc, d| Some(acc.saturating_mul(dim(d)?))),
        v => dim(v),
    }
}

/// Bytes per element of a dtype argument as far as the scan can tell (8 for objects, else 1).
fn item_bytes(dtype: Option<&Value<'_>>) -> u64 {
    match dtype {
        Some(Value::Dtype('O', _)) => 8,
        Some(Value::Bytes(b)) if b.first() == Some(&b'O') => 8,
        Some(Value::Str(s)) if s.starts_with('O') || s.starts_with("object") => 8,
        _ => 1,
    }
}

/// What a REDUCE of an allowlisted global gives as far as the scan cares, recording a hazard for
/// calls that are harmful with these arguments.
pub(super) fn call_result<'a>(
    callable: &Value<'a>,
    args: &Value<'a>,
    offset: usize,
    info: &mut PickleInfo<'a>,
) -> Value<'a> {
    let Value::Global(g) = callable else {
        return Value::Unknown;
    };
    let first = match args {
        Value::Tuple(t) => t.first(),
        _ => None,
    };
    match (g.0.as_str(), g.1.as_str(), first) {
        ("numpy", "dtype", Some(Value::Str(code))) => {
            let code = code.trim_start_matches(['<', '>', '|', '=']);
            if code == "object" || code.starts_with("object_") {
                return Value::Dtype('O', 8);
            }
            let c = code.chars().next().unwrap_or('?');
            // numpy pickles a dtype as its kind and size (`f8`, `O8`, `V16`, `U10` in characters)
            let n: u64 = code[c.len_utf8()..].parse().unwrap_or(0);
            Value::Dtype(c, if c == 'U' { n.saturating_mul(4) } else { n })
        }
        ("joblib.numpy_pickle", "NumpyArrayWrapper", _) => Value::JoblibWrapper,
        ("numpy.core.multiarray" | "numpy._core.multiarray", "_reconstruct", _) => {
            let (shape, dtype) = match args {
                Value::Tuple(t) => (t.get(1), t.get(2)),
                _ => (None, None),
            };
            let n = shape.and_then(elements).unwrap_or(0);
            let bytes = n.saturating_mul(item_bytes(dtype));
            if bytes > MAX_BYTES_CALL as u64 {
                info.hazards.push(Hazard {
                    offset,
                    global: format!("{}.{}", g.0, g.1),
                    dangerous: false,
                    why: format!(
                        "asks for an array of {n} elements ({bytes} bytes, above the {MAX_BYTES_CALL}-byte limit): \
                         numpy allocates it before any BUILD (numpy itself writes shape (0,))"
                    ),
                });
            }
            Value::NdArray
        }
        ("builtins" | "__builtin__", "bytes" | "bytearray", Some(n @ (Value::Int(_) | Value::Long(_)))) => {
            let big = match n {
                Value::Int(n) => *n > MAX_BYTES_CALL,
                _ => true,
            };
            if big {
                info.hazards.push(Hazard {
                    offset,
                    global: format!("{}.{}", g.0, g.1),
                    dangerous: false,
                    why: format!("called with an integer above {MAX_BYTES_CALL}: the loader allocates that many bytes"),
                });
            }
            Value::Unknown
        }
        _ => Value::Unknown,
    }
}

/// A BUILD on a class or function object (not an instance the pickle made), and numpy dtype states
/// whose object flags disagree with the type code.
pub(super) fn build_hazard(target: &Value<'_>, state: &Value<'_>, offset: usize, info: &mut PickleInfo<'_>) {
    match target {
        Value::Global(g) => info.hazards.push(Hazard {
            offset,
            global: format!("{}.{}", g.0, g.1),
            dangerous: true,
            why: "BUILD sets attributes of the global itself (a class or function, not an instance): \
                  every later load in the process sees it changed (e.g. its __defaults__)"
                .into(),
        }),
        Value::NdArray => {
            // (version, shape, dtype, is_fortran, data): an object array is allocated and
            // zero-filled from the shape before its items are read
            let Value::Tuple(t) = state else { return };
            let (Some(shape), Some(dtype)) = (t.get(1), t.get(2)) else {
                return;
            };
            let n = elements(shape).unwrap_or(0);
            let bytes = n.saturating_mul(8);
            if holds_objects(dtype) && bytes > MAX_OBJECT_ARRAY_BYTES {
                info.hazards.push(Hazard {
                    offset,
                    global: "numpy.ndarray".into(),
                    dangerous: false,
                    why: format!(
                        "an object array of {n} elements: numpy allocates and zero-fills {bytes} bytes \
                         (above the {MAX_OBJECT_ARRAY_BYTES}-byte limit) before reading any item"
                    ),
                });
            }
        }
        Value::Dtype(code, _) => {
            // a structured dtype's fields (state item 4): whether one of them holds objects
            let fields = match state {
                // a dict of fields is known; `None` (or a subarray dtype) is not followed
                Value::Tuple(t) => match t.get(4) {
                    Some(Value::Dict(d)) => Some(d.borrow().objects),
                    _ => None,
                },
                _ => None,
            };
            let flags = match state {
                Value::Tuple(t) if t.len() < 8 => Some(0),
                Value::Tuple(t) => match t.get(7) {
                    Some(Value::Int(f)) => Some(*f),
                    _ => None,
                },
                _ => None,
            };
            let why = match (flags, code) {
                (None, _) => Some((
                    false,
                    "numpy.dtype state could not be checked (its flags are not a plain integer)",
                )),
                (Some(f), 'O') if f & 3 != 3 => Some((
                    true,
                    "numpy.dtype state clears the object flags of an object dtype: raw bytes are read as object pointers",
                )),
                (Some(f), 'V') if fields == Some(true) && f & 3 != 3 => Some((
                    true,
                    "numpy.dtype state clears the object flags of a structured dtype with an object field: \
                     raw bytes are read as object pointers",
                )),
                (Some(f), 'V') if fields == Some(false) && f & NPY_OBJECT_FLAGS != 0 => Some((
                    true,
                    "numpy.dtype state sets object flags on a structured dtype whose fields hold no objects: \
                     raw bytes are read as object pointers",
                )),
                (Some(f), 'V') if fields.is_none() && f & NPY_OBJECT_FLAGS != 0 => Some((
                    false,
                    "numpy.dtype state gives a structured dtype object flags, and its fields could not be checked",
                )),
                (Some(f), c) if *c != 'O' && *c != 'V' && f & NPY_OBJECT_FLAGS != 0 => Some((
                    true,
                    "numpy.dtype state sets object flags on a dtype that holds no objects: raw bytes are read as object pointers",
                )),
                _ => None,
            };
            if let Some((dangerous, why)) = why {
                info.hazards.push(Hazard {
                    offset,
                    global: "numpy.dtype".into(),
                    dangerous,
                    why: why.into(),
                });
            }
        }
        _ => {}
    }
}
