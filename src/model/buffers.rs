//! Saved buffers: tensors a model registers with `register_buffer` and saves beside its parameters,
//! which `num_parameters()` (`model.parameters()`) does not count. Only names whose meaning is
//! certain are recognized, and a name that can also be a parameter only where its dtype and shape
//! prove it is the buffer (see [`is_buffer`]).

use super::{DType, TensorInfo};

/// Whether `t` is a saved buffer, not a parameter, by its last name component (and, where the
/// name alone does not prove it, its dtype and shape):
/// - `running_mean`, `running_var`, `num_batches_tracked`: BatchNorm's running statistics;
/// - `position_ids` (an integer tensor): the position index transformers' BERT, CLIP, RoBERTa, …
///   embeddings register (saved by older versions);
/// - `inv_freq` (a float vector): the rotary embedding's frequencies (Llama, GPT-NeoX, … saved by
///   older versions);
/// - `masked_bias` (one element): GPT-2's, GPT-Neo's and GPT-J's attention mask value;
/// - `bias` of an attention module (`attn.bias`, `attention.bias`) shaped `[1, 1, n, n]`: the causal
///   mask of GPT-2, GPT-Neo and GPT-J (bool, uint8 in older versions, float in the oldest). Any other
///   `bias`, and one of another shape, is a parameter.
pub fn is_buffer(t: &TensorInfo) -> bool {
    let (base, last) = t.name.rsplit_once('.').unwrap_or(("", t.name.as_str()));
    match last {
        "running_mean" | "running_var" => is_float(t.dtype),
        "num_batches_tracked" => t.shape.is_empty() && t.dtype == DType::I64,
        "position_ids" => is_integer(t.dtype) && t.shape.len() <= 2,
        "inv_freq" => is_float(t.dtype) && t.shape.len() == 1,
        "masked_bias" => t.shape.iter().product::<u64>() == 1,
        "bias" => {
            let module = base.rsplit('.').next().unwrap_or(base);
            matches!(module, "attn" | "attention")
                && matches!(t.shape[..], [1, 1, n, m] if n == m && n > 1)
                && (matches!(t.dtype, DType::BOOL | DType::U8) || is_float(t.dtype))
        }
        _ => false,
    }
}

/// A float dtype a buffer is kept in (running statistics, frequencies, masks).
fn is_float(d: DType) -> bool {
    matches!(d, DType::F16 | DType::BF16 | DType::F32 | DType::F64)
}

fn is_integer(d: DType) -> bool {
    matches!(
        d,
        DType::I8 | DType::I16 | DType::I32 | DType::I64 | DType::U8 | DType::U16 | DType::U32 | DType::U64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, dtype: DType, shape: &[u64]) -> TensorInfo {
        let n: u64 = shape.iter().product();
        let len = dtype.bytes_for(n).unwrap();
        TensorInfo::contiguous(name.into(), dtype, shape.to_vec(), 0, 0..len).unwrap()
    }

    #[test]
    fn buffers_by_name_and_where_needed_by_shape() {
        assert!(is_buffer(&t("bn.running_mean", DType::F32, &[8])));
        assert!(is_buffer(&t("bn.running_var", DType::F32, &[8])));
        assert!(is_buffer(&t("bn.num_batches_tracked", DType::I64, &[])));
        assert!(is_buffer(&t("embeddings.position_ids", DType::I64, &[1, 77])));
        assert!(is_buffer(&t(
            "layers.0.self_attn.rotary_emb.inv_freq",
            DType::F32,
            &[64]
        )));
        assert!(is_buffer(&t("h.0.attn.masked_bias", DType::F32, &[])));
        assert!(is_buffer(&t("h.0.attn.bias", DType::BOOL, &[1, 1, 1024, 1024])));
        assert!(is_buffer(&t("h.0.attn.bias", DType::U8, &[1, 1, 64, 64])));
        assert!(is_buffer(&t("h.0.attn.attention.bias", DType::F32, &[1, 1, 64, 64])));
        // parameters that share the names
        assert!(!is_buffer(&t("h.0.attn.bias", DType::F32, &[192])));
        assert!(!is_buffer(&t("layer.attention.bias", DType::F32, &[1, 1, 1, 64])));
        assert!(!is_buffer(&t("mlp.bias", DType::BOOL, &[1, 1, 64, 64])));
        assert!(!is_buffer(&t("position_ids", DType::F32, &[77])));
        assert!(!is_buffer(&t("bn.weight", DType::F32, &[8])));
    }
}
