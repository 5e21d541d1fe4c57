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
use super::loading::{
    ARENA_ALIGN, Arena, Host, Load, Loaded, Sink, ViewMap, contiguous_views, finish, tensor_bytes, tensor_ranges,
};
use super::touch::touch;
use crate::checkpoint::{self, TensorInfo};
use crate::{Error, Result};

/// Load once with `arena` for owned memory.
pub fn load(arena: &mut Arena, l: &Load<'_>) -> Result<Loaded> {
    load_into(arena, l, &mut Host)
}

/// Load once with `arena` for owned memory and hand the views to `sink`.
pub fn load_into(arena: &mut Arena, l: &Load<'_>, sink: &mut dyn Sink) -> Result<Loaded> {
    match l.method {
        Method::SafetensorsMmap | Method::GgufMmap => {
            let ck = checkpoint::open(l.root)?;
            let views = contiguous_views(&ck)?;
            let loaded = finish(l, sink, ck.total_bytes(), &views)?;
            ck.check_intact()?;
            // unmapped between runs, untimed, as fresh memory is released
            arena.hold(ck);
            Ok(loaded)
        }
        Method::SafetensorsRead | Method::GgufRead => safetensors_read(arena, l, sink),
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

/// The pickle whole loads: the sink gets the storages (shared ones once, as `torch.load` moves a
/// storage once) and where each tensor lies in them; touched loads read every tensor.
fn finish_storages(l: &Load<'_>, sink: &mut dyn Sink, bytes: u64, storages: &[&[u8]], map: &ViewMap) -> Result<Loaded> {
    sink.take(storages, Some(map))?;
    Ok(Loaded {
        bytes,
        checksum: l.touched.then(|| touch(&views(map, storages), l.touch_threads)),
        note: None,
    })
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
