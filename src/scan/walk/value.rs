//! The simulated values of the scan (what name resolution and container walking need) and the
//! helpers on them: names from values, shallow containers, cut names.

use std::cell::{Cell, RefCell};
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
    /// Python's `None` (joblib reads a padding byte for any alignment value but `None`).
    PyNone,
    /// Data that is known not to be a string (bools, floats, dicts, sets).
    Other,
    /// `numpy.dtype(code, …)`, shared with the memo as in Python: a BUILD changes the one object
    /// every reference sees.
    Dtype(Rc<DtypeInfo>),
    /// A dict: what its values hold as fields of a structured dtype (the `fields` of a dtype's
    /// state) and its first string-keyed items, shared with the memo as in Python.
    Dict(Rc<RefCell<DictInfo<'a>>>),
    /// joblib's `NumpyArrayWrapper`: its BUILD is followed by the array's data in the stream. The
    /// count of BUILDs is shared by every copy (DUP, the memo), as the one Python object is.
    JoblibWrapper(Rc<std::cell::Cell<u32>>),
    /// The ndarray numpy's `_reconstruct` makes, filled by its BUILD state.
    NdArray,
    /// The result of a call or a persistent load: could be anything at load time.
    Unknown,
}

/// What the scan keeps of a `numpy.dtype`.
#[derive(Debug, Clone, PartialEq)]
pub struct DtypeInfo {
    /// The first letter of its type code (`O` for objects, `V` for structured and subarray).
    pub code: char,
    /// Its item size in bytes from the code (0 when the code does not say); a BUILD state's size
    /// replaces it in [`Layout::Built`].
    pub size: u64,
    /// What its BUILD state made of it.
    pub layout: Cell<Layout>,
    /// Whether an enclosing dtype's fields (or subarray) have already been judged with it: a BUILD
    /// after that changes a dtype its parent's flags were computed without.
    pub used: Cell<bool>,
}

impl DtypeInfo {
    /// A dtype as `numpy.dtype(code)` makes it, before any BUILD.
    pub fn new(code: char, size: u64) -> Self {
        DtypeInfo {
            code,
            size,
            layout: Cell::new(Layout::Unbuilt),
            used: Cell::new(false),
        }
    }
}

/// What a dtype's BUILD state made of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// No BUILD yet: the type code says it all.
    Unbuilt,
    /// Fields and subarray checked, all the way down.
    Built(Fields),
    /// Its fields could not be followed (a finding says why).
    Unchecked,
}

/// What the fields of a structured dtype (or the base of a subarray) hold, all levels down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    /// Some field, at any depth, holds Python objects.
    pub objects: bool,
    /// Some field could not be followed (a dtype the scan cannot see, a level too deep).
    pub unchecked: bool,
    /// Levels of structured dtypes below (0: no structured field).
    pub depth: u32,
    /// The end of the furthest field (offset plus size), `None` when it does not fit in 64 bits.
    pub end: Option<u64>,
    /// Item size of the dtype itself (for a dtype that has been built).
    pub size: u64,
}

impl Default for Fields {
    fn default() -> Self {
        Fields {
            objects: false,
            unchecked: false,
            depth: 0,
            end: Some(0),
            size: 0,
        }
    }
}

impl Fields {
    fn join(self, o: Fields) -> Fields {
        Fields {
            objects: self.objects | o.objects,
            unchecked: self.unchecked | o.unchecked,
            depth: self.depth.max(o.depth),
            end: match (self.end, o.end) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            },
            size: self.size.max(o.size),
        }
    }
}

/// What the scan keeps of a dict.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DictInfo<'a> {
    /// What its values hold as the fields of a structured dtype (an object dtype, at any depth).
    pub fields: Fields,
    /// The first [`MAX_DICT_ITEMS`] items with string keys (values shallow, dicts as `Other`).
    pub items: Vec<(Rc<str>, Value<'a>)>,
    /// A string key past those was set: what it holds is not known.
    pub more: bool,
}

/// String-keyed items kept per simulated dict (a joblib wrapper's state has six).
pub const MAX_DICT_ITEMS: usize = 16;

