//! What every load method stands on: owned memory ([`Arena`]), one load's description ([`Load`]) and
//! result ([`Loaded`]), where its data goes ([`Sink`]), and the views a load hands out. The methods
//! themselves live above: [`super::cpu`] (and its pickle half) and [`super::strategies`]; the touch,
//! reading every byte, below in [`super::touch`].

use std::path::{Path, PathBuf};

use super::Method;
use super::touch::touch;
use crate::checkpoint::safetensors::parse_header;
use crate::checkpoint::{self, TensorInfo};
use crate::{Error, Result};

/// Alignment of each copy inside the arena.
pub(super) const ARENA_ALIGN: usize = 64;

/// Owned memory for the methods that copy: reused and pre-faulted (the default), or fresh. It also
/// holds the checkpoint a mapped load read from until [`Arena::release`], so that the unmap, like
/// the release of fresh memory, happens between runs and not inside the timing (a peer's state
/// dict is likewise freed after its clock stops in `benches/peers/compare.py`).
#[derive(Default)]
pub struct Arena {
    map: Option<memmap2::MmapMut>,
    fresh: bool,
    held: Option<checkpoint::Checkpoint>,
}

impl Arena {
    /// An empty arena; the first [`Arena::take`] maps and pre-faults it, later runs reuse it.
    pub fn new() -> Self {
        Arena::default()
    }

    /// An arena of fresh memory: every load gets new, untouched pages (faulted and zeroed by the
    /// kernel as the load first writes them, as `malloc`ed memory is), released by
    /// [`Arena::release`] between runs. The mapping is advised `MADV_HUGEPAGE`, as a one-shot
    /// loader can do: where transparent huge pages are enabled, pages fault 2 MiB at a time.
    pub fn fresh() -> Self {
        Arena {
            fresh: true,
            ..Arena::default()
        }
    }

    /// Whether the arena hands out fresh memory.
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// Between runs (untimed): a fresh arena unmaps its memory so the next load gets new pages, and
    /// the checkpoint a mapped load holds is closed (its maps unmapped).
    pub fn release(&mut self) {
        if self.fresh {
            self.map = None;
        }
        self.held = None;
    }

    /// Keep `ck` (a mapped load's checkpoint, its maps still mapped) until [`Arena::release`]; a
    /// checkpoint held from an earlier load is closed now.
    pub fn hold(&mut self, ck: checkpoint::Checkpoint) {
        self.held = Some(ck);
    }

    /// At least `n` bytes of mapped memory (contents unspecified): already faulted unless fresh.
    /// Within one load (until [`Arena::release`]) the same memory is handed out again.
    pub fn take(&mut self, n: usize) -> Result<&mut [u8]> {
        if self.map.as_ref().is_none_or(|m| m.len() < n) {
            self.map = None;
            let len = n.max(1).next_multiple_of(2 << 20);
            let mut opts = memmap2::MmapOptions::new();
            opts.len(len);
            if !self.fresh {
                opts.populate();
            }
            let map = opts.map_anon().map_err(|e| Error::io("<anonymous memory>", e))?;
            if self.fresh {
                // what a one-shot loader can ask for: huge pages fault (and zero) 2 MiB at a time
                advise_huge(&map);
            }
            self.map = Some(map);
        }
        let map = self.map.as_mut().expect("mapped above");
        Ok(&mut map[..n])
    }
}

/// Ask for transparent huge pages on `map` (advice only; kernels without THP ignore it).
pub fn advise_huge(map: &memmap2::MmapMut) {
    #[cfg(target_os = "linux")]
    let _ = map.advise(memmap2::Advice::HugePage);
    #[cfg(not(target_os = "linux"))]
    let _ = map;
}

