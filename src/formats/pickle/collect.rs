//! What every `torch.save` reader fills ([`TorchFile`]) and the walk that names tensors by key path:
//! shared by the zip reader's dispatcher ([`super::torch`]), its fast path ([`super::fast`]) and the
//! legacy reader ([`super::legacy`]), below all three so that none of them calls back up.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use super::machine::{Loaded, MachineError};
use super::ops::OpErrorKind;
use super::value::{Blob, Id, Node, Storage, TensorData, Value};
use crate::model::{Format, TensorInfo};
use crate::text::escape;
use crate::{Error, Result};

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
    /// Tensors listed that are parts of a tensor that was not rebuilt (the indices and values of a
    /// sparse tensor): `(tensor name, what it is part of)`, such as `("emb.1.0", "sparse_coo tensor
    /// emb")`. They are not tensors of the model: `convert` refuses them, `diff` tells them apart.
    pub parts: Vec<(String, String)>,
    /// Tensors whose bytes are not stored as-is in the file (numpy arrays pickled at protocol 2 store
    /// their bytes through `_codecs.encode`): each view's storage range is into its own buffer.
    pub owned: Vec<(TensorInfo, Vec<u8>)>,
    /// The zip archive's top folder (`archive`, the file stem at save time, …).
    pub top: Option<String>,
}

