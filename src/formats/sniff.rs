//! Format detection from the first bytes of a file, never from its name. Also recognises the usual
//! impostors (a Git LFS pointer, an HTML error page, a tar archive) so errors can say what a file is.

/// What the first bytes of a file look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 8-byte little-endian length followed by `{`.
    Safetensors,
    /// A zip archive (`PK\x03\x04`, or `PK\x05\x06` for an empty one): torch zip or numpy `.npz`.
    Zip,
    /// A pickle stream (`\x80` PROTO with protocol 2 to 5): legacy torch or a raw pickle.
    Pickle,
    /// numpy `.npy` (`\x93NUMPY`).
    Npy,
    /// GGUF (llama.cpp), `GGUF` magic.
    Gguf,
    /// A Git LFS pointer file: the real weights were never downloaded.
    GitLfsPointer,
    /// An HTML page (a login or error page saved instead of the file).
    Html,
    /// A tar archive (ustar, or a V7 header with a valid checksum): the torch format before 1.6's
    /// legacy one, which `torch.load` still tries before the legacy pickle.
    Tar,
    /// A compressed stream (gzip, bzip2, xz, zstd): a `.pkl.gz` as joblib and users write them.
    Compressed,
    /// Nothing known.
    Unknown,
}

/// Bytes [`detect`] wants to see (the tar magic sits at offset 257).
pub const SNIFF_LEN: usize = 512;

/// Classify a file from its first bytes (pass at least [`SNIFF_LEN`] when the file has them).
pub fn detect(head: &[u8]) -> Kind {
    if head.starts_with(b"version https://git-lfs") {
        return Kind::GitLfsPointer;
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Kind::Zip;
    }
    if head.starts_with(b"\x93NUMPY") {
        return Kind::Npy;
    }
    if head.starts_with(b"GGUF") {
        return Kind::Gguf;
    }
    // before the pickle test: a header length such as 0x0380 also starts with the bytes of PROTO 3
    if head.len() >= 9 && head[8] == b'{' {
        return Kind::Safetensors;
    }
    if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        return Kind::Pickle;
    }
    if head.len() > 262 && &head[257..262] == b"ustar" || is_v7_tar(head) {
        return Kind::Tar;
    }
    if compression(head).is_some() {
        return Kind::Compressed;
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(256)]).to_ascii_lowercase();
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with("<!doctype html") || t.starts_with("<html") || t.starts_with("<?xml") || t.starts_with("<head") {
        return Kind::Html;
    }
    // protocol 0/1 pickles have no PROTO opcode; a raw pickle that starts with a mark or a dict opcode
    if matches!(head.first(), Some(b'(' | b'}' | b']' | b'c')) && head.last() == Some(&b'.') {
        return Kind::Pickle;
    }
    Kind::Unknown
}

/// The compression a stream starts with (`gzip`, `bzip2`, `xz`, `zstd`), from its magic bytes.
pub fn compression(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x1f\x8b") {
        Some("gzip")
    } else if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
        Some("bzip2")
    } else if head.starts_with(b"\xfd7zXZ\0") {
        Some("xz")
    } else if head.starts_with(b"\x28\xb5\x2f\xfd") || is_zstd_skippable(head) {
        // a zstd frame, or a skippable frame (magic 0x184D2A50 to 0x184D2A5F, then its size), which
        // zstd readers step over (pzstd writes one first)
        Some("zstd")
    } else if head.len() >= 2 && head[0] == 0x78 && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0 {
        // zlib (joblib's compress=True, `.z`): deflate with a 32 KiB window and a valid check
        Some("zlib")
    } else if head.starts_with(b"\x5d\0") {
        // LZMA "alone" (joblib's `.lzma`): lc=3 lp=0 pb=2, the usual properties, then a dictionary
        // size of any value whose low byte is 0 (joblib sniffs these two bytes, `lzma` takes any size)
        Some("lzma")
    } else if head.starts_with(b"\x04\x22\x4d\x18") {
        // an LZ4 frame (joblib's `.lz4`)
        Some("lz4")
    } else if is_joblib_zf(head) {
        Some("joblib-zf")
    } else {
        None
    }
}

/// Whether `head` starts with a zstd skippable frame's magic and size.
fn is_zstd_skippable(head: &[u8]) -> bool {
    head.len() >= 8 && head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18]
}

/// joblib's format before 0.10, which `joblib.load` still reads: `ZF`, 19 characters that
/// `int(text, 16)` takes as the length (`0x22` or `34`, padded with spaces), an optional space, then
/// a zlib stream.
fn is_joblib_zf(head: &[u8]) -> bool {
    let Some(len) = head.strip_prefix(b"ZF").and_then(|h| h.get(..JOBLIB_ZF_HEADER - 2)) else {
        return false;
    };
    let digits =
        len.iter().all(|b| b.is_ascii_hexdigit() || b" \t_xX+".contains(b)) && len.iter().any(u8::is_ascii_hexdigit);
    let zlib = |at: usize| head.get(at) == Some(&0x78);
    digits && (zlib(JOBLIB_ZF_HEADER) || head.get(JOBLIB_ZF_HEADER) == Some(&b' ') && zlib(JOBLIB_ZF_HEADER + 1))
}

