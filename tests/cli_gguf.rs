//! GGUF end to end: files gguf-py wrote (tests/data/gguf, made by scripts/make_gguf_fixtures.py) list
//! every type with its GGML name and row-major shape, `show --json` gives gguf-py's dequantized values,
//! split sets open as one checkpoint, broken block scales are counted, malformed files fail cleanly,
//! and chat templates are scanned.

mod common;

use std::path::Path;

use common::gguf::Builder;
use common::{assert_clean_error, run, sample, write};
use serde_json::Value;

fn data(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gguf")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

fn json(args: &[&str]) -> Value {
    let r = run(args);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn close(a: &Value, b: &Value) -> bool {
    let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
    (a - b).abs() <= 1e-3 * b.abs().max(1.0)
}

#[test]
fn every_type_lists_and_shows_gguf_py_values() {
    let path = data("every_type.gguf");
    let fixtures: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(data("every_type.json")).unwrap()).unwrap();
    let listed = json(&["inspect", &path, "--json"]);
    assert_eq!(listed["format"], "gguf");
    let tensors = listed["tensors"].as_array().unwrap();
    assert_eq!(tensors.len(), fixtures.len());
    for f in &fixtures {
        let name = f["name"].as_str().unwrap();
        let t = tensors.iter().find(|t| t["name"] == name).unwrap();
        assert_eq!(t["dtype"], f["type"], "{name}");
        assert_eq!(t["shape"], f["shape"], "{name}");
        assert_eq!(
            t["bytes"].as_u64().unwrap() * 2,
            f["hex"].as_str().unwrap().len() as u64,
            "{name}"
        );
        let want = f["values"].as_array().unwrap();
        let limit = want.len().to_string();
        let shown = json(&["show", &path, name, "--json", "--limit", &limit]);
        let got = shown["values"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(close(g, w), "{name}[{i}]: {g} vs gguf-py {w}");
        }
        assert!(close(&shown["stats"]["min"], &f["min"]), "{name} min");
        assert!(close(&shown["stats"]["max"], &f["max"]), "{name} max");
        assert_eq!(shown["stats"]["nan"], 0, "{name}");
    }
    // general.file_type reads as its label; hyperparameters come with the metadata
    assert_eq!(listed["metadata"]["general.file_type"], "MOSTLY_Q4_K_M (15)");
    let human = run(&["inspect", &path]);
    assert!(human.stdout.contains("Q4_K (4.50 bpw)"), "{}", human.stdout);
}

#[test]
fn nan_block_scales_are_counted() {
    let shown = json(&[
        "show",
        &data("nan_scales.gguf"),
        "broken.weight",
        "--json",
        "--bins",
        "0",
    ]);
    // blocks 2 and 5 have NaN scales (2 x 32 NaN values), block 6 an infinite one (32 infinities)
    assert_eq!(shown["stats"]["nan"], 64);
    assert_eq!(
        shown["stats"]["posinf"].as_u64().unwrap() + shown["stats"]["neginf"].as_u64().unwrap(),
        32
    );
    assert_eq!(shown["ggml"]["nan_scale_blocks"], 2);
    assert_eq!(shown["ggml"]["inf_scale_blocks"], 1);
    assert_eq!(shown["ggml"]["first"], serde_json::json!([2, 5, 6]));
    let human = run(&["show", &data("nan_scales.gguf"), "broken.weight"]);
    assert!(
        human.stdout.contains("BROKEN: 2 blocks with a NaN scale"),
        "{}",
        human.stdout
    );
}

#[test]
fn unknown_type_ids_still_open() {
    let listed = json(&["inspect", &data("unknown_type.gguf"), "--json"]);
    let names: Vec<&str> = listed["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["dtype"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["F32", "UNKNOWN", "F32"]);
    let r = run(&["show", &data("unknown_type.gguf"), "mystery"]);
    assert_clean_error(&r, "unknown type");
    assert!(r.stderr.contains("GGML type id 99 is unknown"), "{}", r.stderr);
    let ok = json(&["show", &data("unknown_type.gguf"), "c", "--json"]);
    assert_eq!(ok["values"], serde_json::json!([0.0, 1.0, 2.0, 3.0]));
}

#[test]
fn split_sets_open_as_one_checkpoint() {
    for p in [data("split"), data("split/tiny-00001-of-00003.gguf")] {
        let listed = json(&["inspect", &p, "--json"]);
        assert_eq!(listed["format"], "gguf-sharded", "{p}");
        assert_eq!(listed["files"].as_array().unwrap().len(), 3);
        let names: Vec<&str> = listed["tensors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["blk.0.w", "blk.1.w", "blk.2.w", "blk.3.w", "blk.4.w"]);
        assert_eq!(listed["metadata"]["GGUF.tensor_count"], "5");
    }
    let shown = json(&["show", &data("split"), "blk.4.w", "--json", "--limit", "2"]);
    assert_eq!(shown["values"], serde_json::json!([4.0, 4.0]));

    let dir = tempfile::tempdir().unwrap();
    let copy = |names: &[&str]| {
        for n in names {
            std::fs::copy(data(&format!("split/{n}")), dir.path().join(n)).unwrap();
        }
    };
    copy(&["tiny-00001-of-00003.gguf", "tiny-00003-of-00003.gguf"]);
    let r = run(&["inspect", &dir.path().to_string_lossy()]);
    assert_clean_error(&r, "missing shard");
    assert!(
        r.stderr.contains("tiny-00002-of-00003.gguf") && r.stderr.contains("missing"),
        "{}",
        r.stderr
    );
    copy(&["tiny-00002-of-00003.gguf"]);
    std::fs::copy(
        data("split/tiny-00003-of-00003.gguf"),
        dir.path().join("tiny-00004-of-00004.gguf"),
    )
    .unwrap();
    let r = run(&[
        "inspect",
        &dir.path().join("tiny-00001-of-00003.gguf").to_string_lossy(),
    ]);
    assert_clean_error(&r, "extra shard");
    assert!(r.stderr.contains("tiny-00004-of-00004.gguf"), "{}", r.stderr);
    // a shard whose split.no disagrees with its name
    std::fs::remove_file(dir.path().join("tiny-00004-of-00004.gguf")).unwrap();
    let wrong = Builder::default()
        .kv("split.no", 2, 2u16.to_le_bytes().to_vec())
        .kv("split.count", 2, 3u16.to_le_bytes().to_vec())
        .kv("split.tensors.count", 5, 5i32.to_le_bytes().to_vec())
        .f32s("blk.2.w", &[2.0; 64])
        .f32s("blk.3.w", &[3.0; 64]);
    write(dir.path(), "tiny-00002-of-00003.gguf", &wrong.bytes());
    let r = run(&["inspect", &dir.path().to_string_lossy()]);
    assert_clean_error(&r, "wrong split.no");
    assert!(r.stderr.contains("split.no 2"), "{}", r.stderr);
}

#[test]
fn malformed_files_fail_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = Builder::default().f32s("a", &[1.0; 8]);
    let bytes = good.bytes();
    let mut key_2_60 = b"GGUF\x03\0\0\0".to_vec();
    key_2_60.extend(0u64.to_le_bytes());
    key_2_60.extend(1u64.to_le_bytes());
    key_2_60.extend((1u64 << 60).to_le_bytes());
    key_2_60.extend([0u8; 16]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", bytes[..bytes.len() - 4].to_vec(), "truncated GGUF"),
        (
            "count",
            Builder {
                tensor_count: Some(1 << 62),
                ..good.clone()
            }
            .bytes(),
            "GGUF tensor count",
        ),
        ("key", key_2_60, "GGUF string length 1152921504606846976"),
        ("dims", good.clone().info("b", &[1; 9], 0, 0).bytes(), "9 dimensions"),
        (
            "past_end",
            good.clone().info("b", &[8], 0, 4096).bytes(),
            "past the end",
        ),
        (
            "misaligned",
            good.clone().info("b", &[8], 0, 40).bytes(),
            "not a multiple of the alignment",
        ),
        (
            "duplicate",
            good.clone().info("a", &[8], 0, 32).bytes(),
            "duplicate tensor name",
        ),
        (
            "overflow",
            good.clone().info("b", &[1 << 40, 1 << 40], 0, 32).bytes(),
            "overflows",
        ),
        ("block", good.clone().info("b", &[48], 12, 32).bytes(), "block size 256"),
        (
            "alignment",
            good.clone().kv_u32("general.alignment", 3).bytes(),
            "general.alignment 3",
        ),
        (
            "version",
            Builder {
                version: 4,
                ..good.clone()
            }
            .bytes(),
            "unknown GGUF version 4",
        ),
    ];
    for (name, bytes, want) in cases {
        let p = write(dir.path(), &format!("{name}.gguf"), &bytes);
        for cmd in ["inspect", "show"] {
            let mut args = vec![cmd, p.to_str().unwrap()];
            if cmd == "show" {
                args.push("a");
            }
            let r = run(&args);
            assert_clean_error(&r, name);
            assert!(r.stderr.contains(want), "{name}: want {want:?} in {}", r.stderr);
        }
    }
    let r = run(&["inspect", &data("big_endian.gguf")]);
    assert_clean_error(&r, "big-endian");
    assert!(r.stderr.contains("big-endian GGUF"), "{}", r.stderr);
}

#[test]
fn metadata_values_are_shown_whole() {
    let r = run(&["show", &sample("tiny.gguf"), "tokenizer.chat_template"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("{%- set ns = namespace(system=false) -%}"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("'<|im_start|>assistant\\n'"), "{}", r.stdout);
    let tokens = run(&["show", &sample("tiny.gguf"), "tokenizer.ggml.tokens"]);
    assert_eq!(tokens.stdout.lines().count(), 64);
    let v = json(&["show", &sample("tiny.gguf"), "tokenizer.ggml.tokens", "--json"]);
    assert_eq!(v["type"], "ARRAY[STRING]");
    assert_eq!(v["value"].as_array().unwrap().len(), 64);
    // inspect summarises the array
    let listed = json(&["inspect", &sample("tiny.gguf"), "--json"]);
    let summary = listed["metadata"]["tokenizer.ggml.tokens"].as_str().unwrap();
    assert!(summary.starts_with("[STRING × 64] [\"<unk>\""), "{summary}");
}

fn template_file(dir: &Path, name: &str, template: &str) -> String {
    let b = Builder::default()
        .kv_str("general.architecture", "llama")
        .kv_str("tokenizer.chat_template", "{{ bos_token }}")
        .kv_str("tokenizer.chat_template.tool_use", template)
        .f32s("a", &[1.0; 8]);
    write(dir, name, &b.bytes()).to_string_lossy().into_owned()
}

#[test]
fn chat_templates_are_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let plain = template_file(
        dir.path(),
        "plain.gguf",
        "{% for m in messages %}{{ m['content'] }}{% endfor %}",
    );
    let r = run(&["scan", &plain]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(run(&["scan", &sample("tiny.gguf")]).code, 0);
    for (i, payload) in [
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ request|attr('application')|attr('\\x5f\\x5fglobals\\x5f\\x5f') }}",
        "{% set x = '__buil' ~ 'tins__' %}{{ lipsum[x] }}",
    ]
    .iter()
    .enumerate()
    {
        let p = template_file(dir.path(), &format!("evil{i}.gguf"), payload);
        let r = run(&["scan", &p, "--json"]);
        assert_eq!(r.code, 1, "{payload}: {}", r.stdout);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        let file = &v["files"][0];
        assert_eq!(file["verdict"], "dangerous", "{payload}");
        let f = &file["findings"][0];
        assert_eq!(f["entry"], "tokenizer.chat_template.tool_use");
        assert!(f["why"].as_str().unwrap().contains("excerpt:"), "{f}");
    }
}

#[test]
fn bench_times_gguf_loads() {
    // GGUF rows are named for GGUF: mapped (llama.cpp's default) and read whole (--no-mmap)
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("b.json");
    let r = run(&[
        "bench",
        &sample("tiny.gguf"),
        "--runs",
        "1",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        !r.stdout.contains("not measured") && !r.stderr.contains("not measured"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v["checkpoints"][0]["format"], "gguf");
    let methods: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["method"].as_str().unwrap())
        .collect();
    for m in ["gguf-mmap", "gguf-read", "file-read"] {
        assert!(methods.contains(&m), "{m} missing: {methods:?}");
    }
    assert!(
        methods.iter().all(|m| m.starts_with("gguf-") || *m == "file-read"),
        "{methods:?}"
    );
    let touched = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == "gguf-read" && r["touched"] == true)
        .unwrap();
    assert_eq!(touched["bytes"], 413_696);
}
