//! The data model, the ground floor of the core: a [`Checkpoint`] with its files, tensors (name,
//! dtype, shape, where the bytes are) and metadata. Every format reader builds these types; this module
//! imports no reader, no scanner and no front end.

pub mod buffers;
pub mod count;
pub mod dtype;
mod ggml;
pub mod inflated;
pub mod names;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

pub use dtype::DType;

use crate::source::Source;
use crate::{Error, Result};

/// Most tensors accepted in one file, by every reader.
pub const MAX_TENSORS: usize = 5_000_000;
/// Most dimensions of one tensor, by every reader.
pub const MAX_DIMS: usize = 64;

/// The container format of a checkpoint or of one of its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// One `.safetensors` file.
    Safetensors,
    /// Shards listed by a `*.safetensors.index.json`.
    SafetensorsSharded,
    /// A diffusers pipeline folder (`model_index.json`).
    Diffusers,
    /// A plain folder of checkpoint files (also a Hugging Face cache snapshot).
    Folder,
    /// A `torch.save` zip archive (torch >= 1.6).
    PytorchZip,
    /// A legacy `torch.save` file (stacked pickles, torch < 1.6).
    PytorchLegacy,
    /// Pickle shards listed by a `pytorch_model.bin.index.json`.
    PytorchSharded,
    /// One GGUF file (llama.cpp).
    Gguf,
    /// A gguf-split set (`name-00001-of-00003.gguf`, …) opened as one checkpoint.
    GgufSharded,
    /// One numpy `.npy` array.
    Npy,
    /// A numpy `.npz` archive (`np.savez`, `np.savez_compressed`).
    Npz,
}

impl Format {
    /// The JSON spelling (`safetensors-sharded`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Safetensors => "safetensors",
            Format::SafetensorsSharded => "safetensors-sharded",
            Format::Diffusers => "diffusers",
            Format::Folder => "folder",
            Format::PytorchZip => "pytorch-zip",
            Format::PytorchLegacy => "pytorch-legacy",
            Format::PytorchSharded => "pytorch-sharded",
            Format::Gguf => "gguf",
            Format::GgufSharded => "gguf-sharded",
            Format::Npy => "npy",
            Format::Npz => "npz",
        }
    }

    /// Whether tensors in this format come from a pickle.
    pub fn is_pickle(self) -> bool {
        matches!(
            self,
            Format::PytorchZip | Format::PytorchLegacy | Format::PytorchSharded
        )
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One file of a checkpoint.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    /// Path relative to the checkpoint root (the file name for a single file).
    pub path: PathBuf,
    /// Format of this file.
    pub format: Format,
    /// Size in bytes.
    pub bytes: u64,
    /// Absolute (or as-given) path used to open it.
    #[serde(skip)]
    pub full_path: PathBuf,
}

/// A component of a diffusers pipeline (`unet`, `vae`, `tokenizer`, …).
#[derive(Debug, Clone, Serialize)]
pub struct Component {
    /// Folder name, also the tensor name prefix.
    pub name: String,
    /// `library.Class` from `model_index.json`, when given.
    pub class: String,
    /// Number of tensors it holds; 0 for tokenizers and schedulers.
    pub tensors: usize,
}

/// Where a tensor's elements are: a storage (a byte range of one file) and a strided view into it.
///
/// For safetensors the storage is exactly the tensor's data and the view is contiguous; pickle
/// tensors may be slices, transposes or several views over one storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// Full name (`unet/conv_in.weight`, `state_dict.encoder.weight`).
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Shape; empty for a 0-d tensor.
    pub shape: Vec<u64>,
    /// Index into [`Checkpoint::files`].
    pub file: usize,
    /// Absolute byte range of the storage within the file.
    pub storage: Range<u64>,
    /// Offset of the first element, in elements from the start of the storage.
    pub offset: u64,
    /// Stride of each dimension, in elements.
    pub strides: Vec<u64>,
}

