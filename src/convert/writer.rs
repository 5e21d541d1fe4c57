//! A streaming `.safetensors` writer that lays files out exactly as the safetensors crate does.
//!
//! The crate's `serialize` (safetensors 0.8, `tensor.rs::prepare`) sorts tensors by dtype in
//! *descending* order of its `Dtype` enum — which is declared in increasing alignment order, so the
//! widest types come first and every offset stays aligned — and then by name (byte order, which is
//! also Python's code point order). Data offsets are packed back to back with no padding; the JSON
//! header is compact (`{"__metadata__":{…},"name":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},…}`),
//! holds `__metadata__` first, and is padded with spaces to a multiple of 8 bytes. We write the
//! metadata keys sorted (the crate uses a `HashMap`, so its order is arbitrary).
//!
//! Unlike the crate, nothing is built in memory: the header is computed from shapes and dtypes, then
//! each tensor is materialised straight into the file by [`TensorReader::copy_to`].

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;

use crate::checkpoint::TensorInfo;
use crate::tensor::read::{ReadBack, TensorReader};
use crate::text::escape;
use crate::{Error, Result};

/// Largest header the safetensors crate accepts (its `MAX_HEADER_SIZE`).
pub const MAX_HEADER_SIZE: usize = 100_000_000;

/// One tensor to write: its name in the output and the source view holding its elements.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// Name in the output file.
    pub name: String,
    /// Source view.
    pub tensor: &'a TensorInfo,
}

