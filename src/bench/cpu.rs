//! The load methods on the CPU. Each call loads the checkpoint once, the way its [`Method`] says,
//! hands out one byte slice per tensor (views into a map or into owned memory), and when asked
//! reads every byte of them (a wrapping sum of little-endian words, so the optimiser cannot skip it
//! and every method of the same data reports the same checksum).
//!
//! Owned memory comes from an [`Arena`]: one anonymous mapping, pre-faulted (`MAP_POPULATE`) when
//! it is created and reused by every later run of the case. How the loader allocates decides the
//! result, so this was measured first (500 MB, warm page cache, the 2-core development VM, C
//! micro-benchmark, medians; the machine was shared so ranges are wide):
//!
//! | destination                                   | memcpy from the map | `read(2)`     |
//! |-----------------------------------------------|---------------------|---------------|
//! | fresh anonymous memory, 4 KiB pages           | 320–1600 ms         | 300–430 ms    |
//! | fresh, `MAP_POPULATE` (populate + copy)       | 190–300 + 30–40 ms  |               |
//! | fresh, `madvise(MADV_HUGEPAGE)`               | 1100–1600 ms        | 90–110 ms     |
//! | already faulted (4 KiB or huge pages)         | 28–75 ms            | 55–86 ms      |
//!
//! First touch of fresh memory runs at about 1 GB/s here (every page faults and is zeroed), which is
//! most of what `torch.load` spends; with memory that is already mapped, mapping the source and
//! copying, populating the source map first, or `read(2)` all land at 66–75 ms, the memory bandwidth.
//! So eager methods run both ways ([`Arena::fresh`] and [`Arena::new`]): fresh memory, new every run
//! and advised `MADV_HUGEPAGE` (what a one-shot loader can do; `read(2)` into it measured 90–110 ms
//! above), compared with `torch.load` in the headline; and a pre-faulted arena reused across runs, as a
//! long-lived loader reuses its buffers. The eager pickle load reads each whole file into the arena
//! with one `read(2)` and parses that copy in place (the storages are views into it): reading rather
//! than copying out of a map keeps the file's pages out of the process and reads ahead in large
//! requests on a cold cache, and one read per file rather than one `pread` per storage (as an
//! earlier version did) keeps 20,000 small tensors from costing 20,000 system calls and page faults.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::Method;
use crate::checkpoint::safetensors::parse_header;
use crate::checkpoint::{self, TensorInfo};
use crate::{Error, Result};

/// Alignment of each copy inside the arena.
const ARENA_ALIGN: usize = 64;

