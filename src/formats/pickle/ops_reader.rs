//! The cursor the opcode decoder reads arguments with: bounds-checked reads that follow the C
//! unpickler's frame buffer when asked to ([`super::decode_buffered`]).

use super::{Arg, MAX_LINE_LEN, OpError, OpErrorKind, Opcode};

pub(super) struct Reader<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
    pub(super) at: usize,
    pub(super) op: Opcode,
    /// The frame buffer end, when reading as the C unpickler ([`decode_buffered`]).
    pub(super) limit: Option<usize>,
    /// Whether a crossing read jumps to `limit`.
    pub(super) jump: bool,
    /// Where the first read that ran past `limit` started.
    pub(super) crossed: Option<usize>,
}

impl<'a> Reader<'a> {
    pub(super) fn err(&self, kind: OpErrorKind) -> OpError {
        OpError { offset: self.at, kind }
    }

    /// Before a read of `n` bytes: one that the frame buffer cannot satisfy goes to the file, which
    /// stands at the buffer's end (see [`super::FrameBuffer`]).
    pub(super) fn refill(&mut self, n: u64) {
        let Some(end) = self.limit else { return };
        if self.pos <= end && n <= (end - self.pos) as u64 {
            return;
        }
        self.leave(end);
    }

    /// Leave the frame buffer ending at `end`: the bytes left in it are dropped (when jumping).
    pub(super) fn leave(&mut self, end: usize) {
        if self.pos < end {
            self.crossed.get_or_insert(self.pos);
            if self.jump {
                self.pos = end;
            }
        }
        self.limit = None;
    }

    pub(super) fn take(&mut self, n: u64) -> Result<&'a [u8], OpError> {
        self.refill(n);
        let available = (self.data.len() - self.pos) as u64;
        if n > available {
            return Err(self.err(OpErrorKind::Truncated {
                op: Some(self.op),
                needed: n,
                available,
            }));
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    pub(super) fn fixed<const N: usize>(&mut self) -> Result<[u8; N], OpError> {
        let s = self.take(N as u64)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub(super) fn u8(&mut self) -> Result<u8, OpError> {
        Ok(self.fixed::<1>()?[0])
    }

    pub(super) fn u16(&mut self) -> Result<u16, OpError> {
        Ok(u16::from_le_bytes(self.fixed()?))
    }

    pub(super) fn i32(&mut self) -> Result<i32, OpError> {
        Ok(i32::from_le_bytes(self.fixed()?))
    }

    pub(super) fn u64(&mut self) -> Result<u64, OpError> {
        Ok(u64::from_le_bytes(self.fixed()?))
    }

    /// A 4-byte signed length as protocol 1..3 write them.
    pub(super) fn len_i32(&mut self) -> Result<u64, OpError> {
        let n = self.i32()?;
        u64::try_from(n).map_err(|_| self.err(OpErrorKind::NegativeLength(self.op)))
    }

    /// A 4-byte length that Python reads as unsigned (BINUNICODE, BINBYTES).
    pub(super) fn len_u32(&mut self) -> Result<u64, OpError> {
        Ok(u64::from(u32::from_le_bytes(self.fixed()?)))
    }

    /// A `\n`-terminated line, however long.
    pub(super) fn line(&mut self) -> Result<&'a [u8], OpError> {
        self.line_upto(usize::MAX)
    }

    /// A `\n`-terminated line of at most `cap` bytes.
    pub(super) fn line_upto(&mut self, cap: usize) -> Result<&'a [u8], OpError> {
        if let Some(end) = self.limit {
            // a line the buffer does not finish is read from the file with readline()
            let held = self.data.get(self.pos..end).unwrap_or_default();
            if memchr::memchr(b'\n', held).is_none() {
                self.leave(end);
            }
        }
        let rest = &self.data[self.pos..];
        let window = &rest[..rest.len().min(cap.saturating_add(1))];
        // memchr: a line may run for gigabytes (all-zero tensor data after a line opcode)
        match memchr::memchr(b'\n', window) {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            // a module or name holding a NUL imports nothing (CPython raises): not a limit
            None if rest.len() > cap && memchr::memchr(0, window).is_some() => {
                Err(self.err(OpErrorKind::BadText(self.op, "name holds a NUL byte")))
            }
            None if rest.len() > cap => Err(self.err(OpErrorKind::LineTooLong(self.op))),
            None => Err(self.err(OpErrorKind::Truncated {
                op: Some(self.op),
                needed: rest.len() as u64 + 1,
                available: rest.len() as u64,
            })),
        }
    }

    /// A GLOBAL or INST line (at most [`MAX_LINE_LEN`] bytes), as UTF-8.
    pub(super) fn text_line(&mut self) -> Result<&'a str, OpError> {
        let l = self.line_upto(MAX_LINE_LEN)?;
        std::str::from_utf8(l).map_err(|_| self.err(OpErrorKind::BadText(self.op, "text is not UTF-8")))
    }

    pub(super) fn utf8(&mut self, n: u64) -> Result<Arg<'a>, OpError> {
        let b = self.take(n)?;
        match std::str::from_utf8(b) {
            Ok(t) => Ok(Arg::Str(t)),
            Err(_) if crate::formats::pickle::literal::is_surrogatepass_utf8(b) => Ok(Arg::Surrogates(b)),
            Err(_) => Err(self.err(OpErrorKind::BadText(self.op, "string is not UTF-8"))),
        }
    }
}
