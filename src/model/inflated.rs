//! Storages that are not in their file as they are read: the compressed members of an `.npz`
//! written by `np.savez_compressed`. Each is inflated on first use, once, and kept; until then
//! only its size is known (the header was inflated alone).
//!
//! Such a storage has no byte range of its own in the file: it is addressed by a range past the
//! end of the file (see [`Inflated::storage`]), so that every view, extent and count works on it as
//! on a mapped storage, and [`crate::model::Checkpoint::storage_bytes`] finds it here.

use std::ops::Range;
use std::sync::OnceLock;

/// Inflates `raw` into exactly `size` bytes (the reader checks its limit first); the error is one line.
pub type InflateFn = fn(raw: &[u8], size: u64) -> Result<Vec<u8>, String>;

/// One compressed storage, inflated on first use.
#[derive(Debug)]
pub struct Inflated {
    /// Index into the checkpoint's files.
    pub file: usize,
    /// The range the tensor's `storage` names (past the end of the file).
    pub storage: Range<u64>,
    /// The compressed bytes in the file.
    pub raw: Range<u64>,
    /// Bytes the compressed data inflates to (header included).
    pub size: u64,
    /// Where the storage starts in the inflated bytes (after the `.npy` header).
    pub skip: u64,
    /// What inflates it, and refuses a size over its limit.
    pub inflate: InflateFn,
    /// The member's name, for messages.
    pub label: String,
    data: OnceLock<Result<Vec<u8>, String>>,
}

impl Inflated {
    /// A storage of `size` inflated bytes from compressed bytes `raw`, addressed as `storage`.
    pub fn new(storage: Range<u64>, raw: Range<u64>, size: u64, skip: u64, inflate: InflateFn, label: String) -> Self {
        Inflated {
            file: 0,
            storage,
            raw,
            size,
            skip,
            inflate,
            label,
            data: OnceLock::new(),
        }
    }

    /// The storage's bytes, inflating `file_bytes[raw]` the first time.
    pub fn bytes<'a>(&'a self, file_bytes: &[u8]) -> Result<&'a [u8], String> {
        let data = self.data.get_or_init(|| {
            let (Ok(s), Ok(e)) = (usize::try_from(self.raw.start), usize::try_from(self.raw.end)) else {
                return Err("compressed data does not fit in memory".into());
            };
            let raw = file_bytes.get(s..e).ok_or("compressed data lies outside the file")?;
            let out = (self.inflate)(raw, self.size)?;
            if out.len() as u64 != self.size {
                return Err(format!(
                    "inflates to {} bytes where the zip directory says {}: the archive is damaged",
                    out.len(),
                    self.size
                ));
            }
            Ok(out)
        });
        let data = data
            .as_ref()
            .map_err(|e| format!("{}: {e}", crate::text::escape(&self.label)))?;
        let len = self.storage.end - self.storage.start;
        usize::try_from(self.skip)
            .ok()
            .and_then(|s| data.get(s..s.checked_add(usize::try_from(len).ok()?)?))
            .ok_or_else(|| {
                format!(
                    "{}: storage lies outside the inflated data",
                    crate::text::escape(&self.label)
                )
            })
    }
}
