//! Single `.safetensors` files: validate the header ourselves (checked arithmetic, named limits,
//! duplicate names, impostor files).
//!
//! Every check of the safetensors crate's `read_metadata` is made here too, and more (duplicate
//! names, dimension limit), so the crate is no longer asked for a second opinion on the hot path: it
//! parsed the whole header again into owned strings and a SipHash map (half the time of opening a
//! 200,000-tensor file). Tests check instead that every header accepted here (every committed
//! sample, fixture and fuzz corpus input) is accepted by the crate as well.
//!
//! The header is parsed without allocating per tensor what a borrowed slice can hold: names and
//! dtypes borrow from the header unless they contain JSON escapes; duplicate names are found with a
//! hash set of borrowed names and a fast hasher ([`crate::model::names`]); each name is copied
//! once, into the [`HeaderTensor`] it ends in.
//!
//! Layout: 8-byte little-endian header length `n`, `n` bytes of JSON (`name -> {dtype, shape,
//! data_offsets}` plus an optional `__metadata__` of strings), then the data. Offsets are relative to
//! the end of the header; tensors must tile the data exactly, in order, with no gap or overlap.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::sniff;
use crate::model::DType;
use crate::model::names::NameSet;
use crate::{Error, Result};

/// Largest header accepted, in bytes (the safetensors crate's own limit).
pub const MAX_HEADER_SIZE: u64 = 100_000_000;
pub use crate::model::{MAX_DIMS, MAX_TENSORS};

/// One tensor of a header, with its data range relative to the start of the data section.
#[derive(Debug, Clone)]
pub struct HeaderTensor {
    /// Name as written.
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: Vec<u64>,
    /// Byte range within the data section.
    pub data: Range<u64>,
}

/// A validated header.
#[derive(Debug, Clone)]
pub struct Header {
    /// Offset of the data section in the file (`8 + n`).
    pub data_start: u64,
    /// Tensors in data order.
    pub tensors: Vec<HeaderTensor>,
    /// `__metadata__`, in the order written.
    pub metadata: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct RawInfo<'a> {
    #[serde(borrow)]
    dtype: Text<'a>,
    shape: Vec<u64>,
    data_offsets: (u64, u64),
}

/// A JSON string, borrowed from the header when it holds no escape (almost always), else owned: no
/// allocation per tensor for names and dtypes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> std::result::Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// One entry of the top-level object, typed as it is read (no intermediate JSON values).
enum Entry<'a> {
    Tensor(Cow<'a, str>, RawInfo<'a>),
    Metadata(Vec<(String, String)>),
}

