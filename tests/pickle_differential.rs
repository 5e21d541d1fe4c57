//! The reader and the scanner run one opcode semantics (`formats::pickle::interp`): this runs both
//! over every pickle in the repository's corpora (`tests/data/**`, `samples/**`, `fuzz/corpus/**`,
//! `fuzz/regressions/**`: whole files, the `.pkl` members of zip archives, the members of tar
//! archives, and what gzip, xz, raw LZMA and zlib wrappers hold) and checks that they agree, pickle
//! by pickle along each stream (a legacy `torch.save` file is five pickles, then storage bytes):
//!
//! - **Both read the pickle**: the same end (the next pickle of the stream starts at the same
//!   byte), and the same globals reached.
//! - **The reader stops on the stack, memo or opcode stream** (a pop from an empty stack, a missing
//!   MARK or memo entry, a stack or memo limit, bytes that are no opcode, no STOP): the scanner
//!   stops at the same opcode (and, for a limit, calls it a limit, never the end of the pickle).
//! - **The reader refuses what it cannot rebuild as data** (any other error): the scanner walks on
//!   past it, or stops no earlier. These are the rules by which the scanner is more thorough:
//!   it records extension codes and out-of-band buffers as unknown values, reads any protocol
//!   number, reads broken text literals as latin-1 and bytes as names, never checks a tensor's
//!   arguments, a container's type or an integer's digits, and has no heap or work limit.
//! - **The scanner stops where the reader reads on** only at its own recording limit: more than
//!   `MAX_GLOBALS` distinct globals in one pickle.
//!
//! Globals are compared as the scanner records them: names cut to `MAX_NAME` bytes, a STACK_GLOBAL
//! name longer than `MAX_TEXT` is only known at load time (`?`), and globals of pickles nested in
//! bytes arguments (which the scanner probes and the reader keeps as bytes) are left out. joblib's
//! array data is read as opcodes by both (a plain unpickler, [`walk::walk_one_plain`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use tensorscope::formats::pickle::machine::{self, MachineError};
use tensorscope::formats::pickle::value::Node;
use tensorscope::formats::pickle::zip;
use tensorscope::scan::compress;
use tensorscope::scan::walk::{self, MAX_GLOBALS, MAX_NAME, MAX_TEXT, WalkError, is_limit};

