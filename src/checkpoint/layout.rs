//! From a path to a [`Checkpoint`]: single files (detected by content), sharded folders
//! (`*.safetensors.index.json`, `pytorch_model.bin.index.json`), diffusers pipelines
//! (`model_index.json`), plain folders and Hugging Face cache folders
//! (`models--org--name/snapshots/<revision>/`, files symlinked into `blobs/`).

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::path::{Component as PathComponent, Path, PathBuf};
use std::sync::Arc;

use super::files::{self, Looks, Role};
use super::sniff::{self, Kind};
use super::{Checkpoint, Component, FileEntry, Format, OpenOptions};
use crate::remote::Opener;
use crate::source::Source;
use crate::source::walk::Walk;
use crate::text::{escape, os_text, path as show};
use crate::{Error, Result};

/// Largest JSON index or `model_index.json` read, in bytes.
pub const MAX_INDEX_SIZE: u64 = 64 << 20;
/// Most files one folder checkpoint may have.
pub const MAX_FILES: usize = 100_000;

mod builder;
mod hub;
mod sharded;
mod variants;
pub(crate) use sharded::stays_inside;

use builder::Builder;
use hub::resolve_hub_cache;
pub use hub::{HubSnapshot, hub_cache_snapshot, hub_snapshot};
use sharded::{open_sharded, safe_relative};
use variants::{by_extension, name_parts, no_such_variant, note_left_out, of_variant, transformers_choice};

/// Weight file extensions looked for in plain folders, safetensors first.
const SAFETENSORS_EXT: &str = "safetensors";
const PICKLE_EXTS: [&str; 4] = ["bin", "pt", "pth", "ckpt"];
const GGUF_EXT: &str = "gguf";

/// Open `path`, its files opened by `opener` (the files of a remote mirror are fetched first).
pub(crate) fn open(path: &Path, opts: &OpenOptions, opener: Opener) -> Result<Checkpoint> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let mut b = Builder::new(path, opener);
    if !meta.is_dir() {
        let named_safetensors = path.extension().is_some_and(|e| e == SAFETENSORS_EXT);
        match files::classify(&b.opener, path)? {
            // a .safetensors file and an LFS pointer get the detailed diagnosis of the reader
            Role::Skipped(looks) if !named_safetensors && looks != Looks::GitLfsPointer => {
                return Err(Error::Usage(format!(
                    "not a checkpoint: {} (looks like: {looks}); {}",
                    show(path),
                    sniff::READS
                )));
            }
            _ => {}
        }
        b.format = match super::gguf::split_set(path)? {
            Some(shards) => open_gguf_split(&mut b, &shards, Path::new(""))?,
            None => b.add_file(path, file_name(path), "")?,
        };
        b.hints.quant = quant_beside(&b.opener, path.parent().unwrap_or(Path::new("")));
        let ck = b.finish()?;
        ck.check_intact()?;
        return Ok(ck);
    }
    let root = resolve_hub_cache(path)?;
    let root = root.as_deref().unwrap_or(path);
    if root.join("model_index.json").is_file() {
        b.format = Format::Diffusers;
        open_diffusers(&mut b, root, opts)?;
    } else {
        b.format = open_folder(&mut b, root, Path::new(""), "", opts)?;
    }
    b.hints.quant = quant_beside(&b.opener, root);
    let ck = b.finish()?;
    ck.check_intact()?;
    Ok(ck)
}

