//! Pickle opcode decoder for protocols 0 to 5: bytes -> `(offset, opcode, argument)`, with every
//! argument borrowed from the input. It knows the wire format only, no semantics: the restricted
//! machine ([`super::machine`]) and the scanner both drive it.
//!
//! Every length field is checked against the remaining input before anything is sliced, so a
//! hostile length can never cause an allocation or a read past the end.
//!
//! ```
//! use tensorscope::formats::pickle::ops::{Arg, Opcode, Ops};
//! let pickle = b"\x80\x02K\x07.";
//! let ops: Vec<_> = Ops::new(pickle).collect::<Result<_, _>>().unwrap();
//! assert_eq!(ops[1].op, Opcode::BinInt1);
//! assert_eq!(ops[1].arg, Arg::Int(7));
//! assert_eq!(ops.last().unwrap().op, Opcode::Stop);
//! ```

use std::fmt;

/// Longest line of a GLOBAL or INST (a module or a name) read as text. Every other text argument
/// (INT, FLOAT, STRING, PERSID, PUT, …) is read to its newline however long it is, as CPython's
/// `readline()` reads it (a slice of the input: nothing is copied); a name this long imports nothing
/// in a stock interpreter, but the walker reports it as a limit, never as the end of the pickle.
pub const MAX_LINE_LEN: usize = 16 << 20;

#[path = "ops_opcode.rs"]
mod opcode;
pub use opcode::Opcode;
#[path = "ops_text.rs"]
mod text;
use text::{float_text, int_text, memo_text};
#[path = "ops_reader.rs"]
mod reader;
use reader::Reader;

/// The argument of one opcode, borrowed from the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg<'a> {
    /// No argument.
    None,
    /// An integer: BININT, BININT1, BININT2, INT and LONG text that fit in 64 bits, PROTO, EXT1/2/4.
    Int(i64),
    /// INT's protocol-0 booleans `00` and `01`.
    Bool(bool),
    /// INT or LONG text too large for 64 bits: the decimal digits as written (sign included, no `L`).
    BigInt(&'a str),
    /// LONG1/LONG4: little-endian two's complement bytes (empty means 0).
    Long(&'a [u8]),
    /// FLOAT (text) and BINFLOAT (big-endian double).
    Float(f64),
    /// Raw bytes: BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8, BINSTRING, SHORT_BINSTRING.
    Bytes(&'a [u8]),
    /// UTF-8 text: BINUNICODE, SHORT_BINUNICODE, BINUNICODE8 (validated).
    Str(&'a str),
    /// BINUNICODE, SHORT_BINUNICODE, BINUNICODE8 text holding encoded surrogates, which CPython
    /// decodes (`surrogatepass`) and Rust strings cannot hold: the bytes, valid otherwise.
    Surrogates(&'a [u8]),
    /// A protocol-0 text line without its newline, left uninterpreted: STRING (a quoted Python
    /// literal), UNICODE (raw-unicode-escape) and PERSID.
    Line(&'a [u8]),
    /// GLOBAL and INST: `module\nname\n`.
    Global {
        /// The module, e.g. `torch._utils`.
        module: &'a str,
        /// The attribute, e.g. `_rebuild_tensor_v2`.
        name: &'a str,
    },
    /// A memo index: GET, BINGET, LONG_BINGET, PUT, BINPUT, LONG_BINPUT.
    Memo(u64),
    /// FRAME: the length of the frame that follows.
    Frame(u64),
}

/// One decoded instruction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instr<'a> {
    /// Offset of the opcode byte within the input.
    pub offset: usize,
    /// The opcode.
    pub op: Opcode,
    /// Its argument.
    pub arg: Arg<'a>,
}

/// What went wrong while decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpErrorKind {
    /// A byte that no protocol defines as an opcode.
    UnknownOpcode(u8),
    /// The input ended inside an argument (or before STOP).
    Truncated {
        /// The opcode being read; `None` when the input ended where an opcode was expected.
        op: Option<Opcode>,
        /// Bytes the argument needs.
        needed: u64,
        /// Bytes left in the input.
        available: u64,
    },
    /// A GLOBAL or INST line longer than [`MAX_LINE_LEN`].
    LineTooLong(Opcode),
    /// A length field that is negative.
    NegativeLength(Opcode),
    /// A text argument that is not what the opcode needs (bad digits, bad UTF-8, …).
    BadText(Opcode, &'static str),
}

/// A decoding error at a byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpError {
    /// Offset of the opcode byte (or of the end of input).
    pub offset: usize,
    /// What went wrong.
    pub kind: OpErrorKind,
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match &self.kind {
            OpErrorKind::UnknownOpcode(b) => write!(f, "unknown pickle opcode 0x{b:02x} at offset {at}"),
            OpErrorKind::Truncated { op: None, .. } => write!(f, "pickle ends at offset {at} without STOP"),
            OpErrorKind::Truncated {
                op: Some(op),
                needed,
                available,
            } => {
                write!(
                    f,
                    "pickle truncated: {op} at offset {at} needs {}, {} left",
                    crate::text::bytes(*needed),
                    crate::text::bytes(*available)
                )
            }
            OpErrorKind::LineTooLong(op) => {
                write!(f, "{op} at offset {at}: text argument longer than {MAX_LINE_LEN} bytes")
            }
            OpErrorKind::NegativeLength(op) => write!(f, "{op} at offset {at}: negative length"),
            OpErrorKind::BadText(op, what) => write!(f, "{op} at offset {at}: {what}"),
        }
    }
}

impl std::error::Error for OpError {}

/// The C unpickler's buffer when it reads a pickle from a file object (`pickle.load`,
/// `torch.load`, `np.load`), for [`decode_buffered`].
///
/// `_pickle.c`'s `load_frame` asks `_Unpickler_Read` for the whole frame. Unless those bytes are
/// already buffered, `_Unpickler_ReadFromFile` fetches them: with `peek` (a buffered file from
/// `open()`) only when the frame is under `PREFETCH` (8192) bytes *and* `peek` returns the whole
/// frame (it returns what the file's buffer holds, so that depends on where the frame falls);
/// otherwise (always on an `io.BytesIO`, which has no `peek`) with one `read(frame_len)`, which
/// moves the file to the frame's end. A later read that wants more than the buffer has left goes
/// back to the file (`_Unpickler_ReadImpl`, `_Unpickler_Readline`): the bytes left in a buffer that
/// `read()` filled are dropped, and the argument is read from the frame's end. Python's own
/// `_Unframer` raises there instead, and a reader of the bytes in order (`pickle.loads`, a peeked
/// buffer) reads on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameBuffer {
    /// End of the frame the unpickler holds from one `read()` (`None`: it reads the stream in
    /// order, no frame buffered, or a frame already left).
    pub end: Option<usize>,
    /// Whether a read running past [`FrameBuffer::end`] is taken from there, as the C unpickler
    /// does; `false` reads on in order and only reports the crossing.
    pub jump: bool,
    /// Set when an argument ran past the frame and then failed to decode (the error says what
    /// failed; the crossing would otherwise be lost with it).
    pub crossed_then_failed: bool,
}

/// Decode the instruction at `pos`; returns it and the position of the next one.
#[inline]
pub fn decode(data: &[u8], pos: usize) -> Result<(Instr<'_>, usize), OpError> {
    decode_in(data, pos, None).map(|(i, next, _)| (i, next))
}

/// [`decode`] as CPython's C unpickler reads a file object that hands it each frame with one
/// `read()` (see [`FrameBuffer`]): a FRAME fills `buf`, and a read running past its end is taken
/// from there (when `buf.jump`). Also returns where the first read that ran past a frame's end
/// started, if one did (with `buf.jump` false the bytes are read on in order).
#[inline]
pub fn decode_buffered<'a>(
    data: &'a [u8],
    pos: usize,
    buf: &mut FrameBuffer,
) -> Result<(Instr<'a>, usize, Option<usize>), OpError> {
    decode_in(data, pos, Some(buf))
}

