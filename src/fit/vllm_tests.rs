//! The vLLM view: valid tensor-parallel sizes, and the smallest GPU binding every rank.

use serde_json::json;

use super::valid_tp;
use crate::fit::arch::from_config;
use crate::fit::{Device, KvType, Model, Options, Weights, plan_for};

/// Llama-3-8B's shape: 32 layers, 32 heads, 8 KV heads, 16.06 GB of bf16 weights.
fn llama3() -> (Model, Weights) {
    let m = from_config(
        &json!({"model_type": "llama", "num_hidden_layers": 32, "hidden_size": 4096,
        "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
        "vocab_size": 128256, "max_position_embeddings": 131072}),
    )
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
    let r = report(gpus, ctx, KvType::F16);
    (r.vllm.unwrap(), r.rules)
}

fn report(gpus: &[u64], ctx: u64, kv: KvType) -> crate::fit::FitReport {
    let (m, w) = llama3();
    let opts = Options {
        context: ctx,
        kv,
        devices: gpus
            .iter()
            .enumerate()
            .map(|(i, &b)| Device::gpu(&format!("gpu{i}"), b))
            .collect(),
        ..Options::default()
    };
    plan_for(&m, &w, &opts, true).unwrap()
}

#[test]
fn tensor_parallel_sizes_follow_vllms_head_rules() {
    let (m, _) = llama3();
    let ok: Vec<u64> = (1..=32).filter(|&tp| valid_tp(&m, tp)).collect();
    assert_eq!(ok, [1, 2, 4, 8, 16, 32]);
    let m = from_config(
        &json!({"model_type": "qwen2", "num_hidden_layers": 2, "hidden_size": 3584,
        "num_attention_heads": 28, "num_key_value_heads": 4}),
    )
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
    assert!(v.max_model_len > Some(0) && v.max_model_len < Some(46891), "{v:?}");
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

#[test]
fn printed_commands_select_the_cache_the_plan_counted() {
    let gpu = [24_000_000_000];
    let f16 = report(&gpu, 8192, KvType::F16);
    let f16_len = f16.vllm.as_ref().unwrap().max_model_len;
    assert!(!f16.vllm.unwrap().flags.contains("--kv-cache-dtype"));
    assert_eq!(f16.llama_cpp_flags, "-ngl 33 -c 8192");
    // fp8: vLLM selects it; llama.cpp has no fp8 cache, so no flags claim the fp8 plan
    let fp8 = report(&gpu, 8192, KvType::Fp8);
    let v = fp8.vllm.unwrap();
    assert!(v.flags.ends_with(" --kv-cache-dtype fp8"), "{}", v.flags);
    assert!(v.max_model_len > f16_len);
    assert!(
        fp8.llama_cpp_flags
            .starts_with("none: llama.cpp has no fp8 KV cache type"),
        "{}",
        fp8.llama_cpp_flags
    );
    assert!(!fp8.llama_cpp_flags.contains("-ngl"));
    // the GGML block types: llama.cpp's -ctk/-ctv with flash attention; vLLM has none
    for (kv, t) in [(KvType::Q8_0, "q8_0"), (KvType::Q4_0, "q4_0")] {
        let r = report(&gpu, 8192, kv);
        assert_eq!(r.llama_cpp_flags, format!("-ngl 33 -c 8192 -ctk {t} -ctv {t} -fa on"));
        assert!(
            r.rules
                .iter()
                .any(|x| x.contains("quantized V cache needs flash attention"))
        );
        let v = r.vllm.unwrap();
        assert_eq!(v.max_model_len, None);
        assert!(
            v.flags.starts_with(&format!("none: vLLM has no {t} KV cache")),
            "{}",
            v.flags
        );
    }
    let v = report(&gpu, 8192, KvType::F32).vllm.unwrap();
    assert_eq!(v.max_model_len, None);
}
