//! A bounds-checked little-endian reader over the bytes of a GGUF file: every read names what it was
//! reading, and a short file says how many bytes were needed and how many there are.

use std::path::Path;

use crate::{Error, Result};

/// Reads values front to back; never panics, never allocates more than the bytes it was given hold.
pub(crate) struct Cursor<'a> {
    pub(crate) path: &'a Path,
    pub(crate) data: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(path: &'a Path, data: &'a [u8]) -> Self {
        Cursor { path, data, pos: 0 }
    }

    /// The error for a file that ends before `need` more bytes at the current position.
    pub(crate) fn truncated(&self, what: &str, need: u64) -> Error {
        let end = (self.pos as u64).saturating_add(need);
        Error::format(
            self.path,
            format!(
                "truncated GGUF file at {} of at least {} (reading {what} needs {need} bytes at offset {}): \
                 re-download it",
                crate::text::bytes(self.data.len() as u64),
                crate::text::bytes(end),
                self.pos
            ),
        )
    }

    pub(crate) fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8]> {
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| self.pos.checked_add(n))
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| self.truncated(what, n))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let s = self.take(N as u64, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn u16(&mut self, what: &str) -> Result<u16> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// Bytes left after the current position.
    pub(crate) fn remaining(&self) -> u64 {
        (self.data.len() - self.pos) as u64
    }

    pub(crate) fn err(&self, msg: impl Into<String>) -> Error {
        Error::format(self.path, msg.into())
    }
}
