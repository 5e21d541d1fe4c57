//! What the scan records for calls and BUILDs that are harmful with the arguments a pickle gives
//! them: `bytes(n)` with a huge `n`, a BUILD on a class or function, numpy dtype states whose
//! object flags disagree with what their fields hold (checked field by field in [`dtype`]).

mod dtype;

use std::rc::Rc;

use super::info::{Hazard, PickleInfo};
use super::value::{DtypeInfo, Value, holds_objects};
use super::{MAX_BYTES_CALL, MAX_OBJECT_ARRAY_BYTES};

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
        Some(Value::Dtype(d)) if d.code == 'O' => 8,
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
            if code == "object" || code.starts_with("object_") || code == "O" {
                return Value::Dtype(Rc::new(DtypeInfo::new('O', 8)));
            }
            let c = code.chars().next().unwrap_or('?');
            // numpy pickles a dtype as its kind and size (`f8`, `O8`, `V16`, `U10` in characters)
            let n: u64 = code[c.len_utf8()..].parse().unwrap_or(0);
            let size = if c == 'U' { n.saturating_mul(4) } else { n };
            Value::Dtype(Rc::new(DtypeInfo::new(c, size)))
        }
        ("joblib.numpy_pickle", "NumpyArrayWrapper", _) => Value::JoblibWrapper(Rc::default()),
        ("numpy.core.multiarray" | "numpy._core.multiarray", "_reconstruct", _) => {
            let (shape, dtype) = match args {
                Value::Tuple(t) => (t.get(1), t.get(2)),
                _ => (None, None),
            };
            let n = shape.and_then(elements).unwrap_or(0);
            let what = "numpy allocates it before any BUILD (numpy itself writes shape (0,))";
            alloc_hazard(info, offset, g, n, item_bytes(dtype), what);
            Value::NdArray
        }
        // the classes themselves, called with sizes: torch.save never calls them, a pickle can
        ("numpy" | "numpy.core.multiarray" | "numpy._core.multiarray", "ndarray", Some(shape)) => {
            let dtype = match args {
                Value::Tuple(t) => t.get(1),
                _ => None,
            };
            let n = elements(shape).unwrap_or(0);
            alloc_hazard(info, offset, g, n, item_bytes(dtype), "numpy allocates the array first");
            Value::NdArray
        }
        ("torch" | "torch.nn.parameter", "Tensor" | "Buffer", _) => {
            // torch.Tensor(d0, d1, …) allocates d0·d1·… float32 elements
            let dims = match args {
                Value::Tuple(t) if !t.is_empty() && t.iter().all(|d| matches!(d, Value::Int(_) | Value::Long(_))) => {
                    t.iter().try_fold(1u64, |acc, d| Some(acc.saturating_mul(elements(d)?)))
                }
                _ => None,
            };
            if let Some(n) = dims {
                alloc_hazard(info, offset, g, n, 4, "torch allocates the tensor first");
            }
            Value::Unknown
        }
        ("torch" | "torch.cuda" | "torch.storage", name, Some(n @ (Value::Int(_) | Value::Long(_))))
            if name.ends_with("Storage") =>
        {
            let n = elements(n).unwrap_or(0);
            alloc_hazard(info, offset, g, n, 1, "torch allocates the storage first");
            Value::Unknown
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

/// Record that a call to `g` asks for `n` elements of at least `item` bytes, when that is above
/// [`MAX_BYTES_CALL`]: memory exhaustion, not code (suspicious).
fn alloc_hazard(info: &mut PickleInfo<'_>, offset: usize, g: &(String, String), n: u64, item: u64, what: &str) {
    let bytes = n.saturating_mul(item);
    if bytes > MAX_BYTES_CALL as u64 {
        info.hazards.push(Hazard {
            offset,
            global: format!("{}.{}", g.0, g.1),
            dangerous: false,
            why: format!(
                "called with sizes asking for {n} elements (at least {bytes} bytes, above the \
                 {MAX_BYTES_CALL}-byte limit): {what}"
            ),
        });
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
        Value::Dtype(d) => dtype::build(d, state, offset, info),
        _ => {}
    }
}
