//! What to write, decided before anything is written: which checkpoints the input holds (units),
//! which names are exact aliases, which tensors go to which shard, the metadata and the index.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use super::read::TensorReader;
use super::writer::{Entry, sort_entries};
use crate::checkpoint::{Checkpoint, DType, TensorInfo};
use crate::text::escape;
use crate::{Error, Result};

/// Most files copied or converted from one input folder.
pub const MAX_FOLDER_FILES: usize = 10_000;

/// Pickle weight file extensions.
const PICKLE_EXTS: [&str; 4] = ["bin", "pt", "pth", "ckpt"];

/// One checkpoint of the input and where its conversion goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// What to open: a pickle file, or a folder with a sharded pickle index.
    pub input: PathBuf,
    /// Weight variant of a sharded index (`fp16` for `pytorch_model.bin.index.fp16.json`).
    pub variant: Option<String>,
    /// Output folder relative to OUT (folder outputs only).
    pub dir: PathBuf,
    /// Output name without `.safetensors`: `model`, `diffusion_pytorch_model`, `model.fp16`.
    pub stem: String,
    /// Index name when the unit is sharded: `model.safetensors.index.json`.
    pub index_name: String,
    /// Input files this unit reads (to refuse an output that would overwrite one).
    pub files: Vec<PathBuf>,
}

/// Everything an input holds: the checkpoints to convert and the other files to copy.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// Checkpoints to convert.
    pub units: Vec<Unit>,
    /// Other files (configs, tokenizers), relative to the input folder, copied unchanged.
    pub copies: Vec<PathBuf>,
}

/// `pytorch_model` -> `model` (what transformers names the safetensors twin); other stems unchanged.
fn out_stem(stem: &str) -> String {
    match stem.strip_prefix("pytorch_model") {
        Some(rest) => format!("model{rest}"),
        None => stem.to_owned(),
    }
}

/// `model.fp16` -> (`model`, Some(`fp16`)).
fn split_variant(stem: &str) -> (&str, Option<&str>) {
    match stem.rsplit_once('.') {
        Some((base, v)) if !v.is_empty() && !base.is_empty() => (base, Some(v)),
        _ => (stem, None),
    }
}

fn index_name(stem: &str) -> String {
    match split_variant(stem) {
        (base, Some(v)) => format!("{base}.safetensors.index.{v}.json"),
        (base, None) => format!("{base}.safetensors.index.json"),
    }
}

/// The unit for an input file: in a folder, `X.bin` becomes `X.safetensors` (`pytorch_model` becomes
/// `model`); a lone file becomes `model.safetensors` unless it already has a transformers or diffusers name.
pub fn file_unit(input: &Path, dir: PathBuf, lone: bool) -> Unit {
    let name = input.file_name().and_then(|n| n.to_str()).unwrap_or("model");
    let stem = Path::new(name).file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    let mut stem = out_stem(stem);
    if lone && !(stem.starts_with("model") || stem.starts_with("diffusion_pytorch_model")) {
        stem = "model".into();
    }
    Unit {
        input: input.to_path_buf(),
        variant: None,
        dir,
        index_name: index_name(&stem),
        stem,
        files: vec![input.to_path_buf()],
    }
}

/// Existing safetensors weights and indexes: neither converted nor copied.
fn is_safetensors_name(name: &str) -> bool {
    name.ends_with(".safetensors") || (name.contains(".safetensors.index") && name.ends_with(".json"))
}

fn is_pickle_name(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PICKLE_EXTS.contains(&e))
}

/// `X.bin.index.json` -> (`X`, None); `X.bin.index.fp16.json` -> (`X`, Some(`fp16`)).
fn pickle_index(name: &str) -> Option<(&str, Option<&str>)> {
    let rest = name.strip_suffix(".json")?;
    let (stem, after) = rest.split_once(".bin.index")?;
    match after {
        "" => Some((stem, None)),
        v => {
            let v = v.strip_prefix('.')?;
            (!v.is_empty() && !v.contains('.')).then_some((stem, Some(v)))
        }
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let e = e.map_err(|e| Error::io(dir, e))?;
        let Some(name) = e.file_name().to_str().map(str::to_owned) else {
            return Err(Error::Usage(format!(
                "{}: a file name is not UTF-8",
                crate::text::path(dir)
            )));
        };
        out.push((name, e.path()));
        if out.len() > MAX_FOLDER_FILES {
            return Err(Error::Limit {
                path: dir.into(),
                what: "folder entries",
                value: out.len() as u64,
                limit: MAX_FOLDER_FILES as u64,
                hint: "",
            });
        }
    }
    out.sort();
    Ok(out)
}

/// Read the `weight_map` file names of a pickle index (to leave its shards out of the copies).
fn index_shards(path: &Path) -> Result<Vec<String>> {
    let len = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
    if len > crate::checkpoint::layout::MAX_INDEX_SIZE {
        return Err(Error::format(path, "the index is too large"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    #[derive(serde::Deserialize)]
    struct Index {
        weight_map: BTreeMap<String, String>,
    }
    let idx: Index =
        serde_json::from_str(&text).map_err(|e| Error::format(path, format!("not a valid shard index: {e}")))?;
    let mut shards: Vec<String> = idx.weight_map.into_values().collect();
    shards.sort();
    shards.dedup();
    Ok(shards)
}

/// Find the checkpoints and other files of an input folder: a model folder (a sharded pickle index
/// and/or pickle files), or a diffusers folder (`model_index.json`) whose component folders are model
/// folders. Existing `.safetensors` files and indexes are neither converted nor copied.
pub fn discover(root: &Path) -> Result<Layout> {
    let mut layout = Layout::default();
    let diffusers = root.join("model_index.json").is_file();
    walk(root, Path::new(""), diffusers, &mut layout)?;
    if layout.units.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no pickle checkpoint here to convert (looked for *.bin, *.pt, *.pth, *.ckpt and *.bin.index.json)",
            crate::text::path(root)
        )));
    }
    Ok(layout)
}

