//! Honest folders: which files make up a folder, which of them are checkpoints, the verdict over all
//! of them, and no file left out silently (`inspect` and `scan` on the same core function).

mod common;

use std::path::Path;

use common::{run, sample};
use serde_json::Value;

fn json(args: &[&str]) -> (i32, Value) {
    let r = run(args);
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {} {}", r.stdout, r.stderr));
    (r.code, v)
}

fn paths(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().rsplit('/').next().unwrap().to_owned())
        .collect()
}

fn tensor_names(v: &Value) -> Vec<&str> {
    v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect()
}

#[test]
fn a_safetensors_file_beside_a_malicious_pickle_is_dangerous() {
    let dir = sample("mixed-folder");
    let (code, v) = json(&["scan", "--json", &dir]);
    assert_eq!(code, 1);
    assert_eq!(paths(&v, "files"), ["adapter.safetensors", "extra.bin"]);
    assert_eq!(v["files"][0]["verdict"], "safe");
    assert_eq!(v["files"][1]["verdict"], "dangerous");
    assert_eq!(paths(&v, "skipped"), ["adapter_config.json"]);
    assert_eq!(v["skipped"][0]["looks"], "JSON");
    let r = run(&["scan", &dir]);
    assert!(r.stdout.contains("DANGEROUS"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("adapter_config.json  skipped: not a checkpoint (JSON)"),
        "{}",
        r.stdout
    );
    // inspect lists both files, grouped by file
    let (code, v) = json(&["inspect", "--json", &dir]);
    assert_eq!(code, 0);
    assert_eq!(paths(&v, "files"), ["adapter.safetensors", "extra.bin"]);
    let names = tensor_names(&v);
    assert!(names.contains(&"adapter.safetensors/lora_A.weight"), "{names:?}");
    assert!(names.contains(&"extra.bin/extra.weight"), "{names:?}");
}

#[test]
fn sharded_and_diffusers_folders_are_safe_and_their_indexes_are_not_scanned() {
    for (dir, index) in [
        ("sharded", "model.safetensors.index.json"),
        ("sharded-bin", "pytorch_model.bin.index.json"),
        ("diffusers-tiny", "model_index.json"),
    ] {
        let (code, v) = json(&["scan", "--json", &sample(dir)]);
        assert_eq!(code, 0, "{dir}: {v:#}");
        assert!(v["files"].as_array().unwrap().iter().all(|f| f["verdict"] == "safe"));
        let skipped = v["skipped"].as_array().unwrap();
        let idx = skipped
            .iter()
            .find(|s| s["path"].as_str().unwrap().ends_with(index))
            .unwrap();
        assert_eq!(idx["looks"], "index", "{dir}");
        assert!(!paths(&v, "files").iter().any(|p| p.ends_with(".json")), "{dir}");
    }
}

#[test]
fn a_cache_blob_reached_through_its_snapshot_link_is_scanned_once() {
    let (code, v) = json(&["scan", "--json", &sample("hub")]);
    assert_eq!(code, 0);
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "{v:#}");
    assert!(files[0]["path"].as_str().unwrap().ends_with("/model.safetensors"));
    let also = files[0]["also"].as_array().unwrap();
    assert_eq!(also.len(), 1);
    assert!(also[0].as_str().unwrap().contains("/blobs/"));
    // both names given on the command line: still scanned once
    let snap = files[0]["path"].as_str().unwrap().to_owned();
    let blob = also[0].as_str().unwrap().to_owned();
    let (_, v) = json(&["scan", "--json", &blob, &snap]);
    assert_eq!(v["files"].as_array().unwrap().len(), 1, "{v:#}");
    assert_eq!(v["files"][0]["also"][0].as_str().unwrap(), snap);
    let r = run(&["scan", &sample("hub")]);
    assert!(
        r.stdout.contains("same file as ") && r.stdout.contains("models--tiny--gpt2/blobs/"),
        "{}",
        r.stdout
    );
}

