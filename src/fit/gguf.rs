//! The [`Model`] of a GGUF file, from llama.cpp's metadata keys (`{arch}.block_count`,
//! `{arch}.attention.head_count_kv`, …), read the way llama.cpp reads them.

use super::arch::{Attention, Model, Refusal, recurrent_values};
use super::swa::{SWA_DISABLED, swa_disabled};

/// One metadata value as `fit` needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Meta {
    /// A number (integers; floats and bools are not needed).
    Num(u64),
    /// An array of numbers (bools as 0/1): per-layer values.
    Nums(Vec<u64>),
    /// A string.
    Text(String),
}

/// Architectures whose layers attend both ways (no cache).
const ENCODERS: &[&str] = &[
    "bert",
    "nomic-bert",
    "nomic-bert-moe",
    "jina-bert-v2",
    "neo-bert",
    "modern-bert",
];

/// Architectures with a recurrent or hybrid state this module does not model.
const UNMODELLED: &[&str] = &[
    "mamba",
    "mamba2",
    "rwkv6",
    "rwkv6qwen2",
    "rwkv7",
    "arwkv7",
    "jamba",
    "falcon-h1",
    "plamo2",
    "granitehybrid",
    "nemotron_h",
    "lfm2",
    "t5",
    "t5encoder",
];

/// llama.cpp's fixed sliding-window patterns (every n-th layer is global), for files without
/// `{arch}.attention.sliding_window_pattern`.
fn fixed_pattern(arch: &str) -> Option<u64> {
    match arch {
        "gemma2" => Some(2),
        "gemma3" => Some(6),
        "cohere2" => Some(4),
        _ => None,
    }
}

