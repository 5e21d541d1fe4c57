//! Compressed pickles (`.pkl.gz` from joblib or `pickle.load(gzip.open(…))`): gzip is opened —
//! every member, as Python's `gzip` module reads them one after another — up to a named limit and
//! the result scanned like any file; bz2, xz and zstd are named and called suspicious unscanned.

use miniz_oxide::inflate::stream::{InflateState, inflate};
use miniz_oxide::{DataFormat, MZFlush, MZStatus};

use super::{Collector, FileScan, Severity};

/// Most bytes a compressed file is opened to; a larger result is suspicious, not scanned.
pub const MAX_DECOMPRESSED: u64 = 256 << 20;

/// Compression formats recognised by their magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Compression {
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

/// The compression of `data`, if its magic bytes name one.
pub(super) fn kind(data: &[u8]) -> Option<Compression> {
    if data.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(Compression::Gzip)
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
        Compression::Bzip2 => "bzip2",
        Compression::Xz => "xz",
        Compression::Zstd => "zstd",
    };
    if kind != Compression::Gzip {
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
    match gunzip(data, MAX_DECOMPRESSED) {
        Ok(plain) => {
            let mut f = inner(path, &plain);
            f.format = format!("gzip/{}", f.format);
            f
        }
        Err(why) => {
            c.problem(
                "",
                Some(0),
                Severity::Suspicious,
                format!("cannot scan the gzip data: {why}"),
            );
            c.finish(path, name)
        }
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
}
