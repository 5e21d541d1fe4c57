//! The rules of the config and GGUF readers on small configs: which rule each layer gets,
//! and refusals.

use serde_json::json;

use super::{Attention, Engine, from_config};
use crate::fit::KvType;
use crate::fit::gguf::{Meta, from_gguf};

#[test]
fn gqa_defaults_and_mqa() {
    let m = from_config(
        &json!({"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64,
                                "num_attention_heads": 4}),
    )
    .unwrap();
    assert_eq!(
        m.attention,
        vec![
            Attention::Full {
                kv_heads: 4,
                k_dim: 16,
                v_dim: 16
            };
            2
        ]
    );
    let m = from_config(
        &json!({"model_type": "gpt_bigcode", "n_layer": 1, "n_embd": 64, "n_head": 4,
                                "multi_query": true}),
    )
    .unwrap();
    assert_eq!(
        m.attention,
        vec![Attention::Full {
            kv_heads: 1,
            k_dim: 16,
            v_dim: 16
        }]
    );
    assert_eq!(
        m.attention[0].bytes(Engine::Vllm, 10, 2, KvType::F16),
        Some(2 * 16 * 2 * 10 * 2)
    );
    // llama.cpp pads the cells of each sequence to 256
    assert_eq!(
        m.attention[0].bytes(Engine::LlamaCpp, 10, 2, KvType::F16),
        Some(2 * 16 * 2 * 256 * 2)
    );
}

#[test]
fn sliding_rules() {
    let base = json!({"model_type": "mistral", "num_hidden_layers": 2, "hidden_size": 64,
                      "num_attention_heads": 4, "num_key_value_heads": 2, "sliding_window": 100});
    let m = from_config(&base).unwrap();
    assert!(
        m.attention
            .iter()
            .all(|a| matches!(a, Attention::Sliding { window: 100, .. }))
    );
    let mut q = base.clone();
    q["model_type"] = json!("qwen2");
    q["use_sliding_window"] = json!(false);
    let m = from_config(&q).unwrap();
    assert!(m.attention.iter().all(|a| matches!(a, Attention::Full { .. })));
    q["use_sliding_window"] = json!(true);
    q["max_window_layers"] = json!(1);
    let m = from_config(&q).unwrap();
    assert!(matches!(m.attention[0], Attention::Full { .. }));
    assert!(matches!(m.attention[1], Attention::Sliding { .. }));
    let mut g = base.clone();
    g["model_type"] = json!("gemma2");
    let m = from_config(&g).unwrap();
    assert!(matches!(m.attention[0], Attention::Sliding { .. }));
    assert!(matches!(m.attention[1], Attention::Full { .. }));
    g["model_type"] = json!("somethingnew");
    assert!(from_config(&g).unwrap_err().contains("which layers slide"));
}

#[test]
fn gguf_per_layer_kv_heads_and_refusals() {
    let get = |k: &str| match k {
        "general.architecture" => Some(Meta::Text("llama".into())),
        "llama.block_count" => Some(Meta::Num(3)),
        "llama.embedding_length" => Some(Meta::Num(64)),
        "llama.attention.head_count" => Some(Meta::Num(4)),
        "llama.attention.head_count_kv" => Some(Meta::Nums(vec![2, 0, 4])),
        _ => None,
    };
    let m = from_gguf(&get).unwrap();
    assert_eq!(
        m.attention[0],
        Attention::Full {
            kv_heads: 2,
            k_dim: 16,
            v_dim: 16
        }
    );
    assert_eq!(m.attention[1], Attention::None);
    assert_eq!(
        m.attention[2],
        Attention::Full {
            kv_heads: 4,
            k_dim: 16,
            v_dim: 16
        }
    );
    let mamba = |k: &str| match k {
        "general.architecture" => Some(Meta::Text("mamba".into())),
        _ => None,
    };
    assert!(from_gguf(&mamba).unwrap_err().contains("mamba"));
    let swa = |k: &str| match k {
        "general.architecture" => Some(Meta::Text("newarch".into())),
        "newarch.block_count" => Some(Meta::Num(2)),
        "newarch.embedding_length" => Some(Meta::Num(64)),
        "newarch.attention.head_count" => Some(Meta::Num(4)),
        "newarch.attention.sliding_window" => Some(Meta::Num(512)),
        _ => None,
    };
    assert!(from_gguf(&swa).unwrap_err().contains("sliding_window_pattern"));
}

