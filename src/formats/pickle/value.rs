//! The values a restricted pickle machine builds.
//!
//! Scalars and strings are held inline (strings borrowed from the pickle bytes when possible, shared
//! through `Rc` otherwise); every container, global, object, storage and tensor lives in a [`Heap`]
//! arena and is referred to by index. Shared references (the memo, tied weights) are copies of an
//! index, never deep copies; cycles are just indices pointing back, so building never recurses and
//! dropping never overflows the stack. Readers walk the result with an explicit stack.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Deref;
use std::rc::Rc;

use super::allowlist::SafeGlobal;
pub use super::literal::{big_int_text, decimal_to_long, float_repr, long_to_i64};
use crate::model::DType;

/// Most heap nodes (containers, objects, globals, tensors) one pickle may create.
pub const MAX_NODES: usize = 1 << 22;
/// Most items (list, tuple, set elements and dict pairs, all containers together) one pickle may hold.
pub const MAX_ITEMS: usize = 1 << 23;

/// Longest string [`Heap::repr`] renders in full; longer ones are cut there (a name or metadata value
/// that long is not for reading, and copying it for every reference would exhaust memory).
pub const MAX_REPR: usize = 1024;

/// Index of a node in a [`Heap`].
pub type Id = u32;

/// Text borrowed from the pickle or shared; equal when the text is.
#[derive(Debug, Clone)]
pub enum Text<'a> {
    /// Borrowed from the pickle bytes.
    Borrowed(&'a str),
    /// Built while decoding (protocol 0 escapes, …).
    Shared(Rc<str>),
}

impl Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Text::Borrowed(s) => s,
            Text::Shared(s) => s,
        }
    }
}

/// Bytes borrowed from the pickle or shared; equal when the bytes are.
#[derive(Debug, Clone)]
pub enum Blob<'a> {
    /// Borrowed from the pickle bytes: their position in the file is known.
    Borrowed(&'a [u8]),
    /// Built while decoding (`_codecs.encode`, protocol 0 escapes, …).
    Shared(Rc<[u8]>),
}

impl Deref for Blob<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Blob::Borrowed(s) => s,
            Blob::Shared(s) => s,
        }
    }
}

impl PartialEq for Text<'_> {
    fn eq(&self, o: &Self) -> bool {
        **self == **o
    }
}

impl Eq for Text<'_> {}

impl std::hash::Hash for Text<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (**self).hash(h)
    }
}

impl PartialEq for Blob<'_> {
    fn eq(&self, o: &Self) -> bool {
        **self == **o
    }
}

impl Eq for Blob<'_> {}

/// A value on the machine's stack, in the memo or inside a container.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int that fits in 64 bits.
    Int(i64),
    /// A larger int: little-endian two's complement bytes.
    BigInt(Blob<'a>),
    /// A float.
    Float(f64),
    /// A str.
    Str(Text<'a>),
    /// bytes or bytearray.
    Bytes(Blob<'a>),
    /// A heap node.
    Node(Id),
}

impl<'a> Value<'a> {
    /// The int, if this is one that fits in 64 bits (bools count, as in Python).
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::Bool(b) => Some(i64::from(b)),
            _ => None,
        }
    }

    /// The text, if this is a str.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(t) => Some(t),
            _ => None,
        }
    }
}

/// A dict: pairs in insertion order; a later SETITEM with an equal str or int key replaces the value
/// in place, as Python does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dict<'a> {
    /// The pairs, in order.
    pub items: Vec<(Value<'a>, Value<'a>)>,
    /// Where each str and int key is, made at the first insert (an empty dict, as every tensor's
    /// backward hooks are, stays two words).
    index: Option<Box<DictIndex<'a>>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct DictIndex<'a> {
    by_str: HashMap<Text<'a>, usize>,
    by_int: HashMap<i64, usize>,
}

