//! `tensorscope diff A B [--json]`: compare two checkpoints of any formats tensor by tensor.
//! Exit 0 when identical, 1 when different, 2 on error.

use std::io::Write;
use std::path::PathBuf;

use tensorscope::checkpoint;
use tensorscope::diff::{self, Brief, DiffReport};
use tensorscope::text::{count, escape, plural};

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

pub fn run(args: Args, env: &tensorscope::remote::Env) -> anyhow::Result<u8> {
    let opts = checkpoint::OpenOptions {
        remote: Some(env.clone()),
        ..Default::default()
    };
    let a = checkpoint::open_with(&args.a, &opts)?;
    let b = checkpoint::open_with(&args.b, &opts)?;
    let report = diff::diff(&a, &b)?;
    // buffered: stdout alone is line-buffered, a write(2) per line
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let code = if report.identical { 0 } else { super::FINDING };
    let written = if args.json {
        serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        human(
            &mut out,
            &report,
            (a.format.as_str(), a.tensors.len()),
            (b.format.as_str(), b.tensors.len()),
        )
    };
    // a closed stdout (`| head -1`) does not turn a difference into success
    super::quiet_pipe(written.and_then(|()| out.flush()), code)
}

fn brief(t: &Brief) -> String {
    format!("{} {:?}", t.dtype, t.shape)
}

/// Rows as aligned columns, two spaces apart, after a two-space indent; `right` marks the columns
/// aligned to the right (numbers).
fn table(out: &mut impl Write, rows: &[Vec<String>], right: &[bool]) -> std::io::Result<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut w = vec![0; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    for r in rows {
        let mut line = String::from(" ");
        for (i, c) in r.iter().enumerate() {
            let pad = w[i] - c.chars().count();
            line.push(' ');
            if right.get(i).copied().unwrap_or(false) {
                line.push_str(&" ".repeat(pad));
                line.push_str(c);
            } else {
                line.push_str(c);
                if i + 1 < r.len() {
                    line.push_str(&" ".repeat(pad));
                }
            }
            line.push(' ');
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn human(out: &mut impl Write, r: &DiffReport, a: (&str, usize), b: (&str, usize)) -> std::io::Result<()> {
    writeln!(out, "A: {} ({}, {})", escape(&r.a), a.0, plural(a.1 as u64, "tensor"))?;
    writeln!(out, "B: {} ({}, {})", escape(&r.b), b.0, plural(b.1 as u64, "tensor"))?;
    if r.files_identical {
        writeln!(out, "the files are identical byte for byte")?;
    }
    for (title, list) in [("only in A", &r.only_in_a), ("only in B", &r.only_in_b)] {
        if !list.is_empty() {
            writeln!(out, "{title} ({}):", count(list.len() as u64))?;
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|t| vec![escape(&t.name).into_owned(), brief(t)])
                .collect();
            table(out, &rows, &[])?;
        }
    }
    if !r.changed.is_empty() {
        writeln!(out, "dtype or shape changed ({}):", count(r.changed.len() as u64))?;
        let rows: Vec<Vec<String>> = r
            .changed
            .iter()
            .map(|c| vec![escape(&c.name).into_owned(), brief(&c.a), "->".into(), brief(&c.b)])
            .collect();
        table(out, &rows, &[])?;
    }
    let different: Vec<_> = r.tensors.iter().filter(|t| !t.equal).collect();
    if !different.is_empty() {
        writeln!(out, "values differ ({}):", count(different.len() as u64))?;
        let mut rows = vec![
            ["tensor", "dtype", "shape", "max |a-b|", "mean |a-b|", "cosine", ""]
                .map(String::from)
                .to_vec(),
        ];
        for t in different {
            let cos = t.cosine_similarity.map_or("n/a".to_string(), |c| format!("{c:.6}"));
            let bad = match t.nonfinite_mismatches {
                0 => String::new(),
                n => format!("{} NaN/inf mismatches", count(n)),
            };
            rows.push(vec![
                escape(&t.name).into_owned(),
                t.dtype.to_string(),
                format!("{:?}", t.shape),
                format!("{:.6e}", t.max_abs_diff),
                format!("{:.6e}", t.mean_abs_diff),
                cos,
                bad,
            ]);
        }
        table(out, &rows, &[false, false, false, true, true, true, false])?;
    }
    let aliased = r.tensors.iter().filter(|t| t.b_name.is_some()).count();
    if aliased > 0 {
        writeln!(
            out,
            "{} matched through aliases recorded in the metadata",
            plural(aliased as u64, "name")
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
        "{} compared: {} equal, {} different",
        plural(r.compared as u64, "common tensor"),
        count(r.equal as u64),
        count(r.different as u64)
    )?;
    writeln!(out, "{}", if r.identical { "identical" } else { "different" })
}
