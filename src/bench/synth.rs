//! Synthetic checkpoints of a requested size and shape family, written in both formats at once:
//! `.safetensors` and the `torch.save` zip format (see [`super::torchzip`]). Both files hold the
//! same float32 tensors with the same deterministic values, so every load method reads equal data.
//!
//! ```no_run
//! use tensorscope::bench::synth::{Family, write_pair};
//! let dir = std::env::temp_dir();
//! let pair = write_pair(&dir, "model", Family::Gpt2, 64_000_000)?;
//! println!("{} and {}: {} tensors", pair.safetensors.display(), pair.torch.display(), pair.tensors);
//! # Ok::<(), tensorscope::Error>(())
//! ```

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::torchzip::{ZipWriter, state_dict_pickle};
use crate::{Error, Result};

/// Largest synthetic checkpoint written (per format).
pub const MAX_SYNTH_BYTES: u64 = 1 << 40;
/// Smallest: below this the shape families make no sense.
pub const MIN_SYNTH_BYTES: u64 = 4096;

/// The shape family of a synthetic checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// GPT-2 layer shapes (embeddings, attention, MLP, layer norms), as many layers as fit.
    Gpt2,
    /// 10,000 small LoRA adapter matrices.
    Lora,
    /// A few tensors of hundreds of MB each.
    Huge,
    /// A mixture of experts shaped like Qwen3-30B-A3B: 48 layers of 128 experts, about 19,000
    /// tensors whatever the size (the widths scale with it).
    Moe,
}

impl Family {
    /// `gpt2`, `lora`, `huge` or `moe`.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Gpt2 => "gpt2",
            Family::Lora => "lora",
            Family::Huge => "huge",
            Family::Moe => "moe",
        }
    }

    /// Parse `gpt2`, `lora`, `huge` or `moe`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "gpt2" => Some(Family::Gpt2),
            "lora" => Some(Family::Lora),
            "huge" => Some(Family::Huge),
            "moe" => Some(Family::Moe),
            _ => None,
        }
    }
}

/// One float32 tensor of a synthetic checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthTensor {
    /// Name.
    pub name: String,
    /// Shape.
    pub shape: Vec<u64>,
}

impl SynthTensor {
    fn new(name: impl Into<String>, shape: &[u64]) -> Self {
        SynthTensor {
            name: name.into(),
            shape: shape.to_vec(),
        }
    }

    /// Size of the data in bytes (float32).
    pub fn nbytes(&self) -> u64 {
        self.shape.iter().product::<u64>() * 4
    }
}

/// The tensors of a checkpoint of about `bytes` bytes in `family` (never more than `bytes`
/// plus one layer's worth, never empty).
pub fn layout(family: Family, bytes: u64) -> Vec<SynthTensor> {
    let bytes = bytes.clamp(MIN_SYNTH_BYTES, MAX_SYNTH_BYTES);
    match family {
        Family::Gpt2 => gpt2(bytes),
        Family::Lora => lora(bytes),
        Family::Huge => huge(bytes),
        Family::Moe => moe(bytes),
    }
}

