//! The restricted pickle machine: runs every opcode of protocols 0 to 5 as a data operation.
//!
//! GLOBAL, STACK_GLOBAL, INST, OBJ, REDUCE, NEWOBJ and BUILD never import or call anything: a
//! global is a symbol ([`Global`]); "calling" one builds a value only for the allowlisted
//! constructors ([`super::allowlist::SafeGlobal`]): dicts, sets, bytes, `torch.Size`, tensors and numpy arrays.
//! Anything else becomes an opaque [`Object`] holding what would have been called, with which
//! arguments and which BUILD state, so the rest of the file still reads; each such global is named
//! in a warning. Stack, memo, marks and heap are bounded.
//!
//! ```
//! use tensorscope::formats::pickle::machine;
//! let loaded = machine::load(b"\x80\x02}q\x00X\x01\x00\x00\x00aK\x07s.", 0).unwrap();
//! let dict = loaded.heap.node(&loaded.root).unwrap();
//! assert!(matches!(dict, tensorscope::formats::pickle::value::Node::Dict(d) if d.items.len() == 1));
//! ```

use std::fmt;
use std::rc::Rc;

use super::allowlist::classify_safe;
use super::literal::{MAX_INT_DIGITS, raw_unicode_escape, unquote};
use super::memo::Memo;
use super::ops::{Arg, OpError, Opcode, Ops};
use super::value::*;

/// Deepest stack (values plus marks) a pickle may build.
pub const MAX_STACK: usize = 1 << 20;
/// Most memo entries a pickle may store.
pub const MAX_MEMO: usize = 1 << 22;
/// Most work one pickle may cost: one unit per opcode plus one per item or byte an opcode copies or
/// hashes. Without it a few bytes that fetch a large shared value from the memo again and again
/// (as a dict key, as call arguments, as a string to encode) make the reader work for hours.
pub const MAX_WORK: u64 = 1 << 31;
/// Most heap nodes and memo entries reserved before the pickle runs (past it, they grow as needed).
const RESERVE_HINT: usize = 1 << 18;
/// Longest storage key (torch writes `0`, `1`, …; the key names a record of the archive).
pub const MAX_STORAGE_KEY: usize = 4096;
/// Most dimensions of a pickled tensor (as for safetensors).
pub const MAX_DIMS: usize = crate::model::MAX_DIMS;

/// Why a pickle could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MachineError {
    /// The bytes do not decode as pickle opcodes.
    Op(OpError),
    /// A limit was reached.
    Limit {
        /// What was counted.
        what: &'static str,
        /// The limit.
        limit: u64,
        /// Offset of the opcode.
        offset: usize,
    },
    /// The opcodes do not make sense (pop from an empty stack, missing memo entry, bad tensor, …).
    Bad {
        /// Offset of the opcode.
        offset: usize,
        /// What is wrong.
        msg: String,
    },
}

impl fmt::Display for MachineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MachineError::Op(e) => e.fmt(f),
            MachineError::Limit { what, limit, offset } => {
                write!(f, "pickle at offset {offset}: more {what} than the limit of {limit}")
            }
            MachineError::Bad { offset, msg } => write!(f, "pickle at offset {offset}: {msg}"),
        }
    }
}

impl std::error::Error for MachineError {}

/// A loaded pickle: the root value, the heap it points into, and what was not rebuilt.
#[derive(Debug)]
pub struct Loaded<'a> {
    /// The value STOP returned.
    pub root: Value<'a>,
    /// Every node the pickle built.
    pub heap: Heap<'a>,
    /// Position right after STOP.
    pub end: usize,
    /// One line per global not rebuilt (and other things skipped), in order of first appearance.
    pub warnings: Vec<String>,
    /// Work it cost, counted toward [`MAX_WORK`].
    pub work: u64,
}

type R<T> = Result<T, MachineError>;

pub(super) struct Machine<'a> {
    pub(super) heap: Heap<'a>,
    pub(super) stack: Vec<Value<'a>>,
    pub(super) marks: Vec<usize>,
    pub(super) memo: Memo<Value<'a>>,
    pub(super) warnings: Vec<String>,
    pub(super) warned: std::collections::HashSet<String>,
    pub(super) at: usize,
    pub(super) work: u64,
}

