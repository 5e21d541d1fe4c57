//! Will it fit? Weights per layer, the KV cache each layer's attention keeps, an estimate of the
//! compute buffers, and a plan that places the layers on devices, for a checkpoint opened with
//! [`crate::checkpoint::open`] (safetensors with its `config.json`, GGUF, local or remote).
//!
//! The numbers and their rules:
//! - weights: each storage's bytes as stored, grouped by the layer index in the tensor names;
//! - KV cache per layer and sequence: full attention `2 × kv_heads × head_dim × ctx` values, sliding
//!   layers `min(ctx, window + 512)` cells (both padded to 256, as llama.cpp allocates them; see
//!   [`arch::Engine`]; the full context where llama.cpp ignores the window, see `swa.rs`), MLA
//!   `(kv_lora_rank + qk_rope_head_dim) × ctx`, recurrent layers their fixed state in f32, encoders
//!   nothing; values at `--kv-type` (block types at block size); times `batch` sequences;
//! - compute (an estimate, labelled so): `4 B × u × (vocab + 4·hidden + 2·ffn + heads·ctx·batch)`
//!   with `u = min(512, ctx·batch)` tokens per step.
//!
//! ```no_run
//! use tensorscope::fit::{self, Device, KvType, Options};
//! let ck = tensorscope::checkpoint::open("llama-3-8b/")?;
//! let opts = Options { devices: vec![Device::gpu("gpu0", 24 << 30)], ..Options::default() };
//! let report = fit::fit(&ck, &opts)?;
//! println!("fits: {}, largest context: {}", report.fits, report.max_context);
//! # Ok::<(), tensorscope::Error>(())
//! ```

pub mod arch;
mod config;
pub mod detect;
pub mod gguf;
mod kv;
pub mod limits;
pub mod plan;
pub mod probe;
mod report;
mod swa;
pub mod weights;

pub use arch::{Attention, Model};
pub use kv::KvType;
pub use report::{DeviceReport, FitReport, LayerReport, Vllm};
pub use weights::Weights;

use crate::model::{Checkpoint, Format};
use crate::{Error, Result};

/// Tokens processed per step, llama.cpp's default `-ub`, for the compute estimate.
pub const UBATCH: u64 = 512;
/// Longest context searched when the model does not say its own.
pub const MAX_SEARCH_CONTEXT: u64 = 1 << 24;

/// A device to place layers on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// `gpu0`, `host`, or an adapter's name.
    pub name: String,
    /// Bytes it may hold (before the margin).
    pub budget: u64,
    /// The host's memory (takes what the GPUs cannot) rather than a GPU.
    pub host: bool,
}

impl Device {
    /// A GPU with `budget` bytes.
    pub fn gpu(name: &str, budget: u64) -> Device {
        Device {
            name: name.into(),
            budget,
            host: false,
        }
    }

    /// The host with `budget` bytes.
    pub fn host(budget: u64) -> Device {
        Device {
            name: "host".into(),
            budget,
            host: true,
        }
    }
}

/// What to plan for.
#[derive(Debug, Clone)]
pub struct Options {
    /// Tokens of context per sequence.
    pub context: u64,
    /// Sequences generated together, each with its own `context`.
    pub batch: u64,
    /// KV cache element type.
    pub kv: KvType,
    /// GPUs in order, and at most one host; without a host the layers that do not fit on the GPUs
    /// fall to a host with no budget (and the model does not fit).
    pub devices: Vec<Device>,
    /// Percent of each budget kept free (CUDA context, fragmentation).
    pub margin_percent: u64,
    /// vLLM's `--gpu-memory-utilization`, for the vLLM view.
    pub gpu_memory_utilization: f64,
    /// How a remote checkpoint was opened: its `config.json` is read through the same mirror.
    pub remote: Option<crate::remote::Env>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            context: 4096,
            batch: 1,
            kv: KvType::F16,
            devices: Vec::new(),
            margin_percent: 5,
            gpu_memory_utilization: 0.9,
            remote: None,
        }
    }
}

/// Read the model and its weights from `ck` and plan with `opts`.
pub fn fit(ck: &Checkpoint, opts: &Options) -> Result<FitReport> {
    let model = model_of(ck, opts.remote.as_ref())?;
    let w = weights::split(ck, model.attention.len());
    let safetensors = ck
        .files
        .iter()
        .any(|f| matches!(f.format, Format::Safetensors | Format::SafetensorsSharded));
    plan_for(&model, &w, opts, safetensors)
        .map_err(|m| Error::Unsupported(format!("{}: {m}", crate::text::path(&ck.path))))
}

/// The [`Model`] of a checkpoint: GGUF metadata, or the `config.json` beside the weights (for a
/// remote checkpoint, read through the mirror `remote` opened it with).
pub fn model_of(ck: &Checkpoint, remote: Option<&crate::remote::Env>) -> Result<Model> {
    let refuse = |m: String| Error::Unsupported(format!("{}: cannot plan: {m}", crate::text::path(&ck.path)));
    let gguf =
        matches!(ck.format, Format::Gguf | Format::GgufSharded) || ck.files.iter().any(|f| f.format == Format::Gguf);
    if gguf {
        let get = |k: &str| config::gguf_meta(ck, k);
        let mut m = gguf::from_gguf(&get).map_err(refuse)?;
        if m.vocab == 0 {
            m.vocab = embedding_rows(ck).unwrap_or(0);
        }
        m.check().map_err(refuse)?;
        return Ok(m);
    }
    let (path, json) = config::read(ck, remote)?;
    let mut m = arch::from_config(&json).map_err(refuse)?;
    m.notes.insert(0, format!("config: {}", crate::text::path(&path)));
    if m.vocab == 0 {
        m.vocab = embedding_rows(ck).unwrap_or(0);
    }
    m.check().map_err(refuse)?;
    Ok(m)
}

/// Rows of the token embedding (the vocabulary size), for files that do not say it.
fn embedding_rows(ck: &Checkpoint) -> Option<u64> {
    let t = ck
        .tensors
        .iter()
        .find(|t| t.name == "token_embd.weight" || t.name.ends_with("embed_tokens.weight"))?;
    t.shape.first().copied()
}

/// The per-device compute buffers at `ctx` (see the module docs for the formula).
pub fn buffers(m: &Model, ctx: u64, batch: u64) -> plan::Buffers {
    let tokens = ctx.saturating_mul(batch);
    let u = UBATCH.min(tokens);
    let per_token = m
        .hidden
        .saturating_mul(4)
        .saturating_add(m.intermediate.saturating_mul(2))
        .saturating_add(m.heads.saturating_mul(tokens));
    plan::Buffers {
        act: u.saturating_mul(per_token).saturating_mul(4),
        logits: u.saturating_mul(m.vocab).saturating_mul(4),
    }
}

/// The formula of [`buffers`], for the report.
pub const COMPUTE_FORMULA: &str = "estimate: 4 B x u x (vocab + 4 x hidden + 2 x ffn + heads x ctx x batch), \
     u = min(512, ctx x batch) tokens per step; the logits part (4 B x u x vocab) on the device with the head, \
     the rest on each device that runs layers";

mod evaluate;
mod vllm;
pub use evaluate::plan_for;
