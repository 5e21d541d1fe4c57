//! The scan corpora's `manifest.json` files (one entry per file: `file`, `expect`, `global`), and the one
//! reading of an entry's expectation.

use std::path::Path;

use serde_json::Value;
use tensorscope::scan::{FileScan, Severity, Verdict};

/// The entries of `dir/manifest.json`.
pub fn read(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest");
    serde_json::from_str::<Vec<Value>>(&text).expect("manifest JSON")
}

/// Whether scan `r` is what entry `e` expects: `safe`; `suspicious`, anything but safe; `dangerous`,
/// a dangerous verdict with a dangerous finding naming the entry's `global`. `expects` lists the
/// expectations this corpus may hold (another one is a broken manifest). Every finding must name the
/// loaders that would run it.
pub fn matches(e: &Value, r: &FileScan, expects: &[&str]) -> bool {
    let expect = e["expect"].as_str().expect("expect");
    assert!(expects.contains(&expect), "manifest expect {expect}");
    let ok = match expect {
        "safe" => r.verdict == Verdict::Safe,
        "suspicious" => r.verdict != Verdict::Safe,
        "dangerous" => {
            r.verdict == Verdict::Dangerous
                && r.findings
                    .iter()
                    .any(|f| f.severity == Severity::Dangerous && f.global.as_deref() == e["global"].as_str())
        }
        other => panic!("manifest expect {other}"),
    };
    ok && r.findings.iter().all(|f| !f.loaders.is_empty())
}