/// A size that is there but not a whole number says what it holds (it said the key was missing).
#[test]
fn a_negative_layer_count_is_named_as_such() {
    let e = from_config(&serde_json::json!({"model_type": "llama", "num_hidden_layers": -2, "hidden_size": 64}))
        .unwrap_err();
    assert!(e.contains("num_hidden_layers is -2"), "{e}");
    let e = from_config(&serde_json::json!({"model_type": "llama", "hidden_size": 64})).unwrap_err();
    assert!(e.contains("has no num_hidden_layers"), "{e}");
}

/// llama-kv-cache-iswa.cpp: `size_swa = GGML_PAD(min(size_base, n_swa * n_seq + n_ubatch), 256)`,
/// one stream per sequence, `size_base` the context padded to 256, n_ubatch 512.
#[test]
fn sliding_cells_as_llama_cpp_allocates_them() {
    let e = Engine::LlamaCpp;
    assert_eq!(e.cells(8192, Some(1024)), Some(1536));
    assert_eq!(e.cells(8192, None), Some(8192));
    assert_eq!(e.cells(1000, Some(1024)), Some(1024));
    assert_eq!(e.cells(1400, Some(1024)), Some(1536));
    assert_eq!(e.cells(8192, Some(4096)), Some(4608));
    assert_eq!(e.cells(8192, Some(511)), Some(1024));
    assert_eq!(e.cells(1, None), Some(256));
    assert_eq!(e.cells(u64::MAX, None), None);
    assert_eq!(Engine::Vllm.cells(8192, Some(1024)), Some(8192));
    let swa = Attention::Sliding {
        kv_heads: 16,
        k_dim: 128,
        v_dim: 128,
        window: 1024,
    };
    // Gemma-3-27B's sliding layer at 8192 tokens: 1536 cells of 8192 bytes (fit said 1024)
    assert_eq!(swa.bytes(e, 8192, 1, KvType::F16), Some(1536 * 8192));
    assert_eq!(swa.bytes(e, 8192, 3, KvType::F16), Some(3 * 1536 * 8192));
}

/// llama.cpp's phi3 graph disables SWA (`swa_type = NONE`): every layer keeps the full context,
/// from config.json and from GGUF alike (the GGUF was refused for want of a pattern).
#[test]
fn phi3_keeps_the_full_context_in_both_readers() {
    let m = from_config(&json!({"model_type": "phi3", "num_hidden_layers": 4, "hidden_size": 64,
        "num_attention_heads": 4, "num_key_value_heads": 2, "sliding_window": 511}))
    .unwrap();
    assert!(
        m.attention.iter().all(|a| matches!(a, Attention::Full { .. })),
        "{:?}",
        m.attention
    );
    assert!(m.notes.iter().any(|n| n.contains("sliding_window 511 not applied")));
    let get = |k: &str| match k {
        "general.architecture" => Some(Meta::Text("phi3".into())),
        "phi3.block_count" => Some(Meta::Num(4)),
        "phi3.embedding_length" => Some(Meta::Num(64)),
        "phi3.attention.head_count" => Some(Meta::Num(4)),
        "phi3.attention.head_count_kv" => Some(Meta::Num(2)),
        "phi3.attention.sliding_window" => Some(Meta::Num(256)),
        _ => None,
    };
    let g = from_gguf(&get).unwrap();
    assert_eq!(g.attention, m.attention);
    assert!(g.notes.iter().any(|n| n.contains("sliding_window 256 not applied")));
}

