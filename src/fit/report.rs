//! The `fit --json` report (DESIGN.md's contract first, then the extra keys the README documents).

use std::collections::BTreeMap;

use serde::Serialize;

/// Everything `fit` found and planned.
#[derive(Debug, Clone, Serialize)]
pub struct FitReport {
    /// Tokens of context per sequence.
    pub context: u64,
    /// Sequences.
    pub batch: u64,
    /// KV cache type (`f16`, `q8_0`, …).
    pub kv_type: String,
    /// Every weight byte as stored (each storage once).
    pub weights_bytes: u64,
    /// KV cache (and recurrent state) of every layer for `batch` sequences of `context` tokens.
    pub kv_cache_bytes: u64,
    /// Compute buffers of one device (an estimate: see `compute_formula`).
    pub compute_bytes: u64,
    /// `weights_bytes + kv_cache_bytes + compute_bytes`.
    pub total_bytes: u64,
    /// Whether the plan keeps every byte within a budget.
    pub fits: bool,
    /// Largest context per sequence that fits the same devices (0: none does).
    pub max_context: u64,
    /// Every layer in order.
    pub layers: Vec<LayerReport>,
    /// Every device: the GPUs in order, then the host.
    pub devices: Vec<DeviceReport>,
    /// llama.cpp flags reproducing the plan.
    pub llama_cpp_flags: String,
    /// Which rule was applied to which layers, and every assumption.
    pub rules: Vec<String>,
    /// `model_type` or `general.architecture`.
    pub architecture: String,
    /// Weights outside the layers (embeddings, head, norms, other towers).
    pub non_layer_bytes: u64,
    /// Non-layer weights' device.
    pub non_layer_device: String,
    /// Weight bytes per dtype or quant type.
    pub weights_by_dtype: BTreeMap<String, u64>,
    /// How `compute_bytes` was estimated.
    pub compute_formula: String,
    /// The model's own longest context, when it says.
    pub model_max_context: Option<u64>,
    /// The vLLM view (safetensors only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vllm: Option<Vllm>,
}

/// One layer of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct LayerReport {
    /// Layer index.
    pub index: u64,
    /// Weight bytes (experts included).
    pub bytes: u64,
    /// KV cache (or state) bytes.
    pub kv_bytes: u64,
    /// Device of the layer (of its attention and dense parts when experts stay on the host).
    pub device: String,
    /// Device of the routed experts when it is not `device`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experts_device: Option<String>,
}

/// One device of the plan.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceReport {
    /// `gpu0`, …, `host`.
    pub name: String,
    /// Its budget before the margin (0 for a host with no budget given).
    pub budget_bytes: u64,
    /// Bytes placed there, compute buffers included.
    pub bytes: u64,
    /// First and last layer it holds (empty when none).
    pub layers: Vec<u64>,
}

/// What vLLM would do with the same GPUs (tensor parallel over as many as the heads allow).
#[derive(Debug, Clone, Serialize)]
pub struct Vllm {
    /// `--gpu-memory-utilization`.
    pub gpu_memory_utilization: f64,
    /// `--tensor-parallel-size`: the GPUs used (the first ones given), a size vLLM accepts for the heads.
    pub tensor_parallel_size: u64,
    /// Largest `--max-model-len` whose KV cache for `batch` sequences fits; 0 when the weights do not;
    /// `None` when vLLM has no cache of the `--kv-type` asked (f32, q8_0, q4_0): `flags` says so.
    pub max_model_len: Option<u64>,
    /// The flags.
    pub flags: String,
}
