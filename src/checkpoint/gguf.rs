//! GGUF at the checkpoint level: gguf-split sets (`name-00001-of-00003.gguf`, …) opened as one
//! checkpoint, any metadata value in full, and the block-scale check of a tensor.
//!
//! A split set is found from its first shard or from the folder holding it: every
//! `PREFIX-0000i-of-0000n.gguf` for i = 1..=n must be there (a missing one is an error naming it), no
//! other shard of the same prefix may be (an extra `-of-00004` or `-00004-of-00003` is an error naming
//! it), and each shard's `split.no`, `split.count` and the total of tensors against
//! `split.tensors.count` must agree with its name.

use std::path::{Path, PathBuf};

use super::{Checkpoint, DType, Format, TensorInfo};
use crate::formats::gguf::scales::ScaleCheck;
use crate::formats::gguf::{self, FullValue, Split};
use crate::text::path as show;
use crate::{Error, Result};

/// Most shards of one split set.
pub const MAX_SHARDS: u64 = 10_000;

/// `(prefix, i, n)` of a shard name `PREFIX-0000i-of-0000n.gguf` (five digits each, as gguf-split writes).
pub fn shard_name(name: &str) -> Option<(&str, u64, u64)> {
    let stem = name.strip_suffix(".gguf")?;
    let (rest, n) = stem.rsplit_once("-of-")?;
    let (prefix, i) = rest.rsplit_once('-')?;
    let digits = |s: &str| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(i) || !digits(n) {
        return None;
    }
    Some((prefix, i.parse().ok()?, n.parse().ok()?))
}

/// The shards of the set whose first shard is `file`, in order, after checking that every one exists
/// and no stray shard of the same prefix does. `None` when the name is not that of a first shard of
/// several.
pub(crate) fn split_set(file: &Path) -> Result<Option<Vec<PathBuf>>> {
    let Some(name) = file.file_name().and_then(|n| n.to_str()) else {
        return Ok(None);
    };
    let Some((prefix, i, n)) = shard_name(name) else {
        return Ok(None);
    };
    // a later shard opened by name is read alone, as gguf_dump reads it
    if n <= 1 || i != 1 {
        return Ok(None);
    }
    if n > MAX_SHARDS {
        return Err(Error::Limit {
            path: file.into(),
            what: "GGUF shard count",
            value: n,
            limit: MAX_SHARDS,
            hint: ": the split count in the file name (-00001-of-N) is wrong; rename the file (a fixed limit)",
        });
    }
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let shards: Vec<PathBuf> = (1..=n)
        .map(|i| dir.join(format!("{prefix}-{i:05}-of-{n:05}.gguf")))
        .collect();
    if let Some(missing) = shards.iter().find(|p| !p.is_file()) {
        return Err(Error::Usage(format!(
            "{}: shard {} of the split set is missing",
            show(file),
            show(missing)
        )));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for e in entries.flatten() {
        let other = e.file_name();
        let Some(other) = other.to_str() else { continue };
        if let Some((p, i, m)) = shard_name(other)
            && p == prefix
            && (m != n || i == 0 || i > n)
        {
            return Err(Error::Usage(format!(
                "{}: {} does not belong to this {n}-shard set (stray or extra shard): move it away",
                show(file),
                show(&dir.join(other))
            )));
        }
    }
    Ok(Some(shards))
}

/// The first shard of a split set in a folder (`names` sorted), if there is one.
pub(crate) fn first_shard(names: &[std::ffi::OsString]) -> Option<&str> {
    names
        .iter()
        .filter_map(|n| n.to_str())
        .find(|n| shard_name(n).is_some_and(|(_, i, count)| i == 1 && count > 1))
}

/// Check a split set once its shards are read: `splits` holds `(file, split fields, tensors)` per shard.
pub(crate) fn check_split(files: &[PathBuf], splits: &[(usize, Split, u64)]) -> Result<()> {
    let n = files.len() as u64;
    let mut total = 0u64;
    for (k, f) in files.iter().enumerate() {
        let Some(&(_, s, tensors)) = splits.iter().find(|(i, _, _)| *i == k) else {
            return Err(Error::format(
                f,
                "named like a gguf-split shard but has no split.no / split.count / split.tensors.count",
            ));
        };
        if s.no != k as u64 || s.count != n {
            return Err(Error::format(
                f,
                format!(
                    "split.no {} of split.count {} disagrees with the file name (shard {} of {n})",
                    s.no,
                    s.count,
                    k + 1
                ),
            ));
        }
        total = total.saturating_add(tensors);
        if k + 1 == files.len() && total != s.tensors {
            return Err(Error::format(
                f,
                format!(
                    "the shards hold {total} tensors but split.tensors.count says {}",
                    s.tensors
                ),
            ));
        }
    }
    Ok(())
}

/// The value of GGUF metadata key `key` in full (arrays with every item); `None` when no file has
/// it (or `ck` is not GGUF). In a folder of several GGUF files, `FILE/KEY` names the file, and a key
/// that more than one file holds is an error naming them (a split set's shards are one model: the
/// first shard holding it answers).
pub fn metadata_value(ck: &Checkpoint, key: &str) -> Result<Option<FullValue>> {
    let ggufs = || ck.files.iter().enumerate().filter(|(_, f)| f.format == Format::Gguf);
    // `FILE/KEY`: the file whose relative path is FILE
    if let Some((file, k)) = key.rsplit_once('/')
        && let Some((i, f)) = ggufs().find(|(_, f)| f.path == std::path::Path::new(file))
    {
        return gguf::full_value(&f.full_path, ck.file_bytes(i), k);
    }
    let mut found = Vec::new();
    for (i, f) in ggufs() {
        if let Some(v) = gguf::full_value(&f.full_path, ck.file_bytes(i), key)? {
            if ck.format == Format::GgufSharded {
                return Ok(Some(v));
            }
            found.push((f, v));
        }
    }
    if found.len() > 1 {
        let names: Vec<String> = found.iter().map(|(f, _)| crate::text::path(&f.path)).collect();
        return Err(crate::Error::Usage(format!(
            "{} files hold {}: {}; name one as FILE/KEY (`{}/{}`)",
            found.len(),
            crate::text::escape(key),
            names.join(", "),
            names[0],
            crate::text::escape(key)
        )));
    }
    Ok(found.pop().map(|(_, v)| v))
}

/// The block-scale check of a GGML tensor (NaN or infinite scales); `None` for other dtypes and types
/// without a dequantizer.
pub fn scale_check(ck: &Checkpoint, t: &TensorInfo) -> Result<Option<ScaleCheck>> {
    let DType::Ggml(g) = t.dtype else { return Ok(None) };
    let Some(bytes) = ck.contiguous_bytes(t)? else {
        return Ok(None);
    };
    Ok(gguf::scales::scale_check(g, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_names() {
        assert_eq!(shard_name("m-00001-of-00003.gguf"), Some(("m", 1, 3)));
        assert_eq!(shard_name("a-b-00002-of-00010.gguf"), Some(("a-b", 2, 10)));
        assert_eq!(shard_name("m-1-of-3.gguf"), None);
        assert_eq!(shard_name("m.gguf"), None);
        let names = ["x.gguf", "m-00002-of-00002.gguf", "m-00001-of-00002.gguf"].map(std::ffi::OsString::from);
        assert_eq!(first_shard(&names), Some("m-00001-of-00002.gguf"));
    }
}