/// Row-major strides for `shape`, `None` on overflow. A shape with a zero holds no element, so
/// its strides address nothing and saturate instead (safetensors accepts `[0, 2^62, 2^62]`).
pub fn contiguous_strides(shape: &[u64]) -> Option<Vec<u64>> {
    let empty = shape.contains(&0);
    let mut strides = vec![0u64; shape.len()];
    let mut acc: u64 = 1;
    for (i, &d) in shape.iter().enumerate().rev() {
        strides[i] = acc;
        acc = if empty {
            acc.saturating_mul(d.max(1))
        } else {
            acc.checked_mul(d.max(1))?
        };
    }
    Some(strides)
}

/// The identity of a view: file, storage range, offset, shape, strides and dtype. Two tensors with the
/// same key are the same tensor (tied weights); borrowed, so nothing is copied per tensor.
pub type ViewKey<'a> = (usize, u64, u64, u64, &'a [u64], &'a [u64], DType);

impl TensorInfo {
    /// This tensor's [`ViewKey`].
    pub fn view_key(&self) -> ViewKey<'_> {
        (
            self.file,
            self.storage.start,
            self.storage.end,
            self.offset,
            &self.shape,
            &self.strides,
            self.dtype,
        )
    }

    /// A contiguous tensor whose bytes are exactly `range` of file `file`.
    pub fn contiguous(name: String, dtype: DType, shape: Vec<u64>, file: usize, range: Range<u64>) -> Option<Self> {
        let strides = contiguous_strides(&shape)?;
        Some(TensorInfo {
            name,
            dtype,
            shape,
            file,
            storage: range,
            offset: 0,
            strides,
        })
    }

    /// Number of elements, `None` on overflow.
    pub fn numel(&self) -> Option<u64> {
        self.shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d))
    }

    /// Bytes of the materialised (contiguous) tensor, `None` on overflow.
    pub fn nbytes(&self) -> Option<u64> {
        self.dtype.bytes_for(self.numel()?)
    }

    /// Whether the view is row-major contiguous (size-1 dimensions may have any stride).
    pub fn is_contiguous(&self) -> bool {
        let mut expect: u64 = 1;
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d == 0 {
                return true;
            }
            if d != 1 && s != expect {
                return false;
            }
            expect = match expect.checked_mul(d) {
                Some(e) => e,
                None => return false,
            };
        }
        true
    }

    /// The file byte range of the data when the view is contiguous and byte-addressable.
    pub fn contiguous_range(&self) -> Option<Range<u64>> {
        if !self.is_contiguous() {
            return None;
        }
        let bits = u64::from(self.dtype.bits());
        let start_bits = self.offset.checked_mul(bits)?;
        if start_bits % 8 != 0 {
            return None;
        }
        let start = self.storage.start.checked_add(start_bits / 8)?;
        let end = start.checked_add(self.nbytes()?)?;
        (end <= self.storage.end).then_some(start..end)
    }

    /// Number of elements of the storage the view may reach (`offset + Σ (dᵢ-1)·sᵢ + 1`), 0 for an
    /// empty tensor; `None` on overflow.
    pub fn extent(&self) -> Option<u64> {
        if self.shape.contains(&0) {
            return Some(0);
        }
        let mut last = self.offset;
        for (&d, &s) in self.shape.iter().zip(&self.strides) {
            last = last.checked_add((d - 1).checked_mul(s)?)?;
        }
        last.checked_add(1)
    }

    /// Check that the view stays inside its storage; the message names the tensor.
    pub fn check_extent(&self) -> std::result::Result<(), String> {
        if self.shape.len() != self.strides.len() {
            return Err(format!(
                "tensor {}: {} strides for {} dimensions",
                crate::text::escape(&self.name),
                self.strides.len(),
                self.shape.len()
            ));
        }
        let reach = self.extent().and_then(|e| self.dtype.bytes_for(e));
        let size = self.storage.end.saturating_sub(self.storage.start);
        match reach {
            Some(r) if r <= size => Ok(()),
            Some(r) => Err(format!(
                "tensor {} needs {r} bytes of its storage but the storage holds {size}",
                crate::text::escape(&self.name)
            )),
            None => Err(format!(
                "tensor {}: shape and strides overflow",
                crate::text::escape(&self.name)
            )),
        }
    }
}

