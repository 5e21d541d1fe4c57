//! `torch.save` files (zip and legacy) -> tensors as views into the mapped file.
//!
//! The zip format (torch >= 1.6) is an uncompressed archive `<top>/data.pkl`, `<top>/data/<key>`,
//! `<top>/byteorder`, …; `<top>` is whatever the first entry's folder is, as torch reads it. The pickle
//! is run by the restricted [`machine`]; each storage it names resolves to the byte range of its
//! record, and each tensor becomes a view (offset, shape, strides) over that range, checked to stay
//! inside it. Nothing is copied: the ranges point into the caller's map. The legacy format lives in
//! [`super::legacy`]; both share the walk that names tensors by key path (`collect.rs`).
//!
//! This file is the dispatcher: it calls the fast path (`fast.rs`), the general machine and the
//! legacy reader, none of which calls back; what they share stands below them in `collect.rs`.

use std::ops::Range;
use std::path::Path;

pub use super::collect::{MAX_LISTING_BYTES, MAX_PATH_DEPTH, MAX_TENSORS, ROOT_TENSOR_NAME, TorchFile};
use super::collect::{collect, machine_error};
use super::fast;
use super::machine;
use super::value::Storage;
use super::zip;
use crate::formats::sniff::READS;
use crate::model::Format;
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

/// [`read`] through the general machine only, never the fast path (for the differential tests).
#[cfg(test)]
pub(crate) fn read_general(path: &Path, data: &[u8]) -> Result<TorchFile> {
    read_zip(path, data, &mut |_| {}, false)
}

fn read_zip(path: &Path, data: &[u8], prefetch: &mut dyn FnMut(Range<u64>), fast: bool) -> Result<TorchFile> {
    let fmt = |m: String| Error::format(path, m);
    let archive = zip::read_prefetching(data, prefetch).map_err(|e| {
        // each message names the archive once ("zip archive: not a zip archive" read twice)
        fmt(if e.0.contains("zip") {
            e.0
        } else {
            format!("damaged zip archive: {}", e.0)
        })
    })?;
    let first = archive
        .entries
        .first()
        .ok_or_else(|| fmt(format!("not a torch.save file: an empty zip archive; {READS}")))?;
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
            fmt(format!("not a torch.save file: a numpy .npz archive; {READS}"))
        } else if m.starts_with("no ") {
            fmt(format!("not a torch.save file: a zip archive with {m}; {READS}"))
        } else if m.starts_with("the archive holds") || m.contains("refusing") {
            fmt(m)
        } else {
            fmt(format!("{m}: the archive is damaged; re-download it"))
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
            other => {
                return Err(fmt(format!(
                    "unknown byteorder {} (torch writes little or big): the archive is damaged; re-download it",
                    escape(&String::from_utf8_lossy(other))
                )));
            }
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
        let nbytes = s.dtype.bytes_for(s.numel).ok_or_else(|| {
            format!(
                "storage {}: {} elements of {} overflow a 64-bit byte size: the pickle is damaged; \
                 re-download the file or re-save it with torch",
                escape(&name),
                s.numel,
                s.dtype
            )
        })?;
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
