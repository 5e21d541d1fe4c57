//! [`Builder`]: collects the files, tensors and metadata of a checkpoint while its layout is
//! walked, and checks the names once at the end.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{MAX_FILES, SAFETENSORS_EXT};
use crate::checkpoint::files::{self, Looks};
use crate::checkpoint::safetensors::parse_header;
use crate::checkpoint::sniff::{self, Kind};
use crate::checkpoint::{Checkpoint, Component, FileEntry, Format, TensorInfo};
use crate::remote::Opener;
use crate::source::Source;
use crate::text::{escape, path as show};
use crate::{Error, Result};

/// Collects files and tensors while a layout is walked.
pub(super) struct Builder {
    pub(super) path: PathBuf,
    pub(super) format: Format,
    pub(super) files: Vec<FileEntry>,
    pub(super) tensors: Vec<TensorInfo>,
    pub(super) metadata: Vec<(String, String)>,
    /// The keys of `metadata`, so that merging a file's metadata is linear (a converted file may
    /// hold 100,000 alias entries).
    pub(super) meta_keys: HashSet<String>,
    pub(super) components: Vec<Component>,
    pub(super) warnings: Vec<String>,
    /// See [`Checkpoint::parts`].
    pub(super) parts: Vec<(String, String)>,
    pub(super) sources: Vec<Arc<Source>>,
    /// Opens the files (a remote mirror's after fetching what they need).
    pub(super) opener: Opener,
    /// `(file index, split fields, tensors in that file)` of every GGUF file that is part of a split set.
    pub(super) gguf_splits: Vec<(usize, crate::formats::gguf::Split, u64)>,
    pub(super) hints: crate::model::count::Hints,
    /// Compressed storages (`.npz` members), inflated on first use.
    pub(super) inflated: Vec<crate::model::inflated::Inflated>,
}

impl Builder {
    pub(super) fn new(path: &Path, opener: Opener) -> Self {
        Builder {
            opener,
            path: path.to_path_buf(),
            format: Format::Folder,
            files: Vec::new(),
            tensors: Vec::new(),
            metadata: Vec::new(),
            meta_keys: HashSet::new(),
            components: Vec::new(),
            warnings: Vec::new(),
            parts: Vec::new(),
            sources: Vec::new(),
            gguf_splits: Vec::new(),
            hints: Default::default(),
            inflated: Vec::new(),
        }
    }

    /// Map one file, detect its format from its bytes, and add its tensors named `prefix + name`.
    pub(super) fn add_file(&mut self, full: &Path, rel: impl Into<PathBuf>, prefix: &str) -> Result<Format> {
        self.add_file_with(full, rel, prefix, "")
    }

