//! Which checkpoints an input holds (units) and what each output is called: one pickle file, a
//! folder with a sharded pickle index, plain pickle files in a folder, or a diffusers folder whose
//! components are such folders; every other file is copied unchanged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::source::walk::Walk;
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
    /// Other files (configs, tokenizers, sub-folders' files such as sentence-transformers'
    /// `1_Pooling/config.json`), relative to the input folder, copied unchanged.
    pub copies: Vec<PathBuf>,
    /// Sub-folders created empty (sentence-transformers' `2_Normalize/` holds nothing, but is named
    /// in `modules.json`).
    pub folders: Vec<PathBuf>,
    /// What is neither converted nor copied, relative to the input folder, and why (a pickle in a
    /// sub-folder, a link to a folder).
    pub left_out: Vec<(PathBuf, &'static str)>,
}

/// Deepest sub-folder whose files are copied.
const MAX_COPY_DEPTH: usize = 16;

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

/// The entries of one folder by name, sorted; a name that is not UTF-8 is an error (see
/// [`crate::source::walk`]).
fn sorted_entries(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = Walk::folder(MAX_FOLDER_FILES).utf8_names().run(dir)?;
    Ok(entries.into_iter().map(|e| (e.name, e.path)).collect())
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
    let indexed = entries.iter().any(|(name, _)| pickle_index(name).is_some());
    for (name, path) in &entries {
        if name.starts_with(".tensorscope-tmp") || pickle_index(name).is_some() || shards.contains(name) {
            continue;
        }
        let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if path.is_dir() {
            if link {
                // a link may lead out of the folder (or loop): never followed
                layout
                    .left_out
                    .push((rel.join(name), "a link to a folder, not followed"));
            } else if components && rel.as_os_str().is_empty() {
                // in a diffusers folder every component folder is a model folder
                walk(root, &rel.join(name), false, layout)?;
            } else {
                copy_tree(root, &rel.join(name), 1, layout)?;
            }
            continue;
        }
        if is_pickle_name(name) {
            // beside a shard index only the shards it names are the checkpoint (as `inspect` reads
            // it, which warns of the others as left out): another pickle is neither converted nor copied
            if indexed {
                continue;
            }
            layout.units.push(file_unit(path, rel.to_path_buf(), false));
        } else if !is_safetensors_name(name) {
            layout.copies.push(rel.join(name));
        }
        check_count(&dir, layout)?;
    }
    Ok(())
}

fn check_count(dir: &Path, layout: &Layout) -> Result<()> {
    if layout.units.len() + layout.copies.len() > MAX_FOLDER_FILES {
        return Err(Error::Limit {
            path: dir.to_path_buf(),
            what: "files to convert or copy",
            value: (layout.units.len() + layout.copies.len()) as u64,
            limit: MAX_FOLDER_FILES as u64,
            hint: ": convert one model's own folder, not a folder above it (a fixed limit)",
        });
    }
    Ok(())
}

/// The files of a sub-folder that is not a model (sentence-transformers' `1_Pooling/`, an `onnx/`
/// export), copied unchanged; a pickle there is not converted (nor copied: the output holds no
/// pickle), a link to a folder is not followed; both are named in `left_out`.
fn copy_tree(root: &Path, rel: &Path, depth: usize, layout: &mut Layout) -> Result<()> {
    if depth > MAX_COPY_DEPTH {
        layout.left_out.push((rel.to_path_buf(), "nested too deep, not copied"));
        return Ok(());
    }
    let dir = root.join(rel);
    let entries = sorted_entries(&dir)?;
    if entries.is_empty() {
        layout.folders.push(rel.to_path_buf());
    }
    for (name, path) in entries {
        let link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        if path.is_dir() {
            if link {
                layout
                    .left_out
                    .push((rel.join(&name), "a link to a folder, not followed"));
            } else {
                copy_tree(root, &rel.join(&name), depth + 1, layout)?;
            }
            continue;
        }
        if name.starts_with(".tensorscope-tmp") {
            continue;
        }
        if is_pickle_name(&name) || pickle_index(&name).is_some() {
            layout
                .left_out
                .push((rel.join(&name), "a pickle in a sub-folder: not converted, not copied"));
        } else {
            layout.copies.push(rel.join(&name));
        }
        check_count(&dir, layout)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