#[inline]
fn decode_in<'a>(
    data: &'a [u8],
    pos: usize,
    mut buf: Option<&mut FrameBuffer>,
) -> Result<(Instr<'a>, usize, Option<usize>), OpError> {
    if let Some(b) = buf.as_deref_mut()
        && b.end.is_some_and(|e| pos >= e)
    {
        // the opcode byte itself is read from the file: the buffer is used up
        b.end = None;
    }
    let Some(&byte) = data.get(pos) else {
        let offset = pos.min(data.len());
        return Err(OpError {
            offset,
            kind: OpErrorKind::Truncated {
                op: None,
                needed: 1,
                available: 0,
            },
        });
    };
    let Some(op) = Opcode::from_byte(byte) else {
        return Err(OpError {
            offset: pos,
            kind: OpErrorKind::UnknownOpcode(byte),
        });
    };
    let mut r = Reader {
        data,
        pos: pos + 1,
        at: pos,
        op,
        limit: buf.as_deref().and_then(|b| b.end),
        jump: buf.as_deref().is_some_and(|b| b.jump),
        crossed: None,
    };
    use Opcode as O;
    // the argument, read through the frame buffer (a closure, so that a failed read's crossing
    // is still known below)
    let read = |r: &mut Reader<'a>| -> Result<Arg<'a>, OpError> {
        Ok(match op {
            O::Mark
            | O::Stop
            | O::Pop
            | O::PopMark
            | O::Dup
            | O::None
            | O::BinPersId
            | O::Reduce
            | O::Append
            | O::Build
            | O::Dict
            | O::EmptyDict
            | O::Appends
            | O::List
            | O::EmptyList
            | O::Obj
            | O::SetItem
            | O::Tuple
            | O::EmptyTuple
            | O::SetItems
            | O::NewObj
            | O::Tuple1
            | O::Tuple2
            | O::Tuple3
            | O::NewTrue
            | O::NewFalse
            | O::EmptySet
            | O::AddItems
            | O::FrozenSet
            | O::NewObjEx
            | O::StackGlobal
            | O::Memoize
            | O::NextBuffer
            | O::ReadonlyBuffer => Arg::None,
            O::Float => {
                let l = r.line()?;
                Arg::Float(float_text(r, l)?)
            }
            O::Int => {
                let l = r.line()?;
                int_text(r, l, false)?
            }
            O::Long => {
                let l = r.line()?;
                int_text(r, l, true)?
            }
            O::BinInt => Arg::Int(i64::from(r.i32()?)),
            O::BinInt1 => Arg::Int(i64::from(r.u8()?)),
            O::BinInt2 => Arg::Int(i64::from(r.u16()?)),
            O::PersId | O::String | O::Unicode => Arg::Line(r.line()?),
            O::BinString => {
                let n = r.len_i32()?;
                Arg::Bytes(r.take(n)?)
            }
            O::ShortBinString | O::ShortBinBytes => {
                let n = r.u8()?;
                Arg::Bytes(r.take(u64::from(n))?)
            }
            O::BinBytes => {
                let n = r.len_u32()?;
                Arg::Bytes(r.take(n)?)
            }
            O::BinBytes8 | O::ByteArray8 => {
                let n = r.u64()?;
                Arg::Bytes(r.take(n)?)
            }
            O::BinUnicode => {
                let n = r.len_u32()?;
                r.utf8(n)?
            }
            O::ShortBinUnicode => {
                let n = r.u8()?;
                r.utf8(u64::from(n))?
            }
            O::BinUnicode8 => {
                let n = r.u64()?;
                r.utf8(n)?
            }
            O::Global | O::Inst => {
                let module = r.text_line()?;
                let name = r.text_line()?;
                Arg::Global { module, name }
            }
            O::Get | O::Put => {
                let line = r.line()?;
                let v = memo_text(line).ok_or_else(|| r.err(OpErrorKind::BadText(op, "not a memo index")))?;
                Arg::Memo(v)
            }
            O::BinGet | O::BinPut => Arg::Memo(u64::from(r.u8()?)),
            O::LongBinGet | O::LongBinPut => Arg::Memo(r.len_u32()?),
            O::BinFloat => Arg::Float(f64::from_be_bytes(r.fixed()?)),
            O::Proto | O::Ext1 => Arg::Int(i64::from(r.u8()?)),
            O::Ext2 => Arg::Int(i64::from(r.u16()?)),
            O::Ext4 => Arg::Int(i64::from(r.i32()?)),
            O::Long1 => {
                let n = r.u8()?;
                Arg::Long(r.take(u64::from(n))?)
            }
            O::Long4 => {
                let n = r.len_i32()?;
                Arg::Long(r.take(n)?)
            }
            O::Frame => {
                let n = r.u64()?;
                r.refill(n);
                let available = (data.len() - r.pos) as u64;
                // the pure-Python unpickler (joblib.load's) makes a frame of what a short read gives
                // and reads on: the scan's reading goes on too (the walk says so); others refuse it as
                // the C unpickler does
                if n > available && buf.is_none() {
                    return Err(r.err(OpErrorKind::Truncated {
                        op: Some(op),
                        needed: n,
                        available,
                    }));
                }
                if r.limit.is_none() && buf.is_some() {
                    // a frame not already in the buffer is read whole into it (load_frame), and the
                    // unpickler rewinds to its start
                    r.limit = Some(r.pos + n.min(available) as usize);
                }
                Arg::Frame(n)
            }
        })
    };
    let arg = match read(&mut r) {
        Ok(arg) => arg,
        Err(e) => {
            // an argument that ran past the frame and then failed to parse: the C unpickler's
            // reading (from the frame's end) is still owed a walk
            if let (Some(b), Some(_)) = (buf, r.crossed) {
                b.crossed_then_failed = true;
            }
            return Err(e);
        }
    };
    if let Some(b) = buf {
        b.end = r.limit;
    }
    Ok((Instr { offset: pos, op, arg }, r.pos, r.crossed))
}

/// Iterator over the instructions of one pickle, from a start position through STOP.
///
/// After STOP (or an error) it yields nothing more; [`Ops::position`] then tells where the next
/// pickle of a stream (legacy `torch.save` stacks several) begins.
#[derive(Debug, Clone)]
pub struct Ops<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Ops<'a> {
    /// Decode `data` from its start.
    pub fn new(data: &'a [u8]) -> Self {
        Ops::at(data, 0)
    }

    /// Decode `data` from `pos`.
    pub fn at(data: &'a [u8], pos: usize) -> Self {
        Ops { data, pos, done: false }
    }

    /// Position of the next instruction (after STOP: the first byte after the pickle).
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Ops<'a> {
    type Item = Result<Instr<'a>, OpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match decode(self.data, self.pos) {
            Ok((i, next)) => {
                self.pos = next;
                self.done = i.op == Opcode::Stop;
                Some(Ok(i))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
#[path = "ops_tests.rs"]
mod tests;
