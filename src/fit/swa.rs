//! Which sliding windows llama.cpp honours. llama.cpp allocates a sliding-window KV cache
//! (`llama_kv_cache_iswa`, `min(ctx, window + n_ubatch)` cells in a sliding layer) only for an
//! architecture whose `load_hparams` sets `hparams.swa_type` (llama-model.cpp: gemma2, gemma3,
//! gemma3n, cohere2, llama4's chunked attention, gpt-oss, olmo2/olmo3, exaone4 32B, smallthinker);
//! every other architecture gets one `llama_kv_cache` of the full context in every layer, whatever
//! window its config.json names. A config.json's window is the model's (transformers and vLLM apply
//! it), so the model keeps it and is marked (`Model::llama_cpp_full_context`) for the llama.cpp view.

/// Model types whose window llama.cpp never applies: (config.json `model_type`, the architecture
/// convert_hf_to_gguf.py writes, llama.cpp's graph). Those graphs build their attention with
/// `build_attn_inp_kv()` (not the `_iswa` variant), their `load_hparams` case reads no
/// `attention.sliding_window` key, and the converter writes none (nor Qwen2's `max_window_layers`).
const FULL_CONTEXT: &[(&str, &str, &str)] = &[
    // LlamaModel registers LlamaForCausalLM, MistralForCausalLM and MixtralForCausalLM
    ("llama", "llama", "src/models/llama.cpp"),
    ("mistral", "llama", "src/models/llama.cpp"),
    ("mixtral", "llama", "src/models/llama.cpp"),
    ("ministral3", "mistral3", "src/models/mistral3.cpp"),
    ("starcoder2", "starcoder2", "src/models/starcoder2.cpp"),
    ("qwen2", "qwen2", "src/models/qwen2.cpp"),
    ("qwen2_moe", "qwen2moe", "src/models/qwen2moe.cpp"),
    ("qwen3", "qwen3", "src/models/qwen3.cpp"),
    ("qwen3_moe", "qwen3moe", "src/models/qwen3moe.cpp"),
];

/// The note for config.json's model type `model_type` with sliding layers of `window` when
/// llama.cpp keeps the full context in them; `None` when llama.cpp applies the window (or is not
/// known to ignore it).
pub fn not_applied(model_type: &str, window: u64) -> Option<String> {
    let &(_, arch, graph) = FULL_CONTEXT.iter().find(|(t, _, _)| *t == model_type)?;
    Some(format!(
        "llama.cpp: sliding_window {window} not applied: model type {model_type} converts to llama.cpp's {arch} \
         architecture (convert_hf_to_gguf.py), whose graph ({graph}) keeps a full-context KV cache \
         (build_attn_inp_kv, no sliding-window cache): every layer keeps the context there"
    ))
}

/// Model types (and GGUF architectures) whose `sliding_window` llama.cpp ignores even in a GGUF:
/// phi3's `load_hparams` sets `swa_type = NONE` ("Phi SWA is currently disabled"), so every layer
/// keeps the full context.
pub const SWA_DISABLED: &[&str] = &["phi3"];

/// The note for a window [`SWA_DISABLED`] ignores.
pub fn swa_disabled(arch: &str, window: u64) -> String {
    format!(
        "{arch}: sliding_window {window} not applied: llama.cpp disables Phi SWA and keeps the full context in \
         every layer"
    )
}
