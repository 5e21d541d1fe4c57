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
use super::interp::{Flow, Interp};
use super::literal::MAX_INT_DIGITS;
use super::ops::{OpError, Ops};
use super::value::*;

/// Most memo entries a pickle may store: the one limit both interpreters hold.
pub use super::interp::MAX_MEMO;
/// Deepest stack (values plus marks) a pickle may build: the one limit both interpreters hold.
pub use super::interp::MAX_STACK;
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

/// The reader's half of the machine: its heap, warnings and work. The stack and memo effects of the
/// opcodes are [`Interp`]'s, shared with the scanner; this says what the values are ([`Semantics`]).
pub(super) struct Machine<'a> {
    pub(super) heap: Heap<'a>,
    pub(super) warnings: Vec<String>,
    pub(super) warned: std::collections::HashSet<String>,
    pub(super) at: usize,
    pub(super) work: u64,
}

/// Run the pickle that starts at `start` of `data` up to its STOP.
pub fn load(data: &[u8], start: usize) -> Result<Loaded<'_>, MachineError> {
    let mut m = Interp::new(Machine {
        heap: Heap::default(),
        warnings: Vec::new(),
        warned: Default::default(),
        at: start,
        work: 0,
    });
    // torch writes about one node per 16 bytes of pickle: reserve that much up front (bounded by the
    // input, so a short hostile pickle reserves little) rather than growing the heap by copies
    let hint = (data.len().saturating_sub(start) / 16).min(RESERVE_HINT);
    m.sem.heap.reserve(hint);
    m.reserve_memo(hint);
    let mut ops = Ops::at(data, start);
    while let Some(instr) = ops.next() {
        let instr = instr.map_err(MachineError::Op)?;
        m.sem.at = instr.offset;
        m.sem.charge(1)?;
        if let Flow::Stop(root) = m.step(instr.op, instr.arg)? {
            let Machine {
                heap, warnings, work, ..
            } = m.sem;
            return Ok(Loaded {
                root,
                heap,
                end: ops.position(),
                warnings,
                work,
            });
        }
    }
    Err(m.sem.bad("pickle ends without STOP"))
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

    pub(super) fn grow(&mut self, n: usize) -> R<()> {
        let at = self.at;
        self.heap.add_items(n).map_err(|h| MachineError::Limit {
            what: h.what,
            limit: h.limit,
            offset: at,
        })
    }
}

#[path = "machine_objects.rs"]
mod objects;

#[path = "machine_semantics.rs"]
mod semantics;

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
