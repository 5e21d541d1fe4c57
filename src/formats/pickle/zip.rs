//! A raw zip reader for `torch.save` archives that sees what torch sees.
//!
//! Common zip libraries differ from torch's reader (miniz) in ways an attacker can use: the `zip`
//! crate keeps only the last of two entries with the same name, refuses entries with flag bit 0x1,
//! and fails on a bad CRC, while torch ignores CRCs. This reader lists **every** central directory
//! entry in order, duplicates included, locates each entry's data through its local header the way
//! miniz does (`local offset + 30 + local name length + local extra length`, sizes from the central
//! directory), and reports — never silently fixes — a local header that disagrees with the central
//! directory. CRCs are not checked. Zip64 (which torch writes for every archive) is supported.
//!
//! ```
//! # fn main() -> Result<(), tensorscope::formats::pickle::zip::ZipError> {
//! // an empty archive: just the end-of-central-directory record
//! let empty = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
//! let archive = tensorscope::formats::pickle::zip::read(empty)?;
//! assert!(archive.entries.is_empty());
//! # Ok(()) }
//! ```

use std::ops::Range;

/// Most central directory entries read from one archive.
pub const MAX_ENTRIES: u64 = 1 << 20;
/// Most bytes a deflated entry may inflate to through [`inflate`] unless the caller asks for less.
pub const MAX_INFLATED: u64 = 1 << 30;

const EOCD_SIG: &[u8; 4] = b"PK\x05\x06";
const EOCD_LEN: usize = 22;
const LOCATOR_SIG: &[u8; 4] = b"PK\x06\x07";
const LOCATOR_LEN: usize = 20;
const EOCD64_SIG: &[u8; 4] = b"PK\x06\x06";
const EOCD64_LEN: usize = 56;
const CENTRAL_SIG: &[u8; 4] = b"PK\x01\x02";
const CENTRAL_LEN: usize = 46;
const LOCAL_SIG: &[u8; 4] = b"PK\x03\x04";
const LOCAL_LEN: u64 = 30;
const MAX_COMMENT: usize = 0xffff;

/// Compression method 0.
pub const METHOD_STORED: u16 = 0;
/// Compression method 8.
pub const METHOD_DEFLATED: u16 = 8;
/// bzip2 (method 12), which Python's `zipfile` reads (and so `np.load` of an `.npz`).
pub const METHOD_BZIP2: u16 = 12;
/// LZMA (method 14), which Python's `zipfile` reads too.
pub const METHOD_LZMA: u16 = 14;
/// Largest LZMA dictionary the decoders may grow to (liblzma's presets go up to 64 MiB; joblib
/// writes 8 MiB).
pub const MAX_LZMA_DICT: usize = 256 << 20;

/// The archive cannot be read at all (no end record, central directory outside the file, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ZipError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, ZipError> {
    Err(ZipError(msg.into()))
}

/// One central directory entry and where its data lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the central directory (0-based).
    pub index: usize,
    /// The name decoded lossily, for display and lookups (escape it before printing).
    pub name: String,
    /// The name as stored, when it is not UTF-8 (else it is `name`'s bytes: one allocation per
    /// entry, not two, for archives of 20,000 records); see [`Entry::raw_name`].
    raw_other: Option<Box<[u8]>>,
    /// General purpose flags (bit 0: "encrypted", bit 3: sizes in a data descriptor, bit 11: UTF-8).
    pub flags: u16,
    /// Compression method ([`METHOD_STORED`], [`METHOD_DEFLATED`], …).
    pub method: u16,
    /// Compressed size from the central directory (zip64 aware).
    pub compressed_size: u64,
    /// Uncompressed size from the central directory (zip64 aware).
    pub uncompressed_size: u64,
    /// Offset of the local header.
    pub local_header_offset: u64,
    /// Absolute byte range of the (compressed) data; empty when [`Entry::error`] is set.
    pub data: Range<u64>,
    /// Why the data cannot be located (unreadable local header, data past the end of the file).
    pub error: Option<String>,
    /// Ways the local header disagrees with the central directory (name, sizes, method).
    pub mismatches: Vec<String>,
}

impl Entry {
    /// The name as stored (torch writes UTF-8).
    pub fn raw_name(&self) -> &[u8] {
        self.raw_other.as_deref().unwrap_or(self.name.as_bytes())
    }

