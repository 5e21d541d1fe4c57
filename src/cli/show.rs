//! `tensorscope show PATH TENSOR [--json] [--limit N] [--slice SPEC] [--sample] [--bins N]`: the first
//! values of one tensor laid out by shape, its statistics and a histogram.
//!
//! Works on every format `inspect` reads, on strided pickle views as on contiguous safetensors data.
//! Previewing reads only the bytes of the values shown; the statistics read the whole tensor (or, with
//! `--sample`, about 4 M elements in evenly spaced blocks of 4096, and say so).
//!
//! - `--limit N` (default 32): how many values to show, in row-major order.
//! - `--slice 0:2,:` selects a sub-tensor first, with Python rules (`i`, `a:b`, `a:b:step`, `:`, negative
//!   indices); the values *and* the statistics are then those of the slice.
//! - `--bins N` (default 20, 0 for none): histogram bins over the finite values.
//!
//! Numbers are printed with the digits their dtype holds (see `tensorscope::tensor::format`); `std` is
//! the sample standard deviation (`n - 1`) as `torch.std` computes it, and NaN/±Inf are counted apart
//! and left out of min, max, mean, std and the histogram. C64 statistics are of the magnitudes |z|.
//! An unknown tensor name is an error (exit 2) that suggests close names.
//!
//! GGUF: block types (`Q4_K`, `IQ2_XXS`, …) are dequantized block by block; the header line is followed
//! by the type's bits per weight and the block-scale check (blocks whose scale is NaN or infinite, the
//! first ones named; `--json` adds `"ggml": {"bits_per_weight", "blocks", "nan_scale_blocks",
//! "inf_scale_blocks", "first"}`). TENSOR may also be a metadata key (`tokenizer.chat_template`,
//! `tokenizer.ggml.tokens`): its value is printed whole, a string as stored, an array one item per line
//! (`--json`: `{"path", "key", "type", "value"}`).
//!
//! # JSON (`--json`)
//! ```json
//! { "path": "samples/gpt2-tiny.safetensors", "tensor": "h.0.attn.c_attn.bias", "dtype": "F32",
//!   "shape": [192], "slice": null, "view_shape": [192], "numel": 192,
//!   "limit": 4, "values": [0.0123, -0.5, "nan", "inf"], "truncated": true,
//!   "stats": { "count": 192, "finite": 190, "nan": 1, "posinf": 1, "neginf": 0, "zeros": 3,
//!              "min": -0.92, "max": 0.87, "mean": 0.0012, "std": 0.31, "of": "values",
//!              "sampled": false, "sample": null,
//!              "histogram": { "lo": -0.92, "hi": 0.87, "counts": [3, 10, 41, 60, 44, 20, 8, 2, 1, 1] } } }
//! ```
//! - `values`: the first `limit` elements of the (sliced) tensor in row-major order, flat. Floats are exact
//!   JSON numbers (the stored value, widened to f64); NaN and infinities are the strings `"nan"`, `"inf"`,
//!   `"-inf"`; integers are exact integers (U64 and I64 too); BOOL is `true`/`false`; C64 is `[re, im]`.
//! - `truncated`: whether the tensor has more elements than `values` holds.
//! - `stats.min`/`max`: exact values in the same spelling (`null` when there is no finite value);
//!   `mean`/`std`: f64 (`null` below one / two finite values).
//! - `stats.sample`: `null`, or `{"blocks": B, "block": 4096, "stride": S}` with `--sample` on a large tensor.
//! - `stats.histogram`: `null` with `--bins 0` or no finite value; else equal-width bins from `lo` (min) to
//!   `hi` (max), the last bin closed.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;
use serde::Serialize;
use tensorscope::checkpoint::{self, Checkpoint, DType, OpenOptions};
use tensorscope::formats::gguf::FullValue;
use tensorscope::tensor::ggml::ScaleCheck;
use tensorscope::tensor::stats::DEFAULT_SAMPLE;
use tensorscope::tensor::{Histogram, SliceDim, Stats, StatsOptions, Value, View, format, parse_slice};
use tensorscope::text::escape;

/// Most values `--limit` may ask for.
const MAX_LIMIT: usize = 1_000_000;
/// Most histogram bins.
const MAX_BINS: usize = 1000;
/// Most values per printed line, and the width a line of values aims to stay within.
const PER_LINE: usize = 8;
const LINE: usize = 96;
/// Width of the longest histogram bar.
const BAR: usize = 40;

