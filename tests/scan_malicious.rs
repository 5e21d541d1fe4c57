//! The scanner (library) on every malicious case of the corpus, and on benign look-alikes.

mod scan_corpus;

use scan_corpus::*;
use tensorscope::scan::{Severity, Verdict, scan_bytes};

#[test]
fn every_malicious_case_is_not_safe_and_names_its_global() {
    let cases = malicious();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let r = scan_bytes(c.file, &c.bytes);
        let globals: Vec<(&str, Severity)> = r
            .findings
            .iter()
            .filter_map(|f| f.global.as_deref().map(|g| (g, f.severity)))
            .collect();
        let ok = r.verdict != Verdict::Safe
            && (!c.dangerous || r.verdict == Verdict::Dangerous)
            && c.global.is_none_or(|g| {
                globals
                    .iter()
                    .any(|(x, sev)| *x == g && (!c.dangerous || *sev == Severity::Dangerous))
            });
        if !ok {
            failures.push(format!("{}: verdict {} findings {:?}", c.name, r.verdict, r.findings));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn benign_builders_are_safe() {
    for (name, bytes) in [
        ("benign", benign()),
        ("torch data.pkl", torch_data_pkl()),
        ("torch zip", torch_zip(&torch_data_pkl())),
        ("legacy", legacy(&legacy_magic(), &torch_data_pkl())),
        ("two benign pickles", [benign(), benign()].concat()),
        ("npy object array of safe globals", npy_object(&benign())),
    ] {
        let r = scan_bytes(name, &bytes);
        assert_eq!(r.verdict, Verdict::Safe, "{name}: {:?}", r.findings);
    }
}

#[test]
fn formats_are_named() {
    assert_eq!(scan_bytes("a", &torch_zip(&torch_data_pkl())).format, "pytorch-zip");
    assert_eq!(
        scan_bytes("a", &legacy(&legacy_magic(), &torch_data_pkl())).format,
        "pytorch-legacy"
    );
    assert_eq!(scan_bytes("a", &benign()).format, "pickle");
    assert_eq!(scan_bytes("a", &npy_object(&benign())).format, "numpy");
    assert_eq!(
        scan_bytes("a", &zip(&[z("a.npy", &npy_object(&benign()))])).format,
        "numpy-zip"
    );
}

#[test]
fn offsets_point_at_the_opcode() {
    let data = [benign(), evil_at()].concat();
    let r = scan_bytes("x", &data);
    let f = r
        .findings
        .iter()
        .find(|f| f.global.as_deref() == Some("posix.system"))
        .unwrap();
    let at = f.offset.unwrap() as usize;
    assert_eq!(data[at], b'c');
    assert_eq!(r.pickles.len(), 2);
    assert_eq!(r.pickles[0].verdict, Verdict::Safe);
    assert_eq!(r.pickles[1].verdict, Verdict::Dangerous);
}

fn evil_at() -> Vec<u8> {
    call("posix", "system")
}

#[test]
fn zip_findings_name_the_entry() {
    let data = zip(&[
        z("archive/data.pkl", &torch_data_pkl()),
        z("archive/extra.pkl", &call("os", "system")),
    ]);
    let r = scan_bytes("x", &data);
    let f = r.findings.iter().find(|f| f.global.is_some()).unwrap();
    assert_eq!(f.entry, "archive/extra.pkl");
    assert_eq!(f.offset, Some(2));
}

#[test]
fn invalid_things_are_never_safe() {
    // unknown bytes, a broken zip, a truncated pickle, an invalid .npy header
    for (name, bytes, want) in [
        ("unknown", b"hello world".to_vec(), Verdict::Suspicious),
        ("broken zip", b"PK\x03\x04 not really".to_vec(), Verdict::Suspicious),
        ("truncated pickle", benign()[..6].to_vec(), Verdict::Suspicious),
        ("bad npy", b"\x93NUMPY\x01\x00\xff\xff{".to_vec(), Verdict::Suspicious),
        (
            "bad safetensors",
            b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":1}".to_vec(),
            Verdict::Error,
        ),
    ] {
        assert_eq!(scan_bytes(name, &bytes).verdict, want, "{name}");
    }
}
