//! The GPU device: the same loads as [`super::cpu`], then every view uploaded into wgpu buffers,
//! timed until the GPU reports the copies finished.
//!
//! What a run on `--gpu` does is what a loader onto an accelerator does: `safetensors-mmap` uploads
//! straight out of the file's map (what `safetensors.load_file(device="cuda")` does), `pickle-eager`
//! first copies every storage into host memory and uploads from there (`torch.load` then `.cuda()`),
//! `pickle-mmap` uploads out of the mapped archive (`torch.load(mmap=True)` then `.cuda()`).
//!
//! Upload paths ([`Upload`]): by default a ring of reused, mapped staging buffers, filled by
//! the CPU while the GPU copies the previous one (see `gpu/ring.rs`). The other path, kept
//! selectable so reports can show both: `Queue::write_buffer` calls of at most [`UPLOAD_BATCH`] bytes (wgpu copies the
//! bytes into a staging buffer of that size and the GPU copies them into the destination when the
//! queue is submitted), submitted every batch with at most two batches in flight, so host staging
//! memory stays near two batches whatever the sizes of the tensors. What is uploaded is each
//! region of the load: a tensor for safetensors, a storage for pickles (tied weights share one
//! storage and move once, as `torch.load(map_location="cuda")` moves them). Destination buffers are created on the first run of a
//! case and reused by the next ones, as a caching allocator does; each tensor starts on a
//! [`PLACE_ALIGN`] boundary and tensors larger than one buffer ([`MAX_CHUNK`] or the adapter's
//! limit) span several. After the timed runs [`Uploader::readback_checksum`] copies everything
//! back and sums each tensor the way touched CPU rows do, so a report can prove the GPU holds the
//! same bytes.

#[cfg(not(feature = "gpu"))]
use super::loading::Sink;
use crate::report;
use crate::{Error, Result};

/// Bytes queued before the batch is submitted (at most two batches are in flight).
pub const UPLOAD_BATCH: u64 = 64 << 20;
/// Largest destination buffer created (the adapter's `max_buffer_size` may be lower).
pub const MAX_CHUNK: u64 = 1 << 30;
/// Most bytes uploaded by each run of the upload ceiling (`Uploader::ceiling`).
pub const CEILING_BYTES: u64 = 512 << 20;
/// Alignment of each tensor inside a buffer.
pub const PLACE_ALIGN: u64 = 256;
/// Longest wait for the GPU to finish one batch before the run fails as hung.
pub const GPU_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// How bytes reach the GPU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Upload {
    /// A reused ring of mapped staging buffers, pipelined (the default).
    #[default]
    Ring,
    /// `Queue::write_buffer` (wgpu allocates staging memory per call).
    WriteBuffer,
}

impl Upload {
    /// `ring` or `write-buffer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Upload::Ring => "ring",
            Upload::WriteBuffer => "write-buffer",
        }
    }

    /// Parse `ring` or `write-buffer`.
    pub fn parse(s: &str) -> Option<Upload> {
        [Upload::Ring, Upload::WriteBuffer]
            .into_iter()
            .find(|u| u.as_str() == s)
    }
}

/// Where one view (or a piece of a view larger than a buffer) went: buffer index, offset, bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Index of the destination buffer.
    pub buffer: usize,
    /// Byte offset inside it (a multiple of [`PLACE_ALIGN`]).
    pub offset: u64,
    /// Bytes of the view placed there.
    pub len: u64,
}

/// Lay `lens` out in buffers of `chunk` bytes (a multiple of [`PLACE_ALIGN`]): each view starts
/// aligned, moves to a fresh buffer when it does not fit the rest of the current one, and is split
/// only when it is larger than a whole buffer. Returns the pieces and each buffer's extent (rounded
/// up to 4 bytes, the copy alignment).
pub fn place(lens: &[u64], chunk: u64) -> (Vec<Placement>, Vec<u64>) {
    debug_assert!(chunk >= PLACE_ALIGN && chunk.is_multiple_of(PLACE_ALIGN));
    let mut out = Vec::with_capacity(lens.len());
    let mut extents = vec![0u64];
    let (mut buffer, mut at) = (0usize, 0u64);
    for &len in lens.iter().filter(|&&l| l > 0) {
        if len > chunk - at && len <= chunk && at > 0 {
            (buffer, at) = (buffer + 1, 0);
            extents.push(0);
        }
        let mut rest = len;
        while rest > 0 {
            if at >= chunk {
                (buffer, at) = (buffer + 1, 0);
                extents.push(0);
            }
            let n = rest.min(chunk - at);
            out.push(Placement {
                buffer,
                offset: at,
                len: n,
            });
            extents[buffer] = (at + n).next_multiple_of(4);
            at = (at + n).next_multiple_of(PLACE_ALIGN);
            rest -= n;
        }
    }
    if extents.last() == Some(&0) {
        extents.pop();
    }
    (out, extents)
}

