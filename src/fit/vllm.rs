//! The vLLM view: the largest `--max-model-len` vLLM can serve with tensor parallelism over the
//! GPUs given.
//!
//! vLLM applies `--gpu-memory-utilization` to each GPU, and tensor parallelism gives every rank
//! the same share of the weights and of the KV cache, so the smallest GPU in use binds every rank.
//! A tensor-parallel size must divide `num_attention_heads` (`ModelConfig.verify_with_parallel_config`)
//! and either divide the KV heads or be a multiple of them (`QKVParallelLinear` splits the KV heads,
//! or replicates one on each rank when `tp > kv heads`).

use super::arch::Engine;
use super::plan::largest;
use super::{Attention, Device, MAX_SEARCH_CONTEXT, Model, Options, Vllm, Weights, buffers};

/// Whether vLLM accepts `--tensor-parallel-size tp` for `m`.
pub fn valid_tp(m: &Model, tp: u64) -> bool {
    tp >= 1
        && m.heads.is_multiple_of(tp)
        && m.attention.iter().all(|a| match *a {
            Attention::Full { kv_heads, .. } | Attention::Sliding { kv_heads, .. } => {
                kv_heads.is_multiple_of(tp) || tp.is_multiple_of(kv_heads)
            }
            _ => true,
        })
}

/// What one of `tp` ranks keeps of layer `a`: `kv_heads / tp` heads (one, replicated, when
/// `tp > kv_heads`), `1/tp` of a recurrent state (its heads are split), the whole MLA latent.
pub fn per_rank(a: &Attention, tp: u64) -> Attention {
    match *a {
        Attention::Full { kv_heads, k_dim, v_dim } => Attention::Full {
            kv_heads: (kv_heads / tp).max(1),
            k_dim,
            v_dim,
        },
        Attention::Sliding {
            kv_heads,
            k_dim,
            v_dim,
            window,
        } => Attention::Sliding {
            kv_heads: (kv_heads / tp).max(1),
            k_dim,
            v_dim,
            window,
        },
        Attention::Recurrent { state_values } => Attention::Recurrent {
            state_values: state_values.div_ceil(tp),
        },
        ref other => other.clone(),
    }
}

/// The vLLM view of `m` with weights `w` on `gpus`; what it assumed goes to `rules`.
pub fn view(m: &Model, w: &Weights, o: &Options, gpus: &[&Device], rules: &mut Vec<String>) -> Vllm {
    let util = o.gpu_memory_utilization; // plan_for accepts only 0 < util <= 1
    let cap = m.max_context.unwrap_or(MAX_SEARCH_CONTEXT).max(1);
    let g = gpus.len() as u64;
    // bytes one of `tp` ranks needs at `ctx`
    let need = |tp: u64, ctx: u64| -> u64 {
        let kv = m
            .attention
            .iter()
            .map(|a| {
                per_rank(a, tp)
                    .bytes(Engine::Vllm, ctx, o.batch, o.kv)
                    .unwrap_or(u64::MAX)
            })
            .fold(0u64, u64::saturating_add);
        let b = buffers(m, ctx, o.batch);
        w.total()
            .div_ceil(tp)
            .saturating_add(kv)
            .saturating_add(b.act)
            .saturating_add(b.logits)
    };
    let len_for = |tp: u64| -> u64 {
        let smallest = gpus[..tp as usize].iter().map(|d| d.budget).min().unwrap_or(0);
        let avail = (smallest as f64 * util) as u64;
        largest(cap, |c| need(tp, c) <= avail)
    };
    let valid: Vec<u64> = (1..=g).filter(|&tp| valid_tp(m, tp)).collect();
    let widest = valid.last().copied().unwrap_or(1);
    // the longest context; between equals, more GPUs
    let (tp, len) = valid
        .iter()
        .map(|&tp| (tp, len_for(tp)))
        .max_by_key(|&(tp, len)| (len, tp))
        .unwrap_or((1, 0));
    rules.push(if tp == 1 {
        format!(
            "vLLM: --gpu-memory-utilization {util} of one GPU holds the weights, the KV cache and the compute buffers"
        )
    } else {
        format!(
            "vLLM: --gpu-memory-utilization {util} of each GPU; each of the {tp} tensor-parallel ranks holds 1/{tp} of \
             the weights (an estimate: replicated norms not counted), kv_heads / {tp} KV heads (one, replicated, when \
             fewer), the whole MLA latent, plus the compute buffers; the smallest GPU used binds"
        )
    });
    if m.attention.iter().any(|a| matches!(a, Attention::Sliding { .. })) {
        rules.push(
            "vLLM: sliding layers counted at the full length, the bound of what vLLM reserves for them \
             (min(window - 1 + max_num_batched_tokens, max_model_len) tokens per request)"
                .into(),
        );
    }
    if widest < g {
        rules.push(format!(
            "vLLM: --tensor-parallel-size {g} is not valid for {} attention heads{}: vLLM needs heads % tp == 0 and \
             kv heads % tp == 0 or tp % kv heads == 0; the largest valid size is {widest}",
            m.heads,
            kv_heads_text(m)
        ));
    }
    if tp < widest {
        rules.push(format!(
            "vLLM: --tensor-parallel-size {tp} gives a longer context than {widest} on these GPUs (each rank gets an \
             equal share, so a small GPU binds them all)"
        ));
    }
    if tp < g {
        rules.push(format!(
            "vLLM: runs on the first {tp} of the {g} GPUs given (CUDA_VISIBLE_DEVICES picks which)"
        ));
    }
    let Some(dtype) = o.kv.vllm() else {
        return Vllm {
            gpu_memory_utilization: util,
            tensor_parallel_size: tp,
            max_model_len: None,
            flags: format!(
                "none: vLLM has no {} KV cache (--kv-cache-dtype takes auto, the model's 16-bit dtype, or fp8): no \
                 length computed",
                o.kv
            ),
        };
    };
    let cache = if dtype.is_empty() {
        String::new()
    } else {
        format!(" --kv-cache-dtype {dtype}")
    };
    Vllm {
        gpu_memory_utilization: util,
        tensor_parallel_size: tp,
        max_model_len: Some(len),
        flags: if len == 0 {
            "the weights do not fit".into()
        } else {
            format!("--max-model-len {len} --gpu-memory-utilization {util} --tensor-parallel-size {tp}{cache}")
        },
    }
}

/// ` and 8 kv heads` (or `and 2, 8 kv heads` when layers differ), empty without attention heads.
fn kv_heads_text(m: &Model) -> String {
    let mut kv: Vec<u64> = m
        .attention
        .iter()
        .filter_map(|a| match *a {
            Attention::Full { kv_heads, .. } | Attention::Sliding { kv_heads, .. } => Some(kv_heads),
            _ => None,
        })
        .collect();
    kv.sort_unstable();
    kv.dedup();
    if kv.is_empty() {
        return String::new();
    }
    let list: Vec<String> = kv.iter().map(u64::to_string).collect();
    format!(" and {} kv heads", list.join(", "))
}

#[cfg(test)]
#[path = "vllm_tests.rs"]
mod tests;