    /// [`Builder::add_file`], its metadata keys named `meta_prefix + key` (the first file holding a
    /// key wins among files that share a prefix, as the shards of one model do; files of different
    /// models get different prefixes, so no file's key hides another's).
    pub(super) fn add_file_with(
        &mut self,
        full: &Path,
        rel: impl Into<PathBuf>,
        prefix: &str,
        meta_prefix: &str,
    ) -> Result<Format> {
        let rel: PathBuf = rel.into();
        if self.files.len() >= MAX_FILES {
            return Err(Error::Limit {
                path: full.into(),
                what: "file count",
                value: self.files.len() as u64,
                limit: MAX_FILES as u64,
                hint: ": point tensorscope at one model's own folder, not a folder above it (a fixed limit)",
            });
        }
        let (source, len) = self.opener.source(full)?;
        let data = source.bytes();
        let mut kind = sniff::detect(&data[..data.len().min(sniff::SNIFF_LEN)]);
        // a file named .safetensors gets the detailed diagnosis (truncated, impostor, bad length, …)
        if full.extension().is_some_and(|e| e == SAFETENSORS_EXT)
            && !matches!(kind, Kind::Zip | Kind::Pickle | Kind::Gguf)
        {
            kind = Kind::Safetensors;
        }
        let file = self.files.len();
        let mut parts = Vec::new();
        let (format, tensors, metadata, warnings) = match kind {
            Kind::Npy => self.numpy(file, crate::formats::pickle::arrays::read_npy(full, data)?),
            Kind::Zip if crate::formats::pickle::arrays::looks_npz(data) => {
                self.numpy(file, crate::formats::pickle::arrays::read_npz(full, data)?)
            }
            Kind::Zip | Kind::Pickle => {
                let t = crate::formats::pickle::torch::read_prefetching(full, data, &mut |r| source.prefetch(r))?;
                // parsed without read-ahead (see `Source::open`); tensor data streams normally
                source.advise_sequential();
                parts = t.parts;
                (
                    t.format.unwrap_or(Format::PytorchZip),
                    t.tensors,
                    t.metadata,
                    t.warnings,
                )
            }
            Kind::Gguf => {
                let g = crate::formats::gguf::parse(full, data)?;
                let metadata = crate::formats::gguf::metadata(&g);
                if let Some(split) = g.split {
                    self.gguf_splits.push((file, split, g.tensors.len() as u64));
                }
                (Format::Gguf, g.tensors, metadata, g.warnings)
            }
            Kind::Safetensors => {
                let h = parse_header(full, data)?;
                let tensors = h
                    .tensors
                    .into_iter()
                    .map(|t| {
                        let range = h.data_start + t.data.start..h.data_start + t.data.end;
                        TensorInfo::contiguous(t.name, t.dtype, t.shape, 0, range)
                            .ok_or_else(|| Error::format(full, "tensor shape overflows"))
                    })
                    .collect::<Result<Vec<_>>>()?;
                (Format::Safetensors, tensors, h.metadata, Vec::new())
            }
            Kind::Unknown if files::looks_without_pickle(&self.opener, full) != Looks::Binary => {
                return Err(Error::Usage(format!(
                    "not a checkpoint: {} (looks like: {}); {}",
                    show(full),
                    files::looks_without_pickle(&self.opener, full),
                    sniff::READS
                )));
            }
            other => {
                let what = match sniff::describe(other) {
                    Some(what) => what.to_string(),
                    None => format!("not a format tensorscope knows: {}", sniff::READS),
                };
                return Err(Error::format(full, what));
            }
        };
        self.tensors.reserve(tensors.len());
        for mut t in tensors {
            t.file = file;
            t.name.insert_str(0, prefix);
            self.tensors.push(t);
        }
        self.parts
            .extend(parts.into_iter().map(|(n, w)| (format!("{prefix}{n}"), w)));
        self.metadata.reserve(metadata.len());
        for (mut k, v) in metadata {
            k.insert_str(0, meta_prefix);
            if !self.meta_keys.contains(&k) {
                self.meta_keys.insert(k.clone());
                self.metadata.push((k, v));
            }
        }
        self.warnings
            .extend(warnings.into_iter().map(|w| format!("{}: {w}", show(&rel))));
        self.files.push(FileEntry {
            path: rel,
            format,
            bytes: len,
            full_path: full.to_path_buf(),
        });
        self.sources.push(Arc::new(source));
        Ok(format)
    }

    /// What [`Builder::add_file_with`] adds of a numpy file: its tensors and warnings; its
    /// compressed storages are kept for the checkpoint.
    #[allow(clippy::type_complexity)]
    fn numpy(
        &mut self,
        file: usize,
        a: crate::formats::pickle::arrays::Arrays,
    ) -> (Format, Vec<TensorInfo>, Vec<(String, String)>, Vec<String>) {
        self.inflated.extend(a.inflated.into_iter().map(|mut z| {
            z.file = file;
            z
        }));
        (a.format.unwrap_or(Format::Npy), a.tensors, Vec::new(), a.warnings)
    }

    /// The checkpoint, once every name is known to be unique (one pass over borrowed names, at the
    /// end rather than per file, which was quadratic in the number of shards).
    pub(super) fn finish(self) -> Result<Checkpoint> {
        if let Some(i) = crate::model::names::first_duplicate(self.tensors.iter().map(|t| t.name.as_str())) {
            let t = &self.tensors[i];
            let first = self.tensors.iter().position(|x| x.name == t.name).unwrap_or(i);
            let full = self
                .files
                .get(t.file)
                .map(|f| f.full_path.as_path())
                .unwrap_or(&self.path);
            let msg = if self.tensors[first].file == t.file {
                format!("tensor {} appears twice", escape(&t.name))
            } else {
                format!("tensor {} appears in more than one file", escape(&t.name))
            };
            return Err(Error::format(full, msg));
        }
        Ok(Checkpoint {
            path: self.path,
            format: self.format,
            files: self.files,
            metadata: self.metadata,
            tensors: self.tensors,
            components: self.components,
            warnings: self.warnings,
            parts: self.parts,
            hints: self.hints,
            sources: self.sources,
            inflated: self.inflated,
        })
    }
}