impl<'a> Dict<'a> {
    /// Insert or replace; returns whether a new pair was added.
    pub fn insert(&mut self, k: Value<'a>, v: Value<'a>) -> bool {
        let ix = self.index.get_or_insert_with(Box::default);
        let slot = match &k {
            Value::Str(t) => ix.by_str.get(t).copied(),
            Value::Int(i) => ix.by_int.get(i).copied(),
            Value::Bool(b) => ix.by_int.get(&i64::from(*b)).copied(),
            _ => None,
        };
        if let Some(i) = slot {
            self.items[i].1 = v;
            return false;
        }
        let i = self.items.len();
        match &k {
            Value::Str(t) => {
                ix.by_str.insert(t.clone(), i);
            }
            Value::Int(n) => {
                ix.by_int.insert(*n, i);
            }
            Value::Bool(b) => {
                ix.by_int.insert(i64::from(*b), i);
            }
            _ => {}
        }
        self.items.push((k, v));
        true
    }

    /// The value under the str key `key`.
    pub fn get_str(&self, key: &str) -> Option<&Value<'a>> {
        self.items.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
    }
}

/// A global named by GLOBAL, STACK_GLOBAL or INST: a symbol, never imported.
#[derive(Debug, Clone, PartialEq)]
pub struct Global<'a> {
    /// Module, e.g. `torch._utils`.
    pub module: Text<'a>,
    /// Attribute, e.g. `_rebuild_tensor_v2`.
    pub name: Text<'a>,
    /// The allowlist entry, `None` for anything not on it.
    pub safe: Option<SafeGlobal>,
}

impl Global<'_> {
    /// `module.name`.
    pub fn qualified(&self) -> String {
        format!("{}.{}", &*self.module, &*self.name)
    }
}

/// An object the machine did not rebuild: what would have been called, with what, and the state
/// BUILD would have set. Items appended or set on it are kept too.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object<'a> {
    /// The callable or class (usually a global node).
    pub callable: Option<Value<'a>>,
    /// The arguments (usually a tuple node).
    pub args: Option<Value<'a>>,
    /// BUILD state.
    pub state: Option<Value<'a>>,
    /// APPEND/APPENDS items.
    pub items: Vec<Value<'a>>,
    /// SETITEM/SETITEMS pairs.
    pub pairs: Vec<(Value<'a>, Value<'a>)>,
}

/// A storage named by a persistent id `('storage', type, key, location, numel[, view])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage {
    /// The key: the record name in a zip archive, the storage key in a legacy file.
    pub key: String,
    /// Element type.
    pub dtype: DType,
    /// Device label (`cpu`, `cuda:0`): a label only.
    pub location: String,
    /// Number of elements.
    pub numel: u64,
    /// Legacy storage views: `(offset, numel)` in elements of the part of storage `key` meant.
    pub view: Option<(u64, u64)>,
}

/// Where a tensor's elements are.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData<'a> {
    /// A storage node.
    Storage(Id),
    /// Bytes inside the pickle itself (numpy arrays).
    Inline(Blob<'a>),
}

/// A tensor: a strided view of a storage.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor<'a> {
    /// The elements.
    pub data: TensorData<'a>,
    /// Element type.
    pub dtype: DType,
    /// Offset of the first element, in elements.
    pub offset: u64,
    /// Shape.
    pub shape: Vec<u64>,
    /// Strides in elements.
    pub strides: Vec<u64>,
}

/// A numpy dtype under construction (`numpy.dtype("f4")` then BUILD with the byte order).
#[derive(Debug, Clone, PartialEq)]
pub struct NpDtype {
    /// The type code, e.g. `f4`.
    pub code: String,
    /// `<`, `>`, `|` or `=`.
    pub order: char,
}

