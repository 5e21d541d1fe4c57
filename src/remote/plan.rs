//! Which byte ranges of a remote file its format needs, fetched before a reader or the scanner maps
//! it (registered as the [`crate::source::remote::Planner`]). Tensor data is never fetched here.
//!
//! - safetensors: bytes 0..8 (the header length), then the header;
//! - torch zip: the end of central directory record (and zip64 records) from the end of the file,
//!   the central directory, every local header, and the content of every entry that is not a
//!   storage (`P/data/KEY` beside a `P/data.pkl`): the pickles, `version`, `byteorder`, …;
//! - legacy `torch.save` and raw pickles: the stacked pickles (a prefix grown until all five load),
//!   then the 8-byte element count in front of each storage, then anything after the last storage;
//!   a raw pickle is fetched whole;
//! - numpy `.npy`: the header, and the whole file when it holds Python objects (a pickle);
//! - GGUF: the header, metadata and tensor infos (see `gguf.rs`);
//! - anything else (configs, tokenizers, index files): the whole file when it is small.
//!
//! A file that cannot be fetched completely within the limits below is reported as incomplete, and
//! the scanner never calls it safe.

use std::ops::Range;

use crate::formats::pickle::machine;
use crate::formats::pickle::value::{Node, Value};
use crate::formats::pickle::{legacy, npy, zip};
use crate::formats::safetensors::MAX_HEADER_SIZE;
use crate::formats::sniff::{self, Kind};
use crate::model::DType;
use crate::source::guard::GuardedMap;
use crate::source::remote::RemoteFile;
use crate::{Error, Result};

/// Most pickle bytes fetched from one file (zip entries, legacy pickles, raw pickles).
pub const MAX_PICKLE_FETCH: u64 = 256 << 20;
/// Largest text file (JSON index, config) fetched whole.
pub const MAX_TEXT_FETCH: u64 = 64 << 20;
/// Largest file of no known format fetched whole (to look for pickles in it).
pub const MAX_UNKNOWN_FETCH: u64 = 1 << 20;
/// Bytes fetched at first from the end of a zip (the end records); grown up to the longest comment.
const ZIP_TAIL: u64 = 4096;
/// Bytes fetched past a local header's name for its extra field (torch pads data to 64 bytes).
const LOCAL_EXTRA_GUESS: u64 = 128;
/// First prefix of a pickle file fetched; doubled each round (so at most twice what is needed).
pub(super) const PICKLE_PREFIX: u64 = 16 << 10;

/// Fetch what `f`'s format needs; `Some(why)` when it could not be fetched completely.
pub fn prepare(f: &RemoteFile) -> Result<Option<String>> {
    if f.size == 0 {
        return Ok(None);
    }
    let lower = f.rel.to_ascii_lowercase();
    let named_st = lower.ends_with(".safetensors");
    let head = f.read(0..8)?;
    if head.len() == 8 {
        let n = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
        let plausible = (2..=MAX_HEADER_SIZE).contains(&n) && n.saturating_add(8) <= f.size;
        if plausible && (named_st || n <= 64 << 10) {
            f.fetch_range(8..8 + n)?;
            if named_st || f.read(8..9)? == b"{" {
                return Ok(None);
            }
        }
    }
    if named_st {
        // not a valid header: the reader says why from these bytes
        f.fetch_range(0..sniff::SNIFF_LEN as u64)?;
        return Ok(None);
    }
    let head = f.read(0..sniff::SNIFF_LEN as u64)?;
    if head.starts_with(b"GGUF") {
        return super::gguf::plan(f);
    }
    match sniff::detect(&head) {
        Kind::Zip => zip_plan(f),
        Kind::Pickle => pickle_plan(f),
        Kind::Npy => npy_plan(f),
        Kind::Safetensors => Ok(None),
        kind => {
            let text = [".json", ".txt", ".md", ".yaml", ".yml", ".py", ".jinja"]
                .iter()
                .any(|e| lower.ends_with(e));
            let limit = if text { MAX_TEXT_FETCH } else { MAX_UNKNOWN_FETCH };
            if f.size <= limit {
                f.fetch_range(0..f.size)?;
                return Ok(None);
            }
            // the scanner opens compressed files and tar archives (torch's pre-1.6 format) whole
            if kind == Kind::Tar || compressed(&head) || tar_header(&head) {
                let limit = f.size.min(MAX_PICKLE_FETCH);
                f.fetch_range(0..limit)?;
                return Ok((limit < f.size).then(|| {
                    format!("a compressed file or tar archive larger than the {MAX_PICKLE_FETCH}-byte limit")
                }));
            }
            match kind {
                Kind::Unknown => probe_plan(f),
                _ => Ok(None),
            }
        }
    }
}

