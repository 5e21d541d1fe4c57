//! Sharded checkpoints: a `*.index.json` weight map naming the shard files, each opened once.

use std::collections::HashMap;
use std::path::Path;

use super::*;

#[derive(serde::Deserialize)]
struct ShardIndex {
    weight_map: HashMap<String, String>,
    #[serde(default)]
    metadata: Option<IndexMetadata>,
}

/// The totals an index declares (transformers writes `total_size`; newer versions `total_parameters`).
#[derive(serde::Deserialize)]
struct IndexMetadata {
    total_size: Option<serde_json::Value>,
    total_parameters: Option<serde_json::Value>,
}

/// A declared total, written as a number or a numeric string.
fn declared(v: Option<&serde_json::Value>) -> Option<u64> {
    match v? {
        serde_json::Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Open the shards `index_rel` names; the index file is listed as `format` (safetensors or pytorch
/// sharded, as its name says).
pub(super) fn open_sharded(b: &mut Builder, root: &Path, index_rel: &Path, prefix: &str, format: Format) -> Result<()> {
    let index_path = root.join(index_rel);
    let text = read_small(&b.opener, &index_path)?;
    let index: ShardIndex =
        serde_json::from_str(&text).map_err(|e| Error::format(&index_path, format!("not a valid shard index: {e}")))?;
    let dir_rel = index_rel.parent().unwrap_or(Path::new(""));
    if prefix.is_empty()
        && let Some(m) = &index.metadata
    {
        b.hints.index_total_size = declared(m.total_size.as_ref());
        b.hints.index_total_parameters = declared(m.total_parameters.as_ref());
    }
    // shards in a stable order: by file name
    let mut shards: Vec<&String> = index.weight_map.values().collect::<HashSet<_>>().into_iter().collect();
    shards.sort();
    if shards.len() > MAX_FILES {
        return Err(Error::Limit {
            path: index_path,
            what: "shard count",
            value: shards.len() as u64,
            limit: MAX_FILES as u64,
            hint: ": no real model has that many shards; the index is damaged (a fixed limit)",
        });
    }
    b.files.push(FileEntry {
        path: index_rel.to_path_buf(),
        format,
        bytes: text.len() as u64,
        full_path: index_path.clone(),
    });
    b.sources.push(Arc::new(Source::Empty));
    let mut by_shard: HashMap<&str, Vec<&str>> = HashMap::new();
    for (t, s) in &index.weight_map {
        by_shard.entry(s.as_str()).or_default().push(t.as_str());
    }
    for shard in shards {
        let rel = safe_relative(&index_path, shard)?;
        let full = root.join(dir_rel).join(&rel);
        if !full.is_file() {
            let what = match std::fs::metadata(&full) {
                Ok(m) if m.is_dir() => "is a folder, not a file",
                Ok(_) => "is not a regular file (a device, a socket or a pipe)",
                Err(_) => "does not exist",
            };
            return Err(Error::format(
                &index_path,
                format!("shard {} listed in the index {what}", escape(shard)),
            ));
        }
        let first = b.tensors.len();
        // the shards of one model share its prefix, metadata included (a diffusers component's)
        b.add_file_with(&full, dir_rel.join(&rel), prefix, prefix)?;
        let have: HashSet<&str> = b.tensors[first..].iter().map(|t| &t.name[prefix.len()..]).collect();
        let mut listed = by_shard.remove(shard.as_str()).unwrap_or_default();
        listed.sort();
        let missing: Vec<&&str> = listed.iter().filter(|t| !have.contains(**t)).collect();
        if let Some(m) = missing.first() {
            return Err(Error::format(
                &index_path,
                format!(
                    "tensor {} is mapped to {} but that shard does not hold it ({} missing in all)",
                    escape(m),
                    escape(shard),
                    missing.len()
                ),
            ));
        }
        let listed: HashSet<&str> = listed.into_iter().collect();
        let mut extra: Vec<&str> = have.iter().filter(|t| !listed.contains(**t)).copied().collect();
        extra.sort();
        if let Some(x) = extra.first() {
            return Err(Error::format(
                &index_path,
                format!(
                    "shard {} holds tensor {} which the index does not map to it ({} such tensors)",
                    escape(shard),
                    escape(x),
                    extra.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Whether a file name from an index names a file inside the index's folder (no `..`, no root, not
/// empty).
pub(crate) fn stays_inside(name: &str) -> bool {
    !name.is_empty()
        && Path::new(name)
            .components()
            .all(|c| matches!(c, PathComponent::Normal(_)))
}

/// A file name from an index, refused when it would leave the folder.
pub(super) fn safe_relative(index: &Path, name: &str) -> Result<PathBuf> {
    if stays_inside(name) {
        Ok(Path::new(name).to_path_buf())
    } else {
        Err(Error::format(
            index,
            format!("shard name {} leaves the folder", escape(name)),
        ))
    }
}
