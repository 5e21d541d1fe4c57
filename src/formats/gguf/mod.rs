//! GGUF (llama.cpp, ggml's `docs/gguf.md`), versions 2 and 3, little-endian: a header of metadata
//! key/value pairs and tensor infos, then the aligned tensor data.
//!
//! ```text
//! "GGUF" | version u32 | tensor_count u64 | kv_count u64
//! kv_count × (key: string, type: u32, value)          string = u64 length + UTF-8 bytes
//! tensor_count × (name: string, n_dims: u32, ne: n_dims × u64, type: u32, offset: u64)
//! padding to `general.alignment` (default 32) | tensor data (offsets relative to here)
//! ```
//!
//! Everything is checked before it is used: counts, lengths and dimensions against named limits
//! ([`limits`]), every size with checked arithmetic, the alignment a power of two, each offset a
//! multiple of it, each tensor's bytes inside the file and apart from the others, no duplicate keys
//! or tensor names, and the first dimension (`ne[0]`) a multiple of the type's block size. Shapes are
//! row-major (`ne` reversed, as numpy and torch print them). An unknown type id keeps its tensor
//! listed (its bytes run to the next tensor) with a warning; the file still opens.

mod cursor;
pub mod kv;
pub mod limits;
mod meta;
pub mod scales;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::path::Path;

use cursor::Cursor;
pub use kv::{Array, Value, ValueType};
use limits::*;
pub use meta::{FullValue, MAX_SHOWN_ITEMS, c_key, full_value, is_template_key, metadata, templates};

use crate::model::dtype::GgmlType;
use crate::model::{DType, TensorInfo};
use crate::text::escape;
use crate::{Error, Result};

/// The magic at the start of every GGUF file.
pub const MAGIC: &[u8; 4] = b"GGUF";
/// The alignment when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;

/// `split.no`, `split.count` and `split.tensors.count` of one file of a gguf-split set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// This file's index, from 0.
    pub no: u64,
    /// Files in the set.
    pub count: u64,
    /// Tensors in the whole set.
    pub tensors: u64,
}

/// A parsed GGUF file.
#[derive(Debug, Clone)]
pub struct Gguf {
    /// Format version (2 or 3).
    pub version: u32,
    /// Data alignment in bytes.
    pub alignment: u64,
    /// Every key/value pair, in file order.
    pub kvs: Vec<(String, Value)>,
    /// Every tensor (file index 0), in file order, with absolute byte ranges.
    pub tensors: Vec<TensorInfo>,
    /// Absolute offset of the data section.
    pub data_start: u64,
    /// The split fields, when the file is part of a gguf-split set.
    pub split: Option<Split>,
    /// Tensors listed but not readable (unknown type ids).
    pub warnings: Vec<String>,
}

