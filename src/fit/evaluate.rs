//! From a [`Model`] and its [`Weights`] to a [`FitReport`]: KV per layer, placement, the largest
//! context that fits, llama.cpp flags and the vLLM view.

use std::collections::BTreeMap;

use super::arch::{Engine, LLAMA_CPP_PAD};
use super::plan::{Buffers, Unit, largest, longest_suffix, pack};
use super::{
    Attention, COMPUTE_FORMULA, DeviceReport, FitReport, KvType, LayerReport, MAX_SEARCH_CONTEXT, Model, Options,
    Weights, buffers,
};

/// Where everything went at one context.
#[derive(Debug, Clone)]
struct Placed {
    /// Device index of each layer (GPUs `0..g`, the host `g`).
    layer: Vec<usize>,
    /// Layers whose experts stay on the host (`-ot`).
    experts_on_host: Vec<bool>,
    /// Device of the non-layer weights.
    out: usize,
    /// Bytes per device, the host last.
    used: Vec<u64>,
    /// Units on the GPUs (llama.cpp's `-ngl`).
    ngl: usize,
    fits: bool,
}

/// Plan `model` with weights `w` for `opts`; `safetensors` adds the vLLM view. An error is a
/// message for the user (bad options, sizes that overflow).
pub fn plan_for(model: &Model, w: &Weights, opts: &Options, safetensors: bool) -> Result<FitReport, String> {
    if opts.context == 0 || opts.batch == 0 {
        return Err("--ctx and --batch must be at least 1".into());
    }
    let util = opts.gpu_memory_utilization;
    if !(util > 0.0 && util <= 1.0) {
        return Err(format!(
            "--gpu-memory-utilization is {util}: it must be above 0 and at most 1 (the fraction of each GPU vLLM uses)"
        ));
    }
    if opts.margin_percent >= 100 {
        return Err("--margin must be below 100 (percent)".into());
    }
    if opts.devices.iter().filter(|d| d.host).count() > 1 {
        return Err("more than one host device".into());
    }
    let n = model.attention.len();
    let kv_at = |ctx: u64| -> Result<Vec<u64>, String> {
        model
            .attention
            .iter()
            .map(|a| {
                llama_cpp_layer(model, a)
                    .bytes(Engine::LlamaCpp, ctx, opts.batch, opts.kv)
                    .ok_or_else(|| "KV cache size overflows".to_string())
            })
            .collect()
    };
    let usable = |b: u64| b - b / 100 * opts.margin_percent - (b % 100) * opts.margin_percent / 100;
    let gpus: Vec<&super::Device> = opts.devices.iter().filter(|d| !d.host).collect();
    let host = opts.devices.iter().find(|d| d.host);
    let caps: Vec<u64> = gpus.iter().map(|d| usable(d.budget)).collect();
    let host_cap = host.map(|h| usable(h.budget));
    let place_at = |ctx: u64| -> Result<Placed, String> {
        let kv = kv_at(ctx)?;
        Ok(place(w, &kv, buffers(model, ctx, opts.batch), &caps, host_cap))
    };

    let kv = kv_at(opts.context)?;
    let p = place_at(opts.context)?;
    let buf = buffers(model, opts.context, opts.batch);
    let kv_total = kv.iter().fold(0u64, |a, &b| a.saturating_add(b));
    let compute = buf.act.saturating_add(buf.logits);
    let weights_total = w.total();

    let cap = model.max_context.unwrap_or(MAX_SEARCH_CONTEXT).max(1);
    let max_context = largest(cap, |c| place_at(c).map(|p| p.fits).unwrap_or(false));

    let name = |d: usize| -> String { gpus.get(d).map(|g| g.name.clone()).unwrap_or_else(|| "host".into()) };
    let layers = (0..n)
        .map(|i| LayerReport {
            index: i as u64,
            bytes: w.layer[i].saturating_add(w.experts[i]),
            kv_bytes: kv[i],
            device: name(p.layer[i]),
            experts_device: (p.experts_on_host[i] && p.layer[i] != gpus.len()).then(|| "host".into()),
        })
        .collect();
    let mut devices = Vec::new();
    for (d, g) in gpus.iter().enumerate() {
        devices.push(DeviceReport {
            name: g.name.clone(),
            budget_bytes: g.budget,
            bytes: p.used[d],
            layers: span(&p.layer, d),
        });
    }
    let h = gpus.len();
    if host.is_some() || p.used[h] > 0 {
        devices.push(DeviceReport {
            name: "host".into(),
            budget_bytes: host.map_or(0, |x| x.budget),
            bytes: p.used[h],
            layers: span(&p.layer, h),
        });
    }

    let mut rules = model.notes.clone();
    rules.extend(attention_rules(model));
    if let Some(pre) = &w.prefix {
        rules.push(format!(
            "weights: layers are the tensors under {pre}.N; the rest is non-layer"
        ));
    } else if n > 0 {
        rules.push("weights: no tensor names carry a layer index 0..layers: every weight counted as non-layer".into());
    }
    if w.other_numbered > 0 {
        rules.push(format!(
            "weights: {} numbered tensors outside the layers (another tower, extra layers such as MTP) counted as non-layer",
            w.other_numbered
        ));
    }
    if n > 0 && !model.attention.iter().all(|a| matches!(a, super::Attention::None)) {
        rules.push(format!(
            "KV cells as llama.cpp allocates them, one stream per sequence: the context padded to {LLAMA_CPP_PAD}; a \
             sliding layer min(that, window + {} (-ub)) padded to {LLAMA_CPP_PAD} (llama-kv-cache-iswa.cpp)",
            super::UBATCH
        ));
    }
    rules.push(format!("compute: {COMPUTE_FORMULA}"));
    rules.push(format!(
        "plan: {}% of each budget kept free; the host keeps the first layers, the GPUs take the last ones in order \
         (llama.cpp's -ngl), the non-layer weights go last (with the head)",
        opts.margin_percent
    ));
    if host.is_none() {
        rules.push("plan: no host budget given: anything left on the host does not fit".into());
    }
    if opts.context > cap && model.max_context.is_some() {
        rules.push(format!("context {} is above the model's own {cap}", opts.context));
    }
    let flags = llama_flags(model, w, &p, &gpus, opts, &mut rules);
    let vllm = (safetensors && !gpus.is_empty()).then(|| super::vllm::view(model, w, opts, &gpus, &mut rules));

    Ok(FitReport {
        context: opts.context,
        batch: opts.batch,
        kv_type: opts.kv.as_str().into(),
        weights_bytes: weights_total,
        kv_cache_bytes: kv_total,
        compute_bytes: compute,
        total_bytes: weights_total.saturating_add(kv_total).saturating_add(compute),
        fits: p.fits,
        max_context,
        layers,
        devices,
        llama_cpp_flags: flags,
        rules,
        architecture: model.arch.clone(),
        non_layer_bytes: w.non_layer,
        non_layer_device: name(p.out),
        weights_by_dtype: w.by_dtype.clone(),
        compute_formula: COMPUTE_FORMULA.into(),
        model_max_context: model.max_context,
        vllm,
    })
}

