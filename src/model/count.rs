//! Counting parameters as the model defines them (DESIGN.md, "Counting"): each storage once (tied
//! weights once, the later names `tied to` the first), packed quantized weights at their unpacked
//! shape, and neither the tensors that only serve a quantization (scales, zeros, `g_idx`, absmax,
//! quant state) nor saved buffers (running statistics, `position_ids`, causal masks:
//! [`super::buffers`]) counted as parameters. What is on disk is counted too: [`Counting::stored_elements`]
//! and [`Counting::unique_bytes`].
//!
//! The packing comes from `config.json` beside the weights ([`Quant::from_config`]:
//! `quantization_config` as transformers writes it for GPTQ, AWQ, compressed-tensors, MXFP4 and
//! bitsandbytes; `quantization` as MLX writes it), or from tensor names and dtypes where there is no
//! config (then the count says what it assumed).
//!
//! ```
//! use tensorscope::model::{DType, TensorInfo, count::{Counting, Hints, Quant}};
//!
//! let t = |name: &str, dtype, shape: Vec<u64>, at: u64| {
//!     let len = dtype_bytes(dtype, &shape);
//!     TensorInfo::contiguous(name.into(), dtype, shape, 0, at..at + len).unwrap()
//! };
//! fn dtype_bytes(d: DType, s: &[u64]) -> u64 { d.bytes_for(s.iter().product()).unwrap() }
//! let tensors = [
//!     t("l.qweight", DType::I32, vec![64, 256], 0),
//!     t("l.scales", DType::F16, vec![4, 256], 65536),
//! ];
//! let hints = Hints { quant: Some(Quant::Gptq { bits: 4, group: Some(128) }), ..Default::default() };
//! let c = Counting::of(&tensors, &hints);
//! assert_eq!(c.params, 131_072);
//! assert_eq!(c.stored_elements, 64 * 256 + 4 * 256);
//! ```

use std::collections::{HashMap, HashSet};

use super::{DType, TensorInfo, ViewKey};

/// A quantization scheme read from `config.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quant {
    /// AutoGPTQ / GPTQModel: `qweight` I32 `[in·bits/32, out]`.
    Gptq {
        /// Bits per weight.
        bits: u32,
        /// Group size (`None`: per channel).
        group: Option<i64>,
    },
    /// AutoAWQ: `qweight` I32 `[in, out·bits/32]`.
    Awq {
        /// Bits per weight.
        bits: u32,
        /// Group size.
        group: Option<i64>,
    },
    /// compressed-tensors (llm-compressor): `weight_packed` (I32 for `pack-quantized`, U8 for
    /// `nvfp4-pack-quantized`) with `weight_shape`.
    Compressed {
        /// `format` (`pack-quantized`, `nvfp4-pack-quantized`, …).
        format: String,
        /// Bits per weight of the first config group.
        bits: u32,
        /// Group size of the first config group.
        group: Option<i64>,
    },
    /// MLX (`quantization` in config.json): `weight` U32 with `scales` and `biases`.
    Mlx {
        /// Bits per weight.
        bits: u32,
        /// Group size.
        group: Option<i64>,
    },
    /// gpt-oss MXFP4: `*_blocks` U8 (two FP4 values a byte) with `*_scales`.
    Mxfp4,
    /// bitsandbytes 4-bit: `weight` U8 (two values a byte) with `absmax` and `quant_state`.
    Bnb4 {
        /// `nf4` or `fp4`.
        kind: String,
    },
    /// bitsandbytes 8-bit: `weight` I8 with `SCB`.
    Bnb8,
    /// A method tensorscope does not unpack (named as config.json names it).
    Other(String),
}