fn walk(root: &Path, rel: &Path, components: bool, layout: &mut Layout) -> Result<()> {
    let dir = root.join(rel);
    let entries = sorted_entries(&dir)?;
    let mut shards: Vec<String> = Vec::new();
    for (name, path) in &entries {
        if let Some((stem, variant)) = pickle_index(name) {
            let mut stem = out_stem(stem);
            if let Some(v) = variant {
                stem = format!("{stem}.{v}");
            }
            let listed = index_shards(path)?;
            let files = listed.iter().map(|s| dir.join(s)).chain([path.clone()]).collect();
            shards.extend(listed);
            layout.units.push(Unit {
                input: dir.clone(),
                variant: variant.map(str::to_owned),
                dir: rel.to_path_buf(),
                index_name: index_name(&stem),
                stem,
                files,
            });
        }
    }
    for (name, path) in &entries {
        if name.starts_with(".tensorscope-tmp") || pickle_index(name).is_some() || shards.contains(name) {
            continue;
        }
        if path.is_dir() {
            // in a diffusers folder every component folder is walked; elsewhere sub-folders are left alone
            if components && rel.as_os_str().is_empty() {
                walk(root, &rel.join(name), false, layout)?;
            }
            continue;
        }
        if is_pickle_name(name) {
            layout.units.push(file_unit(path, rel.to_path_buf(), false));
        } else if !is_safetensors_name(name) {
            layout.copies.push(rel.join(name));
        }
        if layout.units.len() + layout.copies.len() > MAX_FOLDER_FILES {
            return Err(Error::Limit {
                path: dir,
                what: "files to convert or copy",
                value: (layout.units.len() + layout.copies.len()) as u64,
                limit: MAX_FOLDER_FILES as u64,
                hint: "",
            });
        }
    }
    Ok(())
}

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
    /// Tensors left out (torch-only dtypes with `--skip-unsupported`): name and dtype.
    pub skipped: Vec<(String, DType)>,
    /// Metadata values left out (a scalar named like one of our own keys).
    pub dropped_metadata: Vec<String>,
    /// The index (`model.safetensors.index.json`) name and text, when sharded.
    pub index: Option<(String, String)>,
    /// Bytes of tensor data written.
    pub data_bytes: u64,
}

/// The identity of a view: two names with the same key are the same tensor.
type ViewKey = (usize, u64, u64, u64, Vec<u64>, Vec<u64>, DType);

fn key(t: &TensorInfo) -> ViewKey {
    (
        t.file,
        t.storage.start,
        t.storage.end,
        t.offset,
        t.shape.clone(),
        t.strides.clone(),
        t.dtype,
    )
}

/// Decide aliases, shards and metadata for `ck`, checking every tensor before anything is written.
pub fn plan_unit<'a>(ck: &'a Checkpoint, unit: &Unit, opts: PlanOptions) -> Result<UnitPlan<'a>> {
    let reader = TensorReader::new(ck);
    let (mut kept, mut aliases, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    let mut first: HashMap<ViewKey, &str> = HashMap::new();
    let mut unsupported = Vec::new();
    for t in &ck.tensors {
        if !t.dtype.is_safetensors() {
            if opts.skip_unsupported {
                skipped.push((t.name.clone(), t.dtype));
            } else {
                unsupported.push(format!("{} ({})", escape(&t.name), t.dtype));
            }
            continue;
        }
        reader.check(t)?;
        match first.get(&key(t)) {
            Some(k) => aliases.push((t.name.clone(), (*k).to_owned())),
            None => {
                first.insert(key(t), &t.name);
                kept.push(t);
            }
        }
    }
    if !unsupported.is_empty() {
        return Err(Error::Unsupported(format!(
            "{}: {} tensor(s) have dtypes safetensors cannot store: {}; pass --skip-unsupported to leave them out",
            crate::text::path(&unit.input),
            unsupported.len(),
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
    use super::super::read::testing::{checkpoint, counting, view};
    use super::*;

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

    #[test]
    fn output_names_follow_transformers() {
        assert_eq!(out_stem("pytorch_model"), "model");
        assert_eq!(out_stem("pytorch_model.fp16"), "model.fp16");
        assert_eq!(out_stem("diffusion_pytorch_model"), "diffusion_pytorch_model");
        assert_eq!(index_name("model"), "model.safetensors.index.json");
        assert_eq!(index_name("model.fp16"), "model.safetensors.index.fp16.json");
        assert_eq!(
            pickle_index("pytorch_model.bin.index.json"),
            Some(("pytorch_model", None))
        );
        assert_eq!(
            pickle_index("diffusion_pytorch_model.bin.index.fp16.json"),
            Some(("diffusion_pytorch_model", Some("fp16")))
        );
        assert_eq!(pickle_index("model.safetensors.index.json"), None);
        assert_eq!(file_unit(Path::new("/x/gpt2.pt"), PathBuf::new(), false).stem, "gpt2");
        assert_eq!(file_unit(Path::new("/x/gpt2.pt"), PathBuf::new(), true).stem, "model");
        assert_eq!(
            file_unit(Path::new("/x/pytorch_model.bin"), PathBuf::new(), true).stem,
            "model"
        );
    }
}
