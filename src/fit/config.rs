//! Where a model's configuration comes from: the `config.json` beside the weights (local, a Hugging
//! Face cache snapshot, or fetched whole from a remote mirror) and GGUF metadata values.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::gguf::Meta;
use crate::model::Checkpoint;
use crate::{Error, Result};

/// Largest config.json read.
pub const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// Folders where the configuration may be: the path itself, then the folder of each file.
fn candidates(ck: &Checkpoint) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if ck.path.is_dir() {
        dirs.push(ck.path.clone());
    }
    for f in &ck.files {
        if let Some(d) = f.full_path.parent()
            && !dirs.iter().any(|x| x == d)
        {
            dirs.push(d.to_path_buf());
        }
    }
    dirs.into_iter().map(|d| d.join("config.json")).collect()
}

/// The parsed `config.json` of `ck` and the path it was read from; a remote checkpoint's through the
/// mirror `remote` opened it with.
pub fn read(ck: &Checkpoint, remote: Option<&crate::remote::Env>) -> Result<(PathBuf, Value)> {
    let mirror = remote.and_then(|env| env.mirror_of(ck));
    for p in candidates(ck) {
        let bytes = match mirror
            .as_ref()
            .and_then(|m| m.files.iter().find(|f| f.local == p).cloned())
        {
            Some(f) => {
                if f.size > MAX_CONFIG_BYTES {
                    return Err(too_big(Path::new(&f.label), f.size));
                }
                let b = f.read(0..f.size)?;
                (PathBuf::from(&f.label), b)
            }
            None if mirror.is_none() && p.is_file() => {
                let size = std::fs::metadata(&p).map_err(|e| Error::io(&p, e))?.len();
                if size > MAX_CONFIG_BYTES {
                    return Err(too_big(&p, size));
                }
                let b = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
                (p.clone(), b)
            }
            None => continue,
        };
        let v =
            serde_json::from_slice(&bytes.1).map_err(|e| Error::format(&bytes.0, format!("not valid JSON: {e}")))?;
        return Ok((bytes.0, v));
    }
    Err(Error::Usage(format!(
        "{}: no config.json beside the weights: fit reads the layer count and attention from it",
        crate::text::path(&ck.path)
    )))
}

fn too_big(p: &Path, size: u64) -> Error {
    Error::Limit {
        path: p.to_path_buf(),
        what: "bytes of config.json",
        value: size,
        limit: MAX_CONFIG_BYTES,
        hint: ": a model's config.json is a few kB; check that this is the model's config (a fixed limit)",
    }
}

/// GGUF metadata value `key` of `ck`: scalars from the listed metadata, arrays read whole.
pub fn gguf_meta(ck: &Checkpoint, key: &str) -> Option<Meta> {
    let text = ck.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())?;
    if text.starts_with('[') {
        let full = crate::checkpoint::gguf::metadata_value(ck, key).ok()??;
        // a capped array is not the whole list: no figure from part of it
        let crate::formats::gguf::Value::Array(items) = full.value else {
            return None;
        };
        if full.more > 0 {
            return None;
        }
        let nums: Option<Vec<u64>> = items.head.iter().map(number).collect();
        return nums.map(Meta::Nums);
    }
    match text.parse::<u64>() {
        Ok(n) => Some(Meta::Num(n)),
        Err(_) => match text {
            "true" => Some(Meta::Num(1)),
            "false" => Some(Meta::Num(0)),
            _ => Some(Meta::Text(text.to_owned())),
        },
    }
}

fn number(v: &crate::formats::gguf::Value) -> Option<u64> {
    use crate::formats::gguf::Value as V;
    match *v {
        V::UInt(n, _) => Some(n),
        V::Int(n, _) => u64::try_from(n).ok(),
        V::Bool(b) => Some(u64::from(b)),
        _ => None,
    }
}