/// Run the pickle that starts at `start` of `data` up to its STOP.
pub fn load(data: &[u8], start: usize) -> Result<Loaded<'_>, MachineError> {
    let mut m = Machine {
        heap: Heap::default(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: Memo::default(),
        warnings: Vec::new(),
        warned: Default::default(),
        at: start,
        work: 0,
    };
    // torch writes about one node per 16 bytes of pickle: reserve that much up front (bounded by the
    // input, so a short hostile pickle reserves little) rather than growing the heap by copies
    let hint = (data.len().saturating_sub(start) / 16).min(RESERVE_HINT);
    m.heap.reserve(hint);
    m.memo.reserve(hint);
    let mut ops = Ops::at(data, start);
    while let Some(instr) = ops.next() {
        let instr = instr.map_err(MachineError::Op)?;
        m.at = instr.offset;
        m.charge(1)?;
        if instr.op == Opcode::Stop {
            let root = m.pop()?;
            return Ok(Loaded {
                root,
                heap: m.heap,
                end: ops.position(),
                warnings: m.warnings,
                work: m.work,
            });
        }
        m.step(instr.op, instr.arg)?;
    }
    Err(m.bad("pickle ends without STOP"))
}

impl<'a> Machine<'a> {
    pub(super) fn bad(&self, msg: impl Into<String>) -> MachineError {
        MachineError::Bad {
            offset: self.at,
            msg: msg.into(),
        }
    }

    pub(super) fn warn(&mut self, msg: String) {
        if self.warned.insert(msg.clone()) {
            self.warnings.push(msg);
        }
    }

    /// Count `n` units of work toward [`MAX_WORK`].
    pub(super) fn charge(&mut self, n: usize) -> R<()> {
        self.work = self.work.saturating_add(n as u64);
        if self.work > MAX_WORK {
            return Err(MachineError::Limit {
                what: "units of pickle work (opcodes plus items and bytes copied)",
                limit: MAX_WORK,
                offset: self.at,
            });
        }
        Ok(())
    }

