//! Verify a Hugging Face cache folder (`models--ORG--NAME`, or one `snapshots/REV` inside it).
//!
//! The cache names each blob by its hash: 64 hex digits are the SHA-256 of an LFS file, 40 are the
//! git blob id (SHA-1 of `blob <len>\0` + bytes) of a small file. Every blob is hashed against its
//! name, and every snapshot entry must be a link to a blob that exists in the repository's `blobs/`.

use std::path::{Component, Path, PathBuf};

use super::hash::{self, Algorithm, Job};
use super::{FileCheck, Report, Status, short};
use crate::Error;

/// Where the repository folder is, and which snapshot (if PATH named one).
#[derive(Debug, Clone)]
pub struct Layout {
    /// `models--ORG--NAME` (holds `blobs/` and `snapshots/`).
    pub repo: PathBuf,
    /// `snapshots/REV` when PATH named one snapshot.
    pub snapshot: Option<PathBuf>,
}

/// The cache layout `path` is part of, if any: a repository folder, or a snapshot inside one.
pub fn detect(path: &Path) -> Option<Layout> {
    let is_repo = |p: &Path| p.join("blobs").is_dir() && p.join("snapshots").is_dir();
    if is_repo(path) {
        return Some(Layout {
            repo: path.to_path_buf(),
            snapshot: None,
        });
    }
    let parent = path.parent()?;
    if parent.file_name()? == "snapshots" && path.is_dir() {
        let repo = parent.parent()?;
        if is_repo(repo) {
            return Some(Layout {
                repo: repo.to_path_buf(),
                snapshot: Some(path.to_path_buf()),
            });
        }
    }
    None
}

/// The algorithm a blob's name implies, if it is a hash name.
fn algo_for(name: &str) -> Option<Algorithm> {
    let hex = name.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    match name.len() {
        64 if hex => Some(Algorithm::Sha256),
        40 if hex => Some(Algorithm::GitSha1),
        _ => None,
    }
}

/// Verify the cache folder or snapshot at `path` (see [`detect`]), hashing on `threads` (0 = every core).
pub fn verify(path: &Path, threads: usize) -> Result<Report, Error> {
    let abs = std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
    let layout = detect(&abs).ok_or_else(|| {
        Error::Usage(format!(
            "{}: not a Hugging Face cache folder (models--ORG--NAME with blobs/ and snapshots/, or snapshots/REV)",
            crate::text::path(path)
        ))
    })?;
    let blobs_dir = layout.repo.join("blobs");
    let mut report = Report {
        path: path.display().to_string(),
        kind: "hf-cache",
        verified: false,
        against: None,
        signature: None,
        problem: None,
        files: Vec::new(),
        bytes_hashed: 0,
        hash_seconds: 0.0,
        threads: 0,
    };
    // snapshot links first: which blobs they need
    let snapshots_root = layout.repo.join("snapshots");
    let roots = match &layout.snapshot {
        Some(s) => vec![s.clone()],
        None => sorted_dir(&snapshots_root)?
            .into_iter()
            .map(|n| snapshots_root.join(n))
            .collect(),
    };
    let mut wanted: Vec<String> = Vec::new();
    for root in &roots {
        let mut links = Vec::new();
        list_files(root, &mut links)?;
        for link in links {
            let name = rel_display(&layout.repo, &link);
            match blob_of(&link, &blobs_dir) {
                Ok(blob) => {
                    let mut c = FileCheck::new(&name, Status::Ok, "");
                    c.why = String::new();
                    c.digest = Some(format!("-> blobs/{}", short(&blob)));
                    wanted.push(blob);
                    report.files.push(c);
                }
                Err((status, why)) => report.files.push(FileCheck::new(name, status, why)),
            }
        }
    }
    // then the blobs: all of them for a repository folder, the linked ones for a snapshot
    let blob_names: Vec<String> = match &layout.snapshot {
        Some(_) => {
            wanted.sort();
            wanted.dedup();
            wanted
        }
        None => sorted_dir(&blobs_dir)?
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect(),
    };
    let mut jobs = Vec::new();
    let mut names = Vec::new();
    for b in blob_names {
        let p = blobs_dir.join(&b);
        let shown = format!("blobs/{b}");
        let meta = std::fs::symlink_metadata(&p);
        if !meta.as_ref().is_ok_and(|m| m.is_file()) {
            report.files.push(FileCheck::new(
                shown,
                Status::NotRegular,
                "a blob must be a regular file",
            ));
            continue;
        }
        if b.ends_with(".incomplete") {
            report.files.push(FileCheck::new(
                shown,
                Status::Changed,
                "an interrupted download (.incomplete)",
            ));
            continue;
        }
        let Some(algo) = algo_for(&b) else {
            report.files.push(FileCheck::new(
                shown,
                Status::Unsigned,
                "a blob whose name is not a sha256 or git sha1",
            ));
            continue;
        };
        jobs.push(Job {
            path: p,
            start: 0,
            end: None,
            algo,
        });
        names.push((shown, b));
    }
    let results = hash::hash_all_into(&jobs, threads, &mut report);
    for ((shown, want), (job, r)) in names.into_iter().zip(jobs.iter().zip(results)) {
        match r {
            Ok((d, n)) => {
                report.bytes_hashed += n;
                let got = hash::hex(&d);
                let algo = job.algo.name();
                let mut c = if got == want {
                    FileCheck::new(shown, Status::Ok, "")
                } else {
                    FileCheck::new(
                        shown,
                        Status::Changed,
                        format!("{algo} of the bytes is {}…, not its name", short(&got)),
                    )
                };
                c.digest = Some(format!("{algo}:{got}"));
                c.bytes = Some(n);
                report.files.push(c);
            }
            Err(e) => report
                .files
                .push(FileCheck::new(shown, Status::Unreadable, format!("cannot read: {e}"))),
        }
    }
    report.files.sort_by(|a, b| a.name.cmp(&b.name));
    report.verified = report.files.iter().all(|f| f.status == Status::Ok);
    Ok(report)
}

