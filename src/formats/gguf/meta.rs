//! GGUF metadata as tensorscope shows it: gguf_dump's `GGUF.version`, `GGUF.tensor_count` and
//! `GGUF.kv_count` first, then `general.*`, then the architecture's hyperparameters
//! (`llama.block_count`, …), then everything else in file order. Arrays are summarised (element type,
//! length, first items); `general.file_type` reads as its label (`MOSTLY_Q4_K_M (15)`).
//! [`full_value`] gives any one value whole, arrays included.

use std::path::Path;

use super::kv::{Array, Value, ValueType, array_items};
use super::limits::MAX_METADATA_STRING;
use super::{Gguf, parse};
use crate::Result;
use crate::model::dtype::file_type_label;

/// One value as one line of text (strings unquoted at the top level, quoted inside arrays).
fn render(v: &Value, top: bool) -> String {
    match v {
        Value::UInt(x, _) => x.to_string(),
        Value::Int(x, _) => x.to_string(),
        Value::Float(x, ValueType::F32) => (*x as f32).to_string(),
        Value::Float(x, _) => x.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) if top && s.len() <= MAX_METADATA_STRING => s.clone(),
        Value::Str(s) if top => {
            let cut: String = s.chars().take(200).collect();
            format!(
                "{cut}… ({} bytes; `tensorscope show` with this key prints it whole)",
                s.len()
            )
        }
        Value::Str(s) => {
            let cut: String = s.chars().take(80).collect();
            let more = if cut.len() < s.len() { "…" } else { "" };
            format!("{}{more}", quote(&cut))
        }
        Value::Array(a) => render_array(a),
    }
}

fn render_array(a: &Array) -> String {
    let items: Vec<String> = a.head.iter().map(|v| render(v, false)).collect();
    let more = match a.len.saturating_sub(a.head.len() as u64) {
        0 => String::new(),
        n => format!(", +{n} more"),
    };
    format!("[{} × {}] [{}{more}]", a.elem.name(), a.len, items.join(", "))
}

/// A string item quoted as Python's `repr` would (the other quote when it holds one), but not
/// escaped: the printer escapes text once, where it is printed (a token `"` reads `'"'`).
fn quote(s: &str) -> String {
    if !s.contains('"') {
        format!("\"{s}\"")
    } else if !s.contains('\'') {
        format!("'{s}'")
    } else {
        format!("\"{}\"", s.replace('"', "\\\""))
    }
}

/// The rendering of key `k`'s value `v` for [`crate::model::Checkpoint::metadata`].
fn render_kv(k: &str, v: &Value) -> String {
    if k == "general.file_type"
        && let Some(label) = v.as_u64().and_then(file_type_label)
    {
        return format!("{label} ({})", render(v, true));
    }
    render(v, true)
}

/// The metadata of a parsed file, ordered and summarised (see the module docs).
pub fn metadata(g: &Gguf) -> Vec<(String, String)> {
    let mut out = vec![
        ("GGUF.version".to_string(), g.version.to_string()),
        ("GGUF.tensor_count".to_string(), g.tensors.len().to_string()),
        ("GGUF.kv_count".to_string(), g.kvs.len().to_string()),
    ];
    let arch = g
        .get("general.architecture")
        .and_then(Value::as_str)
        .map(|a| format!("{a}."));
    let rank = |k: &str| {
        if k.starts_with("general.") {
            0
        } else if arch.as_deref().is_some_and(|a| k.starts_with(a)) {
            1
        } else {
            2
        }
    };
    let mut kvs: Vec<&(String, Value)> = g.kvs.iter().collect();
    kvs.sort_by_key(|(k, _)| rank(k));
    out.extend(kvs.into_iter().map(|(k, v)| (k.clone(), render_kv(k, v))));
    out
}

/// Whether `key` holds a chat template (`tokenizer.chat_template`, `tokenizer.chat_template.NAME`).
pub fn is_template_key(key: &str) -> bool {
    key == "tokenizer.chat_template" || key.starts_with("tokenizer.chat_template.")
}

