//! Compressed pickles (`.pkl.gz` from joblib or `pickle.load(gzip.open(…))`): what loaders sniff
//! and open is opened, up to a named limit, and the result scanned like any file:
//!
//! - gzip: every member, as Python's `gzip` module reads them one after another;
//! - zlib: joblib's default `compress=True` (and its `.z` files), every stream one after another,
//!   as joblib's `BinaryZlibFile` reads them; joblib sniffs the `0x78` first byte;
//! - LZMA "alone" (`5d 00 00`, joblib's `.lzma`) and xz (`.xz`), which joblib and `lzma.open` read;
//!
//! bz2 and zstd are named and called suspicious unscanned.

use miniz_oxide::inflate::stream::{InflateState, inflate};
use miniz_oxide::{DataFormat, MZFlush, MZStatus};

use super::{Collector, FileScan, Severity};

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
}

/// The compression of `data`, if its magic bytes name one.
pub(super) fn kind(data: &[u8]) -> Option<Compression> {
    if data.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(Compression::Gzip)
    } else if crate::formats::sniff::compression(data) == Some("zlib") {
        Some(Compression::Zlib)
    } else if crate::formats::sniff::compression(data) == Some("lzma") {
        Some(Compression::LzmaAlone)
    } else if data.starts_with(b"BZh") && data.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)) {
        Some(Compression::Bzip2)
    } else if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some(Compression::Xz)
    } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Compression::Zstd)
    } else {
        None
    }
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
    };
    if matches!(kind, Compression::Bzip2 | Compression::Zstd) {
        let why = format!(
            "cannot scan: {name}-compressed data is not opened (a pickle.load on the decompressed stream would run it)"
        );
        c.problem("", Some(0), Severity::Suspicious, why);
        return c.finish(path, name);
    }
    if depth >= super::MAX_LAYERS {
        let why = format!("cannot scan: more than {} compression layers", super::MAX_LAYERS);
        c.problem("", Some(0), Severity::Suspicious, why);
        return c.finish(path, name);
    }
    let opened = match kind {
        Compression::Gzip => gunzip(data, MAX_DECOMPRESSED),
        Compression::Zlib => unzlib(data, MAX_DECOMPRESSED),
        Compression::LzmaAlone | Compression::Xz => unlzma(data, kind == Compression::Xz, MAX_DECOMPRESSED),
        Compression::Bzip2 | Compression::Zstd => Err("not opened".into()),
    };
    match opened {
        Ok(plain) => {
            let mut f = inner(path, &plain);
            f.format = format!("{name}/{}", f.format);
            f
        }
        Err(why) => {
            c.problem(
                "",
                Some(0),
                Severity::Suspicious,
                format!("cannot scan the {name} data: {why}"),
            );
            c.finish(path, name)
        }
    }
}

/// Every zlib stream of `data`, concatenated, at most `limit` bytes: joblib's `BinaryZlibFile`
/// starts a new decompressor on whatever follows the end of a stream.
pub fn unzlib(data: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let rest = &data[pos..];
        if pos > 0 && crate::formats::sniff::compression(rest) != Some("zlib") {
            return Err(format!("{} bytes after the last zlib stream", rest.len()));
        }
        // the 2-byte header, the raw deflate data, the 4-byte Adler-32
        let used = inflate_member(&rest[2..], &mut out, limit)?;
        pos += 2 + used + 4;
        if pos > data.len() {
            return Err("a zlib stream is truncated".into());
        }
    }
    Ok(out)
}

/// Largest LZMA dictionary the decoder may grow to (liblzma's presets go up to 64 MiB; joblib
/// writes 8 MiB).
pub const MAX_LZMA_DICT: usize = 256 << 20;