pub const EXAMPLES: &str = "\
Examples:
  tensorscope show model.safetensors wte.weight
  tensorscope show model.bin h.0.attn.c_attn.weight --slice -1,0:8 --bins 10
  tensorscope show model.safetensors lm_head.weight --sample --json";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// File or folder.
    pub path: PathBuf,
    /// Tensor name, as `inspect` lists it (GGUF: or a metadata key, printed whole).
    pub tensor: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Number of values to show.
    #[arg(long, default_value_t = 32)]
    pub limit: usize,
    /// Select a sub-tensor first, e.g. `0:2,:` or `-1,::2`.
    #[arg(long, allow_hyphen_values = true)]
    pub slice: Option<String>,
    /// Compute statistics over a sample (about 4 M elements) instead of every element.
    #[arg(long)]
    pub sample: bool,
    /// Histogram bins (0 for none).
    #[arg(long, default_value_t = 20)]
    pub bins: usize,
    /// Diffusers weight variant, e.g. `fp16`.
    #[arg(long)]
    pub variant: Option<String>,
}

#[derive(Serialize)]
struct Report<'a> {
    path: String,
    tensor: &'a str,
    dtype: &'a str,
    shape: &'a [u64],
    slice: Option<&'a str>,
    view_shape: &'a [u64],
    numel: u64,
    limit: usize,
    values: &'a [Value],
    truncated: bool,
    /// `null` for a remote tensor (the statistics would download all of it).
    stats: Option<&'a Stats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ggml: Option<Ggml<'a>>,
}

/// GGML block facts of a GGUF tensor.
#[derive(Serialize)]
struct Ggml<'a> {
    bits_per_weight: f64,
    #[serde(flatten)]
    check: &'a ScaleCheck,
}

/// `show PATH KEY` for a GGUF metadata key: the value whole (a template as is, an array one item a line).
fn show_metadata(args: &Args, v: &FullValue) -> anyhow::Result<u8> {
    let mut out = std::io::stdout().lock();
    if args.json {
        #[derive(Serialize)]
        struct Meta<'a> {
            path: String,
            #[serde(flatten)]
            value: &'a FullValue,
        }
        let m = Meta {
            path: args.path.to_string_lossy().into_owned(),
            value: v,
        };
        serde_json::to_writer_pretty(&mut out, &m)?;
        writeln!(out)?;
    } else {
        // the value is the data: printed as stored (newlines, tabs and backslashes kept), with only
        // characters that could steer the terminal escaped
        let shown: String = v
            .text()
            .chars()
            .map(|c| match c {
                '\n' | '\t' | '\\' => c.to_string(),
                c => escape(c.encode_utf8(&mut [0; 4])).into_owned(),
            })
            .collect();
        writeln!(out, "{shown}")?;
    }
    Ok(0)
}