/// Most threads filling one slot.
const MAX_FILL_THREADS: usize = 8;

/// Threads that fill the staging slots: half the cores (the other half are left to the driver,
/// which on a software adapter such as lavapipe does the GPU's copies on CPU threads), at least 1,
/// at most `MAX_FILL_THREADS` (8). On a 2-core machine one thread fills.
pub fn fill_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores / 2).clamp(1, MAX_FILL_THREADS)
}

/// A wgpu failure as the one-line error every GPU row reports (`GPU: what: why`).
#[cfg(feature = "gpu")]
fn gpu_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Unsupported(format!("GPU: {what}: {}", e.to_string().replace('\n', " ")))
}

#[cfg(feature = "gpu")]
mod imp;
#[cfg(feature = "gpu")]
mod ring;
#[cfg(feature = "gpu")]
mod stamps;
#[cfg(feature = "gpu")]
mod submit;
#[cfg(feature = "gpu")]
mod tuning;

#[cfg(feature = "gpu")]
pub use imp::{Uploader, adapters};

/// The adapters a GPU benchmark can use, or why there are none (one line a user can act on).
pub fn probe() -> Result<Vec<report::Gpu>> {
    if !cfg!(feature = "gpu") {
        return Err(Error::Unsupported(
            "this tensorscope was built without the `gpu` feature: no GPU loads".into(),
        ));
    }
    #[cfg(feature = "gpu")]
    tuning::Tuning::from_env()?;
    let found = adapters();
    if found.is_empty() {
        return Err(Error::Unsupported(
            "no GPU adapter: wgpu found no Vulkan, Metal, DX12 or GL device; on Linux install a Vulkan \
             driver (Debian: mesa-vulkan-drivers gives the software one, lavapipe)"
                .into(),
        ));
    }
    Ok(found)
}

/// Without the `gpu` feature there is no GPU to upload to.
#[cfg(not(feature = "gpu"))]
pub struct Uploader(std::convert::Infallible);

#[cfg(not(feature = "gpu"))]
impl Uploader {
    /// Always an error: this build has no GPU backend.
    pub fn open(_upload: Upload) -> Result<Uploader> {
        Err(Error::Unsupported(
            "this tensorscope was built without the `gpu` feature: no GPU loads".into(),
        ))
    }

    /// The adapter in use (never reached).
    pub fn adapter(&self) -> &report::Gpu {
        match self.0 {}
    }

    /// Never reached.
    pub fn readback_checksum(&self) -> Result<u64> {
        match self.0 {}
    }

    /// Never reached.
    pub fn split(&self) -> Result<Option<report::GpuSplit>> {
        match self.0 {}
    }

    /// Never reached.
    pub fn ceiling(&mut self, _bytes: u64, _runs: u32) -> Result<Vec<f64>> {
        match self.0 {}
    }
}

#[cfg(not(feature = "gpu"))]
impl Sink for Uploader {
    fn take(&mut self, _regions: &[&[u8]], _views: Option<&super::loading::ViewMap>) -> Result<()> {
        match self.0 {}
    }
}

/// Without the `gpu` feature: no adapters.
#[cfg(not(feature = "gpu"))]
pub fn adapters() -> Vec<report::Gpu> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_aligns_moves_and_splits() {
        let (p, ext) = place(&[10, 0, 300, 1000, 5000], 1024);
        let got: Vec<(usize, u64, u64)> = p.iter().map(|x| (x.buffer, x.offset, x.len)).collect();
        assert_eq!(
            got,
            [
                (0, 0, 10),
                (0, 256, 300),
                // 1000 does not fit the 256 bytes left: a fresh buffer
                (1, 0, 1000),
                // 5000 > one buffer: split, filling from a fresh buffer
                (2, 0, 1024),
                (3, 0, 1024),
                (4, 0, 1024),
                (5, 0, 1024),
                (6, 0, 904),
            ]
        );
        assert_eq!(ext, [556, 1000, 1024, 1024, 1024, 1024, 904]);
        let total: u64 = p.iter().map(|x| x.len).sum();
        assert_eq!(total, 10 + 300 + 1000 + 5000);
        assert!(
            p.iter()
                .all(|x| x.offset % PLACE_ALIGN == 0 && x.offset + x.len <= 1024)
        );
    }

    #[test]
    fn placement_of_nothing() {
        assert_eq!(place(&[], 256), (vec![], vec![]));
        assert_eq!(place(&[0, 0], 256), (vec![], vec![]));
        let (p, ext) = place(&[3], 256);
        assert_eq!(p.len(), 1);
        assert_eq!(ext, [4], "rounded up to the copy alignment");
    }
}