#[test]
fn no_checkpoint_under_the_paths_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let r = run(&["scan", empty.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("error: ") && r.stderr.contains("no checkpoint found"),
        "{}",
        r.stderr
    );
    let cfg = dir.path().join("configs");
    std::fs::create_dir(&cfg).unwrap();
    std::fs::write(cfg.join("config.json"), b"{\"a\": 1}\n").unwrap();
    std::fs::write(cfg.join("README.md"), b"# model\n").unwrap();
    let r = run(&["scan", cfg.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no checkpoint found (2 files skipped as not checkpoints)"),
        "{}",
        r.stderr
    );
    let r = run(&["inspect", cfg.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(r.stderr.contains("no checkpoint files here"), "{}", r.stderr);
}

#[test]
fn a_file_that_is_positively_not_a_checkpoint_says_what_it_looks_like() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: [(&str, &[u8], &str); 4] = [
        ("notes.txt", b"hello, these are notes\n", "text"),
        ("config.json", b"{\"hidden_size\": 8}", "JSON"),
        ("page.bin", b"<!DOCTYPE html><html><body>Sign in</body></html>", "HTML"),
        ("cat.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "image"),
    ];
    for (name, bytes, looks) in cases {
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        for cmd in ["scan", "inspect"] {
            let r = run(&[cmd, p.to_str().unwrap()]);
            assert_eq!(r.code, 2, "{cmd} {name}");
            let want = format!("not a checkpoint: {} (looks like: {looks})", p.display());
            assert!(r.stderr.contains(&want), "{cmd} {name}: {}", r.stderr);
            assert_eq!(r.stderr.lines().count(), 1);
        }
    }
}

/// A V7 tar header (no ustar magic) for one member, as Python's tarfile writes V7_FORMAT.
fn v7_tar(member: &str, data: &[u8]) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    h[..member.len()].copy_from_slice(member.as_bytes());
    h[100..108].copy_from_slice(b"0000644\0");
    h[108..116].copy_from_slice(b"0000000\0");
    h[116..124].copy_from_slice(b"0000000\0");
    h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
    h[136..148].copy_from_slice(b"00000000000\0");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    h.extend_from_slice(data);
    h.resize(h.len().div_ceil(512) * 512 + 1024, 0);
    h
}

#[test]
fn no_file_is_dropped_silently_beside_a_safe_checkpoint() {
    // each of these beside a benign model.safetensors was reported as "1 file, safe"
    let evil = b"cposix\nsystem\n(S'id'\ntR.";
    let mut gz = vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff];
    gz.extend_from_slice(b"not inflated here");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("int-hex.pkl", [&b"I0x1\n0"[..], evil].concat()),
        ("int-nul.pkl", [&b"I1\0junk\n0"[..], evil].concat()),
        ("long-hex.pkl", [&b"L0x1L\n0"[..], evil].concat()),
        ("legacy-v7.pt", v7_tar("pickle", evil)),
        ("model.pkl.gz", gz),
    ];
    // what pandas.read_pickle opens by the name: text before a zip archive, LZMA "alone" with no
    // magic in a `.tar`, an upper-case `.XZ`, a bare `x.xz`
    let by_name = [
        "pandas_zip_prefix.zip",
        "pandas_tar_lzma0.pkl.tar",
        "pandas_upper.pkl.XZ",
        "pandas_bare.xz",
    ];
    let cases = cases.into_iter().chain(by_name.map(|n| {
        let bytes = std::fs::read(format!("tests/data/scan/v3/malicious/review37-{n}")).unwrap();
        (n, bytes)
    }));
    for (name, bytes) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            Path::new(&sample("gpt2-tiny.safetensors")),
            dir.path().join("model.safetensors"),
        )
        .unwrap();
        std::fs::write(dir.path().join(name), &bytes).unwrap();
        let (code, v) = json(&["scan", "--json", dir.path().to_str().unwrap()]);
        assert_eq!(paths(&v, "files").len(), 2, "{name}: {v:#}");
        assert!(v["skipped"].as_array().unwrap().is_empty(), "{name}");
        let f = v["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap();
        assert_ne!(f["verdict"], "safe", "{name}");
        assert_eq!(code, 1, "{name}");
    }
}

