//! `torch.save` files (zip and legacy) -> tensors as views into the mapped file.
//!
//! The zip format (torch >= 1.6) is an uncompressed archive `<top>/data.pkl`, `<top>/data/<key>`,
//! `<top>/byteorder`, …; `<top>` is whatever the first entry's folder is, as torch reads it. The pickle
//! is run by the restricted [`machine`]; each storage it names resolves to the byte range of its
//! record, and each tensor becomes a view (offset, shape, strides) over that range, checked to stay
//! inside it. Nothing is copied: the ranges point into the caller's map. The legacy format lives in
//! [`super::legacy`]; both share the walk that names tensors by key path.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use super::fast;
use super::machine::{self, Loaded, MachineError};
use super::value::{Blob, Id, Node, Storage, TensorData, Value};
use super::zip;
use crate::model::{Format, TensorInfo};
use crate::text::escape;
use crate::{Error, Result};

/// Largest `data.pkl` inflated from a deflated entry, checked against the size the zip directory
/// declares before anything is inflated (as `scan` does), so a small archive that inflates to
/// gigabytes is refused at once by every command.
///
/// `torch.save` never deflates: its zip writer stores every record, so this limit only meets
/// archives re-compressed by hand. Real `data.pkl` files take about 100 bytes per tensor (GPT-2's
/// 148 tensors: 14,734 bytes), so 64 MiB is room for over 600,000 tensors.
pub const MAX_PICKLE_INFLATED: u64 = 64 << 20;
/// Deepest key path walked; deeper values are skipped with a warning.
pub const MAX_PATH_DEPTH: usize = 256;
/// Most bytes of key paths and metadata text one file may list. Shared values let a small pickle
/// reach the same long key or string from millions of places; real checkpoints list a few MB.
pub const MAX_LISTING_BYTES: usize = 256 << 20;
/// Most tensors one file may list (as for safetensors).
pub const MAX_TENSORS: usize = crate::model::MAX_TENSORS;
/// The name given to a tensor that is the whole pickle (`torch.save(tensor)`).
pub const ROOT_TENSOR_NAME: &str = "tensor";

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
    /// Tensors whose bytes are not stored as-is in the file (numpy arrays pickled at protocol 2 store
    /// their bytes through `_codecs.encode`): each view's storage range is into its own buffer.
    pub owned: Vec<(TensorInfo, Vec<u8>)>,
    /// The zip archive's top folder (`archive`, the file stem at save time, …).
    pub top: Option<String>,
}

/// Read the `torch.save` file mapped in `data` (`path` is only for messages).
pub fn read(path: &Path, data: &[u8]) -> Result<TorchFile> {
    read_prefetching(path, data, &mut |_| {})
}

/// [`read`], telling `prefetch` (before reading them) the ranges of `data` a zip archive's parse
/// reads out of order: the local headers ([`zip::read_prefetching`]) and `data.pkl`. A caller
/// holding a map of a cold file advises them `MADV_WILLNEED` so they are read in parallel, not one
/// page fault after another.
pub fn read_prefetching(path: &Path, data: &[u8], prefetch: &mut dyn FnMut(Range<u64>)) -> Result<TorchFile> {
    if data.starts_with(b"PK") {
        read_zip(path, data, prefetch, true)
    } else {
        super::legacy::read(path, data)
    }
}

pub(crate) fn machine_error(path: &Path, what: &str, e: MachineError) -> Error {
    match e {
        MachineError::Limit { what: w, limit, .. } => Error::Limit {
            path: path.into(),
            what: w,
            value: limit.saturating_add(1),
            limit,
            hint: "",
        },
        e => Error::format(path, format!("{what}: {e}")),
    }
}

/// [`read`] through the general machine only, never the fast path (for the differential tests).
#[cfg(test)]
pub(crate) fn read_general(path: &Path, data: &[u8]) -> Result<TorchFile> {
    read_zip(path, data, &mut |_| {}, false)
}

