//! LZMA "alone" and xz data (joblib's `.lzma` and `.xz`, pandas' `.xz`, what `tarfile` tries), read
//! as Python's `lzma.LZMAFile` reads it: stream after stream, of either kind, each "alone" header
//! taken as liblzma's format detection takes it.

use super::decoded::{Bounded, Stopped, opened};

/// Whether liblzma's format detection (`lzma.LZMAFile`'s default) reads `data` as an LZMA "alone"
/// stream: a properties byte with lc + lp at most 4, a dictionary of 2^n or 2^n + 2^(n-1) bytes,
/// and an unpacked size under 256 GiB or unknown.
pub(super) fn liblzma_takes_alone(data: &[u8]) -> bool {
    let Some(h) = data.get(..13) else {
        return false;
    };
    let props = h[0];
    let (lc, lp) = (props % 9, props / 9 % 5);
    let dict = u32::from_le_bytes([h[1], h[2], h[3], h[4]]);
    let size = u64::from_le_bytes([h[5], h[6], h[7], h[8], h[9], h[10], h[11], h[12]]);
    let mut d = dict.wrapping_sub(1);
    for shift in [2, 3, 4, 8, 16] {
        d |= d >> shift;
    }
    let dict_ok = dict == u32::MAX || d.wrapping_add(1) == dict;
    props < 225 && lc + lp <= 4 && dict_ok && (size == u64::MAX || size < 1 << 38)
}

/// Largest LZMA dictionary the decoder may grow to (the zip reader's, for LZMA members too).
pub use crate::formats::pickle::zip::MAX_LZMA_DICT;

/// Every LZMA "alone" or xz stream of `data`, concatenated, at most `limit` bytes, as Python's
/// `lzma.LZMAFile` reads them: after the end of a stream it starts a new decoder on what follows,
/// of either kind. Zero bytes after a stream (xz's stream padding) end the data; other bytes that
/// open no stream are an error, with everything before them kept, since `LZMAFile` would read a
/// stream there that this decoder cannot.
pub fn unlzma(data: &[u8], xz: bool, limit: u64) -> Result<Vec<u8>, Stopped> {
    opened(|buf| {
        let (mut pos, mut xz) = (0, xz);
        loop {
            pos += lzma_stream(&data[pos..], xz, buf, limit)?;
            let rest = &data[pos..];
            if rest.iter().all(|&b| b == 0) {
                return Ok(());
            }
            xz = crate::formats::sniff::compression(rest) == Some("xz");
            if !xz && !liblzma_takes_alone(rest) {
                return Err(format!(
                    "{} bytes after the last LZMA stream are not a stream",
                    rest.len()
                ));
            }
        }
    })
}

/// Decode the one LZMA stream that `data` starts with onto `buf`; the bytes it takes up.
fn lzma_stream(data: &[u8], xz: bool, buf: &mut Vec<u8>, limit: u64) -> Result<usize, String> {
    let start = buf.len();
    let used = one_stream(data, xz, false, buf, limit)?;
    if xz || used == data.len() || data.get(5..13) == Some(&[0xff; 8][..]) {
        return Ok(used);
    }
    // a declared size may be followed by an end marker, which liblzma reads as part of the stream
    // (lzma_rs stops at the size, before it): where one follows, the stream ends after it
    let mut scratch = Vec::new();
    match one_stream(data, false, true, &mut scratch, limit) {
        Ok(end) if scratch.len() == buf.len() - start => Ok(end),
        _ => Ok(used),
    }
}

/// [`lzma_stream`] with the end marker required (`marker`, for "alone" data) or as the header says.
fn one_stream(data: &[u8], xz: bool, marker: bool, buf: &mut Vec<u8>, limit: u64) -> Result<usize, String> {
    let start = buf.len();
    let mut input = data;
    match decode_lzma(&mut input, xz, marker, buf, limit) {
        Ok(()) => Ok(data.len() - input.len()),
        Err(LzmaStop::Over(why)) => Err(why),
        Err(LzmaStop::Damaged(why)) => {
            // lzma_rs refuses a stream that more bytes follow (after the end marker or the xz
            // footer), leaving its input where the stream ended: decode that stretch alone
            let used = data.len() - input.len();
            if used > 0 && !input.is_empty() {
                buf.truncate(start);
                let mut again = &data[..used];
                if decode_lzma(&mut again, xz, marker, buf, limit).is_ok() {
                    return Ok(used);
                }
            }
            Err(why)
        }
    }
}

/// Why [`decode_lzma`] stopped.
enum LzmaStop {
    /// The output passed the limit.
    Over(String),
    /// The data is damaged, truncated, or more bytes follow the stream.
    Damaged(String),
}

/// One LZMA stream from `input` onto `buf`, which stays within `limit` bytes; `marker`: read
/// "alone" data up to its end marker, whatever size its header declares.
fn decode_lzma(input: &mut &[u8], xz: bool, marker: bool, buf: &mut Vec<u8>, limit: u64) -> Result<(), LzmaStop> {
    let mut out = Bounded::new(buf, limit);
    let r = if xz {
        lzma_rs::xz_decompress(input, &mut out)
    } else {
        let opts = lzma_rs::decompress::Options {
            memlimit: Some(MAX_LZMA_DICT),
            unpacked_size: match marker {
                true => lzma_rs::decompress::UnpackedSize::ReadHeaderButUseProvided(None),
                false => lzma_rs::decompress::UnpackedSize::ReadFromHeader,
            },
            ..Default::default()
        };
        lzma_rs::lzma_decompress_with_options(input, &mut out, &opts)
    };
    match (r, out.over.take()) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(over)) => Err(LzmaStop::Over(over)),
        (Err(e), None) => Err(LzmaStop::Damaged(format!(
            "the LZMA data is damaged or truncated ({e})"
        ))),
    }
}
