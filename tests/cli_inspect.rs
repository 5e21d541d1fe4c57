//! `tensorscope inspect` on the committed samples, and on malformed files built here.

mod common;

use common::{assert_clean_error, run, safetensors, sample, write};
use serde_json::Value;

fn json(args: &[&str]) -> Value {
    let r = run(args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).expect("valid JSON")
}

fn names(v: &Value) -> Vec<String> {
    v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn table_for_a_single_file() {
    let r = run(&["inspect", &sample("gpt2-tiny.safetensors")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("(safetensors, 1 file)"));
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("wte.weight") && l.contains("F32") && l.contains("[1000, 64]"))
    );
    assert!(r.stdout.contains("tensors     28"));
    assert!(r.stdout.contains("format: pt"));
}

#[test]
fn json_for_a_single_file_matches_the_design() {
    let v = json(&["inspect", "--json", &sample("gpt2-tiny.safetensors")]);
    assert_eq!(v["format"], "safetensors");
    assert_eq!(v["metadata"]["format"], "pt");
    assert_eq!(v["files"][0]["path"], "gpt2-tiny.safetensors");
    let t = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "h.0.attn.c_attn.weight")
        .unwrap();
    assert_eq!(t["dtype"], "F32");
    assert_eq!(t["shape"], serde_json::json!([64, 192]));
    assert_eq!(t["bytes"], 64 * 192 * 4);
    let total: u64 = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(v["total_bytes"].as_u64().unwrap(), total);
}

#[test]
fn sharded_folder_lists_every_tensor_once() {
    let single = json(&["inspect", "--json", &sample("gpt2-tiny.safetensors")]);
    let v = json(&["inspect", "--json", &sample("sharded")]);
    assert_eq!(v["format"], "safetensors-sharded");
    let mut a = names(&single);
    let mut b = names(&v);
    a.sort();
    b.sort();
    assert_eq!(a, b);
    let files: Vec<&str> = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["file"].as_str().unwrap())
        .collect();
    assert!(files.contains(&"model-00001-of-00002.safetensors") && files.contains(&"model-00002-of-00002.safetensors"));
    assert_eq!(v["total_params"], single["total_params"]);
}

#[test]
fn diffusers_folder_prefixes_components_and_picks_variants() {
    let v = json(&["inspect", "--json", &sample("diffusers-tiny")]);
    assert_eq!(v["format"], "diffusers");
    let n = names(&v);
    assert!(n.iter().any(|n| n == "unet/conv_in.weight"), "{n:?}");
    assert!(n.iter().any(|n| n.starts_with("vae/")) && n.iter().any(|n| n.starts_with("text_encoder/")));
    let comps = v["components"].as_array().unwrap();
    let tok = comps.iter().find(|c| c["name"] == "tokenizer").unwrap();
    assert_eq!(tok["tensors"], 0);
    let fp16 = json(&["inspect", "--json", "--variant", "fp16", &sample("diffusers-tiny")]);
    assert_eq!(names(&fp16), n, "the fp16 variant holds the same tensors");
    let conv = |v: &Value| {
        v["tensors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "unet/conv_in.weight")
            .unwrap()
            .clone()
    };
    assert_eq!(conv(&v)["dtype"], "F32");
    assert_eq!(conv(&fp16)["dtype"], "F16");
    assert!(conv(&fp16)["file"].as_str().unwrap().ends_with(".fp16.safetensors"));
    // review 38: a variant no component has read every default weight with exit 0 (a typo such as
    // fp61 showed fp32); diffusers refuses it, and so does inspect, naming the variants there are
    let r = common::run(&["inspect", "--variant", "fp61", &sample("diffusers-tiny")]);
    common::assert_clean_error(&r, "a variant no component has");
    assert!(
        r.stderr.contains("3 files of variant fp16 (--variant fp16)"),
        "{}",
        r.stderr
    );
}

#[test]
fn hub_cache_folder_resolves_refs_main() {
    let v = json(&["inspect", "--json", &sample("hub/models--tiny--gpt2")]);
    assert_eq!(v["format"], "folder");
    assert!(names(&v).iter().any(|n| n == "wte.weight"));
}

#[test]
fn control_characters_in_names_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let h = "{\"evil\\u001b]0;pwned\\u0007\\u001b[2J\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"__metadata__\":{\"k\\u0000\":\"v\\u001b[31m\"}}";
    let p = write(dir.path(), "evil.safetensors", &safetensors(h, 1));
    let r = run(&["inspect", p.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains('\x1b') && !r.stdout.contains('\0') && !r.stdout.contains('\x07'));
    assert!(r.stdout.contains("evil\\x1b]0;pwned\\x07\\x1b[2J"), "{}", r.stdout);
    assert!(r.stdout.contains("k\\x00: v\\x1b[31m"));
    let j = run(&["inspect", "--json", p.to_str().unwrap()]);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["tensors"][0]["name"], "evil\x1b]0;pwned\x07\x1b[2J");
    assert!(!j.stdout.contains('\x1b'), "JSON escapes control characters itself");
}