impl Gguf {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.kvs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// Whether `head` starts with the GGUF magic.
pub fn is_gguf(head: &[u8]) -> bool {
    head.starts_with(MAGIC)
}

fn read_version(c: &mut Cursor) -> Result<u32> {
    let v = c.u32("the version")?;
    if matches!(v.swap_bytes(), 1..=3) {
        return Err(c.err(format!(
            "big-endian GGUF (version {} stored big-endian): tensorscope reads little-endian GGUF only",
            v.swap_bytes()
        )));
    }
    match v {
        2 | 3 => Ok(v),
        1 => Err(c.err(
            "GGUF version 1 (2023, 32-bit counts) is not supported: convert the model again with a current llama.cpp",
        )),
        _ => Err(c.err(format!("unknown GGUF version {v}: tensorscope reads versions 2 and 3"))),
    }
}

fn count(c: &mut Cursor, what: &'static str, limit: u64, min_size: u64) -> Result<u64> {
    let n = c.u64(what)?;
    if n > limit {
        return Err(Error::Limit {
            path: c.path.into(),
            what,
            value: n,
            limit,
            hint: ": the count is damaged, or the file is not GGUF; re-download it (a fixed limit)",
        });
    }
    if n.saturating_mul(min_size) > c.remaining() {
        return Err(c.truncated(what, n.saturating_mul(min_size)));
    }
    Ok(n)
}

/// A tensor info as stored, before its data is located.
struct RawTensor {
    name: String,
    /// The name as stored.
    bytes: Vec<u8>,
    ne: Vec<u64>,
    type_id: u32,
    offset: u64,
}

fn read_tensor_info(c: &mut Cursor, index: u64) -> Result<RawTensor> {
    let what = format!("tensor info {index}");
    let len = c.u64(&what)?;
    if len > MAX_NAME_LEN {
        return Err(Error::Limit {
            path: c.path.into(),
            what: "GGUF tensor name length",
            value: len,
            limit: MAX_NAME_LEN,
            hint: ": the tensor info is damaged; re-download the file (a fixed limit)",
        });
    }
    let bytes = c.take(len, &what)?;
    let name = crate::text::lossless(bytes);
    let what = format!("tensor {}", escape(&name));
    let n_dims = c.u32(&what)?;
    if n_dims > MAX_DIMS {
        return Err(c.err(format!(
            "{what} has {n_dims} dimensions; GGUF (ggml's GGML_MAX_DIMS) allows at most {MAX_DIMS}"
        )));
    }
    let mut ne = Vec::with_capacity(n_dims as usize);
    for _ in 0..n_dims {
        let d = c.u64(&what)?;
        if d > i64::MAX as u64 {
            return Err(c.err(format!("{what} has a dimension of {d}, more than ggml's int64 allows")));
        }
        ne.push(d);
    }
    let type_id = c.u32(&what)?;
    let offset = c.u64(&what)?;
    Ok(RawTensor {
        name,
        bytes: bytes.to_vec(),
        ne,
        type_id,
        offset,
    })
}

fn read_alignment(c: &Cursor, kvs: &[(String, Value)]) -> Result<u64> {
    let Some((_, v)) = kvs.iter().find(|(k, _)| k == "general.alignment") else {
        return Ok(DEFAULT_ALIGNMENT);
    };
    let a = v
        .as_u64()
        .ok_or_else(|| c.err(format!("general.alignment is a {}, not an integer", v.kind().name())))?;
    if a == 0 || !a.is_power_of_two() || a > MAX_ALIGNMENT {
        return Err(c.err(format!(
            "general.alignment {a} is not a power of two between 1 and {MAX_ALIGNMENT}"
        )));
    }
    Ok(a)
}

fn read_split(kvs: &[(String, Value)]) -> Option<Split> {
    let get = |k: &str| kvs.iter().find(|(key, _)| key == k).and_then(|(_, v)| v.as_u64());
    Some(Split {
        no: get("split.no")?,
        count: get("split.count")?,
        tensors: get("split.tensors.count")?,
    })
}

/// The keys or tensor names seen so far, as stored and as text.
#[derive(Default)]
struct Names {
    raw: HashSet<Vec<u8>>,
    text: HashSet<String>,
}

impl Names {
    /// Add one: a name stored twice is a duplicate (llama.cpp refuses the file too); two names that
    /// differ as stored but read alike (one holds the text `\xff`, the other the byte) cannot be told
    /// apart by name, and the file is refused as such, not called a duplicate.
    fn insert(&mut self, c: &Cursor, raw: &[u8], text: &str, what: &str) -> Result<()> {
        if !self.raw.insert(raw.to_vec()) {
            return Err(c.err(format!("duplicate {what} {}", escape(text))));
        }
        if !self.text.insert(text.to_string()) {
            return Err(c.err(format!(
                "two {what}s print as {} (one holds bytes that are not UTF-8, printed \\xNN, the other that \
                 text); tensorscope cannot tell them apart by name",
                escape(text)
            )));
        }
        Ok(())
    }
}

/// Parse the GGUF file `data` (all of it, mapped) read from `path`.
pub fn parse(path: &Path, data: &[u8]) -> Result<Gguf> {
    let mut c = Cursor::new(path, data);
    let magic = c.take(4, "the magic")?;
    if magic != MAGIC {
        return Err(c.err("not a GGUF file (no GGUF magic)"));
    }
    let version = read_version(&mut c)?;
    // smallest tensor info: name length, n_dims, type, offset; smallest kv: key length, type, one byte
    let n_tensors = count(&mut c, "GGUF tensor count", MAX_TENSOR_COUNT, 24)?;
    let n_kv = count(&mut c, "GGUF metadata key/value count", MAX_KV_COUNT, 13)?;
    let mut kvs = Vec::with_capacity(n_kv as usize);
    // keys and names are compared as stored, as llama.cpp compares them (C strings): `w\xff` and
    // `w\xfe` are two names; their text must then be two as well
    let mut keys = Names::default();
    for i in 0..n_kv {
        let (raw, key) = kv::read_name(&mut c, &format!("metadata key {i}"))?;
        keys.insert(&c, raw, &key, "metadata key")?;
        let v = kv::read_typed(&mut c, &key)?;
        kvs.push((key, v));
    }
    let alignment = read_alignment(&c, &kvs)?;
    let mut raw = Vec::with_capacity(n_tensors as usize);
    let mut names = Names::default();
    for i in 0..n_tensors {
        let t = read_tensor_info(&mut c, i)?;
        names.insert(&c, &t.bytes, &t.name, "tensor name")?;
        raw.push(t);
    }
    let data_start = (c.pos as u64).next_multiple_of(alignment);
    let (tensors, warnings) = locate(&c, raw, data_start, alignment)?;
    let split = read_split(&kvs);
    Ok(Gguf {
        version,
        alignment,
        kvs,
        tensors,
        data_start,
        split,
        warnings,
    })
}

/// Check each tensor's type, shape and offset, and find its bytes: inside the file, aligned, apart.
fn locate(c: &Cursor, raw: Vec<RawTensor>, data_start: u64, alignment: u64) -> Result<(Vec<TensorInfo>, Vec<String>)> {
    let file_len = c.data.len() as u64;
    if !raw.is_empty() && data_start > file_len {
        return Err(c.err(format!(
            "truncated GGUF file at {} of at least {} (the tensor data starts at {data_start}): re-download it",
            crate::text::bytes(file_len),
            crate::text::bytes(data_start)
        )));
    }
    // (start, Some(end) for known sizes) per tensor
    let mut spans: Vec<(u64, Option<u64>)> = Vec::with_capacity(raw.len());
    for t in &raw {
        let name = escape(&t.name);
        let dtype = DType::from_ggml_id(t.type_id);
        if t.offset % alignment != 0 {
            return Err(c.err(format!(
                "tensor {name}: offset {} is not a multiple of the alignment {alignment}",
                t.offset
            )));
        }
        let numel =
            t.ne.iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d))
                .filter(|&n| n <= i64::MAX as u64)
                .ok_or_else(|| {
                    let shape: Vec<String> = t.ne.iter().map(u64::to_string).collect();
                    c.err(format!(
                        "tensor {name}: element count of shape [{}] overflows: the tensor info is damaged; \
                         re-download the file",
                        shape.join(", ")
                    ))
                })?;
        let start = data_start
            .checked_add(t.offset)
            .ok_or_else(|| c.err(format!("tensor {name}: offset {} overflows", t.offset)))?;
        if start > file_len {
            return Err(c.err(format!(
                "tensor {name}: offset {} (byte {start}) lies past the end of the file ({file_len} bytes)",
                t.offset
            )));
        }
        let end = match dtype.block_size() {
            None => None,
            Some(block) => {
                let row = t.ne.first().copied().unwrap_or(1);
                if row % block != 0 {
                    return Err(c.err(format!(
                        "tensor {name}: the row length ne[0] = {row} is not a multiple of {}'s block size {block}",
                        dtype.name()
                    )));
                }
                let bytes = dtype
                    .bytes_for(numel)
                    .ok_or_else(|| c.err(format!("tensor {name}: {numel} elements of {} overflow a 64-bit byte size: the tensor info is damaged; re-download the file", dtype.name())))?;
                let end = start.checked_add(bytes).ok_or_else(|| {
                    c.err(format!(
                        "tensor {name}: {} at offset {start} runs past 64-bit offsets: the tensor info is damaged; \
                         re-download the file",
                        crate::text::bytes(bytes)
                    ))
                })?;
                if end > file_len {
                    return Err(c.err(format!(
                        "truncated GGUF file at {} of at least {} (tensor {name} needs bytes {start}..{end}): \
                         re-download it",
                        crate::text::bytes(file_len),
                        crate::text::bytes(end)
                    )));
                }
                Some(end)
            }
        };
        spans.push((start, end));
    }
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by_key(|&i| spans[i].0);
    let mut resolved = vec![(0u64, 0u64); raw.len()];
    for (k, &i) in order.iter().enumerate() {
        let next = order.get(k + 1).map_or(file_len, |&j| spans[j].0);
        let (start, end) = spans[i];
        let end = end.unwrap_or(next);
        if end > next {
            let j = order[k + 1];
            return Err(c.err(format!(
                "tensors {} and {} overlap (bytes {start}..{end} and {next}..)",
                escape(&raw[i].name),
                escape(&raw[j].name)
            )));
        }
        resolved[i] = (start, end);
    }
    let mut tensors = Vec::with_capacity(raw.len());
    let mut warnings = Vec::new();
    for (t, (start, end)) in raw.into_iter().zip(resolved) {
        let dtype = DType::from_ggml_id(t.type_id);
        if let DType::Ggml(GgmlType::Unknown(id)) = dtype {
            warnings.push(format!(
                "tensor {}: unknown GGML type id {id}: listed without values",
                escape(&t.name)
            ));
        }
        let shape: Vec<u64> = t.ne.iter().rev().copied().collect();
        let info = TensorInfo::contiguous(t.name, dtype, shape, 0, start..end)
            .ok_or_else(|| c.err("tensor shape overflows"))?;
        tensors.push(info);
    }
    Ok((tensors, warnings))
}
