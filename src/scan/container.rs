//! Where the pickles are: raw pickle files, legacy `torch.save` files, zip archives (torch and
//! `.npz`), numpy `.npy` object arrays.

use std::collections::{HashMap, HashSet};

pub(super) use super::tar::{is_tar, tar};
use super::walk::{self, Mode, Value};
use super::{Collector, FileScan, Severity};
use crate::formats::pickle::{allowlist, npy, zip};

/// Most bytes a deflated zip entry is inflated to for scanning; larger ones are suspicious.
pub const MAX_INFLATE: u64 = 256 << 20;

/// `0x1950a86a20f9469cfc6c`, the first pickle of a legacy `torch.save` file, as LONG1 bytes.
const LEGACY_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// The five pickles a legacy `torch.save` file starts with, named as entries in findings.
const LEGACY_PICKLES: [&str; 5] = ["magic number", "protocol version", "sys_info", "object", "storage keys"];

/// A file that starts with a pickle: a legacy `torch.save` file (when its first pickle is the torch
/// magic number) or a raw pickle file (every pickle until the end).
pub(super) fn pickle_file(mut c: Collector, path: String, data: &[u8]) -> FileScan {
    let (first, err) = walk::walk_one(data, 0);
    if err.is_none() && first.result == Value::Long(&LEGACY_MAGIC) && first.globals.is_empty() {
        legacy(&mut c, data);
        reader_check(&mut c, &path, data);
        return c.finish(path, "pytorch-legacy");
    }
    // joblib's array data is stepped over by joblib.load, but pickle.load reads it as opcodes
    c.walk("", 0, data, Mode::Strict);
    c.finish(path, "pickle")
}

/// The stacked pickles of a legacy file, then its storage data stepped over with the key list and
/// the element sizes of the persistent ids. Whatever cannot be accounted for is scanned as pickles.
/// Where a reader may go on from more than one place after a pickle (its frame runs past STOP, or
/// an argument past a frame's end: [`walk::PickleInfo::next_starts`]), each way on is walked.
fn legacy(c: &mut Collector, data: &[u8]) {
    // (where the next pickle starts, the pickles read so far on this way)
    let mut work = vec![(0usize, Vec::with_capacity(LEGACY_PICKLES.len()))];
    let mut seen = HashSet::new();
    let mut walked = HashSet::new();
    while let Some((pos, mut infos)) = work.pop() {
        let i = infos.len();
        if !seen.insert((i, pos)) {
            continue;
        }
        if seen.len() > LEGACY_PICKLES.len() + super::tar::MAX_RESUMES {
            let why = format!(
                "more than {} places where a reader could go on: the rest was not followed",
                super::tar::MAX_RESUMES
            );
            c.problem("", Some(pos as u64), Severity::Suspicious, why);
            break;
        }
        let Some(&name) = LEGACY_PICKLES.get(i) else {
            if walked.insert((i, pos)) {
                storages(c, data, pos, &infos);
            }
            continue;
        };
        let (info, err) = walk::walk_one(data, pos);
        let first = walked.insert((i, pos));
        if err.is_some() {
            // re-walk from here as a stream: reports the error and looks for pickles behind it
            if first {
                c.walk(name, pos as u64, &data[pos..], Mode::Strict);
            }
            continue;
        }
        if first {
            c.stream(
                name,
                0,
                &walk::Stream {
                    pickles: vec![info.clone()],
                    errors: Vec::new(),
                },
            );
            c.plain_if_joblib(name, pos as u64, &data[pos..], info.globals.iter());
        }
        let starts = info.next_starts();
        infos.push(info);
        for &next in starts.iter().skip(1).rev() {
            work.push((next, infos.clone()));
        }
        work.push((starts[0], infos));
    }
}

