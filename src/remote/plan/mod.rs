//! Which byte ranges of a remote file its format needs, fetched before a reader or the scanner maps
//! it. The dispatcher below asks each format's planner directly (one file per format); nothing is
//! registered at run time. Tensor data is never fetched here.
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

mod common;
mod gguf;
mod pickle;
mod zip;

use std::ops::Range;

pub use common::{MAX_PICKLE_FETCH, MAX_TEXT_FETCH, MAX_UNKNOWN_FETCH};
pub use gguf::MAX_GGUF_HEADER_FETCH;

use crate::Result;
use crate::formats::safetensors::MAX_HEADER_SIZE;
use crate::formats::sniff::{self, Kind};
use crate::model::DType;
use crate::remote::file::RemoteFile;
use common::PICKLE_PREFIX;

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
        return gguf::plan(f);
    }
    match sniff::detect(&head) {
        Kind::Zip => zip::plan(f),
        Kind::Pickle => pickle::legacy_or_raw(f),
        Kind::Npy => pickle::npy(f),
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

/// Magic numbers of the compression layers the scanner opens (gzip, bzip2, xz, zstd and its
/// skippable frames, zlib, LZMA, LZ4, joblib's ZF).
fn compressed(head: &[u8]) -> bool {
    sniff::compression(head).is_some()
}

/// Whether the first 512 bytes are a tar header whose checksum holds as Python's tarfile reads it
/// (old tar has no magic).
fn tar_header(head: &[u8]) -> bool {
    head.get(..512).is_some_and(sniff::tar_checksum_ok)
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
