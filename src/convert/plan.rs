//! What to write for one checkpoint, decided before anything is written: which names are exact
//! aliases, which tensors go to which shard, the metadata and the index.

use std::collections::{BTreeMap, HashMap};

pub use super::layout::{Layout, Unit, discover, file_unit};
use super::writer::{Entry, sort_entries};
use crate::checkpoint::{Checkpoint, DType, TensorInfo};
use crate::model::ViewKey;
use crate::tensor::read::TensorReader;
use crate::text::escape;
use crate::{Error, Result};

/// The view safetensors writes for a torch dtype it has no name for but can store: torch's
/// `float4_e2m1fn_x2` (two F4 values per byte) becomes `F4` with the last dimension doubled, as
/// safetensors 0.8 writes it. Every other tensor is returned unchanged.
pub fn safetensors_view(t: &TensorInfo) -> std::borrow::Cow<'_, TensorInfo> {
    use std::borrow::Cow;
    let DType::Torch {
        name: "float4_e2m1fn_x2",
        ..
    } = t.dtype
    else {
        return Cow::Borrowed(t);
    };
    let (Some(&last), Some(&last_stride)) = (t.shape.last(), t.strides.last()) else {
        return Cow::Borrowed(t);
    };
    if last_stride != 1 && last > 1 {
        return Cow::Borrowed(t);
    }
    let mut strides: Vec<u64> = Vec::with_capacity(t.strides.len());
    for &s in &t.strides[..t.strides.len() - 1] {
        let Some(s) = s.checked_mul(2) else {
            return Cow::Borrowed(t);
        };
        strides.push(s);
    }
    strides.push(1);
    let (Some(last), Some(offset)) = (last.checked_mul(2), t.offset.checked_mul(2)) else {
        return Cow::Borrowed(t);
    };
    let mut shape = t.shape.clone();
    *shape.last_mut().unwrap_or(&mut 0) = last;
    Cow::Owned(TensorInfo {
        dtype: DType::F4,
        shape,
        strides,
        offset,
        ..t.clone()
    })
}

/// Conversion settings that shape the plan.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions {
    /// Largest shard in bytes of tensor data.
    pub max_shard_size: u64,
    /// Leave tensors of torch-only dtypes out instead of failing.
    pub skip_unsupported: bool,
}

/// One output file.
#[derive(Debug, Clone)]
pub struct FilePlan<'a> {
    /// File name (`model.safetensors`, `model-00001-of-00002.safetensors`).
    pub name: String,
    /// Tensors, sorted as the safetensors writer sorts them.
    pub entries: Vec<Entry<'a>>,
}

/// The plan for one unit.
#[derive(Debug, Clone)]
pub struct UnitPlan<'a> {
    /// Output files, one unless sharded.
    pub files: Vec<FilePlan<'a>>,
    /// `__metadata__` of every file.
    pub metadata: BTreeMap<String, String>,
    /// Exact aliases written once: (dropped, kept).
    pub aliases: Vec<(String, String)>,
    /// Tensors left out with `--skip-unsupported` (torch-only dtypes, parts of a sparse tensor):
    /// name and why (the dtype, or `part of the sparse_coo tensor emb`).
    pub skipped: Vec<(String, String)>,
    /// Metadata values left out (a scalar named like one of our own keys).
    pub dropped_metadata: Vec<String>,
    /// The index (`model.safetensors.index.json`) name and text, when sharded.
    pub index: Option<(String, String)>,
    /// Bytes of tensor data written.
    pub data_bytes: u64,
}

/// Views by identity, hashed with the fast hasher of [`crate::model::names`]: one lookup per
/// tensor, so grouping the views of a storage is linear in their number.
type ViewMap<'a> = HashMap<ViewKey<'a>, &'a str, std::hash::BuildHasherDefault<crate::model::names::NameHasher>>;

