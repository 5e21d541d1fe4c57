//! GGUF metadata values: the thirteen value types, strings and (possibly nested) arrays. Arrays keep
//! their first few items and where the rest lie, so a 150k-token vocabulary costs one walk over its
//! bytes and a handful of strings, and [`array_items`] reads all of it only when asked.

use serde::Serialize;

use super::cursor::Cursor;
use super::limits::{ARRAY_PREVIEW, MAX_ARRAY_DEPTH, MAX_ARRAY_LEN, MAX_STRING_LEN};
use crate::{Error, Result};

/// The type tag of a metadata value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// `uint8`
    U8,
    /// `int8`
    I8,
    /// `uint16`
    U16,
    /// `int16`
    I16,
    /// `uint32`
    U32,
    /// `int32`
    I32,
    /// `float32`
    F32,
    /// `bool` (one byte)
    Bool,
    /// length-prefixed UTF-8 string
    String,
    /// typed array
    Array,
    /// `uint64`
    U64,
    /// `int64`
    I64,
    /// `float64`
    F64,
}

impl ValueType {
    fn from_id(id: u32) -> Option<ValueType> {
        use ValueType::*;
        Some(match id {
            0 => U8,
            1 => I8,
            2 => U16,
            3 => I16,
            4 => U32,
            5 => I32,
            6 => F32,
            7 => Bool,
            8 => String,
            9 => Array,
            10 => U64,
            11 => I64,
            12 => F64,
            _ => return None,
        })
    }

    /// The name gguf-py prints (`UINT32`, `STRING`, …).
    pub fn name(self) -> &'static str {
        use ValueType::*;
        match self {
            U8 => "UINT8",
            I8 => "INT8",
            U16 => "UINT16",
            I16 => "INT16",
            U32 => "UINT32",
            I32 => "INT32",
            F32 => "FLOAT32",
            Bool => "BOOL",
            String => "STRING",
            Array => "ARRAY",
            U64 => "UINT64",
            I64 => "INT64",
            F64 => "FLOAT64",
        }
    }

    /// Bytes of one value of a fixed-size type; `None` for strings and arrays.
    fn fixed_size(self) -> Option<u64> {
        match self {
            ValueType::String | ValueType::Array => None,
            t => Some(t.min_size()),
        }
    }

    /// Bytes of one value of a fixed-size type; the smallest possible for strings (8) and arrays (12).
    fn min_size(self) -> u64 {
        use ValueType::*;
        match self {
            U8 | I8 | Bool => 1,
            U16 | I16 => 2,
            U32 | I32 | F32 => 4,
            U64 | I64 | F64 | String => 8,
            Array => 12,
        }
    }
}

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An unsigned integer of any width.
    UInt(u64, ValueType),
    /// A signed integer of any width.
    Int(i64, ValueType),
    /// `float32` or `float64`.
    Float(f64, ValueType),
    /// `bool`.
    Bool(bool),
    /// A string (invalid UTF-8 replaced).
    Str(String),
    /// An array.
    Array(Array),
}

/// An array value: its element type, length, the first [`ARRAY_PREVIEW`] items, and where its items
/// start in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Element type.
    pub elem: ValueType,
    /// Number of items.
    pub len: u64,
    /// The first items (fewer when the array is shorter).
    pub head: Vec<Value>,
    /// File offset of the first item.
    pub offset: usize,
    depth: usize,
}

impl Array {
    /// The same array with `head` replaced (by every item, for showing it whole).
    pub(crate) fn with_head(self, head: Vec<Value>) -> Array {
        Array { head, ..self }
    }
}

impl Value {
    /// The value's type tag.
    pub fn kind(&self) -> ValueType {
        match self {
            Value::UInt(_, t) | Value::Int(_, t) | Value::Float(_, t) => *t,
            Value::Bool(_) => ValueType::Bool,
            Value::Str(_) => ValueType::String,
            Value::Array(_) => ValueType::Array,
        }
    }

