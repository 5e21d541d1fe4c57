//! The one folder walker. `checkpoint` (which files a path is made of, the folders of a layout),
//! `convert` (the folders it converts), the scanner (through `checkpoint::files::list`) and the
//! remote mirror (which names of a listing become files) and `verify` (the OpenSSF Model Signing file
//! listing, one [`Walk::folder`] at a time) walk folders here, so the rules of what is followed,
//! skipped and refused live in one place:
//!
//! - **Links** are followed: a file linked into a folder (a Hugging Face cache's snapshot links into
//!   `blobs/`) is read like a file in it. In a [`Walk::tree`], a folder reached again through a link
//!   is walked once (links can loop), and an entry whose target is gone or unreadable is still
//!   listed, so that the caller can say why it cannot read it. A [`Walk::folder`] listing looks at no
//!   entry: a link is listed as itself, for the caller to follow or not (`verify` never does).
//! - **Nothing is hidden**: dot files and `.git` are walked like any other name (a checkpoint may be
//!   called `.hidden.bin`; a scan must not miss it). Callers skip names of their own (convert its
//!   temporary outputs) where they decide what a name means.
//! - **Limits**: the most entries of one folder ([`Walk::folder`]) or files of a tree
//!   ([`Walk::tree`]), and the deepest nesting of a tree, each an [`Error::Limit`].
//! - **Names**: any bytes, or UTF-8 only ([`Walk::utf8_names`]: a name that is not is an error).
//! - **Order**: the entries of one folder sorted by path (by name: they share the folder); a tree's files in the order found (its
//!   callers group them first).
//!
//! A remote listing names files inside the mirror's folder: [`inside`] is the rule for those names.

use std::path::{Component, Path, PathBuf};

use crate::{Error, Result};

/// How a folder is walked (see the module documentation for the rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walk {
    /// Walk every sub-folder (a tree), or list one folder.
    tree: bool,
    /// Most entries of the folder, or files of the tree.
    max_entries: usize,
    /// Deepest nesting followed in a tree.
    max_depth: usize,
    /// Refuse names that are not UTF-8.
    utf8: bool,
}

/// One entry found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its path: the folder walked joined with the names below it.
    pub path: PathBuf,
    /// Its file name (lossy when not UTF-8 and [`Walk::utf8_names`] is off).
    pub name: String,
    /// In a tree: the (device, inode) of the file it names (links followed), `None` when its target
    /// is gone or unreadable. Always `None` in a one-folder listing (entries are not looked at).
    pub id: Option<(u64, u64)>,
}

impl Walk {
    /// The entries of one folder (files and folders alike), at most `max_entries`.
    pub const fn folder(max_entries: usize) -> Walk {
        Walk {
            tree: false,
            max_entries,
            max_depth: 0,
            utf8: false,
        }
    }

    /// Every file below a folder, at most `max_files`, nested at most `max_depth` folders deep.
    pub const fn tree(max_files: usize, max_depth: usize) -> Walk {
        Walk {
            tree: true,
            max_entries: max_files,
            max_depth,
            utf8: false,
        }
    }

    /// Refuse a name that is not UTF-8 (an error that names the folder).
    pub const fn utf8_names(self) -> Walk {
        Walk { utf8: true, ..self }
    }