/// A key as a C reader sees it: up to its first NUL byte. ggml stores keys with their length, but
/// llama.cpp's `gguf_find_key` compares them with `strcmp`, so `tokenizer.chat_template\0x` is found
/// as `tokenizer.chat_template` (and whichever such key comes first wins).
pub fn c_key(key: &str) -> &str {
    key.split('\0').next().unwrap_or(key)
}

/// The chat templates of a file: `(key, template)` for every string under a key that is a template
/// key as a C reader matches it ([`c_key`]): every value a loader could take for a template.
pub fn templates(g: &Gguf) -> Vec<(&str, &str)> {
    g.kvs
        .iter()
        .filter(|(k, _)| is_template_key(c_key(k)))
        .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
        .collect()
}

/// Most array items `show FILE KEY` reads and prints (the largest real vocabularies, 262,144
/// tokens, fit); the rest are counted as "… N more". Memory stays bounded for any array.
pub const MAX_SHOWN_ITEMS: usize = 1 << 18;

/// One metadata value in full: its type (`STRING`, `ARRAY[STRING]`) and value (arrays with their
/// first [`MAX_SHOWN_ITEMS`] items).
#[derive(Debug, Clone, serde::Serialize)]
pub struct FullValue {
    /// The key.
    pub key: String,
    /// gguf-py's type name; arrays as `ARRAY[ELEMENT]`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The value; for an array, its items up to [`MAX_SHOWN_ITEMS`].
    pub value: Value,
    /// For an array: how many items are left out of `value` (0 when it is whole).
    #[serde(skip_serializing_if = "is_zero")]
    pub more: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl FullValue {
    /// An array's items as text, one string each (as [`FullValue::text`] writes them, so an item
    /// may hold a newline); `None` for a value that is not an array.
    pub fn items(&self) -> Option<Vec<String>> {
        match &self.value {
            Value::Array(a) => Some(a.head.iter().map(|v| render(v, true)).collect()),
            _ => None,
        }
    }

    /// The value as text: a string as is, a scalar as a number, an array one item per line (and
    /// "… N more" when it was cut).
    pub fn text(&self) -> String {
        match &self.value {
            Value::Str(s) => s.clone(),
            Value::Array(a) => {
                let mut out = String::new();
                for (i, v) in a.head.iter().enumerate() {
                    if i > 0 {
                        out.push('\n');
                    }
                    out.push_str(&render(v, true));
                }
                if self.more > 0 {
                    out.push_str(&format!("\n… {} more", self.more));
                }
                out
            }
            v => render_kv(&self.key, v),
        }
    }
}

/// The value of `key` in the GGUF file `data` read from `path`, whole; `None` when there is no such
/// key (also the pseudo-keys `GGUF.version`, `GGUF.tensor_count`, `GGUF.kv_count`).
pub fn full_value(path: &Path, data: &[u8], key: &str) -> Result<Option<FullValue>> {
    let g = parse(path, data)?;
    let pseudo = match key {
        "GGUF.version" => Some(u64::from(g.version)),
        "GGUF.tensor_count" => Some(g.tensors.len() as u64),
        "GGUF.kv_count" => Some(g.kvs.len() as u64),
        _ => None,
    };
    if let Some(n) = pseudo {
        return Ok(Some(FullValue {
            key: key.into(),
            kind: "UINT64".into(),
            value: Value::UInt(n, ValueType::U64),
            more: 0,
        }));
    }
    let Some((k, v)) = g.kvs.into_iter().find(|(k, _)| k == key) else {
        return Ok(None);
    };
    Ok(Some(match v {
        Value::Array(a) => {
            let items = array_items(path, data, &a, MAX_SHOWN_ITEMS)?;
            let kind = format!("ARRAY[{}]", a.elem.name());
            let more = a.len - items.len() as u64;
            FullValue {
                key: k,
                kind,
                value: Value::Array(a.with_head(items)),
                more,
            }
        }
        v => FullValue {
            key: k,
            kind: v.kind().name().into(),
            value: v,
            more: 0,
        },
    }))
}
