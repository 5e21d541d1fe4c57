//! Turning a remote path into a mirror folder in the cache: resolve the revision to a commit and
//! list the repository through the Hub API (or probe a URL), then give every remote file a sparse
//! local copy of its full size.

use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::cache::{State, write_atomic};
use super::file::{Hashes, RemoteFile};
use super::options::Net;
use super::url::{RemotePath, encode_path, origin};
use crate::{Error, Result};

/// Most files listed in one repository.
pub const MAX_REMOTE_FILES: usize = 100_000;
/// Most pages of a paginated listing followed.
pub const MAX_LISTING_PAGES: usize = 1_000;
/// A remote path turned into a folder of sparse files.
#[derive(Debug)]
pub struct Mirror {
    /// The remote path as given.
    pub label: String,
    /// The revision asked for (`main`), or `None` for a URL.
    pub revision: Option<String>,
    /// The commit it resolved to, or the URL's ETag.
    pub commit: Option<String>,
    /// The folder holding the sparse copies.
    pub files_dir: PathBuf,
    /// The file or folder that the remote path names, inside `files_dir`.
    pub target: PathBuf,
    /// Every file of the repository (or the one file of a URL).
    pub files: Vec<Arc<RemoteFile>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Listing {
    source: String,
    commit: Option<String>,
    files: Vec<(String, u64)>,
    /// The hashes the Hub listed, by path (absent from listings cached before they were kept: such
    /// a listing is fetched again when online).
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, Hashes>,
}

impl Mirror {
    /// Resolve `path`, list its files and create their sparse copies, fetching through `net` (or
    /// reading the cache alone when it is offline).
    pub(crate) fn open(net: &Arc<Net>, path: &RemotePath, label: &str) -> Result<Mirror> {
        match path {
            RemotePath::Hub {
                repo,
                revision,
                subpath,
            } => open_hub(net, repo, revision, subpath, label),
            RemotePath::Url(url) => open_url(net, url, label),
        }
    }

    /// Total size of every file.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).fold(0, u64::saturating_add)
    }

    /// The file whose sparse copy is `local`.
    pub fn file_at(&self, local: &Path) -> Option<&Arc<RemoteFile>> {
        let rel = local.strip_prefix(&self.files_dir).ok()?.to_str()?;
        self.files.iter().find(|f| f.rel == rel)
    }
}

fn usage(label: &str, msg: impl std::fmt::Display) -> Error {
    Error::Usage(format!("{}: {msg}", crate::text::escape(label)))
}