    /// Walk `dir`.
    pub fn run(&self, dir: &Path) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        if self.tree {
            self.collect(dir, &mut out, 0, &mut Vec::new())?;
        } else {
            self.read(dir, &mut out, |_, _| Ok(None))?;
            out.sort_by(|a, b| a.path.cmp(&b.path));
        }
        Ok(out)
    }

    /// The entries of `dir` into `out`; `visit` looks at each one (in a tree: recurses into folders,
    /// or returns the file's id).
    fn read(
        &self,
        dir: &Path,
        out: &mut Vec<Entry>,
        mut visit: impl FnMut(&Path, &mut Vec<Entry>) -> Result<Option<Option<(u64, u64)>>>,
    ) -> Result<()> {
        for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let e = e.map_err(|e| Error::io(dir, e))?;
            let name = match e.file_name().into_string() {
                Ok(n) => n,
                Err(_) if self.utf8 => {
                    return Err(Error::Usage(format!(
                        "{}: a file name is not UTF-8",
                        crate::text::path(dir)
                    )));
                }
                Err(n) => n.to_string_lossy().into_owned(),
            };
            let path = e.path();
            match visit(&path, out)? {
                Some(id) => out.push(Entry { path, name, id }),
                None if self.tree => {}
                None => out.push(Entry { path, name, id: None }),
            }
            if out.len() > self.max_entries {
                return Err(Error::Limit {
                    path: dir.into(),
                    what: if self.tree { "file count" } else { "folder entries" },
                    value: out.len() as u64,
                    limit: self.max_entries as u64,
                    hint: ": point tensorscope at one model's own folder, not a folder above it (a fixed limit)",
                });
            }
        }
        Ok(())
    }

    /// The files under `dir`; a folder reached again through a link is walked once.
    fn collect(&self, dir: &Path, out: &mut Vec<Entry>, depth: usize, seen: &mut Vec<(u64, u64)>) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
        if seen.contains(&(m.dev(), m.ino())) {
            return Ok(());
        }
        seen.push((m.dev(), m.ino()));
        if depth > self.max_depth {
            return Err(Error::Limit {
                path: dir.into(),
                what: "folder depth",
                value: depth as u64,
                limit: self.max_depth as u64,
                hint: ": a model folder is a few levels deep; point tensorscope at the model's own folder, \
                       and look for a link that loops (a fixed limit)",
            });
        }
        self.read(dir, out, |path, out| match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => self.collect(path, out, depth + 1, seen).map(|()| None),
            Ok(m) => Ok(Some(Some((m.dev(), m.ino())))),
            // a dangling link or an unreadable entry: listed, so the caller says why
            Err(_) => Ok(Some(None)),
        })
    }
}

/// Whether `rel`, a `/`-separated name from a listing, names something inside the folder it is
/// joined to: not empty, shorter than 4096 bytes, and only plain parts (no `..`, no root, no `.`).
pub fn inside(rel: &str) -> bool {
    !rel.is_empty() && rel.len() < 4096 && Path::new(rel).components().all(|c| matches!(c, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_listed_sorted_and_a_tree_follows_links_once() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir_all(p.join("sub/deeper")).unwrap();
        std::fs::write(p.join("b.bin"), b"x").unwrap();
        std::fs::write(p.join(".hidden.bin"), b"x").unwrap();
        std::fs::write(p.join("sub/deeper/c.pt"), b"x").unwrap();
        std::os::unix::fs::symlink(p, p.join("sub/loop")).unwrap();
        std::os::unix::fs::symlink(p.join("gone"), p.join("dangling")).unwrap();
        let names: Vec<String> = Walk::folder(10).run(p).unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, [".hidden.bin", "b.bin", "dangling", "sub"]);
        let mut tree: Vec<(String, bool)> = Walk::tree(10, 4)
            .run(p)
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.id.is_some()))
            .collect();
        tree.sort();
        let want = [
            (".hidden.bin", true),
            ("b.bin", true),
            ("c.pt", true),
            ("dangling", false),
        ];
        assert_eq!(tree, want.map(|(n, i)| (n.to_owned(), i)));
        assert!(matches!(
            Walk::folder(3).run(p),
            Err(Error::Limit {
                what: "folder entries",
                ..
            })
        ));
        assert!(matches!(
            Walk::tree(2, 4).run(p),
            Err(Error::Limit { what: "file count", .. })
        ));
        assert!(matches!(
            Walk::tree(10, 1).run(p),
            Err(Error::Limit {
                what: "folder depth",
                ..
            })
        ));
    }

    #[test]
    fn listing_names_stay_inside() {
        assert!(inside("a/b.bin"));
        for bad in ["", "../x", "/etc/passwd", "a/../../b", "./a"] {
            assert!(!inside(bad), "{bad}");
        }
    }
}
