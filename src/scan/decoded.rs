//! What every decompressor of the scan returns: the bytes it opened, bounded by a limit, and
//! where it stopped early, why (a loader that reads a stream lazily has already run what came
//! before the damage, so those bytes are scanned too).

/// A decompression that stopped before the end of its input: what it opened until then (at most
/// the limit), and why it stopped. A loader reading a stream lazily has run what came before.
#[derive(Debug)]
pub struct Stopped {
    /// The bytes opened before the stop.
    pub got: Vec<u8>,
    /// Why it stopped, in a few words.
    pub why: String,
}

/// Run a decompressor that writes onto a buffer; when it fails, what it wrote is kept.
pub fn opened(run: impl FnOnce(&mut Vec<u8>) -> Result<(), String>) -> Result<Vec<u8>, Stopped> {
    let mut out = Vec::new();
    match run(&mut out) {
        Ok(()) => Ok(out),
        Err(why) => Err(Stopped { got: out, why }),
    }
}

/// Append `b` to `out`, stopping at `limit` bytes with the error every decompressor gives.
pub fn append(out: &mut Vec<u8>, b: &[u8], limit: usize) -> Result<(), String> {
    let room = limit.saturating_sub(out.len());
    out.extend_from_slice(&b[..b.len().min(room)]);
    if b.len() > room {
        return Err(format!("it opens to more than {limit} bytes"));
    }
    Ok(())
}

/// A writer that refuses to grow past its limit (keeping what fits).
pub(super) struct Bounded<'a> {
    buf: &'a mut Vec<u8>,
    limit: usize,
    /// The error once the limit is passed.
    pub(super) over: Option<String>,
}

impl Bounded<'_> {
    pub(super) fn new(buf: &mut Vec<u8>, limit: u64) -> Bounded<'_> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Bounded { buf, limit, over: None }
    }
}

impl std::io::Write for Bounded<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Err(why) = append(self.buf, b, self.limit) {
            self.over = Some(why);
            return Err(std::io::Error::other("over the limit"));
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