    /// Stored uncompressed: `data` is the content itself.
    pub fn is_stored(&self) -> bool {
        self.method == METHOD_STORED
    }

    /// Deflated: the content comes from [`inflate`].
    pub fn is_deflated(&self) -> bool {
        self.method == METHOD_DEFLATED
    }

    /// Flag bit 0 is set (torch reads such entries anyway; other tools refuse them).
    pub fn is_encrypted(&self) -> bool {
        self.flags & 1 != 0
    }
}

/// Every entry of an archive, in central directory order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Archive {
    /// Every central directory entry, duplicates included.
    pub entries: Vec<Entry>,
    /// Oddities of the archive as a whole (a comment that does not end the file, trailing bytes in
    /// the central directory, an entry count that disagrees, …).
    pub problems: Vec<String>,
    /// Whether zip64 records were used.
    pub zip64: bool,
    /// Positions in `entries` by raw name, so that looking up every storage of a checkpoint with
    /// thousands of tensors stays linear.
    by_name: NameIndex,
}

#[path = "zip_index.rs"]
mod index;
use index::NameIndex;

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap_or([0; 4]))
}

fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or([0; 8]))
}

/// `data[start..start+len]` when it lies inside `data`.
fn slice(data: &[u8], start: u64, len: u64) -> Option<&[u8]> {
    let s = usize::try_from(start).ok()?;
    let e = s.checked_add(usize::try_from(len).ok()?)?;
    data.get(s..e)
}

/// The zip64 extended-information extra field (id 1), if present.
fn zip64_extra(extra: &[u8]) -> Option<&[u8]> {
    let mut i = 0usize;
    while i + 4 <= extra.len() {
        let id = le16(extra, i);
        let len = usize::from(le16(extra, i + 2));
        let body = extra.get(i + 4..i + 4 + len)?;
        if id == 1 {
            return Some(body);
        }
        i += 4 + len;
    }
    None
}

/// Replace each 32-bit field equal to 0xFFFFFFFF by the next u64 of the zip64 extra field.
fn widen(fields: &mut [&mut u64], extra: &[u8]) -> Result<(), String> {
    if fields.iter().all(|f| **f != u64::from(u32::MAX)) {
        return Ok(());
    }
    let body = zip64_extra(extra).ok_or("a size or offset is 0xFFFFFFFF but there is no zip64 extra field")?;
    let mut at = 0;
    for f in fields.iter_mut().filter(|f| ***f == u64::from(u32::MAX)) {
        if at + 8 > body.len() {
            return Err("zip64 extra field is too short".into());
        }
        **f = le64(body, at);
        at += 8;
    }
    Ok(())
}

struct End {
    entries: u64,
    cd_size: u64,
    cd_offset: u64,
    /// Where the central directory must end (the first end record).
    limit: u64,
}

fn find_end(data: &[u8], archive: &mut Archive) -> Result<End, ZipError> {
    if data.len() < EOCD_LEN {
        return err(format!(
            "zip archive of {} bytes, too short for its end record: truncated; re-download it",
            data.len()
        ));
    }
    let lowest = data.len().saturating_sub(EOCD_LEN + MAX_COMMENT);
    // the last signature wins, as in miniz and Python's zipfile
    let Some(pos) = (lowest..=data.len() - EOCD_LEN)
        .rev()
        .find(|&i| &data[i..i + 4] == EOCD_SIG)
    else {
        return err("zip archive without its end-of-central-directory record: truncated or damaged; re-download it");
    };
    let e = &data[pos..pos + EOCD_LEN];
    let comment = u64::from(le16(e, 20));
    let after = (data.len() - pos - EOCD_LEN) as u64;
    if comment != after {
        archive.problems.push(format!(
            "the archive comment is {comment} bytes but {after} bytes follow the end record"
        ));
    }
    if le16(e, 4) != 0 || le16(e, 6) != 0 {
        return err("multi-disk zip archives are not supported");
    }
    let mut end = End {
        entries: u64::from(le16(e, 10)),
        cd_size: u64::from(le32(e, 12)),
        cd_offset: u64::from(le32(e, 16)),
        limit: pos as u64,
    };
    if u64::from(le16(e, 8)) != end.entries {
        archive.problems.push("the end record's two entry counts differ".into());
    }
    if pos >= LOCATOR_LEN && &data[pos - LOCATOR_LEN..pos - LOCATOR_LEN + 4] == LOCATOR_SIG {
        let loc = &data[pos - LOCATOR_LEN..pos];
        let at = le64(loc, 8);
        let Some(r) = slice(data, at, EOCD64_LEN as u64).filter(|r| &r[..4] == EOCD64_SIG) else {
            return err(format!(
                "zip64 end record at offset {at} is missing or outside the file"
            ));
        };
        if at
            .checked_add(EOCD64_LEN as u64)
            .is_none_or(|e| e > (pos - LOCATOR_LEN) as u64)
        {
            return err("zip64 end record overlaps its locator");
        }
        archive.zip64 = true;
        end = End {
            entries: le64(r, 32),
            cd_size: le64(r, 40),
            cd_offset: le64(r, 48),
            limit: at,
        };
        if le64(r, 24) != end.entries {
            archive
                .problems
                .push("the zip64 end record's two entry counts differ".into());
        }
    }
    Ok(end)
}

