//! `tensorscope fit PATH`: weights, KV cache, compute buffers and a per-device plan.

use std::io::Write;
use std::path::PathBuf;

use tensorscope::checkpoint;
use tensorscope::fit::{self, Device, FitReport, KvType, Options};
use tensorscope::text::{bytes, plural};

pub const EXAMPLES: &str = "\
Examples:
  tensorscope fit ./Meta-Llama-3-8B --ctx 8192 --device 24GiB
  tensorscope fit model-Q4_K_M.gguf --ctx 32768 --kv-type q8_0 --device 24GiB --device 24GiB
  tensorscope fit hf://Qwen/Qwen2.5-72B-Instruct --device 80GB --device 80GB --json
  tensorscope fit ./model --device auto --probe";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// safetensors file or folder with its config.json, sharded folder, GGUF, HF cache folder or hf:// path.
    pub path: PathBuf,
    /// Tokens of context per sequence.
    #[arg(long, value_name = "N", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..))]
    pub ctx: u64,
    /// Sequences generated together, each with --ctx tokens.
    #[arg(long, value_name = "B", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,
    /// KV cache type: f16, bf16, f32, q8_0, q4_0, fp8.
    #[arg(long, value_name = "TYPE", default_value = "f16", value_parser = parse_kv)]
    pub kv_type: KvType,
    /// A GPU's memory (24GiB, 80GB), `host:SIZE` for the host, or `auto` (every GPU whose memory is
    /// known, and the host's available memory). Repeat for several GPUs, in order. Default: auto.
    #[arg(long, value_name = "SIZE|auto")]
    pub device: Vec<String>,
    /// Percent of each device kept free.
    #[arg(long, value_name = "PCT", default_value_t = 5, value_parser = parse_margin)]
    pub margin: u64,
    /// vLLM's --gpu-memory-utilization for the vLLM view (safetensors models).
    #[arg(long, value_name = "F", default_value_t = 0.9)]
    pub gpu_memory_utilization: f64,
    /// Allocate the planned GPU buffers through wgpu and report predicted against allocated bytes.
    #[arg(long)]
    pub probe: bool,
    /// Print JSON (the schema in README.md).
    #[arg(long)]
    pub json: bool,
}

fn parse_margin(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(p) if p < 100 => Ok(p),
        _ => Err("a whole percent from 0 to 99 (the share of each device kept free)".into()),
    }
}

fn parse_kv(s: &str) -> Result<KvType, String> {
    KvType::parse(s).ok_or_else(|| format!("unknown KV type {s:?}: f16, bf16, f32, q8_0, q4_0 or fp8"))
}

/// Devices from the `--device` values (no value: auto), and notes on what auto found.
fn devices(values: &[String]) -> anyhow::Result<(Vec<Device>, Vec<String>)> {
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let auto = ["auto".to_string()];
    let values = if values.is_empty() { &auto[..] } else { values };
    for v in values {
        if v == "auto" {
            let (found, n) = fit::detect::detect();
            for d in found {
                if d.host {
                    out.push(d);
                } else {
                    let name = format!("gpu{}", out.iter().filter(|x: &&Device| !x.host).count());
                    out.push(Device::gpu(&name, d.budget));
                }
            }
            notes.extend(n);
            continue;
        }
        let (host, size) = match v.split_once(':') {
            Some(("host" | "cpu", s)) => (true, s),
            _ => (false, v.as_str()),
        };
        let Some(b) = tensorscope::text::parse_size(size).filter(|&b| b > 0) else {
            anyhow::bail!("--device {v:?}: give a size such as 24GiB or 80GB, host:64GiB, or auto");
        };
        if host {
            out.push(Device::host(b));
        } else {
            let name = format!("gpu{}", out.iter().filter(|x| !x.host).count());
            out.push(Device::gpu(&name, b));
        }
    }
    if out.iter().filter(|d| d.host).count() > 1 {
        anyhow::bail!("--device: the host is given more than once (auto includes it)");
    }
    Ok((out, notes))
}

