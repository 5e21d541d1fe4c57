//! Compressed pickles (`.pkl.gz` from joblib or `pickle.load(gzip.open(…))`): what loaders sniff
//! and open is opened, up to a named limit, and the result scanned like any file:
//!
//! - gzip: every member, as Python's `gzip` module reads them one after another;
//! - zlib: joblib's default `compress=True` (and its `.z` files), every stream one after another,
//!   as joblib's `BinaryZlibFile` reads them; joblib sniffs the `0x78` first byte;
//! - LZMA "alone" (`5d 00`, joblib's `.lzma`) and xz (`.xz`), which joblib and `lzma.open` read:
//!   every stream one after another, of either kind, as `lzma.LZMAFile` reads them;
//! - bzip2 (joblib's `.bz2`, pandas' `.bz2`): every stream one after another, as Python's
//!   `bz2.BZ2File` reads them, data after the last stream that is not one ignored as it ignores it;
//! - zstd (pandas' `.zst`, Python 3.14's `compression.zstd`): every frame one after another,
//!   skippable frames skipped, windows up to libzstd's default limit (128 MiB), as those read them.
//! - LZ4 frames (joblib's `.lz4`), every frame one after another, skippable frames skipped, as
//!   `lz4.frame.LZ4FrameFile` reads them (the `lz4` module).
//!
//! Every decompressor stops at [`MAX_DECOMPRESSED`] bytes of output: a bomb is suspicious, unscanned.

use miniz_oxide::inflate::stream::{InflateState, inflate};
use miniz_oxide::{DataFormat, MZFlush, MZStatus};

use super::decoded::{Bounded, Stopped, append, opened};
use super::{Collector, FileScan, Finding, Severity, Verdict};

/// Most bytes a compressed file is opened to; a larger result is suspicious, not scanned.
pub const MAX_DECOMPRESSED: u64 = 256 << 20;

/// Compression formats recognised by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Compression {
    Gzip,
    Zlib,
    LzmaAlone,
    Bzip2,
    Xz,
    Zstd,
    /// joblib's format before 0.10 (`ZF`, the length in hex, one zlib stream), which `joblib.load`
    /// still reads.
    JoblibZf,
    /// LZ4 frames, which `joblib.load` opens when the `lz4` package is installed.
    Lz4,
}

/// The compression of `data`, if its magic bytes name one.
pub(super) fn kind(data: &[u8]) -> Option<Compression> {
    let sniffed = crate::formats::sniff::compression(data);
    if data.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(Compression::Gzip)
    } else if sniffed == Some("zlib") {
        Some(Compression::Zlib)
    } else if sniffed == Some("lzma") {
        Some(Compression::LzmaAlone)
    } else if data.starts_with(b"BZh") && data.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)) {
        Some(Compression::Bzip2)
    } else if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some(Compression::Xz)
    } else if data.starts_with(&ZSTD_MAGIC) || is_skippable(data) {
        Some(Compression::Zstd)
    } else if sniffed == Some("lz4") {
        Some(Compression::Lz4)
    } else if sniffed == Some("joblib-zf") {
        Some(Compression::JoblibZf)
    } else {
        None
    }
}

/// The compression a loader infers from the file's name where the magic bytes name none: pandas
/// opens `.xz` with `lzma.LZMAFile`, and `.tar` with `tarfile`, which tries `LZMAFile` too; that
/// takes LZMA "alone" data of any header liblzma's format detection accepts (`00 00 00 10 00`:
/// lc=lp=pb=0), not only joblib's `5d 00`.
pub(super) fn kind_by_name(path: &str, data: &[u8]) -> Option<Compression> {
    (crate::formats::sniff::lzma_by_name(path) && liblzma_takes_alone(data)).then_some(Compression::LzmaAlone)
}

