//! `tensorscope scan PATH... [--json | --format sarif] [--verbose] [--allow M.N] [--fail-on LEVEL]`:
//! a safety verdict per file and per pickle inside it.
//!
//! Exit code: 0 when no file reaches the `--fail-on` level (default `suspicious`), 1 when one does
//! or when a file's verification fails (`--format cyclonedx|spdx`), 2 when a file is an error (an
//! invalid `.safetensors` header) and none reaches the level, or when a path, the allow file or the
//! key cannot be read at all.

use std::io::Write;
use std::path::PathBuf;

use tensorscope::bom::verification::{self, State};
use tensorscope::scan::{self, FileScan, ScanOptions, ScanReport, Verdict};
use tensorscope::text::escape;
use tensorscope::verify::keys::PublicKey;

use super::style::{self, paint};

pub const EXAMPLES: &str = "\
Examples:
  tensorscope scan model.bin
  tensorscope scan ./downloads                 every file below, exit 1 if any is not safe
  tensorscope scan model.bin --json | jq '.files[].verdict'
  tensorscope scan model.bin --verbose         every global each pickle imports, with its verdict
  tensorscope scan ckpt.pt --allow mylib.Config --allow-file team-allow.txt
  tensorscope scan ./models --fail-on dangerous --format sarif > scan.sarif
  tensorscope scan ./model --format cyclonedx > model.cdx.json   AI bill of materials from the bytes
  tensorscope scan hf://org/name --format spdx > model.spdx.json  hashes from the Hub, no download
  tensorscope scan ./model --format cyclonedx --verify --public-key signer.pub   model.sig checked into the BOM";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or folders (folders are scanned recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print JSON (the same as --format json).
    #[arg(long)]
    pub json: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// List every global every pickle imports, with its verdict and why (the JSON always has them).
    #[arg(long, short)]
    pub verbose: bool,
    /// Allow a global of your own (MODULE.NAME, repeatable): it then counts as safe and says so.
    /// Globals known to be dangerous stay dangerous.
    #[arg(long, value_name = "MODULE.NAME")]
    pub allow: Vec<String>,
    /// A file of globals to allow, one MODULE.NAME per line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub allow_file: Vec<PathBuf>,
    /// The verdict that makes the exit code 1: `suspicious` (anything not safe) or `dangerous`.
    #[arg(long, value_enum, default_value_t = FailOn::Suspicious)]
    pub fail_on: FailOn,
    /// With --format cyclonedx|spdx: verify every file and record the result as its verification
    /// status (an OMS signature, model.sig beside the model, or a Hugging Face cache folder;
    /// either is also picked up without --verify). A file that fails makes the exit code 1.
    #[arg(long)]
    pub verify: bool,
    /// The signer's ECDSA public key (PEM) for the OMS signature (implies --verify).
    #[arg(long, value_name = "PEM")]
    pub public_key: Option<PathBuf>,
    /// The OMS signature bundle [default: model.sig inside a scanned folder, or beside it].
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,
}

/// Output formats of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table per file.
    Human,
    /// The report as JSON.
    Json,
    /// SARIF 2.1.0 for code-scanning services.
    Sarif,
    /// An AI bill of materials, CycloneDX 1.6 JSON: each file's SHA-256, format, parameter count,
    /// dtypes, quantization and chat-template fingerprints read from the bytes, findings as
    /// vulnerabilities.
    Cyclonedx,
    /// The same bill of materials as SPDX 3.0.1 JSON-LD with the AI profile.
    Spdx,
}

/// The verdict that fails a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Suspicious or dangerous.
    Suspicious,
    /// Dangerous only.
    Dangerous,
}

pub fn run(args: Args, env: &tensorscope::remote::Env) -> anyhow::Result<u8> {
    let mut opts = ScanOptions {
        remote: Some(env.clone()),
        ..ScanOptions::default()
    };
    for a in &args.allow {
        opts.allow.insert(a.trim().to_owned());
    }
    for f in &args.allow_file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| anyhow::anyhow!("cannot read the allow file {}: {e}", escape(&f.to_string_lossy())))?;
        opts.add_allow_text(&text);
    }
    let format = if args.json { Format::Json } else { args.format };
    let verifying = args.verify || args.public_key.is_some() || args.signature.is_some();
    if verifying && !matches!(format, Format::Cyclonedx | Format::Spdx) {
        anyhow::bail!(
            "--verify, --public-key and --signature record into a bill of materials: add --format cyclonedx or --format spdx (or run `tensorscope verify`)"
        );
    }
    // the provenance checks first: a missing key is an error before any scanning or fetching
    let checked = match format {
        Format::Cyclonedx | Format::Spdx => verify_paths(&args)?,
        _ => Vec::new(),
    };
    let report = scan::scan_paths_with(&args.paths, &opts)?;
    let mut code = exit_code(&report, args.fail_on);
    // a closed stdout (`| head -1`) does not change the verdict's exit code
    let written = match format {
        Format::Json | Format::Sarif | Format::Cyclonedx | Format::Spdx => {
            let doc = match format {
                Format::Json => serde_json::to_value(&report)?,
                Format::Sarif => scan::sarif::log(&report),
                _ => {
                    let mut bom = tensorscope::bom::collect(&report, Some(env));
                    verification::attach(&mut bom, &checked);
                    let failed_entry = bom
                        .files
                        .iter()
                        .any(|e| e.verification.as_ref().is_some_and(|v| v.state == State::Failed));
                    if failed_entry || verification::any_failed(&checked) {
                        code = super::FINDING;
                    }
                    if format == Format::Cyclonedx {
                        tensorscope::bom::cyclonedx::document(&bom)
                    } else {
                        tensorscope::bom::spdx::document(&bom)
                    }
                }
            };
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &doc)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
                .and_then(|()| out.flush())
        }
        Format::Human => {
            let mut out = super::style::stdout();
            human(&mut out, &report, args.verbose).and_then(|()| out.flush())
        }
    };
    super::quiet_pipe(written, code)
}

