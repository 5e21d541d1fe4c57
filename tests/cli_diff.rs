//! `tensorscope diff`: identical checkpoints across layouts, every kind of difference, aliases, errors.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{assert_clean_error, run, sample};
use safetensors::Dtype;
use serde_json::Value;

/// Write a safetensors file of `(name, dtype, shape, bytes)` with `metadata`.
fn write_st(path: &Path, tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)], metadata: &[(&str, &str)]) {
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .map(|(n, d, s, b)| {
            (
                n.to_string(),
                safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap(),
            )
        })
        .collect();
    let meta: HashMap<String, String> = metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    std::fs::write(path, safetensors::serialize(views, Some(meta)).unwrap()).unwrap();
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn f16s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| half::f16::from_f32(*x).to_le_bytes()).collect()
}

fn json(args: &[&str]) -> (i32, Value) {
    let r = run(args);
    assert!(r.stderr.is_empty() || !r.stderr.contains("panicked"), "{}", r.stderr);
    (
        r.code,
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout)),
    )
}

#[test]
fn one_model_in_two_layouts_is_identical() {
    let r = run(&["diff", &sample("gpt2-tiny.safetensors"), &sample("sharded")]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("28 common tensors compared: 28 equal, 0 different"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.trim_end().ends_with("identical"), "{}", r.stdout);
    assert!(!r.stdout.contains("byte for byte"), "different files: {}", r.stdout);
}

#[test]
fn a_file_and_itself_are_byte_identical() {
    let p = sample("gpt2-tiny.safetensors");
    let (code, v) = json(&["diff", &p, &p, "--json"]);
    assert_eq!(code, 0);
    assert_eq!(v["identical"], true);
    assert_eq!(v["files_identical"], true);
    assert_eq!(v["compared"], 28);
    assert_eq!(v["equal"], 28);
}

#[test]
fn fp16_variant_differs_in_dtype_and_values() {
    let a = sample("diffusers-tiny/unet/diffusion_pytorch_model.safetensors");
    let b = sample("diffusers-tiny/unet/diffusion_pytorch_model.fp16.safetensors");
    let (code, v) = json(&["diff", &a, &b, "--json"]);
    assert_eq!(code, 1);
    assert_eq!(v["identical"], false);
    assert_eq!(v["changed"].as_array().unwrap().len(), 134);
    let t = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "conv_in.weight")
        .unwrap();
    assert_eq!(t["dtype"], "F32");
    assert_eq!(t["b_dtype"], "F16");
    // F16 rounding of values of magnitude < 1: relative error below 2^-11
    let max = t["max_abs_diff"].as_f64().unwrap();
    assert!(max > 0.0 && max < 1e-3, "{max}");
    assert!(t["cosine_similarity"].as_f64().unwrap() > 0.99999);
}

