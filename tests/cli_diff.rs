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
fn fp16_variant_is_equal_within_f16_rounding() {
    let a = sample("diffusers-tiny/unet/diffusion_pytorch_model.safetensors");
    let b = sample("diffusers-tiny/unet/diffusion_pytorch_model.fp16.safetensors");
    let (code, v) = json(&["diff", &a, &b, "--json"]);
    assert_eq!(code, 3);
    assert_eq!(v["identical"], false);
    assert_eq!(v["verdict"], "within_tolerance");
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
    let t = |n: &str| common::row(&v, n);
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
        // aligned columns; the dtype change is one row with its values
        "shape changed (1):\n  reshaped  F32 [2, 2]  ->  F32 [4]\n",
        "  tensor   dtype       shape  max |a-b|  max rel    cosine\n",
        "  retyped  F32 -> F16  [2]            0        0         1  equal\n",
        "  values   F32         [4]        1.0e0    1.0e0  0.000000  2 outside F32\n",
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
    // review 38: with the alias on A's side, the differing row was named `wte` (which is equal), twice
    let (code, v) = json(&["diff", b.to_str().unwrap(), a.to_str().unwrap(), "--json"]);
    assert_eq!(code, 1, "{v}");
    let rows: Vec<(&str, bool, Option<&str>)> = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["equal"].as_bool().unwrap(),
                t["a_name"].as_str(),
            )
        })
        .collect();
    assert_eq!(rows, [("wte", true, None), ("lm_head", false, Some("wte"))], "{v}");
    let text = run(&["diff", b.to_str().unwrap(), a.to_str().unwrap()]).stdout;
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("lm_head ")) && !text.contains("  wte "),
        "{text}"
    );
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

/// Torch's complex128 and complex32 have no value decoding: a difference printed `max |a-b| 0`. Now
/// they are compared part by part, as torch computes `(a - b).abs()` (`gen_complex.py` records its
/// figures); a quantized tensor, known only by its bytes, has no statistics (`n/a`, JSON `null`).
#[test]
fn complex128_and_complex32_differences_are_measured_and_quantized_ones_are_not_invented() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("complex-expected.json")).unwrap()).unwrap();
    let (code, v) = json(&["diff", "--json", &fixture("complex-a.pt"), &fixture("complex-b.pt")]);
    assert_eq!(code, 1, "{v}");
    let row = |name: &str| common::row(&v, name);
    for name in ["c128", "c32", "neg", "conj"] {
        let (t, want) = (row(name), &expected[name]);
        assert_eq!(t["equal"], false, "{t}");
        for field in ["max_abs_diff", "mean_abs_diff"] {
            let (got, want) = (t[field].as_f64().unwrap(), want[field].as_f64().unwrap());
            assert!(
                (got - want).abs() <= want * 1e-9,
                "{name} {field}: {got} vs torch {want}"
            );
        }
        // the cosine of the tensors as vectors of real and imaginary parts: B = -A is -1 (the
        // magnitudes' cosine said 1), and 1 - cos agrees with it
        let (cos, want) = (
            t["cosine_similarity"].as_f64().unwrap(),
            want["cosine_similarity"].as_f64().unwrap(),
        );
        assert!((cos - want).abs() <= 1e-6, "{name} cosine: {cos} vs torch {want}");
        let one_minus = t["one_minus_cosine"].as_f64().unwrap();
        assert!(
            (1.0 - cos - one_minus).abs() <= 1e-6,
            "{name}: cos {cos}, 1-cos {one_minus}"
        );
    }
    let q = row("q");
    assert_eq!((&q["dtype"], &q["equal"]), (&Value::from("qint8"), &Value::Bool(false)));
    for field in ["max_abs_diff", "mean_abs_diff", "max_rel_diff", "cosine_similarity"] {
        assert!(q[field].is_null(), "{field}: {q}");
    }
    assert!(q.get("not_finite").is_none(), "{q}");
    let text = run(&["diff", &fixture("complex-a.pt"), &fixture("complex-b.pt")]).stdout;
    let q_line = text.lines().find(|l| l.trim_start().starts_with("q ")).unwrap();
    assert!(q_line.contains("n/a") && !q_line.contains(" 0 "), "{text}");
}

