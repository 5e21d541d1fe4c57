//! What a model's attention caches, layer by layer: read from a Hugging Face `config.json` or from
//! GGUF metadata into one [`Model`], with the rule applied to each group of layers. A model whose
//! attention these rules do not cover is refused (an error naming what is unknown), never guessed.

use serde_json::{Map, Value};

use super::kv::KvType;

/// What one layer keeps per sequence while generating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attention {
    /// Full attention (MHA, GQA, MQA): K and V rows of `kv_heads × k_dim` and `kv_heads × v_dim`
    /// values for every token of the context.
    Full {
        /// Key/value heads.
        kv_heads: u64,
        /// Values per key head.
        k_dim: u64,
        /// Values per value head.
        v_dim: u64,
    },
    /// Like [`Attention::Full`] for the last `window` tokens only (sliding window, chunked attention).
    Sliding {
        /// Key/value heads.
        kv_heads: u64,
        /// Values per key head.
        k_dim: u64,
        /// Values per value head.
        v_dim: u64,
        /// Tokens kept.
        window: u64,
    },
    /// Multi-head latent attention (DeepSeek-V2/V3, Kimi K2): one compressed row of
    /// `kv_lora_rank + qk_rope_head_dim` values per token.
    Mla {
        /// `kv_lora_rank + qk_rope_head_dim`.
        latent: u64,
    },
    /// A recurrent or linear-attention layer: a fixed state per sequence, whatever the context.
    Recurrent {
        /// Values of the state (kept in f32, as llama.cpp and the reference kernels keep it).
        state_values: u64,
    },
    /// No cache (an encoder's bidirectional attention).
    None,
}

/// Cells of llama.cpp's KV cache are allocated in multiples of this (`GGML_PAD(n_ctx, 256)` in
/// llama-context.cpp, the SWA cache in llama-kv-cache-iswa.cpp).
pub const LLAMA_CPP_PAD: u64 = 256;

/// Whose cache is sized: llama.cpp and vLLM keep a different number of tokens in a sliding layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// llama.cpp, one cache stream per sequence (its default without `-kvu`): a full layer keeps
    /// `GGML_PAD(ctx, 256)` cells, a sliding one `GGML_PAD(min(that, window + n_ubatch), 256)`
    /// (llama-kv-cache-iswa.cpp), with llama.cpp's default `-ub` of [`UBATCH`](super::UBATCH) = 512.
    LlamaCpp,
    /// vLLM: `ctx` tokens in every layer. A sliding layer reserves
    /// `min(window − 1 + max_num_batched_tokens, max_model_len)` tokens per request
    /// (`SlidingWindowSpec`), which depends on the server's batch size: counted at its bound, `ctx`.
    Vllm,
}

impl Engine {
    /// Cells one sequence of `ctx` tokens keeps in a layer with sliding `window` (`None`: full
    /// attention); `None` on overflow.
    pub fn cells(self, ctx: u64, window: Option<u64>) -> Option<u64> {
        match self {
            Engine::LlamaCpp => {
                let base = pad(ctx)?;
                match window {
                    None => Some(base),
                    Some(w) => pad(base.min(w.checked_add(super::UBATCH)?)),
                }
            }
            Engine::Vllm => Some(ctx),
        }
    }
}

fn pad(n: u64) -> Option<u64> {
    n.div_ceil(LLAMA_CPP_PAD).checked_mul(LLAMA_CPP_PAD)
}

impl Attention {
    /// Bytes this layer caches in `engine` for `batch` sequences of `ctx` tokens with `kv` values;
    /// `None` on overflow. Recurrent state is f32 whatever `kv` says.
    pub fn bytes(&self, engine: Engine, ctx: u64, batch: u64, kv: KvType) -> Option<u64> {
        let per_seq = match *self {
            Attention::Full { kv_heads, k_dim, v_dim } => {
                rows(kv, kv_heads, k_dim, v_dim)?.checked_mul(engine.cells(ctx, None)?)?
            }
            Attention::Sliding {
                kv_heads,
                k_dim,
                v_dim,
                window,
            } => rows(kv, kv_heads, k_dim, v_dim)?.checked_mul(engine.cells(ctx, Some(window))?)?,
            Attention::Mla { latent } => kv.row_bytes(latent)?.checked_mul(engine.cells(ctx, None)?)?,
            Attention::Recurrent { state_values } => state_values.checked_mul(4)?,
            Attention::None => 0,
        };
        per_seq.checked_mul(batch)
    }