/// Scan a compressed file: `inner` scans the decompressed bytes (one layer deeper).
pub(super) fn scan(
    mut c: Collector,
    path: String,
    data: &[u8],
    kind: Compression,
    depth: u32,
    inner: impl FnOnce(String, &[u8]) -> FileScan,
) -> FileScan {
    let name = match kind {
        Compression::Gzip => "gzip",
        Compression::Zlib => "zlib",
        Compression::LzmaAlone => "lzma",
        Compression::Bzip2 => "bzip2",
        Compression::Xz => "xz",
        Compression::Zstd => "zstd",
        Compression::JoblibZf => "joblib-zf",
        Compression::Lz4 => "lz4",
    };
    if depth >= super::MAX_LAYERS {
        let why = format!("cannot scan: more than {} compression layers", super::MAX_LAYERS);
        c.problem("", Some(0), Severity::Suspicious, why);
        return c.finish(path, name);
    }
    let opened = match kind {
        Compression::Gzip => gunzip(data, MAX_DECOMPRESSED),
        Compression::Zlib => unzlib(data, MAX_DECOMPRESSED),
        Compression::LzmaAlone | Compression::Xz => unlzma(data, kind == Compression::Xz, MAX_DECOMPRESSED),
        Compression::Bzip2 => unbzip2(data, MAX_DECOMPRESSED),
        Compression::Zstd => unzstd(data, MAX_DECOMPRESSED),
        Compression::JoblibZf => unzf(data, MAX_DECOMPRESSED),
        Compression::Lz4 => super::lz4::unlz4(data, MAX_DECOMPRESSED),
    };
    let (plain, stopped) = match opened {
        Ok(plain) => (plain, None),
        Err(s) => (s.got, Some(s.why)),
    };
    let Some(why) = stopped else {
        let mut f = inner(path, &plain);
        f.format = format!("{name}/{}", f.format);
        return f;
    };
    let cannot = format!("cannot scan the {name} data: {why}");
    if plain.is_empty() {
        c.problem("", Some(0), Severity::Suspicious, cannot);
        return c.finish(path, name);
    }
    // a loader reading the stream lazily has run what came before the stop: scan that
    let mut f = inner(path.clone(), &plain);
    if f.verdict == Verdict::Error || f.format == "unknown" {
        c.problem("", Some(0), Severity::Suspicious, cannot);
        return c.finish(path, name);
    }
    f.format = format!("{name}/{}", f.format);
    f.findings.insert(
        0,
        Finding {
            entry: String::new(),
            global: None,
            severity: Severity::Suspicious,
            offset: None,
            why: format!(
                "the {name} data is readable only in part ({why}); the {} bytes opened before that are scanned",
                plain.len()
            ),
            loaders: Vec::new(),
        },
    );
    f.verdict = f.verdict.max(Verdict::Suspicious);
    f
}

/// Every zlib stream of `data`, concatenated, at most `limit` bytes: joblib's `BinaryZlibFile`
/// starts a new decompressor on whatever follows the end of a stream.
pub fn unzlib(data: &[u8], limit: u64) -> Result<Vec<u8>, Stopped> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    opened(|out| {
        let mut pos = 0;
        while pos < data.len() {
            let rest = &data[pos..];
            if pos > 0 && crate::formats::sniff::compression(rest) != Some("zlib") {
                return Err(format!("{} bytes after the last zlib stream", rest.len()));
            }
            // the 2-byte header, the raw deflate data, the 4-byte Adler-32
            let used = inflate_member(&rest[2..], out, limit)?;
            pos += 2 + used + 4;
            if pos > data.len() {
                return Err("a zlib stream is truncated".into());
            }
        }
        Ok(())
    })
}

/// joblib's old compressed format, as `numpy_pickle_compat.read_zfile` reads it: `ZF`, the length
/// in hex padded to 19 characters, an optional space, then one zlib stream (at most `limit` bytes).
pub fn unzf(data: &[u8], limit: u64) -> Result<Vec<u8>, Stopped> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    opened(|out| {
        let mut at = crate::formats::sniff::JOBLIB_ZF_HEADER;
        if data.get(at) == Some(&b' ') {
            at += 1;
        }
        let rest = data.get(at..).ok_or("the joblib ZF header is truncated")?;
        if rest.len() < 6 {
            return Err("the joblib ZF data is truncated".into());
        }
        inflate_member(&rest[2..], out, limit).map(|_| ())
    })
}

use super::lzma::liblzma_takes_alone;
pub use super::lzma::{MAX_LZMA_DICT, unlzma};

/// Every bzip2 stream of `data`, concatenated, at most `limit` bytes: Python's `BZ2File` starts a
/// new decompressor on whatever follows the end of a stream and ignores what is not a stream.
pub fn unbzip2(data: &[u8], limit: u64) -> Result<Vec<u8>, Stopped> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    opened(|out| {
        let mut buf = vec![0u8; 64 << 10];
        let mut pos = 0;
        while pos < data.len() {
            let rest = &data[pos..];
            if pos > 0 && crate::formats::sniff::compression(rest) != Some("bzip2") {
                break; // trailing data that is not a stream: BZ2File stops there
            }
            let mut d = bzip2::Decompress::new(false);
            let mut used = 0usize;
            loop {
                let (in_before, out_before) = (d.total_in(), d.total_out());
                let status = d
                    .decompress(&rest[used..], &mut buf)
                    .map_err(|e| format!("the bzip2 data is damaged ({e})"))?;
                let read =
                    usize::try_from(d.total_in() - in_before).map_err(|_| "a bzip2 count overflows".to_owned())?;
                let wrote =
                    usize::try_from(d.total_out() - out_before).map_err(|_| "a bzip2 count overflows".to_owned())?;
                used += read;
                append(out, &buf[..wrote], limit)?;
                match status {
                    bzip2::Status::StreamEnd => break,
                    _ if read == 0 && wrote == 0 => return Err("the bzip2 data is truncated".into()),
                    _ => {}
                }
            }
            pos += used;
        }
        Ok(())
    })
}

