//! `tensorscope fit` on odd numbers: each is a one-line error with exit 2, or (a context length of
//! 0) read as unknown, never a verdict computed from it.

mod common;

use std::path::Path;

use common::{assert_clean_error, run, write};
use serde_json::Value;

fn llama4() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fit/llama4")
        .to_string_lossy()
        .into_owned()
}

/// A copy of the llama4 fixture whose config.json has `extra` merged in.
fn with_config(dir: &Path, name: &str, extra: Value) -> String {
    let base = llama4();
    let base = Path::new(&base);
    let mut cfg: Value = serde_json::from_slice(&std::fs::read(base.join("config.json")).unwrap()).unwrap();
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    write(dir, &format!("{name}/config.json"), cfg.to_string().as_bytes());
    let st = std::fs::read(base.join("model.safetensors")).unwrap();
    write(dir, &format!("{name}/model.safetensors"), &st);
    dir.join(name).to_string_lossy().into_owned()
}

#[test]
fn gpu_memory_utilization_outside_zero_to_one_is_refused() {
    let p = llama4();
    for u in ["nan", "NaN", "inf", "-inf", "0", "-0.5", "1.5", "1e308"] {
        // the = form: clap would read "-0.5" after a space as a flag
        let arg = format!("--gpu-memory-utilization={u}");
        let r = run(&["fit", &p, "--device", "1GiB", &arg]);
        assert_clean_error(&r, u);
        assert!(r.stderr.contains("--gpu-memory-utilization"), "{u}: {}", r.stderr);
    }
    for u in ["1", "0.5"] {
        let r = run(&["fit", &p, "--device", "1GiB", "--gpu-memory-utilization", u]);
        assert_eq!(r.code, 0, "{u}: {}", r.stderr);
    }
}

#[test]
fn impossible_model_sizes_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let layers = serde_json::json!([
        "sliding_attention",
        "full_attention",
        "sliding_attention",
        "full_attention"
    ]);
    let cases = [
        ("head-dim-0", serde_json::json!({"head_dim": 0}), "head size is 0/0"),
        (
            "window-0",
            serde_json::json!({"sliding_window": 0, "layer_types": layers}),
            "sliding_window is 0",
        ),
        (
            "vocab-max",
            serde_json::json!({"vocab_size": u64::MAX}),
            "vocab_size 18446744073709551615 is above the limit",
        ),
        (
            "heads-huge",
            serde_json::json!({"num_attention_heads": 1u64 << 40, "head_dim": 16}),
            "attention heads 1099511627776 is above the limit",
        ),
        (
            "kv-heads-huge",
            serde_json::json!({"num_key_value_heads": 1u64 << 40}),
            "key/value heads 1099511627776 is above the limit",
        ),
    ];
    for (name, extra, want) in cases {
        let p = with_config(dir.path(), name, extra);
        let r = run(&["fit", &p, "--device", "1GiB"]);
        assert_clean_error(&r, name);
        assert!(r.stderr.contains(want), "{name}: {}", r.stderr);
    }
}

#[test]
fn a_context_length_of_zero_is_unknown_not_one() {
    let dir = tempfile::tempdir().unwrap();
    let p = with_config(dir.path(), "mp0", serde_json::json!({"max_position_embeddings": 0}));
    let r = run(&["fit", &p, "--device", "1GiB", "--ctx", "4096", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["fits"], true);
    assert_eq!(v["model_max_context"], Value::Null);
    assert!(v["max_context"].as_u64().unwrap() >= 4096, "{}", v["max_context"]);
}
