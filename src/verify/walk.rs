//! List a model's files the way OMS names them: paths relative to the model, `/`-separated, with
//! ignored paths (and everything under them) left out. A single-file model is named `.`.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use crate::Error;
use crate::source::walk::{Entry as Listed, Walk};

/// Paths every OMS signer leaves out by default (`model_signing`'s `ignore_git_paths`).
pub const DEFAULT_IGNORES: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// A path found in the model.
#[derive(Debug, Clone)]
pub struct Entry {
    /// OMS name: relative, `/`-separated (lossy when the name is not UTF-8).
    pub name: String,
    /// Where it is on disk.
    pub path: PathBuf,
    /// Size in bytes (of the target, for a followed link).
    pub len: u64,
    /// `None` for a file that can be hashed; else why it cannot (`a symbolic link`, `a FIFO`, …).
    pub not_regular: Option<&'static str>,
    /// False when the name is not valid UTF-8 (it can never match a signed name).
    pub utf8: bool,
}

/// Ignore rules: each a list of components; a path is ignored when it starts with one.
#[derive(Debug, Default, Clone)]
pub struct Ignores(Vec<Vec<OsString>>);

impl Ignores {
    /// Add a model-relative path (`a/b`, `./a`); paths reaching outside the model (`..`) or naming
    /// the whole model are skipped, as `model_signing` does.
    pub fn add(&mut self, rel: &Path) {
        let mut parts = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(s) => parts.push(s.to_os_string()),
                Component::CurDir => {}
                _ => return,
            }
        }
        if !parts.is_empty() && !self.0.contains(&parts) {
            self.0.push(parts);
        }
    }

    pub(super) fn matches(&self, parts: &[OsString]) -> bool {
        self.0.iter().any(|ig| parts.starts_with(ig))
    }
}

/// Every path of the model at `root` that is not ignored, sorted by OMS name order (components).
pub fn walk(root: &Path, ignores: &Ignores, follow_links: bool) -> Result<Vec<Entry>, Error> {
    let meta = std::fs::symlink_metadata(root).map_err(|e| Error::io(root, e))?;
    let mut out = Vec::new();
    if meta.is_dir() {
        let mut parts = Vec::new();
        walk_dir(root, &mut parts, ignores, follow_links, &mut out)?;
    } else {
        let meta = if meta.file_type().is_symlink() {
            std::fs::metadata(root).map_err(|e| Error::io(root, e))?
        } else {
            meta
        };
        out.push(Entry {
            name: ".".into(),
            path: root.to_path_buf(),
            len: meta.len(),
            not_regular: kind_problem(&meta),
            utf8: true,
        });
    }
    Ok(out)
}

fn walk_dir(
    dir: &Path,
    parts: &mut Vec<OsString>,
    ignores: &Ignores,
    follow: bool,
    out: &mut Vec<Entry>,
) -> Result<(), Error> {
    // the one folder walker lists the folder (every name, hidden ones too, in name order) and looks
    // at nothing: links are lstat'ed here, never followed into
    for Listed { path, .. } in Walk::folder(usize::MAX).run(dir)? {
        let Some(name) = path.file_name() else { continue };
        parts.push(name.to_os_string());
        if ignores.matches(parts) {
            parts.pop();
            continue;
        }
        let meta = std::fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
        let (rel, utf8) = rel_name(parts);
        if meta.is_dir() {
            walk_dir(&path, parts, ignores, follow, out)?;
        } else if meta.file_type().is_symlink() {
            let target = std::fs::metadata(&path).ok().filter(|m| follow && m.is_file());
            out.push(Entry {
                name: rel,
                path,
                len: target.as_ref().map_or(0, |m| m.len()),
                not_regular: if target.is_some() {
                    None
                } else {
                    Some(link_problem(follow))
                },
                utf8,
            });
        } else {
            out.push(Entry {
                name: rel,
                path,
                len: meta.len(),
                not_regular: kind_problem(&meta),
                utf8,
            });
        }
        parts.pop();
    }
    Ok(())
}

fn link_problem(follow: bool) -> &'static str {
    if follow {
        "a symbolic link to something other than a regular file"
    } else {
        "a symbolic link (the signature was made with allow_symlinks false)"
    }
}

fn kind_problem(meta: &std::fs::Metadata) -> Option<&'static str> {
    if meta.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return Some("a FIFO, not a regular file");
        }
        if t.is_socket() {
            return Some("a socket, not a regular file");
        }
        if t.is_block_device() || t.is_char_device() {
            return Some("a device, not a regular file");
        }
    }
    Some("not a regular file")
}

fn rel_name(parts: &[OsString]) -> (String, bool) {
    let mut utf8 = true;
    let s = parts
        .iter()
        .map(|p| {
            p.to_str().map(str::to_string).unwrap_or_else(|| {
                utf8 = false;
                p.to_string_lossy().into_owned()
            })
        })
        .collect::<Vec<_>>()
        .join("/");
    (s, utf8)
}

/// The ignore rule for `sig` when it lies inside the model at `root` (the signature never signs itself).
pub fn relative_inside(root: &Path, sig: &Path) -> Option<PathBuf> {
    let root = std::fs::canonicalize(root).ok()?;
    let parent = sig
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let sig = std::fs::canonicalize(parent).ok()?.join(sig.file_name()?);
    sig.strip_prefix(&root).ok().map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ignores_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        std::fs::create_dir_all(d.join(".git")).unwrap();
        for f in ["a/b/x", "a.txt", ".git/config", "model.sig", "skip/me"] {
            let p = d.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, f).unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink("a.txt", d.join("link")).unwrap();
        let mut ig = Ignores::default();
        for p in DEFAULT_IGNORES {
            ig.add(Path::new(p));
        }
        ig.add(&relative_inside(d, &d.join("model.sig")).unwrap());
        ig.add(Path::new("./skip"));
        ig.add(Path::new("../outside"));
        let names: Vec<(String, bool)> = walk(d, &ig, false)
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.not_regular.is_none()))
            .collect();
        let mut want = vec![("a.txt".to_string(), true), ("a/b/x".into(), true)];
        #[cfg(unix)]
        want.push(("link".into(), false));
        want.sort();
        let mut got = names.clone();
        got.sort();
        assert_eq!(got, want);
        let file = walk(&d.join("a.txt"), &ig, false).unwrap();
        assert_eq!(file[0].name, ".");
    }

    #[cfg(unix)]
    #[test]
    fn order_hidden_names_and_names_that_are_not_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("b")).unwrap();
        for f in ["b/z", "a", ".h", "B"] {
            std::fs::write(d.join(f), f).unwrap();
        }
        std::fs::write(d.join(std::ffi::OsStr::from_bytes(b"c\xff")), b"x").unwrap();
        std::os::unix::fs::symlink("b", d.join("l")).unwrap();
        let got: Vec<(String, bool, Option<&str>)> = walk(d, &Ignores::default(), true)
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.utf8, e.not_regular))
            .collect();
        let link = Some(link_problem(true));
        let want = [
            (".h", true, None),
            ("B", true, None),
            ("a", true, None),
            ("b/z", true, None),
            ("c\u{fffd}", false, None),
            ("l", true, link),
        ];
        assert_eq!(got, want.map(|(n, u, p)| (n.to_owned(), u, p)));
    }
}