#[test]
fn every_kind_of_difference_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.safetensors"), dir.path().join("b.safetensors"));
    write_st(
        &a,
        &[
            ("same", Dtype::F32, vec![3], f32s(&[1.0, 2.0, 3.0])),
            ("values", Dtype::F32, vec![4], f32s(&[1.0, 0.0, 0.0, 0.0])),
            ("only_a", Dtype::F32, vec![1], f32s(&[1.0])),
            ("reshaped", Dtype::F32, vec![2, 2], f32s(&[1.0; 4])),
            ("retyped", Dtype::F32, vec![2], f32s(&[0.5, -2.0])),
            ("nan", Dtype::F32, vec![2], f32s(&[f32::NAN, 1.0])),
        ],
        &[("format", "pt"), ("step", "1")],
    );
    write_st(
        &b,
        &[
            ("same", Dtype::F32, vec![3], f32s(&[1.0, 2.0, 3.0])),
            ("values", Dtype::F32, vec![4], f32s(&[0.0, 1.0, 0.0, 0.0])),
            ("only_b", Dtype::I64, vec![1], 7i64.to_le_bytes().to_vec()),
            ("reshaped", Dtype::F32, vec![4], f32s(&[1.0; 4])),
            ("retyped", Dtype::F16, vec![2], f16s(&[0.5, -2.0])),
            ("nan", Dtype::F32, vec![2], f32s(&[f32::NAN, 1.0])),
        ],
        &[("format", "pt"), ("step", "2")],
    );
    let (code, v) = json(&["diff", a.to_str().unwrap(), b.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["only_in_a"][0]["name"], "only_a");
    assert_eq!(v["only_in_b"][0]["name"], "only_b");
    assert_eq!(v["only_in_b"][0]["dtype"], "I64");
    let changed: Vec<&str> = v["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["reshaped", "retyped"]);
    assert_eq!(v["changed"][0]["b"]["shape"], serde_json::json!([4]));
    let t = |n: &str| {
        v["tensors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(t("same")["equal"], true);
    assert_eq!(t("nan")["equal"], true, "same bytes, NaN included");
    let values = t("values");
    assert_eq!(values["equal"], false);
    assert_eq!(values["max_abs_diff"], 1.0);
    assert_eq!(values["mean_abs_diff"], 0.5);
    assert_eq!(values["cosine_similarity"], 0.0);
    // another dtype with the same values: the values are equal, the dtype change is still reported
    assert_eq!(t("retyped")["equal"], true);
    assert_eq!(t("retyped")["b_dtype"], "F16");
    assert_eq!(v["compared"], 4);
    assert_eq!(v["different"], 1);
    assert_eq!(v["metadata"]["changed"]["step"], serde_json::json!(["1", "2"]));

    let r = run(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(r.code, 1);
    for want in [
        "only in A (1):",
        "only_b  I64 [1]",
        // aligned columns
        "  reshaped  F32 [2, 2]  ->  F32 [4]\n  retyped   F32 [2]     ->  F16 [2]\n",
        "  tensor  dtype  shape   max |a-b|   mean |a-b|    cosine\n",
        "  values  F32    [4]    1.000000e0  5.000000e-1  0.000000\n",
        "metadata changed: step = 1 -> 2",
        "4 common tensors compared: 3 equal, 1 different",
    ] {
        assert!(r.stdout.contains(want), "missing {want:?} in\n{}", r.stdout);
    }
    assert!(r.stdout.trim_end().ends_with("different"));
}

#[test]
fn names_written_once_are_matched_through_the_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.safetensors"), dir.path().join("b.safetensors"));
    let w = f32s(&[1.0, 2.0, 3.0, 4.0]);
    write_st(
        &a,
        &[
            ("wte", Dtype::F32, vec![2, 2], w.clone()),
            ("lm_head", Dtype::F32, vec![2, 2], w.clone()),
        ],
        &[],
    );
    write_st(&b, &[("wte", Dtype::F32, vec![2, 2], w.clone())], &[("lm_head", "wte")]);
    let (code, v) = json(&["diff", a.to_str().unwrap(), b.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["compared"], 2);
    let lm = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "lm_head")
        .unwrap();
    assert_eq!(lm["b_name"], "wte");
    // and the other way round
    let (code, v) = json(&["diff", b.to_str().unwrap(), a.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["compared"], 2);
    // an alias whose tensor differs is a difference
    write_st(
        &a,
        &[
            ("wte", Dtype::F32, vec![2, 2], w.clone()),
            ("lm_head", Dtype::F32, vec![2, 2], f32s(&[0.0; 4])),
        ],
        &[],
    );
    let (code, v) = json(&["diff", a.to_str().unwrap(), b.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["different"], 1);
}

#[test]
fn errors_exit_2() {
    let r = run(&["diff", &sample("gpt2-tiny.safetensors"), "/nonexistent/x.safetensors"]);
    assert_clean_error(&r, "missing B");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.safetensors");
    std::fs::write(&bad, b"\x08\x00\x00\x00\x00\x00\x00\x00{}").unwrap();
    let r = run(&["diff", bad.to_str().unwrap(), &sample("gpt2-tiny.safetensors")]);
    assert_clean_error(&r, "bad A");
}

#[test]
fn torch_only_dtypes_are_compared_by_bytes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/torch");
    let (a, b) = (root.join("dtypes.pt"), root.join("dtypes-legacy.pt"));
    let (code, v) = json(&["diff", a.to_str().unwrap(), b.to_str().unwrap(), "--json"]);
    // dtypes.pt has more dtypes than the legacy file; the common ones, complex128 included, are equal
    assert_eq!(code, 1, "{v}");
    assert!(!v["only_in_a"].as_array().unwrap().is_empty());
    assert!(v["only_in_b"].as_array().unwrap().is_empty());
    let c = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["dtype"] == "complex128")
        .unwrap();
    assert_eq!(c["equal"], true, "{c}");
    assert_eq!(v["different"], 0);
}