/// Magic numbers of the compression layers the scanner opens (gzip, bzip2, xz, zstd).
fn compressed(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b, 0x08])
        || (head.starts_with(b"BZh") && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)))
        || head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0])
        || head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
}

/// Whether the first 512 bytes are a tar header whose checksum holds (old tar has no magic).
fn tar_header(head: &[u8]) -> bool {
    let Some(h) = head.get(..512) else { return false };
    let field = String::from_utf8_lossy(&h[148..156]);
    let Ok(want) = u64::from_str_radix(field.trim_matches(|c: char| c == '\0' || c == ' '), 8) else {
        return false;
    };
    let sum: u64 = h
        .iter()
        .enumerate()
        .map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u64::from(b) })
        .sum();
    sum == want
}

/// A large file of no known format: the scanner probes it for a pickle from its first byte and stops
/// at the first byte that is not one; fetch a prefix until the opcodes in it stop the same way.
fn probe_plan(f: &RemoteFile) -> Result<Option<String>> {
    use crate::formats::pickle::ops::{self, OpErrorKind};
    let limit = f.size.min(MAX_PICKLE_FETCH);
    let mut have = f.size.min(sniff::SNIFF_LEN as u64);
    loop {
        let data = f.read(0..have)?;
        let mut pos = 0;
        let stop = loop {
            match ops::decode(&data, pos) {
                Ok((_, next)) if next > pos => pos = next,
                Ok(_) => break None,
                Err(e) => break Some(e.kind),
            }
        };
        match stop {
            Some(OpErrorKind::Truncated { .. }) if have < f.size => {
                if have >= limit {
                    return Ok(Some(format!(
                        "it reads as pickle opcodes past the {MAX_PICKLE_FETCH}-byte limit on pickle bytes fetched"
                    )));
                }
                have = limit.min(have.saturating_mul(2).max(PICKLE_PREFIX));
            }
            _ => return Ok(None),
        }
    }
}

/// A map of the sparse copy (sees later fetches: the map is shared with the file).
fn map(f: &RemoteFile) -> Result<GuardedMap> {
    let file = std::fs::File::open(&f.local).map_err(|e| Error::io(&f.local, e))?;
    GuardedMap::map(&file, 0, None).map_err(|e| Error::io(&f.local, e))
}

fn le16(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}
fn le32(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]))
}
fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or_default())
}

/// Where the central directory is: (offset, size), from the end records.
fn central_directory(f: &RemoteFile) -> Result<Option<(u64, u64)>> {
    let max_tail = f.size.min(0xffff + 22);
    let mut tail_len = f.size.min(ZIP_TAIL);
    loop {
        let start = f.size - tail_len;
        let tail = f.read(start..f.size)?;
        let found = (0..tail.len().saturating_sub(21))
            .rev()
            .find(|&p| &tail[p..p + 4] == b"PK\x05\x06");
        let Some(p) = found else {
            if tail_len >= max_tail {
                return Ok(None);
            }
            tail_len = max_tail;
            continue;
        };
        let (mut cd_size, mut cd_off) = (le32(&tail, p + 12), le32(&tail, p + 16));
        let eocd = start + p as u64;
        if eocd >= 20 {
            let loc = f.read(eocd - 20..eocd)?;
            if &loc[..4] == b"PK\x06\x07" {
                let at = le64(&loc, 8);
                if at.checked_add(56).is_some_and(|e| e <= f.size) {
                    let rec = f.read(at..at + 56)?;
                    if &rec[..4] == b"PK\x06\x06" {
                        cd_size = le64(&rec, 40);
                        cd_off = le64(&rec, 48);
                    }
                }
            }
        }
        let ok = cd_off.checked_add(cd_size).is_some_and(|e| e <= f.size) && cd_size <= MAX_PICKLE_FETCH;
        return Ok(ok.then_some((cd_off, cd_size)));
    }
}