    /// The rule in words, for the report (`GQA: 8 kv heads x 128`).
    pub fn describe(&self, heads: u64) -> String {
        match *self {
            Attention::Full { kv_heads, k_dim, v_dim } => {
                let kind = if kv_heads == 1 {
                    "MQA"
                } else if kv_heads == heads {
                    "MHA"
                } else {
                    "GQA"
                };
                format!("{kind}: 2 x {kv_heads} kv heads x {} x ctx", dims(k_dim, v_dim))
            }
            Attention::Sliding {
                kv_heads,
                k_dim,
                v_dim,
                window,
            } => format!(
                "sliding window {window}: 2 x {kv_heads} kv heads x {} x min(ctx, {window} + {}) cells",
                dims(k_dim, v_dim),
                super::UBATCH
            ),
            Attention::Mla { latent } => format!("MLA: (kv_lora_rank + qk_rope_head_dim = {latent}) x ctx"),
            Attention::Recurrent { state_values } => {
                format!("recurrent state: {state_values} values x 4 B (f32) per sequence, any ctx")
            }
            Attention::None => "no KV cache".into(),
        }
    }
}

fn dims(k: u64, v: u64) -> String {
    if k == v {
        k.to_string()
    } else {
        format!("({k} K + {v} V)/2")
    }
}

fn rows(kv: KvType, heads: u64, k: u64, v: u64) -> Option<u64> {
    kv.row_bytes(heads.checked_mul(k)?)?
        .checked_add(kv.row_bytes(heads.checked_mul(v)?)?)
}

/// The numbers of a model that `fit` needs.
#[derive(Debug, Clone)]
pub struct Model {
    /// `model_type` of config.json or `general.architecture` of a GGUF.
    pub arch: String,
    /// Hidden size.
    pub hidden: u64,
    /// Query heads.
    pub heads: u64,
    /// Feed-forward size (largest of the layers; the routed expert size for MoE when only that is known).
    pub intermediate: u64,
    /// Vocabulary size (0 when unknown).
    pub vocab: u64,
    /// Longest context the model was made for, when it says.
    pub max_context: Option<u64>,
    /// Attention of each layer, in order.
    pub attention: Vec<Attention>,
    /// Where the numbers came from and which rule covers which layers.
    pub notes: Vec<String>,
    /// llama.cpp ignores the window of [`Attention::Sliding`] layers (its architecture for this
    /// model type has no sliding-window cache): they keep the full context there.
    pub llama_cpp_full_context: bool,
}

/// Why `fit` refuses a model: a message naming what it could not read.
pub type Refusal = String;

/// Model types whose layers attend both ways and keep no cache.
const ENCODERS: &[&str] = &[
    "bert",
    "roberta",
    "xlm-roberta",
    "distilbert",
    "electra",
    "albert",
    "camembert",
    "mpnet",
    "deberta",
    "deberta-v2",
    "modernbert",
    "nomic_bert",
    "nomic-bert",
    "nomic-bert-moe",
    "jina-bert-v2",
    "neo-bert",
    "modern-bert",
    "xlm-roberta-xl",
];

/// Keys that announce an attention or state the rules here do not model.
const UNMODELLED_KEYS: &[&str] = &[
    "hybrid_override_pattern",
    "layers_block_type",
    "attn_layer_indices",
    "attn_layer_period",
    "block_types",
    "ssm_cfg",
    "mamba_d_state",
    "linear_attn_config",
    "attention_layers",
    "is_encoder_decoder",
];

/// Model types with sliding windows on every layer when `sliding_window` is set (Mistral's semantics,
/// as transformers and vLLM apply it; llama.cpp applies none of these windows: see `swa.rs`).
const EVERY_LAYER_SLIDES: &[&str] = &["mistral", "mixtral", "starcoder2"];

pub use super::swa::{SWA_DISABLED, swa_disabled};

fn num(c: &Map<String, Value>, keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|k| c.get(*k).and_then(Value::as_u64))
}

/// Read a Hugging Face `config.json` (the `text_config` of a multimodal one).
pub fn from_config(root: &Value) -> Result<Model, Refusal> {
    let mut m = read_config(root)?;
    let window = m.attention.iter().find_map(|a| match *a {
        Attention::Sliding { window, .. } => Some(window),
        _ => None,
    });
    if let Some(note) = window.and_then(|w| super::swa::not_applied(&m.arch, w)) {
        m.llama_cpp_full_context = true;
        m.notes.push(note);
    }
    Ok(m)
}