/// Decide aliases, shards and metadata for `ck`, checking every tensor before anything is written.
pub fn plan_unit<'a>(ck: &'a Checkpoint, unit: &Unit, opts: PlanOptions) -> Result<UnitPlan<'a>> {
    let reader = TensorReader::new(ck);
    let (mut kept, mut aliases, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    let mut first = ViewMap::with_capacity_and_hasher(ck.tensors.len(), Default::default());
    let (mut unsupported, mut any_part) = (Vec::new(), false);
    // parts of tensors not rebuilt (a sparse tensor's indices and values) are not the model's tensors
    let parts: HashMap<&str, &str> = ck.parts.iter().map(|(n, w)| (n.as_str(), w.as_str())).collect();
    for t in &ck.tensors {
        let why = match parts.get(t.name.as_str()) {
            Some(whole) => Some(format!("part of the {whole}")),
            None => (!t.dtype.is_safetensors()).then(|| t.dtype.to_string()),
        };
        if let Some(why) = why {
            any_part |= parts.contains_key(t.name.as_str());
            if opts.skip_unsupported {
                skipped.push((t.name.clone(), why));
            } else {
                unsupported.push(format!("{} ({why})", escape(&t.name)));
            }
            continue;
        }
        reader.check(t)?;
        match first.entry(t.view_key()) {
            std::collections::hash_map::Entry::Occupied(k) => aliases.push((t.name.clone(), (*k.get()).to_owned())),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(&t.name);
                kept.push(t);
            }
        }
    }
    if !unsupported.is_empty() {
        let what = if any_part {
            "safetensors cannot store"
        } else if unsupported.len() == 1 {
            "has dtypes safetensors cannot store"
        } else {
            "have dtypes safetensors cannot store"
        };
        return Err(Error::Unsupported(format!(
            "{}: {} {what}: {}; pass --skip-unsupported to leave them out",
            crate::text::path(&unit.input),
            crate::text::plural(unsupported.len() as u64, "tensor"),
            unsupported.join(", ")
        )));
    }
    let mut metadata = BTreeMap::from([("format".to_string(), "pt".to_string())]);
    let mut dropped_metadata = Vec::new();
    for (k, v) in &ck.metadata {
        if let Some(ours) = metadata.get(k) {
            if ours != v {
                dropped_metadata.push(k.clone());
            }
        } else {
            metadata.insert(k.clone(), v.clone());
        }
    }
    for (dropped, k) in &aliases {
        // the alias record takes the key: a scalar of the checkpoint under the same name is left
        // out, and said so (`{"model.w2": "x", "model": {"w2": tied}}`)
        if metadata.get(dropped).is_some_and(|v| v != k) && !dropped_metadata.contains(dropped) {
            dropped_metadata.push(dropped.clone());
        }
        metadata.insert(dropped.clone(), k.clone());
    }
    // shards as huggingface_hub's split_state_dict_into_shards: in order; a tensor larger than the
    // limit gets a shard of its own, closed at once (so it comes before the shard being filled)
    let mut shards: Vec<Vec<&TensorInfo>> = Vec::new();
    let (mut current, mut current_size, mut total) = (Vec::new(), 0u64, 0u64);
    for t in kept {
        let n = t.nbytes().unwrap_or(0);
        total += n;
        if n > opts.max_shard_size {
            shards.push(vec![t]);
            continue;
        }
        if current_size + n > opts.max_shard_size {
            shards.push(std::mem::take(&mut current));
            current_size = 0;
        }
        current.push(t);
        current_size += n;
    }
    if !current.is_empty() || shards.is_empty() {
        shards.push(current);
    }
    let count = shards.len();
    let mut files = Vec::with_capacity(count);
    let mut weight_map = BTreeMap::new();
    for (i, shard) in shards.into_iter().enumerate() {
        let name = if count == 1 {
            format!("{}.safetensors", unit.stem)
        } else {
            format!("{}-{:05}-of-{count:05}.safetensors", unit.stem, i + 1)
        };
        let mut entries: Vec<Entry> = shard
            .into_iter()
            .map(|t| Entry {
                name: t.name.clone(),
                tensor: t,
            })
            .collect();
        sort_entries(&mut entries);
        for e in &entries {
            weight_map.insert(e.name.clone(), name.clone());
        }
        files.push(FilePlan { name, entries });
    }
    let index = (count > 1).then(|| {
        let index = serde_json::json!({"metadata": {"total_size": total}, "weight_map": weight_map});
        let text = serde_json::to_string_pretty(&index).unwrap_or_default() + "\n";
        (unit.index_name.clone(), text)
    });
    Ok(UnitPlan {
        files,
        metadata,
        aliases,
        skipped,
        dropped_metadata,
        index,
        data_bytes: total,
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::tensor::read::testing::{checkpoint, counting, view};

    #[test]
    fn only_exact_aliases_are_written_once() {
        let dir = tempfile::tempdir().unwrap();
        let ts = vec![
            view("wte", &[4, 4], &[4, 1], 0, 64),
            view("lm_head", &[4, 4], &[4, 1], 0, 64),
            view("wte_t", &[4, 4], &[1, 4], 0, 64),
            view("rows", &[2, 4], &[4, 1], 8, 64),
            view("rows_again", &[2, 4], &[4, 1], 8, 64),
            view("rows_shifted", &[2, 4], &[4, 1], 4, 64),
        ];
        let mut ck = checkpoint(dir.path(), &counting(16), ts);
        ck.metadata = vec![("epoch".into(), "7".into()), ("format".into(), "weird".into())];
        let unit = file_unit(&ck.path.clone(), PathBuf::new(), true);
        let opts = PlanOptions {
            max_shard_size: u64::MAX,
            skip_unsupported: false,
        };
        let p = plan_unit(&ck, &unit, opts).unwrap();
        assert_eq!(
            p.aliases,
            [("lm_head".into(), "wte".into()), ("rows_again".into(), "rows".into())]
        );
        let names: Vec<&str> = p.files[0].entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["rows", "rows_shifted", "wte", "wte_t"]);
        assert_eq!(p.metadata["lm_head"], "wte");
        assert_eq!(p.metadata["epoch"], "7");
        assert_eq!(p.metadata["format"], "pt");
        assert_eq!(p.dropped_metadata, ["format"]);
        // a scalar named like an alias is left out, and said so
        ck.metadata.push(("lm_head".into(), "x".into()));
        let p = plan_unit(&ck, &unit, opts).unwrap();
        assert_eq!(p.metadata["lm_head"], "wte");
        assert_eq!(p.dropped_metadata, ["format", "lm_head"]);
        assert_eq!(p.data_bytes, 64 + 64 + 32 + 32);
        assert!(p.index.is_none());
    }

    #[test]
    fn shards_are_cut_in_order_and_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let ts = vec![
            view("a", &[4], &[1], 0, 64),
            view("b", &[4], &[1], 4, 64),
            view("big", &[12], &[1], 0, 64),
            view("c", &[4], &[1], 8, 64),
        ];
        let ck = checkpoint(dir.path(), &counting(16), ts);
        let unit = file_unit(Path::new("pytorch_model.bin"), PathBuf::new(), true);
        let opts = PlanOptions {
            max_shard_size: 40,
            skip_unsupported: false,
        };
        let p = plan_unit(&ck, &unit, opts).unwrap();
        let shards: Vec<(&str, Vec<&str>)> = p
            .files
            .iter()
            .map(|f| (f.name.as_str(), f.entries.iter().map(|e| e.name.as_str()).collect()))
            .collect();
        assert_eq!(
            shards,
            [
                // as huggingface_hub: an oversized tensor's own shard is closed at once
                ("model-00001-of-00003.safetensors", vec!["big"]),
                ("model-00002-of-00003.safetensors", vec!["a", "b"]),
                ("model-00003-of-00003.safetensors", vec!["c"]),
            ]
        );
        let (name, text) = p.index.unwrap();
        assert_eq!(name, "model.safetensors.index.json");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["metadata"]["total_size"], 96);
        assert_eq!(v["weight_map"]["big"], "model-00001-of-00003.safetensors");
        assert!(text.starts_with("{\n  \"metadata\": {\n    \"total_size\": 96\n  },\n  \"weight_map\": {\n    \"a\""));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn torch_only_dtypes_are_named_or_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = view("c128", &[2], &[1], 0, 32);
        c.dtype = DType::Torch {
            name: "complex128",
            bits: 128,
        };
        let ck = checkpoint(dir.path(), &counting(8), vec![view("ok", &[2], &[1], 0, 32), c]);
        let unit = file_unit(&ck.path.clone(), PathBuf::new(), true);
        let mut opts = PlanOptions {
            max_shard_size: u64::MAX,
            skip_unsupported: false,
        };
        let e = plan_unit(&ck, &unit, opts).unwrap_err().to_string();
        assert!(
            e.contains("c128 (complex128)") && e.contains("--skip-unsupported"),
            "{e}"
        );
        opts.skip_unsupported = true;
        let p = plan_unit(&ck, &unit, opts).unwrap();
        assert_eq!(p.skipped.len(), 1);
        assert_eq!(p.files[0].entries.len(), 1);
    }
}