/// A folder with two shard indexes reads one and says which one it left out (it said nothing, and
/// the other index's tensors were silently missing).
#[test]
fn a_second_shard_index_is_named_as_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let st = |name: &str| {
        let h = format!("{{\"{name}\":{{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}}}");
        common::safetensors(&h, 4)
    };
    common::write(d, "a.safetensors", &st("x"));
    common::write(d, "b.safetensors", &st("y"));
    common::write(
        d,
        "model.safetensors.index.json",
        br#"{"weight_map":{"x":"a.safetensors"}}"#,
    );
    common::write(
        d,
        "other.safetensors.index.json",
        br#"{"weight_map":{"y":"b.safetensors"}}"#,
    );
    let r = common::run(&["inspect", d.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("holds 2 shard indexes"), "{}", r.stderr);
    assert!(
        r.stderr.contains("left out other.safetensors.index.json"),
        "{}",
        r.stderr
    );
}

/// A shard named in an index that is a folder is called a folder, not missing.
#[test]
fn a_shard_that_is_a_folder_is_named_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("sub.safetensors")).unwrap();
    common::write(
        d,
        "model.safetensors.index.json",
        br#"{"weight_map":{"x":"sub.safetensors"}}"#,
    );
    let r = common::run(&["inspect", d.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is a folder, not a file"), "{}", r.stderr);
}

/// A folder whose only entries are an empty subfolder and a link to itself is not called empty.
#[test]
fn a_folder_of_dead_links_is_not_called_empty() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("a")).unwrap();
    std::os::unix::fs::symlink("self", d.join("self")).unwrap();
    let r = common::run(&["inspect", d.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("links that lead to no file"), "{}", r.stderr);
    let empty = tempfile::tempdir().unwrap();
    let r = common::run(&["inspect", empty.path().to_str().unwrap()]);
    assert!(r.stderr.contains("the folder is empty"), "{}", r.stderr);
}

fn one_tensor(name: &str, values: &[f32]) -> Vec<u8> {
    let n = values.len();
    let h = format!(
        "{{\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{n}],\"data_offsets\":[0,{}]}}}}",
        4 * n
    );
    let mut b = common::safetensors(&h, 0);
    b.extend(values.iter().flat_map(|v| v.to_le_bytes()));
    b
}

/// A file whose name is not UTF-8 is read like any other: it was dropped from folders, so `diff` called
/// two different folders identical (exit 0), `inspect` counted one file of two, and a folder holding
/// only such a file had "no checkpoint files". Its tensors are named by the file, `\xe9` escaped.
#[test]
fn files_whose_names_are_not_utf8_are_read() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let (fa, fb, fc) = (dir.path().join("fa"), dir.path().join("fb"), dir.path().join("fc"));
    for d in [&fa, &fb, &fc] {
        std::fs::create_dir(d).unwrap();
    }
    let odd = |d: &Path, stem: &[u8], bytes: &[u8]| {
        let mut name = stem.to_vec();
        name.extend_from_slice(b".safetensors");
        std::fs::write(d.join(OsStr::from_bytes(&name)), bytes).unwrap();
    };
    common::write(&fa, "m.safetensors", &one_tensor("w", &[1.0; 4]));
    common::write(&fb, "m.safetensors", &one_tensor("w", &[1.0; 4]));
    odd(&fa, b"extra\xe9", &one_tensor("x", &[0.0; 3]));
    odd(&fb, b"extra\xe9", &one_tensor("x", &[7.0; 1000]));
    odd(&fc, b"only\xe9", &one_tensor("x", &[7.0; 3]));
    odd(&fc, b"only\xe8", &one_tensor("x", &[8.0; 3]));
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let (code, v) = json(&["inspect", "--json", &s(&fa)]);
    assert_eq!(code, 0);
    let names = tensor_names(&v);
    assert_eq!(names, ["extra\\xe9.safetensors/x", "m.safetensors/w"]);
    let r = run(&["diff", &s(&fa), &s(&fb)]);
    assert_eq!(r.code, 1, "the folders differ: {} {}", r.stdout, r.stderr);
    // two such names stay two tensors' files
    let (code, v) = json(&["inspect", "--json", &s(&fc)]);
    assert_eq!(code, 0);
    let names = tensor_names(&v);
    assert_eq!(names, ["only\\xe8.safetensors/x", "only\\xe9.safetensors/x"]);
    // and scan names them apart (they printed as one lossy name)
    let r = run(&["scan", &s(&fc)]);
    assert!(
        r.stdout.contains("only\\xe8.safetensors") && r.stdout.contains("only\\xe9.safetensors"),
        "{}",
        r.stdout
    );
    std::fs::remove_file(fc.join(OsStr::from_bytes(b"only\xe8.safetensors"))).unwrap();
    let (code, v) = json(&["inspect", "--json", &s(&fc)]);
    assert_eq!((code, v["total_params"].as_u64()), (0, Some(3)));
}

