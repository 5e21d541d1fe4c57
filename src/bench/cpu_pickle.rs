//! The pickle load methods of [`super`] (split from `cpu.rs`): eager (each file read whole into
//! owned memory while it is parsed), mmap, and their slice variants.

use std::fs::File;
use std::path::PathBuf;

use super::*;
use crate::bench::strategies;
use crate::checkpoint::guard::GuardedMap;

/// The pickle methods. The mmap ones map each file, parse it with the restricted pickle reader, then
/// view every storage in the map; the eager one (`torch.load`'s way: everything in owned memory)
/// reads each whole file into the arena while parsing it ([`pickle_eager`]), so the storages are
/// views into memory the load owns. The slice variants keep rank k's rows.
pub(super) fn pickle(arena: &mut Arena, l: &Load<'_>, sink: &mut dyn Sink) -> Result<Loaded> {
    if l.method == Method::PickleEager {
        return pickle_eager(arena, l, sink);
    }
    let mut maps = Vec::with_capacity(l.files.len());
    let mut handles = Vec::with_capacity(l.files.len());
    for f in l.files {
        let file = File::open(f).map_err(|e| Error::io(f, e))?;
        // guarded: a file truncated during the run reads as zeros and fails the run below
        let map = GuardedMap::map(&file, 0, None).map_err(|e| Error::io(f, e))?;
        // parse the zip directory and data.pkl without read-ahead pulling in tensor data
        map.advise_random(true);
        maps.push(map);
        handles.push(file);
    }
    let datas: Vec<&[u8]> = maps.iter().map(|m| m.bytes()).collect();
    let tensors = parse_all(l.files, &datas, Some(&maps))?;
    for m in &maps {
        m.advise_random(false);
    }
    let (storages, srcs, storage_bytes, which) = storages_of(l.files, &datas, &tensors)?;
    let padded = |v: &[&[u8]]| v.iter().map(|s| s.len().next_multiple_of(ARENA_ALIGN)).sum::<usize>();
    let (k, n) = l.rank.unwrap_or((0, 1));
    // where each tensor lies in its storage
    let map = view_map(&tensors, &which);
    let loaded = match l.method {
        Method::PickleMmapSlice => {
            let v = views(&map, &srcs);
            let slices: Vec<&[u8]> = tensors.iter().zip(&v).map(|(t, v)| rows(t, v, k, n)).collect();
            let copied = copy_into(arena.take(padded(&slices))?, &slices);
            finish(l, sink, slices.iter().map(|s| s.len() as u64).sum(), &copied)
        }
        Method::PickleSlice => {
            // The torch.load way: every storage `pread` into owned memory first (as torch reads
            // each record), then the rank's rows copied out.
            let v = views(&map, &srcs);
            let slice_len: usize = tensors
                .iter()
                .zip(&v)
                .map(|(t, v)| rows(t, v, k, n).len().next_multiple_of(ARENA_ALIGN))
                .sum();
            let first = padded(&srcs);
            let (a, b) = arena.take(first + slice_len)?.split_at_mut(first);
            let owned = read_into(a, &handles, &storages, l.files)?;
            let v = views(&map, &owned);
            let slices: Vec<&[u8]> = tensors.iter().zip(&v).map(|(t, v)| rows(t, v, k, n)).collect();
            let copied = copy_into(b, &slices);
            finish(l, sink, storage_bytes, &copied)
        }
        _ => finish_storages(l, sink, storage_bytes, &srcs, &map),
    };
    if let Some(i) = maps.iter().position(|m| m.damaged()) {
        return Err(truncated(&l.files[i]));
    }
    loaded
}

/// Files below this many bytes are read, then parsed (no read thread, no map).
const OVERLAP_MIN: usize = 1 << 20;