/// An LZMA "alone" stream (or an xz container), at most `limit` bytes.
pub fn unlzma(data: &[u8], xz: bool, limit: u64) -> Result<Vec<u8>, String> {
    let mut out = Bounded {
        buf: Vec::new(),
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    };
    let mut input = data;
    let r = if xz {
        lzma_rs::xz_decompress(&mut input, &mut out)
    } else {
        let opts = lzma_rs::decompress::Options {
            memlimit: Some(MAX_LZMA_DICT),
            ..Default::default()
        };
        lzma_rs::lzma_decompress_with_options(&mut input, &mut out, &opts)
    };
    match r {
        Ok(()) => Ok(out.buf),
        Err(_) if out.buf.len() >= out.limit => Err(format!("it opens to more than {} bytes", out.limit)),
        Err(e) => Err(format!("the LZMA data is damaged or truncated ({e})")),
    }
}

/// A writer that refuses to grow past its limit.
struct Bounded {
    buf: Vec<u8>,
    limit: usize,
}

impl std::io::Write for Bounded {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + b.len() > self.limit {
            self.buf.resize(self.limit, 0);
            return Err(std::io::Error::other("over the limit"));
        }
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every member of a gzip file, concatenated, at most `limit` bytes.
pub fn gunzip(data: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let rest = &data[pos..];
        if pos > 0 && rest.iter().all(|&b| b == 0) {
            break; // trailing zero padding, which Python's gzip also ignores
        }
        let body = header_len(rest)?;
        let used = inflate_member(&rest[body..], &mut out, limit)?;
        // CRC32 and ISIZE follow each member
        pos += body + used + 8;
        if pos > data.len() {
            return Err("a gzip member is truncated".into());
        }
    }
    Ok(out)
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
        if out.len() + r.bytes_written > limit {
            return Err(format!("it opens to more than {limit} bytes"));
        }
        out.extend_from_slice(&buf[..r.bytes_written]);
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
mod tests {
    use super::*;

    fn gz(plain: &[u8]) -> Vec<u8> {
        let mut v = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
        v.extend(miniz_oxide::deflate::compress_to_vec(plain, 6));
        v.extend([0; 8]);
        v
    }

    #[test]
    fn members_are_concatenated_and_bounded() {
        let two = [gz(b"abc"), gz(b"def")].concat();
        assert_eq!(gunzip(&two, 100).unwrap(), b"abcdef");
        assert!(gunzip(&gz(&[7u8; 5000]), 4096).unwrap_err().contains("more than 4096"));
        assert!(gunzip(&gz(b"abc")[..12], 100).is_err());
        assert_eq!(kind(&gz(b"x")), Some(Compression::Gzip));
        assert_eq!(kind(b"BZh91AY"), Some(Compression::Bzip2));
        assert_eq!(kind(b"\x80\x02"), None);
    }

    #[test]
    fn zlib_streams_and_lzma_alone_are_opened_and_bounded() {
        let z = miniz_oxide::deflate::compress_to_vec_zlib(b"abc", 6);
        assert_eq!(kind(&z), Some(Compression::Zlib));
        assert_eq!(unzlib(&[z.clone(), z.clone()].concat(), 100).unwrap(), b"abcabc");
        assert!(unzlib(&z[..z.len() - 3], 100).is_err());
        let big = miniz_oxide::deflate::compress_to_vec_zlib(&[0u8; 5000], 6);
        assert!(unzlib(&big, 4096).unwrap_err().contains("more than 4096"));
        let mut l = Vec::new();
        lzma_rs::lzma_compress(&mut &[7u8; 5000][..], &mut l).unwrap();
        assert_eq!(kind(&l), Some(Compression::LzmaAlone));
        assert_eq!(unlzma(&l, false, 10_000).unwrap(), vec![7u8; 5000]);
        assert!(unlzma(&l, false, 4096).unwrap_err().contains("more than 4096"));
        let mut x = Vec::new();
        lzma_rs::xz_compress(&mut &b"xyz"[..], &mut x).unwrap();
        assert_eq!(unlzma(&x, true, 100).unwrap(), b"xyz");
    }
}