/// Qwen3-30B-A3B's layout (48 layers; 128 experts of gate, up and down projections; attention with
/// 32 query and 4 key-value heads; router; norms; embeddings and head) with every width scaled by
/// the same factor so the data comes to about `bytes` (at least one element per dimension, so tiny
/// sizes come out larger). The tensor count, 18,867, does not depend on the size.
fn moe(bytes: u64) -> Vec<SynthTensor> {
    const LAYERS: u64 = 48;
    const EXPERTS: u64 = 128;
    let (h, i, q, kv, vocab, head) = (2048.0, 768.0, 4096.0, 512.0, 151_936.0, 128.0);
    let params = LAYERS as f64 * (EXPERTS as f64 * (3.0 * h * i + h) + 2.0 * h * q + 2.0 * h * kv) + 2.0 * vocab * h;
    let f = ((bytes as f64 / 4.0) / params).sqrt();
    let dim = |x: f64| ((x * f).round() as u64).max(1);
    let (h, i, q, kv, vocab, head) = (dim(h), dim(i), dim(q), dim(kv), dim(vocab), dim(head));
    let mut out = vec![SynthTensor::new("model.embed_tokens.weight", &[vocab, h])];
    for l in 0..LAYERS {
        let p = |s: &str| format!("model.layers.{l}.{s}");
        out.push(SynthTensor::new(p("input_layernorm.weight"), &[h]));
        out.push(SynthTensor::new(p("self_attn.q_proj.weight"), &[q, h]));
        out.push(SynthTensor::new(p("self_attn.k_proj.weight"), &[kv, h]));
        out.push(SynthTensor::new(p("self_attn.v_proj.weight"), &[kv, h]));
        out.push(SynthTensor::new(p("self_attn.o_proj.weight"), &[h, q]));
        out.push(SynthTensor::new(p("self_attn.q_norm.weight"), &[head]));
        out.push(SynthTensor::new(p("self_attn.k_norm.weight"), &[head]));
        out.push(SynthTensor::new(p("post_attention_layernorm.weight"), &[h]));
        out.push(SynthTensor::new(p("mlp.gate.weight"), &[EXPERTS, h]));
        for e in 0..EXPERTS {
            out.push(SynthTensor::new(
                p(&format!("mlp.experts.{e}.gate_proj.weight")),
                &[i, h],
            ));
            out.push(SynthTensor::new(p(&format!("mlp.experts.{e}.up_proj.weight")), &[i, h]));
            out.push(SynthTensor::new(
                p(&format!("mlp.experts.{e}.down_proj.weight")),
                &[h, i],
            ));
        }
    }
    out.push(SynthTensor::new("model.norm.weight", &[h]));
    out.push(SynthTensor::new("lm_head.weight", &[vocab, h]));
    out
}

fn gpt2_layer(out: &mut Vec<SynthTensor>, i: u64, d: u64) {
    let p = |s: &str| format!("h.{i}.{s}");
    out.push(SynthTensor::new(p("ln_1.weight"), &[d]));
    out.push(SynthTensor::new(p("ln_1.bias"), &[d]));
    out.push(SynthTensor::new(p("attn.c_attn.weight"), &[d, 3 * d]));
    out.push(SynthTensor::new(p("attn.c_attn.bias"), &[3 * d]));
    out.push(SynthTensor::new(p("attn.c_proj.weight"), &[d, d]));
    out.push(SynthTensor::new(p("attn.c_proj.bias"), &[d]));
    out.push(SynthTensor::new(p("ln_2.weight"), &[d]));
    out.push(SynthTensor::new(p("ln_2.bias"), &[d]));
    out.push(SynthTensor::new(p("mlp.c_fc.weight"), &[d, 4 * d]));
    out.push(SynthTensor::new(p("mlp.c_fc.bias"), &[4 * d]));
    out.push(SynthTensor::new(p("mlp.c_proj.weight"), &[4 * d, d]));
    out.push(SynthTensor::new(p("mlp.c_proj.bias"), &[d]));
}

/// GPT-2 small (d=768, vocab 50257, 1024 positions) with as many layers as fit; smaller sizes shrink
/// the width and vocabulary by the same factor so that at least one layer fits.
fn gpt2(bytes: u64) -> Vec<SynthTensor> {
    let (mut d, mut vocab, mut ctx) = (768u64, 50_257u64, 1024u64);
    let layer = |d: u64| (12 * d * d + 13 * d) * 4;
    while d > 8 && (vocab + ctx) * d * 4 + layer(d) > bytes {
        d /= 2;
        vocab = (vocab / 2).max(16);
        ctx = (ctx / 2).max(16);
    }
    let fixed = (vocab + ctx + 2) * d * 4;
    let layers = (bytes.saturating_sub(fixed) / layer(d)).max(1);
    let mut out = vec![
        SynthTensor::new("wte.weight", &[vocab, d]),
        SynthTensor::new("wpe.weight", &[ctx, d]),
    ];
    for i in 0..layers {
        gpt2_layer(&mut out, i, d);
    }
    out.push(SynthTensor::new("ln_f.weight", &[d]));
    out.push(SynthTensor::new("ln_f.bias", &[d]));
    out
}