    pub(super) fn alloc(&mut self, n: Node<'a>) -> R<Value<'a>> {
        let at = self.at;
        self.heap.alloc(n).map_err(|h| MachineError::Limit {
            what: h.what,
            limit: h.limit,
            offset: at,
        })
    }

    fn push(&mut self, v: Value<'a>) -> R<()> {
        if self.stack.len() + self.marks.len() >= MAX_STACK {
            return Err(MachineError::Limit {
                what: "stack entries",
                limit: MAX_STACK as u64,
                offset: self.at,
            });
        }
        self.stack.push(v);
        Ok(())
    }

    fn pop(&mut self) -> R<Value<'a>> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.bad("pop from an empty stack"));
        }
        Ok(self.stack.pop().unwrap_or(Value::None))
    }

    fn top(&self) -> R<Value<'a>> {
        let floor = self.marks.last().copied().unwrap_or(0);
        match self.stack.last() {
            Some(v) if self.stack.len() > floor => Ok(v.clone()),
            _ => Err(self.bad("the stack is empty")),
        }
    }

    fn pop_mark(&mut self) -> R<Vec<Value<'a>>> {
        let Some(m) = self.marks.pop() else {
            return Err(self.bad("no MARK on the stack"));
        };
        Ok(self.stack.split_off(m))
    }

    pub(super) fn grow(&mut self, n: usize) -> R<()> {
        let at = self.at;
        self.heap.add_items(n).map_err(|h| MachineError::Limit {
            what: h.what,
            limit: h.limit,
            offset: at,
        })
    }

    fn step(&mut self, op: Opcode, arg: Arg<'a>) -> R<()> {
        use Opcode as O;
        match op {
            O::Mark => {
                if self.stack.len() + self.marks.len() >= MAX_STACK {
                    return Err(MachineError::Limit {
                        what: "stack entries",
                        limit: MAX_STACK as u64,
                        offset: self.at,
                    });
                }
                self.marks.push(self.stack.len());
            }
            O::Pop => {
                let floor = self.marks.last().copied().unwrap_or(0);
                if self.stack.len() > floor {
                    self.stack.pop();
                } else {
                    self.pop_mark()?;
                }
            }
            O::PopMark => {
                self.pop_mark()?;
            }
            O::Dup => {
                let v = self.top()?;
                self.push(v)?;
            }
            O::Proto => {
                if !matches!(arg, Arg::Int(0..=5)) {
                    return Err(self.bad(format!("unsupported pickle protocol {arg:?}")));
                }
            }
            O::Frame => {}
            O::None => self.push(Value::None)?,
            O::NewTrue => self.push(Value::Bool(true))?,
            O::NewFalse => self.push(Value::Bool(false))?,
            O::Int | O::Long | O::BinInt | O::BinInt1 | O::BinInt2 | O::Long1 | O::Long4 | O::Float | O::BinFloat => {
                let v = match arg {
                    Arg::Int(i) => Value::Int(i),
                    Arg::Bool(b) => Value::Bool(b),
                    Arg::Float(f) => Value::Float(f),
                    Arg::Long(b) => match long_to_i64(b) {
                        Some(i) => Value::Int(i),
                        None => Value::BigInt(Blob::Borrowed(b)),
                    },
                    Arg::BigInt(t) if t.len() > MAX_INT_DIGITS + 1 => {
                        return Err(MachineError::Limit {
                            what: "digits in an integer literal",
                            limit: MAX_INT_DIGITS as u64,
                            offset: self.at,
                        });
                    }
                    Arg::BigInt(t) => match decimal_to_long(&t.replace('_', "")) {
                        Some(b) => Value::BigInt(Blob::Shared(Rc::from(b))),
                        None => return Err(self.bad("bad integer text")),
                    },
                    _ => return Err(self.bad("bad number argument")),
                };
                self.push(v)?;
            }
            O::BinUnicode | O::ShortBinUnicode | O::BinUnicode8 => {
                let Arg::Str(s) = arg else {
                    return Err(self.bad("bad string argument"));
                };
                self.push(Value::Str(Text::Borrowed(s)))?;
            }
            O::BinBytes | O::ShortBinBytes | O::BinBytes8 | O::ByteArray8 => {
                let Arg::Bytes(b) = arg else {
                    return Err(self.bad("bad bytes argument"));
                };
                self.push(Value::Bytes(Blob::Borrowed(b)))?;
            }
            O::BinString | O::ShortBinString => {
                // Python 2 str: text when it is UTF-8 (as torch's loader decodes it), bytes otherwise
                let Arg::Bytes(b) = arg else {
                    return Err(self.bad("bad string argument"));
                };
                let v = match std::str::from_utf8(b) {
                    Ok(s) => Value::Str(Text::Borrowed(s)),
                    Err(_) => Value::Bytes(Blob::Borrowed(b)),
                };
                self.push(v)?;
            }
            O::String => {
                let Arg::Line(l) = arg else {
                    return Err(self.bad("bad STRING argument"));
                };
                let b = unquote(l).ok_or_else(|| self.bad("STRING argument is not a quoted literal"))?;
                let v = match String::from_utf8(b) {
                    Ok(s) => Value::Str(Text::Shared(Rc::from(s))),
                    Err(e) => Value::Bytes(Blob::Shared(Rc::from(e.into_bytes()))),
                };
                self.push(v)?;
            }
            O::Unicode => {
                let Arg::Line(l) = arg else {
                    return Err(self.bad("bad UNICODE argument"));
                };
                let s = raw_unicode_escape(l).ok_or_else(|| self.bad("bad raw-unicode-escape text"))?;
                self.push(Value::Str(text_from(s)))?;
            }
            O::PersId => {
                let Arg::Line(l) = arg else {
                    return Err(self.bad("bad PERSID argument"));
                };
                let pid = Value::Str(Text::Shared(Rc::from(String::from_utf8_lossy(l).as_ref())));
                let v = self.persistent_load(pid)?;
                self.push(v)?;
            }
            O::BinPersId => {
                let pid = self.pop()?;
                let v = self.persistent_load(pid)?;
                self.push(v)?;
            }
            O::EmptyTuple => {
                let v = self.alloc(Node::Tuple(Vec::new()))?;
                self.push(v)?;
            }
            O::Tuple1 | O::Tuple2 | O::Tuple3 => {
                let n = match op {
                    O::Tuple1 => 1,
                    O::Tuple2 => 2,
                    _ => 3,
                };
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.pop()?);
                }
                items.reverse();
                let v = self.alloc(Node::Tuple(items))?;
                self.push(v)?;
            }
            O::Tuple => {
                let items = self.pop_mark()?;
                let v = self.alloc(Node::Tuple(items))?;
                self.push(v)?;
            }
            O::EmptyList => {
                let v = self.alloc(Node::List(Vec::new()))?;
                self.push(v)?;
            }
            O::List => {
                let items = self.pop_mark()?;
                let v = self.alloc(Node::List(items))?;
                self.push(v)?;
            }
            O::EmptyDict => {
                let v = self.alloc(Node::Dict(Dict::default()))?;
                self.push(v)?;
            }
            O::Dict => {
                let items = self.pop_mark()?;
                let d = self.alloc(Node::Dict(Dict::default()))?;
                self.set_items(&d, items)?;
                self.push(d)?;
            }
            O::EmptySet => {
                let v = self.alloc(Node::Set(Vec::new()))?;
                self.push(v)?;
            }
            O::FrozenSet => {
                let items = self.pop_mark()?;
                let v = self.alloc(Node::Set(items))?;
                self.push(v)?;
            }
            O::Append => {
                let v = self.pop()?;
                let target = self.top()?;
                self.append(&target, vec![v])?;
            }
            O::Appends | O::AddItems => {
                let items = self.pop_mark()?;
                let target = self.top()?;
                self.append(&target, items)?;
            }
            O::SetItem => {
                let v = self.pop()?;
                let k = self.pop()?;
                let target = self.top()?;
                self.set_items(&target, vec![k, v])?;
            }
            O::SetItems => {
                let items = self.pop_mark()?;
                let target = self.top()?;
                self.set_items(&target, items)?;
            }
            O::Get | O::BinGet | O::LongBinGet => {
                let Arg::Memo(i) = arg else {
                    return Err(self.bad("bad memo argument"));
                };
                let v = self
                    .memo
                    .get(i)
                    .cloned()
                    .ok_or_else(|| self.bad(format!("memo entry {i} was never stored")))?;
                self.push(v)?;
            }
            O::Put | O::BinPut | O::LongBinPut | O::Memoize => {
                let i = match arg {
                    Arg::Memo(i) => i,
                    _ => self.memo.len() as u64,
                };
                let v = self.top()?;
                if self.memo.len() >= MAX_MEMO && self.memo.get(i).is_none() {
                    return Err(MachineError::Limit {
                        what: "memo entries",
                        limit: MAX_MEMO as u64,
                        offset: self.at,
                    });
                }
                self.memo.insert(i, v);
            }
            O::Global | O::Inst => {
                let Arg::Global { module, name } = arg else {
                    return Err(self.bad("bad GLOBAL argument"));
                };
                let g = self.global(Text::Borrowed(module), Text::Borrowed(name))?;
                if op == O::Inst {
                    let items = self.pop_mark()?;
                    let args = self.alloc(Node::Tuple(items))?;
                    let v = self.call(g, args)?;
                    self.push(v)?;
                } else {
                    self.push(g)?;
                }
            }
            O::StackGlobal => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (Value::Str(module), Value::Str(name)) = (module, name) else {
                    return Err(self.bad("STACK_GLOBAL needs two strings"));
                };
                let g = self.global(module, name)?;
                self.push(g)?;
            }
            O::Reduce | O::NewObj => {
                let args = self.pop()?;
                let callable = self.pop()?;
                let v = self.call(callable, args)?;
                self.push(v)?;
            }
            O::NewObjEx => {
                let _kwargs = self.pop()?;
                let args = self.pop()?;
                let callable = self.pop()?;
                let v = self.call(callable, args)?;
                self.push(v)?;
            }
            O::Obj => {
                let mut items = self.pop_mark()?;
                if items.is_empty() {
                    return Err(self.bad("OBJ without a class"));
                }
                let callable = items.remove(0);
                let args = self.alloc(Node::Tuple(items))?;
                let v = self.call(callable, args)?;
                self.push(v)?;
            }
            O::Build => {
                let state = self.pop()?;
                let target = self.top()?;
                self.build(&target, state)?;
            }
            O::Ext1 | O::Ext2 | O::Ext4 => return Err(self.bad(format!("{op}: extension codes are not registered"))),
            O::NextBuffer | O::ReadonlyBuffer => {
                return Err(self.bad(format!("{op}: out-of-band buffers are not supported")));
            }
            O::Stop => {}
        }
        Ok(())
    }
}

#[path = "machine_objects.rs"]
mod objects;

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
