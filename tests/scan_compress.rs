//! bzip2 and zstd pickles (issue 23, class 3) on the corpus of `tests/data/scan/compress/`, made by
//! `gen_compress.py` there: each malicious file reached `posix.system` through `joblib.load` or
//! `pandas.read_pickle` (split across streams or frames, after a skippable frame, with trailing
//! data), each benign file is what joblib and pandas write and loads. Before, every one of them was
//! "suspicious, not opened": the payloads were never seen and the benign files were false alarms.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;
use tensorscope::scan::{Verdict, scan_file, scan_paths};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan/compress")
}

fn manifest() -> Vec<Value> {
    common::manifest::read(&dir())
}

#[test]
fn bzip2_and_zstd_pickles_are_opened_and_scanned() {
    let mut failures = Vec::new();
    let entries = manifest();
    assert!(entries.len() >= 11, "{} entries", entries.len());
    for e in entries {
        let file = e["file"].as_str().unwrap();
        let r = scan_file(&dir().join(file));
        let ok = common::manifest::matches(&e, &r, &["safe", "dangerous"]);
        let layer = if file.ends_with(".bz2") { "bzip2/" } else { "zstd/" };
        if !ok || !r.format.starts_with(layer) {
            failures.push(format!("{file}: {} [{}] ({:?})", r.verdict, r.format, r.findings));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_folder_scan_finds_every_compressed_payload() {
    let folder = dir().join("malicious");
    let r = scan_paths(std::slice::from_ref(&folder)).unwrap();
    let n = manifest().iter().filter(|e| e["expect"] == "dangerous").count();
    let dangerous = r.files.iter().filter(|f| f.verdict == Verdict::Dangerous).count();
    assert_eq!(dangerous, n, "{:?} skipped {:?}", r.files, r.skipped);
}