/// An opened checkpoint: files, tensors and metadata, with the files mapped.
#[derive(Debug)]
pub struct Checkpoint {
    /// The path that was opened.
    pub path: PathBuf,
    /// Overall format.
    pub format: Format,
    /// Every file, in the order they were read.
    pub files: Vec<FileEntry>,
    /// `__metadata__` of safetensors files; non-tensor values of pickles.
    pub metadata: Vec<(String, String)>,
    /// Every tensor, in file order.
    pub tensors: Vec<TensorInfo>,
    /// Components of a diffusers pipeline (empty otherwise).
    pub components: Vec<Component>,
    /// Things the reader did not rebuild or skipped (pickle globals outside the allowlist, …).
    pub warnings: Vec<String>,
    /// Listed tensors that are parts of a tensor the reader did not rebuild (a sparse tensor's
    /// indices and values): `(tensor name, what it is part of)`, such as `("emb.1.0", "sparse_coo
    /// tensor emb")`. They are not tensors of the model: `convert` refuses them.
    pub parts: Vec<(String, String)>,
    /// What is known beside the tensors for counting them: the quantization `config.json` names,
    /// the totals an index declares.
    pub hints: count::Hints,
    pub(crate) sources: Vec<Arc<Source>>,
    /// Compressed storages (`.npz` members), sorted by file and storage, inflated on first use.
    pub(crate) inflated: Vec<inflated::Inflated>,
}

impl Checkpoint {
    /// What the tensor called `name` is part of, when it is part of a tensor not rebuilt (see
    /// [`Checkpoint::parts`]).
    pub fn part_of(&self, name: &str) -> Option<&str> {
        self.parts.iter().find(|(n, _)| n == name).map(|(_, w)| w.as_str())
    }

    /// The tensor called `name`.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The whole mapped content of file `file`.
    pub fn file_bytes(&self, file: usize) -> &[u8] {
        self.sources.get(file).map(|s| s.bytes()).unwrap_or(&[])
    }

    /// The bytes of a tensor's storage (zero copy). For a remote checkpoint the storage is fetched
    /// first (see [`Checkpoint::mapped_storage_bytes`] to fetch only part of it).
    ///
    /// A remote storage larger than [`crate::source::MAX_ON_DEMAND`] is not fetched here (an
    /// error says so): opening a tensor in the UI must not start a multi-gigabyte download.
    pub fn storage_bytes(&self, t: &TensorInfo) -> Result<&[u8]> {
        if let Some(z) = self.inflated_storage(t) {
            self.fetch(t.file, std::slice::from_ref(&z.raw))?;
            return self.mapped_storage_bytes(t);
        }
        if let Some(f) = self.sources.get(t.file).and_then(|s| s.sparse()) {
            let len = t.storage.end.saturating_sub(t.storage.start);
            let missing = !f.has(t.storage.clone());
            if missing && len > crate::source::MAX_ON_DEMAND {
                return Err(Error::Limit {
                    path: PathBuf::from(f.label()),
                    what: "bytes of a remote tensor fetched on demand",
                    value: len,
                    limit: crate::source::MAX_ON_DEMAND,
                    hint: ": `tensorscope show` fetches only the values it prints; download the file for the rest \
                           (a fixed limit)",
                });
            }
            f.fetch(std::slice::from_ref(&t.storage))?;
        }
        self.mapped_storage_bytes(t)
    }

    /// The bytes of a tensor's storage as they are mapped, without fetching anything: for a remote
    /// checkpoint, parts not fetched with [`Checkpoint::fetch`] read as zeros.
    pub fn mapped_storage_bytes(&self, t: &TensorInfo) -> Result<&[u8]> {
        let data = self.file_bytes(t.file);
        let path = self.files.get(t.file).map(|f| f.full_path.clone()).unwrap_or_default();
        if let Some(z) = self.inflated_storage(t) {
            return z.bytes(data).map_err(|m| Error::format(path, m));
        }
        let (Ok(s), Ok(e)) = (usize::try_from(t.storage.start), usize::try_from(t.storage.end)) else {
            return Err(Error::format(path, "storage range does not fit in memory"));
        };
        data.get(s..e).ok_or_else(|| {
            Error::format(
                path,
                format!(
                    "storage of {} ({s}..{e}) lies outside the file ({} bytes)",
                    crate::text::escape(&t.name),
                    data.len()
                ),
            )
        })
    }