/// A fixture of `tests/data/diff` (see `gen.py` there).
fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/diff")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(f64::MIN_POSITIVE)
}

#[test]
fn an_fp16_export_is_judged_by_f16_rounding_in_one_row_per_tensor() {
    let (a, b) = (fixture("model.safetensors"), fixture("model.fp16.safetensors"));
    let r = run(&["diff", &a, &b]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    // one row per tensor: every name once
    for name in ["embed.weight", "blocks.0.qkv.weight", "lm_head.weight", "ln_f.bias"] {
        assert_eq!(
            r.stdout.matches(&format!("  {name} ")).count(),
            1,
            "{name}:\n{}",
            r.stdout
        );
    }
    assert!(!r.stdout.contains("dtype or shape changed") && !r.stdout.contains("\nvalues differ ("));
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with("  blocks.0.qkv.weight "))
        .unwrap();
    assert!(row.contains("F32 -> F16") && row.ends_with("within F16"), "{row}");
    // the cosine rounds to 1 in six decimals: 1 − cos is shown instead
    assert!(row.contains("1 - ") && !row.contains("1.000000"), "{row}");
    assert!(!r.stdout.contains("1.000000"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("within F16 rounding (rtol 1e-3, atol 1e-5): 28/28, max rel 4."),
        "{}",
        r.stdout
    );
    assert_eq!(
        r.stdout.lines().last(),
        Some("equal within F16 rounding"),
        "{}",
        r.stdout
    );

    let (code, v) = json(&["diff", &a, &b, "--json"]);
    assert_eq!(code, 3);
    assert_eq!(v["verdict"], "within_tolerance");
    assert_eq!(v["identical"], false);
    let g = &v["tolerances"][0];
    assert_eq!(
        (g["dtype"].as_str(), g["rtol"].as_f64(), g["atol"].as_f64()),
        (Some("F16"), Some(1e-3), Some(1e-5))
    );
    assert_eq!((g["tensors"].as_u64(), g["within"].as_u64()), (Some(28), Some(28)));
    let t = &v["tensors"][1];
    for key in [
        "max_rel_diff",
        "one_minus_cosine",
        "within_tolerance",
        "outside_tolerance",
        "tolerance",
    ] {
        assert!(t.get(key).is_some(), "{key} missing: {t}");
    }
}

/// Every pair `gen.py` judged with torch.testing.assert_close: the same verdict per tensor and
/// overall, and the differences as computed exactly.
#[test]
fn verdicts_agree_with_torch_assert_close_on_every_fixture_pair() {
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap();
    let mut failures = Vec::new();
    for pair in expected.as_array().unwrap() {
        let (a, b) = (pair["a"].as_str().unwrap(), pair["b"].as_str().unwrap());
        let (code, v) = json(&["diff", &fixture(a), &fixture(b), "--json"]);
        let rows = pair["tensors"].as_object().unwrap();
        let all_within = rows.values().all(|r| r["within"] == true);
        let want = if all_within {
            (3, "within_tolerance")
        } else {
            (1, "different")
        };
        if (code, v["verdict"].as_str().unwrap()) != want {
            failures.push(format!("{a} vs {b}: exit {code}, {}; torch: {want:?}", v["verdict"]));
        }
        for t in v["tensors"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            let w = &rows[name];
            if t["within_tolerance"] != w["within"] || t["equal"] != w["equal"] {
                failures.push(format!("{a} vs {b}: {name}: {t} but torch says {w}"));
            }
            // an overflow to inf: the fields torch finds infinite
            let none = serde_json::json!({});
            let (got, exact) = (
                t.get("not_finite").unwrap_or(&none),
                w.get("not_finite").unwrap_or(&none),
            );
            if got != exact {
                failures.push(format!("{a} vs {b}: {name}: not_finite {got}, exactly {exact}"));
            }
            for (key, rel) in [
                ("max_abs_diff", 1e-12),
                ("max_rel_diff", 1e-12),
                ("one_minus_cosine", 1e-6),
            ] {
                let (got, exact) = (t[key].as_f64(), w[key].as_f64());
                if !matches!((got, exact), (Some(g), Some(e)) if close(g, e, rel)) && got != exact {
                    failures.push(format!("{a} vs {b}: {name}: {key} {got:?}, exactly {exact:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_faulty_export_and_an_overflow_are_different() {
    let r = run(&[
        "diff",
        &fixture("model.safetensors"),
        &fixture("model.fp16-off.safetensors"),
    ]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let row = r
        .stdout
        .lines()
        .find(|l| l.starts_with("  blocks.1.fc1.weight "))
        .unwrap();
    assert!(row.contains(" outside F16"), "{row}");
    assert!(
        r.stdout.contains("within F16 rounding (rtol 1e-3, atol 1e-5): 27/28,"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.lines().last(), Some("different"));

    let r = run(&["diff", &fixture("big.safetensors"), &fixture("big.fp16.safetensors")]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let row = r.stdout.lines().find(|l| l.starts_with("  scale ")).unwrap();
    assert!(row.contains("1 outside F16, 1 NaN/inf mismatch"), "{row}");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells[5..8],
        ["inf", "inf", "n/a"],
        "an infinite difference, no cosine: {row}"
    );
}

#[test]
fn bf16_and_mixed_pairs_take_the_narrower_dtypes_tolerance() {
    let (code, v) = json(&[
        "diff",
        &fixture("model.fp16.safetensors"),
        &fixture("model.bf16.safetensors"),
        "--json",
    ]);
    assert_eq!(code, 3, "{v}");
    let g = &v["tolerances"][0];
    assert_eq!((g["dtype"].as_str(), g["rtol"].as_f64()), (Some("BF16"), Some(1.6e-2)));
    let r = run(&[
        "diff",
        &fixture("model.safetensors"),
        &fixture("model.bf16.safetensors"),
    ]);
    assert_eq!(r.code, 3);
    assert!(
        r.stdout
            .contains("within BF16 rounding (rtol 1.6e-2, atol 1e-5): 28/28"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.lines().last(), Some("equal within BF16 rounding"));
}

#[test]
fn an_upcast_holds_equal_values_in_another_dtype() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.safetensors"), dir.path().join("b.safetensors"));
    let v = [0.5f32, -1.25, 3.0e-3, 65504.0];
    // the F16 values widened to F32, bit for bit the same numbers
    let widened: Vec<f32> = v.iter().map(|x| half::f16::from_f32(*x).to_f32()).collect();
    write_st(
        &a,
        &[
            ("w", Dtype::F16, vec![4], f16s(&v)),
            ("n", Dtype::I64, vec![1], 7i64.to_le_bytes().to_vec()),
        ],
        &[],
    );
    write_st(
        &b,
        &[
            ("w", Dtype::F32, vec![4], f32s(&widened)),
            ("n", Dtype::I64, vec![1], 7i64.to_le_bytes().to_vec()),
        ],
        &[],
    );
    let r = run(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    let row = r.stdout.lines().find(|l| l.starts_with("  w ")).unwrap();
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["w", "F16", "->", "F32", "[4]", "0", "0", "1", "equal"]
    );
    assert!(
        !r.stdout.contains("  n "),
        "equal tensors of one dtype get no row: {}",
        r.stdout
    );
    assert_eq!(r.stdout.lines().last(), Some("equal values, other dtypes"));
}

#[test]
fn help_documents_the_exit_codes() {
    let r = run(&["diff", "--help"]);
    assert_eq!(r.code, 0);
    for want in ["0  identical", "3  equal within rounding", "1  different", "2  error"] {
        assert!(r.stdout.contains(want), "{want}: {}", r.stdout);
    }
}

/// Each component's metadata is its own: two components with the same key keep both values, named
/// by their component, and a diff of two pipelines sees a change in the second component.
#[test]
fn diffusers_component_metadata_is_attributed_to_its_component() {
    let dir = tempfile::tempdir().unwrap();
    let pipeline = |root: &Path, vae_step: &str| {
        std::fs::create_dir_all(root.join("unet")).unwrap();
        std::fs::create_dir_all(root.join("vae")).unwrap();
        std::fs::write(
            root.join("model_index.json"),
            r#"{"_class_name": "P", "unet": ["diffusers", "U"], "vae": ["diffusers", "V"]}"#,
        )
        .unwrap();
        let w = f32s(&[1.0, 2.0]);
        write_st(
            &root.join("unet/diffusion_pytorch_model.safetensors"),
            &[("w", Dtype::F32, vec![2], w.clone())],
            &[("format", "pt"), ("step", "100")],
        );
        write_st(
            &root.join("vae/diffusion_pytorch_model.safetensors"),
            &[("w", Dtype::F32, vec![2], w)],
            &[("format", "pt"), ("step", vae_step)],
        );
    };
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    pipeline(&a, "200");
    pipeline(&b, "300");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let (code, v) = json(&["inspect", a, "--json"]);
    assert_eq!(code, 0, "{v}");
    let m = &v["metadata"];
    assert_eq!(
        (m["unet/step"].as_str(), m["vae/step"].as_str()),
        (Some("100"), Some("200")),
        "{m}"
    );
    assert!(m.get("step").is_none(), "no unattributed key: {m}");
    let (code, v) = json(&["diff", a, b, "--json"]);
    assert_eq!(code, 0, "metadata is reported, not a difference: {v}");
    assert_eq!(
        v["metadata"]["changed"],
        serde_json::json!({"vae/step": ["200", "300"]})
    );
}

/// The parallel byte compare (issue 28): a copy of a checkpoint whose tensors span several 16 MiB
/// windows is identical; one changed byte anywhere (the first, either side of a window boundary, the
/// very last) makes its tensor differ and nothing else; bytes that differ while the values are equal
/// (NaN payloads, -0.0 against 0.0) are equal values, as before.
#[test]
fn a_large_copy_is_identical_and_any_one_changed_byte_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.safetensors"), dir.path().join("b.safetensors"));
    let n = 9 << 20; // 36 MiB of F32 in the big tensor: three windows, compared on every core
    let big: Vec<f32> = (0..n).map(|i| (i % 1013) as f32 * 0.25 - 100.0).collect();
    let odd = [f32::from_bits(0x7fc0_0000), 0.0, 1.0];
    write_st(
        &a,
        &[
            ("odd", Dtype::F32, vec![3], f32s(&odd)),
            ("big", Dtype::F32, vec![n], f32s(&big)),
        ],
        &[],
    );
    let bytes = std::fs::read(&a).unwrap();
    std::fs::write(&b, &bytes).unwrap();
    let (sa, sb) = (a.to_str().unwrap(), b.to_str().unwrap());
    let (code, v) = json(&["diff", sa, sb, "--json"]);
    assert_eq!(
        (code, &v["files_identical"], &v["equal"]),
        (0, &Value::Bool(true), &Value::from(2)),
        "{v}"
    );

    // where each tensor's bytes lie in the file (the writer orders them its own way)
    let hlen = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let h: Value = serde_json::from_slice(&bytes[8..8 + hlen]).unwrap();
    let holder = |at: usize| -> &str {
        ["odd", "big"]
            .into_iter()
            .find(|t| {
                let o = &h[*t]["data_offsets"];
                let (s, e) = (o[0].as_u64().unwrap() as usize, o[1].as_u64().unwrap() as usize);
                (8 + hlen + s..8 + hlen + e).contains(&at)
            })
            .unwrap()
    };
    let w = 16 << 20;
    for at in [8 + hlen, w - 1, w, 2 * w - 1, 2 * w, bytes.len() - 1] {
        let mut changed = bytes.clone();
        changed[at] ^= 0x40;
        std::fs::write(&b, &changed).unwrap();
        let (code, v) = json(&["diff", sa, sb, "--json"]);
        assert_eq!(code, 1, "byte {at}: {v}");
        assert_eq!(
            (v["equal"].as_u64(), v["different"].as_u64()),
            (Some(1), Some(1)),
            "byte {at}"
        );
        let row = v["tensors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["equal"] == false)
            .unwrap();
        assert_eq!(row["name"], holder(at), "byte {at}");
        let seen =
            row["max_abs_diff"].as_f64().is_none_or(|d| d > 0.0) || row["nonfinite_mismatches"].as_u64() > Some(0);
        assert!(seen, "byte {at}: {row}");
    }
    assert_eq!(
        (holder(8 + hlen), holder(w), holder(2 * w)),
        ("big", "big", "big"),
        "the windows cross big"
    );

    // another NaN payload and -0.0 for 0.0: other bytes, equal values
    let odd_b = [f32::from_bits(0x7fc0_0001), -0.0, 1.0];
    write_st(
        &b,
        &[
            ("odd", Dtype::F32, vec![3], f32s(&odd_b)),
            ("big", Dtype::F32, vec![n], f32s(&big)),
        ],
        &[],
    );
    let (code, v) = json(&["diff", sa, sb, "--json"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["files_identical"], false);
    assert_eq!(v["verdict"], "identical");
    let row = v["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "odd")
        .unwrap();
    assert_eq!(
        (&row["equal"], &row["max_abs_diff"]),
        (&Value::Bool(true), &Value::from(0.0)),
        "{row}"
    );
}

/// 64-bit integers that one `f64` cannot tell apart (past 2^53), and complex numbers of one
/// magnitude, are still different values: compared element by element, not through `f64`.
#[test]
fn values_that_round_to_one_f64_are_still_different() {
    let dir = tempfile::tempdir().unwrap();
    let i64s = |v: &[i64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let u64s = |v: &[u64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let pairs: [(&str, Dtype, Vec<u8>, Vec<u8>); 4] = [
        ("i64", Dtype::I64, i64s(&[(1 << 60) + 1, 3]), i64s(&[1 << 60, 3])),
        (
            "u64",
            Dtype::U64,
            u64s(&[u64::MAX, u64::MAX - 1]),
            u64s(&[u64::MAX - 1, u64::MAX]),
        ),
        // 1 + 0i against 0 + 1i: both of magnitude 1
        ("c64", Dtype::C64, f32s(&[1.0, 0.0]), f32s(&[0.0, 1.0])),
        (
            "i64-neg",
            Dtype::I64,
            i64s(&[i64::MIN, i64::MAX]),
            i64s(&[i64::MIN + 1, i64::MAX - 1]),
        ),
    ];
    for (name, dtype, a, b) in pairs {
        let n = a.len() * 8 / dtype.bitsize();
        let (pa, pb) = (
            dir.path().join(format!("{name}-a.safetensors")),
            dir.path().join(format!("{name}-b.safetensors")),
        );
        write_st(&pa, &[("t", dtype, vec![n], a)], &[]);
        write_st(&pb, &[("t", dtype, vec![n], b)], &[]);
        let (code, v) = json(&["diff", "--json", pa.to_str().unwrap(), pb.to_str().unwrap()]);
        assert_eq!(code, 1, "{name}: {v}");
        assert_eq!(v["verdict"], "different", "{name}");
        let t = &v["tensors"][0];
        assert_eq!(t["equal"], false, "{name}");
        assert_eq!(t["within_tolerance"], false, "{name}");
        assert!(t["max_abs_diff"].as_f64().unwrap() >= 1.0, "{name}: {t}");
    }
    // and equal values still compare equal (the same bytes written twice)
    let same = dir.path().join("same.safetensors");
    write_st(&same, &[("t", Dtype::I64, vec![2], i64s(&[(1 << 60) + 1, 3]))], &[]);
    let copy = dir.path().join("copy.safetensors");
    std::fs::copy(&same, &copy).unwrap();
    assert_eq!(
        json(&["diff", "--json", same.to_str().unwrap(), copy.to_str().unwrap()]).0,
        0
    );
}

/// review 37: an F16 export that overflowed (70000 → inf) said `max |a-b| 0` and `cosine 1`, the
/// statistics of the finite elements alone; +inf against −inf likewise. Now: inf and n/a, and in JSON
/// `null` with `not_finite` saying why. The verdict and exit code stay.
#[test]
fn an_overflow_to_infinity_is_an_infinite_difference() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.safetensors"), dir.path().join("b.safetensors"));
    let (c, d) = (dir.path().join("c.safetensors"), dir.path().join("d.safetensors"));
    write_st(&a, &[("w", Dtype::F32, vec![3], f32s(&[70000.0, 1.0, 2.0]))], &[]);
    write_st(&b, &[("w", Dtype::F16, vec![3], f16s(&[70000.0, 1.0, 2.0]))], &[]);
    write_st(&c, &[("w", Dtype::F32, vec![2], f32s(&[f32::INFINITY, 1.0]))], &[]);
    write_st(&d, &[("w", Dtype::F32, vec![2], f32s(&[f32::NEG_INFINITY, 1.0]))], &[]);
    let (code, v) = json(&["diff", s(&a), s(&b), "--json"]);
    assert_eq!(code, 1);
    let t = &v["tensors"][0];
    for k in [
        "max_abs_diff",
        "mean_abs_diff",
        "max_rel_diff",
        "cosine_similarity",
        "one_minus_cosine",
    ] {
        assert!(t[k].is_null(), "{k}: {t}");
    }
    assert_eq!(
        t["not_finite"],
        serde_json::json!({"max_abs_diff": "inf", "mean_abs_diff": "inf", "max_rel_diff": "inf"})
    );
    assert_eq!(t["nonfinite_mismatches"], 1);
    assert_eq!(
        v["tolerances"][0]["not_finite"],
        serde_json::json!({"max_rel_diff": "inf"})
    );
    let r = run(&["diff", s(&a), s(&b)]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("  w       F32 -> F16  [3]          inf      inf     n/a  1 outside F16, 1 NaN/inf mismatch"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("max rel inf"), "{}", r.stdout);
    let (code, v) = json(&["diff", s(&c), s(&d), "--json"]);
    assert_eq!(code, 1);
    let t = &v["tensors"][0];
    assert_eq!(t["not_finite"]["max_abs_diff"], "inf");
    assert!(t["cosine_similarity"].is_null() && t["max_rel_diff"].is_null(), "{t}");
    let r = run(&["diff", s(&c), s(&d)]);
    assert!(r.stdout.contains("inf      n/a     n/a"), "{}", r.stdout);
}

/// review 37: with every reference value 0 no relative difference can be measured: `n/a` (JSON
/// `null`), not `max rel 0`.
#[test]
fn no_relative_difference_is_measured_against_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.safetensors"), dir.path().join("b.safetensors"));
    write_st(&a, &[("w", Dtype::F32, vec![4], f32s(&[0.0; 4]))], &[]);
    write_st(&b, &[("w", Dtype::F32, vec![4], f32s(&[1.0, 2.0, 3.0, 4.0]))], &[]);
    let (code, v) = json(&["diff", s(&a), s(&b), "--json"]);
    assert_eq!(code, 1);
    let t = &v["tensors"][0];
    assert_eq!(t["max_abs_diff"], 4.0);
    assert!(t["max_rel_diff"].is_null() && t.get("not_finite").is_none(), "{t}");
    assert!(v["tolerances"][0]["max_rel_diff"].is_null(), "{v}");
    let r = run(&["diff", s(&a), s(&b)]);
    assert!(r.stdout.contains("4.0e0      n/a"), "{}", r.stdout);
    assert!(r.stdout.contains("0/1, max rel n/a"), "{}", r.stdout);
    assert!(!r.stdout.contains("max rel 0"), "{}", r.stdout);
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