/// Read the central directory of the archive in `data` and locate every entry.
pub fn read(data: &[u8]) -> Result<Archive, ZipError> {
    read_prefetching(data, &mut |_| {})
}

/// Gap between two local headers up to which [`read_prefetching`] asks for both in one range.
pub const PREFETCH_MERGE: u64 = 128 << 10;

/// [`read`], telling `prefetch` which byte ranges of `data` it is about to read (the local header
/// of every entry, nearby ones merged) once the central directory is parsed and before any local
/// header is touched. A caller reading a map of a file not in the page cache asks the kernel for
/// all of them at once (`MADV_WILLNEED`) instead of faulting them in one by one, one disk read
/// after another; the ranges stay within a page or so of each header unless headers are close.
pub fn read_prefetching(data: &[u8], prefetch: &mut dyn FnMut(Range<u64>)) -> Result<Archive, ZipError> {
    let mut archive = Archive::default();
    let end = find_end(data, &mut archive)?;
    if end.entries > MAX_ENTRIES {
        return err(format!(
            "zip archive of {} entries, which exceeds the limit of {MAX_ENTRIES} (a fixed limit; no \
             checkpoint has that many): the archive is damaged",
            end.entries
        ));
    }
    let cd_end = end.cd_offset.checked_add(end.cd_size);
    if cd_end.is_none_or(|e| e > end.limit) {
        return err(format!(
            "central directory ({} bytes at offset {}) runs past its end record at {}",
            end.cd_size, end.cd_offset, end.limit
        ));
    }
    if end.entries.saturating_mul(CENTRAL_LEN as u64) > end.cd_size {
        return err(format!(
            "{} entries cannot fit in a central directory of {} bytes",
            end.entries, end.cd_size
        ));
    }
    let cd =
        slice(data, end.cd_offset, end.cd_size).ok_or_else(|| ZipError("central directory outside the file".into()))?;
    archive.entries.reserve(end.entries as usize);
    let mut at = 0usize;
    for index in 0..end.entries as usize {
        let Some(h) = cd.get(at..at + CENTRAL_LEN).filter(|h| &h[..4] == CENTRAL_SIG) else {
            return err(format!(
                "central directory entry {index} at offset {} is damaged",
                end.cd_offset + at as u64
            ));
        };
        let (name_len, extra_len, comment_len) = (
            usize::from(le16(h, 28)),
            usize::from(le16(h, 30)),
            usize::from(le16(h, 32)),
        );
        let var = at + CENTRAL_LEN;
        let Some(tail) = cd.get(var..var + name_len + extra_len + comment_len) else {
            return err(format!("central directory entry {index} runs past the directory"));
        };
        let (raw_name, extra) = (&tail[..name_len], &tail[name_len..name_len + extra_len]);
        let mut compressed_size = u64::from(le32(h, 20));
        let mut uncompressed_size = u64::from(le32(h, 24));
        let mut local_header_offset = u64::from(le32(h, 42));
        if let Err(m) = widen(
            &mut [&mut uncompressed_size, &mut compressed_size, &mut local_header_offset],
            extra,
        ) {
            return err(format!("central directory entry {index}: {m}"));
        }
        let (name, raw_other) = match std::str::from_utf8(raw_name) {
            Ok(n) => (std::borrow::Cow::Borrowed(n), None),
            Err(_) => (String::from_utf8_lossy(raw_name), Some(raw_name.into())),
        };
        let entry = Entry {
            index,
            name: name.into_owned(),
            raw_other,
            flags: le16(h, 8),
            method: le16(h, 10),
            compressed_size,
            uncompressed_size,
            local_header_offset,
            data: 0..0,
            error: None,
            mismatches: Vec::new(),
        };
        archive.entries.push(entry);
        at = var + tail.len();
    }
    let mut headers: Vec<u64> = archive.entries.iter().map(|e| e.local_header_offset).collect();
    // torch writes its records in order: sorting is then a check
    if !headers.is_sorted() {
        headers.sort_unstable();
    }
    let mut run: Option<Range<u64>> = None;
    for h in headers {
        // the fixed header, a name and an extra field of typical length
        let r = h..h.saturating_add(LOCAL_LEN + 256).min(data.len() as u64);
        run = match run {
            Some(cur) if r.start <= cur.end.saturating_add(PREFETCH_MERGE) => Some(cur.start..cur.end.max(r.end)),
            Some(cur) => {
                prefetch(cur);
                Some(r)
            }
            None => Some(r),
        };
    }
    if let Some(cur) = run {
        prefetch(cur);
    }
    for entry in &mut archive.entries {
        if let Err(e) = locate(data, entry) {
            entry.error = Some(e);
        }
    }
    if at as u64 != end.cd_size {
        archive.problems.push(format!(
            "the central directory holds {} bytes after its {} listed entries",
            end.cd_size - at as u64,
            end.entries
        ));
    }
    archive.index();
    Ok(archive)
}

