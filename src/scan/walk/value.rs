//! The simulated values of the scan (what name resolution and container walking need) and the
//! helpers on them: names from values, shallow containers, cut names.

use std::cell::RefCell;
use std::rc::Rc;

/// Longest module or name recorded in a finding (longer ones are cut, which can only lower a
/// dangerous finding to suspicious, never to safe).
pub const MAX_NAME: usize = 512;
/// A simulated value: only what name resolution and container walking need.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// A `str` (or a protocol-0..2 string, which `torch.load` decodes to `str`), at most [`MAX_TEXT`](super::MAX_TEXT).
    Str(Rc<str>),
    /// A `bytes` value (STACK_GLOBAL refuses it, but it is kept for nested-pickle probing).
    Bytes(&'a [u8]),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// A LONG1/LONG4 integer as little-endian two's complement bytes.
    Long(&'a [u8]),
    /// A global (class or function), by name.
    Global(Rc<(String, String)>),
    /// A tuple; a container inside a container is kept as `Other` (names never need it, and it
    /// keeps values shallow: no deep drops, no cycles).
    Tuple(Rc<Vec<Value<'a>>>),
    /// A list, shared with the memo as in Python (APPEND through either is seen by both).
    List(Rc<RefCell<Vec<Value<'a>>>>),
    /// Data that is known not to be a string (None, bools, floats, dicts, sets).
    Other,
    /// `numpy.dtype(code, …)`: the first letter of its type code (`O` for objects, `V` for
    /// structured), kept to check the flags its BUILD state sets, and its item size in bytes
    /// (0 when the code does not say).
    Dtype(char, u64),
    /// A dict: whether a value put in it holds an object dtype (the `fields` of a structured
    /// dtype's state) and its first string-keyed items, shared with the memo as in Python.
    Dict(Rc<RefCell<DictInfo<'a>>>),
    /// joblib's `NumpyArrayWrapper`: its BUILD is followed by the array's data in the stream.
    JoblibWrapper,
    /// The ndarray numpy's `_reconstruct` makes, filled by its BUILD state.
    NdArray,
    /// The result of a call or a persistent load: could be anything at load time.
    Unknown,
}

/// What the scan keeps of a dict.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DictInfo<'a> {
    /// Whether a value holds an object dtype.
    pub objects: bool,
    /// The first [`MAX_DICT_ITEMS`] items with string keys (values shallow, dicts as `Other`).
    pub items: Vec<(Rc<str>, Value<'a>)>,
}

/// String-keyed items kept per simulated dict (a joblib wrapper's state has six).
pub const MAX_DICT_ITEMS: usize = 16;

impl<'a> DictInfo<'a> {
    pub(super) fn set(&mut self, key: &Value<'a>, v: &Value<'a>) {
        self.objects |= holds_objects(v);
        let Value::Str(k) = key else { return };
        let v = match shallow(v.clone()) {
            Value::Dict(_) => Value::Other,
            v => v,
        };
        if let Some(slot) = self.items.iter_mut().find(|(name, _)| name == k) {
            slot.1 = v;
        } else if self.items.len() < MAX_DICT_ITEMS {
            self.items.push((k.clone(), v));
        }
    }

    /// The value of a string key, when kept.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.items.iter().find(|(k, _)| k.as_ref() == key).map(|(_, v)| v)
    }
}

/// Whether a value holds Python objects as numpy sees them: an object dtype, or a tuple or dict
/// holding one (a structured dtype's `(dtype, offset)` fields).
pub(super) fn holds_objects(v: &Value<'_>) -> bool {
    match v {
        Value::Dtype('O', _) => true,
        Value::Tuple(t) => t.iter().any(holds_objects),
        // a dict put into itself is being changed right now: it adds nothing it does not hold
        Value::Dict(d) => d.try_borrow().is_ok_and(|d| d.objects),
        _ => false,
    }
}

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