/// A heap node.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    /// A tuple.
    Tuple(Vec<Value<'a>>),
    /// A list.
    List(Vec<Value<'a>>),
    /// A dict or OrderedDict.
    Dict(Dict<'a>),
    /// A set or frozenset.
    Set(Vec<Value<'a>>),
    /// A global symbol (boxed, as the other large variants: a node is the size of a tuple or an
    /// empty dict, so the heap of a 20,000-tensor pickle is a few MB, not 30).
    Global(Box<Global<'a>>),
    /// Something not rebuilt.
    Object(Box<Object<'a>>),
    /// A storage.
    Storage(Box<Storage>),
    /// A tensor.
    Tensor(Box<Tensor<'a>>),
    /// A numpy dtype.
    NpDtype(NpDtype),
    /// An empty numpy array from `_reconstruct`, waiting for its BUILD state.
    NpPending,
}

/// The arena all nodes live in, with the limits on nodes and items.
#[derive(Debug, Default)]
pub struct Heap<'a> {
    nodes: Vec<Node<'a>>,
    items: usize,
}

/// A heap limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapFull {
    /// What was counted.
    pub what: &'static str,
    /// The limit.
    pub limit: u64,
}

impl<'a> Heap<'a> {
    /// Room for `n` more nodes without growing (a hint; limits are checked by [`Heap::alloc`]).
    pub fn reserve(&mut self, n: usize) {
        self.nodes.reserve(n);
    }

    /// Add a node, counting its items.
    pub fn alloc(&mut self, node: Node<'a>) -> Result<Value<'a>, HeapFull> {
        if self.nodes.len() >= MAX_NODES {
            return Err(HeapFull {
                what: "pickle objects",
                limit: MAX_NODES as u64,
            });
        }
        self.add_items(node_len(&node))?;
        self.nodes.push(node);
        Ok(Value::Node((self.nodes.len() - 1) as Id))
    }

    /// Count `n` more items toward [`MAX_ITEMS`].
    pub fn add_items(&mut self, n: usize) -> Result<(), HeapFull> {
        self.items = self.items.saturating_add(n);
        if self.items > MAX_ITEMS {
            return Err(HeapFull {
                what: "pickle container items",
                limit: MAX_ITEMS as u64,
            });
        }
        Ok(())
    }

    /// The node `id`.
    pub fn get(&self, id: Id) -> Option<&Node<'a>> {
        self.nodes.get(id as usize)
    }

    /// The node `id`, mutably.
    pub fn get_mut(&mut self, id: Id) -> Option<&mut Node<'a>> {
        self.nodes.get_mut(id as usize)
    }

    /// The node a value refers to.
    pub fn node(&self, v: &Value<'a>) -> Option<&Node<'a>> {
        match v {
            Value::Node(id) => self.get(*id),
            _ => None,
        }
    }

    /// The items of a tuple or list value.
    pub fn seq(&self, v: &Value<'a>) -> Option<&[Value<'a>]> {
        match self.node(v)? {
            Node::Tuple(t) | Node::List(t) => Some(t),
            _ => None,
        }
    }

    /// The global a value refers to.
    pub fn global(&self, v: &Value<'a>) -> Option<&Global<'a>> {
        match self.node(v)? {
            Node::Global(g) => Some(g),
            _ => None,
        }
    }

    /// A tuple of non-negative ints (a shape or strides), `None` otherwise.
    pub fn dims(&self, v: &Value<'a>) -> Option<Vec<u64>> {
        self.seq(v)?
            .iter()
            .map(|d| d.as_int().and_then(|i| u64::try_from(i).ok()))
            .collect()
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no node was made.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A short Python-like rendering of a scalar, string or small container of scalars; `None` for
    /// anything else (tensors, objects, big containers). Strings are cut at [`MAX_REPR`] bytes.
    pub fn repr(&self, v: &Value<'a>) -> Option<String> {
        Some(match v {
            Value::None => "None".into(),
            Value::Bool(b) => if *b { "True" } else { "False" }.into(),
            Value::Int(i) => i.to_string(),
            Value::BigInt(b) => big_int_text(b),
            Value::Float(f) => float_repr(*f),
            Value::Str(s) if s.len() > MAX_REPR => {
                let mut end = MAX_REPR;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                format!("{}… ({} bytes)", &s[..end], s.len())
            }
            Value::Str(s) => s.to_string(),
            Value::Bytes(b) if b.len() <= 64 => bytes_repr(b),
            Value::Bytes(b) => format!("<{} bytes>", b.len()),
            Value::Node(_) => {
                let (open, close, items) = match self.node(v)? {
                    Node::Tuple(t) => ("(", if t.len() == 1 { ",)" } else { ")" }, t),
                    Node::List(l) => ("[", "]", l),
                    Node::Global(g) => return Some(g.qualified()),
                    _ => return None,
                };
                if items.iter().any(|i| matches!(i, Value::Node(_))) {
                    return None;
                }
                let shown: Vec<String> = items.iter().take(16).filter_map(|i| self.repr(i)).collect();
                let more = if items.len() > 16 {
                    format!(", … ({} items)", items.len())
                } else {
                    String::new()
                };
                format!("{open}{}{more}{close}", shown.join(", "))
            }
        })
    }
}

fn node_len(n: &Node<'_>) -> usize {
    match n {
        Node::Tuple(v) | Node::List(v) | Node::Set(v) => v.len(),
        Node::Dict(d) => d.items.len(),
        _ => 0,
    }
}

/// Borrow-or-share helper for text decoded from a line.
pub fn text_from(c: Cow<'_, str>) -> Text<'_> {
    match c {
        Cow::Borrowed(s) => Text::Borrowed(s),
        Cow::Owned(s) => Text::Shared(Rc::from(s)),
    }
}

/// A bytes key as Python writes it, every byte kept: printable ASCII as is, the rest `\xNN`
/// (`b"bytes\xffkey"`; a lossy decoding printed U+FFFD, and two keys could print the same).
fn bytes_repr(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 3);
    out.push_str("b\"");
    for &c in b {
        match c {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(char::from(c)),
            _ => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_keys_keep_every_byte() {
        // review 38: a lossy decoding printed b"bytes\u{fffd}key" for b"bytes\xffkey"
        assert_eq!(bytes_repr(b"bytes\xffkey"), r#"b"bytes\xffkey""#);
        assert_eq!(bytes_repr(b"a\"b\\c\n\x00"), r#"b"a\"b\\c\n\x00""#);
        assert_ne!(bytes_repr(b"\xfe"), bytes_repr(b"\xff"));
    }

    #[test]
    fn dict_replaces_equal_keys_in_place() {
        let mut d = Dict::default();
        assert!(d.insert(Value::Str(Text::Borrowed("a")), Value::Int(1)));
        assert!(d.insert(Value::Int(1), Value::Int(2)));
        assert!(!d.insert(Value::Str(Text::Shared(Rc::from("a"))), Value::Int(3)));
        assert!(!d.insert(Value::Bool(true), Value::Int(4)));
        assert_eq!(d.items.len(), 2);
        assert_eq!(d.get_str("a"), Some(&Value::Int(3)));
        assert_eq!(d.items[1].1, Value::Int(4));
    }

    #[test]
    fn heap_limits_and_repr() {
        let mut h = Heap::default();
        let t = h
            .alloc(Node::Tuple(vec![Value::Float(0.9), Value::Float(0.999)]))
            .unwrap();
        assert_eq!(h.repr(&t).unwrap(), "(0.9, 0.999)");
        let one = h.alloc(Node::Tuple(vec![Value::Int(1)])).unwrap();
        assert_eq!(h.repr(&one).unwrap(), "(1,)");
        let l = h.alloc(Node::List((0..20).map(Value::Int).collect())).unwrap();
        assert!(h.repr(&l).unwrap().ends_with("… (20 items)]"));
        assert_eq!(h.dims(&t), None);
        let dims = h.alloc(Node::Tuple(vec![Value::Int(2), Value::Int(3)])).unwrap();
        assert_eq!(h.dims(&dims), Some(vec![2, 3]));
        assert!(h.add_items(MAX_ITEMS).is_err());
    }
}