/// A folder that is one model: sharded index, or every checkpoint file in it. Returns the format.
fn open_folder(b: &mut Builder, root: &Path, rel: &Path, prefix: &str, opts: &OpenOptions) -> Result<Format> {
    let dir = root.join(rel);
    let entries = read_dir_sorted(&dir)?;
    // every file, its name as the OS gives it: a name that is not UTF-8 is read like any other
    let names = file_names(&entries);
    let variant = opts.variant.as_deref();
    let first_file = b.files.len();
    // sharded safetensors, then sharded pickles
    for (suffix, format) in [
        (".safetensors.index", Format::SafetensorsSharded),
        (".bin.index", Format::PytorchSharded),
    ] {
        let mut indexes = names
            .iter()
            .filter_map(|n| n.to_str())
            .filter(|n| is_index_name(n, suffix, variant));
        if let Some(index) = indexes.next() {
            let others: Vec<String> = indexes.map(|n| escape(n).into_owned()).collect();
            if !others.is_empty() {
                b.warnings.push(format!(
                    "{} holds {} shard indexes: read {}, left out {} (and the shards only they name)",
                    show(&dir),
                    others.len() + 1,
                    escape(index),
                    others.join(", ")
                ));
            }
            open_sharded(b, root, &rel.join(index), prefix, format)?;
            let why = format!("not named in {}", escape(index));
            note_left_out(b, &dir, first_file, &by_extension(&names), variant, &[], &why);
            return Ok(format);
        }
    }
    if let Some(first) = super::gguf::first_shard(&names)
        && let Some(shards) = super::gguf::split_set(&dir.join(first))?
    {
        let format = open_gguf_split(b, &shards, rel)?;
        let why = "not a shard of this split set";
        note_left_out(b, &dir, first_file, &by_extension(&names), variant, &[], why);
        return Ok(format);
    }
    let (all, skipped) = weight_files(&b.opener, &dir, &names, variant);
    let (weights, twins) = transformers_choice(of_variant(&all, variant));
    if weights.is_empty() {
        let subs = subfolders_with_weights(&b.opener, &dir, opts);
        if !subs.is_empty() {
            let shown: Vec<String> = subs.iter().take(LISTED).map(|s| format!("{}/", escape(s))).collect();
            let more = match subs.len().saturating_sub(LISTED) {
                0 => String::new(),
                n => format!(" +{n} more"),
            };
            return Err(Error::Usage(format!(
                "{}: no checkpoint files here; they are in subfolders: {}{more} (open one: `tensorscope inspect {}`)",
                show(&dir),
                shown.join(", "),
                show(&dir.join(&subs[0]))
            )));
        }
        if let Some(v) = variant
            && !all.is_empty()
        {
            return Err(Error::Usage(no_such_variant(&dir, v, &all)));
        }
        let why = match skipped.first() {
            Some((name, looks)) => format!(
                "{}: no checkpoint files here ({} is {looks}{})",
                show(&dir),
                os_text(name),
                match skipped.len() {
                    1 => String::new(),
                    n => format!(
                        ", and {} more file{} are not checkpoints",
                        n - 1,
                        if n == 2 { "" } else { "s" }
                    ),
                }
            ),
            // entries, but no file among them: subfolders without weights, links that lead nowhere
            None if !entries.is_empty() => format!(
                "{}: no checkpoint files here nor in its subfolders two levels down (only folders, or links \
                 that lead to no file; `tensorscope scan` searches every level)",
                show(&dir)
            ),
            None => format!("{}: no checkpoint files here (the folder is empty)", show(&dir)),
        };
        return Err(Error::Usage(why));
    }
    // several weight files without an index: each one's tensors are prefixed by its file name
    let several = weights.len() > 1;
    let mut first_error = None;
    let mut opened = 0;
    for w in &weights {
        // a name that is not UTF-8 is written with `\xNN` for each such byte, so that two such
        // files stay apart
        let file_prefix = if several {
            format!("{prefix}{}/", os_text(w))
        } else {
            prefix.to_owned()
        };
        // metadata is named as the tensors are: by its file when there are several
        // (`a.safetensors/format`), by its component in a diffusers pipeline (`unet/format`)
        match b.add_file_with(&dir.join(w), rel.join(w), &file_prefix, &file_prefix) {
            Ok(_) => opened += 1,
            // one unreadable file among several is reported, not fatal: the others still open
            Err(e) if several && !matches!(e, Error::Limit { .. }) => {
                b.warnings.push(format!("{}: not opened: {e}", os_text(w)));
                first_error.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    note_left_out(b, &dir, first_file, &all, variant, &twins, "");
    match first_error {
        Some(e) if opened == 0 => Err(e),
        _ => Ok(Format::Folder),
    }
}

/// Most subfolders named in the message about a folder whose checkpoints sit in subfolders.
const LISTED: usize = 10;

/// The subfolders of `dir` (and their subfolders, one level down) that hold checkpoint files or an
/// index, relative to `dir`, sorted.
fn subfolders_with_weights(opener: &Opener, dir: &Path, opts: &OpenOptions) -> Vec<String> {
    let mut out = Vec::new();
    let dirs = |d: &Path| -> Vec<PathBuf> {
        read_dir_sorted(d)
            .map(|v| v.into_iter().filter(|p| p.is_dir()).collect())
            .unwrap_or_default()
    };
    for sub in dirs(dir) {
        let Some(name) = sub.file_name().map(os_text) else {
            continue;
        };
        if has_weights(opener, &sub, opts.variant.as_deref()).unwrap_or(false) || sub.join("model_index.json").is_file()
        {
            out.push(name.to_owned());
            continue;
        }
        for deeper in dirs(&sub) {
            let Some(inner) = deeper.file_name().map(os_text) else {
                continue;
            };
            if has_weights(opener, &deeper, opts.variant.as_deref()).unwrap_or(false) {
                out.push(format!("{name}/{inner}"));
            }
        }
    }
    out
}

fn is_index_name(name: &str, suffix: &str, variant: Option<&str>) -> bool {
    match variant {
        None => name.ends_with(&format!("{suffix}.json")),
        Some(v) => name.ends_with(&format!("{suffix}.{v}.json")),
    }
}

/// The checkpoint files of a folder, by content (see [`super::files`]): every file a reader opens,
/// whatever its format and variant (see [`of_variant`]). Also returns the files that are positively
/// not checkpoints, with what they look like.
///
/// A weight file of another variant than `variant` is known by its name alone, never opened: it is
/// only named as left out, and a remote folder would fetch it for nothing.
fn weight_files(
    opener: &Opener,
    dir: &Path,
    names: &[OsString],
    variant: Option<&str>,
) -> (Vec<OsString>, Vec<(OsString, Looks)>) {
    let mut weights = Vec::new();
    let mut skipped = Vec::new();
    for n in names {
        let p = Path::new(n);
        let has_weight_ext = p
            .extension()
            .and_then(OsStr::to_str)
            .is_some_and(|e| e == SAFETENSORS_EXT || e == GGUF_EXT || PICKLE_EXTS.contains(&e));
        if has_weight_ext && name_parts(n).1 != variant {
            weights.push(n.clone());
            continue;
        }
        match files::classify(opener, &dir.join(n)) {
            Ok(Role::Checkpoint(Kind::Safetensors | Kind::Zip | Kind::Pickle | Kind::Gguf | Kind::Npy)) => {
                weights.push(n.clone())
            }
            Ok(Role::Skipped(looks)) if !has_weight_ext => skipped.push((n.clone(), looks)),
            Ok(Role::Index) => {}
            // a weight file that is not what its name says gets its reader's diagnosis
            _ if has_weight_ext => weights.push(n.clone()),
            Ok(_) | Err(_) => {}
        }
    }
    (weights, skipped)
}

/// The names of the files (not folders) among `entries`, as the OS gives them.
fn file_names(entries: &[PathBuf]) -> Vec<OsString> {
    entries
        .iter()
        .filter(|p| !p.is_dir())
        .filter_map(|p| p.file_name().map(OsStr::to_os_string))
        .collect()
}

/// Every shard of a gguf-split set (already found complete), one checkpoint; `rel` is their folder
/// relative to the checkpoint root.
fn open_gguf_split(b: &mut Builder, shards: &[PathBuf], rel: &Path) -> Result<Format> {
    let first = b.files.len();
    for s in shards {
        b.add_file(s, rel.join(file_name(s)), "")?;
    }
    let splits: Vec<_> = b
        .gguf_splits
        .iter()
        .filter(|(i, _, _)| *i >= first)
        .map(|&(i, s, n)| (i - first, s, n))
        .collect();
    super::gguf::check_split(shards, &splits)?;
    // the metadata is the first shard's; the tensor count is the set's
    let total = b.tensors.len().to_string();
    if let Some((_, v)) = b.metadata.iter_mut().find(|(k, _)| k == "GGUF.tensor_count") {
        *v = total;
    }
    Ok(Format::GgufSharded)
}

fn open_diffusers(b: &mut Builder, root: &Path, opts: &OpenOptions) -> Result<()> {
    let index_path = root.join("model_index.json");
    let text = read_small(&b.opener, &index_path)?;
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text)
        .map_err(|e| Error::format(&index_path, format!("not a valid model_index.json: {e}")))?;
    b.files.push(FileEntry {
        path: "model_index.json".into(),
        format: Format::Diffusers,
        bytes: text.len() as u64,
        full_path: index_path.clone(),
    });
    b.sources.push(Arc::new(Source::Empty));
    // a --variant no component has is an error, as diffusers' from_pretrained refuses it (one that
    // some components lack reads their default weights, with a warning, as diffusers does)
    let mut weight_names = Vec::new();
    let mut of_variant_found = false;
    for (name, value) in &map {
        if name.starts_with('_') {
            if let serde_json::Value::String(s) = value {
                b.meta_keys.insert(name.clone());
                b.metadata.push((name.clone(), s.clone()));
            }
            continue;
        }
        let class = match value {
            serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join("."),
            _ => String::new(),
        };
        let rel = safe_relative(&index_path, name)?;
        let first = b.tensors.len();
        let dir = root.join(&rel);
        if dir.is_dir() && opts.variant.is_some() {
            weight_names.extend(by_extension(&file_names(&read_dir_sorted(&dir)?)));
        }
        if dir.is_dir() && has_weights(&b.opener, &dir, opts.variant.as_deref())? {
            let prefix = format!("{name}/");
            open_folder(b, root, &rel, &prefix, opts)?;
            of_variant_found = true;
        } else if dir.is_dir() && opts.variant.is_some() && has_weights(&b.opener, &dir, None)? {
            b.warnings.push(format!(
                "{}: no {} variant, using the default weights",
                escape(name),
                escape(opts.variant.as_deref().unwrap_or(""))
            ));
            let plain = OpenOptions {
                variant: None,
                ..opts.clone()
            };
            open_folder(b, root, &rel, &format!("{name}/"), &plain)?;
        }
        b.components.push(Component {
            name: name.clone(),
            class,
            tensors: b.tensors.len() - first,
        });
    }
    if let Some(v) = opts.variant.as_deref()
        && !of_variant_found
    {
        return Err(Error::Usage(no_such_variant(root, v, &weight_names)));
    }
    Ok(())
}

fn has_weights(opener: &Opener, dir: &Path, v: Option<&str>) -> Result<bool> {
    let names = file_names(&read_dir_sorted(dir)?);
    Ok(!of_variant(&weight_files(opener, dir, &names, v).0, v).is_empty()
        || names
            .iter()
            .filter_map(|n| n.to_str())
            .any(|n| is_index_name(n, ".safetensors.index", v) || is_index_name(n, ".bin.index", v)))
}

/// The entries of one folder, sorted (see [`crate::source::walk`]).
fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(Walk::folder(MAX_FILES).run(dir)?.into_iter().map(|e| e.path).collect())
}

fn read_small(opener: &Opener, path: &Path) -> Result<String> {
    let len = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
    if len > MAX_INDEX_SIZE {
        return Err(Error::Limit {
            path: path.into(),
            what: "index size",
            value: len,
            limit: MAX_INDEX_SIZE,
            hint: ": a real index is a few MB at most; the file is damaged or not an index (a fixed limit)",
        });
    }
    // read at most the limit, even if the file grew since its size was taken
    let mut bytes = Vec::with_capacity(len as usize);
    std::io::Read::read_to_end(
        &mut std::io::Read::take(opener.open_regular(path)?, MAX_INDEX_SIZE + 1),
        &mut bytes,
    )
    .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > MAX_INDEX_SIZE {
        return Err(Error::format(path, "the file grew while it was being read"));
    }
    String::from_utf8(bytes).map_err(|_| Error::format(path, "not UTF-8 text"))
}

/// The quantization `dir/config.json` names, if it names one (an unreadable or invalid config is
/// no quantization: the count then goes by tensor names and dtypes, and says what it assumed).
fn quant_beside(opener: &Opener, dir: &Path) -> Option<crate::model::count::Quant> {
    let config = dir.join("config.json");
    if !config.is_file() {
        return None;
    }
    let text = read_small(opener, &config).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    crate::model::count::Quant::from_config(&v)
}

fn file_name(path: &Path) -> PathBuf {
    path.file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| path.to_path_buf())
}