/// A name longer than the standard formatter pads to (65,535): every table prints it whole, in a
/// column padded to at most 1,024 characters, instead of panicking.
#[test]
fn a_name_longer_than_any_column_is_printed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let name = "a".repeat(70_000);
    let h = format!("{{\"{name}\":{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}}}");
    let p = write(dir.path(), "long.safetensors", &safetensors(&h, 4));
    let p = p.to_str().unwrap();
    for args in [
        vec!["inspect", p],
        vec!["inspect", "--tree", p],
        vec![p],
        vec!["scan", p],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{args:?}");
        assert!(r.stdout.contains(&name) || args[0] == "scan", "{args:?}");
    }
    let r = run(&["inspect", p]);
    let head = r.stdout.lines().find(|l| l.starts_with("NAME")).unwrap();
    assert!(
        head.len() < 1100,
        "the header pads to the capped column: {}",
        head.len()
    );
}

/// Malformed inputs: each must exit 2 with one `error:` line, and the message must say what is wrong.
#[test]
fn malformed_files_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let t = |name: &str, dtype: &str, shape: &str, s: u64, e: u64| {
        format!(r#""{name}":{{"dtype":"{dtype}","shape":{shape},"data_offsets":[{s},{e}]}}"#)
    };
    let ok = t("a", "F32", "[2]", 0, 8);
    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "too short"),
        ("short", vec![1, 2, 3], "too short"),
        ("huge-len", u64::MAX.to_le_bytes().to_vec(), "exceeds the limit"),
        (
            "len-past-end",
            safetensors(&format!("{{{ok}}}"), 8)[..30].to_vec(),
            "truncated",
        ),
        ("truncated-data", safetensors(&format!("{{{ok}}}"), 5), "3 missing"),
        ("trailing", safetensors(&format!("{{{ok}}}"), 12), "unexpected bytes"),
        ("not-json", safetensors("{not json}", 0), "not valid JSON"),
        ("json-array", safetensors("[]", 0), "not a JSON object"),
        (
            "bad-utf8",
            {
                let mut v = 4u64.to_le_bytes().to_vec();
                v.extend_from_slice(b"{\xff\xfe}");
                v
            },
            "UTF-8",
        ),
        (
            "dup-name",
            safetensors(&format!("{{{ok},{}}}", t("a", "F32", "[2]", 8, 16)), 16),
            "appears twice",
        ),
        (
            "unknown-dtype",
            safetensors(&format!("{{{}}}", t("a", "F31", "[2]", 0, 8)), 8),
            "unknown dtype",
        ),
        (
            "size-mismatch",
            safetensors(&format!("{{{}}}", t("a", "F32", "[3]", 0, 8)), 8),
            "needs 12 bytes",
        ),
        (
            "reversed",
            safetensors(&format!("{{{}}}", t("a", "F32", "[2]", 8, 0)), 8),
            "end before",
        ),
        (
            "offset-overflow",
            safetensors(&format!("{{{}}}", t("a", "U8", "[1]", u64::MAX, u64::MAX)), 1),
            "needs 1 bytes",
        ),
        (
            "shape-overflow",
            safetensors(&format!("{{{}}}", t("a", "F32", "[4294967296,4294967296]", 0, 0)), 0),
            "overflows",
        ),
        (
            "negative-dim",
            safetensors(&format!("{{{}}}", t("a", "F32", "[-1]", 0, 4)), 4),
            "tensor a",
        ),
        (
            "gap",
            safetensors(&format!("{{{}}}", t("a", "F32", "[1]", 4, 8)), 8),
            "gap",
        ),
        (
            "overlap",
            safetensors(&format!("{{{ok},{}}}", t("b", "F32", "[1]", 4, 8)), 8),
            "overlaps",
        ),
        (
            "f4-odd",
            safetensors(&format!("{{{}}}", t("a", "F4", "[3]", 0, 2)), 2),
            "whole bytes",
        ),
        (
            "meta-number",
            safetensors(r#"{"__metadata__":{"a":1}}"#, 0),
            "not a string",
        ),
        (
            "meta-array",
            safetensors(r#"{"__metadata__":[]}"#, 0),
            "not a JSON object",
        ),
        (
            "missing-shape",
            safetensors(r#"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, 4),
            "missing field",
        ),
        ("tensor-not-object", safetensors(r#"{"a":7}"#, 0), "tensor a"),
        (
            "lfs-pointer",
            b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 548105171\n".to_vec(),
            "Git LFS",
        ),
        (
            "html",
            b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head></html>".to_vec(),
            "HTML",
        ),
        (
            "tar",
            {
                let mut v = vec![0u8; 1024];
                v[257..262].copy_from_slice(b"ustar");
                v
            },
            "tar",
        ),
        (
            "random",
            b"hello, this is not a checkpoint".to_vec(),
            "not a safetensors file, or a damaged one",
        ),
        (
            "too-many-dims",
            safetensors(
                &format!("{{{}}}", t("a", "U8", &format!("[{}]", vec!["1"; 65].join(",")), 0, 1)),
                1,
            ),
            "dimensions",
        ),
    ];
    cases.push(("header-len-1", safetensors("{", 0), "too small"));
    assert!(cases.len() >= 25);
    for (name, bytes, want) in &cases {
        let p = write(d, &format!("{name}.safetensors"), bytes);
        let r = run(&["inspect", p.to_str().unwrap()]);
        assert_clean_error(&r, name);
        assert!(r.stderr.contains(want), "{name}: expected {want:?} in {:?}", r.stderr);
    }
}

#[test]
fn bad_folders_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let one = safetensors(r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, 1);
    let two = safetensors(r#"{"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#, 1);
    // index names a tensor the shard does not hold
    write(d, "s1/m-1.safetensors", &one);
    write(
        d,
        "s1/model.safetensors.index.json",
        br#"{"weight_map":{"a":"m-1.safetensors","zz":"m-1.safetensors"}}"#,
    );
    // shard holds a tensor the index does not map
    write(d, "s2/m-1.safetensors", &one);
    write(d, "s2/m-2.safetensors", &two);
    write(
        d,
        "s2/model.safetensors.index.json",
        br#"{"weight_map":{"a":"m-1.safetensors","b":"m-1.safetensors"}}"#,
    );
    let three = safetensors(
        r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"c":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#,
        2,
    );
    write(d, "s8/m-1.safetensors", &three);
    write(
        d,
        "s8/model.safetensors.index.json",
        br#"{"weight_map":{"a":"m-1.safetensors"}}"#,
    );
    // index escapes the folder
    write(
        d,
        "s3/model.safetensors.index.json",
        br#"{"weight_map":{"a":"../s1/m-1.safetensors"}}"#,
    );
    // missing shard, broken index, empty folder
    write(
        d,
        "s4/model.safetensors.index.json",
        br#"{"weight_map":{"a":"nope.safetensors"}}"#,
    );
    write(d, "s5/model.safetensors.index.json", b"{");
    std::fs::create_dir_all(d.join("s6")).unwrap();
    write(d, "s7/model_index.json", b"[1]");
    let expect = [
        ("s1", "zz is mapped to m-1.safetensors"),
        ("s2", "b is mapped to m-1.safetensors"),
        ("s3", "leaves the folder"),
        ("s4", "does not exist"),
        ("s5", "not a valid shard index"),
        ("s6", "no checkpoint files"),
        ("s7", "not a valid model_index.json"),
        ("s8", "holds tensor c which the index does not map"),
        ("does-not-exist", "No such file"),
    ];
    for (sub, want) in expect {
        let r = run(&["inspect", d.join(sub).to_str().unwrap()]);
        assert_clean_error(&r, sub);
        assert!(r.stderr.contains(want), "{sub}: expected {want:?} in {:?}", r.stderr);
    }
}

#[test]
fn unknown_content_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "weights.bin", b"hello, this is not a checkpoint");
    let r = run(&["inspect", p.to_str().unwrap()]);
    assert_clean_error(&r, "random .bin");
    assert!(
        r.stderr.contains("not a checkpoint: ") && r.stderr.contains("(looks like: text)"),
        "{}",
        r.stderr
    );
    let p = write(
        dir.path(),
        "model.bin",
        b"version https://git-lfs.github.com/spec/v1\noid sha256:4d\nsize 5\n",
    );
    let r = run(&["inspect", p.to_str().unwrap()]);
    assert_clean_error(&r, "lfs .bin");
    assert!(r.stderr.contains("Git LFS pointer"), "{}", r.stderr);
}

#[test]
fn usage_errors_exit_2() {
    let r = run(&["inspect"]);
    assert_eq!(r.code, 2);
    let r = run(&["no-such-command-or-file"]);
    assert_eq!(r.code, 2);
}

/// An empty tensor whose other dimensions are huge (`[0, 2^62, 2^62]`, which safetensors loads) is
/// listed as 0 values; it was refused with a false "tensor shape overflows".
#[test]
fn an_empty_tensor_with_huge_dimensions_is_listed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.safetensors");
    let header = r#"{"a":{"dtype":"F32","shape":[0,4611686018427387904,4611686018427387904],"data_offsets":[0,0]}}"#;
    std::fs::write(&path, common::safetensors(header, 0)).unwrap();
    let p = path.to_str().unwrap();
    let r = run(&["inspect", p]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("parameters  0"), "{}", r.stdout);
    let r = run(&["show", p, "a"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("empty tensor"), "{}", r.stdout);
}
