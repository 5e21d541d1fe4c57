//! One opcode semantics for both pickle interpreters: the restricted reader ([`super::machine`]) and
//! the safety scanner's walk (`crate::scan::walk`).
//!
//! [`Interp::step`] decides, for every opcode of protocols 0 to 5, what it pops, what it pushes,
//! where MARKs fall, what the memo holds and which limits hold ([`MAX_STACK`], [`MAX_MEMO`]), and
//! it decodes every literal argument once ([`Literal`]). What a value *is* (a heap node of the
//! reader, or the scanner's simulated value) is left to a [`Semantics`]: it builds the values of
//! literals and containers, and says what GLOBAL, a call, BUILD or a persistent id produce. A fix
//! to the stack or memo effects of an opcode is therefore a fix to both interpreters.
//!
//! The two differ only where their [`Semantics`] say so, by rule: the reader refuses what it cannot
//! rebuild as data (extension codes, out-of-band buffers, protocols past 5, a broken text literal),
//! the scanner walks past it and records it; and the scanner keeps only what names need (long texts
//! and long containers are cut, see `crate::scan::walk`).
//!
//! ```
//! use tensorscope::formats::pickle::interp::{MAX_MEMO, MAX_STACK, Stack};
//! let mut s: Stack<u8> = Stack::default();
//! s.push(1).unwrap();
//! s.mark().unwrap();
//! s.push(2).unwrap();
//! assert_eq!(s.pop_mark().unwrap(), [2]);
//! assert!(MAX_STACK < MAX_MEMO);
//! ```

use std::borrow::Cow;

use super::literal::{raw_unicode_escape, unquote};
use super::memo::Memo;
use super::ops::{Arg, Opcode};

/// Deepest stack a pickle may build, values and MARKs together. CPython has no such bound; past it
/// the reader refuses the pickle and the scanner calls it unscannable (never safe).
pub const MAX_STACK: usize = 1 << 20;
/// Most memo entries a pickle may store (as for [`MAX_STACK`]).
pub const MAX_MEMO: usize = 1 << 22;

/// What went wrong in the stack or memo effects of an opcode, the same for both interpreters;
/// each [`Semantics`] words it ([`Semantics::fault`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// A pop from an empty stack (or from below the last MARK).
    Underflow,
    /// The opcode reads the top of an empty stack (or of the part above the last MARK).
    Empty,
    /// The opcode needs a MARK and there is none.
    NoMark,
    /// More than [`MAX_STACK`] values and MARKs.
    StackFull,
    /// More than [`MAX_MEMO`] memo entries.
    MemoFull,
    /// A GET of an index never stored.
    MemoMissing(u64),
    /// A STRING or UNICODE argument that does not decode (only when [`Semantics::LENIENT_TEXT`] is false).
    BadText,
    /// OBJ with nothing above its MARK.
    NoClass,
    /// The decoder gave an argument of the wrong kind (it never does; kept so nothing panics).
    BadArg,
}

/// The stack of a pickle machine: values, and the MARKs that split them (each the length of the
/// stack when it was set). Pops never reach below the last MARK.
#[derive(Debug)]
pub struct Stack<V> {
    items: Vec<V>,
    marks: Vec<usize>,
}

impl<V> Default for Stack<V> {
    fn default() -> Self {
        Stack {
            items: Vec::new(),
            marks: Vec::new(),
        }
    }
}

impl<V> Stack<V> {
    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn room(&self) -> Result<(), Fault> {
        if self.items.len() + self.marks.len() >= MAX_STACK {
            return Err(Fault::StackFull);
        }
        Ok(())
    }

    /// Push a value.
    pub fn push(&mut self, v: V) -> Result<(), Fault> {
        self.room()?;
        self.items.push(v);
        Ok(())
    }

    /// Set a MARK (MARK).
    pub fn mark(&mut self) -> Result<(), Fault> {
        self.room()?;
        self.marks.push(self.items.len());
        Ok(())
    }

    /// Pop the top value.
    pub fn pop(&mut self) -> Result<V, Fault> {
        if self.items.len() <= self.floor() {
            return Err(Fault::Underflow);
        }
        self.items.pop().ok_or(Fault::Underflow)
    }

    /// Pop the top `n` values, in stack order.
    pub fn pop_n(&mut self, n: usize) -> Result<Vec<V>, Fault> {
        let above = self.items.len() - self.floor();
        if above < n {
            return Err(Fault::Underflow);
        }
        Ok(self.items.split_off(self.items.len() - n))
    }