/// The storage data after the five pickles of a legacy file (`infos`), from `pos`.
fn storages(c: &mut Collector, data: &[u8], mut pos: usize, infos: &[walk::PickleInfo<'_>]) {
    if let Err(why) = skip_storages(data, &mut pos, &infos[3].persistent_ids, &infos[4].result) {
        c.problem(
            "storage data",
            Some(pos as u64),
            Severity::Suspicious,
            format!("cannot step over: {why}"),
        );
        c.walk("storage data", pos as u64, &data[pos..], Mode::Strict);
        return;
    }
    if pos < data.len() {
        let why = format!("{} bytes after the storage data", data.len() - pos);
        c.problem("after storage data", Some(pos as u64), Severity::Suspicious, why);
        c.walk("after storage data", pos as u64, &data[pos..], Mode::Strict);
    }
}

/// Advance `pos` over the storages: for each key, an 8-byte element count and the elements.
fn skip_storages(data: &[u8], pos: &mut usize, pids: &[Value<'_>], keys: &Value<'_>) -> Result<(), String> {
    let mut sizes: HashMap<&str, u64> = HashMap::new();
    for pid in pids {
        let Value::Tuple(t) = pid else { continue };
        let (Some(Value::Str(kind)), Some(Value::Global(g)), Some(Value::Str(key))) = (t.first(), t.get(1), t.get(2))
        else {
            continue;
        };
        if kind.as_ref() != "storage" {
            continue;
        }
        let size = match (g.0.as_str(), g.1.as_str()) {
            ("torch" | "torch.storage", "UntypedStorage") => 1,
            ("torch" | "torch.cuda", class) => match allowlist::storage_dtype(class) {
                Some(d) => u64::from(d.bits().div_ceil(8)),
                None => return Err(format!("unknown storage type {}.{}", g.0, g.1)),
            },
            _ => return Err(format!("unknown storage type {}.{}", g.0, g.1)),
        };
        sizes.insert(key.as_ref(), size);
    }
    let Value::List(keys) = keys else {
        return Err("the storage key list is not a list".into());
    };
    for key in keys.borrow().iter() {
        let Value::Str(key) = key else {
            return Err("a storage key is not a string".into());
        };
        let size = *sizes
            .get(key.as_ref())
            .ok_or_else(|| format!("storage key {key:?} has no persistent id"))?;
        let numel = data
            .get(*pos..*pos + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .ok_or_else(|| format!("storage {key:?}: element count past the end of the file"))?;
        let end = numel
            .checked_mul(size)
            .and_then(|n| n.checked_add(*pos as u64 + 8))
            .filter(|&e| e <= data.len() as u64)
            .ok_or_else(|| format!("storage {key:?}: {numel} elements run past the end of the file"))?;
        *pos = end as usize;
    }
    Ok(())
}

/// A zip archive: every central directory entry, pickles found by content, as our reader (and
/// torch's, absolute offsets) sees it and as Python's `zipfile` (what `np.load` uses) sees it.
pub(super) fn zip(mut c: Collector, path: String, data: &[u8]) -> FileScan {
    let (mut torch, mut numpy) = entries(&mut c, data, "", 0);
    match python_view(data) {
        PythonView::Same => {}
        PythonView::Shifted(concat) => {
            let why = format!(
                "{concat} bytes precede the archive: Python's zipfile (np.load) adds them to every offset and \
                 can read another directory than torch does (both were scanned)"
            );
            c.problem("", None, Severity::Suspicious, why);
            let (t, n) = entries(
                &mut c,
                &data[concat..],
                "(as Python's zipfile reads it) ",
                concat as u64,
            );
            torch |= t;
            numpy |= n;
        }
        PythonView::Differs(why) => c.problem("", None, Severity::Suspicious, why),
    }
    if torch {
        reader_check(&mut c, &path, data);
    }
    let format = if torch {
        "pytorch-zip"
    } else if numpy {
        "numpy-zip"
    } else {
        "zip"
    };
    c.finish(path, format)
}

/// A `.zip` that does not start as an archive but that Python's zipfile opens (see
/// [`zip_by_name`]): its members are scanned as Python's zipfile reads them. Only pandas reads
/// it so (`read_pickle` infers the zip from the name); `torch.load` and `np.load` sniff the first
/// bytes, which the archive does not start.
///
/// `first`: the scan of what the bytes start as (a safetensors file, an `.npy` array), which
/// `np.load` or a safetensors reader would open by name; its findings are kept, under its format.
pub(super) fn zip_by_python(mut c: Collector, path: String, data: &[u8], first: Option<FileScan>) -> FileScan {
    if let Some(mut first) = first {
        super::loaders::assign(&mut first);
        let entry = format!("(as {} reads it)", first.format);
        c.absorb(&entry, first);
    }
    let label = "(as Python's zipfile reads it) ";
    match python_view(data) {
        PythonView::Same => {
            entries(&mut c, data, label, 0);
        }
        PythonView::Shifted(concat) => {
            entries(&mut c, &data[concat..], label, concat as u64);
        }
        PythonView::Differs(why) => c.problem("", None, Severity::Suspicious, why),
    }
    let why = "the file does not start as a zip archive, but Python's zipfile finds one at its end, and \
               pandas.read_pickle opens it so by its .zip name (torch.load wants the archive at the start)";
    c.problem("", None, Severity::Suspicious, why.to_string());
    c.finish(path, super::loaders::PANDAS_ZIP_FORMAT)
}

/// Rebuild the tensors with the reader, which checks every view against its storage (negative
/// strides, views reaching past the end) and every storage against its data: what it refuses is
/// what memory-corruption exploits of `torch.load` are made of, so the file is not safe.
fn reader_check(c: &mut Collector, path: &str, data: &[u8]) {
    if let Err(e) = crate::formats::pickle::torch::read(std::path::Path::new(path), data) {
        let msg = match e {
            crate::Error::Format { msg, .. } => msg,
            e => e.to_string(),
        };
        let why = format!("tensor metadata that torch would have to trust: {msg}");
        c.problem("", None, Severity::Suspicious, why);
    }
}

/// How Python's `zipfile` finds the central directory, compared with our reader.
enum PythonView {
    /// Same offsets.
    Same,
    /// Python adds this many bytes to every offset (data before the archive).
    Shifted(usize),
    /// Python reads something we cannot line up.
    Differs(String),
}

/// Whether pandas would open `data` as a zip archive by its name (`read_pickle("x.zip")` infers
/// the compression from the name), though it does not start as one: Python's zipfile finds the
/// archive's end record, whatever bytes precede the archive.
pub(super) fn zip_by_name(path: &str, data: &[u8]) -> bool {
    path.to_ascii_lowercase().ends_with(".zip") && !data.starts_with(b"PK") && python_end(data).is_some()
}

/// Where Python's `_EndRecData` finds the end record: the last 22 bytes, else the last signature
/// in the last 64 KiB.
fn python_end(data: &[u8]) -> Option<usize> {
    const SIG: &[u8] = b"PK\x05\x06";
    let n = data.len();
    if n < 22 {
        return None;
    }
    if &data[n - 22..n - 18] == SIG && data[n - 2..] == [0, 0] {
        return Some(n - 22);
    }
    let lo = n.saturating_sub((1 << 16) + 22);
    match data[lo..].windows(4).rposition(|w| w == SIG) {
        Some(i) if lo + i + 22 <= n => Some(lo + i),
        _ => None,
    }
}

/// Python's end record (see [`python_end`]), its zip64 record read just before the locator (not
/// where the locator points), and the "concat".
fn python_view(data: &[u8]) -> PythonView {
    // where Python refuses it, our reader reports its own view
    let Some(pos) = python_end(data) else {
        return PythonView::Same;
    };
    let le32 = |at: usize| u64::from(u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]));
    let le64 = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&data[at..at + 8]);
        u64::from_le_bytes(b)
    };
    let (mut cd_size, mut cd_offset, mut extra) = (le32(pos + 12), le32(pos + 16), 0u64);
    if pos >= 20 && &data[pos - 20..pos - 16] == b"PK\x06\x07" {
        let pointed = le64(pos - 12);
        if pos >= 76 && &data[pos - 76..pos - 72] == b"PK\x06\x06" {
            let at = pos - 76;
            cd_size = le64(at + 40);
            cd_offset = le64(at + 48);
            extra = 76;
            if pointed != at as u64 {
                return PythonView::Differs(format!(
                    "the zip64 locator points at offset {pointed}, but Python's zipfile reads the zip64 record \
                     just before it (offset {at}): the readers see different directories"
                ));
            }
        }
    }
    let concat = (pos as i128) - i128::from(cd_size) - i128::from(cd_offset) - i128::from(extra);
    match concat {
        0 => PythonView::Same,
        c if c > 0 => PythonView::Shifted(c as usize),
        c => PythonView::Differs(format!(
            "the end record's directory offset and size overrun its position by {} bytes: Python's zipfile \
             and our reader disagree on where the directory is",
            -c
        )),
    }
}