impl Quant {
    /// The scheme of a `config.json` document, `None` when it names no quantization.
    pub fn from_config(root: &serde_json::Value) -> Option<Quant> {
        let qc = root.get("quantization_config").or_else(|| root.get("quantization"))?;
        let int = |v: Option<&serde_json::Value>| v.and_then(serde_json::Value::as_i64);
        let bits = |v: Option<&serde_json::Value>| {
            int(v)
                .and_then(|b| u32::try_from(b).ok())
                .filter(|b| (1..=32).contains(b))
        };
        let method = qc
            .get("quant_method")
            .and_then(|m| m.as_str())
            .map(str::to_ascii_lowercase);
        Some(match method.as_deref() {
            Some("gptq") => Quant::Gptq {
                bits: bits(qc.get("bits")).unwrap_or(4),
                group: int(qc.get("group_size")),
            },
            Some("awq") => Quant::Awq {
                bits: bits(qc.get("bits").or_else(|| qc.get("w_bit"))).unwrap_or(4),
                group: int(qc.get("group_size").or_else(|| qc.get("q_group_size"))),
            },
            Some("compressed-tensors") => {
                let weights = qc
                    .get("config_groups")
                    .and_then(|g| g.as_object())
                    .and_then(|g| g.values().find_map(|v| v.get("weights")));
                Quant::Compressed {
                    format: qc.get("format").and_then(|f| f.as_str()).unwrap_or("").to_owned(),
                    bits: bits(weights.and_then(|w| w.get("num_bits"))).unwrap_or(4),
                    group: int(weights.and_then(|w| w.get("group_size"))),
                }
            }
            Some("mxfp4") => Quant::Mxfp4,
            Some("bitsandbytes") if qc.get("load_in_4bit").and_then(|v| v.as_bool()) == Some(true) => Quant::Bnb4 {
                kind: qc
                    .get("bnb_4bit_quant_type")
                    .and_then(|v| v.as_str())
                    .unwrap_or("fp4")
                    .to_owned(),
            },
            Some("bitsandbytes") => Quant::Bnb8,
            Some(other) => Quant::Other(other.to_owned()),
            None => Quant::Mlx {
                bits: bits(qc.get("bits"))?,
                group: int(qc.get("group_size")),
            },
        })
    }
}

/// What is known beside the tensors: the quantization from `config.json` and the totals an index
/// declares (`metadata.total_size`, `metadata.total_parameters`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    /// The scheme `config.json` names.
    pub quant: Option<Quant>,
    /// `metadata.total_size` of a sharded index (bytes).
    pub index_total_size: Option<u64>,
    /// `metadata.total_parameters` of a sharded index.
    pub index_total_parameters: Option<u64>,
}

/// What one tensor counts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A parameter, counted as its elements.
    Param,
    /// The same storage and view as an earlier tensor (its index): counted once, there.
    Tied(usize),
    /// Packed quantized weights: `params` unpacked parameters, by `scheme` (`GPTQ 4-bit, group 128`),
    /// `per` of them in each stored element.
    Packed {
        /// Unpacked parameters.
        params: u64,
        /// Parameters per stored element: a fraction where a word holds a part of one (3, 5 or 6 bits
        /// in 32: `32/3`).
        per: Per,
        /// The scheme, as `inspect` prints it.
        scheme: String,
    },
    /// Serves a quantization (scales, zeros, `g_idx`, absmax, quant state): not a parameter.
    Quantization,
    /// A saved buffer (BatchNorm's running statistics, `position_ids`, a causal mask: see
    /// [`super::buffers::is_buffer`]): not a parameter, as `num_parameters()` counts.
    Buffer,
}

/// Parameters per stored element of a packed weight, `num / den` in lowest terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Per {
    /// Numerator.
    pub num: u64,
    /// Denominator (1 for a whole number).
    pub den: u64,
}

impl Per {
    /// `num / den` in lowest terms (`den` 0 is taken as 1).
    pub fn new(num: u64, den: u64) -> Per {
        let den = den.max(1);
        let (mut a, mut b) = (num, den);
        while b != 0 {
            (a, b) = (b, a % b);
        }
        let g = a.max(1);
        Per {
            num: num / g,
            den: den / g,
        }
    }

    /// `n` stored elements in parameters, rounded down (exact for a whole number of rows).
    pub fn of(self, n: u64) -> u64 {
        u64::try_from(u128::from(n) * u128::from(self.num) / u128::from(self.den)).unwrap_or(u64::MAX)
    }
}