fn open_hub(net: &Arc<Net>, repo: &str, revision: &str, subpath: &str, label: &str) -> Result<Mirror> {
    let base = net.endpoint().to_owned();
    let repo_dir = net.cache_root()?.join("hf").join(repo);
    let refs = repo_dir.join("refs").join(encode_path(revision).replace('/', "%2F"));
    let commit = if net.offline() {
        let is_commit = revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit());
        if is_commit && repo_dir.join(revision).join("listing.json").is_file() {
            revision.to_owned()
        } else {
            let c = std::fs::read_to_string(&refs)
                .map_err(|_| usage(label, "not in the cache (run once without --offline)"))?;
            c.trim().to_owned()
        }
    } else {
        let url = format!(
            "{base}/api/models/{repo}/revision/{}",
            encode_path(revision).replace('/', "%2F")
        );
        let (info, _) = net.client()?.get_json(&url)?;
        let sha = info.get("sha").and_then(|s| s.as_str()).unwrap_or("");
        sha.to_owned()
    };
    if commit.len() < 7 || commit.len() > 64 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(usage(
            label,
            format!("the Hub answered an invalid commit {:?}", crate::text::escape(&commit)),
        ));
    }
    let dir = repo_dir.join(&commit);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    if !net.offline() {
        let _ = std::fs::create_dir_all(refs.parent().unwrap_or(&repo_dir));
        let _ = write_atomic(&refs, commit.as_bytes());
    }
    let listing_path = dir.join("listing.json");
    let listing = match std::fs::read(&listing_path)
        .ok()
        .and_then(|t| serde_json::from_slice::<Listing>(&t).ok())
    {
        Some(l) if net.offline() || !l.hashes.is_empty() || l.files.is_empty() => l,
        _ if net.offline() => {
            return Err(usage(
                label,
                "the file list is not in the cache (run once without --offline)",
            ));
        }
        _ => {
            let (files, hashes) = list_tree(net, &base, repo, &commit, label)?;
            let l = Listing {
                source: format!("{base}/{repo}"),
                commit: Some(commit.clone()),
                files,
                hashes,
            };
            if let Ok(t) = serde_json::to_vec(&l) {
                let _ = write_atomic(&listing_path, &t);
            }
            l
        }
    };
    let shown = if revision == "main" {
        format!("hf://{repo}")
    } else {
        format!("hf://{repo}@{revision}")
    };
    let files_url = |rel: &str| format!("{base}/{repo}/resolve/{commit}/{}", encode_path(rel));
    let mut m = build(net, &dir, &listing.files, files_url, |rel| format!("{shown}/{rel}"))?;
    for f in &mut m.files {
        if let (Some(h), Some(f)) = (listing.hashes.get(&f.rel), Arc::get_mut(f)) {
            f.hashes = h.clone();
        }
    }
    m.label = label.to_owned();
    m.revision = Some(revision.to_owned());
    m.commit = Some(commit);
    if !subpath.is_empty() {
        let inside = |f: &Arc<RemoteFile>| f.rel == subpath || f.rel.starts_with(&format!("{subpath}/"));
        if !m.files.iter().any(inside) {
            return Err(usage(
                label,
                format!("no file or folder {} in the repository", crate::text::escape(subpath)),
            ));
        }
        m.target = m.files_dir.join(subpath);
    }
    Ok(m)
}

/// Files and the hashes the Hub listed for them.
type Listed = (Vec<(String, u64)>, std::collections::BTreeMap<String, Hashes>);

/// Lower-case hex of `len` digits, or `None`.
fn hex_of(v: Option<&serde_json::Value>, len: usize) -> Option<String> {
    let s = v?.as_str()?;
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))).then(|| s.to_owned())
}