/// `  Q4_K: 4.50 bits per weight, 256 blocks; NaN scales in 2 blocks (first: 2, 5)`
fn write_ggml(out: &mut impl Write, dtype: DType, c: &ScaleCheck) -> std::io::Result<()> {
    let bpw = dtype.bits_per_weight().unwrap_or(0.0);
    write!(out, "{dtype}: {bpw:.2} bits per weight, {} blocks", c.blocks)?;
    if c.nan_scale_blocks + c.inf_scale_blocks == 0 {
        return writeln!(out, ", every block scale finite");
    }
    let first: Vec<String> = c.first.iter().map(u64::to_string).collect();
    writeln!(
        out,
        "; BROKEN: {} blocks with a NaN scale, {} with an infinite scale (first: {})",
        c.nan_scale_blocks,
        c.inf_scale_blocks,
        first.join(", ")
    )
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    if args.limit > MAX_LIMIT {
        bail!("--limit {} exceeds the limit of {MAX_LIMIT}", args.limit);
    }
    if args.bins > MAX_BINS {
        bail!("--bins {} exceeds the limit of {MAX_BINS}", args.bins);
    }
    let ck = checkpoint::open_with(
        &args.path,
        &OpenOptions {
            variant: args.variant.clone(),
        },
    )?;
    let Some(t) = ck.tensor(&args.tensor) else {
        // a GGUF metadata key (a chat template, the vocabulary) is shown whole
        if let Some(v) = checkpoint::gguf::metadata_value(&ck, &args.tensor)? {
            return show_metadata(&args, &v);
        }
        bail!("{}", unknown(&ck, &args.tensor))
    };
    // a remote tensor: only the bytes of the values shown are fetched, and no statistics computed
    let remote = ck.remote().is_some();
    let mut view = if remote {
        View::from_parts(t.dtype, &t.shape, &t.strides, t.offset, ck.mapped_storage_bytes(t)?).map_err(|m| {
            anyhow::anyhow!(
                "{}: tensor {}: {m}",
                escape(&args.path.to_string_lossy()),
                escape(&t.name)
            )
        })?
    } else {
        View::of(&ck, t)?
    };
    let mut axes = axes_of(&t.shape, &[]);
    if let Some(spec) = &args.slice {
        let dims = parse_slice(spec)?;
        view = view.slice(&dims)?;
        axes = axes_of(&t.shape, &dims);
    }
    if remote {
        ck.fetch(t.file, &shown_bytes(&view, t, args.limit))?;
    }
    let values = view.first(args.limit);
    let opts = StatsOptions {
        bins: args.bins,
        sample: args.sample.then_some(DEFAULT_SAMPLE),
    };
    let stats = (!remote).then(|| stats_with_progress(&view, &opts));
    let stats = stats.as_ref();
    // blocks with NaN/Inf scales: a whole-tensor pass over the scales, skipped when sampling or remote
    let ggml = match args.sample || remote {
        true => None,
        false => checkpoint::gguf::scale_check(&ck, t)?,
    };
    ck.check_intact()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let report = Report {
            path: args.path.to_string_lossy().into_owned(),
            tensor: &t.name,
            dtype: t.dtype.name(),
            shape: &t.shape,
            slice: args.slice.as_deref(),
            view_shape: view.shape(),
            numel: view.numel(),
            limit: args.limit,
            values: &values,
            truncated: (values.len() as u64) < view.numel(),
            stats,
            ggml: ggml.as_ref().map(|c| Ggml {
                bits_per_weight: t.dtype.bits_per_weight().unwrap_or(0.0),
                check: c,
            }),
        };
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write_header(&mut out, &t.name, &view, args.slice.as_deref(), t.shape.as_slice())?;
        if let Some(c) = &ggml {
            write_ggml(&mut out, t.dtype, c)?;
        }
        write_values(&mut out, &view, &values, &axes)?;
        match stats {
            Some(stats) => write_stats(&mut out, &view, stats)?,
            None => writeln!(
                out,
                "statistics: not computed for a remote tensor (they would download all of it)"
            )?,
        }
    }
    Ok(0)
}

/// The file byte ranges of the first `limit` values of `view` (a view of `t`).
fn shown_bytes(view: &View, t: &checkpoint::TensorInfo, limit: usize) -> Vec<std::ops::Range<u64>> {
    let one = |first: u64, count: u64| tensorscope::remote::plan::element_bytes(t.dtype, t.storage.start, first, count);
    let mut out = Vec::new();
    for run in view.runs(0, limit as u64) {
        if run.step <= 1 {
            out.extend(one(run.start, run.len));
        } else {
            out.extend((0..run.len).filter_map(|i| one(run.start + i * run.step, 1)));
        }
    }
    out
}

/// "no tensor named X" with up to five close names.
fn unknown(ck: &Checkpoint, name: &str) -> String {
    let path = tensorscope::text::path(&ck.path);
    let close = close_names(name, ck.tensors.iter().map(|t| t.name.as_str()));
    if close.is_empty() {
        format!(
            "{path}: no tensor named {:?} ({} tensors; `tensorscope inspect` lists them)",
            escape(name),
            ck.tensors.len()
        )
    } else {
        let list: Vec<String> = close.iter().map(|n| escape(n).into_owned()).collect();
        format!(
            "{path}: no tensor named {:?}; did you mean {}?",
            escape(name),
            list.join(", ")
        )
    }
}

/// Names that contain `query` (case-insensitively) or are within a small edit distance of it, best first.
fn close_names<'a>(query: &str, names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let q = query.to_lowercase();
    let budget = (q.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = names
        .filter_map(|n| {
            let l = n.to_lowercase();
            if !q.is_empty() && (l.contains(&q) || q.contains(&l)) {
                return Some((0, n));
            }
            // names much longer or shorter than the query cannot be close; skip the quadratic work
            if l.chars().count().abs_diff(q.chars().count()) > budget || l.len() > 512 {
                return None;
            }
            let d = edit_distance(&q, &l);
            (d <= budget).then_some((d, n))
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.len().cmp(&b.1.len())).then(a.1.cmp(b.1)));
    scored.into_iter().take(5).map(|(_, n)| n).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn shape_text(s: &[u64]) -> String {
    format!("[{}]", s.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))
}