/// Whether a loader opens a file of this name as LZMA whatever its first bytes (LZMA "alone" has no
/// magic): pandas opens `.xz` with `lzma.LZMAFile` and `.tar` with `tarfile`, which tries `LZMAFile`
/// too (the name lower-cased, as pandas compares it); joblib writes `.lzma`.
pub fn lzma_by_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".xz", ".lzma", ".tar"].iter().any(|e| lower.ends_with(e))
}

/// Bytes of joblib's ZF header before its zlib stream (or before the optional space): `ZF` and the
/// length padded to `len(hex(2**64))` = 19 characters.
pub const JOBLIB_ZF_HEADER: usize = 21;

/// A pre-POSIX (V7) tar header has no magic: it is recognised by its checksum field, the octal sum
/// of the header's 512 bytes with the field itself counted as spaces, as Python's `tarfile` checks.
fn is_v7_tar(head: &[u8]) -> bool {
    head.get(..512)
        .is_some_and(|h| h.iter().any(|&b| b != 0) && tar_checksum_ok(h))
}

/// Whether the checksum field of a 512-byte tar header matches its unsigned or signed sum, read as
/// `tarfile.frombuf` reads it (`nti`; the field counted as 8 spaces, `calc_chksums`).
pub fn tar_checksum_ok(h: &[u8]) -> bool {
    let Some(want) = h.get(148..156).and_then(tar_number) else {
        return false;
    };
    let (mut unsigned, mut signed) = (256i128, 256i128);
    for (i, &b) in h.iter().take(512).enumerate() {
        if !(148..156).contains(&i) {
            unsigned += i128::from(b);
            signed += i128::from(b as i8);
        }
    }
    want == unsigned || want == signed
}

/// A tar number field exactly as Python's `tarfile.nti` reads it: base-256 after a first byte of
/// 0o200 or 0o377; otherwise the text up to the first NUL, which must be ASCII, `str.strip()`ped
/// (space, `\t\n\v\f\r` and `\x1c`-`\x1f`), empty for 0, else `int(text, 8)` (a sign, an
/// `0o` prefix, single `_` between digits). `None` where tarfile raises `InvalidHeaderError`.
pub fn tar_number(field: &[u8]) -> Option<i128> {
    let first = *field.first()?;
    if first == 0o200 || first == 0o377 {
        let mut n: i128 = 0;
        for &b in &field[1..] {
            n = n.checked_mul(256)?.checked_add(i128::from(b))?;
        }
        if first == 0o377 {
            n -= 256i128.checked_pow(u32::try_from(field.len() - 1).ok()?)?;
        }
        return Some(n);
    }
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let text = &field[..end];
    if !text.is_ascii() {
        return None;
    }
    let t = std::str::from_utf8(text).ok()?.trim_matches(py_ascii_space);
    if t.is_empty() {
        return Some(0);
    }
    py_int(t, 8)
}

/// `str.isspace()` within ASCII.
pub fn py_ascii_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r' | '\x1c'..='\x1f')
}

/// Python's `int(text, base)` for base 8 or 10 on ASCII text: surrounding whitespace, a sign, the
/// base's prefix (`0o` for 8), `_` between digits (or right after the prefix).
pub fn py_int(text: &str, base: u32) -> Option<i128> {
    let t = text.trim_matches(py_ascii_space);
    let (neg, t) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let prefixed = base == 8 && t.len() >= 2 && t[..2].eq_ignore_ascii_case("0o");
    let body = if prefixed {
        let b = &t[2..];
        b.strip_prefix('_').unwrap_or(b)
    } else {
        t
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let mut n: i128 = 0;
    for c in body.chars().filter(|&c| c != '_') {
        n = n
            .checked_mul(i128::from(base))?
            .checked_add(i128::from(c.to_digit(base)?))?;
    }
    Some(if neg { -n } else { n })
}

/// The formats tensorscope reads, for messages about a file that is none of them.
pub const READS: &str = "tensorscope reads safetensors, torch.save (zip or legacy), GGUF and numpy (.npy, .npz) files";

/// What a file of `kind` is and what to do, for a user who gave it where a checkpoint was expected
/// (any checkpoint, not one format); `None` for the formats tensorscope reads and for unknown bytes.
pub fn describe(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::GitLfsPointer => {
            "this is a Git LFS pointer, not the weights: run `git lfs pull` or download the file itself"
        }
        Kind::Html => {
            "this is an HTML page, not weights: the download probably needed a login or hit an error page; download it again"
        }
        Kind::Tar => {
            "this is a tar archive (torch.save's oldest format), not supported: load and re-save it with torch"
        }
        Kind::Compressed => "this is a compressed file (gzip, bzip2, xz or zstd): decompress it first",
        Kind::Safetensors | Kind::Zip | Kind::Pickle | Kind::Npy | Kind::Gguf | Kind::Unknown => return None,
    })
}

