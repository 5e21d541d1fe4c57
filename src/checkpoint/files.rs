//! Which files make up what a path opens, and which of them are checkpoints.
//!
//! One judge for `inspect`, `scan` and the TUI: [`classify`] looks at a file's first bytes (never
//! only its name) and says whether a loader could read it as a checkpoint, whether it is an index
//! that drives a layout (`*.safetensors.index.json`, `model_index.json`), or whether it is
//! positively something else (JSON, text, an image, …) that is listed as skipped. [`list`] walks a
//! folder with it, once per file: a file reached under two names (a Hugging Face cache blob and its
//! snapshot link) is listed once, with both names.
//!
//! A file is only ever called "not a checkpoint" when no loader could read it: its first byte starts
//! no pickle opcode and it carries none of the magic numbers of a checkpoint, archive or compressed
//! stream. Text that starts with a pickle opcode (a protocol-0 pickle looks like text: `I0x1`, `L0x1L`)
//! is a checkpoint candidate; the scanner's pickle probe has the last word on it.
//!
//! ```
//! use tensorscope::checkpoint::files::{classify_bytes, Looks, Role};
//! assert_eq!(classify_bytes("config.json".as_ref(), b"{\"a\": 1}"), Role::Skipped(Looks::Json));
//! assert!(matches!(classify_bytes("x.pkl".as_ref(), b"I0x1\n."), Role::Checkpoint(_)));
//! ```

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::formats::pickle::ops::Opcode;
use crate::formats::sniff::{self, Kind};
use crate::remote::Opener;
use crate::source::walk::Walk;
use crate::{Error, Result};

/// Most files one listing holds.
pub const MAX_FILES: usize = 100_000;
/// Deepest folder nesting followed (symlinked folders can loop).
pub const MAX_DEPTH: usize = 32;

/// What a file is, for opening and scanning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A file a loader could read as a checkpoint, with what its first bytes look like
    /// ([`Kind::Unknown`] when no magic number matched but its first byte starts a pickle opcode).
    Checkpoint(Kind),
    /// A shard index or `model_index.json`: it drives a layout and is never scanned as a checkpoint.
    Index,
    /// Positively not a checkpoint: listed as skipped.
    Skipped(Looks),
}

/// What a file that is not a checkpoint looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Looks {
    /// A JSON document (config, tokenizer, index).
    Json,
    /// Text: README, merges, vocabularies, licences.
    Text,
    /// An HTML page (a login or error page saved instead of the file).
    Html,
    /// A Git LFS pointer: the weights were never downloaded.
    GitLfsPointer,
    /// A PNG, JPEG, WebP or BMP image.
    Image,
    /// An HDF5 file (Keras and TensorFlow weights).
    Hdf5,
    /// An empty file.
    Empty,
    /// Bytes of no format any checkpoint loader reads.
    Binary,
}

impl Looks {
    /// How to say it in "looks like: …".
    pub fn as_str(self) -> &'static str {
        match self {
            Looks::Json => "JSON",
            Looks::Text => "text",
            Looks::Html => "HTML",
            Looks::GitLfsPointer => "a Git LFS pointer, not the weights",
            Looks::Image => "image",
            Looks::Hdf5 => "HDF5 (Keras or TensorFlow weights)",
            Looks::Empty => "an empty file",
            Looks::Binary => "binary data of no checkpoint format",
        }
    }
}

impl std::fmt::Display for Looks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The name it is listed under (for a cache blob, its snapshot name).
    pub path: PathBuf,
    /// Other names of the same file (same device and inode), e.g. `blobs/<sha>`.
    pub also: Vec<PathBuf>,
    /// What it is.
    pub role: Role,
}

/// Whether a file name is a layout index (`*.safetensors.index.json`, `*.bin.index.json`,
/// `model_index.json`, with an optional variant: `*.index.fp16.json`).
pub fn is_index_name(name: &str) -> bool {
    name == "model_index.json"
        || name.ends_with(".json") && (name.contains(".safetensors.index") || name.contains(".bin.index"))
}