fn read_config(root: &Value) -> Result<Model, Refusal> {
    let Some(top) = root.as_object() else {
        return Err("config.json is not a JSON object".into());
    };
    let mut notes = Vec::new();
    let c = match top.get("text_config").and_then(Value::as_object) {
        Some(t) if num(top, &["num_hidden_layers", "n_layer", "num_layers"]).is_none() => {
            notes.push("numbers from config.json's text_config (the language model)".into());
            t
        }
        _ => top,
    };
    let model_type = c
        .get("model_type")
        .or_else(|| top.get("model_type"))
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    let need = |keys: &[&str]| {
        num(c, keys).ok_or_else(|| match keys.iter().find_map(|k| c.get(*k).map(|v| (k, v))) {
            // present but not a whole number of zero or more: say what it holds
            Some((k, v)) => format!("config.json's {k} is {v}, not a whole number of zero or more"),
            None => format!("config.json has no {}", keys.join(" / ")),
        })
    };
    if let Some(k) = UNMODELLED_KEYS
        .iter()
        .find(|k| c.get(**k).is_some_and(|v| !v.is_null() && v != false))
    {
        return Err(format!(
            "config.json of model type {model_type} has `{k}`: an attention or state fit does not model"
        ));
    }
    let layers = need(&["num_hidden_layers", "n_layer", "num_layers", "n_layers"])?;
    if layers == 0 || layers > 100_000 {
        return Err(format!("config.json says {layers} layers"));
    }
    let hidden = need(&["hidden_size", "n_embd", "d_model", "dim"])?;
    let heads = need(&["num_attention_heads", "n_head", "num_heads", "n_heads"])?;
    if heads == 0 {
        return Err("config.json says 0 attention heads".into());
    }
    let intermediate = num(c, &["intermediate_size", "n_inner", "ffn_dim"]).unwrap_or(hidden.saturating_mul(4));
    let vocab = num(c, &["vocab_size"]).unwrap_or(0);
    // 0 says nothing about the context: unknown, not 1 token
    let max_context = num(
        c,
        &[
            "max_position_embeddings",
            "n_positions",
            "max_sequence_length",
            "seq_length",
        ],
    )
    .filter(|&n| n > 0);
    let mut m = Model {
        arch: model_type.clone(),
        hidden,
        heads,
        intermediate,
        vocab,
        max_context,
        attention: Vec::new(),
        notes,
        llama_cpp_full_context: false,
    };
    if ENCODERS.contains(&model_type.as_str()) {
        m.attention = vec![Attention::None; layers as usize];
        m.notes
            .push(format!("model type {model_type} is encoder-only: no KV cache"));
        return Ok(m);
    }
    if [
        "mamba",
        "mamba2",
        "rwkv",
        "rwkv5",
        "rwkv6",
        "rwkv7",
        "jamba",
        "falcon_h1",
        "zamba",
        "zamba2",
    ]
    .contains(&model_type.as_str())
        && c.get("layer_types").is_none()
    {
        return Err(format!(
            "model type {model_type} is recurrent or hybrid: its state is not modelled"
        ));
    }
    let k_dim;
    let v_dim;
    let explicit = num(c, &["head_dim"]);
    match explicit {
        Some(d) => {
            k_dim = d;
            v_dim = d;
        }
        None => {
            if hidden % heads != 0 {
                return Err(format!(
                    "config.json has no head_dim and hidden_size {hidden} is not a multiple of {heads} heads"
                ));
            }
            k_dim = hidden / heads;
            v_dim = k_dim;
        }
    }
    let kv_heads = match num(
        c,
        &[
            "num_key_value_heads",
            "num_kv_heads",
            "n_head_kv",
            "multi_query_group_num",
        ],
    ) {
        Some(0) => return Err("config.json says 0 key/value heads".into()),
        Some(n) => n,
        None if c.get("multi_query").and_then(Value::as_bool) == Some(true) => 1,
        None => heads,
    };
    let full = match (num(c, &["kv_lora_rank"]), num(c, &["qk_rope_head_dim"])) {
        (Some(r), Some(rope)) => Attention::Mla {
            latent: r.saturating_add(rope),
        },
        (Some(_), None) => return Err("config.json has kv_lora_rank (MLA) but no qk_rope_head_dim".into()),
        _ => Attention::Full { kv_heads, k_dim, v_dim },
    };
    let window = num(c, &["sliding_window", "attention_chunk_size"]);
    let sliding = |w: Option<u64>| -> Result<Attention, Refusal> {
        let window = w.ok_or("config.json has sliding layers but no sliding_window")?;
        match full {
            Attention::Full { kv_heads, k_dim, v_dim } => Ok(Attention::Sliding {
                kv_heads,
                k_dim,
                v_dim,
                window,
            }),
            _ => Err("sliding-window MLA layers are not modelled".into()),
        }
    };
    if let Some(types) = c.get("layer_types") {
        let Some(types) = types.as_array() else {
            return Err("config.json's layer_types is not a list".into());
        };
        if types.len() as u64 != layers {
            return Err(format!(
                "config.json's layer_types lists {} layers but num_hidden_layers is {layers}",
                types.len()
            ));
        }
        for t in types {
            let a = match t.as_str().unwrap_or("") {
                "full_attention" | "attention" | "global" => full.clone(),
                "sliding_attention" | "sliding_window" | "local" => sliding(num(c, &["sliding_window"]))?,
                "chunked_attention" => sliding(num(c, &["attention_chunk_size"]))?,
                "linear_attention" => linear(c)?,
                other => {
                    return Err(format!(
                        "config.json's layer_types has {other:?}: an attention fit does not model"
                    ));
                }
            };
            m.attention.push(a);
        }
        m.notes.push("layer kinds from config.json's layer_types".into());
        return Ok(m);
    }
    if let Some(every) = num(c, &["full_attention_interval"]) {
        if every == 0 {
            return Err("config.json says full_attention_interval 0".into());
        }
        for i in 0..layers {
            m.attention
                .push(if (i + 1) % every == 0 { full.clone() } else { linear(c)? });
        }
        m.notes.push(format!(
            "every {} layer full attention, the others linear (full_attention_interval)",
            crate::text::ordinal(every)
        ));
        return Ok(m);
    }
    let use_sw = c.get("use_sliding_window").and_then(Value::as_bool);
    let window = window.filter(|_| use_sw != Some(false) && c.get("sliding_window").is_some_and(|v| !v.is_null()));
    let Some(w) = window else {
        m.attention = vec![full; layers as usize];
        return Ok(m);
    };
    if SWA_DISABLED.contains(&model_type.as_str()) {
        m.attention = vec![full; layers as usize];
        m.notes.push(swa_disabled(&model_type, w));
        return Ok(m);
    }
    let pattern = num(c, &["sliding_window_pattern"]).or(match model_type.as_str() {
        "gemma2" => Some(2),
        _ => None,
    });
    if let Some(p) = pattern {
        if p == 0 {
            return Err("config.json says sliding_window_pattern 0".into());
        }
        for i in 0..layers {
            m.attention.push(if (i + 1) % p == 0 {
                full.clone()
            } else {
                sliding(Some(w))?
            });
        }
        m.notes.push(format!(
            "every {} layer global, the others slide (sliding_window_pattern {p})",
            crate::text::ordinal(p)
        ));
    } else if use_sw == Some(true) {
        let from = num(c, &["max_window_layers"]).unwrap_or(0);
        for i in 0..layers {
            m.attention
                .push(if i >= from { sliding(Some(w))? } else { full.clone() });
        }
        m.notes.push(format!(
            "use_sliding_window: layers from max_window_layers {from} on slide"
        ));
    } else if EVERY_LAYER_SLIDES.contains(&model_type.as_str()) {
        m.attention = vec![sliding(Some(w))?; layers as usize];
        m.notes.push(format!(
            "model type {model_type}: sliding_window applies to every layer"
        ));
    } else {
        return Err(format!(
            "config.json of model type {model_type} has sliding_window {w} but neither layer_types nor a \
             pattern says which layers slide"
        ));
    }
    Ok(m)
}

