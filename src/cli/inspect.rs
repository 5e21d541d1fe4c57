//! `tensorscope inspect PATH [--json]`: tensors and metadata, without reading tensor data.
//!
//! GGUF files list each tensor's GGML type with its bits per weight (`Q4_K (4.50 bpw)`) and every
//! metadata pair (arrays summarised, `general.*` and the architecture's hyperparameters first); values
//! over [`VALUE_CHARS`] characters are cut here (`--json` and `show PATH KEY` give them whole).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use tensorscope::checkpoint::summary::{Remote, Summary, schemes};
use tensorscope::checkpoint::{self, Checkpoint, OpenOptions, layout};
use tensorscope::model::count::{Counting, Role};
use tensorscope::remote::Env;
use tensorscope::text::{bytes, count, escape, plural};
use tensorscope::tree::natural_cmp;

use super::style::{self, paint};

pub const EXAMPLES: &str = "\
Examples:
  tensorscope inspect model.safetensors
  tensorscope inspect ./llama-7b --tree --depth 2
  tensorscope inspect ~/.cache/huggingface/hub/models--gpt2
  tensorscope inspect model-Q4_K_M.gguf
  tensorscope inspect sd-pipeline --variant fp16 --json | jq .total_params";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// File or folder: .safetensors, torch.save file, GGUF, sharded, diffusers or Hugging Face cache folder.
    pub path: PathBuf,
    /// Print JSON (the schema in README.md).
    #[arg(long)]
    pub json: bool,
    /// Diffusers weight variant, e.g. `fp16` for `*.fp16.safetensors`.
    #[arg(long)]
    pub variant: Option<String>,
    /// Print the module tree (names split on `.`, the files of a folder named whole) with parameters and bytes per subtree.
    #[arg(long, conflicts_with = "json")]
    pub tree: bool,
    /// With --tree: show modules down to this depth (1 = top level only).
    #[arg(long, value_name = "N", requires = "tree", value_parser = clap::value_parser!(u16).range(1..))]
    pub depth: Option<u16>,
}

impl Args {
    pub fn for_path(path: PathBuf) -> Self {
        Args {
            path,
            json: false,
            variant: None,
            tree: false,
            depth: None,
        }
    }
}

pub fn run(args: Args, env: &Env) -> anyhow::Result<u8> {
    let ck = checkpoint::open_with(
        &args.path,
        &OpenOptions {
            variant: args.variant.clone(),
            remote: Some(env.clone()),
        },
    )?;
    let remote = Remote::of(&ck, env);
    // buffered: stdout alone is line-buffered, a write(2) per line of a 200,000-tensor listing
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if args.json {
        out.write_all(Summary::new(&ck, remote).to_json()?.as_bytes())?;
        out.flush()?;
    } else {
        drop(out);
        let mut out = std::io::BufWriter::with_capacity(1 << 16, super::style::stdout());
        if args.tree {
            write_title(&mut out, &ck)?;
            super::inspect_extra::write_tree(&mut out, &ck, args.depth)?;
        } else {
            write_human(&mut out, &ck, remote.as_ref())?;
        }
        out.flush()?;
    }
    for w in &ck.warnings {
        eprintln!("warning: {}", escape(w));
    }
    super::inspect_extra::print_diagnostics(&ck)?;
    Ok(0)
}

/// Where a remote checkpoint came from, in the text listing.
fn write_remote(r: &Remote, out: &mut impl Write) -> std::io::Result<()> {
    let rev = match (&r.revision, &r.commit) {
        (Some(rev), Some(c)) => format!(" (revision {}, commit {})", escape(rev), escape(c)),
        (None, Some(etag)) => format!(" (ETag {})", escape(etag)),
        _ => String::new(),
    };
    writeln!(
        out,
        "
remote      {}{rev}",
        escape(&r.url)
    )?;
    writeln!(
        out,
        "download    {} for this checkpoint; {} for all {} files",
        bytes(r.download_bytes),
        bytes(r.repository_bytes),
        r.files.len()
    )?;
    writeln!(
        out,
        "fetched     {} in {} requests (headers and pickles only)",
        bytes(r.fetched_bytes),
        r.requests
    )?;
    let w = r
        .files
        .iter()
        .map(|f| escape(&f.path).chars().count())
        .max()
        .map_or(0, tensorscope::text::column);
    for f in &r.files {
        writeln!(out, "  {:<w$}  {:>10}", escape(&f.path), bytes(f.bytes))?;
    }
    Ok(())
}

