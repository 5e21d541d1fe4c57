//! Scanner v2 (issue 13) on the regression corpus of `tests/data/scan/`, made and confirmed against
//! the real loaders by `scripts/make_scan_corpus.py`: every malicious file is not safe (dangerous,
//! naming its global, where the manifest says so), the files torch's `weights_only` loader accepts
//! are safe, and the ones it refuses are suspicious, not dangerous.

use std::path::Path;

use serde_json::Value;
use tensorscope::scan::{ScanOptions, Severity, Verdict, scan_file, scan_file_with};

fn manifest() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan");
    let text = std::fs::read_to_string(dir.join("manifest.json")).expect("manifest");
    serde_json::from_str::<Vec<Value>>(&text).expect("manifest JSON")
}

fn path(entry: &Value) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/scan")
        .join(entry["file"].as_str().unwrap())
}

fn check(class: Option<&str>) {
    let mut failures = Vec::new();
    let mut n = 0;
    for e in manifest() {
        if class.is_some_and(|c| e["class"] != c) {
            continue;
        }
        n += 1;
        let r = scan_file(&path(&e));
        let expect = e["expect"].as_str().unwrap();
        let ok = match expect {
            "safe" => r.verdict == Verdict::Safe,
            "suspicious" => {
                r.verdict == Verdict::Suspicious
                    || e["file"].as_str().unwrap().starts_with("malicious/") && r.verdict == Verdict::Dangerous
            }
            "dangerous" => r.verdict == Verdict::Dangerous,
            other => panic!("manifest expect {other}"),
        };
        let named = e["global"].as_str().is_none_or(|g| {
            r.findings.iter().any(|f| {
                f.global.as_deref() == Some(g)
                    && !f.why.is_empty()
                    && (expect != "dangerous" || f.severity == Severity::Dangerous)
            })
        });
        if !ok || !named {
            failures.push(format!("{}: {} ({:?})", e["file"], r.verdict, r.findings));
        }
    }
    assert!(n > 0, "no corpus files of class {class:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn polyglots_are_not_safe() {
    check(Some("polyglot"));
}

#[test]
fn v7_tar_checkpoints_are_scanned() {
    check(Some("tar"));
}

#[test]
fn frame_resume_points_are_scanned() {
    check(Some("stream"));
}

#[test]
fn npy_headers_are_read_as_python_literals() {
    check(Some("npy-header"));
}

#[test]
fn zip_directories_as_python_reads_them() {
    check(Some("zip"));
}

#[test]
fn compressed_pickles_are_opened() {
    check(Some("compressed"));
}

#[test]
fn protocol_0_number_text_as_cpython_reads_it() {
    check(Some("protocol-0"));
}

#[test]
fn allowlisted_globals_that_do_harm() {
    check(Some("allowlisted-harm"));
}

#[test]
fn torchscript_archives_are_dangerous() {
    check(Some("torchscript"));
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan");
    let r = scan_file(&dir.join("malicious/torchscript.pt"));
    assert!(
        r.findings
            .iter()
            .any(|f| f.severity == Severity::Dangerous && f.why.contains("TorchScript")),
        "{:?}",
        r.findings
    );
}

#[test]
fn hostile_tensor_metadata_is_not_safe() {
    check(Some("tensor-metadata"));
}

#[test]
fn public_gadgets_are_dangerous_with_a_why() {
    check(Some("gadget"));
}

#[test]
fn what_torch_weights_only_accepts_is_safe() {
    check(Some("weights-only"));
}

#[test]
fn what_torch_refuses_is_suspicious_not_dangerous() {
    check(Some("refused-by-torch"));
}

#[test]
fn the_whole_corpus() {
    check(None);
    assert!(manifest().len() >= 60);
}

#[test]
fn the_inventory_lists_every_import_with_its_verdict() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan");
    let r = scan_file(&dir.join("benign/namespace.pt"));
    let globals: Vec<(&str, Verdict)> = r.imports.iter().map(|i| (i.global.as_str(), i.verdict)).collect();
    assert!(
        globals.contains(&("argparse.Namespace", Verdict::Suspicious)),
        "{globals:?}"
    );
    let plain = scan_file(&dir.join("benign/plain.pt"));
    let safe: Vec<&str> = plain.imports.iter().map(|i| i.global.as_str()).collect();
    for g in [
        "torch._utils._rebuild_tensor_v2",
        "torch.FloatStorage",
        "collections.OrderedDict",
    ] {
        assert!(safe.contains(&g), "{g} missing from {safe:?}");
    }
    assert!(
        plain
            .imports
            .iter()
            .all(|i| i.verdict == Verdict::Safe && i.count >= 1 && !i.entries.is_empty())
    );
    assert_eq!(
        r.import_counts.suspicious,
        globals.iter().filter(|(_, v)| *v == Verdict::Suspicious).count()
    );
    assert_eq!(
        r.import_counts.safe + r.import_counts.suspicious + r.import_counts.dangerous,
        r.imports.len()
    );
}

#[test]
fn the_allow_list_makes_a_teams_class_safe_but_never_a_gadget() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan");
    let opts = ScanOptions::from_allow_text("argparse.Namespace\nposix.system\n");
    let r = scan_file_with(&dir.join("benign/namespace.pt"), &opts);
    assert_eq!(r.verdict, Verdict::Safe, "{:?}", r.findings);
    let ns = r.imports.iter().find(|i| i.global == "argparse.Namespace").unwrap();
    assert!(ns.allowed && ns.why.contains("allow"), "{ns:?}");
    assert_eq!(r.import_counts.allowed, 1);
    let r = scan_file_with(&dir.join("malicious/int-hex.pkl"), &opts);
    assert_eq!(r.verdict, Verdict::Dangerous);
    assert!(
        r.findings.iter().any(|f| f.why.contains("does not cover")),
        "{:?}",
        r.findings
    );
}

/// The globals newly allowlisted are also rebuilt by the reader: no "not rebuilt" warnings for
/// complex numbers, Counters, layouts, qschemes and quantized or meta tensors.
#[test]
fn newly_allowed_globals_are_rebuilt_by_the_reader() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/scan/benign");
    let meta = |name: &str| tensorscope::checkpoint::open(dir.join(name)).unwrap().metadata;
    assert!(meta("complex.pt").contains(&("c".to_owned(), "(1+2j)".to_owned())));
    assert!(
        meta("meta.pt")
            .iter()
            .any(|(k, v)| k == "m" && v == "meta tensor torch.float32 [3, 4]")
    );
    for name in [
        "counter.pt",
        "layout.pt",
        "qscheme.pt",
        "qtensor.pt",
        "complex.pt",
        "meta.pt",
    ] {
        let ck = tensorscope::checkpoint::open(dir.join(name)).unwrap();
        assert!(
            ck.warnings.iter().all(|w| !w.contains("not rebuilt"))
                && ck.metadata.iter().all(|(_, v)| !v.contains("not rebuilt")),
            "{name}: {:?} {:?}",
            ck.warnings,
            ck.metadata
        );
    }
    let q = tensorscope::checkpoint::open(dir.join("qtensor.pt")).unwrap();
    assert_eq!(q.tensors.len(), 2);
}
