//! What the scan records for calls and BUILDs that are harmful with the arguments a pickle gives
//! them: `bytes(n)` with a huge `n`, a BUILD on a class or function, numpy dtype states whose
//! object flags disagree with the type code.

use super::{Hazard, MAX_BYTES_CALL, NPY_OBJECT_FLAGS, PickleInfo, Value};

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
            let c = if code == "object" || code.starts_with("object_") {
                'O'
            } else {
                code.chars().next().unwrap_or('?')
            };
            Value::Dtype(c)
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
        Value::Dtype(code) => {
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
                (Some(f), 'V') if f & NPY_OBJECT_FLAGS != 0 => Some((
                    false,
                    "numpy.dtype state gives a structured dtype object flags (checked only per field)",
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