/// The eager pickle loads: every file read whole into the arena (each 64-byte aligned) while the
/// pickle is parsed; the storages are views into that copy (storage records are stored
/// uncompressed, so a record's bytes in the file are the storage), shared storages once.
///
/// Reading and parsing overlap: read threads ([`strategies::threads`]) `pread` disjoint ranges of
/// the file into the arena while this thread parses the zip directory and the pickle from a map of
/// the same file (pages the reads bring into the page cache anyway) and works out the storages
/// and views; only slicing the arena is left once the reads are done. With 20,000 small tensors
/// the parse costs about as much as the read, so one waiting for the other would double the load.
/// Files under [`OVERLAP_MIN`] are read, then parsed. One read per range rather than one `pread`
/// per storage keeps 20,000 small tensors from costing 20,000 system calls and page faults. The
/// copy holds the zip headers and the pickle as well (a few hundred bytes per tensor), the price
/// of reading in one go; the map's pages count in the peak resident memory (shared page cache).
fn pickle_eager(arena: &mut Arena, l: &Load<'_>, sink: &mut dyn Sink) -> Result<Loaded> {
    let (sizes, first) = file_sizes(l.files)?;
    let mut at = 0usize;
    let mut ranges = Vec::with_capacity(l.files.len());
    // what the parse thread works out for every file: the distinct storages and each tensor's
    // place in them (indices into `keys`); the tensors themselves (their names and shapes)
    let mut keys: Vec<StorageKey> = Vec::new();
    let mut views: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    let mut tensors: Vec<TensorInfo> = Vec::new();
    let buf = arena.take(first)?;
    for (i, (f, &size)) in l.files.iter().zip(&sizes).enumerate() {
        let len = size as usize; // fits: the sum of the sizes does
        let file = File::open(f).map_err(|e| Error::io(f, e))?;
        if file.metadata().map_err(|e| Error::io(f, e))?.len() != size {
            return Err(Error::format(f, "the file changed size while it was being loaded"));
        }
        let dst = &mut buf[at..at + len];
        let planned = |data: &[u8]| {
            crate::formats::pickle::torch::read(f, data).map(|parsed| {
                let ts = in_file(parsed.tensors, i);
                let (keys, which) = plan(&ts);
                let views = view_map(&ts, &which);
                (ts, keys, views)
            })
        };
        let (ts, file_keys, file_views) = if len < OVERLAP_MIN {
            // too small for a thread and a map to pay: read, then parse the copy
            strategies::read_parallel(&file, f, dst, 1)?;
            planned(dst)?
        } else {
            // guarded: a file truncated during the run reads as zeros and fails the run below
            let map = GuardedMap::map(&file, 0, None).map_err(|e| Error::io(f, e))?;
            let got = std::thread::scope(|s| {
                let reader = s.spawn(|| strategies::read_parallel(&file, f, dst, strategies::threads(len)));
                let planned = planned(map.bytes());
                let read = reader
                    .join()
                    .unwrap_or_else(|_| Err(Error::format(f, "a read thread panicked")));
                read.and(planned)
            })?;
            if map.damaged() {
                return Err(truncated(f));
            }
            got
        };
        let base = keys.len();
        keys.extend(file_keys);
        views.extend(file_views.into_iter().map(|(k, r)| (k + base, r)));
        append(&mut tensors, ts);
        ranges.push(at..at + len);
        at += len.next_multiple_of(ARENA_ALIGN);
    }
    let owned: &[u8] = arena.take(first)?;
    let datas: Vec<&[u8]> = ranges.iter().map(|r| &owned[r.clone()]).collect();
    let (srcs, storage_bytes) = storage_slices(l.files, &datas, &keys)?;
    finish_storages(l, sink, storage_bytes, &srcs, &views)
}