    /// Whether `t` views a compressed storage (a deflated `.npz` member), which is not in its file as
    /// it is: its bytes come from [`Checkpoint::storage_bytes`], never from reading the file.
    pub fn is_inflated(&self, t: &TensorInfo) -> bool {
        self.inflated_storage(t).is_some()
    }

    /// The compressed storage `t` views, when it views one.
    fn inflated_storage(&self, t: &TensorInfo) -> Option<&inflated::Inflated> {
        let key = (t.file, t.storage.start);
        let i = self.inflated.partition_point(|z| (z.file, z.storage.start) < key);
        self.inflated
            .get(i)
            .filter(|z| z.file == t.file && z.storage == t.storage)
    }

    /// The bytes of a contiguous tensor (zero copy); `None` for a strided view.
    pub fn contiguous_bytes(&self, t: &TensorInfo) -> Result<Option<&[u8]>> {
        let Some(r) = t.contiguous_range() else { return Ok(None) };
        let storage = self.storage_bytes(t)?;
        let (s, e) = ((r.start - t.storage.start) as usize, (r.end - t.storage.start) as usize);
        Ok(storage.get(s..e))
    }

    /// Fetch byte `ranges` of file `file` when it is remote (a no-op for local files).
    pub fn fetch(&self, file: usize, ranges: &[Range<u64>]) -> Result<()> {
        match self.sources.get(file) {
            Some(s) => s.fetch(ranges),
            None => Ok(()),
        }
    }

    /// Fetch the storage of every tensor of a remote checkpoint (a no-op for local files): for
    /// code that reads the files themselves rather than through [`Checkpoint::storage_bytes`].
    pub fn fetch_all(&self) -> Result<()> {
        for (i, src) in self.sources.iter().enumerate() {
            if src.sparse().is_some() {
                let ranges: Vec<Range<u64>> = self
                    .tensors
                    .iter()
                    .filter(|t| t.file == i)
                    .map(|t| t.storage.clone())
                    .collect();
                src.fetch(&ranges)?;
            }
        }
        Ok(())
    }

    /// Whether the checkpoint was read from a remote repository or URL (its files are sparse copies;
    /// `Env::mirror_of` in the `remote` room gives the repository).
    pub fn is_remote(&self) -> bool {
        self.sources.iter().any(|s| s.sparse().is_some())
    }

    /// What fills the holes of each sparse (remote) file, for the floor that fetches.
    pub(crate) fn sparse_files(&self) -> impl Iterator<Item = &std::sync::Arc<dyn crate::source::Sparse>> {
        self.sources.iter().filter_map(|s| s.sparse())
    }

    /// Parameters as the model defines them: each storage once, packed weights unpacked,
    /// quantization scales and zeros not counted (see [`count`]).
    pub fn total_params(&self) -> u64 {
        self.counting().params
    }

    /// The full count: parameters, stored elements, unique bytes and what each tensor counts for.
    pub fn counting(&self) -> count::Counting {
        count::Counting::of(&self.tensors, &self.hints)
    }

    /// Sum of the materialised bytes of every tensor as listed (a tied tensor again; see
    /// [`count::Counting::unique_bytes`] for the bytes on disk).
    pub fn total_bytes(&self) -> u64 {
        self.tensors
            .iter()
            .map(|t| t.nbytes().unwrap_or(0))
            .fold(0, u64::saturating_add)
    }

    /// Call after reading mapped data: an error when a file shrank while it was mapped (its missing
    /// pages read as zeros, so whatever was computed from them is wrong).
    pub fn check_intact(&self) -> Result<()> {
        match self.sources.iter().position(|s| s.damaged()) {
            None => Ok(()),
            Some(i) => Err(Error::format(
                self.file_path(i),
                "the file was truncated while it was being read (another process changed it): results discarded",
            )),
        }
    }

    /// Full path of file `file` as opened.
    pub fn file_path(&self, file: usize) -> &Path {
        self.files
            .get(file)
            .map(|f| f.full_path.as_path())
            .unwrap_or(Path::new(""))
    }
}