/// Read a [`Model`] through `get`, which answers a metadata key.
pub fn from_gguf(get: &dyn Fn(&str) -> Option<Meta>) -> Result<Model, Refusal> {
    let Some(Meta::Text(arch)) = get("general.architecture") else {
        return Err("the GGUF has no general.architecture".into());
    };
    let key = |k: &str| format!("{arch}.{k}");
    let scalar = |k: &str| match get(&key(k)) {
        Some(Meta::Num(n)) => Some(n),
        Some(Meta::Nums(v)) => v.iter().copied().max(),
        _ => None,
    };
    let need = |k: &str| scalar(k).ok_or_else(|| format!("the GGUF has no {}", key(k)));
    if UNMODELLED.contains(&arch.as_str()) {
        return Err(format!(
            "architecture {arch} is recurrent, hybrid or encoder-decoder: its state is not modelled"
        ));
    }
    let layers = need("block_count")?;
    if layers == 0 || layers > 100_000 {
        return Err(format!("the GGUF says {layers} layers"));
    }
    let n = layers as usize;
    let hidden = need("embedding_length")?;
    let heads = need("attention.head_count")?;
    if heads == 0 {
        return Err(format!("{} is 0", key("attention.head_count")));
    }
    let per_layer = |k: &str, default: u64| -> Result<Vec<u64>, Refusal> {
        match get(&key(k)) {
            Some(Meta::Nums(v)) if v.len() == n => Ok(v),
            Some(Meta::Nums(v)) => Err(format!("{} lists {} layers, block_count is {layers}", key(k), v.len())),
            Some(Meta::Num(x)) => Ok(vec![x; n]),
            _ => Ok(vec![default; n]),
        }
    };
    let mut m = Model {
        arch: arch.clone(),
        hidden,
        heads,
        intermediate: scalar("feed_forward_length").unwrap_or(hidden.saturating_mul(4)),
        vocab: scalar("vocab_size").unwrap_or(0),
        // 0 says nothing about the context: unknown, not 1 token
        max_context: scalar("context_length").filter(|&n| n > 0),
        attention: Vec::new(),
        notes: vec![format!("numbers from GGUF metadata ({arch}.*)")],
        llama_cpp_full_context: false,
    };
    let causal = !matches!(get(&key("attention.causal")), Some(Meta::Num(0)));
    if ENCODERS.contains(&arch.as_str()) || !causal {
        m.attention = vec![Attention::None; n];
        m.notes
            .push(format!("architecture {arch} is encoder-only: no KV cache"));
        return Ok(m);
    }
    if let Some(rank) = scalar("attention.kv_lora_rank") {
        let rope = need("rope.dimension_count")?;
        m.attention = vec![
            Attention::Mla {
                latent: rank.saturating_add(rope)
            };
            n
        ];
        return Ok(m);
    }
    if hidden % heads != 0 && (scalar("attention.key_length").is_none() || scalar("attention.value_length").is_none()) {
        return Err(format!(
            "no attention.key_length/value_length and embedding_length {hidden} is not a multiple of {heads} heads"
        ));
    }
    let k_dim = scalar("attention.key_length").unwrap_or(hidden / heads);
    let v_dim = scalar("attention.value_length").unwrap_or(hidden / heads);
    let kv_heads = per_layer("attention.head_count_kv", heads)?;
    let recurrent = match scalar("full_attention_interval") {
        Some(0) => return Err(format!("{} is 0", key("full_attention_interval"))),
        Some(every) => {
            let (kernel, k_dim_s) = (need("ssm.conv_kernel")?, need("ssm.state_size")?);
            let (k_heads, v_heads) = (need("ssm.group_count")?, need("ssm.time_step_rank")?);
            let inner = need("ssm.inner_size")?;
            if v_heads == 0 || inner % v_heads != 0 {
                return Err(format!(
                    "ssm.inner_size {inner} is not a multiple of ssm.time_step_rank {v_heads}"
                ));
            }
            let values =
                recurrent_values(k_heads, v_heads, k_dim_s, inner / v_heads, kernel).ok_or("ssm sizes overflow")?;
            m.notes.push(format!(
                "every {} layer full attention, the others recurrent (full_attention_interval)",
                crate::text::ordinal(every)
            ));
            Some((every, values))
        }
        None if scalar("ssm.conv_kernel").is_some() => {
            return Err(format!(
                "architecture {arch} has an ssm state but no full_attention_interval"
            ));
        }
        None => None,
    };
    let mut window = scalar("attention.sliding_window").filter(|&w| w > 0);
    if let Some(w) = window
        && SWA_DISABLED.contains(&arch.as_str())
    {
        m.notes.push(swa_disabled(&arch, w));
        window = None;
    }
    let pattern = get(&key("attention.sliding_window_pattern"));
    let slides: Vec<bool> = match (window, pattern) {
        (None, _) => vec![false; n],
        (Some(_), Some(Meta::Nums(v))) if v.len() == n => {
            m.notes
                .push("sliding layers from attention.sliding_window_pattern".into());
            v.iter().map(|&b| b != 0).collect()
        }
        (Some(w), p) => {
            let every = match p {
                Some(Meta::Num(p)) if p > 0 => Some((p, "attention.sliding_window_pattern")),
                None => fixed_pattern(&arch).map(|p| (p, "llama.cpp's fixed pattern")),
                _ => None,
            };
            let Some((p, from)) = every else {
                return Err(format!(
                    "{} is {w} but no sliding_window_pattern says which layers slide",
                    key("attention.sliding_window")
                ));
            };
            m.notes.push(format!(
                "every {} layer global, the others slide ({from} for {arch})",
                crate::text::ordinal(p)
            ));
            (0..layers).map(|i| (i + 1) % p != 0).collect()
        }
    };
    for i in 0..n {
        let h = kv_heads[i];
        let a = match recurrent {
            Some((every, values)) if !(i as u64 + 1).is_multiple_of(every) => {
                Attention::Recurrent { state_values: values }
            }
            _ if h == 0 => Attention::None,
            _ if slides[i] => Attention::Sliding {
                kv_heads: h,
                k_dim,
                v_dim,
                window: window.unwrap_or(0),
            },
            _ => Attention::Full {
                kv_heads: h,
                k_dim,
                v_dim,
            },
        };
        m.attention.push(a);
    }
    Ok(m)
}
