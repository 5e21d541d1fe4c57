//! numpy arrays as tensors, read as `np.load` reads them and never unpickled.
//!
//! An `.npy` file is one tensor, named by the file's stem (`embeddings.npy` → `embeddings`). An
//! `.npz` archive (`np.savez`, `np.savez_compressed`) is one tensor per array member, named by the
//! member's name without `.npy`, as `np.load(…)[name]` names it. A stored member is a view into the
//! mapped archive; a deflated one has only its header inflated here, and its values are inflated
//! on first use (see [`crate::model::inflated`]). The header's dict is parsed by
//! [`super::npy::header_dict`], the archive by [`super::zip`].
//!
//! Arrays of Python objects and structured arrays are no tensors: a lone `.npy` of one is refused,
//! an `.npz` member of one is left out with a warning (np.load reads the other members without
//! unpickling anything). Big-endian arrays are listed with their numpy spelling (`>f4`) as dtype,
//! and their values are not decoded.

use std::ops::Range;
use std::path::Path;

use super::arrays_dtype::{Layout, layout, show_shape};
use super::npy::{self, MAGIC, MAX_HEADER};
use super::zip;
use crate::model::inflated::Inflated;
use crate::model::{Format, MAX_TENSORS, TensorInfo};
use crate::text::escape;
use crate::{Error, Result};

/// Bytes of a compressed member inflated to read its header first (more, up to the longest header
/// accepted, only when its header is longer; numpy writes 128 bytes).
const HEADER_PROBE: usize = 4096;

/// Largest member inflated for its values (`show`, `diff`), checked against the size the zip
/// directory declares before anything is inflated: a member is held whole in memory.
pub const MAX_MEMBER_INFLATED: u64 = zip::MAX_INFLATED;

/// The tensors of an `.npy` file or `.npz` archive.
#[derive(Debug, Default)]
pub struct Arrays {
    /// Every array that is a tensor, in file order; `file` is 0.
    pub tensors: Vec<TensorInfo>,
    /// Compressed members' storages, inflated on first use (`file` 0), sorted by storage.
    pub inflated: Vec<Inflated>,
    /// Members left out, big-endian arrays, bytes numpy ignores.
    pub warnings: Vec<String>,
    /// [`Format::Npy`] or [`Format::Npz`].
    pub format: Option<Format>,
}

/// Whether a zip archive is an `.npz`: its first member's name ends with `.npy`, as every member
/// `np.savez` writes does (a `torch.save` archive starts with `<top>/data.pkl`); for an archive
/// that starts with neither, whether any member is an `.npy` and none a `data.pkl`.
pub fn looks_npz(data: &[u8]) -> bool {
    let first = data
        .get(26..28)
        .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
        .and_then(|len| data.get(30..30 + len))
        .filter(|_| data.starts_with(b"PK\x03\x04"));
    match first {
        Some(n) if n.ends_with(b".npy") => true,
        Some(n) if n.ends_with(b"data.pkl") => false,
        _ => zip::read(data).is_ok_and(|a| {
            a.entries.iter().any(|e| e.name.ends_with(".npy"))
                && !a.entries.iter().any(|e| e.name.ends_with("data.pkl"))
        }),
    }
}

/// Read the `.npy` file mapped in `data` as one tensor named by `path`'s stem.
pub fn read_npy(path: &Path, data: &[u8]) -> Result<Arrays> {
    let fmt = |m: String| Error::format(path, m);
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = Arrays {
        format: Some(Format::Npy),
        ..Arrays::default()
    };
    let (h, dict) = npy::header_dict(data).map_err(&fmt)?;
    let l = layout(&h, &dict).map_err(&fmt)?.map_err(|n| fmt(n.0))?;
    let start = h.data_offset as u64;
    let have = data.len() as u64 - start;
    check_size(&l, &h.descr, have, "the file").map_err(&fmt)?;
    if have > l.nbytes {
        out.warnings.push(format!(
            "{} bytes after the array's data, which np.load ignores",
            have - l.nbytes
        ));
    }
    out.warnings.extend(l.note.clone());
    out.tensors.push(tensor(name, l, start, path)?);
    Ok(out)
}

