//! A fast path for the pickle `torch.save` writes for a plain dict of tensors (a `dict`, or an
//! `OrderedDict` without state): `{key: _rebuild_tensor_v2(persistent storage, offset, shape, stride,
//! requires_grad, OrderedDict()), …}` at protocol 2. It reads that exact opcode sequence and yields
//! the tensors directly, without building the general machine's heap (about 16 allocations and 28
//! opcode dispatches per tensor).
//!
//! It accepts only what the restricted [`super::machine`] would turn into the same tensors: every
//! opcode is decoded by the same [`decode`]; globals are classified by the same allowlist; memo
//! reads must name an entry it stored itself; ints, shapes and strides must be plain non-negative
//! binary ints; the storage key, dimensions and name lengths are held to the machine's limits. Any
//! other byte, value or size returns `None`, and the caller runs the general machine on the whole
//! pickle. A pickle of fewer than [`MAX_FAST_BYTES`] bytes cannot reach the machine's node, item,
//! memo, stack or work limits (each node, item, memo entry and stack entry takes at least one
//! opcode byte, and the work is at most a few units per byte), so the fast path never accepts
//! a pickle the machine would refuse for a limit.

use std::collections::HashSet;

use super::allowlist::{SafeGlobal, classify_safe};
use super::machine::{MAX_DIMS, MAX_STORAGE_KEY};
use super::ops::{Arg, Instr, Opcode, decode};
use super::torch::TorchFile;
use super::value::Storage;
use super::value::{MAX_NODES, MAX_REPR};
use crate::Result;
use crate::model::{DType, TensorInfo};
use std::ops::Range;
use std::path::Path;

/// Largest pickle the fast path reads (larger ones go to the general machine).
pub const MAX_FAST_BYTES: usize = MAX_NODES;
/// Most pairs in one SETITEMS batch (pickle writes 1,000; the machine's stack holds 2 per pair).
const MAX_BATCH: usize = 100_000;

/// One tensor as the fast path read it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FastTensor<'a> {
    /// Its dict key (the tensor's name).
    pub name: &'a str,
    /// The storage record's key.
    pub key: &'a str,
    /// Element type of the storage.
    pub dtype: DType,
    /// Elements in the storage.
    pub numel: u64,
    /// Offset in elements.
    pub offset: u64,
    /// Shape.
    pub shape: Vec<u64>,
    /// Strides in elements.
    pub strides: Vec<u64>,
}

/// A memo entry: only what the fast path reads back; anything else is `Other`.
#[derive(Clone, Copy)]
enum Memo<'a> {
    Str(&'a str),
    Global(Option<SafeGlobal>),
    Other,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    memo: Vec<Memo<'a>>,
    /// The last instruction decoded ahead (peeked), with the position after it.
    ahead: Option<(Instr<'a>, usize)>,
}

/// The tensors of `pickle` when it is exactly a plain dict of tensors as `torch.save` writes it;
/// `None` for anything else (the general machine then reads it).
pub(crate) fn tensors(pickle: &[u8]) -> Option<Vec<FastTensor<'_>>> {
    if pickle.len() >= MAX_FAST_BYTES {
        return None;
    }
    let mut r = Reader {
        data: pickle,
        pos: 0,
        memo: Vec::new(),
        ahead: None,
    };
    let proto = r.next()?;
    if proto.op != Opcode::Proto || proto.arg != Arg::Int(2) {
        return None;
    }
    // the root: `{}` or `OrderedDict()` (both a dict to the machine)
    if r.peek_op()? == Opcode::EmptyDict {
        r.next()?;
    } else {
        if r.global()? != SafeGlobal::OrderedDict {
            return None;
        }
        r.expect(Opcode::EmptyTuple)?;
        r.put(Memo::Other)?;
        r.expect(Opcode::Reduce)?;
    }
    r.put(Memo::Other)?;
    let mut out = Vec::new();
    let mut names: HashSet<&str> = HashSet::new();
    loop {
        let i = r.next()?;
        match i.op {
            Opcode::Stop => return Some(out),
            Opcode::Mark => {
                let mut n = 0usize;
                while r.peek_op()? != Opcode::SetItems {
                    n += 1;
                    if n > MAX_BATCH {
                        return None;
                    }
                    let key = r.key(&mut names)?;
                    out.push(r.tensor(key)?);
                }
                r.next()?;
            }
            _ => {
                // one pair then SETITEM (a batch of one)
                r.pos = i.offset;
                let key = r.key(&mut names)?;
                out.push(r.tensor(key)?);
                r.expect(Opcode::SetItem)?;
            }
        }
    }
}