/// The blob a snapshot entry links to, or why it is not a good link.
fn blob_of(link: &Path, blobs_dir: &Path) -> Result<String, (Status, String)> {
    let meta = std::fs::symlink_metadata(link).map_err(|e| (Status::Unreadable, e.to_string()))?;
    if !meta.file_type().is_symlink() {
        return Err((
            Status::NotRegular,
            "a copy, not a link into blobs/: its hash is not recorded, so it cannot be checked".into(),
        ));
    }
    let target = std::fs::read_link(link).map_err(|e| (Status::Unreadable, e.to_string()))?;
    let resolved = normalize(&link.parent().unwrap_or(Path::new(".")).join(&target));
    let blobs = normalize(blobs_dir);
    let shown = target.display().to_string();
    let Some(name) = resolved
        .strip_prefix(&blobs)
        .ok()
        .filter(|r| r.components().count() == 1)
    else {
        return Err((
            Status::BrokenLink,
            format!("links to {} outside blobs/", crate::text::escape(&shown)),
        ));
    };
    let name = name.to_string_lossy().into_owned();
    if !resolved.is_file() {
        return Err((
            Status::BrokenLink,
            format!("links to blobs/{}, which does not exist", crate::text::escape(&name)),
        ));
    }
    Ok(name)
}

/// `a/b/../c` -> `a/c` without touching the disk (links inside the cache are relative).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

fn sorted_dir(p: &Path) -> Result<Vec<std::ffi::OsString>, Error> {
    let mut v: Vec<_> = std::fs::read_dir(p)
        .map_err(|e| Error::io(p, e))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<Result<_, _>>()
        .map_err(|e| Error::io(p, e))?;
    v.sort();
    Ok(v)
}

/// Every non-directory under `dir` (links are not followed into directories).
fn list_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    for name in sorted_dir(dir)? {
        let p = dir.join(name);
        let meta = std::fs::symlink_metadata(&p).map_err(|e| Error::io(&p, e))?;
        if meta.is_dir() {
            list_files(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

fn rel_display(repo: &Path, p: &Path) -> String {
    p.strip_prefix(repo).unwrap_or(p).to_string_lossy().into_owned()
}