/// 10,000 LoRA matrices: pairs of `lora_A` `[r, n]` and `lora_B` `[n, r]` with rank 16.
fn lora(bytes: u64) -> Vec<SynthTensor> {
    const COUNT: u64 = 10_000;
    const RANK: u64 = 16;
    let n = (bytes / COUNT / 4 / RANK).max(1);
    let projs = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj"];
    (0..COUNT / 2)
        .flat_map(|i| {
            let base = format!(
                "base_model.model.layers.{}.{}",
                i / projs.len() as u64,
                projs[(i % projs.len() as u64) as usize]
            );
            [
                SynthTensor::new(format!("{base}.lora_A.weight"), &[RANK, n]),
                SynthTensor::new(format!("{base}.lora_B.weight"), &[n, RANK]),
            ]
        })
        .collect()
}

/// Four equal 2-D tensors with rows of 4096 floats (fewer columns for tiny sizes).
fn huge(bytes: u64) -> Vec<SynthTensor> {
    let each = bytes / 4;
    let cols = 4096u64.min((each / 4).max(1));
    let rows = (each / 4 / cols).max(1);
    (0..4)
        .map(|i| SynthTensor::new(format!("block.{i}.weight"), &[rows, cols]))
        .collect()
}

/// Deterministic float32 values in [-0.05, 0.05) for tensor `index`, written little-endian into `out`.
pub fn fill(index: usize, out: &mut [u8]) {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15 ^ (index as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let f = |bits: u64| ((bits & 0xFF_FFFF) as f32 / 16_777_216.0 - 0.5) * 0.1;
    let mut chunks = out.chunks_exact_mut(8);
    for c in &mut chunks {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        c[..4].copy_from_slice(&f(s).to_le_bytes());
        c[4..].copy_from_slice(&f(s >> 32).to_le_bytes());
    }
    let rest = chunks.into_remainder();
    if rest.len() >= 4 {
        rest[..4].copy_from_slice(&f(s >> 11).to_le_bytes());
    }
}

/// A pair of synthetic files with the same tensors.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The `.safetensors` file.
    pub safetensors: PathBuf,
    /// The `torch.save` zip file (`.bin`).
    pub torch: PathBuf,
    /// Number of tensors.
    pub tensors: usize,
    /// Bytes of tensor data (each file is slightly larger).
    pub bytes: u64,
}

/// Options of [`write_torch_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TorchOptions {
    /// Write zip64 records even when the archive is small (to test readers).
    pub force_zip64: bool,
}

/// Streams tensors into a `.safetensors` file whose header was written up front.
struct SafetensorsOut(BufWriter<File>);

impl SafetensorsOut {
    fn create(path: &Path, tensors: &[SynthTensor]) -> Result<Self> {
        let mut header = String::from("{\"__metadata__\":{\"format\":\"pt\"}");
        let mut at = 0u64;
        for t in tensors {
            let shape: Vec<String> = t.shape.iter().map(u64::to_string).collect();
            let end = at + t.nbytes();
            header.push_str(&format!(
                ",{}:{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{at},{end}]}}",
                serde_json::Value::String(t.name.clone()),
                shape.join(",")
            ));
            at = end;
        }
        header.push('}');
        while header.len() % 8 != 0 {
            header.push(' ');
        }
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        w.write_all(&(header.len() as u64).to_le_bytes())
            .and_then(|_| w.write_all(header.as_bytes()))
            .map_err(|e| Error::io(path, e))?;
        Ok(SafetensorsOut(w))
    }
}

/// Write a `.safetensors` file of `tensors` filled by [`fill`].
pub fn write_safetensors(path: &Path, tensors: &[SynthTensor]) -> Result<()> {
    let mut out = SafetensorsOut::create(path, tensors)?;
    let mut buf = Vec::new();
    for (i, t) in tensors.iter().enumerate() {
        buf.resize(t.nbytes() as usize, 0);
        fill(i, &mut buf);
        out.0.write_all(&buf).map_err(|e| Error::io(path, e))?;
    }
    out.0.flush().map_err(|e| Error::io(path, e))
}

/// Write a `torch.save`-compatible zip file of `tensors` filled by [`fill`].
pub fn write_torch(path: &Path, tensors: &[SynthTensor]) -> Result<()> {
    write_torch_with(path, tensors, TorchOptions::default())
}

/// [`write_torch`] with options.
pub fn write_torch_with(path: &Path, tensors: &[SynthTensor], opts: TorchOptions) -> Result<()> {
    let mut z = TorchOut::create(path, tensors, opts)?;
    let mut buf = Vec::new();
    for (i, t) in tensors.iter().enumerate() {
        buf.resize(t.nbytes() as usize, 0);
        fill(i, &mut buf);
        z.tensor(i, &buf)?;
    }
    z.finish()
}