/// Scan every entry of the archive in `data`; `label` prefixes entry names, `shift` is added to
/// offsets. Returns whether it looks like a torch archive and whether it holds `.npy` entries.
fn entries(c: &mut Collector, data: &[u8], label: &str, shift: u64) -> (bool, bool) {
    let archive = match zip::read(data) {
        Ok(a) => a,
        Err(e) => {
            c.problem(
                label.trim_end(),
                None,
                Severity::Suspicious,
                format!("cannot scan: the zip archive cannot be read: {e}"),
            );
            return (false, false);
        }
    };
    for p in &archive.problems {
        c.problem(
            label.trim_end(),
            None,
            Severity::Suspicious,
            format!("zip archive: {p}"),
        );
    }
    let (mut torch, mut numpy) = (false, false);
    let mut seen = HashSet::new();
    let storages = referenced_storages(data, &archive.entries);
    // pandas.read_pickle reads the only member of a zip, whatever its name, as a pickle
    let sole = archive.entries.len() == 1;
    // a torch.package archive: PackageImporter imports the modules it ships before installed ones
    let package = archive.entries.iter().any(|e| e.name.ends_with(".data/extern_modules"));
    let mut shipped_code = false;
    for e in &archive.entries {
        let named = format!("{label}{}", e.name);
        let name = named.as_str();
        let at = Some(e.local_header_offset + shift);
        if !seen.insert(e.raw_name()) {
            let why = "another entry has the same name: readers disagree on which one is loaded (each is scanned)";
            c.problem(name, at, Severity::Suspicious, why);
        }
        for m in &e.mismatches {
            c.problem(
                name,
                at,
                Severity::Suspicious,
                format!("local header disagrees with the central directory: {m}"),
            );
        }
        if e.is_encrypted() {
            let why = "flag bit 0 (encrypted) is set: torch reads the entry anyway, other scanners skip it";
            c.problem(name, at, Severity::Suspicious, why);
        }
        let lower = e.name.to_ascii_lowercase();
        // torch decides on a record named `constants.pkl` (the name below the archive's folder,
        // which torch.save names after the file: `code.pt` holds `code/data.pkl`), not on folders
        if is_torchscript_record(&e.name) {
            let why = "a TorchScript archive: torch.load hands it to torch.jit.load, which runs its code \
                       (CVE-2025-32434, even with weights_only=True before torch 2.6)";
            c.problem(name, at, Severity::Dangerous, why);
        }
        if let Some(err) = &e.error {
            c.problem(name, at, Severity::Suspicious, format!("cannot scan the entry: {err}"));
            continue;
        }
        if package && !shipped_code && lower.ends_with(".py") {
            shipped_code = true;
            let mark = c.mark();
            let why = "a torch.package archive that ships Python modules: PackageImporter imports them from the \
                       archive, ahead of installed modules of the same name, when it unpickles (running their code)";
            c.problem(name, at, Severity::Dangerous, why);
            c.loaders_since(mark, &[super::loaders::TORCH_PACKAGE]);
        }
        let content = match zip::content(data, e, MAX_INFLATE) {
            Ok(content) => content,
            Err(err) => {
                c.problem(name, at, Severity::Suspicious, format!("cannot scan the entry: {err}"));
                continue;
            }
        };
        torch |= lower.ends_with("data.pkl");
        numpy |= lower.ends_with(".npy");
        if let Some(kind) = super::shipped_code::native_library(&content) {
            let mark = c.mark();
            let why = format!(
                "a native library ({kind}): AOTInductor packages are loaded with dlopen, which runs the library's \
                 constructors: compiled code, not data"
            );
            c.problem(name, at, Severity::Dangerous, why);
            c.loaders_since(mark, &[super::loaders::AOTI]);
        }
        if lower.ends_with(".json")
            && let Some((severity, why)) = super::shipped_code::sym_exprs(&content)
        {
            let mark = c.mark();
            c.problem(name, at, severity, why);
            c.loaders_since(mark, &[super::loaders::TORCH_EXPORT]);
        }
        if content.starts_with(npy::MAGIC) {
            // numpy.load reads any member that starts with the magic as an array (an object one
            // through pickle), whatever a data.pkl beside it calls it
            let mark = c.mark();
            npy_scan(c, name, &content);
            c.loaders_since(mark, &[super::loaders::NUMPY]);
        } else if storages.contains(e.name.as_str()) && !sole {
            storage_entry(c, label, name, &content);
            continue;
        } else if let Some(nested) = nested_file(label, name, &content) {
            // an archive or compressed file inside the archive (a torch.save file in a .pt2, which
            // torch.export.load hands to torch.load): scanned as a file of its own
            c.absorb(name, nested);
        } else {
            let mode = if lower.ends_with(".pkl") || lower.ends_with(".pickle") || sole {
                Mode::Strict
            } else {
                Mode::Probe
            };
            c.walk(name, 0, &content, mode);
        }
    }
    (torch, numpy)
}