/// A machine error as the error of reading `path` (`what` names the pickle): limits stay limits.
/// The machine's own text starts "pickle …": it names the pickle once ("data.pkl at offset 5: …",
/// not "pickle: pickle at offset 5: …") and ends with what to do where that is clear.
pub(crate) fn machine_error(path: &Path, what: &str, e: MachineError) -> Error {
    let next = match &e {
        MachineError::Limit { what: w, limit, .. } => {
            return Error::Limit {
                path: path.into(),
                what: w,
                value: limit.saturating_add(1),
                limit: *limit,
                hint: ": no real checkpoint's pickle comes near it; the file is damaged or built to exhaust \
                       readers: check it with `tensorscope scan` (a fixed limit)",
            };
        }
        MachineError::Op(op) => match op.kind {
            OpErrorKind::Truncated { .. } => ": the pickle is cut short; re-download the file",
            OpErrorKind::UnknownOpcode(_) => ": the pickle is damaged, or this is not a torch.save file",
            _ => ": the pickle is damaged",
        },
        MachineError::Bad { .. } => "",
    };
    let text = e.to_string();
    let msg = match text.strip_prefix("pickle ") {
        Some(rest) => format!("{what} {rest}"),
        None if what.ends_with("pickle") => text.replacen("pickle", what, 1),
        None => format!("{what}: {text}"),
    };
    Error::format(path, format!("{msg}{next}"))
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
    // the last `#n` suffix given to each name that appeared twice
    let mut renamed: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    // what each tensor not rebuilt is (`sparse_coo tensor emb`): its parts point here
    let mut wholes: Vec<String> = Vec::new();
    // (value, key path, depth, only tensors: inside the arguments of a call that was not rebuilt,
    // the index in `wholes` of the tensor not rebuilt whose arguments these are)
    let mut todo: Vec<Todo<'_>> = vec![(loaded.root.clone(), String::new(), 0, false, None)];
    let listed = std::cell::Cell::new(0usize);
    let charge = |n: usize| -> Result<()> {
        let total = listed.get().saturating_add(n);
        if total > MAX_LISTING_BYTES {
            return Err(Error::Limit {
                path: path.into(),
                what: "bytes of key paths and metadata",
                value: total as u64,
                limit: MAX_LISTING_BYTES as u64,
                hint: ": no real checkpoint lists that much; this one repeats long keys or strings \
                       (a fixed limit)",
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
    while let Some((v, name, depth, quiet, part)) = todo.pop() {
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
            let name = if names.insert(name.clone()) {
                name
            } else {
                // two key paths flatten to one name (`{"a.b": t, "a": {"b": u}}`, `{1: t, "1": u}`):
                // both tensors are kept, the second under a name of its own, so that no count, diff
                // or conversion quietly loses it
                let n = renamed.entry(name.clone()).or_insert(1);
                let new = loop {
                    *n += 1;
                    let candidate = format!("{name}#{n}");
                    if names.insert(candidate.clone()) {
                        break candidate;
                    }
                };
                charge(new.len())?;
                out.warnings.push(format!(
                    "two key paths flatten to the tensor name {}; the second is listed as {}",
                    escape(&name),
                    escape(&new)
                ));
                new
            };
            room_for_one_more(path, out)?;
            if let Some(whole) = part.and_then(|i| wholes.get(i)) {
                out.parts.push((name.clone(), whole.clone()));
            }
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
        let mut children: Vec<(Value<'_>, String, bool, Option<usize>)> = Vec::new();
        match node {
            Node::Tuple(items) | Node::List(items) | Node::Set(items) => {
                for (i, c) in items.iter().enumerate() {
                    children.push((c.clone(), join(&name, i.to_string())?, quiet, part));
                }
            }
            Node::Dict(d) => {
                for (k, c) in &d.items {
                    let key = heap.repr(k).unwrap_or_else(|| "?".into());
                    children.push((c.clone(), join(&name, key)?, quiet, part));
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
                                children.push((c.clone(), key, quiet, part));
                            }
                        }
                        _ => children.push((st.clone(), join(&name, "__state__".into())?, quiet, part)),
                    }
                }
                // the arguments of a tensor rebuild that was not rebuilt (a sparse tensor's indices
                // and values) are parts of that tensor, not tensors of their own
                let whole = match not_rebuilt_tensor(heap, o, &name) {
                    Some(w) => {
                        charge(w.len())?;
                        let parts = if w.contains("sparse") {
                            " (its indices and values)"
                        } else {
                            ""
                        };
                        out.warnings.push(format!(
                            "{w} was not rebuilt: the tensors listed under {}. are its parts{parts}, not tensors \
                             of the model; safetensors cannot store it",
                            escape(&name)
                        ));
                        wholes.push(w);
                        Some(wholes.len() - 1)
                    }
                    None => part,
                };
                // arguments of the call are walked for tensors only (their scalars are code's inputs)
                let args = o
                    .args
                    .iter()
                    .filter_map(|a| heap.seq(a))
                    .flatten()
                    .chain(o.items.iter());
                for (i, a) in args.enumerate() {
                    children.push((a.clone(), join(&name, i.to_string())?, true, whole));
                }
                for (k, c) in &o.pairs {
                    children.push((
                        c.clone(),
                        join(&name, heap.repr(k).unwrap_or_else(|| "?".into()))?,
                        quiet,
                        part,
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
        for (c, n, q, p) in children.into_iter().rev() {
            todo.push((c, n, depth + 1, q, p));
        }
    }
    Ok(())
}

/// One value still to walk: (value, key path, depth, quiet, index of the tensor it is part of).
type Todo<'a> = (Value<'a>, String, usize, bool, Option<usize>);

/// What the object `o` at key path `name` is when it is a tensor that torch rebuilds by a call that
/// was not rebuilt: `sparse_coo tensor emb` (the layout its first argument names) for
/// `torch._utils._rebuild_sparse_tensor`, `tensor emb (torch._utils._rebuild_nested_tensor)` for
/// another of torch's tensor rebuilds.
fn not_rebuilt_tensor(heap: &super::value::Heap<'_>, o: &super::value::Object<'_>, name: &str) -> Option<String> {
    let callable = heap.global(o.callable.as_ref()?)?.qualified();
    let rebuild = callable.strip_prefix("torch._utils._rebuild_")?;
    let shown = if name.is_empty() {
        ROOT_TENSOR_NAME.to_string()
    } else {
        escape(name).into_owned()
    };
    if rebuild.starts_with("sparse") {
        let layout = o
            .args
            .as_ref()
            .and_then(|a| heap.seq(a))
            .and_then(|a| a.first())
            .and_then(|l| l.as_str())
            .map(|l| l.trim_start_matches("torch.").to_string())
            .filter(|l| l.starts_with("sparse"))
            .unwrap_or_else(|| "sparse".into());
        return Some(format!("{} tensor {shown}", escape(&layout)));
    }
    Some(format!("tensor {shown} ({})", escape(&callable)))
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
            hint: ": more than any real checkpoint holds; the file is damaged or built to exhaust readers \
                   (a fixed limit)",
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
