//! The vLLM view: valid tensor-parallel sizes, and the smallest GPU binding every rank.

use serde_json::json;

use super::valid_tp;
use crate::fit::arch::from_config;
use crate::fit::{Device, Model, Options, Weights, plan_for};

/// Llama-3-8B's shape: 32 layers, 32 heads, 8 KV heads, 16.06 GB of bf16 weights.
fn llama3() -> (Model, Weights) {
    let m = from_config(&json!({"model_type": "llama", "num_hidden_layers": 32, "hidden_size": 4096,
        "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
        "vocab_size": 128256, "max_position_embeddings": 131072}))
    .unwrap();
    let w = Weights {
        layer: vec![436_207_616; 32],
        experts: vec![0; 32],
        non_layer: 2_101_346_304,
        ..Weights::default()
    };
    (m, w)
}

fn view(gpus: &[u64], ctx: u64) -> (crate::fit::Vllm, Vec<String>) {
    let (m, w) = llama3();
    let opts = Options {
        context: ctx,
        devices: gpus
            .iter()
            .enumerate()
            .map(|(i, &b)| Device::gpu(&format!("gpu{i}"), b))
            .collect(),
        ..Options::default()
    };
    let r = plan_for(&m, &w, &opts, true).unwrap();
    (r.vllm.unwrap(), r.rules)
}

#[test]
fn tensor_parallel_sizes_follow_vllms_head_rules() {
    let (m, _) = llama3();
    let ok: Vec<u64> = (1..=32).filter(|&tp| valid_tp(&m, tp)).collect();
    assert_eq!(ok, [1, 2, 4, 8, 16, 32]);
    let m = from_config(&json!({"model_type": "qwen2", "num_hidden_layers": 2, "hidden_size": 3584,
        "num_attention_heads": 28, "num_key_value_heads": 4}))
    .unwrap();
    let ok: Vec<u64> = (1..=28).filter(|&tp| valid_tp(&m, tp)).collect();
    assert_eq!(ok, [1, 2, 4, 28]);
}

#[test]
fn the_smallest_gpu_binds_every_rank() {
    // 24 GB + 8 GB: a rank of tp 2 needs 8.03 GB of weights, more than 0.9 x 8 GB; one 24 GB
    // GPU alone serves what it serves on its own (the summed budgets said 46891 at tp 2)
    let (alone, _) = view(&[24_000_000_000], 8192);
    let (v, rules) = view(&[24_000_000_000, 8_000_000_000], 8192);
    assert_eq!(v.tensor_parallel_size, 1);
    assert_eq!(v.max_model_len, alone.max_model_len);
    assert!(v.max_model_len > 0 && v.max_model_len < 46891, "{v:?}");
    assert!(rules.iter().any(|r| r.contains("first 1 of the 2 GPUs")), "{rules:?}");
    // two equal GPUs: each rank holds half of everything, so twice one GPU's room and more
    let (two, _) = view(&[24_000_000_000, 24_000_000_000], 8192);
    assert_eq!(two.tensor_parallel_size, 2);
    assert!(two.max_model_len > alone.max_model_len);
}

#[test]
fn a_gpu_count_that_does_not_divide_the_heads_is_not_printed() {
    let (v, rules) = view(&[24_000_000_000; 3], 8192);
    assert_eq!(v.tensor_parallel_size, 2, "{v:?}");
    assert!(v.flags.contains("--tensor-parallel-size 2"), "{}", v.flags);
    assert!(
        rules
            .iter()
            .any(|r| r.contains("--tensor-parallel-size 3 is not valid for 32 attention heads and 8 kv heads")),
        "{rules:?}"
    );
}
