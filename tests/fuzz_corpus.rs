//! Replays the committed, minimised fuzz corpora (fuzz/corpus/TARGET/) and the crash reproducers
//! (fuzz/regressions/TARGET/) through the very checks the fuzz targets run (`fuzz/checks/TARGET.rs`,
//! one body for both), so `cargo test` on stable keeps every input the fuzzers found interesting: none
//! may panic, and every check the targets make holds.

use std::path::Path;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

#[test]
fn every_target_has_a_corpus() {
    for t in [
        "safetensors_header",
        "pickle_load",
        "scan",
        "torch_read",
        "zip_read",
        "decode",
        "gguf_read",
        "ggml_dequant",
        "scan_differential",
    ] {
        assert!(inputs(t).len() >= 10, "fuzz/corpus/{t} is (nearly) empty");
    }
}

#[path = "../fuzz/checks/safetensors_header.rs"]
mod safetensors_header;

#[test]
fn replay_safetensors_header() {
    replay("safetensors_header", safetensors_header::check);
}

#[path = "../fuzz/checks/pickle_load.rs"]
mod pickle_load;

#[test]
fn replay_pickle_load() {
    replay("pickle_load", pickle_load::check);
}

#[path = "../fuzz/checks/scan.rs"]
mod scan;

#[test]
fn replay_scan() {
    replay("scan", scan::check);
}

#[path = "../fuzz/checks/scan_differential.rs"]
mod scan_differential;

#[test]
fn replay_scan_differential() {
    replay("scan_differential", scan_differential::check);
}

#[path = "../fuzz/checks/torch_read.rs"]
mod torch_read;

#[test]
fn replay_torch_read() {
    replay("torch_read", torch_read::check);
}

#[path = "../fuzz/checks/zip_read.rs"]
mod zip_read;

#[test]
fn replay_zip_read() {
    replay("zip_read", zip_read::check);
}

#[path = "../fuzz/checks/decode.rs"]
mod decode;

#[test]
fn replay_decode() {
    replay("decode", decode::check);
}

#[path = "../fuzz/checks/gguf_read.rs"]
mod gguf_read;

#[test]
fn replay_gguf_read() {
    replay("gguf_read", gguf_read::check);
}

#[path = "../fuzz/checks/ggml_dequant.rs"]
mod ggml_dequant;

#[test]
fn replay_ggml_dequant() {
    replay("ggml_dequant", ggml_dequant::check);
}

/// Runs `check` on every committed input of `target`, naming the input that fails.
fn replay(target: &str, check: fn(&[u8])) {
    let all = inputs(target);
    assert!(!all.is_empty(), "no inputs for {target}");
    let mut failed = Vec::new();
    for (name, data) in all {
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            failed.push(name);
        }
    }
    assert!(
        failed.is_empty(),
        "{target}: {} input(s) fail the target's checks: {failed:?}",
        failed.len()
    );
}