/// Classify a file from its name and first bytes (read at most [`sniff::SNIFF_LEN`]), opened by
/// `files` (a file of a remote mirror is fetched first).
pub fn classify(files: &Opener, path: &Path) -> Result<Role> {
    let mut head = Vec::with_capacity(sniff::SNIFF_LEN);
    files
        .open_regular(path)?
        .take(sniff::SNIFF_LEN as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    Ok(classify_bytes(path, &head))
}

/// Classify a file from its name and first bytes (pass [`sniff::SNIFF_LEN`] when it has them).
pub fn classify_bytes(path: &Path, head: &[u8]) -> Role {
    if head.is_empty() {
        return Role::Skipped(Looks::Empty);
    }
    let kind = sniff::detect(head);
    match kind {
        Kind::GitLfsPointer => return Role::Skipped(Looks::GitLfsPointer),
        Kind::Html if !starts_a_pickle(head) => return Role::Skipped(Looks::Html),
        Kind::Unknown | Kind::Html => {}
        k => return Role::Checkpoint(k),
    }
    let json = is_json_start(head);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if json && is_index_name(name) {
        return Role::Index;
    }
    // pandas opens `x.zip` with Python's zipfile, which finds the archive whatever precedes it
    // (text, an image): the scanner judges it
    if name.to_ascii_lowercase().ends_with(".zip") {
        return Role::Checkpoint(Kind::Unknown);
    }
    // PNG and HDF5 start with NEWFALSE, then a byte no unpickler accepts there (PERSID with no
    // persistent_load, or no opcode at all)
    if let Some(looks) = binary_magic(head) {
        return Role::Skipped(looks);
    }
    if starts_a_pickle(head) {
        return Role::Checkpoint(Kind::Unknown);
    }
    if json {
        Role::Skipped(Looks::Json)
    } else if is_text(head) {
        Role::Skipped(Looks::Text)
    } else if sniff::lzma_by_name(name) {
        // binary that no magic names but whose name a loader goes by (pandas opens `x.xz` with
        // lzma whatever its first bytes, `x.tar` with tarfile, which tries lzma too, and LZMA
        // "alone" has no magic): the scanner judges it
        Role::Checkpoint(Kind::Unknown)
    } else {
        Role::Skipped(Looks::Binary)
    }
}

/// Whether the first byte is an opcode any pickle protocol defines: if not, `pickle.load`,
/// `torch.load`'s legacy path and `np.load(allow_pickle=True)` all fail on the first byte.
fn starts_a_pickle(head: &[u8]) -> bool {
    head.first().is_some_and(|&b| Opcode::from_byte(b).is_some())
}

/// Whether the bytes open a JSON object or array: `{` then `"` or `}`; `[` then a value or `]`.
/// A word list whose first line is `[PAD]` is text, not JSON.
fn is_json_start(head: &[u8]) -> bool {
    let h = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let mut bytes = h.iter().copied().filter(|b| !b.is_ascii_whitespace());
    match (bytes.next(), bytes.next()) {
        (Some(b'{'), Some(b'"' | b'}')) => true,
        (Some(b'['), Some(b'"' | b'{' | b'[' | b']' | b'-' | b't' | b'f' | b'n' | b'0'..=b'9')) => true,
        // the head ends right after the bracket
        (Some(b'{' | b'['), None) => true,
        _ => false,
    }
}

fn is_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(s) => !s.chars().any(|c| c.is_control() && !c.is_whitespace()),
        // a character cut by the end of the head is still text
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

fn binary_magic(head: &[u8]) -> Option<Looks> {
    let image = head.starts_with(b"\x89PNG\r\n\x1a\n")
        || head.starts_with(b"\xff\xd8\xff")
        || head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP";
    if image {
        return Some(Looks::Image);
    }
    head.starts_with(b"\x89HDF\r\n\x1a\n").then_some(Looks::Hdf5)
}

/// Extensions that claim a checkpoint (also under a `.gz`, `.bz2`, `.xz`, `.zst`, `.z` or `.lzma`): a file named so
/// is never skipped for what its bytes look like once it is a candidate; if no reader makes sense of
/// it, the scanner reports it (suspicious), since a loader of its kind may read what we cannot.
pub const CHECKPOINT_EXTENSIONS: [&str; 12] = [
    "safetensors",
    "bin",
    "pt",
    "pth",
    "ckpt",
    "pkl",
    "pickle",
    "joblib",
    "npy",
    "npz",
    "gguf",
    "dat",
];

/// Whether a file name claims a checkpoint (see [`CHECKPOINT_EXTENSIONS`]).
pub fn named_like_a_checkpoint(path: &Path) -> bool {
    let mut p = path.to_path_buf();
    if p.extension()
        .is_some_and(|e| ["gz", "bz2", "xz", "zst", "z", "lzma"].iter().any(|c| e == *c))
    {
        p.set_extension("");
    }
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| CHECKPOINT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// What a checkpoint candidate in which the scanner's pickle probe found nothing looks like:
/// text or binary data.
pub fn looks_without_pickle(files: &Opener, path: &Path) -> Looks {
    let mut head = Vec::with_capacity(sniff::SNIFF_LEN);
    let read = files.open_regular(path).and_then(|f| {
        f.take(sniff::SNIFF_LEN as u64)
            .read_to_end(&mut head)
            .map_err(|e| Error::io(path, e))
    });
    match read {
        Ok(_) if head.is_empty() => Looks::Empty,
        Ok(_) if is_text(&head) => Looks::Text,
        _ => Looks::Binary,
    }
}

/// The files a path is made of: the path itself when it is a file; every file below it (links
/// followed, sorted by path) when it is a folder. A file reached under several names is listed once,
/// under the name outside a cache's `blobs/` folder when there is one, with the others in
/// [`Listed::also`].
pub fn list(opener: &Opener, path: &Path) -> Result<Vec<Listed>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_dir() {
        return Ok(vec![Listed {
            path: path.to_path_buf(),
            also: Vec::new(),
            // unreadable (a FIFO, no permission): the scanner says why it cannot read it
            role: classify(opener, path).unwrap_or(Role::Checkpoint(Kind::Unknown)),
        }]);
    }
    let mut files: Vec<(PathBuf, Option<(u64, u64)>)> = Walk::tree(MAX_FILES, MAX_DEPTH)
        .run(path)?
        .into_iter()
        .map(|e| (e.path, e.id))
        .collect();
    files.sort();
    // group names by (device, inode)
    let mut by_id: HashMap<(u64, u64), usize> = HashMap::new();
    let mut groups: Vec<Vec<PathBuf>> = Vec::new();
    for (p, id) in files {
        match id.and_then(|id| by_id.get(&id).copied()) {
            Some(g) => groups[g].push(p),
            None => {
                if let Some(id) = id {
                    by_id.insert(id, groups.len());
                }
                groups.push(vec![p]);
            }
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    for mut names in groups {
        let main = names.iter().position(|p| !in_blobs(p)).unwrap_or(0);
        let p = names.remove(main);
        let role = match classify(opener, &p) {
            Ok(r) => r,
            // unreadable: a loader might still read it as root; the scanner reports why it cannot
            Err(_) => Role::Checkpoint(Kind::Unknown),
        };
        out.push(Listed {
            path: p,
            also: names,
            role,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn in_blobs(p: &Path) -> bool {
    p.parent().and_then(Path::file_name).is_some_and(|n| n == "blobs")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(name: &str, bytes: &[u8]) -> Role {
        classify_bytes(Path::new(name), bytes)
    }

    #[test]
    fn a_zip_by_name_is_for_the_scanner_to_judge_whatever_it_starts_with() {
        // pandas.read_pickle("x.zip") opens it with Python's zipfile, which finds the archive at
        // the end, after text or any other bytes
        for head in [&b"model card\n"[..], b"\0\0\0\0", b"{\"a\": 1}"] {
            assert_eq!(role("frame.ZIP", head), Role::Checkpoint(Kind::Unknown));
        }
        assert_eq!(role("frame.zip.txt", b"model card\n"), Role::Skipped(Looks::Text));
    }

    #[test]
    fn not_checkpoints_are_named() {
        assert_eq!(role("config.json", b"{\"a\": 1}"), Role::Skipped(Looks::Json));
        assert_eq!(
            role("vocab.txt", b"[PAD]\n[UNK]\n[CLS]\nthe\n"),
            Role::Skipped(Looks::Text)
        );
        assert_eq!(role("list.json", b"[1, 2]"), Role::Skipped(Looks::Json));
        assert_eq!(role("vocab.json", b"\xef\xbb\xbf [1, 2]"), Role::Skipped(Looks::Json));
        assert_eq!(role("README.md", b"# Model card\n"), Role::Skipped(Looks::Text));
        assert_eq!(
            role("merges.txt", b"#version: 0.2\n\xc4\xa0 t\n"),
            Role::Skipped(Looks::Text)
        );
        assert_eq!(
            role("x.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Role::Skipped(Looks::Image)
        );
        assert_eq!(
            role("tf_model.h5", b"\x89HDF\r\n\x1a\n\0\0"),
            Role::Skipped(Looks::Hdf5)
        );
        assert_eq!(
            role("tokenizer.model", b"\n\x0b\n\x05<unk>"),
            Role::Skipped(Looks::Binary)
        );
        assert_eq!(role("empty.bin", b""), Role::Skipped(Looks::Empty));
        assert_eq!(
            role("model.safetensors", b"version https://git-lfs.github.com/spec/v1\n"),
            Role::Skipped(Looks::GitLfsPointer)
        );
        assert_eq!(role("err.bin", b"<!DOCTYPE html><html>"), Role::Skipped(Looks::Html));
    }

    #[test]
    fn indexes_drive_layouts() {
        assert_eq!(
            role("model.safetensors.index.json", b"{\"weight_map\":{}}"),
            Role::Index
        );
        assert_eq!(role("pytorch_model.bin.index.json", b"{}"), Role::Index);
        assert_eq!(role("model_index.json", b"{}"), Role::Index);
        assert_eq!(role("model.safetensors.index.fp16.json", b"{}"), Role::Index);
        // a pickle named like an index is still a pickle
        assert!(matches!(
            role("model_index.json", b"\x80\x02}q\0."),
            Role::Checkpoint(_)
        ));
    }

    #[test]
    fn anything_a_loader_could_read_is_a_checkpoint() {
        for head in [
            &b"I0x1\nI2\n."[..],
            b"I1\0garbage",
            b"L0x1L\n.",
            b"(dp0\n.",
            b"cposix\nsystem\n(S'id'\ntR.",
            b"\x80\x04\x95\x10\0\0\0\0\0\0\0}\x94.",
            b"\x1f\x8b\x08\0\0\0\0\0",
            b"PK\x03\x04rest",
            b"\x93NUMPY\x01\0",
        ] {
            assert!(matches!(role("f", head), Role::Checkpoint(_)), "{head:?}");
        }
        assert_eq!(role("x.pkl.gz", b"\x1f\x8b\x08\0"), Role::Checkpoint(Kind::Compressed));
    }

    #[test]
    fn names_that_claim_a_checkpoint() {
        for n in ["a.pkl", "x.pkl.gz", "m.PT", "w.safetensors", "d.npz"] {
            assert!(named_like_a_checkpoint(Path::new(n)), "{n}");
        }
        for n in ["notes.txt", "README", "c.json", "x.gz"] {
            assert!(!named_like_a_checkpoint(Path::new(n)), "{n}");
        }
    }

    #[test]
    fn listing_dedupes_hard_links_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("blobs")).unwrap();
        std::fs::create_dir_all(d.join("snapshots/abc")).unwrap();
        std::fs::write(d.join("blobs/123"), b"\x80\x02}q\0.").unwrap();
        std::os::unix::fs::symlink("../../blobs/123", d.join("snapshots/abc/model.bin")).unwrap();
        std::fs::write(d.join("config.json"), b"{}").unwrap();
        let l = list(&Opener::default(), d).unwrap();
        assert_eq!(l.len(), 2, "{l:?}");
        let model = l.iter().find(|f| f.path.ends_with("snapshots/abc/model.bin")).unwrap();
        assert_eq!(model.also, vec![d.join("blobs/123")]);
        assert!(matches!(model.role, Role::Checkpoint(Kind::Pickle)));
        assert_eq!(l[0].role, Role::Skipped(Looks::Json));
    }
}
