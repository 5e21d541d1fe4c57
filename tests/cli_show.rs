//! `tensorscope show` against torch: every tensor of every sample and pickle fixture, with the values
//! torch computed (tests/data/torch/values.json and *.values.json, made by make_values.py); the human
//! layout; errors; and that a preview reads only a few pages of a huge tensor.

mod common;

use std::path::Path;

use common::{assert_clean_error, run};
use serde_json::Value;

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every (file, expected-tensors) pair torch described.
fn expectations() -> Vec<(String, serde_json::Map<String, Value>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/torch");
    let mut out = Vec::new();
    for (_, entry) in load(&dir.join("values.json")).as_object().unwrap() {
        out.push((
            entry["file"].as_str().unwrap().to_string(),
            entry["tensors"].as_object().unwrap().clone(),
        ));
    }
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".values.json"))
        .collect();
    fixtures.sort();
    for p in fixtures {
        let v = load(&p);
        out.push((
            v["file"].as_str().unwrap().to_string(),
            v["tensors"].as_object().unwrap().clone(),
        ));
    }
    out
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) => s.parse().unwrap(),
        Value::Bool(b) => f64::from(u8::from(*b)),
        other => other.as_f64().unwrap(),
    }
}

/// Same value: integers exactly (as JSON), floats bit-for-bit in f64 with NaN equal to NaN.
fn same(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Null, _) | (_, Value::Null) => got.is_null() && want.is_null(),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y)),
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Number(a), Value::Number(b)) if a.is_i64() || a.is_u64() || b.is_i64() || b.is_u64() => {
            a.as_i128() == b.as_i128() || a.as_f64() == b.as_f64()
        }
        _ => {
            let (a, b) = (num(got), num(want));
            (a.is_nan() && b.is_nan()) || a == b
        }
    }
}

fn close(got: &Value, want: &Value, rel: f64) -> bool {
    match (got, want) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        _ => {
            let (a, b) = (num(got), num(want));
            a == b || (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE)
        }
    }
}

/// The name tensorscope lists: a bare pickled tensor (torch's manifest says "") is called `tensor`.
fn listed(name: &str) -> &str {
    if name.is_empty() { "tensor" } else { name }
}

fn torch_only(dtype: &str) -> bool {
    dtype.chars().any(|c| c.is_ascii_lowercase())
}

#[test]
fn json_matches_torch_for_every_tensor_of_every_sample_and_fixture() {
    let (mut checked, mut dtypes) = (0, std::collections::BTreeSet::new());
    for (file, tensors) in expectations() {
        for (name, want) in &tensors {
            let dtype = want["dtype"].as_str().unwrap();
            let r = run(&["show", "--json", "--limit", "16", "--bins", "0", &file, listed(name)]);
            // complex128, complex32, float4_e2m1fn_x2 are listed by inspect but not decoded; pickled numpy
            // arrays (numpy.pt) are not rebuilt by the pickle reader: both are clean errors
            if torch_only(dtype) || (file.ends_with("numpy.pt") && name.starts_with("np_")) {
                assert_clean_error(&r, &format!("{file} {name}"));
                continue;
            }
            assert_eq!(r.code, 0, "{file} {name}: {}", r.stderr);
            let got: Value = serde_json::from_str(&r.stdout).unwrap();
            let at = format!("{file} {name} ({dtype})");
            assert_eq!(got["dtype"], want["dtype"], "{at}");
            assert_eq!(got["shape"], want["shape"], "{at}");
            assert_eq!(got["numel"], want["numel"], "{at}");
            assert!(
                same(&got["values"], &want["first"]),
                "{at}: first values {} vs torch {}",
                got["values"],
                want["first"]
            );
            let s = &got["stats"];
            if dtype == "C64" {
                // torch gives no min/max for complex; our statistics are of |z|
                assert_eq!(s["of"], "magnitudes", "{at}");
            } else {
                for k in ["nan", "posinf", "neginf", "zeros"] {
                    assert_eq!(s[k], want[k], "{at}: {k}");
                }
                for k in ["min", "max"] {
                    assert!(same(&s[k], &want[k]), "{at}: {k} {} vs torch {}", s[k], want[k]);
                }
                assert!(
                    close(&s["mean"], &want["mean"], 1e-9),
                    "{at}: mean {} vs torch {}",
                    s["mean"],
                    want["mean"]
                );
                assert!(
                    close(&s["std"], &want["std"], 1e-9),
                    "{at}: std {} vs torch {}",
                    s["std"],
                    want["std"]
                );
            }
            checked += 1;
            dtypes.insert(dtype.to_string());
        }
    }
    assert!(checked > 600, "only {checked} tensors checked");
    for d in [
        "F64",
        "F32",
        "F16",
        "BF16",
        "F8_E4M3",
        "F8_E5M2",
        "F8_E8M0",
        "F8_E4M3FNUZ",
        "F8_E5M2FNUZ",
        "I64",
        "U64",
        "BOOL",
        "C64",
    ] {
        assert!(dtypes.contains(d), "no {d} tensor was checked: {dtypes:?}");
    }
}