fn write_header(
    out: &mut impl Write,
    name: &str,
    view: &View,
    slice: Option<&str>,
    shape: &[u64],
) -> std::io::Result<()> {
    let dtype = view.dtype();
    let size = dtype
        .bytes_for(view.numel())
        .map(tensorscope::text::bytes)
        .unwrap_or_default();
    write!(out, "{}  {dtype}  {}", escape(name), shape_text(shape))?;
    if let Some(s) = slice {
        write!(out, "  slice {} -> {}", escape(s), shape_text(view.shape()))?;
    }
    writeln!(out, "  {} values  {size}", view.numel())
}

/// The values by shape: one line per (part of a) row of the last dimension, labelled with its indices.
/// How one axis of the stored tensor maps to the view `--slice` made: fixed at an index (the axis is
/// gone), or view index `k` is stored index `start + k * step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Axis {
    Fixed(u64),
    Range { start: u64, step: u64 },
}

/// The axes of a stored tensor of `shape` after `dims` (already checked by `View::slice`).
fn axes_of(shape: &[u64], dims: &[SliceDim]) -> Vec<Axis> {
    shape
        .iter()
        .enumerate()
        .map(|(axis, &d)| {
            let di = i64::try_from(d).unwrap_or(i64::MAX);
            let clamp = |v: i64| if v < 0 { (v + di).max(0) } else { v.min(di) };
            match dims.get(axis) {
                None => Axis::Range { start: 0, step: 1 },
                Some(SliceDim::Index(i)) => Axis::Fixed(if *i < 0 { i + di } else { *i }.max(0) as u64),
                Some(SliceDim::Range(a, _, step)) => Axis::Range {
                    start: a.map_or(0, clamp) as u64,
                    step: *step,
                },
            }
        })
        .collect()
}

/// The label of a line of values: the stored tensor's indices (absolute, also after a slice), the
/// last view axis as the range `a:b` (`a:b:step` when strided).
fn line_label(axes: &[Axis], lead: &[u64], col: u64, n: u64) -> String {
    let mut view_axis = 0;
    let ranged = axes.iter().filter(|a| matches!(a, Axis::Range { .. })).count();
    let mut parts = Vec::with_capacity(axes.len());
    for a in axes {
        match *a {
            Axis::Fixed(i) => parts.push(i.to_string()),
            Axis::Range { start, step } => {
                if view_axis + 1 == ranged {
                    let a = start + col * step;
                    let b = start + (col + n - 1) * step + 1;
                    parts.push(if step == 1 {
                        format!("{a}:{b}")
                    } else {
                        format!("{a}:{b}:{step}")
                    });
                } else {
                    parts.push((start + lead.get(view_axis).copied().unwrap_or(0) * step).to_string());
                }
                view_axis += 1;
            }
        }
    }
    format!("[{}]", parts.join(", "))
}

fn write_values(out: &mut impl Write, view: &View, values: &[Value], axes: &[Axis]) -> std::io::Result<()> {
    let dtype = view.dtype();
    let texts: Vec<String> = values.iter().map(|&v| format::value(dtype, v)).collect();
    let width = texts.iter().map(|t| t.chars().count()).max().unwrap_or(0);
    let shape = view.shape();
    if shape.is_empty() {
        return writeln!(out, "value: {}", texts.first().map_or("", String::as_str));
    }
    if view.numel() == 0 {
        return writeln!(out, "values: none (empty tensor)");
    }
    let shown = values.len() as u64;
    let more = if shown < view.numel() {
        format!(" (first {shown} of {}, row-major)", view.numel())
    } else {
        String::new()
    };
    writeln!(out, "values{more}:")?;
    let row = shape[shape.len() - 1].max(1);
    let per_line = (LINE / (width + 2)).clamp(1, PER_LINE) as u64;
    let mut lines = Vec::new();
    let mut i = 0u64;
    while i < shown {
        let col = i % row;
        let n = (row - col).min(per_line).min(shown - i);
        // indices of the leading dimensions for element i
        let mut rest = i / row;
        let mut lead: Vec<u64> = Vec::new();
        for &d in shape[..shape.len() - 1].iter().rev() {
            lead.push(rest % d.max(1));
            rest /= d.max(1);
        }
        lead.reverse();
        let label = line_label(axes, &lead, col, n);
        let cells: Vec<String> = texts[i as usize..(i + n) as usize]
            .iter()
            .map(|t| format!("{t:>width$}"))
            .collect();
        lines.push((label, cells.join("  ")));
        i += n;
    }
    let lw = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (label, cells) in lines {
        writeln!(out, "  {label:<lw$}  {cells}")?;
    }
    if shown < view.numel() {
        writeln!(out, "  …")?;
    }
    Ok(())
}

