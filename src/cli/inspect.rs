//! `tensorscope inspect PATH [--json]`: tensors and metadata, without reading tensor data.
//!
//! GGUF files list each tensor's GGML type with its bits per weight (`Q4_K (4.50 bpw)`) and every
//! metadata pair (arrays summarised, `general.*` and the architecture's hyperparameters first); values
//! over [`VALUE_CHARS`] characters are cut here (`--json` and `show PATH KEY` give them whole).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;
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
    let remote = RemoteJson::of(&ck, env);
    // buffered: stdout alone is line-buffered, a write(2) per line of a 200,000-tensor listing
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &Report::new(&ck, remote))?;
        writeln!(out)?;
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

/// The `inspect --json` document (DESIGN.md).
#[derive(Serialize)]
pub struct Report<'a> {
    path: String,
    format: &'static str,
    files: Vec<FileJson>,
    metadata: BTreeMap<&'a str, &'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    components: Vec<&'a checkpoint::Component>,
    tensors: Vec<TensorJson<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    /// Parameters as the model defines them (DESIGN.md, "Counting").
    total_params: u64,
    /// Bytes of the tensors as listed (a tied tensor again).
    total_bytes: u64,
    /// Elements as stored, each storage view once.
    stored_elements: u64,
    /// Bytes on disk, each storage once.
    unique_bytes: u64,
    /// How packed weights were counted, one entry per scheme.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    quantization: Vec<SchemeJson>,
    /// Where the count disagrees with an index's declared totals.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    count_disagreements: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote: Option<RemoteJson>,
    /// A Hugging Face cache path: the repository and the revision it resolved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    hub: Option<HubJson>,
}

#[derive(Serialize)]
struct HubJson {
    repo: String,
    revision: String,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

/// Where a remote checkpoint came from and what it costs to download.
#[derive(Serialize)]
struct RemoteJson {
    url: String,
    revision: Option<String>,
    commit: Option<String>,
    /// Bytes of the files this checkpoint is made of.
    download_bytes: u64,
    /// Bytes of every file of the repository.
    repository_bytes: u64,
    /// Every file of the repository with its size.
    files: Vec<FileSize>,
    /// Bytes and requests this run fetched (0 when everything came from the cache).
    fetched_bytes: u64,
    requests: u64,
}

#[derive(Serialize)]
struct FileSize {
    path: String,
    bytes: u64,
}

impl RemoteJson {
    fn of(ck: &Checkpoint, env: &Env) -> Option<RemoteJson> {
        let m = env.mirror_of(ck)?;
        let (requests, fetched_bytes) = env.traffic();
        Some(RemoteJson {
            url: m.label.clone(),
            revision: m.revision.clone(),
            commit: m.commit.clone(),
            download_bytes: ck.files.iter().map(|f| f.bytes).fold(0, u64::saturating_add),
            repository_bytes: m.total_bytes(),
            files: m
                .files
                .iter()
                .map(|f| FileSize {
                    path: f.rel.clone(),
                    bytes: f.size,
                })
                .collect(),
            fetched_bytes,
            requests,
        })
    }

    fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let rev = match (&self.revision, &self.commit) {
            (Some(r), Some(c)) => format!(" (revision {}, commit {})", escape(r), escape(c)),
            (None, Some(etag)) => format!(" (ETag {})", escape(etag)),
            _ => String::new(),
        };
        writeln!(
            out,
            "
remote      {}{rev}",
            escape(&self.url)
        )?;
        writeln!(
            out,
            "download    {} for this checkpoint; {} for all {} files",
            bytes(self.download_bytes),
            bytes(self.repository_bytes),
            self.files.len()
        )?;
        writeln!(
            out,
            "fetched     {} in {} requests (headers and pickles only)",
            bytes(self.fetched_bytes),
            self.requests
        )?;
        let w = self
            .files
            .iter()
            .map(|f| escape(&f.path).chars().count())
            .max()
            .unwrap_or(0);
        for f in &self.files {
            writeln!(out, "  {:<w$}  {:>10}", escape(&f.path), bytes(f.bytes))?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct FileJson {
    path: String,
    format: &'static str,
    bytes: u64,
}

#[derive(Serialize)]
struct TensorJson<'a> {
    name: &'a str,
    dtype: &'a str,
    shape: &'a [u64],
    bytes: u64,
    /// GGML block types only: storage bits per weight (`Q4_K`: 4.5).
    #[serde(skip_serializing_if = "Option::is_none")]
    bits_per_weight: Option<f64>,
    file: String,
    /// The tensor whose storage and view this one shares (counted once, there).
    #[serde(skip_serializing_if = "Option::is_none")]
    tied_to: Option<&'a str>,
    /// Parameters it counts for, where that is not its element count: packed weights unpacked,
    /// 0 for scales, zeros and other quantization tensors.
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<u64>,
    /// The packing scheme of a packed weight, or `quantization` for a tensor that serves one.
    #[serde(skip_serializing_if = "Option::is_none")]
    quantization: Option<String>,
}

/// One packing scheme: how many tensors, what they store, what they count for.
#[derive(Serialize)]
struct SchemeJson {
    scheme: String,
    tensors: usize,
    stored_elements: u64,
    params: u64,
    /// How it counted (`qweight 64×256 I32 × 8 = 131,072 params`).
    formula: String,
}

/// The packing schemes of a count, in order of first appearance, with their formulas.
fn schemes(ck: &Checkpoint, c: &Counting) -> Vec<SchemeJson> {
    let mut out: Vec<SchemeJson> = Vec::new();
    let mut per_of: Vec<u64> = Vec::new();
    let mut first: Vec<usize> = Vec::new();
    for (i, r) in c.roles.iter().enumerate() {
        let Role::Packed { params, per, scheme } = r else {
            continue;
        };
        let numel = ck.tensors[i].numel().unwrap_or(0);
        match out.iter().position(|s| &s.scheme == scheme) {
            Some(k) => {
                out[k].tensors += 1;
                out[k].stored_elements = out[k].stored_elements.saturating_add(numel);
                out[k].params = out[k].params.saturating_add(*params);
            }
            None => {
                out.push(SchemeJson {
                    scheme: scheme.clone(),
                    tensors: 1,
                    stored_elements: numel,
                    params: *params,
                    formula: String::new(),
                });
                per_of.push(*per);
                first.push(i);
            }
        }
    }
    for (k, s) in out.iter_mut().enumerate() {
        let t = &ck.tensors[first[k]];
        let last = t.name.rsplit(['.', '/']).next().unwrap_or(&t.name);
        s.formula = if s.tensors == 1 {
            let dims: Vec<String> = t.shape.iter().map(u64::to_string).collect();
            format!(
                "{} {} {} × {} = {} params",
                escape(last),
                dims.join("×"),
                t.dtype,
                per_of[k],
                count(s.params)
            )
        } else {
            format!(
                "{} {} tensors ({} {} elements) × {} = {} params",
                s.tensors,
                escape(last),
                count(s.stored_elements),
                t.dtype,
                per_of[k],
                count(s.params)
            )
        };
    }
    out
}

impl<'a> Report<'a> {
    /// The document for `ck`; `remote` says where a remote checkpoint came from.
    fn new(ck: &'a Checkpoint, remote: Option<RemoteJson>) -> Self {
        let counting = ck.counting();
        let file_name = |i: usize| {
            ck.files
                .get(i)
                .map(|f| f.path.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        Report {
            path: ck.path.to_string_lossy().into_owned(),
            format: ck.format.as_str(),
            files: ck
                .files
                .iter()
                .map(|f| FileJson {
                    path: f.path.to_string_lossy().into_owned(),
                    format: f.format.as_str(),
                    bytes: f.bytes,
                })
                .collect(),
            metadata: ck.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(),
            components: ck.components.iter().collect(),
            tensors: ck
                .tensors
                .iter()
                .zip(&counting.roles)
                .map(|(t, role)| TensorJson {
                    name: &t.name,
                    dtype: t.dtype.name(),
                    shape: &t.shape,
                    bytes: t.nbytes().unwrap_or(0),
                    bits_per_weight: t.dtype.is_ggml_block().then(|| t.dtype.bits_per_weight()).flatten(),
                    file: file_name(t.file),
                    tied_to: match role {
                        Role::Tied(j) => ck.tensors.get(*j).map(|x| x.name.as_str()),
                        _ => None,
                    },
                    params: match role {
                        Role::Packed { params, .. } => Some(*params),
                        Role::Quantization => Some(0),
                        _ => None,
                    },
                    quantization: match role {
                        Role::Packed { scheme, .. } => Some(scheme.clone()),
                        Role::Quantization => Some("quantization".into()),
                        _ => None,
                    },
                })
                .collect(),
            warnings: &ck.warnings,
            total_params: counting.params,
            total_bytes: ck.total_bytes(),
            stored_elements: counting.stored_elements,
            unique_bytes: counting.unique_bytes,
            quantization: schemes(ck, &counting),
            count_disagreements: counting.disagreements.clone(),
            remote,
            hub: layout::hub_snapshot(&ck.path).map(|h| HubJson {
                repo: h.repo,
                revision: h.revision,
                reference: h.reference,
            }),
        }
    }
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

fn write_human(out: &mut impl Write, ck: &Checkpoint, remote: Option<&RemoteJson>) -> std::io::Result<()> {
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
                Role::Tied(j) => format!("tied to {}", escape(&ck.tensors[*j].name)),
                Role::Packed { params, .. } => format!("{} params unpacked", count(*params)),
                Role::Quantization => "quantization, not a parameter".into(),
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
        r.write(out)?;
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