/// Every file of the repository at `commit`, with its size and hashes
/// (`/api/models/REPO/tree/COMMIT?recursive=true`: `oid` is the git blob id, `lfs.oid` the SHA-256
/// of an LFS file).
fn list_tree(net: &Net, base: &str, repo: &str, commit: &str, label: &str) -> Result<Listed> {
    let mut url = Some(format!("{base}/api/models/{repo}/tree/{commit}?recursive=true"));
    let mut files = Vec::new();
    let mut hashes = std::collections::BTreeMap::new();
    let mut pages = 0;
    while let Some(u) = url.take() {
        pages += 1;
        if pages > MAX_LISTING_PAGES {
            return Err(usage(
                label,
                format!("the file list has more than {MAX_LISTING_PAGES} pages"),
            ));
        }
        let (v, next) = net.client()?.get_json(&u)?;
        let Some(items) = v.as_array() else {
            return Err(usage(label, "the Hub's file list is not a JSON array"));
        };
        for it in items {
            if it.get("type").and_then(|t| t.as_str()) != Some("file") {
                continue;
            }
            let (Some(path), Some(size)) = (
                it.get("path").and_then(|p| p.as_str()),
                it.get("size").and_then(|s| s.as_u64()),
            ) else {
                return Err(usage(label, "a file in the Hub's list has no path or size"));
            };
            let h = Hashes {
                git_sha1: hex_of(it.get("oid"), 40),
                lfs_sha256: hex_of(it.get("lfs").and_then(|l| l.get("oid")), 64),
            };
            if h != Hashes::default() {
                hashes.insert(path.to_owned(), h);
            }
            files.push((path.to_owned(), size));
            if files.len() > MAX_REMOTE_FILES {
                return Err(Error::Limit {
                    path: label.into(),
                    what: "files in the repository",
                    value: files.len() as u64,
                    limit: MAX_REMOTE_FILES as u64,
                    hint: ": name the file or subfolder you want in the URL (a fixed limit)",
                });
            }
        }
        // follow the next page only on the same server
        url = next.filter(|n| origin(n) == origin(base));
    }
    files.sort();
    Ok((files, hashes))
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

fn open_url(net: &Arc<Net>, url: &str, label: &str) -> Result<Mirror> {
    let dir = net.cache_root()?.join("url").join(format!("{:016x}", fnv(url)));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let name = url
        .split(['?', '#'])
        .next()
        .and_then(|u| u.rsplit('/').next())
        .filter(|n| {
            !n.is_empty() && n.len() < 256 && Path::new(n).components().all(|c| matches!(c, Component::Normal(_)))
        })
        .unwrap_or("file")
        .to_owned();
    let listing_path = dir.join("listing.json");
    let cached = std::fs::read(&listing_path)
        .ok()
        .and_then(|t| serde_json::from_slice::<Listing>(&t).ok())
        .filter(|l| l.source == url);
    let (size, etag, head) = if net.offline() {
        let l = cached
            .as_ref()
            .ok_or_else(|| usage(label, "not in the cache (run once without --offline)"))?;
        let size = l.files.first().map_or(0, |f| f.1);
        (size, l.commit.clone(), None)
    } else {
        let got = net.client()?.get_range(url, 0..8, None)?;
        (got.total, got.etag.clone(), Some(got.data))
    };
    let same = cached
        .as_ref()
        .is_some_and(|l| l.commit == etag && l.files.first().map(|f| f.1) == Some(size));
    if !same {
        // a changed file: forget what was fetched of the old one
        let _ = std::fs::remove_dir_all(dir.join("files"));
        let _ = std::fs::remove_file(dir.join("ranges.json"));
        let l = Listing {
            source: url.to_owned(),
            commit: etag.clone(),
            files: vec![(name.clone(), size)],
            hashes: Default::default(),
        };
        if let Ok(t) = serde_json::to_vec(&l) {
            let _ = write_atomic(&listing_path, &t);
        }
    }
    let mut m = build(
        net,
        &dir,
        &[(name.clone(), size)],
        |_| url.to_owned(),
        |_| url.to_owned(),
    )?;
    m.label = label.to_owned();
    m.commit = etag;
    m.target = m.files_dir.join(&name);
    if let (Some(head), Some(f)) = (head, m.files.first()) {
        use std::os::unix::fs::FileExt;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&f.local)
            .map_err(|e| Error::io(&f.local, e))?;
        file.write_all_at(&head, 0).map_err(|e| Error::io(&f.local, e))?;
        f.cache.add_range(&f.rel, 0..head.len() as u64);
        f.cache.save_ranges();
    }
    Ok(m)
}

/// Sparse copies of `files` under `dir/files`, reusing those of the right size.
fn build(
    net: &Arc<Net>,
    dir: &Path,
    files: &[(String, u64)],
    url_of: impl Fn(&str) -> String,
    label_of: impl Fn(&str) -> String,
) -> Result<Mirror> {
    let files_dir = dir.join("files");
    std::fs::create_dir_all(&files_dir).map_err(|e| Error::io(&files_dir, e))?;
    let state = Arc::new(State::load(dir));
    let mut out = Vec::with_capacity(files.len());
    for (rel, size) in files {
        let p = Path::new(rel);
        if !crate::source::walk::inside(rel) {
            // a name that would leave the folder is not mirrored (and so never opened)
            continue;
        }
        let local = files_dir.join(p);
        if let Some(parent) = local.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let len = std::fs::symlink_metadata(&local)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        if len != Some(*size) {
            if len.is_none() {
                let _ = std::fs::remove_dir_all(&local);
            }
            let f = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .open(&local)
                .map_err(|e| Error::io(&local, e))?;
            f.set_len(*size).map_err(|e| Error::io(&local, e))?;
            state.forget(rel);
        }
        out.push(Arc::new(RemoteFile {
            rel: rel.clone(),
            url: url_of(rel),
            size: *size,
            local,
            label: label_of(rel),
            hashes: Hashes::default(),
            cache: state.clone(),
            net: net.clone(),
            prepared: OnceLock::new(),
        }));
    }
    Ok(Mirror {
        label: String::new(),
        revision: None,
        commit: None,
        target: files_dir.clone(),
        files_dir,
        files: out,
    })
}