/// Significant digits written in a number token, for "to the printed precision".
fn printed_tolerance(token: &str) -> f64 {
    let (mantissa, exp) = token.split_once('e').unwrap_or((token, "0"));
    let exp: i32 = exp.parse().unwrap();
    let decimals = mantissa.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    0.5 * 10f64.powi(exp - decimals) * (1.0 + 1e-9)
}

fn agrees(token: &str, want: &Value) -> bool {
    if let Some(b) = want.as_bool() {
        return token == b.to_string();
    }
    if let Some(i) = want.as_i64() {
        return token.parse::<i64>() == Ok(i);
    }
    if let Some(u) = want.as_u64() {
        return token.parse::<u64>() == Ok(u);
    }
    let (got, w) = (num(&Value::String(token.into())), num(want));
    (got.is_nan() && w.is_nan()) || got == w || (got - w).abs() <= printed_tolerance(token)
}

#[test]
fn printed_values_and_statistics_agree_with_torch_to_the_printed_precision() {
    let mut checked = 0;
    for (file, tensors) in expectations() {
        // every tensor of the fixtures made for values, one tensor per dtype elsewhere
        let all = ["dtypes.pt", "views.pt", "params.pt", "float8-all.pt"]
            .iter()
            .any(|f| file.ends_with(f));
        let mut seen = std::collections::BTreeSet::new();
        for (name, want) in &tensors {
            let dtype = want["dtype"].as_str().unwrap();
            let numpy = file.ends_with("numpy.pt");
            if torch_only(dtype) || numpy || dtype == "C64" || !(all || seen.insert(dtype.to_string())) {
                continue;
            }
            let r = run(&["show", "--limit", "16", &file, listed(name)]);
            assert_eq!(r.code, 0, "{file} {name}: {}", r.stderr);
            let at = format!("{file} {name}");
            // value lines look like `  [0, 0:4]  1.5  -2  nan …`, a 0-d tensor's like `value: 7`
            let tokens: Vec<&str> = r
                .stdout
                .lines()
                .filter_map(|l| match l.trim_start() {
                    t if t.starts_with('[') => t.split_once(']').map(|p| p.1),
                    t => t.strip_prefix("value:"),
                })
                .flat_map(str::split_whitespace)
                .collect();
            let first = want["first"].as_array().unwrap();
            assert_eq!(tokens.len(), first.len(), "{at}:\n{}", r.stdout);
            for (t, w) in tokens.iter().zip(first) {
                assert!(agrees(t, w), "{at}: printed {t}, torch {w}");
            }
            let line = r.stdout.lines().find(|l| l.trim_start().starts_with("min ")).unwrap();
            let f: Vec<&str> = line.split_whitespace().collect();
            for (key, i) in [("min", 1), ("max", 3), ("mean", 5), ("std", 7)] {
                if want[key].is_null() {
                    assert_eq!(f[i], "-", "{at}: {key}");
                } else {
                    assert!(
                        agrees(f[i], &want[key]),
                        "{at}: {key} printed {}, torch {}",
                        f[i],
                        want[key]
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 60, "only {checked} tensors checked");
}

#[test]
fn layout_follows_the_shape() {
    let r = run(&[
        "show",
        "--limit",
        "6",
        "--bins",
        "0",
        "tests/data/torch/dtypes.pt",
        "float32",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("float32  F32  [4, 4]  16 values  64 B\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("values (first 6 of 16, row-major):"), "{}", r.stdout);
    let rows: Vec<&str> = r.stdout.lines().filter(|l| l.trim_start().starts_with('[')).collect();
    assert!(
        rows[0].trim_start().starts_with("[0, 0:4]") && rows[1].trim_start().starts_with("[1, 0:2]"),
        "{rows:?}"
    );
    assert!(!r.stdout.contains("histogram"));

    let r = run(&["show", "tests/data/torch/params.pt", "scalar_f32"]);
    assert!(r.stdout.contains("\nvalue: "), "{}", r.stdout);
    let r = run(&["show", "tests/data/torch/params.pt", "empty_rows"]);
    assert!(r.stdout.contains("values: none (empty tensor)"), "{}", r.stdout);
    assert!(r.stdout.contains("min -  max -  mean -  std -"), "{}", r.stdout);
}

#[test]
fn slices_select_values_and_statistics() {
    let base = run(&[
        "show",
        "--json",
        "--limit",
        "100",
        "tests/data/torch/dtypes.pt",
        "float64",
    ]);
    let base: Value = serde_json::from_str(&base.stdout).unwrap();
    let r = run(&[
        "show",
        "--json",
        "--slice",
        "1:3,-1",
        "tests/data/torch/dtypes.pt",
        "float64",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["view_shape"], serde_json::json!([2]));
    assert_eq!(v["slice"], "1:3,-1");
    let all = base["values"].as_array().unwrap();
    assert!(
        same(&v["values"], &Value::Array(vec![all[7].clone(), all[11].clone()])),
        "{}",
        v["values"]
    );
    assert_eq!(v["stats"]["count"], 2);
    for bad in ["9", "0:1:0", "x", "0,0,0"] {
        assert_clean_error(
            &run(&["show", "--slice", bad, "tests/data/torch/dtypes.pt", "float64"]),
            bad,
        );
    }
}

#[test]
fn unknown_tensors_suggest_close_names() {
    let r = run(&["show", "samples/gpt2-tiny.safetensors", "wte.weigth"]);
    assert_clean_error(&r, "unknown tensor");
    assert!(r.stderr.contains("did you mean wte.weight"), "{}", r.stderr);
    let r = run(&["show", "samples/gpt2-tiny.safetensors", "\u{1b}[2Jnothing-like-it"]);
    assert_clean_error(&r, "unknown tensor");
    assert!(!r.stderr.contains('\u{1b}'), "names must be escaped: {:?}", r.stderr);
    assert_clean_error(
        &run(&[
            "show",
            "--limit",
            "99999999",
            "samples/gpt2-tiny.safetensors",
            "wte.weight",
        ]),
        "limit",
    );
}

#[test]
fn sampling_says_so() {
    let r = run(&[
        "show",
        "--json",
        "--sample",
        "samples/gpt2-tiny.safetensors",
        "wte.weight",
    ]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    // 64,000 elements are fewer than a sample: computed exactly, and reported as such
    assert_eq!(
        (v["stats"]["sampled"].clone(), v["stats"]["count"].clone()),
        (Value::Bool(false), 64_000.into())
    );
}

/// Resident pages of `bytes` (which must lie in a file mapping) by mincore.
fn resident_pages(bytes: &[u8]) -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    let start = bytes.as_ptr() as usize & !(page - 1);
    let len = bytes.as_ptr() as usize + bytes.len() - start;
    let mut vec = vec![0u8; len.div_ceil(page)];
    // SAFETY: [start, start+len) lies within one live mapping (the checkpoint's map of the file), and
    // vec has one byte per page of it.
    let rc = unsafe { libc::mincore(start as *mut libc::c_void, len, vec.as_mut_ptr()) };
    assert_eq!(rc, 0, "mincore failed");
    vec.iter().filter(|&&b| b & 1 == 1).count()
}

#[test]
fn previewing_a_2_gb_tensor_touches_a_few_pages() {
    use tensorscope::tensor::View;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.safetensors");
    let n: u64 = 512 * 1024 * 1024; // F32 elements: 2 GiB
    let header = format!(
        r#"{{"big":{{"dtype":"F32","shape":[{},1024],"data_offsets":[0,{}]}}}}"#,
        n / 1024,
        n * 4
    );
    let mut head = (header.len() as u64).to_le_bytes().to_vec();
    head.extend_from_slice(header.as_bytes());
    std::fs::write(&path, &head).unwrap();
    // a sparse file: the 2 GiB of data are a hole, no disk is used
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(head.len() as u64 + n * 4)
        .unwrap();

    let ck = tensorscope::checkpoint::open(&path).unwrap();
    let t = ck.tensor("big").unwrap();
    let data = ck.storage_bytes(t).unwrap();
    assert_eq!(data.len() as u64, n * 4);
    let before = resident_pages(data);
    let view = View::of(&ck, t).unwrap();
    let values = view.first(1000);
    assert_eq!(values.len(), 1000);
    let after = resident_pages(data);
    // 4 kB of values; the kernel's fault-around and read-ahead may map a few hundred kB around them
    assert!(after - before <= 256, "preview made {} pages resident", after - before);
    // the check can see pages being read: touch 4 MB spread over the tensor
    let touched: u64 = (0..1024).map(|i| u64::from(data[i * (data.len() / 1024)])).sum();
    assert_eq!(touched, 0);
    assert!(
        resident_pages(data) >= before + 1024,
        "mincore does not see touched pages"
    );
}

#[test]
fn sub_byte_safetensors_decode_in_the_documented_packing() {
    let dir = tempfile::tempdir().unwrap();
    // F4: codes 1, 2, 3, 4 low nibble first; F6_E2M3: codes 1, 2, 3, 4 as an LSB-first bit stream
    let header = r#"{"f4":{"dtype":"F4","shape":[4],"data_offsets":[0,2]},"f6":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[2,5]}}"#;
    let mut bytes = common::safetensors(header, 0);
    bytes.extend_from_slice(&[0x21, 0x43, 0x81, 0x30, 0x10]);
    let path = common::write(dir.path(), "sub.safetensors", &bytes);
    let path = path.to_str().unwrap();
    for (name, want) in [("f4", [0.5, 1.0, 1.5, 2.0]), ("f6", [0.125, 0.25, 0.375, 0.5])] {
        let r = run(&["show", "--json", path, name]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        let got: Vec<f64> = v["values"].as_array().unwrap().iter().map(num).collect();
        assert_eq!(got, want, "{name}");
    }
}

/// A name holding control characters is shown by the escaped form `inspect` prints (`a\x00b`), and
/// an unknown name is quoted once in the error, not escaped twice.
#[test]
fn a_name_with_control_characters_is_reached_by_its_escaped_form() {
    let dir = tempfile::tempdir().unwrap();
    let h = "{\"a\\u0000b\\u001b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    let p = common::write(dir.path(), "ctl.safetensors", &common::safetensors(h, 4));
    let p = p.to_str().unwrap();
    let listed = common::run(&["inspect", p]);
    assert!(listed.stdout.contains("a\\x00b\\x1b"), "{}", listed.stdout);
    let r = common::run(&["show", p, "a\\x00b\\x1b"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("a\\x00b\\x1b"), "{}", r.stdout);
    let r = common::run(&["show", p, "a\\x01"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no tensor named \"a\\x01\""), "{}", r.stderr);
}
