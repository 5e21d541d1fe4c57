//! Pickle files over ranges: legacy `torch.save` files (the stacked pickles, then the element count
//! in front of each storage, then anything after the last storage), raw pickles (whole), and numpy
//! `.npy` headers (the whole file when it holds Python objects).

use super::common::{MAX_PICKLE_FETCH, MAX_TEXT_FETCH, PICKLE_PREFIX, le16, le32, le64, map};
use crate::Result;
use crate::formats::pickle::machine;
use crate::formats::pickle::value::{Node, Value};
use crate::formats::pickle::{legacy, npy};
use crate::model::DType;
use crate::remote::file::RemoteFile;

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

pub(super) fn legacy_or_raw(f: &RemoteFile) -> Result<Option<String>> {
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

pub(super) fn npy(f: &RemoteFile) -> Result<Option<String>> {
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