fn zip_plan(f: &RemoteFile) -> Result<Option<String>> {
    let Some((cd_off, cd_size)) = central_directory(f)? else {
        // no readable end record: the reader and the scanner report it from the tail fetched
        return Ok(None);
    };
    f.fetch_range(cd_off..cd_off + cd_size)?;
    let m = map(f)?;
    let Ok(archive) = zip::read(m.bytes()) else {
        return Ok(None);
    };
    let pickles: std::collections::HashSet<&str> = archive
        .entries
        .iter()
        .filter_map(|e| e.name.strip_suffix("data.pkl"))
        .collect();
    let is_storage = |name: &str| {
        name.rsplit_once("data/")
            .is_some_and(|(prefix, key)| !key.is_empty() && !key.contains('/') && pickles.contains(prefix))
    };
    let mut budget = MAX_PICKLE_FETCH;
    let mut incomplete = None;
    let mut content = |e: &zip::Entry| -> bool {
        if is_storage(&e.name) {
            return false;
        }
        if e.compressed_size > budget {
            incomplete = Some(format!(
                "entry {} ({} bytes) is beyond the {MAX_PICKLE_FETCH}-byte limit on pickle bytes fetched",
                crate::text::escape(&e.name),
                e.compressed_size
            ));
            return false;
        }
        budget -= e.compressed_size;
        true
    };
    // round 1: local headers (with a guess at their extra field) and the contents right behind them
    let mut want = Vec::new();
    let mut wants_content = Vec::with_capacity(archive.entries.len());
    for e in &archive.entries {
        let header_end = e
            .local_header_offset
            .saturating_add(30 + e.raw_name().len() as u64 + LOCAL_EXTRA_GUESS);
        let c = content(e);
        wants_content.push(c);
        let end = if c {
            header_end.saturating_add(e.compressed_size)
        } else {
            header_end
        };
        want.push(e.local_header_offset..end);
    }
    f.fetch(&want)?;
    // round 2: what a longer extra field pushed further
    let Ok(archive) = zip::read(m.bytes()) else {
        return Ok(incomplete);
    };
    let mut want = Vec::new();
    for (e, c) in archive.entries.iter().zip(wants_content) {
        if e.error.is_none() {
            want.push(e.local_header_offset..e.data.start);
            if c {
                want.push(e.data.clone());
            }
        }
    }
    f.fetch(&want)?;
    Ok(incomplete)
}

/// What the first pickles of a file say.
enum Layout {
    /// Not a legacy `torch.save` file: a raw pickle (all of it is pickle).
    Raw,
    /// More bytes are needed.
    Need,
    /// Something a reader will refuse anyway.
    Broken,
    /// A legacy file: where the storage key list ends, and each storage's element type and count.
    Legacy(usize, Vec<(DType, u64)>),
}

fn legacy_layout(data: &[u8], whole: bool) -> Layout {
    let short = if whole { Layout::Broken } else { Layout::Need };
    let Ok(magic) = machine::load(data, 0) else {
        return short;
    };
    if !matches!(&magic.root, Value::BigInt(b) if **b == legacy::MAGIC) {
        return Layout::Raw;
    }
    let mut pos = magic.end;
    for _ in 0..2 {
        match machine::load(data, pos) {
            Ok(l) => pos = l.end,
            Err(_) => return short,
        }
    }
    let Ok(objects) = machine::load(data, pos) else {
        return short;
    };
    let Ok(keys) = machine::load(data, objects.end) else {
        return short;
    };
    let mut kinds = std::collections::HashMap::new();
    for i in 0..objects.heap.len() as u32 {
        if let Some(Node::Storage(s)) = objects.heap.get(i) {
            kinds.insert(s.key.clone(), (s.dtype, s.numel));
        }
    }
    let Some(items) = keys.heap.seq(&keys.root) else {
        return Layout::Broken;
    };
    let mut out = Vec::with_capacity(items.len().min(legacy::MAX_STORAGES));
    for k in items.iter().take(legacy::MAX_STORAGES) {
        let key = match k {
            Value::Str(s) => s.to_string(),
            Value::Int(i) => i.to_string(),
            _ => return Layout::Broken,
        };
        out.push(kinds.get(&key).copied().unwrap_or((DType::U8, 0)));
    }
    Layout::Legacy(keys.end, out)
}