fn span(layer: &[usize], d: usize) -> Vec<u64> {
    let on: Vec<u64> = (0..layer.len()).filter(|&i| layer[i] == d).map(|i| i as u64).collect();
    match (on.first(), on.last()) {
        (Some(&a), Some(&b)) => vec![a, b],
        _ => Vec::new(),
    }
}

fn place(w: &Weights, kv: &[u64], buf: Buffers, caps: &[u64], host_cap: Option<u64>) -> Placed {
    let n = kv.len();
    let g = caps.len();
    let unit = |i: usize, experts: bool| Unit {
        bytes: w.layer[i]
            .saturating_add(if experts { w.experts[i] } else { 0 })
            .saturating_add(kv[i]),
        out: false,
    };
    let mut units: Vec<Unit> = (0..n).map(|i| unit(i, true)).collect();
    units.push(Unit {
        bytes: w.non_layer,
        out: true,
    });
    let (k, packing) = longest_suffix(&units, caps, buf);
    let first_gpu = n + 1 - k;
    let mut dev: Vec<usize> = vec![g; n + 1];
    for (j, &d) in packing.device.iter().enumerate() {
        dev[first_gpu + j] = d;
    }
    let mut used = packing.used.clone();
    let mut host: u64 = units[..first_gpu].iter().fold(0, |a, u| a.saturating_add(u.bytes));
    if first_gpu > 0 {
        host = host.saturating_add(buf.act);
    }
    if first_gpu == n + 1 {
        host = host.saturating_add(buf.logits);
    }
    let mut experts_on_host = vec![false; n];
    let has_experts = w.experts.iter().any(|&e| e > 0);
    if k < n + 1 && has_experts && g > 0 {
        // MoE: every layer on the GPUs, the routed experts of the first `j` layers on the host
        for j in 1..=n {
            let mut u: Vec<Unit> = (0..n).map(|i| unit(i, i >= j)).collect();
            u.push(units[n]);
            if let Some(p) = pack(&u, caps, buf) {
                dev = p.device.clone();
                used = p.used;
                host = (0..j).fold(buf.act, |a, i| a.saturating_add(w.experts[i]));
                for (i, e) in experts_on_host.iter_mut().enumerate().take(j) {
                    *e = w.experts[i] > 0;
                }
                break;
            }
        }
    }
    let ngl = dev.iter().filter(|&&d| d < g).count();
    used.push(host);
    let fits = host == 0 || host_cap.is_some_and(|c| host <= c);
    Placed {
        out: dev[n],
        layer: dev[..n].to_vec(),
        experts_on_host,
        used,
        ngl,
        fits,
    }
}