/// Statistics of `view`; when they take more than a second and stderr is a terminal, a progress
/// line there (cleared at the end), so that a long exact pass over a huge tensor never looks hung.
fn stats_with_progress(view: &View, opts: &StatsOptions) -> Stats {
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use tensorscope::tensor::Control;
    let start = std::time::Instant::now();
    let tty = std::io::stderr().is_terminal();
    let (shown, printed) = (AtomicU64::new(u64::MAX), AtomicBool::new(false));
    let report = |done: u64, total: u64| {
        if !tty || start.elapsed() < std::time::Duration::from_secs(1) {
            return;
        }
        let pct = done.saturating_mul(100) / total.max(1);
        if shown.swap(pct, Ordering::Relaxed) != pct {
            printed.store(true, Ordering::Relaxed);
            eprint!(
                "\rstatistics: {pct}% of {} elements of work (Ctrl-C stops; --sample is faster)",
                total
            );
        }
    };
    let ctl = Control::none().with_progress(&report);
    let stats = match view.stats_with(opts, &ctl) {
        Ok(s) => s,
        // no cancel flag was given, so this cannot happen; compute without progress then
        Err(_) => view.stats(opts),
    };
    if printed.load(Ordering::Relaxed) {
        eprint!("\r\x1b[K");
    }
    stats
}

fn write_stats(out: &mut impl Write, view: &View, s: &Stats) -> std::io::Result<()> {
    let dtype = view.dtype();
    let how = match s.sample {
        Some(p) => format!(
            "sampled: {} blocks of {} elements, {} apart",
            p.blocks, p.block, p.stride
        ),
        None => "exact".to_string(),
    };
    let of = if s.of == "values" {
        String::new()
    } else {
        format!(" of {}", s.of)
    };
    writeln!(out, "stats{of} ({how}):")?;
    writeln!(
        out,
        "  count {}  finite {}  nan {}  +inf {}  -inf {}  zeros {}",
        s.count, s.finite, s.nan, s.posinf, s.neginf, s.zeros
    )?;
    let v = |x: Option<Value>| x.map_or("-".to_string(), |x| format::value(dtype, x));
    let g = |x: Option<f64>| x.map_or("-".to_string(), |x| format::general(x, 6));
    writeln!(
        out,
        "  min {}  max {}  mean {}  std {}",
        v(s.min),
        v(s.max),
        g(s.mean),
        g(s.std)
    )?;
    if let Some(h) = &s.histogram {
        write_histogram(out, h, dtype)?;
    }
    Ok(())
}

fn write_histogram(out: &mut impl Write, h: &Histogram, dtype: DType) -> std::io::Result<()> {
    const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let rows = histogram_rows(h, is_integer(dtype));
    writeln!(
        out,
        "histogram ({}):",
        tensorscope::text::plural(rows.len() as u64, "bin")
    )?;
    let peak = rows.iter().map(|r| r.2).max().unwrap_or(0).max(1);
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let wc = rows
        .iter()
        .map(|r| tensorscope::text::count(r.2).len())
        .max()
        .unwrap_or(0);
    for (lo, hi, c) in &rows {
        let eighths = (*c as f64 / peak as f64 * (BAR * 8) as f64).round() as usize;
        let eighths = if *c > 0 { eighths.max(1) } else { 0 };
        let bar = format!("{}{}", "█".repeat(eighths / 8), EIGHTHS[eighths % 8]);
        let range = if hi.is_empty() {
            format!("{lo:>w0$}    {:w1$}", "")
        } else {
            format!("{lo:>w0$} .. {hi:<w1$}")
        };
        writeln!(out, "  {range}  {bar:<BAR$}  {:>wc$}", tensorscope::text::count(*c))?;
    }
    Ok(())
}