/// Qwen3-Next's gated delta net: a recurrent state of `v_heads × k_dim × v_dim` values and a
/// convolution state of `(kernel − 1) × (2 × k_heads × k_dim + v_heads × v_dim)` values.
fn linear(c: &Map<String, Value>) -> Result<Attention, Refusal> {
    let get = |k: &str| num(c, &[k]).ok_or_else(|| format!("config.json has linear attention layers but no {k}"));
    let (kh, vh) = (get("linear_num_key_heads")?, get("linear_num_value_heads")?);
    let (kd, vd) = (get("linear_key_head_dim")?, get("linear_value_head_dim")?);
    let kernel = get("linear_conv_kernel_dim")?;
    let state_values = recurrent_values(kh, vh, kd, vd, kernel).ok_or("linear attention sizes overflow")?;
    Ok(Attention::Recurrent { state_values })
}

/// Values of a gated-delta-net state: `v_heads × k_dim × v_dim` recurrent plus
/// `(kernel − 1) × (2 × k_heads × k_dim + v_heads × v_dim)` convolution values; `None` on overflow.
pub fn recurrent_values(k_heads: u64, v_heads: u64, k_dim: u64, v_dim: u64, kernel: u64) -> Option<u64> {
    let ssm = v_heads.checked_mul(k_dim)?.checked_mul(v_dim)?;
    let conv_dim = k_heads
        .checked_mul(k_dim)?
        .checked_mul(2)?
        .checked_add(v_heads.checked_mul(v_dim)?)?;
    ssm.checked_add(kernel.checked_sub(1)?.checked_mul(conv_dim)?)
}

#[cfg(test)]
#[path = "arch_tests.rs"]
mod tests;