fn pickle_plan(f: &RemoteFile) -> Result<Option<String>> {
    let limit = f.size.min(MAX_PICKLE_FETCH);
    let too_big = || {
        Some(format!(
            "its pickles are larger than the {MAX_PICKLE_FETCH}-byte limit on pickle bytes fetched"
        ))
    };
    let mut have = f.size.min(PICKLE_PREFIX);
    let (keys_end, storages) = loop {
        let data = f.read(0..have)?;
        match legacy_layout(&data, have == f.size) {
            Layout::Raw => {
                f.fetch_range(0..limit)?;
                return Ok((limit < f.size).then(too_big).flatten());
            }
            Layout::Broken => return Ok(None),
            Layout::Need if have < limit => have = limit.min(have.saturating_mul(2)),
            Layout::Need => return Ok(too_big()),
            Layout::Legacy(end, s) => break (end as u64, s),
        }
    };
    // the element counts in front of the storages, where the object pickle says they are
    let step =
        |pos: u64, dtype: DType, count: u64| dtype.bytes_for(count).and_then(|n| pos.checked_add(8)?.checked_add(n));
    let mut predicted = Vec::with_capacity(storages.len());
    let mut pos = keys_end;
    for &(dtype, numel) in &storages {
        predicted.push(pos..pos.saturating_add(8));
        match step(pos, dtype, numel) {
            Some(p) if p <= f.size => pos = p,
            _ => break,
        }
    }
    f.fetch(&predicted)?;
    // walk them as the reader will; a count that differs from the prediction costs one request more
    let m = map(f)?;
    let mut pos = keys_end;
    for &(dtype, _) in &storages {
        if pos.saturating_add(8) > f.size {
            return Ok(None);
        }
        f.fetch_range(pos..pos + 8)?;
        let count = le64(m.bytes(), pos as usize);
        match step(pos, dtype, count) {
            Some(p) if p <= f.size => pos = p,
            _ => return Ok(None),
        }
    }
    if pos < f.size {
        // bytes after the last storage: the scanner walks them for pickles
        if f.size - pos > MAX_PICKLE_FETCH {
            return Ok(too_big());
        }
        f.fetch_range(pos..f.size)?;
    }
    Ok(None)
}

fn npy_plan(f: &RemoteFile) -> Result<Option<String>> {
    let head = f.read(0..12)?;
    if head.len() < 12 {
        f.fetch_range(0..f.size)?;
        return Ok(None);
    }
    let end = if head[6] == 1 {
        10 + le16(&head, 8)
    } else {
        12 + le32(&head, 8)
    };
    let end = end.min(f.size).min(MAX_TEXT_FETCH);
    let data = f.read(0..end)?;
    if npy::header(&data).is_ok_and(|h| h.object) {
        let limit = f.size.min(MAX_PICKLE_FETCH);
        f.fetch_range(0..limit)?;
        if limit < f.size {
            return Ok(Some(format!(
                "a numpy object array larger than the {MAX_PICKLE_FETCH}-byte limit on pickle bytes fetched"
            )));
        }
    }
    Ok(None)
}

/// The byte range of elements `first..first + count` of a `dtype` storage starting at `base`.
/// GGML block types cover the whole blocks the elements fall in (a block decodes as a unit).
pub fn element_bytes(dtype: DType, base: u64, first: u64, count: u64) -> Option<Range<u64>> {
    if let DType::Ggml(g) = dtype {
        let (n, b) = g.block()?;
        let (n, b) = (u64::from(n), u64::from(b));
        let start = (first / n).checked_mul(b)?;
        let end = first.checked_add(count)?.div_ceil(n).checked_mul(b)?;
        return Some(base.checked_add(start)?..base.checked_add(end)?);
    }
    let bits = u64::from(dtype.bits());
    let start = first.checked_mul(bits)? / 8;
    let end = first.checked_add(count)?.checked_mul(bits)?.div_ceil(8);
    Some(base.checked_add(start)?..base.checked_add(end)?)
}
