//! A fast path for the pickle `torch.save` writes for a plain dict of tensors (a `dict`, or an
//! `OrderedDict` without state): `{key: _rebuild_tensor_v2(persistent storage, offset, shape, stride,
//! requires_grad, OrderedDict()), …}` at protocol 2. It reads that exact opcode sequence byte by
//! byte and yields the tensors directly, without building the general machine's heap (about 16
//! allocations and 28 opcode dispatches per tensor) and without allocating per tensor: names and
//! keys borrow the pickle, shapes and strides share one vector.
//!
//! It accepts only what the restricted [`super::machine`] would turn into the same tensors: each
//! opcode it reads is decoded as [`super::ops::decode`] decodes it (argument widths, UTF-8);
//! globals are classified by the same allowlist; memo reads must name an entry it stored itself;
//! ints, shapes and strides must be plain non-negative binary ints; the storage key, dimensions
//! and name lengths are held to the machine's limits. Any other byte, value or size returns
//! `None`, and the caller runs the general machine on the whole pickle. A pickle of fewer than
//! [`MAX_FAST_BYTES`] bytes cannot reach the machine's node, item, memo, stack or work limits (each
//! node, item, memo entry and stack entry takes at least one opcode byte, and the work is at most
//! a few units per byte), so the fast path never accepts a pickle the machine would refuse for a
//! limit.

use std::collections::HashSet;

use super::allowlist::{SafeGlobal, classify_safe};
use super::collect::TorchFile;
use super::machine::{MAX_DIMS, MAX_STORAGE_KEY};
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
    /// Shape: a range of [`FastTensors::dims`].
    pub shape: Range<u32>,
    /// Strides in elements: a range of [`FastTensors::dims`].
    pub strides: Range<u32>,
}

/// What the fast path read: the tensors in pickle order, and every shape and stride in one vector
/// (no allocation per tensor).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FastTensors<'a> {
    /// The tensors.
    pub tensors: Vec<FastTensor<'a>>,
    /// Their dimensions, which [`FastTensor::shape`] and [`FastTensor::strides`] index.
    pub dims: Vec<u64>,
}

impl FastTensors<'_> {
    /// The shape of `t`.
    pub fn shape(&self, t: &FastTensor<'_>) -> &[u64] {
        &self.dims[t.shape.start as usize..t.shape.end as usize]
    }

    /// The strides of `t`.
    pub fn strides(&self, t: &FastTensor<'_>) -> &[u64] {
        &self.dims[t.strides.start as usize..t.strides.end as usize]
    }
}

#[path = "fast_codes.rs"]
mod codes;
use codes::*;

/// A byte-level reader of exactly the opcodes above, each decoded as [`super::ops::decode`]
/// decodes it (same argument widths, same UTF-8 rule); anything else ends the fast path.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Packed [`Memo`] entries.
    memo: Vec<u32>,
    /// The strs the memo holds.
    strs: Vec<&'a str>,
    /// The globals the memo holds.
    globals: Vec<SafeGlobal>,
    dims: Vec<u64>,
}

/// The tensors of `pickle` when it is exactly a plain dict of tensors as `torch.save` writes it;
/// `None` for anything else (the general machine then reads it).
pub(crate) fn tensors(pickle: &[u8]) -> Option<FastTensors<'_>> {
    if pickle.len() >= MAX_FAST_BYTES {
        return None;
    }
    let mut r = Reader {
        data: pickle,
        pos: 0,
        // torch's pickle takes about 100 bytes and 20 memo entries per tensor
        memo: Vec::with_capacity(pickle.len() / 4),
        strs: Vec::with_capacity(pickle.len() / 40),
        globals: Vec::new(),
        dims: Vec::with_capacity(pickle.len() / 25),
    };
    if r.byte()? != PROTO || r.byte()? != 2 {
        return None;
    }
    // the root: `{}` or `OrderedDict()` (both a dict to the machine)
    if r.peek()? == EMPTY_DICT {
        r.pos += 1;
    } else {
        r.empty_ordered_dict()?;
    }
    r.put(Memo::Other)?;
    let mut out = Vec::with_capacity(pickle.len() / 64);
    let mut names: HashSet<&str> = HashSet::with_capacity(pickle.len() / 100);
    loop {
        match r.peek()? {
            STOP => {
                return Some(FastTensors {
                    tensors: out,
                    dims: r.dims,
                });
            }
            MARK => {
                r.pos += 1;
                let mut n = 0usize;
                while r.peek()? != SETITEMS {
                    n += 1;
                    if n > MAX_BATCH {
                        return None;
                    }
                    let key = r.key(&mut names)?;
                    out.push(r.tensor(key)?);
                }
                r.pos += 1;
            }
            _ => {
                // one pair then SETITEM (a batch of one)
                let key = r.key(&mut names)?;
                out.push(r.tensor(key)?);
                r.expect(SETITEM)?;
            }
        }
    }
}

