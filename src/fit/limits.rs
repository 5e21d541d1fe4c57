//! Sizes no model has: a zero head size or window, or counts past named limits, refused before a
//! plan multiplies them into exabytes.

use super::arch::{Attention, Model, Refusal};

/// Largest vocabulary accepted (published models stay below 2^20).
pub const MAX_VOCAB: u64 = 1 << 24;
/// Largest hidden or feed-forward size, MLA latent and head size accepted.
pub const MAX_DIM: u64 = 1 << 24;
/// Largest count of attention or key/value heads accepted.
pub const MAX_HEADS: u64 = 1 << 16;

impl Model {
    /// Refuse sizes no model has: a zero head size or window, or a count beyond the named limits
    /// ([`MAX_VOCAB`], [`MAX_DIM`], [`MAX_HEADS`]), which would print exabytes from overflowing
    /// products instead of a plan.
    pub fn check(&self) -> Result<(), Refusal> {
        let limit = |what: &str, v: u64, max: u64| {
            if v > max {
                Err(format!(
                    "{what} {v} is above the limit of {max} fit accepts (no published model comes near)"
                ))
            } else {
                Ok(())
            }
        };
        limit("vocab_size", self.vocab, MAX_VOCAB)?;
        limit("hidden size", self.hidden, MAX_DIM)?;
        limit("feed-forward size", self.intermediate, MAX_DIM)?;
        limit("attention heads", self.heads, MAX_HEADS)?;
        for a in &self.attention {
            match *a {
                Attention::Full { kv_heads, k_dim, v_dim }
                | Attention::Sliding {
                    kv_heads, k_dim, v_dim, ..
                } => {
                    limit("key/value heads", kv_heads, MAX_HEADS)?;
                    if k_dim == 0 || v_dim == 0 {
                        return Err(format!(
                            "the key/value head size is {k_dim}/{v_dim} (head_dim, or GGUF attention.key_length / \
                             value_length): a head of 0 values"
                        ));
                    }
                    limit("head size", k_dim.max(v_dim), MAX_DIM)?;
                }
                Attention::Mla { latent } => limit("MLA latent size", latent, MAX_DIM)?,
                Attention::Recurrent { .. } | Attention::None => {}
            }
            if let Attention::Sliding { window: 0, .. } = a {
                // transformers' sliding mask keeps kv_idx > q_idx - window: nothing at 0, not "no window"
                return Err(
                    "sliding_window is 0 for layers that slide: a window of no tokens (not read as no window)".into(),
                );
            }
        }
        Ok(())
    }
}