#[path = "container_storage.rs"]
mod storage;
use storage::{referenced_storages, storage_entry};

/// Most archives inside archives scanned (a zip quine holds itself forever).
const MAX_NESTED: u32 = 3;

thread_local! {
    /// How deep the scan is inside nested archives on this thread.
    static NESTED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// The scan of a member that is itself a file a loader opens whole: a zip or tar archive, or a
/// compressed stream. `None` for anything else (pickles, raw data), which the caller walks.
fn nested_file(label: &str, name: &str, content: &[u8]) -> Option<FileScan> {
    let compressed = super::compress::kind(content).is_some();
    if !(content.starts_with(b"PK\x03\x04") || is_tar(content) || compressed) {
        return None;
    }
    let depth = NESTED.with(std::cell::Cell::get);
    let path = format!("{label}/{name}");
    if depth >= MAX_NESTED {
        let why = format!("an archive nested more than {MAX_NESTED} deep is not scanned");
        return Some(super::cannot_scan(path, "unknown", &why));
    }
    NESTED.with(|n| n.set(depth + 1));
    let scan = super::scan_bytes(path, content);
    NESTED.with(|n| n.set(depth));
    // two bytes of raw weights can look like a zlib or LZMA header (`78 9c`, `5d 00`): data that no
    // decompressor opens at all is not compressed, and is walked as the member it is
    if compressed && !scan.format.contains('/') {
        return None;
    }
    Some(scan)
}

/// Whether a zip record is what makes torch hand the archive to `torch.jit.load`: `constants.pkl`
/// right below the archive's top folder (torch's reader strips that folder from every record). Its
/// zip reader (miniz) finds records whatever their case, so `CONSTANTS.PKL` still makes an archive
/// that `torch.jit.load` runs.
fn is_torchscript_record(name: &str) -> bool {
    let record = name.split_once('/').map_or(name, |(_, r)| r);
    record.eq_ignore_ascii_case("constants.pkl")
}

/// A numpy `.npy` file.
pub(super) fn npy(mut c: Collector, path: String, data: &[u8]) -> FileScan {
    npy_scan(&mut c, "", data);
    c.finish(path, "numpy")
}

fn npy_scan(c: &mut Collector, entry: &str, data: &[u8]) {
    match npy::header(data) {
        Err(e) => c.problem(entry, Some(0), Severity::Suspicious, format!("cannot scan: {e}")),
        Ok(h) if h.object => {
            let body = &data[h.data_offset..];
            c.walk(entry, h.data_offset as u64, body, Mode::Strict);
        }
        Ok(_) => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_torchscript_record_is_found_whatever_its_case() {
        for name in ["m/constants.pkl", "m/CONSTANTS.PKL", "m/Constants.Pkl", "constants.pkl"] {
            assert!(super::is_torchscript_record(name), "{name}");
        }
        for name in ["m/data.pkl", "m/code/constants.pkl", "m/constants.pkl.bak"] {
            assert!(!super::is_torchscript_record(name), "{name}");
        }
    }
}