/// The tensors [`tensors`] read, checked and resolved as [`super::torch`]'s `collect` does them.
pub(super) fn add(
    path: &Path,
    ts: &[FastTensor<'_>],
    resolve: &mut dyn FnMut(&Storage) -> std::result::Result<Range<u64>, String>,
    out: &mut TorchFile,
) -> Result<()> {
    out.tensors.reserve(ts.len());
    let mut s = Storage {
        key: String::new(),
        dtype: DType::U8,
        location: String::new(),
        numel: 0,
        view: None,
    };
    for t in ts {
        super::torch::room_for_one_more(path, out)?;
        s.key.clear();
        s.key.push_str(t.key);
        s.dtype = t.dtype;
        s.numel = t.numel;
        let info = TensorInfo {
            name: t.name.to_string(),
            dtype: t.dtype,
            shape: t.shape.clone(),
            file: 0,
            storage: 0..0,
            offset: t.offset,
            strides: t.strides.clone(),
        };
        super::torch::add_stored(path, info, &s, resolve, out)?;
    }
    Ok(())
}

impl<'a> Reader<'a> {
    /// The instruction at `pos` and the position after it, decoded once however often it is peeked.
    fn peek(&mut self) -> Option<(Instr<'a>, usize)> {
        match self.ahead {
            Some((i, next)) if i.offset == self.pos => Some((i, next)),
            _ => {
                let got = decode(self.data, self.pos).ok()?;
                self.ahead = Some(got);
                Some(got)
            }
        }
    }

    fn next(&mut self) -> Option<Instr<'a>> {
        let (i, next) = self.peek()?;
        self.pos = next;
        Some(i)
    }

    fn peek_op(&mut self) -> Option<Opcode> {
        self.peek().map(|(i, _)| i.op)
    }

    fn expect(&mut self, op: Opcode) -> Option<()> {
        (self.next()?.op == op).then_some(())
    }

    /// An optional PUT of the value just pushed (`what` it is).
    fn put(&mut self, what: Memo<'a>) -> Option<()> {
        let (i, next) = self.peek()?;
        let Arg::Memo(at) = i.arg else { return Some(()) };
        if !matches!(i.op, Opcode::BinPut | Opcode::LongBinPut | Opcode::Put) {
            return Some(());
        }
        // torch numbers its memo 0, 1, 2, …: any other index is left to the general machine
        let at = usize::try_from(at).ok()?;
        match at.cmp(&self.memo.len()) {
            std::cmp::Ordering::Less => self.memo[at] = what,
            std::cmp::Ordering::Equal => self.memo.push(what),
            std::cmp::Ordering::Greater => return None,
        }
        self.pos = next;
        Some(())
    }

    /// A memo read (GET, BINGET, LONG_BINGET) of an entry stored earlier.
    fn got(&self, i: &Instr<'a>) -> Option<Memo<'a>> {
        match (i.op, i.arg) {
            (Opcode::Get | Opcode::BinGet | Opcode::LongBinGet, Arg::Memo(at)) => {
                self.memo.get(usize::try_from(at).ok()?).copied()
            }
            _ => None,
        }
    }

    /// A dict key: a literal str (never from the memo, so the machine's work stays bounded by the
    /// pickle's bytes), non-empty, short enough to be shown whole, and not seen before (a repeated
    /// key replaces the first value in the dict: left to the general machine).
    fn key(&mut self, seen: &mut HashSet<&'a str>) -> Option<&'a str> {
        let i = self.next()?;
        let (Opcode::BinUnicode | Opcode::ShortBinUnicode, Arg::Str(s)) = (i.op, i.arg) else {
            return None;
        };
        if s.is_empty() || s.len() > MAX_REPR || !seen.insert(s) {
            return None;
        }
        self.put(Memo::Str(s))?;
        Some(s)
    }

    /// A str, literal or from the memo, then its optional PUT.
    fn text(&mut self) -> Option<&'a str> {
        let i = self.next()?;
        let s = match (i.op, i.arg) {
            (Opcode::BinUnicode | Opcode::ShortBinUnicode, Arg::Str(s)) => s,
            _ => match self.got(&i)? {
                Memo::Str(s) => s,
                _ => return None,
            },
        };
        self.put(Memo::Str(s))?;
        Some(s)
    }

    /// A global (GLOBAL or from the memo) that the allowlist classifies, then its optional PUT.
    fn global(&mut self) -> Option<SafeGlobal> {
        let i = self.next()?;
        let safe = match (i.op, i.arg) {
            (Opcode::Global, Arg::Global { module, name }) => classify_safe(module, name),
            _ => match self.got(&i)? {
                Memo::Global(g) => g,
                _ => return None,
            },
        };
        self.put(Memo::Global(safe))?;
        safe
    }

    /// A non-negative binary int (BININT, BININT1, BININT2).
    fn uint(&mut self) -> Option<u64> {
        let i = self.next()?;
        match (i.op, i.arg) {
            (Opcode::BinInt | Opcode::BinInt1 | Opcode::BinInt2, Arg::Int(v)) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// A tuple of non-negative binary ints, then its optional PUT.
    fn dims(&mut self) -> Option<Vec<u64>> {
        let mut d = Vec::new();
        match self.peek_op()? {
            Opcode::EmptyTuple => {
                self.next()?;
            }
            Opcode::Mark => {
                self.next()?;
                while self.peek_op()? != Opcode::Tuple {
                    if d.len() >= MAX_DIMS {
                        return None;
                    }
                    d.push(self.uint()?);
                }
                self.next()?;
            }
            _ => {
                while !matches!(self.peek_op()?, Opcode::Tuple1 | Opcode::Tuple2 | Opcode::Tuple3) {
                    if d.len() >= 3 {
                        return None;
                    }
                    d.push(self.uint()?);
                }
                let n = match self.next()?.op {
                    Opcode::Tuple1 => 1,
                    Opcode::Tuple2 => 2,
                    _ => 3,
                };
                if n != d.len() {
                    return None;
                }
            }
        }
        self.put(Memo::Other)?;
        Some(d)
    }

    /// `_rebuild_tensor_v2((storage pid), offset, shape, stride, requires_grad, OrderedDict())`
    /// with its PUTs, as `torch.save` writes each tensor.
    fn tensor(&mut self, name: &'a str) -> Option<FastTensor<'a>> {
        if self.global()? != SafeGlobal::RebuildTensorV2 {
            return None;
        }
        self.expect(Opcode::Mark)?;
        // the persistent id ('storage', storage type, key, location, numel)
        self.expect(Opcode::Mark)?;
        if self.text()? != "storage" {
            return None;
        }
        let dtype = match self.global()? {
            SafeGlobal::Storage(d) | SafeGlobal::TorchDType(d) => d,
            SafeGlobal::UntypedStorage => DType::U8,
            _ => return None,
        };
        let key = self.text()?;
        if key.len() > MAX_STORAGE_KEY {
            return None;
        }
        self.text()?; // location: a label
        let numel = self.uint()?;
        self.put(Memo::Other)?;
        self.expect(Opcode::Tuple)?;
        self.put(Memo::Other)?;
        self.expect(Opcode::BinPersId)?;
        self.put(Memo::Other)?;
        let offset = self.uint()?;
        self.put(Memo::Other)?;
        let shape = self.dims()?;
        let strides = self.dims()?;
        if strides.len() != shape.len() {
            return None;
        }
        // requires_grad, then the backward hooks OrderedDict()
        if !matches!(self.next()?.op, Opcode::NewTrue | Opcode::NewFalse) {
            return None;
        }
        self.put(Memo::Other)?;
        if self.global()? != SafeGlobal::OrderedDict {
            return None;
        }
        self.expect(Opcode::EmptyTuple)?;
        self.put(Memo::Other)?;
        self.expect(Opcode::Reduce)?;
        self.put(Memo::Other)?;
        self.expect(Opcode::Tuple)?;
        self.put(Memo::Other)?;
        self.expect(Opcode::Reduce)?;
        self.put(Memo::Other)?;
        Some(FastTensor {
            name,
            key,
            dtype,
            numel,
            offset,
            shape,
            strides,
        })
    }
}

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;
