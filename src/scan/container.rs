//! Where the pickles are: raw pickle files, legacy `torch.save` files, zip archives (torch and
//! `.npz`), numpy `.npy` object arrays.

use std::collections::{HashMap, HashSet};

pub(super) use super::tar::{is_tar, tar};
use super::walk::{self, Mode, Value};
use super::{Collector, FileScan, Severity};
use crate::formats::pickle::{allowlist, npy, zip};

/// Most bytes a deflated zip entry is inflated to for scanning; larger ones are suspicious.
pub const MAX_INFLATE: u64 = 256 << 20;

/// `0x1950a86a20f9469cfc6c`, the first pickle of a legacy `torch.save` file, as LONG1 bytes.
const LEGACY_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// The five pickles a legacy `torch.save` file starts with, named as entries in findings.
const LEGACY_PICKLES: [&str; 5] = ["magic number", "protocol version", "sys_info", "object", "storage keys"];

/// A file that starts with a pickle: a legacy `torch.save` file (when its first pickle is the torch
/// magic number) or a raw pickle file (every pickle until the end).
pub(super) fn pickle_file(mut c: Collector, path: String, data: &[u8]) -> FileScan {
    let (first, err) = walk::walk_one(data, 0);
    if err.is_none() && first.result == Value::Long(&LEGACY_MAGIC) && first.globals.is_empty() {
        legacy(&mut c, data);
        return c.finish(path, "pytorch-legacy");
    }
    c.stream("", 0, &walk::walk_stream(data, Mode::Strict));
    c.finish(path, "pickle")
}

/// The stacked pickles of a legacy file, then its storage data stepped over with the key list and
/// the element sizes of the persistent ids. Whatever cannot be accounted for is scanned as pickles.
fn legacy(c: &mut Collector, data: &[u8]) {
    let mut pos = 0;
    let mut infos = Vec::with_capacity(LEGACY_PICKLES.len());
    for name in LEGACY_PICKLES {
        let (info, err) = walk::walk_one(data, pos);
        if err.is_some() {
            // re-walk from here as a stream: reports the error and looks for pickles behind it
            c.stream(name, pos as u64, &walk::walk_stream(&data[pos..], Mode::Strict));
            return;
        }
        c.stream(
            name,
            0,
            &walk::Stream {
                pickles: vec![info.clone()],
                errors: Vec::new(),
            },
        );
        pos = info.end;
        infos.push(info);
    }
    if let Err(why) = skip_storages(data, &mut pos, &infos[3].persistent_ids, &infos[4].result) {
        c.problem(
            "storage data",
            Some(pos as u64),
            Severity::Suspicious,
            format!("cannot step over: {why}"),
        );
        let rest = walk::walk_stream(&data[pos..], Mode::Strict);
        c.stream("storage data", pos as u64, &rest);
        return;
    }
    if pos < data.len() {
        let why = format!("{} bytes after the storage data", data.len() - pos);
        c.problem("after storage data", Some(pos as u64), Severity::Suspicious, why);
        c.stream(
            "after storage data",
            pos as u64,
            &walk::walk_stream(&data[pos..], Mode::Strict),
        );
    }
}