impl std::fmt::Display for Per {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

/// Parameters and bytes of a set of tensors, as the model defines them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counting {
    /// Parameters as the model defines them.
    pub params: u64,
    /// Elements as stored, each storage view once (packed words count as one each).
    pub stored_elements: u64,
    /// Bytes on disk, each storage once.
    pub unique_bytes: u64,
    /// What each tensor counts for, in the order given.
    pub roles: Vec<Role>,
    /// Where the count disagrees with what an index declares, one sentence each.
    pub disagreements: Vec<String>,
}

/// Suffixes of the tensors a packed weight needs beside it, per packed suffix.
const QWEIGHT_AUX: [&str; 3] = ["qzeros", "scales", "g_idx"];
const PACKED_AUX: [&str; 6] = [
    "weight_scale",
    "weight_zero_point",
    "weight_shape",
    "weight_global_scale",
    "input_global_scale",
    "weight_g_idx",
];
const BNB_AUX: [&str; 4] = ["absmax", "quant_map", "nested_absmax", "nested_quant_map"];

fn group_text(group: Option<i64>) -> String {
    match group {
        Some(g) if g > 0 => format!(", group {g}"),
        _ => String::new(),
    }
}

impl Counting {
    /// Count `tensors` with what is known beside them.
    pub fn of(tensors: &[TensorInfo], hints: &Hints) -> Counting {
        // the names are hashed only when a packed weight asks about its neighbours (most checkpoints
        // hold none): 200,000 names cost a TUI's first frame tens of milliseconds
        let names: std::cell::OnceCell<HashSet<&str>> = std::cell::OnceCell::new();
        let has = |n: &str| {
            names
                .get_or_init(|| tensors.iter().map(|t| t.name.as_str()).collect())
                .contains(n)
        };
        let mut roles = Vec::with_capacity(tensors.len());
        // one hash per tensor, of its storage; views (offset, shape, strides, dtype) are hashed only for
        // storages that more than one tensor uses (tied weights, views), so each tensor still costs one
        // map lookup whatever a file holds
        // storages strictly increasing (a safetensors file: tensors in data order, each its own byte
        // range) are all distinct, so no tensor can be tied and none needs hashing
        let storage = |t: &TensorInfo| (t.file, t.storage.start, t.storage.end);
        let distinct = tensors.windows(2).all(|w| storage(&w[0]) < storage(&w[1]));
        let mut first_view: HashMap<(usize, u64, u64), (usize, bool)> =
            HashMap::with_capacity(if distinct { 0 } else { tensors.len() });
        let mut views: HashMap<ViewKey<'_>, usize> = HashMap::new();
        let (mut params, mut stored, mut unique_bytes) = (0u64, 0u64, 0u64);
        for (i, t) in tensors.iter().enumerate() {
            if distinct {
                unique_bytes = unique_bytes.saturating_add(t.storage.end.saturating_sub(t.storage.start));
            } else {
                match first_view.entry(storage(t)) {
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert((i, false));
                        unique_bytes = unique_bytes.saturating_add(t.storage.end.saturating_sub(t.storage.start));
                    }
                    std::collections::hash_map::Entry::Occupied(mut e) => {
                        let (first, hashed) = e.get_mut();
                        if !*hashed {
                            views.insert(tensors[*first].view_key(), *first);
                            *hashed = true;
                        }
                        if let Some(&earlier) = views.get(&t.view_key()) {
                            roles.push(Role::Tied(earlier));
                            continue;
                        }
                        views.insert(t.view_key(), i);
                    }
                }
            }
            let numel = t.numel().unwrap_or(0);
            stored = stored.saturating_add(numel);
            let role = role_of(t, numel, &has, hints.quant.as_ref());
            params = params.saturating_add(match &role {
                Role::Param => numel,
                Role::Packed { params, .. } => *params,
                Role::Tied(_) | Role::Quantization | Role::Buffer => 0,
            });
            roles.push(role);
        }
        let mut disagreements = Vec::new();
        if let Some(s) = hints.index_total_size
            && s != unique_bytes
        {
            disagreements.push(format!(
                "the index's metadata says total_size {}, the tensors hold {} bytes",
                crate::text::count(s),
                crate::text::count(unique_bytes)
            ));
        }
        if let Some(p) = hints.index_total_parameters
            && p != params
        {
            disagreements.push(format!(
                "the index's metadata says total_parameters {}, counted {}",
                crate::text::count(p),
                crate::text::count(params)
            ));
        }
        Counting {
            params,
            stored_elements: stored,
            unique_bytes,
            roles,
            disagreements,
        }
    }

    /// Tensors tied to an earlier one.
    pub fn tied(&self) -> usize {
        self.roles.iter().filter(|r| matches!(r, Role::Tied(_))).count()
    }

    /// Saved buffers (not parameters).
    pub fn buffers(&self) -> usize {
        self.roles.iter().filter(|r| matches!(r, Role::Buffer)).count()
    }

    /// Tensors that serve a quantization and are not parameters.
    pub fn quantization_tensors(&self) -> usize {
        self.roles.iter().filter(|r| matches!(r, Role::Quantization)).count()
    }
}