fn shape(s: &[u64]) -> String {
    format!("[{}]", s.iter().map(u64::to_string).collect::<Vec<_>>().join(", "))
}

/// `PATH  (format, N files)` and, for a Hugging Face cache path, the repository and revision.
fn write_title(out: &mut impl Write, ck: &Checkpoint) -> std::io::Result<()> {
    let path = escape(&ck.path.to_string_lossy()).into_owned();
    writeln!(
        out,
        "{}  ({}, {})",
        paint(style::HEADER, path),
        ck.format,
        plural(ck.files.len() as u64, "file")
    )?;
    if let Some(h) = layout::hub_snapshot(&ck.path) {
        let via = h.reference.map(|r| format!(" ({})", escape(&r))).unwrap_or_default();
        writeln!(
            out,
            "hugging face cache: {}, revision {}{via}",
            escape(&h.repo),
            escape(&h.revision)
        )?;
    }
    Ok(())
}

fn write_human(out: &mut impl Write, ck: &Checkpoint, remote: Option<&Remote>) -> std::io::Result<()> {
    write_title(out, ck)?;
    // natural order, as the tree shows them: h.2 before h.10
    let counting = ck.counting();
    let mut order: Vec<(&tensorscope::checkpoint::TensorInfo, &Role)> =
        ck.tensors.iter().zip(&counting.roles).collect();
    order.sort_by(|a, b| natural_cmp(&a.0.name, &b.0.name));
    let mut notes: Vec<String> = Vec::with_capacity(order.len());
    let rows: Vec<[String; 4]> = order
        .into_iter()
        .map(|(t, role)| {
            notes.push(match role {
                _ if ck.part_of(&t.name).is_some() => {
                    format!(
                        "part of the {}, not a tensor of the model",
                        ck.part_of(&t.name).unwrap_or_default()
                    )
                }
                Role::Tied(j) => format!("tied to {}", escape(&ck.tensors[*j].name)),
                Role::Packed { params, .. } => format!("{} params unpacked", count(*params)),
                Role::Quantization => "quantization, not a parameter".into(),
                Role::Buffer => "buffer, not a parameter".into(),
                Role::Param => String::new(),
            });
            let size = match t.nbytes() {
                Some(n) => bytes(n),
                None if t.dtype.is_ggml_block() => "unknown".into(),
                None => "overflow".into(),
            };
            let dtype = match t.dtype.bits_per_weight() {
                Some(bpw) if t.dtype.is_ggml_block() => format!("{} ({bpw:.2} bpw)", t.dtype),
                _ => t.dtype.to_string(),
            };
            [escape(&t.name).into_owned(), dtype, shape(&t.shape), size]
        })
        .collect();
    let header = ["NAME", "DTYPE", "SHAPE", "SIZE"];
    let mut w = header.map(str::len);
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let w = w.map(tensorscope::text::column);
    let line = |out: &mut dyn Write, c: [&str; 4]| {
        writeln!(
            out,
            "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}",
            c[0],
            c[1],
            c[2],
            c[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        )
    };
    let mut head = Vec::new();
    line(&mut head, header)?;
    write!(
        out,
        "{}",
        paint(style::HEADER, String::from_utf8_lossy(&head).trim_end())
    )?;
    writeln!(out)?;
    let mut buf = Vec::new();
    for (r, note) in rows.iter().zip(&notes) {
        buf.clear();
        line(&mut buf, [&r[0], &r[1], &r[2], &r[3]])?;
        let text = String::from_utf8_lossy(&buf);
        write!(out, "{}", dim_unit(text.trim_end_matches('\n')))?;
        if note.is_empty() {
            writeln!(out)?;
        } else {
            writeln!(out, "  {}", paint(style::DIM, note))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "tensors     {}", count(ck.tensors.len() as u64))?;
    write_counts(out, ck, &counting)?;
    let mut by_dtype: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
    for t in &ck.tensors {
        let e = by_dtype.entry(t.dtype.name()).or_default();
        e.0 += 1;
        e.1 = e.1.saturating_add(t.nbytes().unwrap_or(0));
    }
    for (d, (n, b)) in &by_dtype {
        let n = plural(*n as u64, "tensor");
        writeln!(out, "  {d:<12} {n:>15}  {:>10}", bytes(*b))?;
    }
    for d in &counting.disagreements {
        writeln!(out, "{} {d}", paint(style::SUSPICIOUS, "note:"))?;
    }
    if !ck.components.is_empty() {
        writeln!(out, "\ncomponents")?;
        for c in &ck.components {
            let what = if c.tensors == 0 {
                "no weights".to_string()
            } else {
                plural(c.tensors as u64, "tensor")
            };
            writeln!(out, "  {:<16} {:<40} {what}", escape(&c.name), escape(&c.class))?;
        }
    }
    if !ck.metadata.is_empty() {
        writeln!(out, "\nmetadata")?;
        for (k, v) in &ck.metadata {
            writeln!(out, "  {}: {}", escape(k), escape(&shorten(v)))?;
        }
    }
    if let Some(r) = remote {
        write_remote(r, out)?;
    }
    Ok(())
}

/// Parameters as the model defines them, with how they were counted, and the bytes.
fn write_counts(out: &mut impl Write, ck: &Checkpoint, c: &Counting) -> std::io::Result<()> {
    let tied = c.tied();
    let how = match tied {
        0 => String::new(),
        n => format!(" ({} tied to another, counted once)", plural(n as u64, "tensor")),
    };
    writeln!(out, "parameters  {}{how}", count(c.params))?;
    for s in schemes(ck, c) {
        writeln!(out, "  {}: {}", s.scheme, s.formula)?;
    }
    let q = c.quantization_tensors();
    if q > 0 {
        writeln!(
            out,
            "  not counted: {} of scales, zeros, g_idx, absmax or quant state",
            plural(q as u64, "tensor")
        )?;
    }
    let b = c.buffers();
    if b > 0 {
        writeln!(
            out,
            "  not counted: {} (running statistics, position ids, masks), as num_parameters() counts",
            plural(b as u64, "buffer")
        )?;
    }
    if c.stored_elements != c.params {
        writeln!(out, "stored      {} elements", count(c.stored_elements))?;
    }
    writeln!(out, "bytes       {} ({})", count(c.unique_bytes), bytes(c.unique_bytes))?;
    if ck.total_bytes() != c.unique_bytes {
        writeln!(
            out,
            "  {} as listed ({}); on disk each storage once",
            count(ck.total_bytes()),
            bytes(ck.total_bytes())
        )?;
    }
    Ok(())
}

/// Most characters of a metadata value in the text listing (`--json` and `show PATH KEY` give it whole).
const VALUE_CHARS: usize = 300;

/// A long value (a chat template, an embedded tokenizer) cut to [`VALUE_CHARS`] with a pointer to the rest.
fn shorten(v: &str) -> std::borrow::Cow<'_, str> {
    match v.char_indices().nth(VALUE_CHARS) {
        None => v.into(),
        Some((cut, _)) => format!(
            "{}… ({} chars; `tensorscope show PATH KEY` prints it whole)",
            &v[..cut],
            v.chars().count()
        )
        .into(),
    }
}

/// A line ending in a size (`49.2 kB`) with its unit dimmed; stripped again where colour is off.
fn dim_unit(line: &str) -> std::borrow::Cow<'_, str> {
    match line.rsplit_once(' ') {
        Some((head, unit)) if ["B", "kB", "MB", "GB", "TB"].contains(&unit) => {
            format!("{head} {}", paint(style::DIM, unit)).into()
        }
        _ => line.into(),
    }
}
