//! Helpers on simulated values: names from values, shallow containers, cut names.

use super::{MAX_NAME, Value};

pub(super) enum Name {
    Text(String),
    /// Only known at load time.
    Unknown,
    /// Known not to be a string: Python refuses the STACK_GLOBAL.
    NotText,
}

pub(super) fn name_of(v: &Value<'_>) -> Name {
    match v {
        Value::Str(s) => Name::Text(s.to_string()),
        // torch.load's encoding makes old strings str; bytes would be refused, but a name is a name
        Value::Bytes(b) => Name::Text(String::from_utf8_lossy(b).into_owned()),
        Value::Unknown => Name::Unknown,
        Value::Int(_)
        | Value::Long(_)
        | Value::Global(_)
        | Value::Tuple(_)
        | Value::List(_)
        | Value::Dtype(..)
        | Value::Dict(_)
        | Value::NdArray
        | Value::JoblibWrapper
        | Value::Other => Name::NotText,
    }
}

/// Longest flat tuple kept inside a container (a shape, a `(dtype, offset)` field).
const MAX_FLAT_TUPLE: usize = 32;

/// A value as an element of a container: containers inside containers are not followed, except
/// short flat tuples (a shape, a structured dtype's `(dtype, offset)`), which nest nothing.
pub(super) fn shallow(v: Value<'_>) -> Value<'_> {
    match v {
        Value::Tuple(t)
            if t.len() <= MAX_FLAT_TUPLE
                && t.iter()
                    .all(|i| !matches!(i, Value::Tuple(_) | Value::List(_) | Value::Dict(_))) =>
        {
            Value::Tuple(t)
        }
        Value::Tuple(_) | Value::List(_) => Value::Other,
        v => v,
    }
}

/// A name cut to [`MAX_NAME`] bytes (on a character boundary), marked with `…` when cut.
pub(super) fn cut(s: &str) -> String {
    if s.len() <= MAX_NAME {
        return s.to_owned();
    }
    let mut end = MAX_NAME;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

pub(super) fn long_value(b: &[u8]) -> Value<'_> {
    if b.len() <= 8 {
        let mut buf = if b.last().is_some_and(|&x| x & 0x80 != 0) {
            [0xffu8; 8]
        } else {
            [0u8; 8]
        };
        buf[..b.len()].copy_from_slice(b);
        Value::Int(i64::from_le_bytes(buf))
    } else {
        Value::Long(b)
    }
}