/// Parse every `torch.save` file (held in `datas`): its tensors, each with its file's index. With `maps` (the
/// maps `datas` are), what the parse reads out of order is asked for up front (`MADV_WILLNEED`).
fn parse_all(files: &[PathBuf], datas: &[&[u8]], maps: Option<&[GuardedMap]>) -> Result<Vec<TensorInfo>> {
    let mut tensors: Vec<TensorInfo> = Vec::new();
    for (i, (f, data)) in files.iter().zip(datas).enumerate() {
        let map = maps.and_then(|m| m.get(i));
        let tf = crate::formats::pickle::torch::read_prefetching(f, data, &mut |r| {
            if let Some(m) = map {
                m.will_need(r);
            }
        })?;
        append(&mut tensors, in_file(tf.tensors, i));
    }
    Ok(tensors)
}

/// `tensors`, marked as file `i`'s.
fn in_file(mut tensors: Vec<TensorInfo>, i: usize) -> Vec<TensorInfo> {
    for t in &mut tensors {
        t.file = i;
    }
    tensors
}

/// Append `tensors` to `all`: moved, not copied, when `all` is empty (one file).
fn append(all: &mut Vec<TensorInfo>, tensors: Vec<TensorInfo>) {
    if all.is_empty() {
        *all = tensors;
    } else {
        all.extend(tensors);
    }
}

/// The error for a file truncated under its map during a load.
fn truncated(f: &std::path::Path) -> Error {
    Error::format(f, "the file was truncated while it was being loaded")
}

/// Distinct storages, their bytes, their total size, and each tensor's storage (an index into
/// the first two).
type Storages<'d> = (Vec<StorageKey>, Vec<&'d [u8]>, u64, Vec<usize>);

/// The distinct storages of `tensors` (shared storages once, as torch moves a storage once), their
/// bytes in `datas`, their total size, and which of them each tensor views ([`plan`]).
fn storages_of<'d>(files: &[PathBuf], datas: &[&'d [u8]], tensors: &[TensorInfo]) -> Result<Storages<'d>> {
    let (storages, which) = plan(tensors);
    let (srcs, bytes) = storage_slices(files, datas, &storages)?;
    Ok((storages, srcs, bytes, which))
}

/// The distinct storages of `tensors` and which of them each tensor views. `torch.save` numbers
/// storages in the order tensors first use them, so the tensors usually come in storage order
/// and one pass finds the distinct ones; otherwise they are sorted and looked up.
fn plan(tensors: &[TensorInfo]) -> (Vec<StorageKey>, Vec<usize>) {
    let key = |t: &TensorInfo| (t.file, t.storage.start, t.storage.end);
    let in_order = tensors.windows(2).all(|w| key(&w[0]) <= key(&w[1]));
    if in_order {
        let mut storages: Vec<StorageKey> = Vec::with_capacity(tensors.len());
        let which = tensors
            .iter()
            .map(|t| {
                if storages.last().is_none_or(|(j, r)| (*j, r.start, r.end) != key(t)) {
                    storages.push((t.file, t.storage.clone()));
                }
                storages.len() - 1
            })
            .collect();
        (storages, which)
    } else {
        let mut storages: Vec<StorageKey> = tensors.iter().map(|t| (t.file, t.storage.clone())).collect();
        storages.sort_unstable_by_key(|(i, r)| (*i, r.start, r.end));
        storages.dedup();
        let which = tensors
            .iter()
            .map(|x| {
                storages
                    .binary_search_by_key(&key(x), |(j, r)| (*j, r.start, r.end))
                    .expect("every storage was collected")
            })
            .collect();
        (storages, which)
    }
}

/// The bytes of each storage in `datas` (each file's bytes) and their total size; a storage
/// outside its file is an error.
fn storage_slices<'d>(files: &[PathBuf], datas: &[&'d [u8]], storages: &[StorageKey]) -> Result<(Vec<&'d [u8]>, u64)> {
    let storage_slice = |(i, r): &StorageKey| -> Result<&'d [u8]> {
        datas[*i].get(r.start as usize..r.end as usize).ok_or_else(|| {
            Error::format(
                &files[*i],
                format!("storage {}..{} lies outside the file", r.start, r.end),
            )
        })
    };
    let srcs: Vec<&[u8]> = storages.iter().map(storage_slice).collect::<Result<_>>()?;
    let bytes = srcs.iter().map(|s| s.len() as u64).sum();
    Ok((srcs, bytes))
}

