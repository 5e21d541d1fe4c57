//! The fast path's memo entries and the opcodes it reads, as bytes (split from `fast.rs`).

use super::super::ops::Opcode;

/// A memo entry: only what the fast path reads back (a str by its index in `Reader::strs`, an
/// allowlisted global by its index in `Reader::globals`); anything else is `Other`.
#[derive(Clone, Copy)]
pub(super) enum Memo {
    Str(u32),
    Global(u32),
    Other,
}

/// [`Memo`] in four bytes (torch's pickle stores about twenty entries per tensor): `Other` is
/// `u32::MAX`, a global has the top bit set, a str is its index.
pub(super) const MEMO_OTHER: u32 = u32::MAX;
pub(super) const MEMO_GLOBAL: u32 = 1 << 31;

impl Memo {
    pub(super) fn pack(self) -> Option<u32> {
        match self {
            Memo::Str(i) if i < MEMO_GLOBAL => Some(i),
            Memo::Global(i) if i < MEMO_GLOBAL - 1 => Some(MEMO_GLOBAL | i),
            Memo::Other => Some(MEMO_OTHER),
            _ => None,
        }
    }

    pub(super) fn unpack(v: u32) -> Memo {
        match v {
            MEMO_OTHER => Memo::Other,
            v if v & MEMO_GLOBAL != 0 => Memo::Global(v & !MEMO_GLOBAL),
            v => Memo::Str(v),
        }
    }
}

// The opcodes the fast path reads, as bytes (the names of `Opcode`).
pub(super) const PROTO: u8 = Opcode::Proto as u8;
pub(super) const EMPTY_DICT: u8 = Opcode::EmptyDict as u8;
pub(super) const GLOBAL: u8 = Opcode::Global as u8;
pub(super) const EMPTY_TUPLE: u8 = Opcode::EmptyTuple as u8;
pub(super) const REDUCE: u8 = Opcode::Reduce as u8;
pub(super) const STOP: u8 = Opcode::Stop as u8;
pub(super) const MARK: u8 = Opcode::Mark as u8;
pub(super) const SETITEMS: u8 = Opcode::SetItems as u8;
pub(super) const SETITEM: u8 = Opcode::SetItem as u8;
pub(super) const BINPUT: u8 = Opcode::BinPut as u8;
pub(super) const LONG_BINPUT: u8 = Opcode::LongBinPut as u8;
pub(super) const BINGET: u8 = Opcode::BinGet as u8;
pub(super) const LONG_BINGET: u8 = Opcode::LongBinGet as u8;
pub(super) const BINUNICODE: u8 = Opcode::BinUnicode as u8;
pub(super) const SHORT_BINUNICODE: u8 = Opcode::ShortBinUnicode as u8;
pub(super) const BININT: u8 = Opcode::BinInt as u8;
pub(super) const BININT1: u8 = Opcode::BinInt1 as u8;
pub(super) const BININT2: u8 = Opcode::BinInt2 as u8;
pub(super) const TUPLE: u8 = Opcode::Tuple as u8;
pub(super) const TUPLE1: u8 = Opcode::Tuple1 as u8;
pub(super) const TUPLE2: u8 = Opcode::Tuple2 as u8;
pub(super) const TUPLE3: u8 = Opcode::Tuple3 as u8;
pub(super) const BINPERSID: u8 = Opcode::BinPersId as u8;
pub(super) const NEWTRUE: u8 = Opcode::NewTrue as u8;
pub(super) const NEWFALSE: u8 = Opcode::NewFalse as u8;
/// Longest GLOBAL line looked for: longer ones are on no allowlist (the machine reads them).
pub(super) const MAX_GLOBAL_LINE: usize = 128;
