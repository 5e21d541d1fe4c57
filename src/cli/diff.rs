//! `tensorscope diff A B [--json]`: compare two checkpoints of any formats tensor by tensor.
//! Exit 0 when identical, 1 when different, 2 on error.

use std::io::Write;
use std::path::PathBuf;

use tensorscope::checkpoint;
use tensorscope::diff::{self, Brief, DiffReport};
use tensorscope::text::escape;

pub const EXAMPLES: &str = "\
Examples:
  tensorscope diff model.bin model.safetensors     exit 0 when identical, 1 when different
  tensorscope diff base.safetensors finetuned.safetensors --json";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// First checkpoint (file or folder, any format).
    pub a: PathBuf,
    /// Second checkpoint.
    pub b: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub fn for_paths(a: PathBuf, b: PathBuf) -> Self {
        Args { a, b, json: false }
    }
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let a = checkpoint::open(&args.a)?;
    let b = checkpoint::open(&args.b)?;
    let report = diff::diff(&a, &b)?;
    // buffered: stdout alone is line-buffered, a write(2) per line
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        human(
            &mut out,
            &report,
            (a.format.as_str(), a.tensors.len()),
            (b.format.as_str(), b.tensors.len()),
        )?;
    }
    out.flush()?;
    Ok(if report.identical { 0 } else { super::FINDING })
}

fn brief(t: &Brief) -> String {
    format!("{} {:?}", t.dtype, t.shape)
}

fn human(out: &mut impl Write, r: &DiffReport, a: (&str, usize), b: (&str, usize)) -> std::io::Result<()> {
    writeln!(out, "A: {} ({}, {} tensors)", escape(&r.a), a.0, a.1)?;
    writeln!(out, "B: {} ({}, {} tensors)", escape(&r.b), b.0, b.1)?;
    if r.files_identical {
        writeln!(out, "the files are identical byte for byte")?;
    }
    for (title, list) in [("only in A", &r.only_in_a), ("only in B", &r.only_in_b)] {
        if !list.is_empty() {
            writeln!(out, "{title} ({}):", list.len())?;
            for t in list {
                writeln!(out, "  {}  {}", escape(&t.name), brief(t))?;
            }
        }
    }
    if !r.changed.is_empty() {
        writeln!(out, "dtype or shape changed ({}):", r.changed.len())?;
        for c in &r.changed {
            writeln!(out, "  {}  {} -> {}", escape(&c.name), brief(&c.a), brief(&c.b))?;
        }
    }
    let different: Vec<_> = r.tensors.iter().filter(|t| !t.equal).collect();
    if !different.is_empty() {
        writeln!(out, "values differ ({}):", different.len())?;
        for t in different {
            let cos = t.cosine_similarity.map_or("n/a".to_string(), |c| format!("{c:.6}"));
            let mut line = format!(
                "  {}  {} {:?}  max |a-b| {:.6e}  mean |a-b| {:.6e}  cosine {cos}",
                escape(&t.name),
                t.dtype,
                t.shape,
                t.max_abs_diff,
                t.mean_abs_diff
            );
            if t.nonfinite_mismatches > 0 {
                line += &format!("  {} NaN/inf mismatches", t.nonfinite_mismatches);
            }
            writeln!(out, "{line}")?;
        }
    }
    let aliased = r.tensors.iter().filter(|t| t.b_name.is_some()).count();
    if aliased > 0 {
        writeln!(
            out,
            "{aliased} name(s) matched through aliases recorded in the metadata"
        )?;
    }
    let m = &r.metadata;
    for (k, v) in &m.only_in_a {
        writeln!(out, "metadata only in A: {} = {}", escape(k), escape(v))?;
    }
    for (k, v) in &m.only_in_b {
        writeln!(out, "metadata only in B: {} = {}", escape(k), escape(v))?;
    }
    for (k, (x, y)) in &m.changed {
        writeln!(out, "metadata changed: {} = {} -> {}", escape(k), escape(x), escape(y))?;
    }
    writeln!(
        out,
        "{} common tensors compared: {} equal, {} different",
        r.compared, r.equal, r.different
    )?;
    writeln!(out, "{}", if r.identical { "identical" } else { "different" })
}