/// One load: which files, which method, touched or not, which rank.
#[derive(Debug, Clone)]
pub struct Load<'a> {
    /// The checkpoint as given (a file or folder).
    pub root: &'a Path,
    /// Its weight files (safetensors or pickle, per the method).
    pub files: &'a [PathBuf],
    /// The method.
    pub method: Method,
    /// Read every byte after loading.
    pub touched: bool,
    /// Threads that read them ([`super::touch::touch`]; 1: one after another on this thread).
    pub touch_threads: usize,
    /// `(k, n)`: rank k of n for the slice methods.
    pub rank: Option<(u32, u32)>,
}

/// What one load produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loaded {
    /// Bytes made available (for slices: bytes this rank read from the checkpoint).
    pub bytes: u64,
    /// Sum of the data when touched.
    pub checksum: Option<u64>,
    /// Something the report must say about this load (a fallback taken).
    pub note: Option<&'static str>,
}

/// Each tensor as a byte range of one region: `(region index, range inside the region)`.
pub type ViewMap = [(usize, std::ops::Range<usize>)];

/// Where a load's data goes once it is ready: on the CPU nowhere (the views are the load); the GPU
/// device copies it into its buffers ([`super::gpu`]). A sink sees one load in one call, before the
/// load is checked for a file truncated under it.
pub trait Sink {
    /// Take the distinct memory regions of one load and, when tensors are views into them (pickle
    /// storages shared by tied weights or slices), where each tensor lies; `None` when every region
    /// is one tensor.
    fn take(&mut self, regions: &[&[u8]], views: Option<&ViewMap>) -> Result<()>;
}

/// The CPU: loading is done when the views exist.
pub struct Host;

impl Sink for Host {
    fn take(&mut self, _regions: &[&[u8]], _views: Option<&ViewMap>) -> Result<()> {
        Ok(())
    }
}

/// The byte range of every tensor of one file read into memory: a safetensors header, or a GGUF
/// header (GGUF files take the same read, pread and O_DIRECT paths; their tensors are contiguous).
pub(super) fn tensor_ranges(f: &Path, data: &[u8]) -> Result<Vec<std::ops::Range<usize>>> {
    let ranges: Vec<(u64, u64)> = if crate::formats::gguf::is_gguf(data) {
        let g = crate::formats::gguf::parse(f, data)?;
        g.tensors.iter().map(|t| (t.storage.start, t.storage.end)).collect()
    } else {
        let h = parse_header(f, data)?;
        h.tensors
            .iter()
            .map(|t| (h.data_start + t.data.start, h.data_start + t.data.end))
            .collect()
    };
    // both parsers checked every range against `data`
    Ok(ranges.into_iter().map(|(s, e)| s as usize..e as usize).collect())
}

/// Hand the views (each its own region) to the sink, then read them when the load is touched (on
/// `l.touch_threads` threads).
pub(super) fn finish(l: &Load<'_>, sink: &mut dyn Sink, bytes: u64, views: &[&[u8]]) -> Result<Loaded> {
    sink.take(views, None)?;
    Ok(Loaded {
        bytes,
        checksum: l.touched.then(|| touch(views, l.touch_threads)),
        note: None,
    })
}

pub(super) fn tensor_bytes<'a>(ck: &'a checkpoint::Checkpoint, t: &TensorInfo) -> Result<&'a [u8]> {
    match ck.contiguous_bytes(t)? {
        Some(b) => Ok(b),
        None => ck.storage_bytes(t),
    }
}

pub(super) fn contiguous_views(ck: &checkpoint::Checkpoint) -> Result<Vec<&[u8]>> {
    ck.tensors.iter().map(|t| tensor_bytes(ck, t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arena_grows_and_reuses() {
        let mut a = Arena::new();
        assert_eq!(a.take(10).unwrap().len(), 10);
        let p = a.take(100).unwrap().as_ptr();
        assert_eq!(a.take(1000).unwrap().as_ptr(), p, "same mapping reused");
        assert_eq!(a.take(5 << 20).unwrap().len(), 5 << 20);
    }
}