/// Owned memory for the methods that copy: reused and pre-faulted (the default), or fresh.
#[derive(Default)]
pub struct Arena {
    map: Option<memmap2::MmapMut>,
    fresh: bool,
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
        Arena { map: None, fresh: true }
    }

    /// Whether the arena hands out fresh memory.
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// Between runs (untimed): a fresh arena unmaps its memory so the next load gets new pages.
    pub fn release(&mut self) {
        if self.fresh {
            self.map = None;
        }
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

/// Wrapping sum of `data` as little-endian u64 words (a trailing partial word is zero-padded).
pub fn checksum(data: &[u8]) -> u64 {
    let mut lanes = [0u64; 8];
    let mut blocks = data.chunks_exact(64);
    for b in &mut blocks {
        for (i, lane) in lanes.iter_mut().enumerate() {
            let w = u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
            *lane = lane.wrapping_add(w);
        }
    }
    let mut sum = lanes.iter().fold(0u64, |a, &b| a.wrapping_add(b));
    let mut words = blocks.remainder().chunks(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b[..w.len()].copy_from_slice(w);
        sum = sum.wrapping_add(u64::from_le_bytes(b));
    }
    sum
}

/// [`checksum`] of data fed in pieces split anywhere (equal to the checksum of the pieces joined).
#[derive(Debug, Default, Clone)]
pub struct Summer {
    sum: u64,
    partial: [u8; 8],
    filled: usize,
}

impl Summer {
    /// Add the next bytes.
    pub fn feed(&mut self, mut data: &[u8]) {
        if self.filled > 0 {
            let n = (8 - self.filled).min(data.len());
            self.partial[self.filled..self.filled + n].copy_from_slice(&data[..n]);
            self.filled += n;
            data = &data[n..];
            if self.filled < 8 {
                return;
            }
            self.sum = self.sum.wrapping_add(u64::from_le_bytes(self.partial));
            self.filled = 0;
        }
        let whole = data.len() / 8 * 8;
        self.sum = self.sum.wrapping_add(checksum(&data[..whole]));
        let rest = &data[whole..];
        self.partial[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    /// The checksum of everything fed (a trailing partial word zero-padded).
    pub fn finish(mut self) -> u64 {
        if self.filled > 0 {
            self.partial[self.filled..].fill(0);
            self.sum = self.sum.wrapping_add(u64::from_le_bytes(self.partial));
        }
        self.sum
    }
}

fn sum_views(views: &[&[u8]]) -> u64 {
    views.iter().fold(0u64, |a, v| a.wrapping_add(checksum(v)))
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

/// Load once with `arena` for owned memory.
pub fn load(arena: &mut Arena, l: &Load<'_>) -> Result<Loaded> {
    load_into(arena, l, &mut Host)
}

/// Load once with `arena` for owned memory and hand the views to `sink`.
pub fn load_into(arena: &mut Arena, l: &Load<'_>, sink: &mut dyn Sink) -> Result<Loaded> {
    match l.method {
        Method::SafetensorsMmap => {
            let ck = checkpoint::open(l.root)?;
            let views = contiguous_views(&ck)?;
            let loaded = finish(l, sink, ck.total_bytes(), &views)?;
            ck.check_intact()?;
            Ok(loaded)
        }
        Method::SafetensorsRead => safetensors_read(arena, l, sink),
        Method::SafetensorsLazyOne => {
            let ck = checkpoint::open(l.root)?;
            let Some(t) = ck.tensors.get(ck.tensors.len() / 2) else {
                return finish(l, sink, 0, &[]);
            };
            let src = tensor_bytes(&ck, t)?;
            let dst = arena.take(src.len())?;
            dst.copy_from_slice(src);
            ck.check_intact()?;
            let n = src.len() as u64;
            finish(l, sink, n, &[&*dst])
        }
        Method::SafetensorsSlice => {
            let (k, n) = l.rank.unwrap_or((0, 1));
            let ck = checkpoint::open(l.root)?;
            let views = contiguous_views(&ck)?;
            let slices: Vec<&[u8]> = ck.tensors.iter().zip(&views).map(|(t, v)| rows(t, v, k, n)).collect();
            let total = slices.iter().map(|s| s.len().next_multiple_of(ARENA_ALIGN)).sum();
            let copied = copy_into(arena.take(total)?, &slices);
            let bytes = slices.iter().map(|s| s.len() as u64).sum();
            let loaded = finish(l, sink, bytes, &copied)?;
            ck.check_intact()?;
            Ok(loaded)
        }
        Method::PickleEager | Method::PickleMmap | Method::PickleSlice | Method::PickleMmapSlice => {
            pickle(arena, l, sink)
        }
        Method::SafetensorsPread | Method::SafetensorsDirect | Method::SafetensorsMmapPrefetch => {
            super::strategies::load(arena, l, sink)
        }
        Method::FileRead => {
            let mut total = 0u64;
            for f in l.files {
                total += read_file_into(arena, f, 0)?.len() as u64;
            }
            Ok(Loaded {
                bytes: total,
                checksum: None,
                note: None,
            })
        }
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

/// Hand the views (each its own region) to the sink, then read them when the load is touched.
pub(super) fn finish(l: &Load<'_>, sink: &mut dyn Sink, bytes: u64, views: &[&[u8]]) -> Result<Loaded> {
    sink.take(views, None)?;
    Ok(Loaded {
        bytes,
        checksum: l.touched.then(|| sum_views(views)),
        note: None,
    })
}

/// The pickle whole loads: the sink gets the storages (shared ones once, as `torch.load` moves a
/// storage once) and where each tensor lies in them; touched loads read every tensor.
fn finish_storages(l: &Load<'_>, sink: &mut dyn Sink, bytes: u64, storages: &[&[u8]], map: &ViewMap) -> Result<Loaded> {
    sink.take(storages, Some(map))?;
    Ok(Loaded {
        bytes,
        checksum: l.touched.then(|| sum_views(&views(map, storages))),
        note: None,
    })
}

fn tensor_bytes<'a>(ck: &'a checkpoint::Checkpoint, t: &TensorInfo) -> Result<&'a [u8]> {
    match ck.contiguous_bytes(t)? {
        Some(b) => Ok(b),
        None => ck.storage_bytes(t),
    }
}

pub(super) fn contiguous_views(ck: &checkpoint::Checkpoint) -> Result<Vec<&[u8]>> {
    ck.tensors.iter().map(|t| tensor_bytes(ck, t)).collect()
}

/// Rank k of n's rows of a 2-D contiguous tensor (split along dim 0); anything else whole.
fn rows<'a>(t: &TensorInfo, data: &'a [u8], k: u32, n: u32) -> &'a [u8] {
    if t.shape.len() != 2 || t.shape[0] == 0 || !t.is_contiguous() || data.len() as u64 != t.nbytes().unwrap_or(0) {
        return data;
    }
    let r = t.shape[0];
    let row = data.len() as u64 / r;
    let (a, b) = (r * u64::from(k) / u64::from(n), r * (u64::from(k) + 1) / u64::from(n));
    &data[(a * row) as usize..(b * row) as usize]
}

/// Copy every slice into `buf` (each 64-byte aligned; `buf` must be large enough) and return the copies.
fn copy_into<'a>(buf: &'a mut [u8], srcs: &[&[u8]]) -> Vec<&'a [u8]> {
    let mut rest = buf;
    let mut out = Vec::with_capacity(srcs.len());
    for s in srcs {
        let (dst, tail) = rest.split_at_mut(s.len().next_multiple_of(ARENA_ALIGN));
        dst[..s.len()].copy_from_slice(s);
        out.push(&dst[..s.len()]);
        rest = tail;
    }
    out
}

