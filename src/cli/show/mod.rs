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
//! - `stats.histogram`: `null` with `--bins 0`, no finite value, or 64-bit integers whose spread `f64` cannot
//!   resolve (values past 2^53 closer than their rounding); else equal-width bins from `lo` (min) to
//!   `hi` (max), the last bin closed.

use std::io::Write;
use std::path::PathBuf;

use anyhow::bail;
use serde::Serialize;
use tensorscope::checkpoint::{self, Checkpoint, OpenOptions};
use tensorscope::formats::gguf::FullValue;
use tensorscope::formats::gguf::scales::ScaleCheck;
use tensorscope::remote::Env;
use tensorscope::tensor::stats::DEFAULT_SAMPLE;
use tensorscope::tensor::{Stats, StatsOptions, Value, View, parse_slice};
use tensorscope::text::escape;

mod print;

use print::{stats_with_progress, write_stats, write_values};
use tensorscope::tensor::layout::{self, axes_of};

/// Most values `--limit` may ask for.
const MAX_LIMIT: usize = 1_000_000;
/// Most histogram bins.
const MAX_BINS: usize = 1000;

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

pub fn run(args: Args, env: &Env) -> anyhow::Result<u8> {
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
            remote: Some(env.clone()),
        },
    )?;
    // a name as `inspect` prints it, control characters escaped (`a\x00b`), names the tensor too
    let escaped = || {
        let mut hits = ck.tensors.iter().filter(|t| escape(&t.name) == args.tensor.as_str());
        hits.next().filter(|_| hits.next().is_none())
    };
    let Some(t) = ck.tensor(&args.tensor).or_else(escaped) else {
        // a GGUF metadata key (a chat template, the vocabulary) is shown whole
        if let Some(v) = checkpoint::gguf::metadata_value(&ck, &args.tensor)? {
            return show_metadata(&args, &v);
        }
        bail!("{}", unknown(&ck, &args.tensor))
    };
    // a remote tensor: only the bytes of the values shown are fetched, and no statistics computed
    let remote = ck.is_remote();
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
        ck.fetch(t.file, &layout::shown_bytes(&view, t, args.limit))?;
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
            writeln!(out, "{}", layout::scale_line(t.dtype, c))?;
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

/// "no tensor named X" with up to five close names.
fn unknown(ck: &Checkpoint, name: &str) -> String {
    let path = tensorscope::text::path(&ck.path);
    let close = close_names(name, ck.tensors.iter().map(|t| t.name.as_str()));
    if close.is_empty() {
        format!(
            "{path}: no tensor named \"{}\" ({} tensors; `tensorscope inspect` lists them)",
            escape(name),
            ck.tensors.len()
        )
    } else {
        let list: Vec<String> = close.iter().map(|n| escape(n).into_owned()).collect();
        format!(
            "{path}: no tensor named \"{}\"; did you mean {}?",
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
    let n = view.numel();
    writeln!(out, "  {n} value{}  {size}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

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