/// `model.safetensors` beside `pytorch_model.bin` (the same weights twice, as many Hub repositories hold
/// them) counted every parameter twice; transformers reads the safetensors file, and so does the
/// folder, naming the pickle as left out. The fp16 variant's shards beside them, which no variant
/// infix check caught (`model.fp16-00001-of-00002.safetensors`), are left out and named too.
#[test]
fn a_model_saved_in_both_formats_is_counted_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(sample("gpt2-tiny.safetensors"), d.join("model.safetensors")).unwrap();
    std::fs::copy(sample("gpt2-tiny.bin"), d.join("pytorch_model.bin")).unwrap();
    let (_, alone) = json(&["inspect", "--json", &sample("gpt2-tiny.safetensors")]);
    let r = run(&["inspect", "--json", d.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["total_params"], alone["total_params"]);
    assert_eq!(paths(&v, "files"), ["model.safetensors"]);
    assert!(
        r.stderr.contains(
            "left out pytorch_model.bin (transformers and diffusers read model.safetensors in its place when \
             both are there)"
        ),
        "{}",
        r.stderr
    );
    common::write(d, "model.fp16-00001-of-00002.safetensors", &one_tensor("a", &[1.0]));
    common::write(d, "model.fp16-00002-of-00002.safetensors", &one_tensor("b", &[1.0]));
    common::write(
        d,
        "model.safetensors.index.fp16.json",
        br#"{"weight_map":{"a":"model.fp16-00001-of-00002.safetensors","b":"model.fp16-00002-of-00002.safetensors"}}"#,
    );
    let r = run(&["inspect", "--json", d.to_str().unwrap()]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["total_params"], alone["total_params"]);
    assert!(
        r.stderr.contains(
            "left out model.fp16-00001-of-00002.safetensors, model.fp16-00002-of-00002.safetensors \
             (the fp16 variant; read it with --variant fp16)"
        ),
        "{}",
        r.stderr
    );
    let (code, v) = json(&["inspect", "--json", "--variant", "fp16", d.to_str().unwrap()]);
    assert_eq!((code, v["total_params"].as_u64()), (0, Some(2)));
}

/// `--variant fp16` on a folder without fp16 files said "no checkpoint files here (only folders without
/// weights…)" beside seven checkpoint files: it says which variants there are.
#[test]
fn a_missing_variant_names_the_variants_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    common::write(d, "model-00001-of-00002.safetensors", &one_tensor("a", &[1.0]));
    common::write(d, "model-00002-of-00002.safetensors", &one_tensor("b", &[1.0]));
    common::write(d, "model.bf16.safetensors", &one_tensor("a", &[1.0]));
    common::write(
        d,
        "model.safetensors.index.json",
        br#"{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}"#,
    );
    let r = run(&["inspect", "--variant", "fp16", d.to_str().unwrap()]);
    common::assert_clean_error(&r, "missing variant");
    assert!(
        r.stderr.contains(
            "no checkpoint file of variant fp16 here; it holds 2 files without a variant (read without \
             --variant), 1 file of variant bf16 (--variant bf16)"
        ),
        "{}",
        r.stderr
    );
}