    /// The top value.
    pub fn top(&mut self) -> Result<&mut V, Fault> {
        if self.items.len() <= self.floor() {
            return Err(Fault::Empty);
        }
        self.items.last_mut().ok_or(Fault::Empty)
    }

    /// Pop everything above the last MARK, and the MARK.
    pub fn pop_mark(&mut self) -> Result<Vec<V>, Fault> {
        let m = self.marks.pop().ok_or(Fault::NoMark)?;
        Ok(self.items.split_off(m))
    }

    /// POP: the top value, or the MARK when nothing is above it (as CPython does).
    pub fn pop_or_mark(&mut self) -> Result<(), Fault> {
        if self.items.len() > self.floor() {
            self.items.pop();
        } else {
            self.pop_mark()?;
        }
        Ok(())
    }

    /// Values on the stack (MARKs not counted).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no value is on the stack.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A literal an opcode pushes, decoded once for both interpreters.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal<'a> {
    /// NONE.
    None,
    /// NEWTRUE, NEWFALSE, and INT's `00` / `01`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// LONG1/LONG4: little-endian two's complement bytes.
    Long(&'a [u8]),
    /// INT or LONG text too large for 64 bits, as written.
    BigInt(&'a str),
    /// FLOAT, BINFLOAT.
    Float(f64),
    /// A `str`: BINUNICODE, SHORT_BINUNICODE, BINUNICODE8, UNICODE (decoded).
    Str(Cow<'a, str>),
    /// A Python 2 `str` (BINSTRING, SHORT_BINSTRING, STRING unquoted): bytes `torch.load` decodes
    /// as text.
    Py2Str(Cow<'a, [u8]>),
    /// BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8.
    Bytes(&'a [u8]),
}

/// Containers a pickle builds from the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// EMPTY_TUPLE, TUPLE1/2/3, TUPLE, and the arguments of INST and OBJ.
    Tuple,
    /// EMPTY_LIST, LIST.
    List,
    /// EMPTY_DICT, DICT (items as key, value, key, value, …).
    Dict,
    /// EMPTY_SET.
    Set,
    /// FROZENSET.
    FrozenSet,
}

/// What is added into the container on top of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Add {
    /// APPEND, APPENDS.
    Append,
    /// SETITEM, SETITEMS (key, value, key, value, …).
    SetItems,
    /// ADDITEMS (into a set).
    AddItems,
}

/// How a global was named in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// GLOBAL.
    Global,
    /// INST: named, then called with the values above the MARK.
    Inst,
}

/// How a callable is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// REDUCE: `callable(*args)`.
    Reduce,
    /// NEWOBJ and NEWOBJ_EX: `cls.__new__(cls, *args)` (NEWOBJ_EX's kwargs are dropped).
    NewObj,
    /// INST and OBJ: `cls(*args)`.
    Instantiate,
}

/// A persistent id: PERSID's text line, or the value BINPERSID pops.
#[derive(Debug)]
pub enum Pid<'a, V> {
    /// PERSID.
    Line(&'a [u8]),
    /// BINPERSID.
    Value(V),
}

/// What an interpreter's values are, and what the opcodes that touch objects do with them.
/// [`Interp`] does all the rest.
pub trait Semantics<'a> {
    /// A value on the stack, in the memo and in containers.
    type V: Clone;
    /// Why an opcode failed.
    type E;
    /// Whether a STRING or UNICODE argument that does not decode is read as well as can be
    /// (latin-1; a trailing `\r` dropped) rather than refused.
    const LENIENT_TEXT: bool;

