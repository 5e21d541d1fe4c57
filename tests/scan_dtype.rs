//! Nested structured dtypes (issue 23, class 7 at any depth) on the corpus of
//! `tests/data/scan/dtype/`, made by `gen_dtype.py` there: each malicious file killed a real
//! `pickle.load` of it (a raw integer read as an object pointer two or three levels down, a subarray
//! of objects, a field past the item), each benign file is what numpy itself writes for nested,
//! subarray and titled dtypes with and without objects, and loads back equal.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;
use tensorscope::scan::scan_file;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan/dtype")
}

fn manifest() -> Vec<Value> {
    common::manifest::read(&dir())
}

#[test]
fn every_level_of_a_structured_dtype_is_checked() {
    let mut failures = Vec::new();
    let entries = manifest();
    assert!(entries.len() >= 10, "{} entries", entries.len());
    for e in entries {
        let file = e["file"].as_str().unwrap();
        let r = scan_file(&dir().join(file));
        let ok = common::manifest::matches(&e, &r, &["safe", "suspicious", "dangerous"]);
        if !ok {
            failures.push(format!("{file}: {} ({:?})", r.verdict, r.findings));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_field_past_the_item_names_its_end() {
    let r = scan_file(&dir().join("malicious/field-past-item.pkl"));
    assert!(
        r.findings
            .iter()
            .any(|f| f.why.contains("ends at byte 1048584 of a 8-byte item")),
        "{:?}",
        r.findings
    );
}