struct TorchOut {
    zip: ZipWriter<BufWriter<File>>,
    path: PathBuf,
    crcs: u64,
}

impl TorchOut {
    fn create(path: &Path, tensors: &[SynthTensor], opts: TorchOptions) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, file), opts.force_zip64);
        let named: Vec<(String, Vec<u64>)> = tensors.iter().map(|t| (t.name.clone(), t.shape.clone())).collect();
        let io = |e| Error::io(path, e);
        zip.add("archive/data.pkl", &state_dict_pickle(&named)).map_err(io)?;
        zip.add("archive/.format_version", b"1").map_err(io)?;
        zip.add("archive/.storage_alignment", b"64").map_err(io)?;
        zip.add("archive/byteorder", b"little").map_err(io)?;
        Ok(TorchOut {
            zip,
            path: path.to_path_buf(),
            crcs: 0,
        })
    }

    fn tensor(&mut self, i: usize, data: &[u8]) -> Result<()> {
        self.crcs = self
            .crcs
            .wrapping_mul(31)
            .wrapping_add(crc32fast::hash(&data[..data.len().min(4096)]) as u64);
        self.zip
            .add(&format!("archive/data/{i}"), data)
            .map_err(|e| Error::io(&self.path, e))
    }

    fn finish(mut self) -> Result<()> {
        let io = |e| Error::io(&self.path, e);
        self.zip.add("archive/version", b"3\n").map_err(io)?;
        // torch writes a 40-digit decimal id; ours is derived from the content so reruns are identical.
        let id = format!("{:020}{:020}", self.crcs, self.crcs.rotate_left(29));
        self.zip
            .add("archive/.data/serialization_id", id.as_bytes())
            .map_err(io)?;
        let mut w = self.zip.finish().map_err(io)?;
        w.flush().map_err(io)?;
        Ok(())
    }
}

/// Write `DIR/STEM.safetensors` and `DIR/STEM.bin` holding the same synthetic tensors of about
/// `bytes` bytes, generating each tensor once. Refuses when the disk has too little free space.
pub fn write_pair(dir: &Path, stem: &str, family: Family, bytes: u64) -> Result<Pair> {
    if !(MIN_SYNTH_BYTES..=MAX_SYNTH_BYTES).contains(&bytes) {
        return Err(Error::Usage(format!(
            "synthetic size {} must be between {} and {}",
            crate::text::bytes(bytes),
            crate::text::bytes(MIN_SYNTH_BYTES),
            crate::text::bytes(MAX_SYNTH_BYTES)
        )));
    }
    let tensors = layout(family, bytes);
    let total: u64 = tensors.iter().map(SynthTensor::nbytes).sum();
    check_free_space(dir, total * 2 + (64 << 20))?;
    let st_path = dir.join(format!("{stem}.safetensors"));
    let pt_path = dir.join(format!("{stem}.bin"));
    let mut st = SafetensorsOut::create(&st_path, &tensors)?;
    let mut pt = TorchOut::create(&pt_path, &tensors, TorchOptions::default())?;
    let mut buf = Vec::new();
    for (i, t) in tensors.iter().enumerate() {
        buf.resize(t.nbytes() as usize, 0);
        fill(i, &mut buf);
        st.0.write_all(&buf).map_err(|e| Error::io(&st_path, e))?;
        pt.tensor(i, &buf)?;
    }
    st.0.flush().map_err(|e| Error::io(&st_path, e))?;
    pt.finish()?;
    Ok(Pair {
        safetensors: st_path,
        torch: pt_path,
        tensors: tensors.len(),
        bytes: total,
    })
}

fn check_free_space(dir: &Path, need: u64) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return Ok(());
    };
    // SAFETY: statvfs writes into the zeroed struct we own; the path is a valid C string.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return Ok(()); // cannot tell: let the writes fail with the OS error instead
    }
    let free = (s.f_bavail as u64).saturating_mul(s.f_frsize as u64);
    if free < need {
        return Err(Error::Usage(format!(
            "{}: {} free, the synthetic pair needs {}",
            crate::text::path(dir),
            crate::text::bytes(free),
            crate::text::bytes(need)
        )));
    }
    Ok(())
}

#[cfg(test)]
#[path = "synth_tests.rs"]
mod tests;