    /// The value as an unsigned integer, when it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::UInt(v, _) => Some(v),
            Value::Int(v, _) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a string slice, when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Read a length-prefixed string, `what` naming it in errors.
pub(crate) fn read_string(c: &mut Cursor, what: &str) -> Result<String> {
    let bytes = string_bytes(
        c,
        what,
        ": the length field is damaged, or this is not a GGUF file; re-download it (a fixed limit)",
    )?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

/// A key or tensor name: its bytes as stored (what llama.cpp compares, as C strings, for duplicates)
/// and its text, with each byte that is not UTF-8 written `\xNN` (`w\xff`, not `w\u{fffd}`, so that
/// names differing only there stay apart where they are printed).
pub(crate) fn read_name<'a>(c: &mut Cursor<'a>, what: &str) -> Result<(&'a [u8], String)> {
    let bytes = string_bytes(
        c,
        what,
        ": the length field is damaged, or this is not a GGUF file; re-download it (a fixed limit)",
    )?;
    Ok((bytes, crate::text::lossless(bytes)))
}

fn skip_string(c: &mut Cursor, what: &str) -> Result<()> {
    string_bytes(
        c,
        what,
        ": the length field is damaged; re-download the file (a fixed limit)",
    )
    .map(|_| ())
}

/// The bytes of a length-prefixed string, its length checked against [`MAX_STRING_LEN`] first.
fn string_bytes<'a>(c: &mut Cursor<'a>, what: &str, hint: &'static str) -> Result<&'a [u8]> {
    let len = c.u64(what)?;
    if len > MAX_STRING_LEN {
        return Err(Error::Limit {
            path: c.path.into(),
            what: "GGUF string length",
            value: len,
            limit: MAX_STRING_LEN,
            hint,
        });
    }
    c.take(len, what)
}

fn read_type(c: &mut Cursor, what: &str) -> Result<ValueType> {
    let id = c.u32(what)?;
    ValueType::from_id(id).ok_or_else(|| c.err(format!("{what}: unknown GGUF value type {id} (known: 0 to 12)")))
}

/// Read one value of type `t`; `keep` false skips it (array items past the preview).
fn read_value(c: &mut Cursor, t: ValueType, depth: usize, keep: bool, what: &str) -> Result<Option<Value>> {
    use ValueType as T;
    let v = match t {
        T::U8 => Value::UInt(c.u8(what)?.into(), t),
        T::I8 => Value::Int((c.u8(what)? as i8).into(), t),
        T::U16 => Value::UInt(c.u16(what)?.into(), t),
        T::I16 => Value::Int((c.u16(what)? as i16).into(), t),
        T::U32 => Value::UInt(c.u32(what)?.into(), t),
        T::I32 => Value::Int((c.u32(what)? as i32).into(), t),
        T::F32 => Value::Float(f32::from_bits(c.u32(what)?).into(), t),
        T::Bool => Value::Bool(c.u8(what)? != 0),
        T::U64 => Value::UInt(c.u64(what)?, t),
        T::I64 => Value::Int(c.u64(what)? as i64, t),
        T::F64 => Value::Float(f64::from_bits(c.u64(what)?), t),
        T::String if !keep => {
            skip_string(c, what)?;
            return Ok(None);
        }
        T::String => Value::Str(read_string(c, what)?),
        T::Array => {
            let a = read_array(c, depth + 1, what)?;
            if !keep {
                return Ok(None);
            }
            Value::Array(a)
        }
    };
    Ok(keep.then_some(v))
}

fn read_array(c: &mut Cursor, depth: usize, what: &str) -> Result<Array> {
    if depth > MAX_ARRAY_DEPTH {
        return Err(c.err(format!(
            "{what}: arrays nested more than {MAX_ARRAY_DEPTH} deep (the limit)"
        )));
    }
    let elem = read_type(c, what)?;
    let len = c.u64(what)?;
    if len > MAX_ARRAY_LEN {
        return Err(Error::Limit {
            path: c.path.into(),
            what: "GGUF array length",
            value: len,
            limit: MAX_ARRAY_LEN,
            hint: ": the length field is damaged (real vocabularies hold well under a million entries); \
                   re-download the file (a fixed limit)",
        });
    }
    // fail before walking when even the smallest items cannot fit
    if len.saturating_mul(elem.min_size()) > c.remaining() {
        return Err(c.truncated(what, len.saturating_mul(elem.min_size())));
    }
    let offset = c.pos;
    let kept = len.min(ARRAY_PREVIEW as u64);
    let mut head = Vec::with_capacity(kept as usize);
    for _ in 0..kept {
        if let Some(v) = read_value(c, elem, depth, true, what)? {
            head.push(v);
        }
    }
    // the rest is skipped without a step per item where items have a fixed size (a 10-million
    // item array costs one bounds check), and walked without keeping anything where they do not
    let rest = len - kept;
    if let Some(size) = elem.fixed_size() {
        c.take(rest * size, what)?;
    } else {
        for _ in 0..rest {
            read_value(c, elem, depth, false, what)?;
        }
    }
    Ok(Array {
        elem,
        len,
        head,
        offset,
        depth,
    })
}

/// Read a `(type, value)` pair, the value of key `key`.
pub(crate) fn read_typed(c: &mut Cursor, key: &str) -> Result<Value> {
    let what = format!("the value of {}", crate::text::escape(key));
    let t = read_type(c, &what)?;
    Ok(read_value(c, t, 0, true, &what)?.unwrap_or(Value::Bool(false)))
}

/// The first `limit` items of `a`, read again from `data` (the whole file): for showing an array on
/// request. Memory grows with `limit`, never with the array's length.
pub fn array_items(path: &std::path::Path, data: &[u8], a: &Array, limit: usize) -> Result<Vec<Value>> {
    let mut c = Cursor::new(path, data);
    c.pos = a.offset;
    let n = usize::try_from(a.len).unwrap_or(usize::MAX).min(limit);
    let mut out = Vec::with_capacity(n.min(ARRAY_PREVIEW * 1024));
    for _ in 0..n {
        if let Some(v) = read_value(&mut c, a.elem, a.depth, true, "an array item")? {
            out.push(v);
        }
    }
    Ok(out)
}

/// JSON: numbers, booleans, strings; an array as its items (only the head unless read in full).
impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Value::UInt(v, _) => s.serialize_u64(*v),
            Value::Int(v, _) => s.serialize_i64(*v),
            Value::Float(v, _) if v.is_finite() => s.serialize_f64(*v),
            Value::Float(v, _) => s.serialize_str(&v.to_string()),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Str(t) => s.serialize_str(t),
            Value::Array(a) => a.head.serialize(s),
        }
    }
}