/// A context length of 0 is unknown (it was read as 1 token); a head size or window of 0 and
/// counts past the named limits are refused by `Model::check`.
#[test]
fn zero_and_absurd_sizes() {
    let get = |k: &str| match k {
        "general.architecture" => Some(Meta::Text("llama".into())),
        "llama.block_count" => Some(Meta::Num(2)),
        "llama.embedding_length" => Some(Meta::Num(64)),
        "llama.attention.head_count" => Some(Meta::Num(4)),
        "llama.context_length" => Some(Meta::Num(0)),
        "llama.attention.key_length" => Some(Meta::Num(0)),
        _ => None,
    };
    let m = from_gguf(&get).unwrap();
    assert_eq!(m.max_context, None);
    assert!(m.check().unwrap_err().contains("head size is 0/16"));
    let base = json!({"model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64,
                      "num_attention_heads": 4, "max_position_embeddings": 0});
    let m = from_config(&base).unwrap();
    assert_eq!(m.max_context, None);
    assert_eq!(m.check(), Ok(()));
    let mut v = base.clone();
    v["vocab_size"] = json!(u64::MAX);
    assert!(from_config(&v).unwrap().check().unwrap_err().contains("vocab_size"));
}

/// Mistral-7B-v0.1's config.json: the model slides every layer (vLLM counts that), llama.cpp
/// keeps its 32768 cells in each of the 32 layers (convert_hf_to_gguf.py makes it a `llama`
/// GGUF: no window), not `GGML_PAD(4096 + 512, 256)` = 4608.
#[test]
fn mistral_keeps_the_full_context_in_llama_cpp() {
    let m = from_config(
        &json!({"model_type": "mistral", "num_hidden_layers": 32, "hidden_size": 4096,
        "num_attention_heads": 32, "num_key_value_heads": 8, "sliding_window": 4096}),
    )
    .unwrap();
    assert!(m.llama_cpp_full_context);
    assert!(
        m.attention
            .iter()
            .all(|a| matches!(a, Attention::Sliding { window: 4096, .. }))
    );
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("sliding_window 4096 not applied") && n.contains("src/models/llama.cpp"))
    );
    for model_type in ["mixtral", "starcoder2", "llama"] {
        let mut c = json!({"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 4,
            "sliding_window": 100, "layer_types": ["sliding_attention", "full_attention"]});
        c["model_type"] = json!(model_type);
        assert!(from_config(&c).unwrap().llama_cpp_full_context, "{model_type}");
    }
}

/// Qwen2's `use_sliding_window` + `max_window_layers`, old style and as newer transformers write
/// it (layer_types): llama.cpp's qwen2 keeps the full context.
#[test]
fn qwen2_windows_are_not_applied_by_llama_cpp() {
    let mut q = json!({"model_type": "qwen2", "num_hidden_layers": 4, "hidden_size": 256,
        "num_attention_heads": 8, "num_key_value_heads": 2, "sliding_window": 1024,
        "use_sliding_window": true, "max_window_layers": 2});
    let m = from_config(&q).unwrap();
    assert!(matches!(m.attention[3], Attention::Sliding { .. }));
    assert!(m.llama_cpp_full_context);
    assert!(m.notes.iter().any(|n| n.contains("src/models/qwen2.cpp")));
    q["layer_types"] = json!([
        "full_attention",
        "full_attention",
        "sliding_attention",
        "sliding_attention"
    ]);
    assert!(from_config(&q).unwrap().llama_cpp_full_context);
    // no sliding layer: nothing to say
    q["use_sliding_window"] = json!(false);
    q.as_object_mut().unwrap().remove("layer_types");
    let m = from_config(&q).unwrap();
    assert!(!m.llama_cpp_full_context);
    assert!(!m.notes.iter().any(|n| n.contains("not applied")));
}

/// Windows llama.cpp applies (gemma2: swa_type STANDARD, pattern 2) and those of model types it is
/// not known to ignore stay.
#[test]
fn windows_llama_cpp_applies_stay() {
    let mut g = json!({"model_type": "gemma2", "num_hidden_layers": 2, "hidden_size": 64,
        "num_attention_heads": 4, "num_key_value_heads": 2, "sliding_window": 100});
    assert!(!from_config(&g).unwrap().llama_cpp_full_context);
    for t in ["gpt_oss", "cohere2", "newthing"] {
        g["model_type"] = json!(t);
        g["layer_types"] = json!(["sliding_attention", "full_attention"]);
        assert!(!from_config(&g).unwrap().llama_cpp_full_context, "{t}");
    }
}