/// What to tell a user who gave `kind` where a safetensors file was expected.
pub fn impostor_hint(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::GitLfsPointer => {
            "this is a Git LFS pointer, not the weights: run `git lfs pull` or download the file itself"
        }
        Kind::Html => "this is an HTML page, not weights: the download probably needed a login or hit an error page",
        Kind::Zip => "this is a zip archive (a torch.save file or .npz renamed), not safetensors",
        Kind::Pickle => "this is a Python pickle (a torch.save file renamed), not safetensors",
        Kind::Tar => "this is a tar archive (the torch format before 1.6), not supported",
        Kind::Npy => "this is a numpy .npy file, not safetensors",
        Kind::Gguf => "this is a GGUF file (llama.cpp), not safetensors",
        Kind::Compressed => "this is a compressed file (gzip, bzip2, xz or zstd), not safetensors",
        Kind::Safetensors | Kind::Unknown => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lzma_alone_is_sniffed_by_two_bytes_as_joblib_does() {
        // a 4 KiB dictionary: 5d 00 10 00 00
        assert_eq!(compression(b"\x5d\x00\x10\x00\x00\xff\xff"), Some("lzma"));
        assert_eq!(compression(b"\x5d\x00\x00\x80\x00"), Some("lzma"));
        assert_eq!(compression(b"\x5d\x01\x00"), None);
    }

    #[test]
    fn detects_each_kind() {
        assert_eq!(
            detect(b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\n"),
            Kind::GitLfsPointer
        );
        assert_eq!(detect(b"PK\x03\x04rest"), Kind::Zip);
        assert_eq!(detect(b"\x80\x02\x8a\x0a"), Kind::Pickle);
        assert_eq!(detect(b"\x93NUMPY\x01\x00"), Kind::Npy);
        assert_eq!(detect(b"\x10\0\0\0\0\0\0\0{\"a\":1}"), Kind::Safetensors);
        assert_eq!(detect(b"  <!DOCTYPE html><html>"), Kind::Html);
        assert_eq!(detect(b"hello"), Kind::Unknown);
        assert_eq!(detect(b"GGUF\x03\0\0\0"), Kind::Gguf);
        assert_eq!(detect(b"\x80\x03\0\0\0\0\0\0{\"a\":1}"), Kind::Safetensors);
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(detect(&tar), Kind::Tar);
        assert_eq!(detect(b"\x1f\x8b\x08\0"), Kind::Compressed);
        assert_eq!(detect(b"BZh91AY&SY"), Kind::Compressed);
        assert_eq!(detect(b"\xfd7zXZ\0\0"), Kind::Compressed);
        // a zstd skippable frame under each of its 16 magics
        for m in 0x50..=0x5f {
            let head = [m, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4];
            assert_eq!(compression(&head), Some("zstd"), "{m:#x}");
            assert_eq!(detect(&head), Kind::Compressed, "{m:#x}");
        }
        assert_eq!(compression(b"\x60\x2a\x4d\x18\0\0\0\0"), None);
    }

    #[test]
    fn tar_numbers_are_read_as_tarfile_nti_reads_them() {
        assert_eq!(tar_number(b"0000644\0"), Some(0o644));
        assert_eq!(tar_number(b"  17 \0\0\0"), Some(0o17));
        assert_eq!(tar_number(b"\x0b17\x1c\0\0\0"), Some(0o17));
        assert_eq!(tar_number(b"0o1_7\0"), Some(0o17));
        assert_eq!(tar_number(b"-7\0"), Some(-7));
        assert_eq!(tar_number(b"\0\0"), Some(0));
        assert_eq!(tar_number(b"\x80\0\0\0\0\0\x01\x00"), Some(256));
        assert_eq!(tar_number(b"\xff\xff\xff\xff\xff\xff\xff\xff"), Some(-1));
        for bad in [&b"9"[..], b"1__7", b"_17", b"17_", b"\x857", b"1 7", b"0x7"] {
            assert_eq!(tar_number(bad), None, "{bad:?}");
        }
    }

    /// A V7 header as Python's `tarfile` writes it with `format=tarfile.V7_FORMAT`.
    fn v7_header(name: &[u8]) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..name.len()].copy_from_slice(name);
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(b"00000000012\0");
        h[136..148].copy_from_slice(b"00000000000\0");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        let text = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(text.as_bytes());
        h
    }

    #[test]
    fn v7_tar_without_magic_is_a_tar() {
        let h = v7_header(b"pickle");
        assert_eq!(detect(&h), Kind::Tar);
        let mut bad = h.clone();
        bad[0] = b'q';
        assert_ne!(detect(&bad), Kind::Tar, "a wrong checksum is not a tar");
        // text of 512 bytes is not a tar
        assert_ne!(detect(&[b'a'; 512]), Kind::Tar);
        // tarfile strips a vertical tab (and the other whitespace of str.strip) around the checksum
        let mut vt = h.clone();
        vt[148..156].copy_from_slice(b"        ");
        let sum: u32 = vt.iter().map(|&b| u32::from(b)).sum();
        vt[148..156].copy_from_slice(format!("\x0b{sum:06o}\0").as_bytes());
        assert_eq!(detect(&vt), Kind::Tar);
    }
}
