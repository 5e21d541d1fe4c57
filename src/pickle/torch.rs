//! `torch.save` files (zip and legacy) -> tensors as views into the mapped file.

use std::path::Path;

use crate::checkpoint::{Format, TensorInfo};
use crate::{Error, Result};

/// What a `torch.save` file holds, with tensors as views into `data`.
#[derive(Debug, Default)]
pub struct TorchFile {
    /// [`Format::PytorchZip`] or [`Format::PytorchLegacy`].
    pub format: Option<Format>,
    /// Tensors named by their key path; `file` is 0, storage ranges are offsets into `data`.
    pub tensors: Vec<TensorInfo>,
    /// Non-tensor scalars and strings, by key path.
    pub metadata: Vec<(String, String)>,
    /// Globals that were not rebuilt and anything skipped.
    pub warnings: Vec<String>,
}

/// Read the `torch.save` file mapped in `data` (`path` is only for messages).
pub fn read(path: &Path, data: &[u8]) -> Result<TorchFile> {
    let _ = data;
    Err(Error::Unsupported(format!(
        "{}: pickle checkpoints are not supported yet",
        crate::text::path(path)
    )))
}