fn read_zip(path: &Path, data: &[u8], prefetch: &mut dyn FnMut(Range<u64>), fast: bool) -> Result<TorchFile> {
    let fmt = |m: String| Error::format(path, m);
    let archive = zip::read_prefetching(data, prefetch).map_err(|e| fmt(format!("zip archive: {e}")))?;
    let first = archive
        .entries
        .first()
        .ok_or_else(|| fmt("empty zip archive: not a torch.save file".into()))?;
    // torch takes the top folder from the first entry's name, whatever the other entries say
    let top = first.name.split('/').next().unwrap_or_default().to_string();
    let mut out = TorchFile {
        format: Some(Format::PytorchZip),
        top: Some(top.clone()),
        ..TorchFile::default()
    };
    for p in &archive.problems {
        out.warnings.push(format!("zip archive: {p}"));
    }
    let pkl_name = format!("{top}/data.pkl");
    let pkl = unique(&archive, &pkl_name).map_err(|m| {
        if m.starts_with("no ") && archive.entries.iter().any(|e| e.name.ends_with(".npy")) {
            fmt("a numpy .npz archive, not a torch.save file".into())
        } else {
            fmt(format!("{m}: not a torch.save file"))
        }
    })?;
    for e in archive
        .entries
        .iter()
        .filter(|e| e.name.ends_with("/data.pkl") && e.name != pkl_name)
    {
        out.warnings
            .push(format!("archive also holds {}, which torch ignores", escape(&e.name)));
    }
    if let Some(bo) = archive.find(&format!("{top}/byteorder")).next() {
        let b = zip::content(data, bo, 64).map_err(|e| fmt(e.0))?;
        match &*b {
            b"little" => {}
            b"big" => {
                return Err(Error::Unsupported(format!(
                    "{}: saved on a big-endian machine (byteorder 'big'): its tensors cannot be read in place",
                    crate::text::path(path)
                )));
            }
            other => return Err(fmt(format!("unknown byteorder {:?}", String::from_utf8_lossy(other)))),
        }
    }
    if pkl.error.is_none() {
        prefetch(pkl.data.clone());
    }
    let pickle = zip::content(data, pkl, MAX_PICKLE_INFLATED).map_err(|e| fmt(e.0))?;
    if !pkl.is_stored() {
        out.warnings
            .push(format!("{} is compressed (torch never writes that)", escape(&pkl.name)));
    }
    // one buffer for every record name: no String per storage (a storage shared by several tensors
    // is looked up again rather than cached under a copy of its key)
    let prefix = format!("{top}/data/");
    let mut name = String::with_capacity(prefix.len() + 16);
    // torch writes the records in key order, so the entry after the last one resolved is tried
    // first (one comparison) before the name index
    let mut next = 0usize;
    let mut resolve = |s: &Storage| -> std::result::Result<Range<u64>, String> {
        name.clear();
        name.push_str(&prefix);
        name.push_str(&s.key);
        let e = match archive.find_unique_at(next, &name) {
            Some(e) => checked(e, &name)?,
            None => unique(&archive, &name)?,
        };
        next = e.index + 1;
        if !e.is_stored() {
            return Err(format!(
                "storage record {} is compressed and cannot be mapped",
                escape(&name)
            ));
        }
        let nbytes = s.dtype.bytes_for(s.numel).ok_or("storage size overflows")?;
        if nbytes > e.data.end - e.data.start {
            return Err(format!(
                "storage {} holds {} bytes but its pickle says {nbytes}",
                escape(&name),
                e.data.end - e.data.start
            ));
        }
        Ok(e.data.start..e.data.start + nbytes)
    };
    from_pickle(path, &pkl_name, &pickle, data, &mut resolve, &mut out, fast)?;
    Ok(out)
}

/// The tensors of the zip archive's `pickle` (named `pkl_name`) into `out`: through the fast path
/// for a plain dict of tensors ([`fast::tensors`], when `fast`), else through the general machine.
/// The fast path only takes what the machine would read the same way; if resolving one of its
/// tensors fails, the general machine reads the pickle again and reports its own error.
pub(crate) fn from_pickle(
    path: &Path,
    pkl_name: &str,
    pickle: &[u8],
    file: &[u8],
    resolve: &mut dyn FnMut(&Storage) -> std::result::Result<Range<u64>, String>,
    out: &mut TorchFile,
    fast: bool,
) -> Result<()> {
    if let Some(ts) = fast.then(|| fast::tensors(pickle)).flatten() {
        let before = out.tensors.len();
        if fast::add(path, &ts, resolve, out).is_ok() {
            return Ok(());
        }
        out.tensors.truncate(before);
    }
    let loaded = machine::load(pickle, 0).map_err(|e| machine_error(path, pkl_name, e))?;
    collect(path, &loaded, file, resolve, out)
}

/// The single entry named `name`; errors name what is wrong (missing, duplicated, inconsistent).
fn unique<'z>(archive: &'z zip::Archive, name: &str) -> std::result::Result<&'z zip::Entry, String> {
    let mut it = archive.find(name);
    let Some(e) = it.next() else {
        return Err(format!("no {} in the archive", escape(name)));
    };
    if it.next().is_some() {
        return Err(format!(
            "the archive holds {} more than once: refusing to guess which one torch reads",
            escape(name)
        ));
    }
    checked(e, name)
}

/// `e` (named `name`) if its data was located and its headers agree.
fn checked<'z>(e: &'z zip::Entry, name: &str) -> std::result::Result<&'z zip::Entry, String> {
    if let Some(err) = &e.error {
        return Err(format!("{}: {err}", escape(name)));
    }
    if let Some(m) = e.mismatches.first() {
        return Err(format!(
            "{}: {m}: refusing an archive whose headers disagree",
            escape(name)
        ));
    }
    Ok(e)
}