pub fn run(args: Args, env: &tensorscope::remote::Env) -> anyhow::Result<u8> {
    let (devices, notes) = devices(&args.device)?;
    let open = checkpoint::OpenOptions {
        remote: Some(env.clone()),
        ..Default::default()
    };
    let ck = checkpoint::open_with(&args.path, &open)?;
    let opts = Options {
        remote: Some(env.clone()),
        context: args.ctx,
        batch: args.batch,
        kv: args.kv_type,
        devices,
        margin_percent: args.margin,
        gpu_memory_utilization: args.gpu_memory_utilization,
    };
    let mut report = fit::fit(&ck, &opts)?;
    report.rules.extend(notes);
    let probe = if args.probe {
        Some(fit::probe::probe(&report)?)
    } else {
        None
    };
    let mut out = std::io::BufWriter::new(super::style::stdout());
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        if let (Some(p), Some(obj)) = (&probe, v.as_object_mut()) {
            obj.insert("probe".into(), serde_json::to_value(p)?);
        }
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        human(&mut out, &args.path, &report)?;
        if let Some(p) = &probe {
            writeln!(
                out,
                "\nprobe on {}{}:",
                p.adapter,
                if p.cpu_adapter {
                    " (a CPU adapter: host memory)"
                } else {
                    ""
                }
            )?;
            for d in &p.devices {
                write!(
                    out,
                    "  {:<6} predicted {:>10}  allocated {:>10}  error {:+.2}% ({}, {})",
                    d.name,
                    bytes(d.predicted_bytes),
                    bytes(d.allocated_bytes),
                    d.error_percent,
                    plural(d.buffers, "buffer"),
                    d.measured_by
                )?;
                match &d.error {
                    Some(e) => writeln!(out, "  FAILED: {e}")?,
                    None => writeln!(out)?,
                }
            }
        }
    }
    out.flush()?;
    Ok(0)
}

fn human(out: &mut impl Write, path: &std::path::Path, r: &FitReport) -> std::io::Result<()> {
    writeln!(
        out,
        "{}: {}, {}, context {} x {}, KV {}",
        tensorscope::text::path(path),
        r.architecture,
        plural(r.layers.len() as u64, "layer"),
        r.context,
        plural(r.batch, "sequence"),
        r.kv_type
    )?;
    let dtypes: Vec<String> = r
        .weights_by_dtype
        .iter()
        .map(|(k, v)| format!("{k} {}", bytes(*v)))
        .collect();
    writeln!(
        out,
        "  weights   {:>10}  ({})",
        bytes(r.weights_bytes),
        dtypes.join(", ")
    )?;
    writeln!(out, "  KV cache  {:>10}", bytes(r.kv_cache_bytes))?;
    writeln!(out, "  compute   {:>10}  (estimate)", bytes(r.compute_bytes))?;
    writeln!(out, "  total     {:>10}", bytes(r.total_bytes))?;
    writeln!(out, "layers:")?;
    let mut i = 0;
    while i < r.layers.len() {
        let l = &r.layers[i];
        let mut j = i;
        while j + 1 < r.layers.len() {
            let m = &r.layers[j + 1];
            if (m.bytes, m.kv_bytes, &m.device, &m.experts_device)
                != (l.bytes, l.kv_bytes, &l.device, &l.experts_device)
            {
                break;
            }
            j += 1;
        }
        let which = if i == j { format!("{i}") } else { format!("{i}-{j}") };
        let experts = l
            .experts_device
            .as_deref()
            .map(|d| format!(" (experts on {d})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {which:<9} {:>10} weights {:>10} KV each  on {}{experts}",
            bytes(l.bytes),
            bytes(l.kv_bytes),
            l.device
        )?;
        i = j + 1;
    }
    writeln!(
        out,
        "  non-layer {:>10} weights on {}",
        bytes(r.non_layer_bytes),
        r.non_layer_device
    )?;
    writeln!(out, "devices:")?;
    for d in &r.devices {
        let budget = if d.budget_bytes == 0 {
            "no budget".to_string()
        } else {
            bytes(d.budget_bytes)
        };
        let layers = match d.layers.as_slice() {
            [a, b] if a == b => format!("layer {a}"),
            [a, b] => format!("layers {a}-{b}"),
            _ => "no layers".into(),
        };
        writeln!(
            out,
            "  {:<6} {:>10} of {:>10}  {layers}",
            d.name,
            bytes(d.bytes),
            budget
        )?;
    }
    writeln!(
        out,
        "fits: {}   largest context that fits: {}",
        if r.fits { "yes" } else { "no" },
        r.max_context
    )?;
    writeln!(out, "llama.cpp: {}", r.llama_cpp_flags)?;
    if let Some(v) = &r.vllm {
        writeln!(out, "vLLM: {}", v.flags)?;
    }
    writeln!(out, "rules:")?;
    for rule in &r.rules {
        writeln!(out, "  {rule}")?;
    }
    Ok(())
}
