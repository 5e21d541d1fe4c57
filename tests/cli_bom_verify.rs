//! `scan --format cyclonedx|spdx` records each file's verification: an OpenSSF Model Signing
//! signature (the folder the reference tool signed, tests/data/verify/ref-p256) checked with
//! `--public-key`, or a Hugging Face cache snapshot's blobs against their names. Every BOM written
//! is validated against the vendored schemas.

#[path = "common/bom.rs"]
mod bom;
mod common;
#[path = "common/schema.rs"]
mod schema;

use std::path::{Path, PathBuf};

use bom::{component, parse, property, safe_and_dangerous};
use common::hub;
use schema::{Schema, validate};
use sha2::Digest;

fn verify_data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/verify")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

/// A copy of the folder the OpenSSF reference tool signed (tests/data/verify/ref-p256).
fn signed_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(&verify_data("ref-p256")).to_path_buf();
    for e in walk(&from) {
        let to = dir.path().join(e.strip_prefix(&from).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&e, &to).unwrap();
    }
    dir
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

fn flip_last_byte(p: &Path) {
    let mut b = std::fs::read(p).unwrap();
    *b.last_mut().unwrap() ^= 1;
    std::fs::write(p, b).unwrap();
}

#[test]
fn verify_results_are_each_components_verification_status() {
    let dir = signed_copy();
    let folder = dir.path().to_str().unwrap();
    let key = verify_data("keys/p256.pub");
    let bom = |extra: &[&str]| {
        let mut args = vec!["scan", folder, "--format", "cyclonedx"];
        args.extend(extra);
        common::run(&args)
    };
    let r = bom(&["--verify", "--public-key", &key]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = parse(&r);
    validate(&doc, Schema::CycloneDx16);
    let c = component(&doc, "model.safetensors");
    assert_eq!(property(&c["properties"], "tensorscope:verification"), Some("verified"));
    let method = property(&c["properties"], "tensorscope:verification-method").unwrap();
    assert!(
        method.starts_with("OMS v1.0 signature model.sig") && method.contains("P-256"),
        "{method}"
    );
    let id = &c["evidence"]["identity"][0];
    assert_eq!(id["field"], "hash");
    assert_eq!(id["confidence"], 1.0);
    assert_eq!(id["concludedValue"], c["hashes"][0]["content"]);
    assert_eq!(id["methods"][0]["technique"], "attestation");
    assert_eq!(
        r.stdout,
        bom(&["--verify", "--public-key", &key]).stdout,
        "deterministic"
    );
    let spdx = parse(&common::run_env(
        &["scan", folder, "--format", "spdx", "--public-key", &key],
        &[("SOURCE_DATE_EPOCH", "0")],
    ));
    validate(&spdx, Schema::Spdx301);
    assert!(spdx["@graph"].as_array().unwrap().iter().any(|e| {
        e["type"] == "Annotation"
            && e["statement"]
                .as_str()
                .unwrap()
                .starts_with("tensorscope verification: verified; method: OMS v1.0")
    }));

    // a signature beside the model and no key: recorded, not checked, no evidence
    let r = bom(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let c = component(&parse(&r), "model.safetensors").clone();
    assert_eq!(
        property(&c["properties"], "tensorscope:verification"),
        Some("not-checked")
    );
    assert!(c.get("evidence").is_none());

    // the wrong key, then a changed byte: failed, exit 1, the evidence says so
    let r = bom(&["--public-key", &verify_data("keys/other.pub")]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = parse(&r);
    validate(&doc, Schema::CycloneDx16);
    let c = component(&doc, "model.safetensors");
    assert_eq!(property(&c["properties"], "tensorscope:verification"), Some("failed"));
    assert!(
        property(&c["properties"], "tensorscope:verification-detail")
            .unwrap()
            .contains("key")
    );
    assert_eq!(c["evidence"]["identity"][0]["confidence"], 0.0);
    flip_last_byte(&dir.path().join("model.safetensors"));
    let r = bom(&["--verify", "--public-key", &key]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let c = component(&parse(&r), "model.safetensors").clone();
    let detail = property(&c["properties"], "tensorscope:verification-detail").unwrap();
    assert!(
        detail.starts_with("changed model.safetensors: sha256 differs"),
        "{detail}"
    );
}

/// A model whose weights are as signed but whose other files are not (a file that is no
/// component changed, removed, or added) did not verify: the BOM said "verified", exit 0.
#[test]
fn a_component_is_not_verified_when_the_model_around_it_failed() {
    let key = verify_data("keys/p256.pub");
    let other = "config.json"; // signed, and no component of the BOM
    for tamper in ["changed", "missing", "unsigned"] {
        let dir = signed_copy();
        match tamper {
            "changed" => flip_last_byte(&dir.path().join(other)),
            "missing" => std::fs::remove_file(dir.path().join(other)).unwrap(),
            _ => std::fs::write(dir.path().join("tokenizer.json"), b"{}").unwrap(),
        }
        let folder = dir.path().to_str().unwrap();
        for format in ["cyclonedx", "spdx"] {
            let r = common::run(&["scan", folder, "--format", format, "--verify", "--public-key", &key]);
            assert_eq!(r.code, 1, "{tamper} {format}: {}", r.stderr);
            assert!(
                r.stdout
                    .contains("this file is as signed, but the model did not verify"),
                "{tamper}"
            );
            assert!(!r.stdout.contains("verification: verified"), "{tamper}");
        }
        let doc = parse(&common::run(&[
            "scan",
            folder,
            "--format",
            "cyclonedx",
            "--public-key",
            &key,
        ]));
        validate(&doc, Schema::CycloneDx16);
        let c = component(&doc, "model.safetensors");
        assert_eq!(
            property(&c["properties"], "tensorscope:verification"),
            Some("failed"),
            "{tamper}"
        );
        assert_eq!(c["evidence"]["identity"][0]["confidence"], 0.0, "{tamper}");
    }
}

#[test]
fn verify_asked_for_with_nothing_to_verify_against_is_a_clean_error() {
    let dir = safe_and_dangerous();
    let folder = dir.path().to_str().unwrap();
    let r = common::run(&["scan", folder, "--format", "cyclonedx", "--verify"]);
    common::assert_clean_error(&r, "no model.sig");
    assert!(r.stderr.contains("no model.sig"), "{}", r.stderr);
    let signed = verify_data("ref-p256");
    let r = common::run(&["scan", &signed, "--format", "spdx", "--verify"]);
    common::assert_clean_error(&r, "--public-key");
    assert!(r.stderr.contains("--public-key"), "{}", r.stderr);
    let r = common::run(&["scan", &signed, "--verify", "--json"]);
    common::assert_clean_error(&r, "--format cyclonedx");
    assert!(r.stderr.contains("--format cyclonedx"), "{}", r.stderr);
    // refused before anything is fetched: nothing listens at this endpoint
    let r = common::run_env(
        &["scan", "hf://tiny/single", "--format", "cyclonedx", "--verify"],
        &[("HF_ENDPOINT", "http://127.0.0.1:9"), ("TENSORSCOPE_HTTP_TIMEOUT", "2")],
    );
    common::assert_clean_error(&r, "--against hf://tiny/single");
    assert!(r.stderr.contains("--against hf://tiny/single"), "{}", r.stderr);
}

#[test]
fn a_hugging_face_cache_snapshot_is_verified_without_asking() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("models--o--n");
    let bytes = std::fs::read(common::sample("gpt2-tiny.safetensors")).unwrap();
    let sha = hub::hex(&sha2::Sha256::digest(&bytes));
    std::fs::create_dir_all(repo.join("blobs")).unwrap();
    std::fs::create_dir_all(repo.join("snapshots/abc")).unwrap();
    std::fs::write(repo.join("blobs").join(&sha), &bytes).unwrap();
    std::os::unix::fs::symlink(
        format!("../../blobs/{sha}"),
        repo.join("snapshots/abc/model.safetensors"),
    )
    .unwrap();
    let snapshot = repo.join("snapshots/abc");
    let r = common::run(&["scan", snapshot.to_str().unwrap(), "--format", "cyclonedx"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = parse(&r);
    validate(&doc, Schema::CycloneDx16);
    let c = component(&doc, "model.safetensors");
    assert_eq!(property(&c["properties"], "tensorscope:verification"), Some("verified"));
    assert_eq!(
        c["evidence"]["identity"][0]["methods"][0]["technique"],
        "hash-comparison"
    );
    // a config.json beside it that no longer matches its hash: the weights match theirs (there is no
    // signature here, so the detail does not say "as signed"), yet the model did not verify
    let config = br#"{"model_type": "gpt2"}"#;
    let config_sha = hub::hex(&sha2::Sha256::digest(config));
    std::fs::write(repo.join("blobs").join(&config_sha), config).unwrap();
    std::os::unix::fs::symlink(
        format!("../../blobs/{config_sha}"),
        repo.join("snapshots/abc/config.json"),
    )
    .unwrap();
    flip_last_byte(&repo.join("blobs").join(&config_sha));
    let r = common::run(&["scan", snapshot.to_str().unwrap(), "--format", "cyclonedx"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let c = component(&parse(&r), "model.safetensors").clone();
    assert_eq!(property(&c["properties"], "tensorscope:verification"), Some("failed"));
    let detail = property(&c["properties"], "tensorscope:verification-detail").unwrap_or_default();
    assert!(
        detail.starts_with("this file matches its recorded hash, but the model did not verify"),
        "{detail}"
    );
    std::fs::remove_file(repo.join("snapshots/abc/config.json")).unwrap();
    flip_last_byte(&repo.join("blobs").join(&sha));
    let r = common::run(&["scan", snapshot.to_str().unwrap(), "--format", "cyclonedx"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let c = component(&parse(&r), "model.safetensors").clone();
    assert_eq!(property(&c["properties"], "tensorscope:verification"), Some("failed"));
}

/// `sign FILE` signs the file alone (its manifest names it `.`): the BOM of that file, scanned on its
/// own, says verified as `verify FILE` does, and failed once a byte of it changes.
#[test]
fn a_file_signed_on_its_own_is_verified_in_its_bom() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("model.safetensors");
    std::fs::copy(common::sample("gpt2-tiny.safetensors"), &file).unwrap();
    let f = file.to_str().unwrap();
    let r = common::run(&["sign", f, "--private-key", &verify_data("keys/p256.key")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let key = verify_data("keys/p256.pub");
    let r = common::run(&["verify", f, "--public-key", &key]);
    assert_eq!(
        r.code, 0,
        "verify FILE accepts the signature: {} {}",
        r.stdout, r.stderr
    );
    let bom = || common::run(&["scan", f, "--format", "cyclonedx", "--verify", "--public-key", &key]);
    let r = bom();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = parse(&r);
    validate(&doc, Schema::CycloneDx16);
    let c = component(&doc, "model.safetensors");
    assert_eq!(
        property(&c["properties"], "tensorscope:verification"),
        Some("verified"),
        "{c:#}"
    );
    flip_last_byte(&file);
    let r = bom();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let c = component(&parse(&r), "model.safetensors").clone();
    assert_eq!(
        property(&c["properties"], "tensorscope:verification"),
        Some("failed"),
        "{c:#}"
    );
}