/// Each scanned path's provenance check (`--verify`, `--public-key`, `--signature`, or what sits
/// beside the model).
fn verify_paths(args: &Args) -> anyhow::Result<Vec<verification::Checked>> {
    let public_key = match &args.public_key {
        Some(key) => {
            let pem = std::fs::read_to_string(key)
                .map_err(|e| anyhow::anyhow!("cannot read the public key {}: {e}", escape(&key.to_string_lossy())))?;
            Some(PublicKey::from_pem(&pem).map_err(|e| anyhow::anyhow!("{}: {e}", tensorscope::text::path(key)))?)
        }
        None => None,
    };
    let opts = verification::Options {
        required: args.verify || public_key.is_some() || args.signature.is_some(),
        public_key,
        signature: args.signature.clone(),
        threads: 0,
    };
    Ok(verification::run(&args.paths, &opts)?)
}

fn exit_code(report: &ScanReport, fail_on: FailOn) -> u8 {
    let worst = |v: Verdict| report.files.iter().any(|f| f.verdict == v);
    let fails = match fail_on {
        FailOn::Suspicious => worst(Verdict::Dangerous) || worst(Verdict::Suspicious),
        FailOn::Dangerous => worst(Verdict::Dangerous),
    };
    if fails {
        super::FINDING
    } else if worst(Verdict::Error) {
        2
    } else {
        0
    }
}

fn human(out: &mut impl Write, report: &ScanReport, verbose: bool) -> std::io::Result<()> {
    for f in &report.files {
        file(out, f)?;
        if verbose {
            imports(out, f)?;
        }
    }
    for s in &report.skipped {
        let what = if s.index {
            "index, drives the layout"
        } else {
            s.looks.as_str()
        };
        writeln!(
            out,
            "{}  {}",
            escape(&s.path),
            paint(style::DIM, format!("skipped: not a checkpoint ({what})"))
        )?;
    }
    let count = |v: Verdict| report.files.iter().filter(|f| f.verdict == v).count();
    let part = |v: Verdict| {
        let n = count(v);
        let plural = if v == Verdict::Error && n != 1 { "s" } else { "" };
        let text = format!("{n} {}{plural}", v.as_str());
        if n == 0 { text } else { paint(style::verdict(v), text) }
    };
    let skipped = match report.skipped.len() {
        0 => String::new(),
        n => format!("; {n} skipped (not checkpoints)"),
    };
    writeln!(
        out,
        "{} file{}: {}, {}, {}, {}{skipped}",
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
    if let Some(n) = f.templates {
        let n = n as u64;
        write!(out, "  ({} checked)", tensorscope::text::plural(n, "chat template"))?;
    } else if f.format != "safetensors" {
        write!(
            out,
            "  ({pickles} pickle{}, {globals} global{})",
            plural(pickles),
            plural(globals)
        )?;
    }
    writeln!(out)?;
    for a in &f.also {
        writeln!(out, "  {}", paint(style::DIM, format!("same file as {}", escape(a))))?;
    }
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
    let width = width.map(tensorscope::text::column);
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
    for (r, x) in rows.iter().zip(&f.findings) {
        line(out, [&r[0], &r[1], &r[2], &r[3], &r[4]])?;
        if !x.loaders.is_empty() {
            let who = format!("    run by: {}", x.loaders.join("; "));
            writeln!(out, "{}", paint(style::DIM, who))?;
        }
    }
    Ok(())
}

/// The import inventory of one file: every global, its verdict, how many pickles name it, why.
fn imports(out: &mut impl Write, f: &FileScan) -> std::io::Result<()> {
    // a GGUF or safetensors file imports nothing: no inventory to list
    if f.templates.is_some() || f.format == "safetensors" {
        return Ok(());
    }
    let c = &f.import_counts;
    writeln!(
        out,
        "  imports: {} safe{}, {} suspicious, {} dangerous",
        c.safe,
        if c.allowed > 0 {
            format!(" ({} by your allow list)", c.allowed)
        } else {
            String::new()
        },
        c.suspicious,
        c.dangerous
    )?;
    let width = f
        .imports
        .iter()
        .map(|i| escape(&i.global).chars().count())
        .max()
        .map_or(0, tensorscope::text::column);
    for i in &f.imports {
        let verdict = paint(style::verdict(i.verdict), format!("{:<10}", i.verdict.as_str()));
        writeln!(
            out,
            "    {verdict}  {:<width$}  {:>3}x  {}",
            escape(&i.global),
            i.count,
            escape(&i.why)
        )?;
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