/// Read the local header of `e`, compute its data range and compare it with the central directory.
fn locate(data: &[u8], e: &mut Entry) -> Result<(), String> {
    let h = slice(data, e.local_header_offset, LOCAL_LEN)
        .filter(|h| &h[..4] == LOCAL_SIG)
        .ok_or_else(|| format!("no local header at offset {}", e.local_header_offset))?;
    let (name_len, extra_len) = (u64::from(le16(h, 26)), u64::from(le16(h, 28)));
    let (flags, method) = (le16(h, 6), le16(h, 8));
    let mut csize = u64::from(le32(h, 18));
    let mut usize_ = u64::from(le32(h, 22));
    let var = e.local_header_offset + LOCAL_LEN;
    let name = slice(data, var, name_len).ok_or("local header name runs past the end of the file")?;
    let extra =
        slice(data, var + name_len, extra_len).ok_or("local header extra field runs past the end of the file")?;
    let start = var + name_len + extra_len;
    let end = start
        .checked_add(e.compressed_size)
        .filter(|&x| x <= data.len() as u64)
        .ok_or_else(|| {
            format!(
                "data ({} bytes at offset {start}) runs past the end of the file ({} bytes)",
                e.compressed_size,
                data.len()
            )
        })?;
    e.data = start..end;
    if name != e.raw_name() {
        e.mismatches
            .push(format!("local header names it {:?}", String::from_utf8_lossy(name)));
    }
    if method != e.method {
        e.mismatches.push(format!(
            "local header says method {method}, central directory {}",
            e.method
        ));
    }
    // with a data descriptor (bit 3) the local sizes are zero by design
    let described = flags & 8 != 0 && csize == 0 && usize_ == 0;
    if !described {
        if let Err(m) = widen(&mut [&mut usize_, &mut csize], extra) {
            e.mismatches.push(format!("local header: {m}"));
        } else if (csize, usize_) != (e.compressed_size, e.uncompressed_size) {
            e.mismatches.push(format!(
                "local header sizes {csize}/{usize_} differ from the central directory's {}/{}",
                e.compressed_size, e.uncompressed_size
            ));
        }
    }
    Ok(())
}