/// Layer `a` of `m` as llama.cpp caches it: a sliding layer keeps the full context when llama.cpp
/// ignores the window ([`Model::llama_cpp_full_context`], swa.rs).
fn llama_cpp_layer(m: &Model, a: &Attention) -> Attention {
    match *a {
        Attention::Sliding {
            kv_heads, k_dim, v_dim, ..
        } if m.llama_cpp_full_context => Attention::Full { kv_heads, k_dim, v_dim },
        ref other => other.clone(),
    }
}

/// The attention rules of the llama.cpp view, each with its layers.
fn attention_rules(m: &Model) -> Vec<String> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut order = Vec::new();
    for (i, a) in m.attention.iter().enumerate() {
        let d = llama_cpp_layer(m, a).describe(m.heads);
        if !groups.contains_key(&d) {
            order.push(d.clone());
        }
        groups.entry(d).or_default().push(i);
    }
    order
        .into_iter()
        .map(|d| {
            let idx = &groups[&d];
            format!(
                "{d}: {} ({})",
                ranges(idx),
                crate::text::plural(idx.len() as u64, "layer")
            )
        })
        .collect()
}

/// `0-4, 6-10, 12` from sorted indices.
fn ranges(idx: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && idx[j + 1] == idx[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            format!("layer {}", idx[i])
        } else {
            format!("layers {}-{}", idx[i], idx[j])
        });
        i = j + 1;
    }
    if out.len() > 8 {
        let more = out.len() - 8;
        out.truncate(8);
        out.push(format!("+{more} more runs"));
    }
    out.join(", ")
}

fn llama_flags(
    m: &Model,
    w: &Weights,
    p: &Placed,
    gpus: &[&super::Device],
    o: &Options,
    rules: &mut Vec<String>,
) -> String {
    let mut f = vec![
        format!("-ngl {}", p.ngl),
        format!("-c {}", o.context.saturating_mul(o.batch)),
    ];
    if o.batch > 1 {
        f.push(format!("-np {}", o.batch));
    }
    let g = gpus.len();
    if g > 1 && p.ngl > 0 {
        let counts: Vec<String> = (0..g)
            .map(|d| {
                p.layer
                    .iter()
                    .chain(std::iter::once(&p.out))
                    .filter(|&&x| x == d)
                    .count()
                    .to_string()
            })
            .collect();
        f.push(format!("--tensor-split {}", counts.join(",")));
    }
    match o.kv.llama_cpp() {
        Some("f16") => {}
        Some(t) => {
            f.push(format!("-ctk {t} -ctv {t}"));
            if matches!(o.kv, KvType::Q8_0 | KvType::Q4_0) {
                f.push("-fa on".into());
                rules.push("llama.cpp: a quantized V cache needs flash attention (-fa on)".into());
            }
        }
        None => {
            // no flags rather than flags that would run an f16 cache the plan did not count
            return format!(
                "none: llama.cpp has no {} KV cache type (-ctk/-ctv take f32, f16, bf16, q8_0, q4_0, ...); plan with \
                 --kv-type q8_0 or f16 for flags that reproduce it",
                o.kv
            );
        }
    }
    let host_experts: Vec<String> = (0..p.experts_on_host.len())
        .filter(|&i| p.experts_on_host[i])
        .map(|i| i.to_string())
        .collect();
    if !host_experts.is_empty() {
        f.push(format!(
            "-ot \"blk\\.({})\\.ffn_.*_exps\\.=CPU\"",
            host_experts.join("|")
        ));
        rules.push(format!(
            "MoE: the routed experts of {} stay on the host (-ot), every layer's attention on the GPUs",
            crate::text::plural(host_experts.len() as u64, "layer")
        ));
    }
    if m.attention.iter().any(|a| matches!(a, super::Attention::Mla { .. })) {
        rules.push("MLA: the latent cache as vLLM and llama.cpp's MLA path keep it (K only, V read from it)".into());
    }
    let _ = w;
    f.join(" ")
}