/// Sort entries as the safetensors crate does: dtype descending (widest first), then name.
pub fn sort_entries(entries: &mut [Entry<'_>]) {
    entries.sort_by(|l, r| {
        let (ld, rd) = (l.tensor.dtype.to_safetensors(), r.tensor.dtype.to_safetensors());
        rd.cmp(&ld).then_with(|| l.name.as_bytes().cmp(r.name.as_bytes()))
    });
}

/// The size of the file [`write_file`] writes for `entries` (sorted) and `metadata`.
pub fn file_size(entries: &[Entry<'_>], metadata: &BTreeMap<String, String>) -> Result<u64> {
    let header = header(entries, metadata)?;
    let data: u64 = entries.iter().map(|e| e.tensor.nbytes().unwrap_or(0)).sum();
    Ok(header.len() as u64 + data)
}

/// The first bytes of the file: the header length (u64 little-endian), then the JSON header padded
/// with spaces to a multiple of 8. `entries` must already be sorted with [`sort_entries`].
///
/// The JSON is written straight into the buffer (strings escaped by serde_json, as a `Map` would be
/// serialised), with no intermediate JSON value per tensor; duplicate names are found with a hash
/// set of borrowed names.
pub fn header(entries: &[Entry<'_>], metadata: &BTreeMap<String, String>) -> Result<Vec<u8>> {
    use std::io::Write as _;
    let json_err = |e: serde_json::Error| Error::Usage(format!("header: {e}"));
    let mut text: Vec<u8> = Vec::with_capacity(64 + entries.len() * 96);
    text.push(b'{');
    let mut first = true;
    if !metadata.is_empty() {
        text.extend_from_slice(b"\"__metadata__\":");
        serde_json::to_writer(&mut text, metadata).map_err(json_err)?;
        first = false;
    }
    let mut names = crate::model::names::NameSet::with_capacity_and_hasher(entries.len(), Default::default());
    if !metadata.is_empty() {
        names.insert("__metadata__");
    }
    let mut offset = 0u64;
    for e in entries {
        let Some(dtype) = e.tensor.dtype.to_safetensors() else {
            return Err(Error::Unsupported(format!(
                "tensor {} has dtype {}, which safetensors cannot store",
                escape(&e.name),
                e.tensor.dtype
            )));
        };
        let n = e
            .tensor
            .nbytes()
            .ok_or_else(|| Error::Unsupported(format!("tensor {}: size overflows", escape(&e.name))))?;
        let end = offset
            .checked_add(n)
            .ok_or_else(|| Error::Unsupported("the tensors' total size overflows".into()))?;
        if !names.insert(e.name.as_str()) {
            return Err(Error::Usage(format!("tensor name {} written twice", escape(&e.name))));
        }
        if !first {
            text.push(b',');
        }
        first = false;
        serde_json::to_writer(&mut text, e.name.as_str()).map_err(json_err)?;
        text.extend_from_slice(b":{\"dtype\":");
        serde_json::to_writer(&mut text, &dtype).map_err(json_err)?;
        text.extend_from_slice(b",\"shape\":[");
        for (i, d) in e.tensor.shape.iter().enumerate() {
            if i > 0 {
                text.push(b',');
            }
            write!(text, "{d}").map_err(|e| Error::Usage(format!("header: {e}")))?;
        }
        write!(text, "],\"data_offsets\":[{offset},{end}]}}").map_err(|e| Error::Usage(format!("header: {e}")))?;
        offset = end;
        if text.len() > MAX_HEADER_SIZE {
            break;
        }
    }
    text.push(b'}');
    text.resize(text.len().next_multiple_of(8), b' ');
    if text.len() > MAX_HEADER_SIZE {
        return Err(Error::Unsupported(format!(
            "the header would be {} bytes, over the {MAX_HEADER_SIZE}-byte limit readers accept: use a smaller --max-shard-size",
            text.len()
        )));
    }
    let mut out = Vec::with_capacity(8 + text.len());
    out.extend_from_slice(&(text.len() as u64).to_le_bytes());
    out.extend_from_slice(&text);
    Ok(out)
}

/// A safetensors file being written: created at its final size with its header, then filled
/// tensor by tensor in header order.
#[derive(Debug)]
pub struct FileWriter {
    path: std::path::PathBuf,
    file: File,
    written: u64,
    size: u64,
}

impl FileWriter {
    /// Create `path` (which must not exist), size it to the final length — so a reader can open it
    /// as soon as this returns — and write the header for `entries` (sorted) and `metadata`.
    pub fn create(path: &Path, entries: &[Entry<'_>], metadata: &BTreeMap<String, String>) -> Result<FileWriter> {
        let head = header(entries, metadata)?;
        let data: u64 = entries.iter().map(|e| e.tensor.nbytes().unwrap_or(0)).sum();
        let size = head.len() as u64 + data;
        let mut file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        file.set_len(size).map_err(|e| Error::io(path, e))?;
        file.write_all(&head).map_err(|e| Error::io(path, e))?;
        Ok(FileWriter {
            path: path.to_path_buf(),
            file,
            written: head.len() as u64,
            size,
        })
    }

    /// Write the next entry's materialised bytes (entries in the order given to [`Self::create`]);
    /// `progress` is told how many of its elements are written, chunk after chunk.
    pub fn write(
        &mut self,
        reader: &TensorReader<'_>,
        e: &Entry<'_>,
        buf: &mut Vec<u8>,
        check: Option<&mut ReadBack<'_>>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<()> {
        let want = e.tensor.nbytes().unwrap_or(0);
        let got = reader.copy_to(e.tensor, (&mut self.file, &self.path), buf, check, progress)?;
        if got != want {
            return Err(Error::format(
                reader.checkpoint().file_path(e.tensor.file),
                format!("tensor {}: wrote {got} bytes, expected {want}", escape(&e.name)),
            ));
        }
        self.written += got;
        Ok(())
    }

    /// Bytes written so far (header included).
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Another handle on the file, to flush what is written so far from another thread.
    pub fn handle(&self) -> Result<File> {
        self.file.try_clone().map_err(|e| Error::io(&self.path, e))
    }

    /// Check everything was written; returns the size and the file, which the caller must flush
    /// (`sync_all`) before publishing it.
    pub fn finish(self) -> Result<(u64, File)> {
        if self.written != self.size {
            return Err(Error::format(
                &self.path,
                format!("wrote {} of {} bytes", self.written, self.size),
            ));
        }
        Ok((self.size, self.file))
    }
}

/// Write `entries` (sorted) and `metadata` as a new safetensors file at `path` in one go (see
/// [`FileWriter`]); returns the size and the file, not yet flushed to disk.
pub fn write_file(
    path: &Path,
    reader: &TensorReader<'_>,
    entries: &[Entry<'_>],
    metadata: &BTreeMap<String, String>,
) -> Result<(u64, File)> {
    let mut w = FileWriter::create(path, entries, metadata)?;
    let mut buf = Vec::new();
    for e in entries {
        w.write(reader, e, &mut buf, None, &mut |_| {})?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::DType;

    fn t(name: &str, dtype: DType, shape: &[u64]) -> TensorInfo {
        let n = dtype.bytes_for(shape.iter().product()).unwrap();
        TensorInfo::contiguous(name.into(), dtype, shape.to_vec(), 0, 0..n).unwrap()
    }

    #[test]
    fn header_matches_the_crate_byte_for_byte() {
        let ts = [
            t("b", DType::F16, &[3]),
            t("a", DType::F32, &[2, 2]),
            t("c", DType::I64, &[1]),
            t("z", DType::BOOL, &[5]),
            t("y", DType::F32, &[]),
        ];
        let mut entries: Vec<Entry> = ts
            .iter()
            .map(|t| Entry {
                name: t.name.clone(),
                tensor: t,
            })
            .collect();
        sort_entries(&mut entries);
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["c", "a", "y", "b", "z"]);
        let meta = BTreeMap::from([("format".to_string(), "pt".to_string())]);
        let ours = header(&entries, &meta).unwrap();

        // the crate's own serialization of the same tensors
        let data: Vec<(String, safetensors::tensor::TensorView)> = ts
            .iter()
            .map(|t| {
                let bytes: &'static [u8] = vec![0u8; t.nbytes().unwrap() as usize].leak();
                let shape: Vec<usize> = t.shape.iter().map(|&d| d as usize).collect();
                let view = safetensors::tensor::TensorView::new(t.dtype.to_safetensors().unwrap(), shape, bytes);
                (t.name.clone(), view.unwrap())
            })
            .collect();
        let theirs = safetensors::serialize(data, Some(meta.clone().into_iter().collect())).unwrap();
        assert_eq!(ours[..], theirs[..ours.len()]);
        assert_eq!(ours.len() % 8, 0);
        assert_eq!(file_size(&entries, &meta).unwrap(), theirs.len() as u64);
    }
}