/// The content of `entry`: borrowed when stored, inflated (at most `limit` bytes) when deflated.
pub fn content<'a>(data: &'a [u8], entry: &Entry, limit: u64) -> Result<std::borrow::Cow<'a, [u8]>, ZipError> {
    if let Some(e) = &entry.error {
        return err(format!("entry {}: {e}", crate::text::escape(&entry.name)));
    }
    let raw = slice(data, entry.data.start, entry.data.end - entry.data.start).ok_or_else(|| {
        ZipError(format!(
            "entry {}: data outside the file",
            crate::text::escape(&entry.name)
        ))
    })?;
    match entry.method {
        METHOD_STORED => Ok(std::borrow::Cow::Borrowed(raw)),
        // the directory's size is checked first: a bomb is refused before anything is inflated, and
        // data that inflates past its declared size is refused too (as zip readers do)
        METHOD_DEFLATED | METHOD_BZIP2 | METHOD_LZMA if entry.uncompressed_size > limit.min(MAX_INFLATED) => {
            err(format!(
                "entry {} inflates to {}, more than the limit of {} (a fixed limit): a decompression bomb, \
             or a damaged archive; torch never compresses its records",
                crate::text::escape(&entry.name),
                crate::text::bytes(entry.uncompressed_size),
                crate::text::bytes(limit.min(MAX_INFLATED))
            ))
        }
        METHOD_DEFLATED => inflate(raw, entry.uncompressed_size)
            .map(std::borrow::Cow::Owned)
            .map_err(|m| ZipError(format!("entry {}: {m}", crate::text::escape(&entry.name)))),
        METHOD_BZIP2 | METHOD_LZMA => {
            let out = if entry.method == METHOD_BZIP2 {
                unbzip2(raw, entry.uncompressed_size)
            } else {
                unlzma(raw, entry.uncompressed_size)
            };
            out.map(std::borrow::Cow::Owned)
                .map_err(|m| ZipError(format!("entry {}: {m}", crate::text::escape(&entry.name))))
        }
        m => err(format!(
            "entry {}: compression method {m} is not supported",
            crate::text::escape(&entry.name)
        )),
    }
}

/// A bzip2 member's data (one stream), refusing output longer than `limit` bytes.
fn unbzip2(raw: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut out = Vec::new();
    bzip2::read::BzDecoder::new(raw)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| format!("bzip2 data is damaged ({e})"))?;
    if out.len() as u64 > limit {
        return Err(format!("opens to more than {limit} bytes"));
    }
    Ok(out)
}

/// An LZMA member's data: zip's 4-byte LZMA header (version, properties size), the 5 properties
/// bytes, then the raw stream, read as an LZMA "alone" stream of `size` bytes.
fn unlzma(raw: &[u8], size: u64) -> Result<Vec<u8>, String> {
    let props = raw.get(4..9).ok_or("the LZMA header is truncated")?;
    if raw[2..4] != [5, 0] {
        return Err("the LZMA header's properties are not 5 bytes".into());
    }
    let mut alone = props.to_vec();
    alone.extend_from_slice(&size.to_le_bytes());
    alone.extend_from_slice(&raw[9..]);
    let mut out = Vec::new();
    let opts = lzma_rs::decompress::Options {
        unpacked_size: lzma_rs::decompress::UnpackedSize::ReadFromHeader,
        memlimit: Some(MAX_LZMA_DICT),
        allow_incomplete: false,
    };
    lzma_rs::lzma_decompress_with_options(&mut &alone[..], &mut out, &opts)
        .map_err(|e| format!("LZMA data is damaged ({e})"))?;
    Ok(out)
}

/// Inflate raw deflate data, refusing output longer than `limit` bytes.
pub fn inflate(raw: &[u8], limit: u64) -> Result<Vec<u8>, String> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    miniz_oxide::inflate::decompress_to_vec_with_limit(raw, limit).map_err(|e| match e.status {
        miniz_oxide::inflate::TINFLStatus::HasMoreOutput => format!("inflates to more than {limit} bytes"),
        s => format!("deflate data is damaged ({s:?})"),
    })
}

/// The first `n` bytes raw deflate data inflates to (all of them when it inflates to fewer): only
/// that much is inflated, so reading the header of a large compressed member costs its header.
pub fn inflate_prefix(raw: &[u8], n: usize) -> Result<Vec<u8>, String> {
    use miniz_oxide::inflate::TINFLStatus;
    match miniz_oxide::inflate::decompress_to_vec_with_limit(raw, n) {
        Ok(v) => Ok(v),
        Err(e) if e.status == TINFLStatus::HasMoreOutput => {
            let mut out = e.output;
            out.truncate(n);
            Ok(out)
        }
        Err(e) => Err(format!("deflate data is damaged ({:?})", e.status)),
    }
}

#[cfg(test)]
#[path = "zip_tests.rs"]
mod tests;