/// Top-level JSON object kept as ordered entries so duplicate names can be detected (serde_json
/// maps keep only the last one, as the safetensors crate does).
struct Entries<'a>(Vec<Entry<'a>>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> std::result::Result<Entries<'de>, A::Error> {
                let mut out = Vec::with_capacity(m.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(Text(k)) = m.next_key::<Text<'de>>()? {
                    if out.len() >= MAX_TENSORS {
                        return Err(de::Error::custom(format!("more than {MAX_TENSORS} tensors")));
                    }
                    if k == "__metadata__" {
                        let v: serde_json::Value = m.next_value()?;
                        out.push(Entry::Metadata(parse_metadata(v).map_err(de::Error::custom)?));
                    } else {
                        match m.next_value::<RawInfo<'de>>() {
                            Ok(info) => out.push(Entry::Tensor(k, info)),
                            Err(e) => {
                                return Err(de::Error::custom(format!("tensor {}: {e}", crate::text::escape(&k))));
                            }
                        }
                    }
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Parse and validate the header of the safetensors file held in `data` (`path` is for messages).
pub fn parse_header(path: &Path, data: &[u8]) -> Result<Header> {
    let err = |msg: String| Error::format(path, msg);
    let kind = sniff::detect(&data[..data.len().min(sniff::SNIFF_LEN)]);
    if let Some(hint) = sniff::impostor_hint(kind) {
        return Err(err(format!("not a safetensors file: {hint}")));
    }
    let Some(len_bytes) = data.get(..8) else {
        return Err(err(format!(
            "re-download: the file is truncated at {}, too short for a safetensors header (8-byte length, then JSON)",
            crate::text::bytes(data.len() as u64)
        )));
    };
    let n = u64::from_le_bytes(len_bytes.try_into().expect("8 bytes"));
    if n > MAX_HEADER_SIZE {
        // whatever the file sniffs as, a header this size means the first 8 bytes are not a
        // safetensors header length: say what the file is, not only which number is too big
        return Err(err(format!(
            "not a safetensors file, or a damaged one: its first 8 bytes give a header size of {}, \
             which exceeds the limit of {} (a fixed limit; real headers are a few MB at most): \
             re-download it if it should be safetensors",
            crate::text::size_past(n, MAX_HEADER_SIZE),
            crate::text::bytes(MAX_HEADER_SIZE)
        )));
    }
    if n < 2 {
        return Err(err(format!("header length {n} is too small for a JSON object")));
    }
    let file_len = data.len() as u64;
    let data_start = 8 + n;
    let Some(json) = data.get(8..data_start as usize) else {
        return Err(err(format!(
            "re-download: the file is truncated at {} of at least {} (the header needs {data_start} bytes)",
            crate::text::bytes(file_len),
            crate::text::bytes(data_start)
        )));
    };
    let text = std::str::from_utf8(json).map_err(|e| err(format!("header is not valid UTF-8: {e}")))?;
    if !text.trim_start().starts_with('{') {
        return Err(err("header is not a JSON object".into()));
    }
    let Entries(entries) = serde_json::from_str(text).map_err(|e| err(format!("header is not valid JSON: {e}")))?;

    let mut metadata = Vec::new();
    let mut tensors = Vec::with_capacity(entries.len());
    let mut names = NameSet::with_capacity_and_hasher(entries.len(), Default::default());
    let mut seen_metadata = false;
    for (index, entry) in entries.iter().enumerate() {
        let (name, info) = match entry {
            Entry::Metadata(_) if seen_metadata => {
                return Err(err("__metadata__ appears twice in the header".into()));
            }
            Entry::Metadata(_) => {
                seen_metadata = true;
                continue;
            }
            Entry::Tensor(name, info) => (name, info),
        };
        if !names.insert(name) {
            return Err(err(format!(
                "tensor name {} appears twice in the header (readers would silently keep only the last): \
                 the writer is broken; re-save the model",
                crate::text::escape(name)
            )));
        }
        let shown = || crate::text::escape(name);
        let dtype = DType::from_safetensors_name(&info.dtype.0).ok_or_else(|| {
            err(format!(
                "tensor {}: unknown dtype {}: damaged, or a dtype newer than tensorscope knows",
                shown(),
                crate::text::escape(&info.dtype.0)
            ))
        })?;
        if info.shape.len() > MAX_DIMS {
            return Err(err(format!(
                "tensor {}: {} dimensions (at most {MAX_DIMS})",
                shown(),
                info.shape.len()
            )));
        }
        let (s, e) = info.data_offsets;
        if s > e {
            return Err(err(format!(
                "tensor {}: data_offsets [{s}, {e}] end before they start",
                shown()
            )));
        }
        let numel = info.shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
        let want = numel.and_then(|n| n.checked_mul(u64::from(dtype.bits())));
        match want {
            Some(bits) if bits % 8 != 0 => {
                return Err(err(format!(
                    "tensor {}: {} of {dtype} does not fill whole bytes",
                    shown(),
                    numel.unwrap_or(0)
                )));
            }
            Some(bits) if bits / 8 == e - s => {}
            Some(bits) => {
                return Err(err(format!(
                    "tensor {}: shape {} of {dtype} needs {} bytes but data_offsets [{s}, {e}] hold {}",
                    shown(),
                    dims(&info.shape),
                    bits / 8,
                    e - s
                )));
            }
            None => {
                return Err(err(format!(
                    "tensor {}: shape {} of {dtype} overflows a 64-bit byte size: the header is damaged",
                    shown(),
                    dims(&info.shape)
                )));
            }
        }
        tensors.push((index, dtype, s..e));
    }
    drop(names);
    // in data order (already, in files written by the safetensors writers: the sort only checks)
    tensors.sort_by_key(|t| (t.2.start, t.2.end));
    let mut at = 0u64;
    for (index, _, data) in &tensors {
        if data.start != at {
            let shown = match &entries[*index] {
                Entry::Tensor(name, _) => crate::text::escape(name).into_owned(),
                Entry::Metadata(_) => String::new(),
            };
            return Err(err(if data.start > at {
                format!(
                    "gap in the data: bytes {at}..{} belong to no tensor (before {shown})",
                    data.start
                )
            } else {
                format!(
                    "tensor {shown} overlaps the previous tensor (starts at {}, previous ends at {at})",
                    data.start
                )
            }));
        }
        at = data.end;
    }
    let have = file_len - data_start;
    if have < at {
        return Err(err(format!(
            "re-download: the file is truncated at {} of {} (the header promises {} bytes; {} missing)",
            crate::text::bytes(file_len),
            crate::text::bytes(data_start + at),
            data_start + at,
            data_start + at - file_len
        )));
    }
    if have > at {
        return Err(err(format!(
            "{} unexpected bytes after the last tensor (file has {file_len}, header accounts for {}): \
             damaged or appended to; re-download it",
            have - at,
            data_start + at
        )));
    }
    // now move each name (allocated once, here) and shape out of the parsed entries, in data order
    let mut slots: Vec<Option<(Cow<'_, str>, Vec<u64>)>> = Vec::with_capacity(entries.len());
    for entry in entries {
        slots.push(match entry {
            Entry::Tensor(name, info) => Some((name, info.shape)),
            Entry::Metadata(m) => {
                metadata = m;
                None
            }
        });
    }
    let tensors = tensors
        .into_iter()
        .filter_map(|(index, dtype, data)| {
            let (name, shape) = slots.get_mut(index)?.take()?;
            Some(HeaderTensor {
                name: name.into_owned(),
                dtype,
                shape,
                data,
            })
        })
        .collect();
    Ok(Header {
        data_start,
        tensors,
        metadata,
    })
}

fn parse_metadata(value: serde_json::Value) -> std::result::Result<Vec<(String, String)>, String> {
    let serde_json::Value::Object(map) = value else {
        return Err("__metadata__ is not a JSON object".into());
    };
    map.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => Ok((k, s)),
            other => Err(format!(
                "__metadata__ key {} holds {}, not a string",
                crate::text::escape(&k),
                json_kind(&other)
            )),
        })
        .collect()
}

/// A shape as a user reads it: `[4, 2]`.
fn dims(shape: &[u64]) -> String {
    let d: Vec<String> = shape.iter().map(u64::to_string).collect();
    format!("[{}]", d.join(", "))
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