/// What tensor `t` counts for, given the names around it and the scheme.
fn role_of(t: &TensorInfo, numel: u64, has: &dyn Fn(&str) -> bool, quant: Option<&Quant>) -> Role {
    if super::buffers::is_buffer(t) {
        return Role::Buffer;
    }
    let name = t.name.as_str();
    let (base, last) = name.rsplit_once('.').unwrap_or(("", name));
    let sib = |s: &str| {
        if base.is_empty() {
            has(s)
        } else {
            has(&format!("{base}.{s}"))
        }
    };
    let packed = |per: Per, scheme: String| Role::Packed {
        params: per.of(numel),
        per,
        scheme,
    };
    // a 32-bit word holds 32/bits parameters: a fraction for 3, 5 or 6 bits, which pack across words
    let per_word = |bits: u32| Per::new(32, u64::from(bits.clamp(1, 32)));
    let whole = |n: u64| Per::new(n, 1);
    // GPTQ / AWQ
    if last == "qweight" && t.dtype == DType::I32 {
        return match quant {
            Some(Quant::Gptq { bits, group }) => {
                packed(per_word(*bits), format!("GPTQ {bits}-bit{}", group_text(*group)))
            }
            Some(Quant::Awq { bits, group }) => {
                packed(per_word(*bits), format!("AWQ {bits}-bit{}", group_text(*group)))
            }
            _ => packed(whole(8), "GPTQ/AWQ, assumed 4-bit (no quantization_config)".into()),
        };
    }
    if QWEIGHT_AUX.contains(&last) && sib("qweight") {
        return Role::Quantization;
    }
    // compressed-tensors
    if last == "weight_packed" {
        let (bits, group, format) = match quant {
            Some(Quant::Compressed { bits, group, format }) => (*bits, *group, format.as_str()),
            _ => (4, None, "pack-quantized, assumed"),
        };
        return match t.dtype {
            DType::I32 | DType::U32 => packed(
                per_word(bits),
                format!("compressed-tensors {format} {bits}-bit{}", group_text(group)),
            ),
            DType::U8 | DType::I8 => packed(whole(2), format!("compressed-tensors {format} FP4 (2 a byte)")),
            _ => Role::Param,
        };
    }
    if PACKED_AUX.contains(&last) && sib("weight_packed") {
        return Role::Quantization;
    }
    // MXFP4 experts (gpt-oss): `gate_up_proj_blocks` beside `gate_up_proj_scales`
    if let Some(stem) = name.strip_suffix("_blocks")
        && t.dtype == DType::U8
        && has(&format!("{stem}_scales"))
    {
        return packed(whole(2), "MXFP4 (2 FP4 a byte, 32 a block)".into());
    }
    if let Some(stem) = name.strip_suffix("_scales")
        && has(&format!("{stem}_blocks"))
    {
        return Role::Quantization;
    }
    // MLX: `weight` U32 beside `scales` and `biases`
    if last == "weight" && t.dtype == DType::U32 && sib("scales") {
        return match quant {
            Some(Quant::Mlx { bits, group }) => {
                packed(per_word(*bits), format!("MLX {bits}-bit{}", group_text(*group)))
            }
            _ => packed(whole(8), "MLX, assumed 4-bit (no quantization in config.json)".into()),
        };
    }
    if (last == "scales" || last == "biases") && sib("weight") && has_u32_weight(base, has) {
        return Role::Quantization;
    }
    // bitsandbytes 4-bit: `weight` U8 beside `weight.absmax` / `weight.quant_state.bitsandbytes__nf4`
    // (the kind its own `quant_state.bitsandbytes__KIND` names first: config.json may leave it to
    // bitsandbytes' default)
    if last == "weight" && t.dtype == DType::U8 {
        let named = ["nf4", "fp4"]
            .into_iter()
            .find(|k| has(&format!("{name}.quant_state.bitsandbytes__{k}")));
        let kind = match (named, quant) {
            (Some(k), _) => Some(k),
            (None, Some(Quant::Bnb4 { kind })) => Some(kind.as_str()),
            _ => has(&format!("{name}.absmax")).then_some("4-bit"),
        };
        if let Some(kind) = kind {
            return packed(whole(2), format!("bitsandbytes {kind} (2 a byte)"));
        }
    }
    if let Some((w, rest)) = split_bnb(name)
        && has(w)
        && (BNB_AUX.contains(&rest) || rest.starts_with("quant_state."))
    {
        return Role::Quantization;
    }
    // bitsandbytes 8-bit: `SCB` and `weight_format` beside an I8 weight
    if matches!(last, "SCB" | "weight_format") && sib("weight") {
        return Role::Quantization;
    }
    Role::Param
}