/// Whether a dtype holds integers (its histogram edges are integers).
fn is_integer(dtype: DType) -> bool {
    matches!(
        dtype,
        DType::U8
            | DType::I8
            | DType::I16
            | DType::U16
            | DType::I32
            | DType::U32
            | DType::I64
            | DType::U64
            | DType::BOOL
    )
}

/// The rows of a histogram as `(lo, hi, count)` labels: one row for a constant tensor (`hi` empty);
/// for integers, the integers each bin holds (`3 .. 5`, or `4` alone), bins that hold no integer left
/// out (they are empty); otherwise equal-width float edges.
fn histogram_rows(h: &Histogram, integer: bool) -> Vec<(String, String, u64)> {
    let total: u64 = h.counts.iter().sum();
    if h.lo == h.hi || h.counts.len() <= 1 {
        return vec![(format::general(h.lo, 6), String::new(), total)];
    }
    let n = h.counts.len() as f64;
    let edge = |i: usize| h.lo + (h.hi - h.lo) * i as f64 / n;
    let last = h.counts.len() - 1;
    if integer {
        let mut rows = Vec::new();
        for (i, &c) in h.counts.iter().enumerate() {
            // the last bin is closed: it holds hi
            let first = edge(i).ceil();
            let end = if i == last { h.hi } else { edge(i + 1).ceil() - 1.0 };
            if end < first {
                continue;
            }
            let (a, b) = (format!("{first:.0}"), format!("{end:.0}"));
            rows.push(if a == b { (a, String::new(), c) } else { (a, b, c) });
        }
        return rows;
    }
    (0..h.counts.len())
        .map(|i| {
            (
                format::general(edge(i), 4),
                format::general(edge(i + 1), 4),
                h.counts[i],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_stored_indices_after_a_slice() {
        // [4, 3, 8] sliced `-1, 1:3, ::2`: view [2, 4]
        let dims = parse_slice("-1,1:3,::2").unwrap();
        let axes = axes_of(&[4, 3, 8], &dims);
        assert_eq!(line_label(&axes, &[0], 0, 4), "[3, 1, 0:7:2]");
        assert_eq!(line_label(&axes, &[1], 0, 4), "[3, 2, 0:7:2]");
        let axes = axes_of(&[4, 8], &[]);
        assert_eq!(line_label(&axes, &[2], 0, 8), "[2, 0:8]");
    }

    #[test]
    fn histogram_rows_for_integers_and_constants() {
        let h = Histogram {
            lo: 0.0,
            hi: 255.0,
            counts: vec![1; 10],
        };
        let rows = histogram_rows(&h, true);
        assert_eq!(rows[0], ("0".into(), "25".into(), 1));
        assert_eq!(rows[1], ("26".into(), "50".into(), 1));
        assert_eq!(rows.last().unwrap(), &("230".into(), "255".into(), 1));
        // fewer integers than bins: each integer once, empty bins dropped
        let h = Histogram {
            lo: 0.0,
            hi: 2.0,
            counts: vec![3, 0, 0, 0, 0, 0, 0, 0, 0, 4],
        };
        let rows = histogram_rows(&h, true);
        let labels: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(labels, ["0", "1", "2"]);
        assert_eq!(rows[0].2, 3);
        assert_eq!(rows[2].2, 4);
        // a constant tensor: one bin
        let h = Histogram {
            lo: 0.5,
            hi: 0.5,
            counts: vec![0, 0, 7],
        };
        assert_eq!(histogram_rows(&h, false), [("0.5".to_string(), String::new(), 7)]);
    }

    #[test]
    fn close_names_prefer_substrings_then_small_edits() {
        let names = [
            "h.0.attn.c_attn.weight",
            "h.0.attn.c_attn.bias",
            "wte.weight",
            "wpe.weight",
            "ln_f.bias",
        ];
        assert_eq!(
            close_names("c_attn.weight", names.iter().copied()),
            ["h.0.attn.c_attn.weight"]
        );
        assert_eq!(
            close_names("wte.weigth", names.iter().copied()),
            ["wte.weight", "wpe.weight"]
        );
        assert!(close_names("zzzzzzzzzzzz", names.iter().copied()).is_empty());
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