/// Absolute offset of `part` in `data` when it is a borrowed slice of it.
fn offset_in(data: &[u8], part: &[u8]) -> Option<u64> {
    let (d, p) = (data.as_ptr() as usize, part.as_ptr() as usize);
    (p >= d && p + part.len() <= d + data.len()).then(|| (p - d) as u64)
}

/// Walk the loaded pickle: tensors by key path (views over resolved storages), scalars as metadata.
/// `file` is the whole mapped file: bytes borrowed from it (numpy arrays) become views into it.
pub(crate) fn collect(
    path: &Path,
    loaded: &Loaded<'_>,
    file: &[u8],
    resolve: &mut dyn FnMut(&Storage) -> std::result::Result<Range<u64>, String>,
    out: &mut TorchFile,
) -> Result<()> {
    out.warnings.extend(loaded.warnings.iter().cloned());
    let heap = &loaded.heap;
    let mut seen_containers: HashSet<Id> = HashSet::new();
    let mut names: HashSet<String> = HashSet::new();
    // (value, key path, depth, only tensors: inside the arguments of a call that was not rebuilt)
    let mut todo: Vec<(Value<'_>, String, usize, bool)> = vec![(loaded.root.clone(), String::new(), 0, false)];
    let listed = std::cell::Cell::new(0usize);
    let charge = |n: usize| -> Result<()> {
        let total = listed.get().saturating_add(n);
        if total > MAX_LISTING_BYTES {
            return Err(Error::Limit {
                path: path.into(),
                what: "bytes of key paths and metadata",
                value: total as u64,
                limit: MAX_LISTING_BYTES as u64,
                hint: ": no real checkpoint lists that much; this one repeats long keys or strings",
            });
        }
        listed.set(total);
        Ok(())
    };
    // `k` is moved in: a top-level key (every tensor of a state dict) is used as it is, not copied
    let join = |p: &str, k: String| -> Result<String> {
        charge(p.len() + k.len() + 1)?;
        Ok(if p.is_empty() { k } else { format!("{p}.{k}") })
    };
    while let Some((v, name, depth, quiet)) = todo.pop() {
        let Value::Node(id) = v else {
            if !name.is_empty() && !quiet {
                let shown = heap.repr(&v).unwrap_or_default();
                charge(shown.len())?;
                out.metadata.push((name, shown));
            }
            continue;
        };
        let Some(node) = heap.get(id) else { continue };
        if let Node::Tensor(t) = node {
            let name = if name.is_empty() {
                ROOT_TENSOR_NAME.to_string()
            } else {
                name
            };
            if !names.insert(name.clone()) {
                out.warnings.push(format!(
                    "tensor name {} appears twice; the second one is skipped",
                    escape(&name)
                ));
                continue;
            }
            room_for_one_more(path, out)?;
            add_tensor(path, heap, t, name, file, resolve, out)?;
            continue;
        }
        if depth >= MAX_PATH_DEPTH {
            out.warnings.push(format!(
                "{} is nested deeper than {MAX_PATH_DEPTH} levels: skipped",
                escape(&name)
            ));
            continue;
        }
        let mut children: Vec<(Value<'_>, String, bool)> = Vec::new();
        match node {
            Node::Tuple(items) | Node::List(items) | Node::Set(items) => {
                for (i, c) in items.iter().enumerate() {
                    children.push((c.clone(), join(&name, i.to_string())?, quiet));
                }
            }
            Node::Dict(d) => {
                for (k, c) in &d.items {
                    let key = heap.repr(k).unwrap_or_else(|| "?".into());
                    children.push((c.clone(), join(&name, key)?, quiet));
                }
            }
            Node::Object(o) => {
                let what = o.callable.as_ref().and_then(|c| heap.global(c)).map(|g| g.qualified());
                let what = what.unwrap_or_else(|| "an object".into());
                if !quiet && !name.is_empty() {
                    let shown = format!("<{} not rebuilt>", escape(&what));
                    charge(name.len() + shown.len())?;
                    out.metadata.push((name.clone(), shown));
                }
                // tensors inside still list (a module's state, a custom container); scalars of
                // the state show what the object held
                if let Some(st) = &o.state {
                    match heap.node(st) {
                        Some(Node::Dict(d)) => {
                            for (k, c) in &d.items {
                                let key = heap.repr(k).unwrap_or_else(|| "?".into());
                                let key = if matches!(key.as_str(), "_parameters" | "_buffers" | "_modules") {
                                    charge(name.len())?;
                                    name.clone()
                                } else {
                                    join(&name, key)?
                                };
                                children.push((c.clone(), key, quiet));
                            }
                        }
                        _ => children.push((st.clone(), join(&name, "__state__".into())?, quiet)),
                    }
                }
                // arguments of the call are walked for tensors only (their scalars are code's inputs)
                let args = o
                    .args
                    .iter()
                    .filter_map(|a| heap.seq(a))
                    .flatten()
                    .chain(o.items.iter());
                for (i, a) in args.enumerate() {
                    children.push((a.clone(), join(&name, i.to_string())?, true));
                }
                for (k, c) in &o.pairs {
                    children.push((
                        c.clone(),
                        join(&name, heap.repr(k).unwrap_or_else(|| "?".into()))?,
                        quiet,
                    ));
                }
            }
            Node::Global(g) => {
                if !name.is_empty() && !quiet {
                    let shown = g.qualified();
                    charge(shown.len())?;
                    out.metadata.push((name, shown));
                }
                continue;
            }
            _ => continue,
        }
        if matches!(
            node,
            Node::Tuple(_) | Node::List(_) | Node::Set(_) | Node::Dict(_) | Node::Object(_)
        ) && !seen_containers.insert(id)
        {
            // a container reached twice (shared or cyclic): its content was listed under its first path
            continue;
        }
        for (c, n, q) in children.into_iter().rev() {
            todo.push((c, n, depth + 1, q));
        }
    }
    Ok(())
}

fn add_tensor(
    path: &Path,
    heap: &super::value::Heap<'_>,
    t: &super::value::Tensor<'_>,
    name: String,
    file: &[u8],
    resolve: &mut dyn FnMut(&Storage) -> std::result::Result<Range<u64>, String>,
    out: &mut TorchFile,
) -> Result<()> {
    let mut info = TensorInfo {
        name,
        dtype: t.dtype,
        shape: t.shape.clone(),
        file: 0,
        storage: 0..0,
        offset: t.offset,
        strides: t.strides.clone(),
    };
    let mut owned = None;
    match &t.data {
        TensorData::Storage(sid) => {
            let Some(Node::Storage(s)) = heap.get(*sid) else {
                return Err(Error::format(path, "tensor without storage"));
            };
            return add_stored(path, info, s, resolve, out);
        }
        TensorData::Inline(blob) => {
            let len = blob.len() as u64;
            match blob {
                Blob::Borrowed(b) if offset_in(file, b).is_some() => {
                    let start = offset_in(file, b).unwrap_or_default();
                    info.storage = start..start + len;
                }
                _ => {
                    info.storage = 0..len;
                    owned = Some(blob.to_vec());
                }
            }
        }
    }
    info.check_extent().map_err(|m| Error::format(path, m))?;
    match owned {
        Some(bytes) => {
            out.warnings.push(format!(
                "numpy array {}: its bytes are re-encoded inside the pickle (_codecs.encode), so it cannot be viewed in place and is not listed",
                escape(&info.name)
            ));
            out.owned.push((info, bytes))
        }
        None => out.tensors.push(info),
    }
    Ok(())
}

/// Refuse a tensor beyond [`MAX_TENSORS`] (the fast path and the general machine alike).
pub(super) fn room_for_one_more(path: &Path, out: &TorchFile) -> Result<()> {
    if out.tensors.len() + out.owned.len() >= MAX_TENSORS {
        return Err(Error::Limit {
            path: path.into(),
            what: "tensors",
            value: (MAX_TENSORS + 1) as u64,
            limit: MAX_TENSORS as u64,
            hint: "",
        });
    }
    Ok(())
}

/// A tensor over storage `s`: its range resolved (and narrowed to a legacy view), checked, listed.
pub(super) fn add_stored(
    path: &Path,
    mut info: TensorInfo,
    s: &Storage,
    resolve: &mut dyn FnMut(&Storage) -> std::result::Result<Range<u64>, String>,
    out: &mut TorchFile,
) -> Result<()> {
    let r = resolve(s).map_err(|m| Error::format(path, format!("tensor {}: {m}", escape(&info.name))))?;
    info.storage = match s.view {
        None => r,
        Some((off, n)) => {
            let sub = s.dtype.bytes_for(off).zip(s.dtype.bytes_for(n));
            let sub = sub.and_then(|(o, n)| Some(r.start.checked_add(o)?..r.start.checked_add(o)?.checked_add(n)?));
            match sub.filter(|x| x.end <= r.end) {
                Some(x) => x,
                None => {
                    return Err(Error::format(
                        path,
                        format!("tensor {}: storage view outside its storage", escape(&info.name)),
                    ));
                }
            }
        }
    };
    info.check_extent().map_err(|m| Error::format(path, m))?;
    out.tensors.push(info);
    Ok(())
}
