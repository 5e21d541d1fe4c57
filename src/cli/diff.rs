//! `tensorscope diff A B [--json]`: compare two checkpoints of any formats tensor by tensor.
//! Exit 0 when identical, 3 when every value is equal within the narrower dtype's rounding, 1 when
//! different, 2 on error.

use std::io::Write;
use std::path::PathBuf;

use tensorscope::checkpoint;
use tensorscope::diff::{self, Brief, DiffReport, TensorDiff, ToleranceGroup, Verdict};
use tensorscope::text::{count, escape, plural};

pub const EXAMPLES: &str = "\
Examples:
  tensorscope diff model.bin model.safetensors     exit 0 when identical, 1 when different
  tensorscope diff model.safetensors model.fp16.safetensors
                                                   is the fp16 export faithful? exit 3 if so
  tensorscope diff base.safetensors finetuned.safetensors --json

Exit codes:
  0  identical: the same tensors, dtypes and values
  3  equal within rounding: the same tensors and shapes, and every value of B within the
     rounding of the narrower dtype of its pair (|a - b| <= atol + rtol * |a|, with
     torch.testing.assert_close's defaults: F16 1e-3/1e-5, BF16 1.6e-2/1e-5, F32 1.3e-6/1e-5)
  1  different: a tensor only on one side, another shape, or a value beyond that tolerance
  2  error: bad input, unreadable file, usage";

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
    let code = exit_code(report.verdict);
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

/// The exit code of a verdict (documented in [`EXAMPLES`] and the README).
fn exit_code(v: Verdict) -> u8 {
    match v {
        Verdict::Identical => 0,
        Verdict::WithinTolerance => WITHIN_TOLERANCE,
        Verdict::Different => super::FINDING,
    }
}

/// Exit code of `diff` when every value is equal within the narrower dtype's rounding.
pub const WITHIN_TOLERANCE: u8 = 3;

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
    let reshaped: Vec<_> = r.changed.iter().filter(|c| c.a.shape != c.b.shape).collect();
    if !reshaped.is_empty() {
        writeln!(out, "shape changed ({}):", count(reshaped.len() as u64))?;
        let rows: Vec<Vec<String>> = reshaped
            .iter()
            .map(|c| vec![escape(&c.name).into_owned(), brief(&c.a), "->".into(), brief(&c.b)])
            .collect();
        table(out, &rows, &[])?;
    }
    if !r.parts_differ.is_empty() {
        writeln!(
            out,
            "part of a tensor not rebuilt on one side ({}):",
            count(r.parts_differ.len() as u64)
        )?;
        let side = |p: &Option<String>| match p {
            Some(w) => format!("part of the {}", escape(w)),
            None => "a tensor of its own".into(),
        };
        let rows: Vec<Vec<String>> = r
            .parts_differ
            .iter()
            .map(|(n, a, b)| {
                vec![
                    escape(n).into_owned(),
                    format!("A: {}", side(a)),
                    format!("B: {}", side(b)),
                ]
            })
            .collect();
        table(out, &rows, &[])?;
    }
    // one row per tensor whose dtype or values differ
    let shown: Vec<&TensorDiff> = r.tensors.iter().filter(|t| !t.equal || t.b_dtype.is_some()).collect();
    if !shown.is_empty() {
        writeln!(out, "dtype or values differ ({}):", count(shown.len() as u64))?;
        let mut rows = vec![
            ["tensor", "dtype", "shape", "max |a-b|", "max rel", "cosine", ""]
                .map(String::from)
                .to_vec(),
        ];
        rows.extend(shown.iter().map(|t| row(t)));
        table(out, &rows, &[false, false, false, true, true, true, false])?;
    }
    let aliased = r
        .tensors
        .iter()
        .filter(|t| t.a_name.is_some() || t.b_name.is_some())
        .count();
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
        "{} compared: {} equal, {} different in value",
        plural(r.compared as u64, "common tensor"),
        count(r.equal as u64),
        count(r.different as u64)
    )?;
    if r.verdict != Verdict::Identical {
        for g in &r.tolerances {
            writeln!(out, "{}", group_line(g))?;
        }
    }
    writeln!(out, "{}", r.verdict_line())
}

/// One tensor's row: name, dtype (`F32 -> F16`), shape, differences, cosine and its verdict.
fn row(t: &TensorDiff) -> Vec<String> {
    let dtype = match t.b_dtype {
        Some(b) => format!("{} -> {b}", t.dtype),
        None => t.dtype.to_string(),
    };
    vec![
        escape(&t.name).into_owned(),
        dtype,
        format!("{:?}", t.shape),
        t.max_abs_diff.map_or_else(|| "n/a".into(), short),
        t.max_rel_diff.map_or_else(|| "n/a".into(), short),
        t.cosine_label(),
        t.verdict_label(),
    ]
}

/// A difference in two significant digits (`4.8e-4`), 0 as `0`, `inf` and `NaN` as such.
fn short(x: f64) -> String {
    if x == 0.0 { "0".into() } else { format!("{x:.1e}") }
}

/// `within F16 rounding (rtol 1e-3, atol 1e-5): 70/70, max rel 4.8e-4`.
fn group_line(g: &ToleranceGroup) -> String {
    let t = &g.tolerance;
    if t.rtol == 0.0 && t.atol == 0.0 {
        return format!(
            "{} values equal: {}/{}",
            t.dtype,
            count(g.within as u64),
            count(g.tensors as u64)
        );
    }
    format!(
        "within {} rounding (rtol {:e}, atol {:e}): {}/{}, max rel {}",
        t.dtype,
        t.rtol,
        t.atol,
        count(g.within as u64),
        count(g.tensors as u64),
        g.max_rel_diff.map_or_else(|| "n/a".into(), short)
    )
}
