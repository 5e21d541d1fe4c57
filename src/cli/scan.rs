//! `tensorscope scan PATH... [--json]`: a safety verdict per file and per pickle inside it.
//!
//! Exit code: 0 when every file is safe, 1 when any file is suspicious or dangerous, 2 when a file
//! is an error (an invalid `.safetensors` header) and none is suspicious or dangerous, or when a
//! path cannot be read at all.

use std::io::Write;
use std::path::PathBuf;

use tensorscope::scan::{self, FileScan, ScanReport, Verdict};
use tensorscope::text::escape;

use super::style::{self, paint};

pub const EXAMPLES: &str = "\
Examples:
  tensorscope scan model.bin
  tensorscope scan ./downloads                 every file below, exit 1 if any is not safe
  tensorscope scan model.bin --json | jq '.files[].verdict'";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or folders (folders are scanned recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let report = scan::scan_paths(&args.paths)?;
    if args.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
        out.flush()?;
    } else {
        let mut out = super::style::stdout();
        human(&mut out, &report)?;
        out.flush()?;
    }
    Ok(exit_code(&report))
}

fn exit_code(report: &ScanReport) -> u8 {
    let worst = |v: Verdict| report.files.iter().any(|f| f.verdict == v);
    if worst(Verdict::Dangerous) || worst(Verdict::Suspicious) {
        super::FINDING
    } else if worst(Verdict::Error) {
        2
    } else {
        0
    }
}

fn human(out: &mut impl Write, report: &ScanReport) -> std::io::Result<()> {
    for f in &report.files {
        file(out, f)?;
    }
    let count = |v: Verdict| report.files.iter().filter(|f| f.verdict == v).count();
    let part = |v: Verdict| {
        let n = count(v);
        let text = format!("{n} {}", v.as_str());
        if n == 0 { text } else { paint(style::verdict(v), text) }
    };
    writeln!(
        out,
        "{} file{}: {}, {}, {}, {}",
        report.files.len(),
        if report.files.len() == 1 { "" } else { "s" },
        part(Verdict::Safe),
        part(Verdict::Suspicious),
        part(Verdict::Dangerous),
        part(Verdict::Error),
    )
}

fn file(out: &mut impl Write, f: &FileScan) -> std::io::Result<()> {
    let pickles = f.pickles.len();
    let globals: usize = f.pickles.iter().map(|p| p.globals).sum();
    let verdict = match f.verdict {
        Verdict::Safe => "SAFE",
        Verdict::Suspicious => "SUSPICIOUS",
        Verdict::Dangerous => "DANGEROUS",
        Verdict::Error => "ERROR",
    };
    let verdict = paint(style::verdict(f.verdict), verdict);
    write!(out, "{}  [{}]  {verdict}", escape(&f.path), f.format)?;
    if f.format != "safetensors" {
        write!(
            out,
            "  ({pickles} pickle{}, {globals} global{})",
            plural(pickles),
            plural(globals)
        )?;
    }
    writeln!(out)?;
    if let Some(e) = &f.error {
        writeln!(out, "  {}", escape(e))?;
    }
    if f.findings.is_empty() {
        return Ok(());
    }
    let rows: Vec<[String; 5]> = f
        .findings
        .iter()
        .map(|x| {
            [
                if x.entry.is_empty() {
                    "-".to_owned()
                } else {
                    escape(&x.entry).into_owned()
                },
                x.global
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), |g| escape(g).into_owned()),
                x.severity.as_str().to_owned(),
                x.offset.map_or_else(|| "-".to_owned(), |o| o.to_string()),
                escape(&x.why).into_owned(),
            ]
        })
        .collect();
    let head = ["entry", "global", "severity", "offset", "why"];
    let mut width = head.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: [&str; 5]| {
        writeln!(
            out,
            "  {:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3]
        )
    };
    let header = |out: &mut dyn Write| -> std::io::Result<()> {
        let mut buf = Vec::new();
        line(&mut buf, head)?;
        let text = String::from_utf8_lossy(&buf);
        writeln!(out, "{}", paint(style::HEADER, text.trim_end_matches('\n')))
    };
    header(out)?;
    for r in &rows {
        line(out, [&r[0], &r[1], &r[2], &r[3], &r[4]])?;
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