    /// Word a fault of `op`.
    fn fault(&self, op: Opcode, f: Fault) -> Self::E;
    /// PROTO.
    fn proto(&mut self, arg: Arg<'a>) -> Result<(), Self::E>;
    /// The value of a literal.
    fn literal(&mut self, lit: Literal<'a>) -> Result<Self::V, Self::E>;
    /// A new container holding `items`.
    fn container(&mut self, kind: Container, items: Vec<Self::V>) -> Result<Self::V, Self::E>;
    /// Add `items` into `target` (the top of the stack, which stays there).
    fn add(&mut self, target: &mut Self::V, how: Add, items: Vec<Self::V>) -> Result<(), Self::E>;
    /// Before a PUT stores at `index` (`stored` entries so far).
    fn put(&mut self, op: Opcode, index: u64, stored: usize) -> Result<(), Self::E>;
    /// GLOBAL or INST `module name`.
    fn global(&mut self, module: &'a str, name: &'a str, how: Named) -> Result<Self::V, Self::E>;
    /// STACK_GLOBAL of the two values it popped.
    fn stack_global(&mut self, module: Self::V, name: Self::V) -> Result<Self::V, Self::E>;
    /// Call `callable` with the tuple `args`.
    fn call(&mut self, callable: Self::V, args: Self::V, how: Call) -> Result<Self::V, Self::E>;
    /// BUILD `state` into `target` (the top of the stack, which stays there).
    fn build(&mut self, target: &mut Self::V, state: Self::V) -> Result<(), Self::E>;
    /// What a persistent id loads.
    fn persistent(&mut self, pid: Pid<'a, Self::V>) -> Result<Self::V, Self::E>;
    /// EXT1, EXT2, EXT4: the global registered under `code`.
    fn extension(&mut self, op: Opcode, code: i64) -> Result<Self::V, Self::E>;
    /// NEXT_BUFFER (pushes what it returns) and READONLY_BUFFER (keeps the top, returns `None`).
    fn buffer(&mut self, op: Opcode) -> Result<Option<Self::V>, Self::E>;
}

/// A pickle machine: the stack and memo effects of every opcode, over the values of `S`.
pub struct Interp<'a, S: Semantics<'a>> {
    /// The stack.
    pub stack: Stack<S::V>,
    pub(crate) memo: Memo<S::V>,
    /// The interpreter's own state.
    pub sem: S,
}

/// What one step did.
pub enum Flow<V> {
    /// Go on with the next opcode.
    Next,
    /// STOP: the value the pickle returns.
    Stop(V),
}

impl<'a, S: Semantics<'a>> Interp<'a, S> {
    /// A machine with an empty stack and memo.
    pub fn new(sem: S) -> Self {
        Interp {
            stack: Stack::default(),
            memo: Memo::default(),
            sem,
        }
    }

    /// Room for `n` memo entries without growing (a hint).
    pub fn reserve_memo(&mut self, n: usize) {
        self.memo.reserve(n);
    }

    /// Run one opcode.
    pub fn step(&mut self, op: Opcode, arg: Arg<'a>) -> Result<Flow<S::V>, S::E> {
        use Opcode as O;
        match op {
            O::Stop => {
                let root = self.stack.pop().map_err(|e| self.sem.fault(op, e))?;
                return Ok(Flow::Stop(root));
            }
            O::Mark | O::Pop | O::PopMark | O::Dup => self.stack_op(op),
            O::Proto => self.sem.proto(arg),
            O::Frame => Ok(()),
            O::None
            | O::NewTrue
            | O::NewFalse
            | O::Int
            | O::Long
            | O::BinInt
            | O::BinInt1
            | O::BinInt2
            | O::Long1
            | O::Long4
            | O::Float
            | O::BinFloat
            | O::BinUnicode
            | O::ShortBinUnicode
            | O::BinUnicode8
            | O::Unicode
            | O::BinString
            | O::ShortBinString
            | O::String
            | O::BinBytes
            | O::ShortBinBytes
            | O::BinBytes8
            | O::ByteArray8 => self.literal(op, arg),
            O::EmptyTuple
            | O::Tuple1
            | O::Tuple2
            | O::Tuple3
            | O::Tuple
            | O::EmptyList
            | O::List
            | O::EmptyDict
            | O::Dict
            | O::EmptySet
            | O::FrozenSet
            | O::Append
            | O::Appends
            | O::SetItem
            | O::SetItems
            | O::AddItems => self.container(op),
            O::Get | O::BinGet | O::LongBinGet | O::Put | O::BinPut | O::LongBinPut | O::Memoize => {
                self.memo_op(op, arg)
            }
            O::Global
            | O::Inst
            | O::StackGlobal
            | O::Reduce
            | O::NewObj
            | O::NewObjEx
            | O::Obj
            | O::Build
            | O::PersId
            | O::BinPersId
            | O::Ext1
            | O::Ext2
            | O::Ext4
            | O::NextBuffer
            | O::ReadonlyBuffer => self.object_op(op, arg),
        }?;
        Ok(Flow::Next)
    }

    /// Push `v`.
    fn push(&mut self, op: Opcode, v: S::V) -> Result<(), S::E> {
        self.stack.push(v).map_err(|e| self.sem.fault(op, e))
    }

    /// Pop the top value.
    fn pop(&mut self, op: Opcode) -> Result<S::V, S::E> {
        self.stack.pop().map_err(|e| self.sem.fault(op, e))
    }

    /// Pop everything above the last MARK, and the MARK.
    fn pop_mark(&mut self, op: Opcode) -> Result<Vec<S::V>, S::E> {
        self.stack.pop_mark().map_err(|e| self.sem.fault(op, e))
    }
}

#[path = "interp_families.rs"]
mod families;

#[cfg(test)]
#[path = "interp_tests.rs"]
mod tests;