/// Whether `base` is laid out as an MLX quantized layer: `weight`, `scales` and `biases` (plural,
/// MLX's own spelling), so `scales` beside an ordinary weight stay parameters.
fn has_u32_weight(base: &str, has: &dyn Fn(&str) -> bool) -> bool {
    has(&format!("{base}.weight")) && has(&format!("{base}.scales")) && has(&format!("{base}.biases"))
}

/// `x.weight.absmax` → (`x.weight`, `absmax`); `x.weight.quant_state.bitsandbytes__nf4` →
/// (`x.weight`, `quant_state.bitsandbytes__nf4`).
fn split_bnb(name: &str) -> Option<(&str, &str)> {
    let i = name.find(".weight.")?;
    Some((&name[..i + 7], &name[i + 8..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, dtype: DType, shape: &[u64], at: u64) -> TensorInfo {
        let n: u64 = shape.iter().product();
        let len = dtype.bytes_for(n).unwrap();
        TensorInfo::contiguous(name.into(), dtype, shape.to_vec(), 0, at..at + len).unwrap()
    }

    #[test]
    fn a_tied_view_counts_once() {
        let a = t("wte.weight", DType::F32, &[10, 4], 0);
        let mut b = a.clone();
        b.name = "lm_head.weight".into();
        let c = Counting::of(&[a, b], &Hints::default());
        assert_eq!(c.params, 40);
        assert_eq!(c.unique_bytes, 160);
        assert_eq!(c.roles[1], Role::Tied(0));
    }

    #[test]
    fn configs_as_the_libraries_write_them() {
        let q = |s: &str| Quant::from_config(&serde_json::from_str(s).unwrap());
        assert_eq!(
            q(r#"{"quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 128}}"#),
            Some(Quant::Gptq {
                bits: 4,
                group: Some(128)
            })
        );
        assert_eq!(
            q(r#"{"quantization": {"group_size": 64, "bits": 4}}"#),
            Some(Quant::Mlx {
                bits: 4,
                group: Some(64)
            })
        );
        assert_eq!(q(r#"{"model_type": "gpt2"}"#), None);
        assert_eq!(
            q(
                r#"{"quantization_config": {"quant_method": "bitsandbytes", "load_in_4bit": true, "bnb_4bit_quant_type": "nf4"}}"#
            ),
            Some(Quant::Bnb4 { kind: "nf4".into() })
        );
    }

    #[test]
    fn bnb_names_split_at_the_weight() {
        assert_eq!(split_bnb("a.weight.absmax"), Some(("a.weight", "absmax")));
        assert_eq!(
            split_bnb("a.weight.quant_state.bitsandbytes__nf4"),
            Some(("a.weight", "quant_state.bitsandbytes__nf4"))
        );
    }
}
