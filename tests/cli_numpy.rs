//! numpy files as checkpoints: every array of tests/data/numpy (written by real numpy, gen.py) is
//! listed by `inspect` with numpy's dtype and shape and shown by `show` with the values and
//! statistics numpy computed (expected.json); arrays that are no tensors are refused or left out;
//! damaged files are one-line errors with exit 2. No Python at test time.

mod common;

use std::path::Path;

use common::{assert_clean_error, run};
use serde_json::Value;

const DIR: &str = "tests/data/numpy";

fn json(r: &common::Run, what: &str) -> Value {
    assert_eq!(r.code, 0, "{what}: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{what}: {e}: {}", r.stdout))
}

fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-300) * 1e3
}

fn expected() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(DIR).join("expected.json")).unwrap();
    serde_json::from_str::<Value>(&text)
        .unwrap()
        .as_object()
        .unwrap()
        .clone()
}

#[test]
fn inspect_lists_every_array_as_numpy_describes_it() {
    for (file, tensors) in expected() {
        let path = format!("{DIR}/{file}");
        let doc = json(&run(&["inspect", &path, "--json"]), &path);
        let want = tensors.as_object().unwrap();
        let got = doc["tensors"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{path}: {got:?}");
        for t in got {
            let name = t["name"].as_str().unwrap();
            let e = &want[name];
            assert_eq!(t["dtype"], e["dtype"], "{path} {name}");
            assert_eq!(t["shape"], e["shape"], "{path} {name}");
        }
        let format = if file.ends_with(".npz") { "npz" } else { "npy" };
        assert_eq!(doc["format"], format, "{path}");
    }
}

#[test]
fn show_gives_numpys_values_and_statistics() {
    for (file, tensors) in expected() {
        let path = format!("{DIR}/{file}");
        for (name, e) in tensors.as_object().unwrap() {
            let what = format!("{path} {name}");
            let doc = json(&run(&["show", &path, name, "--json", "--bins", "0"]), &what);
            assert_eq!(doc["numel"], e["numel"], "{what}");
            let (got, want) = (doc["values"].as_array().unwrap(), e["first"].as_array().unwrap());
            assert_eq!(got.len(), want.len(), "{what}: {got:?}");
            for (g, w) in got.iter().zip(want) {
                match (g, w) {
                    (Value::Array(g), Value::Array(w)) => {
                        for (a, b) in g.iter().zip(w) {
                            assert!(
                                close(a.as_f64().unwrap(), b.as_f64().unwrap()),
                                "{what}: {g:?} vs {w:?}"
                            );
                        }
                    }
                    (Value::Number(a), Value::Number(b)) if a.is_f64() || b.is_f64() => {
                        assert!(close(a.as_f64().unwrap(), b.as_f64().unwrap()), "{what}: {a} vs {b}");
                    }
                    _ => assert_eq!(g, w, "{what}"),
                }
            }
            for key in ["min", "max", "mean", "std"] {
                let (g, w) = (&doc["stats"][key], &e[key]);
                if w.is_null() {
                    continue;
                }
                let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
                assert!(
                    (g - w).abs() <= 1e-6 * w.abs().max(1.0),
                    "{what} {key}: {g} vs numpy {w}"
                );
            }
        }
    }
}

#[test]
fn a_fortran_array_reads_in_c_order_as_np_load_gives_it() {
    let r = run(&["show", &format!("{DIR}/fortran.npy"), "fortran", "--bins", "0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("[1, 0:4]   4   5   6   7"), "{}", r.stdout);
}

#[test]
fn big_endian_arrays_are_listed_and_not_decoded() {
    let path = format!("{DIR}/big-endian.npy");
    let r = run(&["inspect", &path]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("big-endian  >f4    [2]"), "{}", r.stdout);
    assert!(
        r.stderr.contains("is big-endian: listed, its values are not decoded"),
        "{}",
        r.stderr
    );
    let r = run(&["show", &path, "big-endian"]);
    assert_clean_error(&r, "show of a big-endian array");
    assert!(r.stderr.contains("dtype >f4 cannot be decoded"), "{}", r.stderr);
}

#[test]
fn arrays_that_are_no_tensors_are_refused_never_unpickled() {
    for (file, says) in [
        (
            "object.npy",
            "dtype '|O' holds Python objects: its data is a pickle, which tensorscope never loads",
        ),
        ("structured.npy", "is a structured dtype (named fields), not a tensor"),
        (
            "strings.npy",
            "dtype '<U2' (unicode strings) is not a tensor element type",
        ),
    ] {
        let r = run(&["inspect", &format!("{DIR}/{file}")]);
        assert_clean_error(&r, file);
        assert!(r.stderr.contains(says), "{file}: {}", r.stderr);
    }
    // in an archive, the object member is left out and named; the others are read
    let r = run(&["inspect", &format!("{DIR}/mixed.npz")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("good"), "{}", r.stdout);
    assert!(
        r.stderr.contains("member bad.npy: dtype '|O' holds Python objects") && r.stderr.contains("left out"),
        "{}",
        r.stderr
    );
    // and scan still judges the pickle inside
    let r = run(&["scan", &format!("{DIR}/object.npy")]);
    assert!(r.stdout.contains("[numpy]"), "{}", r.stdout);
}

#[test]
fn damaged_files_are_one_line_errors() {
    for (file, says) in [
        (
            "truncated.npy",
            "truncated: shape (2, 3) of '<f4' needs 24 bytes of data after the header but the file holds 19",
        ),
        ("header-lies.npy", ".npy header runs past the end of the file"),
        ("shape-overflow.npy", "overflows a 64-bit byte size"),
    ] {
        for cmd in ["inspect", "show"] {
            let mut args = vec![cmd.to_string(), format!("{DIR}/{file}")];
            if cmd == "show" {
                args.push("x".into());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let r = run(&args);
            assert_clean_error(&r, file);
            assert!(r.stderr.contains(says), "{file}: {}", r.stderr);
        }
    }
}

#[test]
fn compressed_and_stored_archives_hold_the_same_values() {
    let r = run(&["diff", &format!("{DIR}/arrays.npz"), &format!("{DIR}/compressed.npz")]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("2 common tensors compared: 2 equal"), "{}", r.stdout);
    assert!(r.stdout.contains("only in B (1)"), "{}", r.stdout);
}

#[test]
fn an_array_beside_a_checkpoint_is_one_more_file_named_by_its_file() {
    let tmp = tempfile::tempdir().unwrap();
    common::write(
        tmp.path(),
        "model.safetensors",
        &common::safetensors(r#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 8),
    );
    std::fs::copy(Path::new(DIR).join("v2.npy"), tmp.path().join("v2.npy")).unwrap();
    std::fs::copy(Path::new(DIR).join("compressed.npz"), tmp.path().join("c.npz")).unwrap();
    let dir = tmp.path().to_str().unwrap();
    let doc = json(&run(&["inspect", dir, "--json"]), "folder");
    let names: Vec<&str> = doc["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for want in ["model.safetensors/w", "v2.npy/v2", "c.npz/weight", "c.npz/layer/w"] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    let r = run(&["show", dir, "c.npz/bias", "--json", "--bins", "0"]);
    assert_eq!(json(&r, "show in a folder")["values"], serde_json::json!([0, 1, 2]));
}

/// No loader `bench` times reads numpy files: a file timed as safetensors would be mislabelled (as a
/// GGUF once was), so bench refuses before writing a twin or timing anything.
#[test]
fn bench_refuses_numpy_files_rather_than_mislabel_them() {
    for p in [format!("{DIR}/f4.npy"), format!("{DIR}/arrays.npz")] {
        let r = run(&["bench", &p, "--runs", "1", "--in-process"]);
        assert_clean_error(&r, &p);
        assert!(r.stderr.contains("is a numpy file"), "{p}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{p}: nothing timed: {}", r.stdout);
    }
}