impl<'a> DictInfo<'a> {
    pub(super) fn set(&mut self, key: &Value<'a>, v: &Value<'a>) {
        self.fields = self.fields.join(field(v));
        let Value::Str(k) = key else { return };
        let v = match shallow(v.clone()) {
            Value::Dict(_) => Value::Other,
            v => v,
        };
        if let Some(slot) = self.items.iter_mut().find(|(name, _)| name == k) {
            slot.1 = v;
        } else if self.items.len() < MAX_DICT_ITEMS {
            self.items.push((k.clone(), v));
        } else {
            self.more = true;
        }
    }

    /// The value of a string key, when kept.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.items.iter().find(|(k, _)| k.as_ref() == key).map(|(_, v)| v)
    }
}

/// Whether a value holds Python objects as numpy sees them: an object dtype, a structured dtype
/// with an object field at any depth, or a tuple or dict holding one.
pub(super) fn holds_objects(v: &Value<'_>) -> bool {
    summary(v).objects
}

/// What a dtype value holds, all levels down, marking it as judged (see [`DtypeInfo::used`]).
pub(super) fn dtype_summary(d: &DtypeInfo) -> Fields {
    d.used.set(true);
    match d.layout.get() {
        Layout::Built(f) => f,
        Layout::Unchecked => Fields {
            unchecked: true,
            size: d.size,
            end: Some(d.size),
            ..Fields::default()
        },
        Layout::Unbuilt => Fields {
            objects: d.code == 'O',
            size: d.size,
            end: Some(d.size),
            ..Fields::default()
        },
    }
}

/// What a value holds as numpy would see it: dtypes, and tuples and dicts of them.
pub(super) fn summary(v: &Value<'_>) -> Fields {
    match v {
        Value::Dtype(d) => dtype_summary(d),
        Value::Tuple(t) => t.iter().fold(Fields::default(), |acc, i| acc.join(summary(i))),
        // a dict put into itself is being changed right now: it adds nothing it does not hold
        Value::Dict(d) => d.try_borrow().map(|d| d.fields).unwrap_or_default(),
        _ => Fields::default(),
    }
}

/// One value of a structured dtype's `fields` dict: `(dtype, offset)` or `(dtype, offset, title)`.
/// Its end is the offset plus the dtype's size (checked: `None` past 64 bits); anything else a
/// loader could take for a dtype is unchecked.
fn field(v: &Value<'_>) -> Fields {
    let Value::Tuple(t) = v else {
        return match v {
            Value::Unknown => Fields {
                unchecked: true,
                ..Fields::default()
            },
            v => summary(v),
        };
    };
    let (Some(dtype), Some(offset)) = (t.first(), t.get(1)) else {
        return summary(v);
    };
    let mut f = match dtype {
        Value::Dtype(d) => dtype_summary(d),
        Value::Unknown => Fields {
            unchecked: true,
            ..Fields::default()
        },
        other => summary(other),
    };
    f.depth = match dtype {
        Value::Dtype(d) if matches!(d.layout.get(), Layout::Built(_)) => f.depth.saturating_add(1),
        _ => f.depth,
    };
    f.end = match offset {
        Value::Int(o) => u64::try_from(*o).ok().and_then(|o| o.checked_add(f.size)),
        _ => None,
    };
    f.size = 0;
    f
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
        | Value::Dtype(_)
        | Value::Dict(_)
        | Value::NdArray
        | Value::JoblibWrapper(_)
        | Value::PyNone
        | Value::Other => Name::NotText,
    }
}

/// Longest flat tuple kept inside a container (a shape, a `(dtype, offset)` field).
const MAX_FLAT_TUPLE: usize = 32;

/// A value as an element of a container: containers inside containers are not followed, except
/// short tuples of at most two levels that hold no list or dict (a shape, a structured dtype's
/// `(dtype, offset)`, a subarray's `(dtype, shape)`), which nest nothing deeper.
pub(super) fn shallow(v: Value<'_>) -> Value<'_> {
    let flat = |t: &[Value<'_>]| {
        t.len() <= MAX_FLAT_TUPLE
            && t.iter()
                .all(|i| !matches!(i, Value::Tuple(_) | Value::List(_) | Value::Dict(_)))
    };
    match v {
        Value::Tuple(t)
            if t.len() <= MAX_FLAT_TUPLE
                && t.iter().all(|i| match i {
                    Value::Tuple(inner) => flat(inner),
                    Value::List(_) | Value::Dict(_) => false,
                    _ => true,
                }) =>
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
