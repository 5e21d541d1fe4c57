//! Opening a checkpoint: `open(path)` sniffs the bytes, picks the files a path is made of and
//! dispatches to a format reader (see [`layout`]), returning a [`Checkpoint`] — its files, its
//! tensors (name, dtype, shape, where the bytes are) and its metadata — without reading tensor data.
//!
//! Files are memory-mapped; tensors are views into the maps. The format is detected from the bytes
//! (see [`sniff`]), never from the file extension. This module stands above every reader; the types
//! it returns live in [`crate::model`] and are re-exported here.

pub mod files;
pub mod gguf;
pub mod layout;
pub mod summary;

use std::path::Path;

pub use crate::formats::{safetensors, sniff};
pub use crate::model::{Checkpoint, Component, DType, FileEntry, Format, TensorInfo, contiguous_strides, dtype};
pub use crate::source::guard;
pub use sniff::Kind;

use crate::Result;
use crate::remote::Opener;

/// Options for [`open_with`].
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Diffusers weight variant (`fp16` picks `*.fp16.safetensors`); `None` picks the plain files.
    pub variant: Option<String>,
    /// How remote paths are read; `None`: local paths only (a remote path is an error).
    pub remote: Option<crate::remote::Env>,
}

/// Open a local file or folder with default options.
pub fn open(path: impl AsRef<Path>) -> Result<Checkpoint> {
    open_with(path.as_ref(), &OpenOptions::default())
}

/// Open a file or folder, or a remote path (`hf://ORG/NAME[@REV][/PATH]`, `https://…`: only the
/// headers and pickles are fetched, see [`crate::remote`]).
pub fn open_with(path: &Path, opts: &OpenOptions) -> Result<Checkpoint> {
    let mirror = match &opts.remote {
        Some(env) => env.open_mirror(path)?,
        None => {
            crate::remote::url::refuse_remote(path)?;
            None
        }
    };
    if let Some(m) = mirror {
        crate::remote::prefetch_safetensors(&m, opts.variant.as_deref());
        let mut ck = layout::open(&m.target, opts, Opener::mirror(m.clone())).map_err(|e| remote_names(e, &m))?;
        ck.path = path.to_path_buf();
        return Ok(ck);
    }
    layout::open(path, opts, Opener::default())
}

/// An error about a file of a remote mirror names the remote file, not its copy in the cache.
fn remote_names(mut e: crate::Error, m: &crate::remote::Mirror) -> crate::Error {
    use crate::Error;
    if let Error::Io { path, .. } | Error::Format { path, .. } | Error::Limit { path, .. } = &mut e {
        if let Some(f) = m.file_at(path) {
            *path = std::path::PathBuf::from(&f.label);
        } else if let Ok(rel) = path.strip_prefix(&m.files_dir) {
            *path = std::path::Path::new(&m.label).join(rel);
        }
    }
    e
}

/// Notes where a file's extension says one format and its content another (`inspect` prints
/// them on stderr, the TUI's Files tab under Notes); each name escaped.
pub fn name_notes(ck: &Checkpoint) -> Vec<String> {
    let mut out = Vec::new();
    for f in &ck.files {
        let ext = f.path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let claims = match ext {
            "safetensors" => "safetensors",
            "bin" | "pt" | "pth" | "ckpt" => "a torch.save pickle",
            "gguf" => "GGUF",
            _ => continue,
        };
        let is = match f.format {
            Format::Safetensors => "safetensors",
            Format::PytorchZip | Format::PytorchLegacy => "a torch.save pickle",
            Format::Gguf => "GGUF",
            _ => continue,
        };
        if claims != is {
            out.push(format!(
                "{} is named .{ext} but its content is {} ({}): the format was read from the bytes",
                crate::text::path(&f.path),
                is,
                f.format
            ));
        }
    }
    out
}