/// The zstd frame magic number.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Largest zstd window the decoder accepts: libzstd's default limit for decompression
/// (`ZSTD_WINDOWLOG_LIMIT_DEFAULT`, 2^27), which Python's zstd modules keep.
pub const MAX_ZSTD_WINDOW: u64 = 1 << 27;

/// Whether `data` starts with a zstd skippable frame (magic `0x184D2A50`..`0x184D2A5F`).
fn is_skippable(data: &[u8]) -> bool {
    data.len() >= 8 && data[0] & 0xf0 == 0x50 && data[1..4] == [0x2a, 0x4d, 0x18]
}

/// Every zstd frame of `data`, concatenated, at most `limit` bytes; skippable frames are skipped and
/// data after the last frame that is not a frame ends the stream, as Python's zstd readers do.
pub fn unzstd(data: &[u8], limit: u64) -> Result<Vec<u8>, Stopped> {
    use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
    opened(|buf| {
        let mut out = Bounded::new(buf, limit);
        let mut dec = FrameDecoder::new();
        dec.set_max_window_size(MAX_ZSTD_WINDOW);
        let mut src = data;
        let mut first = true;
        while !src.is_empty() {
            if is_skippable(src) {
                let n = u32::from_le_bytes([src[4], src[5], src[6], src[7]]);
                let end = usize::try_from(n)
                    .ok()
                    .and_then(|n| n.checked_add(8))
                    .filter(|&e| e <= src.len())
                    .ok_or("a zstd skippable frame runs past the end")?;
                src = &src[end..];
                continue;
            }
            if !src.starts_with(&ZSTD_MAGIC) {
                if first {
                    return Err("no zstd frame".into());
                }
                break;
            }
            first = false;
            dec.reset(&mut src)
                .map_err(|e| format!("the zstd frame header is damaged ({e})"))?;
            loop {
                // a block opens to at most 128 KiB: the decoder holds the window and 1 MiB more
                let done = dec
                    .decode_blocks(&mut src, BlockDecodingStrategy::UptoBytes(1 << 20))
                    .map_err(|e| format!("the zstd data is damaged or truncated ({e})"))?;
                if dec.collect_to_writer(&mut out).is_err() {
                    return Err(out
                        .over
                        .take()
                        .unwrap_or_else(|| "the zstd data cannot be written".into()));
                }
                if done {
                    break;
                }
            }
        }
        if first {
            return Err("no zstd frame".into());
        }
        Ok(())
    })
}

/// Every member of a gzip file, concatenated, at most `limit` bytes.
pub fn gunzip(data: &[u8], limit: u64) -> Result<Vec<u8>, Stopped> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    opened(|out| {
        let mut pos = 0;
        while pos < data.len() {
            let rest = &data[pos..];
            if pos > 0 && rest.first() == Some(&0) {
                // zero padding after a member, which Python's gzip skips (and reads on after it)
                pos += rest.iter().position(|&b| b != 0).unwrap_or(rest.len());
                continue;
            }
            let body = header_len(rest)?;
            let used = inflate_member(&rest[body..], out, limit)?;
            // CRC32 and ISIZE follow each member
            pos += body + used + 8;
            if pos > data.len() {
                return Err("a gzip member is truncated".into());
            }
        }
        Ok(())
    })
}

/// Length of a gzip member header (RFC 1952).
fn header_len(d: &[u8]) -> Result<usize, String> {
    if !d.starts_with(&[0x1f, 0x8b, 0x08]) || d.len() < 10 {
        return Err("not a gzip member header".into());
    }
    let flags = d[3];
    let mut at = 10usize;
    let trunc = || "the gzip header is truncated".to_owned();
    if flags & 4 != 0 {
        let n = d.get(at..at + 2).ok_or_else(trunc)?;
        at += 2 + usize::from(u16::from_le_bytes([n[0], n[1]]));
    }
    for bit in [8u8, 16] {
        if flags & bit != 0 {
            let z = d
                .get(at..)
                .and_then(|r| r.iter().position(|&b| b == 0))
                .ok_or_else(trunc)?;
            at += z + 1;
        }
    }
    if flags & 2 != 0 {
        at += 2;
    }
    if at > d.len() {
        return Err(trunc());
    }
    Ok(at)
}

/// Inflate one raw deflate stream onto `out`; returns the input bytes it used.
fn inflate_member(raw: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<usize, String> {
    let mut state = InflateState::new_boxed(DataFormat::Raw);
    let mut used = 0;
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let r = inflate(&mut state, &raw[used..], &mut buf, MZFlush::None);
        used += r.bytes_consumed;
        append(out, &buf[..r.bytes_written], limit)?;
        match r.status {
            Ok(MZStatus::StreamEnd) => return Ok(used),
            Ok(_) if r.bytes_consumed == 0 && r.bytes_written == 0 => {
                return Err("the deflate data is truncated".into());
            }
            Ok(_) => {}
            Err(e) => return Err(format!("the deflate data is damaged ({e:?})")),
        }
    }
}

#[cfg(test)]
#[path = "compress_tests.rs"]
mod tests;
