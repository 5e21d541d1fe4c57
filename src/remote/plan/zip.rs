//! A torch zip archive (and `.npz`) over ranges: the end records, the central directory, every
//! local header, and the content of every entry that is not a storage.

use super::common::{MAX_PICKLE_FETCH, le32, le64, map};
use crate::Result;
use crate::formats::pickle::zip;
use crate::remote::file::RemoteFile;

/// Bytes fetched at first from the end of a zip (the end records); grown up to the longest comment.
const ZIP_TAIL: u64 = 4096;
/// Bytes fetched past a local header's name for its extra field (torch pads data to 64 bytes).
const LOCAL_EXTRA_GUESS: u64 = 128;
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

pub(super) fn plan(f: &RemoteFile) -> Result<Option<String>> {
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