/// Read the `.npz` archive mapped in `data`.
pub fn read_npz(path: &Path, data: &[u8]) -> Result<Arrays> {
    let fmt = |m: String| Error::format(path, m);
    let archive = zip::read(data).map_err(|e| fmt(format!("damaged .npz archive: {}", e.0)))?;
    let mut out = Arrays {
        format: Some(Format::Npz),
        ..Arrays::default()
    };
    out.warnings
        .extend(archive.problems.iter().map(|p| format!("zip archive: {p}")));
    // compressed members are addressed past the end of the file, one after another
    let mut next_virtual = data.len() as u64;
    let mut left_out = Vec::new();
    for e in &archive.entries {
        let shown = escape(&e.name);
        let key = e.name.strip_suffix(".npy").unwrap_or(&e.name).to_owned();
        let member = |m: String| fmt(format!("member {shown}: {m}"));
        if let Some(err) = &e.error {
            return Err(member(err.clone()));
        }
        out.warnings
            .extend(e.mismatches.iter().map(|m| format!("member {shown}: {m}")));
        if e.name.ends_with('/') {
            continue;
        }
        let head: std::borrow::Cow<[u8]> = if e.is_stored() {
            std::borrow::Cow::Borrowed(
                member_bytes(data, &e.data).ok_or_else(|| member("data outside the file".into()))?,
            )
        } else if e.is_deflated() && !e.is_encrypted() {
            std::borrow::Cow::Owned(header_of_deflated(data, e).map_err(&member)?)
        } else {
            out.warnings.push(format!(
                "member {shown}: compressed with zip method {}{}, which tensorscope does not read: left out",
                e.method,
                if e.is_encrypted() { " and encrypted" } else { "" }
            ));
            continue;
        };
        if !head.starts_with(MAGIC) {
            // np.load gives such a member's bytes, not an array
            out.warnings.push(format!(
                "member {shown} is not an .npy array (np.load gives its bytes): left out"
            ));
            continue;
        }
        let (h, dict) = npy::header_dict(&head).map_err(&member)?;
        let l = match layout(&h, &dict).map_err(&member)? {
            Ok(l) => l,
            Err(why) => {
                left_out.push(format!("member {shown}: {}", why.0));
                continue;
            }
        };
        let size = if e.is_stored() {
            e.data.end - e.data.start
        } else {
            e.uncompressed_size
        };
        check_size(&l, &h.descr, size.saturating_sub(h.data_offset as u64), "the member").map_err(&member)?;
        if let Some(note) = &l.note {
            out.warnings.push(format!("member {shown}: {note}"));
        }
        if out.tensors.len() >= MAX_TENSORS {
            return Err(Error::Limit {
                path: path.into(),
                what: "tensor count",
                value: out.tensors.len() as u64 + 1,
                limit: MAX_TENSORS as u64,
                hint: ": a fixed limit of every reader",
            });
        }
        let skip = h.data_offset as u64;
        if e.is_stored() {
            let t = tensor(key, l, e.data.start + skip, path)?;
            out.tensors.push(t);
        } else {
            let storage = next_virtual..next_virtual + l.nbytes;
            next_virtual = storage.end;
            out.inflated.push(Inflated::new(
                storage.clone(),
                e.data.clone(),
                e.uncompressed_size,
                skip,
                inflate_member,
                e.name.clone(),
            ));
            let mut t = tensor(key, l, 0, path)?;
            t.storage = storage;
            out.tensors.push(t);
        }
    }
    if out.tensors.is_empty() && !left_out.is_empty() {
        return Err(fmt(format!("no member is a tensor: {}", left_out.join("; "))));
    }
    out.warnings
        .extend(left_out.into_iter().map(|w| format!("{w}: left out")));
    Ok(out)
}

/// Inflate a whole member for its values, within [`MAX_MEMBER_INFLATED`].
fn inflate_member(raw: &[u8], size: u64) -> std::result::Result<Vec<u8>, String> {
    if size > MAX_MEMBER_INFLATED {
        return Err(format!(
            "inflates to {}, more than the limit of {} for one compressed member read for its values (a fixed \
             limit: the member is held in memory); np.load it and np.savez it uncompressed to read it in place",
            crate::text::bytes(size),
            crate::text::bytes(MAX_MEMBER_INFLATED)
        ));
    }
    zip::inflate(raw, size)
}

/// The first bytes of a deflated member, enough for its `.npy` header.
fn header_of_deflated(data: &[u8], e: &zip::Entry) -> std::result::Result<Vec<u8>, String> {
    let raw = member_bytes(data, &e.data).ok_or("data outside the file")?;
    let size = usize::try_from(e.uncompressed_size).unwrap_or(usize::MAX);
    let head = zip::inflate_prefix(raw, HEADER_PROBE.min(size))?;
    if head.len() < HEADER_PROBE.min(size) {
        return Err(format!(
            "inflates to {} bytes where the zip directory says {}: the archive is damaged",
            head.len(),
            e.uncompressed_size
        ));
    }
    match npy::header(&head) {
        // a header longer than the probe: inflate up to the longest one accepted
        Err(m) if m.contains("past the end") && size > HEADER_PROBE => {
            zip::inflate_prefix(raw, size.min(MAX_HEADER + 12))
        }
        _ => Ok(head),
    }
}

/// `data[r]`, when it lies inside `data`.
fn member_bytes<'a>(data: &'a [u8], r: &Range<u64>) -> Option<&'a [u8]> {
    data.get(usize::try_from(r.start).ok()?..usize::try_from(r.end).ok()?)
}

/// The data after the header must hold the array: a shorter one is cut (np.load fails on it).
fn check_size(l: &Layout, descr: &str, have: u64, what: &str) -> std::result::Result<(), String> {
    if have < l.nbytes {
        return Err(format!(
            "truncated: shape {} of {descr} needs {} bytes of data after the header but {what} holds {have}; \
             re-download or re-save it",
            show_shape(&l.shape),
            l.nbytes
        ));
    }
    Ok(())
}

fn tensor(name: String, l: Layout, start: u64, path: &Path) -> Result<TensorInfo> {
    let storage: Range<u64> = start..start + l.nbytes;
    let t = TensorInfo {
        name,
        dtype: l.dtype,
        shape: l.shape,
        file: 0,
        storage,
        offset: 0,
        strides: l.strides,
    };
    t.check_extent().map_err(|m| Error::format(path, m))?;
    Ok(t)
}