type StorageKey = (usize, std::ops::Range<u64>);

/// `pread` each storage (already checked to lie inside its file) into `buf`, 64-byte aligned.
/// Reading rather than copying out of the map keeps the map's pages unmapped (peak memory is the
/// copy, not the copy plus the mapped file) and, on a cold cache, lets the kernel read ahead.
fn read_into<'a>(
    buf: &'a mut [u8],
    files: &[File],
    storages: &[StorageKey],
    paths: &[PathBuf],
) -> Result<Vec<&'a [u8]>> {
    use std::os::unix::fs::FileExt;
    let mut rest = buf;
    let mut out = Vec::with_capacity(storages.len());
    for (i, r) in storages {
        let len = (r.end - r.start) as usize;
        let (dst, tail) = rest.split_at_mut(len.next_multiple_of(ARENA_ALIGN));
        files[*i]
            .read_exact_at(&mut dst[..len], r.start)
            .map_err(|e| Error::io(&paths[*i], e))?;
        out.push(&dst[..len]);
        rest = tail;
    }
    Ok(out)
}

/// Where each tensor lies: its storage's index (`which`, from [`storages_of`]) and, inside it, the
/// tensor's bytes when contiguous (else the whole storage).
fn view_map(tensors: &[TensorInfo], which: &[usize]) -> Vec<(usize, std::ops::Range<usize>)> {
    tensors
        .iter()
        .zip(which)
        .map(|(t, &idx)| {
            let whole = 0..(t.storage.end - t.storage.start) as usize;
            let range = match t.contiguous_range() {
                Some(r) => (r.start - t.storage.start) as usize..(r.end - t.storage.start) as usize,
                None => whole,
            };
            (idx, range)
        })
        .collect()
}

/// A view per tensor: `map`'s range of its storage (owned copy or map, `base[i]` for storage `i`).
pub(super) fn views<'a>(map: &ViewMap, base: &[&'a [u8]]) -> Vec<&'a [u8]> {
    map.iter().map(|(i, r)| &base[*i][r.clone()]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DType;

    fn t(file: usize, storage: std::ops::Range<u64>) -> TensorInfo {
        TensorInfo {
            name: format!("{file}:{storage:?}"),
            dtype: DType::U8,
            shape: vec![storage.end - storage.start],
            file,
            storage,
            offset: 0,
            strides: vec![1],
        }
    }

    #[test]
    fn storages_are_found_once_in_order_or_not() {
        let files = [PathBuf::from("a"), PathBuf::from("b")];
        let data = [0u8; 64];
        let datas = [&data[..], &data[..]];
        // in storage order (one pass), shared storages adjacent
        let ordered = [t(0, 0..8), t(0, 0..8), t(0, 8..16), t(1, 0..4)];
        let (keys, srcs, bytes, which) = storages_of(&files, &datas, &ordered).unwrap();
        assert_eq!(keys, [(0, 0..8), (0, 8..16), (1, 0..4)]);
        assert_eq!((srcs.len(), bytes, which), (3, 20, vec![0, 0, 1, 2]));
        // out of order (tied weights named after their first use): sorted and looked up
        let shuffled = [t(1, 0..4), t(0, 8..16), t(0, 0..8), t(0, 8..16)];
        let (keys, _, bytes, which) = storages_of(&files, &datas, &shuffled).unwrap();
        assert_eq!(keys, [(0, 0..8), (0, 8..16), (1, 0..4)]);
        assert_eq!((bytes, which), (20, vec![2, 1, 0, 1]));
        // a storage outside its file is an error either way
        for ts in [[t(0, 0..8), t(0, 60..70)], [t(0, 60..70), t(0, 0..8)]] {
            let e = storages_of(&files, &datas, &ts).unwrap_err().to_string();
            assert!(e.contains("lies outside the file"), "{e}");
        }
    }
}