/// Read a whole file into the arena at `offset` and return its bytes.
fn read_file_into<'a>(arena: &'a mut Arena, path: &Path, offset: usize) -> Result<&'a [u8]> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    let len = usize::try_from(len).map_err(|_| Error::format(path, "file does not fit in memory"))?;
    let buf = &mut arena.take(offset + len)?[offset..];
    f.read_exact(buf).map_err(|e| Error::io(path, e))?;
    Ok(buf)
}

/// The size of each file, and the arena bytes that hold them all (each 64-byte aligned).
fn file_sizes(files: &[PathBuf]) -> Result<(Vec<u64>, usize)> {
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).map_err(|e| Error::io(f, e)))
        .collect::<Result<_>>()?;
    let total: u64 = sizes.iter().map(|s| s.next_multiple_of(ARENA_ALIGN as u64)).sum();
    let total = usize::try_from(total).map_err(|_| Error::Usage("checkpoint does not fit in memory".into()))?;
    Ok((sizes, total))
}

pub(super) fn safetensors_read(arena: &mut Arena, l: &Load<'_>, sink: &mut dyn Sink) -> Result<Loaded> {
    let (sizes, total) = file_sizes(l.files)?;
    arena.take(total)?;
    let mut at = 0usize;
    let mut ranges = Vec::with_capacity(l.files.len());
    for (f, &size) in l.files.iter().zip(&sizes) {
        read_file_into(arena, f, at)?;
        ranges.push(at..at + size as usize);
        at += (size as usize).next_multiple_of(ARENA_ALIGN);
    }
    let owned = arena.take(total)?;
    let mut views: Vec<&[u8]> = Vec::new();
    let mut bytes = 0u64;
    for (f, r) in l.files.iter().zip(ranges) {
        let data = &owned[r];
        for r in tensor_ranges(f, data)? {
            bytes += r.len() as u64;
            views.push(&data[r]);
        }
    }
    finish(l, sink, bytes, &views)
}

#[path = "cpu_pickle.rs"]
mod pickle_methods;
use pickle_methods::{pickle, views};

#[cfg(test)]
#[path = "cpu_tests.rs"]
mod tests;
