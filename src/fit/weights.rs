//! Weight bytes per layer: tensors grouped by the layer index in their names (`model.layers.N.`,
//! `blk.N.`, `h.N.`, …), each storage counted once (tied weights once), bytes as stored.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::Checkpoint;

/// Name segments that precede a layer index.
const LAYER_WORDS: &[&str] = &["layers", "layer", "blk", "h", "block", "blocks"];

/// The weights of a checkpoint split by layer.
#[derive(Debug, Clone, Default)]
pub struct Weights {
    /// Bytes of each layer `0..layers`, routed experts excluded.
    pub layer: Vec<u64>,
    /// Bytes of each layer's routed MoE experts (`.experts.`, GGUF `_exps.`).
    pub experts: Vec<u64>,
    /// Everything outside the layers: embeddings, output head, final norm, other towers.
    pub non_layer: u64,
    /// Bytes per dtype or quant type name.
    pub by_dtype: BTreeMap<String, u64>,
    /// The name prefix the layers were found under (`model.layers`).
    pub prefix: Option<String>,
    /// Tensors under other numbered prefixes (a vision tower) or beyond the layer count (MTP layers).
    pub other_numbered: usize,
}

impl Weights {
    /// Sum of every byte.
    pub fn total(&self) -> u64 {
        self.layer
            .iter()
            .chain(&self.experts)
            .fold(self.non_layer, |a, &b| a.saturating_add(b))
    }
}

/// `(prefix, index)` of a tensor name inside a numbered block, if it is in one.
pub fn layer_of(name: &str) -> Option<(String, u64)> {
    let segs: Vec<&str> = name.split('.').collect();
    for i in 0..segs.len().saturating_sub(2) {
        let word = segs[i].rsplit('/').next().unwrap_or(segs[i]);
        if LAYER_WORDS.contains(&word)
            && let Ok(n) = segs[i + 1].parse::<u64>()
        {
            return Some((segs[..=i].join("."), n));
        }
    }
    None
}

/// Whether a tensor is a routed MoE expert (not a shared expert).
pub fn is_expert(name: &str) -> bool {
    name.contains(".experts.") || name.contains("_exps.")
}

/// Group the tensors of `ck` into `layers` layers. The layers are the numbered prefix that covers
/// indices `0..layers` with the most bytes; tensors of other numbered prefixes are non-layer.
pub fn split(ck: &Checkpoint, layers: usize) -> Weights {
    let mut seen = HashSet::new();
    let mut items = Vec::new();
    for t in &ck.tensors {
        if !seen.insert((t.file, t.storage.start, t.storage.end, t.offset)) {
            continue;
        }
        let bytes = t.nbytes().unwrap_or(0);
        items.push((layer_of(&t.name), is_expert(&t.name), bytes, t.dtype.name()));
    }
    let mut per_prefix: HashMap<&str, (HashSet<u64>, u64)> = HashMap::new();
    for (l, _, bytes, _) in &items {
        if let Some((p, n)) = l {
            let e = per_prefix.entry(p.as_str()).or_default();
            e.0.insert(*n);
            e.1 = e.1.saturating_add(*bytes);
        }
    }
    let prefix = per_prefix
        .iter()
        .filter(|(_, (idx, _))| (0..layers as u64).all(|i| idx.contains(&i)))
        .max_by_key(|(p, (_, b))| (*b, std::cmp::Reverse(**p)))
        .map(|(p, _)| (*p).to_owned());
    let mut w = Weights {
        layer: vec![0; layers],
        experts: vec![0; layers],
        prefix: prefix.clone(),
        ..Weights::default()
    };
    for (l, expert, bytes, dtype) in items {
        let e = w.by_dtype.entry(dtype.to_owned()).or_default();
        *e = e.saturating_add(bytes);
        let slot = match (&l, &prefix) {
            (Some((p, n)), Some(main)) if p == main && (*n as usize) < layers => Some(*n as usize),
            _ => None,
        };
        match slot {
            Some(i) if expert => w.experts[i] = w.experts[i].saturating_add(bytes),
            Some(i) => w.layer[i] = w.layer[i].saturating_add(bytes),
            None => {
                if l.is_some() {
                    w.other_numbered += 1;
                }
                w.non_layer = w.non_layer.saturating_add(bytes);
            }
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names_of_every_family() {
        assert_eq!(
            layer_of("model.layers.12.mlp.up_proj.weight"),
            Some(("model.layers".into(), 12))
        );
        assert_eq!(layer_of("blk.3.attn_q.weight"), Some(("blk".into(), 3)));
        assert_eq!(
            layer_of("transformer.h.0.attn.c_attn.weight"),
            Some(("transformer.h".into(), 0))
        );
        assert_eq!(
            layer_of("bert.encoder.layer.5.output.dense.weight"),
            Some(("bert.encoder.layer".into(), 5))
        );
        assert_eq!(layer_of("model.embed_tokens.weight"), None);
        assert_eq!(layer_of("h.0"), None);
        assert!(is_expert("model.layers.3.mlp.experts.7.up_proj.weight"));
        assert!(is_expert("blk.3.ffn_up_exps.weight"));
        assert!(!is_expert("model.layers.3.mlp.shared_experts.up_proj.weight"));
        assert!(!is_expert("blk.3.ffn_up_shexp.weight"));
    }
}
