//! Replays the committed, minimised fuzz corpora (fuzz/corpus/TARGET/) and the crash reproducers
//! (fuzz/regressions/TARGET/) through the same entry points as the fuzz targets, so `cargo test` on
//! stable keeps every input the fuzzers found interesting: none may panic, and the targets' checks hold.

use std::path::Path;

use tensorscope::checkpoint::dtype::SAFETENSORS_DTYPES;
use tensorscope::formats::pickle::{machine, torch, zip};
use tensorscope::scan;
use tensorscope::tensor::{StatsOptions, View, decode, parse_slice};

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

#[test]
fn safetensors_header() {
    for (name, data) in inputs("safetensors_header") {
        if let Ok(h) = tensorscope::checkpoint::safetensors::parse_header(Path::new("x"), &data) {
            let end = h.tensors.last().map_or(0, |t| t.data.end);
            assert_eq!(h.data_start + end, data.len() as u64, "{name}");
        }
    }
}

#[test]
fn pickle_load() {
    for (name, data) in inputs("pickle_load") {
        let mut start = 0;
        for _ in 0..8 {
            let Ok(l) = machine::load(&data, start) else { break };
            assert!(l.end > start && l.end <= data.len(), "{name}");
            let _ = l.heap.repr(&l.root);
            start = l.end;
        }
    }
}

#[test]
fn scan() {
    for (name, data) in inputs("scan") {
        let r = scan::scan_bytes(name.clone(), &data);
        if r.verdict == scan::Verdict::Safe {
            assert!(
                r.error.is_none() && r.findings.iter().all(|f| f.severity != scan::Severity::Dangerous),
                "{name}"
            );
        }
    }
}

#[path = "../fuzz/fuzz_targets/cpython_model.rs"]
mod cpython_model;

#[test]
fn scan_differential() {
    for (name, data) in inputs("scan_differential") {
        let reached = cpython_model::reached_globals(&data);
        let bad: Vec<_> = reached
            .iter()
            .filter(|(m, n)| !tensorscope::formats::pickle::allowlist::is_safe(m, n))
            .collect();
        if !bad.is_empty() {
            let r = scan::scan_bytes(name.clone(), &data);
            assert!(r.verdict != scan::Verdict::Safe, "{name}: CPython reaches {bad:?}");
        }
    }
}

#[test]
fn torch_read() {
    for (name, data) in inputs("torch_read") {
        if let Ok(f) = torch::read(Path::new("x.pt"), &data) {
            for t in &f.tensors {
                assert!(
                    t.storage.end <= data.len() as u64 && t.check_extent().is_ok(),
                    "{name}: {t:?}"
                );
            }
        }
    }
}

#[test]
fn zip_read() {
    for (_, data) in inputs("zip_read") {
        if let Ok(a) = zip::read(&data) {
            for e in a.entries.iter().take(64) {
                let _ = zip::content(&data, e, 1 << 20);
            }
        }
    }
}

#[test]
fn decode() {
    // the same input layout as fuzz/fuzz_targets/decode.rs
    for (name, data) in inputs("decode") {
        let Some((&[d, rank, off], rest)) = data.split_first_chunk::<3>() else {
            continue;
        };
        let dtype = SAFETENSORS_DTYPES[usize::from(d) % SAFETENSORS_DTYPES.len()];
        let rank = usize::from(rank % 5);
        let Some((dims, rest)) = rest.split_at_checked(2 * rank) else {
            continue;
        };
        let shape: Vec<u64> = dims[..rank].iter().map(|&x| u64::from(x % 9)).collect();
        let strides: Vec<u64> = dims[rank..].iter().map(|&x| u64::from(x % 17)).collect();
        let (spec, storage) = match rest.iter().position(|&b| b == 0) {
            Some(i) if i <= 32 => (&rest[..i], &rest[i + 1..]),
            _ => (&b""[..], rest),
        };
        let elements = (storage.len() as u64 * 8) / u64::from(dtype.bits());
        for i in 0..elements.min(2048) {
            assert!(decode::element(dtype, storage, i).is_some(), "{name}");
        }
        assert!(decode::element(dtype, storage, elements).is_none(), "{name}");
        let Ok(view) = View::from_parts(dtype, &shape, &strides, u64::from(off % 33), storage) else {
            continue;
        };
        let _ = view.first(64);
        let _ = view.stats(&StatsOptions { bins: 8, sample: None });
        if let Ok(dims) = parse_slice(&String::from_utf8_lossy(spec)) {
            if let Ok(s) = view.slice(&dims) {
                let _ = s.stats(&StatsOptions { bins: 4, sample: None });
            }
        }
    }
}

#[test]
fn gguf_read() {
    // the checks of fuzz/fuzz_targets/gguf_read.rs
    use tensorscope::formats::gguf;
    for (name, data) in inputs("gguf_read") {
        let _ = scan::scan_bytes(name.clone(), &data);
        let Ok(g) = gguf::parse(Path::new("x.gguf"), &data) else {
            continue;
        };
        let mut spans: Vec<_> = g.tensors.iter().map(|t| t.storage.clone()).collect();
        spans.sort_by_key(|r| r.start);
        assert!(spans.windows(2).all(|w| w[0].end <= w[1].start), "{name}");
        assert!(spans.iter().all(|r| r.end <= data.len() as u64), "{name}");
        let _ = gguf::metadata(&g);
    }
}

#[test]
fn ggml_dequant() {
    // the input layout of fuzz/fuzz_targets/ggml_dequant.rs: type, step, blocks
    use tensorscope::checkpoint::dtype::GGML_BLOCK_TYPES;
    use tensorscope::tensor::ggml;
    for (name, data) in inputs("ggml_dequant") {
        let Some((&[t, _], blocks)) = data.split_first_chunk::<2>() else {
            continue;
        };
        let ty = GGML_BLOCK_TYPES[usize::from(t) % GGML_BLOCK_TYPES.len()];
        let Some((n, size)) = ty.block() else { continue };
        let whole = blocks.len() / size as usize;
        let bytes = &blocks[..whole * size as usize];
        let mut out = vec![0f32; whole * n as usize];
        assert_eq!(
            ggml::dequantize(ty, bytes, &mut out),
            ggml::can_dequantize(ty),
            "{name}"
        );
        if let Some(c) = ggml::scale_check(ty, bytes) {
            assert_eq!(c.blocks, whole as u64, "{name}");
        }
    }
}
