//! The legacy `torch.save` format (torch < 1.6, or `_use_new_zipfile_serialization=False`): five
//! things back to back — a magic-number pickle, the protocol version, a `sys_info` dict (these three
//! must be plain literals), the object pickle, the list of storage keys — then for each key in that
//! list's order an 8-byte little-endian element count and the storage's raw bytes.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use super::collect::{TorchFile, collect, machine_error};
use super::machine::{self, Loaded};
use super::value::{Node, Storage, Value, long_to_i64};
use crate::model::{DType, Format};
use crate::text::escape;
use crate::{Error, Result};

/// The magic number torch writes first, as LONG1 bytes (`0x1950a86a20f9469cfc6c`).
pub const MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
/// The only protocol version torch has written.
pub const PROTOCOL_VERSION: i64 = 1001;
/// Most storages one legacy file may list.
pub const MAX_STORAGES: usize = 1 << 20;

/// Whether a loaded pickle holds only literals (no global, object, storage or tensor).
fn literal(l: &Loaded<'_>) -> bool {
    l.warnings.is_empty()
        && (0..l.heap.len() as u32)
            .all(|i| matches!(l.heap.get(i), Some(Node::Tuple(_) | Node::List(_) | Node::Dict(_))))
}

/// Read a legacy `torch.save` file mapped in `data`.
pub fn read(path: &Path, data: &[u8]) -> Result<TorchFile> {
    let fmt = |m: String| Error::format(path, m);
    if data.len() > 262 && &data[257..262] == b"ustar" {
        return Err(Error::Unsupported(format!(
            "{}: a tar archive (the torch format before 0.4): not supported; load and re-save it with torch",
            crate::text::path(path)
        )));
    }
    let magic = machine::load(data, 0).map_err(|e| machine_error(path, "pickle", e))?;
    let is_magic = match &magic.root {
        Value::BigInt(b) => **b == MAGIC,
        _ => false,
    };
    if !is_magic || !literal(&magic) {
        return Err(fmt(format!(
            "not a torch.save file: a Python pickle without torch's legacy magic number; {}",
            crate::formats::sniff::READS
        )));
    }
    let version = machine::load(data, magic.end).map_err(|e| machine_error(path, "protocol version", e))?;
    if version.root != Value::Int(PROTOCOL_VERSION) || !literal(&version) {
        let shown = version
            .heap
            .repr(&version.root)
            .unwrap_or_else(|| "a non-literal".into());
        return Err(fmt(format!(
            "legacy torch.save file with protocol version {}, not {PROTOCOL_VERSION} (the one torch \
             writes): damaged, or not written by torch.save; re-save it with torch",
            escape(&shown)
        )));
    }
    let sys = machine::load(data, version.end).map_err(|e| machine_error(path, "sys_info", e))?;
    let Some(Node::Dict(info)) = sys.heap.node(&sys.root).filter(|_| literal(&sys)) else {
        return Err(fmt(
            "legacy sys_info is not a plain dict: damaged, or not written by torch.save; re-save it with torch".into(),
        ));
    };
    if info.get_str("little_endian") == Some(&Value::Bool(false)) {
        return Err(Error::Unsupported(format!(
            "{}: saved on a big-endian machine: its tensors cannot be read in place",
            crate::text::path(path)
        )));
    }
    let objects = machine::load(data, sys.end).map_err(|e| machine_error(path, "object pickle", e))?;
    let keys = machine::load(data, objects.end).map_err(|e| machine_error(path, "storage key list", e))?;
    let key_list: Vec<String> = match keys.heap.seq(&keys.root) {
        Some(items) if literal(&keys) => items
            .iter()
            .map(|k| match k {
                Value::Str(s) => Some(s.to_string()),
                Value::Int(i) => Some(i.to_string()),
                _ => None,
            })
            .collect::<Option<_>>()
            .ok_or_else(|| fmt("storage key list holds something other than strings".into()))?,
        _ => return Err(fmt("storage key list is not a plain list".into())),
    };
    if key_list.len() > MAX_STORAGES {
        return Err(Error::Limit {
            path: path.into(),
            what: "storage count",
            value: key_list.len() as u64,
            limit: MAX_STORAGES as u64,
            hint: ": no real checkpoint holds that many storages; the file is damaged (a fixed limit)",
        });
    }
    // the element type of each key, from the storages the object pickle names
    let mut dtypes: HashMap<&str, DType> = HashMap::new();
    for i in 0..objects.heap.len() as u32 {
        if let Some(Node::Storage(s)) = objects.heap.get(i)
            && let Some(prev) = dtypes.insert(&s.key, s.dtype)
            && prev != s.dtype
        {
            return Err(fmt(format!(
                "storage {} is named with two element types",
                escape(&s.key)
            )));
        }
    }
    let mut ranges: HashMap<String, Range<u64>> = HashMap::new();
    let mut pos = keys.end as u64;
    for key in &key_list {
        let count = data
            .get(pos as usize..pos as usize + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default()))
            .ok_or_else(|| fmt(format!("file ends before storage {}", escape(key))))?;
        let dtype = *dtypes.get(key.as_str()).unwrap_or(&DType::U8);
        let nbytes = dtype.bytes_for(count).ok_or_else(|| {
            fmt(format!(
                "storage {} at offset {pos}: {count} elements of {dtype} overflow a 64-bit byte size: \
                     the element count is damaged; re-download the file or re-save it with torch",
                escape(key)
            ))
        })?;
        let start = pos + 8;
        let end = start.checked_add(nbytes).filter(|&e| e <= data.len() as u64).ok_or_else(|| {
            let want = start.saturating_add(nbytes);
            fmt(format!(
                "re-download: the file is truncated at {} of at least {}, or damaged (storage {} needs {} at offset {start})",
                crate::text::bytes(data.len() as u64),
                crate::text::bytes(want),
                escape(key),
                crate::text::bytes(nbytes)
            ))
        })?;
        if ranges.insert(key.clone(), start..end).is_some() {
            return Err(fmt(format!("storage key {} is listed twice", escape(key))));
        }
        pos = end;
    }
    let mut out = TorchFile {
        format: Some(Format::PytorchLegacy),
        ..TorchFile::default()
    };
    if pos != data.len() as u64 {
        out.warnings.push(format!(
            "{} bytes after the last storage are ignored",
            data.len() as u64 - pos
        ));
    }
    let mut resolve = |s: &Storage| -> std::result::Result<Range<u64>, String> {
        let r = ranges
            .get(&s.key)
            .ok_or_else(|| format!("storage {} is not in the file", escape(&s.key)))?;
        let nbytes = s.dtype.bytes_for(s.numel).ok_or_else(|| {
            format!(
                "storage {}: {} elements of {} overflow a 64-bit byte size: the pickle is damaged; \
                 re-download the file or re-save it with torch",
                escape(&s.key),
                s.numel,
                s.dtype
            )
        })?;
        if nbytes > r.end - r.start {
            return Err(format!(
                "storage {} holds {} bytes but its pickle says {nbytes}",
                escape(&s.key),
                r.end - r.start
            ));
        }
        Ok(r.clone())
    };
    collect(path, &objects, data, &mut resolve, &mut out)?;
    let _ = long_to_i64;
    Ok(out)
}
