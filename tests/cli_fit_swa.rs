//! `tensorscope fit` on config.json windows llama.cpp does not apply: Mistral (llama.cpp's llama
//! architecture), StarCoder2 and Qwen2 are built without a sliding-window cache, so the llama.cpp
//! view keeps the full context in every layer (src/fit/swa.rs).

mod common;

use common::fit::{GIB, data, fit, u};
use common::write;

/// llama.cpp builds Mistral (as its llama architecture), StarCoder2 and Qwen2 without a
/// sliding-window cache: every layer keeps the context, as in the GGUF of the same shapes
/// (Llama-3-8B's: 32 layers of 8 kv heads x 128). vLLM's view still names the window.
#[test]
fn mistral_starcoder2_and_qwen2_windows_keep_the_full_context_in_llama_cpp() {
    let dir = tempfile::tempdir().unwrap();
    let st = std::fs::read(data("llama4/model.safetensors")).unwrap();
    let shape = r#""num_hidden_layers":32,"hidden_size":4096,"num_attention_heads":32,"num_key_value_heads":8"#;
    let gguf = u(
        &fit(&data("llama3-8b.gguf"), &["--ctx", "32768", "--device", "80GB"]),
        "kv_cache_bytes",
    );
    assert_eq!(gguf, 4 * GIB);
    for (name, extra) in [
        ("mistral", r#""sliding_window":4096"#),
        ("starcoder2", r#""sliding_window":4096"#),
        (
            "qwen2",
            r#""sliding_window":4096,"use_sliding_window":true,"max_window_layers":16"#,
        ),
    ] {
        let cfg = format!(r#"{{"model_type":"{name}",{shape},{extra},"max_position_embeddings":32768}}"#);
        write(dir.path(), &format!("{name}/config.json"), cfg.as_bytes());
        write(dir.path(), &format!("{name}/model.safetensors"), &st);
        let v = fit(
            dir.path().join(name).to_str().unwrap(),
            &["--ctx", "32768", "--device", "80GB"],
        );
        assert_eq!(u(&v, "kv_cache_bytes"), gguf, "{name}");
        let rules: Vec<&str> = v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(
            rules.contains(&"GQA: 2 x 8 kv heads x 128 x ctx: layers 0-31 (32 layers)"),
            "{rules:?}"
        );
        assert!(
            rules
                .iter()
                .any(|r| r.starts_with("llama.cpp: sliding_window 4096 not applied"))
        );
        assert!(!rules.iter().any(|r| r.starts_with("sliding window 4096")), "{rules:?}");
        assert!(
            rules
                .iter()
                .any(|r| r.starts_with("vLLM: sliding layers counted at the full length"))
        );
    }
}