/// Largest member or decompressed stream compared.
const LIMIT: u64 = 64 << 20;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every byte stream of `data` that a loader could unpickle: the file, its zip `.pkl` members, its
/// tar members, and what a compression wrapper holds (one level).
fn streams(name: &str, data: Vec<u8>, depth: u32, out: &mut Vec<(String, Vec<u8>)>) {
    if depth < 2 {
        if data.starts_with(b"PK")
            && let Ok(a) = zip::read(&data)
        {
            for e in &a.entries {
                let member = String::from_utf8_lossy(e.raw_name()).into_owned();
                if member.ends_with(".pkl")
                    && let Ok(c) = zip::content(&data, e, LIMIT)
                {
                    streams(&format!("{name}:{member}"), c.into_owned(), depth + 1, out);
                }
            }
        }
        for (member, bytes) in tar_members(&data) {
            streams(&format!("{name}:{member}"), bytes, depth + 1, out);
        }
        let unpacked = match data.as_slice() {
            [0x1f, 0x8b, ..] => compress::gunzip(&data, LIMIT).ok(),
            [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => compress::unlzma(&data, true, LIMIT).ok(),
            [0x5d, 0, 0, ..] => compress::unlzma(&data, false, LIMIT).ok(),
            [0x78, 0x01 | 0x5e | 0x9c | 0xda, ..] => compress::unzlib(&data, LIMIT).ok(),
            _ => None,
        };
        if let Some(u) = unpacked {
            streams(&format!("{name}:unpacked"), u, depth + 1, out);
        }
    }
    out.push((name.to_owned(), data));
}

/// The members of a ustar archive (legacy `torch.save` tar checkpoints), without pax headers.
fn tar_members(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 512 <= data.len() && data.get(at + 257..at + 262) == Some(b"ustar") {
        let h = &data[at..at + 512];
        let name = String::from_utf8_lossy(h[..100].split(|&b| b == 0).next().unwrap_or_default()).into_owned();
        let size = std::str::from_utf8(&h[124..136])
            .ok()
            .and_then(|s| u64::from_str_radix(s.trim_matches(|c: char| c == '\0' || c == ' '), 8).ok());
        let Some(size) = size.and_then(|s| usize::try_from(s).ok()) else {
            break;
        };
        let body = at + 512;
        let Some(end) = body.checked_add(size).filter(|&e| e <= data.len()) else {
            break;
        };
        if h[156] == b'0' || h[156] == 0 {
            out.push((name, data[body..end].to_vec()));
        }
        at = body + size.div_ceil(512) * 512;
    }
    out
}

/// A name as the scanner records it.
fn cut(s: &str) -> String {
    if s.len() > MAX_TEXT {
        return "?".into();
    }
    if s.len() <= MAX_NAME {
        return s.to_owned();
    }
    let mut end = MAX_NAME;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Whether a reader error is a fault of the stack, memo or opcode stream (the shared semantics),
/// rather than a refusal of data it cannot rebuild.
fn structural(e: &MachineError) -> bool {
    match e {
        MachineError::Op(_) => true,
        MachineError::Limit { what, .. } => matches!(*what, "stack entries" | "memo entries"),
        MachineError::Bad { msg, .. } => {
            [
                "pop from an empty stack",
                "the stack is empty",
                "no MARK on the stack",
                "OBJ without a class",
            ]
            .contains(&msg.as_str())
                || msg.starts_with("memo entry ")
        }
    }
}

fn offset(e: &MachineError) -> usize {
    match e {
        MachineError::Op(o) => o.offset,
        MachineError::Limit { offset, .. } | MachineError::Bad { offset, .. } => *offset,
    }
}

#[derive(Default)]
struct Tally {
    pickles: usize,
    with_globals: usize,
    rules: BTreeMap<&'static str, usize>,
    failures: Vec<String>,
}

/// Compare reader and scanner along one stream.
fn compare(name: &str, data: &[u8], t: &mut Tally) {
    let mut start = 0usize;
    while start < data.len() {
        let read = machine::load(data, start);
        let (info, err) = walk::walk_one_plain(data, start);
        t.pickles += 1;
        let here = format!("{name} @{start}");
        match (read, err) {
            (Ok(l), None) => {
                let mut reader = BTreeSet::new();
                for id in 0..l.heap.len() {
                    if let Some(Node::Global(g)) = l.heap.get(id as u32) {
                        reader.insert((cut(&g.module), cut(&g.name)));
                    }
                }
                let scanner: BTreeSet<(String, String)> = info
                    .globals
                    .iter()
                    .filter(|g| !g.nested)
                    .map(|g| (g.module.clone(), g.name.clone()))
                    .collect();
                if !reader.is_empty() {
                    t.with_globals += 1;
                }
                // an argument running past its frame: the scanner also reads it as the C unpickler
                // does from io.BytesIO (again from the frame's end), so it may name more and end
                // elsewhere; what the reader names must still be among what the scanner names
                let crossing = info
                    .hazards
                    .iter()
                    .any(|h| h.why.starts_with("an argument runs past the end of its FRAME"));
                if crossing && reader.is_subset(&scanner) {
                    *t.rules
                        .entry("an argument crosses a frame's end: the scanner reads it both ways")
                        .or_default() += 1;
                    return;
                }
                if l.end != info.end {
                    t.failures.push(format!(
                        "{here}: the reader ends at {}, the scanner at {}",
                        l.end, info.end
                    ));
                }
                if reader != scanner {
                    t.failures.push(format!(
                        "{here}: globals differ: reader {reader:?}, scanner {scanner:?}"
                    ));
                }
                if l.end != info.end || reader != scanner {
                    return;
                }
                start = l.end;
            }
            (Ok(l), Some(WalkError { msg, .. })) => {
                if msg.contains(&format!("more than {MAX_GLOBALS} distinct globals")) {
                    *t.rules
                        .entry("scanner: more than MAX_GLOBALS distinct globals")
                        .or_default() += 1;
                } else {
                    t.failures.push(format!(
                        "{here}: the reader reads to {}, the scanner stops: {msg}",
                        l.end
                    ));
                }
                return;
            }
            // the reader refuses a FRAME longer than the data as the C unpickler does; the scanner
            // reads on as the pure-Python unpickler (joblib.load's) does
            (Err(e), scan)
                if e.to_string().contains("pickle truncated: FRAME")
                    && scan.as_ref().is_none_or(|s| s.offset > offset(&e)) =>
            {
                *t.rules
                    .entry("a FRAME longer than the data: the reader stops, the scanner reads on")
                    .or_default() += 1;
                return;
            }
            (Err(e), scan) if structural(&e) => {
                let at = offset(&e);
                let agree = match &scan {
                    // "pickle ends without STOP": the reader names the last opcode, the scanner the end
                    Some(s) if matches!(e, MachineError::Op(_)) => s.offset == at,
                    Some(s) => s.offset == at && (!matches!(e, MachineError::Limit { .. }) || is_limit(&s.msg)),
                    None => false,
                };
                if agree {
                    *t.rules
                        .entry("both stop at the same opcode (stack, memo or opcode stream)")
                        .or_default() += 1;
                } else {
                    t.failures
                        .push(format!("{here}: the reader stops at {at}: {e}; the scanner: {scan:?}"));
                }
                return;
            }
            (Err(e), scan) if matches!(&e, MachineError::Bad { msg, .. } if msg == "pickle ends without STOP") => {
                if scan.is_some() {
                    *t.rules.entry("both stop: the stream ends without STOP").or_default() += 1;
                } else {
                    t.failures
                        .push(format!("{here}: the reader finds no STOP, the scanner does"));
                }
                return;
            }
            (Err(e), scan) => {
                let at = offset(&e);
                match scan {
                    Some(s) if s.offset < at => {
                        t.failures.push(format!(
                            "{here}: the scanner stops at {} ({}) before the reader refuses data at {at}: {e}",
                            s.offset, s.msg
                        ));
                    }
                    _ => {
                        *t.rules
                            .entry("reader refuses data it cannot rebuild; the scanner walks on")
                            .or_default() += 1
                    }
                }
                return;
            }
        }
    }
}

#[test]
fn reader_and_scanner_agree_on_every_corpus_pickle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    for dir in ["tests/data", "samples", "fuzz/corpus", "fuzz/regressions"] {
        files(&root.join(dir), &mut paths);
    }
    let mut all = Vec::new();
    for p in &paths {
        let data = std::fs::read(p).unwrap();
        let name = p.strip_prefix(root).unwrap_or(p).display().to_string();
        streams(&name, data, 0, &mut all);
    }
    let mut t = Tally::default();
    for (name, data) in &all {
        compare(name, data, &mut t);
    }
    eprintln!(
        "{} files, {} streams, {} pickles compared ({} reached globals); by rule: {:?}",
        paths.len(),
        all.len(),
        t.pickles,
        t.with_globals,
        t.rules
    );
    assert!(paths.len() > 5000, "the corpora are missing: {} files", paths.len());
    assert!(
        t.with_globals > 200,
        "too few pickles reach a global: {}",
        t.with_globals
    );
    assert!(
        t.failures.is_empty(),
        "{} disagreements:\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
}
