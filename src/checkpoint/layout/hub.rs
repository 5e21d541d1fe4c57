//! Hugging Face cache folders: which snapshot a `models--org--name` folder opens, and which
//! repository and revision a path inside the cache belongs to.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::{MAX_FILES, read_dir_sorted};
use crate::text::path as show;
use crate::{Error, Result};

/// `models--org--name` (or its `snapshots/` folder) -> the snapshot `refs/main` names, or the only one.
pub(super) fn resolve_hub_cache(path: &Path) -> Result<Option<PathBuf>> {
    let repo = if path.file_name().is_some_and(|n| n == "snapshots") {
        path.parent().unwrap_or(path).to_path_buf()
    } else if path.join("snapshots").is_dir() && path.join("blobs").is_dir() {
        path.to_path_buf()
    } else {
        return Ok(None);
    };
    let snaps = repo.join("snapshots");
    if let Ok(rev) = std::fs::read_to_string(repo.join("refs").join("main")) {
        let rev = rev.trim();
        let ok = !rev.is_empty() && rev.chars().all(|c| c.is_ascii_alphanumeric());
        if ok && snaps.join(rev).is_dir() {
            return Ok(Some(snaps.join(rev)));
        }
    }
    let mut revs: Vec<PathBuf> = read_dir_sorted(&snaps)?.into_iter().filter(|p| p.is_dir()).collect();
    match revs.len() {
        0 => Err(Error::Usage(format!(
            "{}: the cache folder has no snapshot",
            show(&repo)
        ))),
        1 => Ok(revs.pop()),
        n => Err(Error::Usage(format!(
            "{}: {n} snapshots and no refs/main: open one of the folders in snapshots/",
            show(&repo)
        ))),
    }
}

/// Where a path inside a Hugging Face cache (`models--org--name`, its `snapshots/` folder, a
/// snapshot or a file in one) resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubSnapshot {
    /// `org/name` (`datasets/…` and `spaces/…` keep their kind as a prefix).
    pub repo: String,
    /// The snapshot folder's name: the commit hash.
    pub revision: String,
    /// The ref that names this revision (`main`), when `refs/` has one.
    pub reference: Option<String>,
}

/// The snapshot folder a Hugging Face cache repository folder (`models--org--name`, or its
/// `snapshots`) stands for, as `inspect` opens it: `refs/main`'s, else the only one; `None` for any
/// other folder.
pub fn hub_cache_snapshot(path: &Path) -> Result<Option<PathBuf>> {
    resolve_hub_cache(path)
}

/// The cache repository and revision `path` opens, `None` outside a Hugging Face cache.
pub fn hub_snapshot(path: &Path) -> Option<HubSnapshot> {
    let opened = match resolve_hub_cache(path) {
        Ok(Some(p)) => p,
        _ => path.to_path_buf(),
    };
    let parts: Vec<&OsStr> = opened.iter().collect();
    let at = parts
        .iter()
        .rposition(|p| p.to_str().is_some_and(|s| s.contains("--")))?;
    let repo_dir = parts[at].to_str()?;
    let (kind, name) = repo_dir.split_once("--")?;
    if !matches!(kind, "models" | "datasets" | "spaces") || parts.get(at + 1)? != &OsStr::new("snapshots") {
        return None;
    }
    let revision = parts.get(at + 2)?.to_str()?.to_owned();
    let root: PathBuf = parts[..=at].iter().collect();
    let mut reference = None;
    if let Ok(refs) = std::fs::read_dir(root.join("refs")) {
        for r in refs.flatten().take(MAX_FILES) {
            let hit = std::fs::read_to_string(r.path()).is_ok_and(|t| t.trim() == revision);
            if hit {
                reference = r.file_name().to_str().map(str::to_owned);
                break;
            }
        }
    }
    let name = name.replace("--", "/");
    let repo = if kind == "models" {
        name
    } else {
        format!("{kind}/{name}")
    };
    Some(HubSnapshot {
        repo,
        revision,
        reference,
    })
}