/// The tensors [`tensors`] read, checked and resolved as [`super::torch`]'s `collect` does them.
pub(super) fn add(
    path: &Path,
    ts: &FastTensors<'_>,
    resolve: &mut dyn FnMut(&Storage) -> std::result::Result<Range<u64>, String>,
    out: &mut TorchFile,
) -> Result<()> {
    out.tensors.reserve(ts.tensors.len());
    let mut s = Storage {
        key: String::new(),
        dtype: DType::U8,
        location: String::new(),
        numel: 0,
        view: None,
    };
    for t in &ts.tensors {
        super::collect::room_for_one_more(path, out)?;
        s.key.clear();
        s.key.push_str(t.key);
        s.dtype = t.dtype;
        s.numel = t.numel;
        let info = TensorInfo {
            name: t.name.to_string(),
            dtype: t.dtype,
            shape: ts.shape(t).to_vec(),
            file: 0,
            storage: 0..0,
            offset: t.offset,
            strides: ts.strides(t).to_vec(),
        };
        super::collect::add_stored(path, info, &s, resolve, out)?;
    }
    Ok(())
}

impl<'a> Reader<'a> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    #[inline]
    fn byte(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.data.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(b)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    #[inline]
    fn expect(&mut self, op: u8) -> Option<()> {
        (self.byte()? == op).then_some(())
    }

    /// An optional PUT (BINPUT, LONG_BINPUT) of the value just pushed (`what` it is).
    #[inline]
    fn put(&mut self, what: Memo) -> Option<()> {
        let at = match self.peek()? {
            BINPUT => {
                self.pos += 1;
                usize::from(self.byte()?)
            }
            LONG_BINPUT => {
                self.pos += 1;
                usize::try_from(self.u32()?).ok()?
            }
            _ => return Some(()),
        };
        // torch numbers its memo 0, 1, 2, …: any other index is left to the general machine
        let what = what.pack()?;
        match at.cmp(&self.memo.len()) {
            std::cmp::Ordering::Less => self.memo[at] = what,
            std::cmp::Ordering::Equal => self.memo.push(what),
            std::cmp::Ordering::Greater => return None,
        }
        Some(())
    }

    /// A memo read (BINGET, LONG_BINGET) of an entry stored earlier; the opcode is read already.
    #[inline]
    fn got(&mut self, op: u8) -> Option<Memo> {
        let at = match op {
            BINGET => usize::from(self.byte()?),
            LONG_BINGET => usize::try_from(self.u32()?).ok()?,
            _ => return None,
        };
        self.memo.get(at).map(|&v| Memo::unpack(v))
    }

    /// A literal str (BINUNICODE, SHORT_BINUNICODE); the opcode is read already.
    #[inline]
    fn literal(&mut self, op: u8) -> Option<&'a str> {
        let n = match op {
            BINUNICODE => usize::try_from(self.u32()?).ok()?,
            SHORT_BINUNICODE => usize::from(self.byte()?),
            _ => return None,
        };
        std::str::from_utf8(self.take(n)?).ok()
    }

    /// Remember `s` in the memo if a PUT follows.
    #[inline]
    fn put_str(&mut self, s: &'a str) -> Option<()> {
        if matches!(self.peek()?, BINPUT | LONG_BINPUT) {
            let i = u32::try_from(self.strs.len()).ok()?;
            self.strs.push(s);
            self.put(Memo::Str(i))?;
        }
        Some(())
    }

    /// A dict key: a literal str (never from the memo, so the machine's work stays bounded by the
    /// pickle's bytes), non-empty, short enough to be shown whole, and not seen before (a repeated
    /// key replaces the first value in the dict: left to the general machine).
    fn key(&mut self, seen: &mut HashSet<&'a str>) -> Option<&'a str> {
        let op = self.byte()?;
        let s = self.literal(op)?;
        if s.is_empty() || s.len() > MAX_REPR || !seen.insert(s) {
            return None;
        }
        self.put_str(s)?;
        Some(s)
    }

    /// A str, literal or from the memo, then its optional PUT.
    #[inline]
    fn text(&mut self) -> Option<&'a str> {
        let op = self.byte()?;
        let s = match op {
            BINUNICODE | SHORT_BINUNICODE => self.literal(op)?,
            _ => match self.got(op)? {
                Memo::Str(i) => self.strs[i as usize],
                _ => return None,
            },
        };
        self.put_str(s)?;
        Some(s)
    }

    /// One `\n`-terminated UTF-8 line of a GLOBAL (short: longer ones are on no allowlist).
    #[inline]
    fn line(&mut self) -> Option<&'a str> {
        let rest = &self.data[self.pos..];
        let n = rest.iter().take(MAX_GLOBAL_LINE).position(|&b| b == b'\n')?;
        self.pos += n + 1;
        std::str::from_utf8(&rest[..n]).ok()
    }

    /// A global (GLOBAL or from the memo) that the allowlist classifies, then its optional PUT.
    #[inline]
    fn global(&mut self) -> Option<SafeGlobal> {
        let op = self.byte()?;
        let safe = if op == GLOBAL {
            let module = self.line()?;
            let name = self.line()?;
            classify_safe(module, name)?
        } else {
            match self.got(op)? {
                Memo::Global(i) => self.globals[i as usize],
                _ => return None,
            }
        };
        if matches!(self.peek()?, BINPUT | LONG_BINPUT) {
            let i = u32::try_from(self.globals.len()).ok()?;
            self.globals.push(safe);
            self.put(Memo::Global(i))?;
        }
        Some(safe)
    }

    /// A non-negative binary int (BININT, BININT1, BININT2).
    #[inline]
    fn uint(&mut self) -> Option<u64> {
        match self.byte()? {
            BININT1 => Some(u64::from(self.byte()?)),
            BININT2 => Some(u64::from(u16::from_le_bytes(self.take(2)?.try_into().ok()?))),
            BININT => u64::try_from(i32::from_le_bytes(self.take(4)?.try_into().ok()?)).ok(),
            _ => None,
        }
    }

    /// A tuple of non-negative binary ints, then its optional PUT: its range in `dims`.
    fn dims(&mut self) -> Option<Range<u32>> {
        let start = self.dims.len();
        match self.peek()? {
            EMPTY_TUPLE => self.pos += 1,
            MARK => {
                self.pos += 1;
                while self.peek()? != TUPLE {
                    if self.dims.len() - start >= MAX_DIMS {
                        return None;
                    }
                    let d = self.uint()?;
                    self.dims.push(d);
                }
                self.pos += 1;
            }
            _ => {
                let n = loop {
                    match self.peek()? {
                        TUPLE1 => break 1,
                        TUPLE2 => break 2,
                        TUPLE3 => break 3,
                        _ if self.dims.len() - start >= 3 => return None,
                        _ => {
                            let d = self.uint()?;
                            self.dims.push(d);
                        }
                    }
                };
                self.pos += 1;
                if n != self.dims.len() - start {
                    return None;
                }
            }
        }
        self.put(Memo::Other)?;
        Some(u32::try_from(start).ok()?..u32::try_from(self.dims.len()).ok()?)
    }

    /// `OrderedDict()`: the global (literal or from the memo), EMPTY_TUPLE and its optional PUT,
    /// REDUCE (the caller reads the PUT after it).
    fn empty_ordered_dict(&mut self) -> Option<()> {
        if self.global()? != SafeGlobal::OrderedDict {
            return None;
        }
        self.expect(EMPTY_TUPLE)?;
        self.put(Memo::Other)?;
        self.expect(REDUCE)
    }

    /// `_rebuild_tensor_v2((storage pid), offset, shape, stride, requires_grad, OrderedDict())`
    /// with its PUTs, as `torch.save` writes each tensor.
    fn tensor(&mut self, name: &'a str) -> Option<FastTensor<'a>> {
        if self.global()? != SafeGlobal::RebuildTensorV2 {
            return None;
        }
        self.expect(MARK)?;
        // the persistent id ('storage', storage type, key, location, numel)
        self.expect(MARK)?;
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
        self.expect(TUPLE)?;
        self.put(Memo::Other)?;
        self.expect(BINPERSID)?;
        self.put(Memo::Other)?;
        let offset = self.uint()?;
        self.put(Memo::Other)?;
        let shape = self.dims()?;
        let strides = self.dims()?;
        if strides.len() != shape.len() {
            return None;
        }
        // requires_grad, then the backward hooks OrderedDict()
        if !matches!(self.byte()?, NEWTRUE | NEWFALSE) {
            return None;
        }
        self.put(Memo::Other)?;
        self.empty_ordered_dict()?;
        self.put(Memo::Other)?;
        self.expect(TUPLE)?;
        self.put(Memo::Other)?;
        self.expect(REDUCE)?;
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