/// Advance `pos` over the storages: for each key, an 8-byte element count and the elements.
fn skip_storages(data: &[u8], pos: &mut usize, pids: &[Value<'_>], keys: &Value<'_>) -> Result<(), String> {
    let mut sizes: HashMap<&str, u64> = HashMap::new();
    for pid in pids {
        let Value::Tuple(t) = pid else { continue };
        let (Some(Value::Str(kind)), Some(Value::Global(g)), Some(Value::Str(key))) = (t.first(), t.get(1), t.get(2))
        else {
            continue;
        };
        if kind.as_ref() != "storage" {
            continue;
        }
        let size = match (g.0.as_str(), g.1.as_str()) {
            ("torch" | "torch.storage", "UntypedStorage") => 1,
            ("torch" | "torch.cuda", class) => match allowlist::storage_dtype(class) {
                Some(d) => u64::from(d.bits().div_ceil(8)),
                None => return Err(format!("unknown storage type {}.{}", g.0, g.1)),
            },
            _ => return Err(format!("unknown storage type {}.{}", g.0, g.1)),
        };
        sizes.insert(key.as_ref(), size);
    }
    let Value::List(keys) = keys else {
        return Err("the storage key list is not a list".into());
    };
    for key in keys.borrow().iter() {
        let Value::Str(key) = key else {
            return Err("a storage key is not a string".into());
        };
        let size = *sizes
            .get(key.as_ref())
            .ok_or_else(|| format!("storage key {key:?} has no persistent id"))?;
        let numel = data
            .get(*pos..*pos + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .ok_or_else(|| format!("storage {key:?}: element count past the end of the file"))?;
        let end = numel
            .checked_mul(size)
            .and_then(|n| n.checked_add(*pos as u64 + 8))
            .filter(|&e| e <= data.len() as u64)
            .ok_or_else(|| format!("storage {key:?}: {numel} elements run past the end of the file"))?;
        *pos = end as usize;
    }
    Ok(())
}

/// A zip archive: every central directory entry, pickles found by content.
pub(super) fn zip(mut c: Collector, path: String, data: &[u8]) -> FileScan {
    let archive = match zip::read(data) {
        Ok(a) => a,
        Err(e) => {
            c.problem(
                "",
                None,
                Severity::Suspicious,
                format!("cannot scan: the zip archive cannot be read: {e}"),
            );
            return c.finish(path, "zip");
        }
    };
    for p in &archive.problems {
        c.problem("", None, Severity::Suspicious, format!("zip archive: {p}"));
    }
    let (mut torch, mut numpy) = (false, false);
    let mut seen = HashSet::new();
    for e in &archive.entries {
        let name = e.name.as_str();
        let at = Some(e.local_header_offset);
        if !seen.insert(e.raw_name.as_slice()) {
            let why = "another entry has the same name: readers disagree on which one is loaded (each is scanned)";
            c.problem(name, at, Severity::Suspicious, why);
        }
        for m in &e.mismatches {
            c.problem(
                name,
                at,
                Severity::Suspicious,
                format!("local header disagrees with the central directory: {m}"),
            );
        }
        if e.is_encrypted() {
            let why = "flag bit 0 (encrypted) is set: torch reads the entry anyway, other scanners skip it";
            c.problem(name, at, Severity::Suspicious, why);
        }
        if let Some(err) = &e.error {
            c.problem(name, at, Severity::Suspicious, format!("cannot scan the entry: {err}"));
            continue;
        }
        let content = match zip::content(data, e, MAX_INFLATE) {
            Ok(content) => content,
            Err(err) => {
                c.problem(name, at, Severity::Suspicious, format!("cannot scan the entry: {err}"));
                continue;
            }
        };
        let lower = name.to_ascii_lowercase();
        torch |= lower.ends_with("data.pkl");
        numpy |= lower.ends_with(".npy");
        if content.starts_with(npy::MAGIC) {
            npy_scan(&mut c, name, &content);
        } else {
            let mode = if lower.ends_with(".pkl") || lower.ends_with(".pickle") {
                Mode::Strict
            } else {
                Mode::Probe
            };
            c.stream(name, 0, &walk::walk_stream(&content, mode));
        }
    }
    let format = if torch {
        "pytorch-zip"
    } else if numpy {
        "numpy-zip"
    } else {
        "zip"
    };
    c.finish(path, format)
}

/// A numpy `.npy` file.
pub(super) fn npy(mut c: Collector, path: String, data: &[u8]) -> FileScan {
    npy_scan(&mut c, "", data);
    c.finish(path, "numpy")
}

fn npy_scan(c: &mut Collector, entry: &str, data: &[u8]) {
    match npy::header(data) {
        Err(e) => c.problem(entry, Some(0), Severity::Suspicious, format!("cannot scan: {e}")),
        Ok(h) if h.object => {
            let body = &data[h.data_offset..];
            c.stream(entry, h.data_offset as u64, &walk::walk_stream(body, Mode::Strict));
        }
        Ok(_) => {}
    }
}
