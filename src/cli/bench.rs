//! `tensorscope bench [PATH...] [--synthetic SIZE] [--shape gpt2|lora|huge|moe] [--runs N] [--cold]
//! [--ranks N] [--touch-threads N] [--gpu] [--report FILE]...`: timed loads (CPU, and GPU uploads with `--gpu`), a summary table on stdout, reports by extension.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use tensorscope::bench::{self, Config, Device, Event, Isolation, Method, Synthetic, synth::Family};
use tensorscope::report::{self, Report, seconds};
use tensorscope::text::{bytes, escape, parse_size};

pub const EXAMPLES: &str = "\
Examples:
  tensorscope bench model.safetensors
  tensorscope bench model.bin model.safetensors --runs 5 --report report.html
  tensorscope bench --synthetic 500MB --cold --gpu";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Checkpoints to measure (files or folders; safetensors, torch.save and GGUF files).
    pub paths: Vec<PathBuf>,
    /// Write and measure a synthetic pair (.safetensors and torch .bin) of this size, e.g. 500MB.
    #[arg(long, value_name = "SIZE", value_parser = size)]
    pub synthetic: Option<u64>,
    /// Shape family of the synthetic pair.
    /// (moe: about 19,000 tensors shaped like Qwen3-30B-A3B, widths scaled to SIZE).
    #[arg(long, value_name = "gpt2|lora|huge|moe", default_value = "gpt2", value_parser = family)]
    pub shape: Family,
    /// Keep the synthetic pair in this folder instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Timed runs per case.
    #[arg(long, default_value_t = 5)]
    pub runs: u32,
    /// Untimed warm-up runs per case.
    #[arg(long, default_value_t = 1)]
    pub warmup: u32,
    /// Drop the files' pages from the cache before each run (checked; the report says if it failed).
    #[arg(long)]
    pub cold: bool,
    /// Tensor-parallel ranks: rank k of N reads its 1/N of each 2-D tensor (split along dim 0).
    #[arg(long, default_value_t = 1)]
    pub ranks: u32,
    /// Only these methods (repeatable): safetensors-mmap, safetensors-mmap-prefetch, safetensors-read,
    /// safetensors-pread, safetensors-direct, safetensors-lazy-one, gguf-mmap, gguf-read, pickle-eager,
    /// pickle-mmap, file-read; with --ranks: safetensors-slice, pickle-slice, pickle-mmap-slice.
    #[arg(long = "method", value_name = "METHOD", value_parser = method)]
    pub methods: Vec<Method>,
    /// Write a report; the format follows the extension: .json .csv .md .html (repeatable).
    #[arg(long = "report", value_name = "FILE")]
    pub reports: Vec<PathBuf>,
    /// Also upload every load into GPU buffers (wgpu; WGPU_ADAPTER_NAME picks the adapter).
    #[arg(long)]
    pub gpu: bool,
    /// How GPU rows upload: a reused ring of mapped staging buffers, or wgpu's Queue::write_buffer.
    #[arg(long, value_name = "ring|write-buffer", default_value = "ring", value_parser = upload)]
    pub upload: bench::gpu::Upload,
    /// Threads that read every byte of a touched load (default: every core; 1: one after another
    /// on one thread, as earlier versions did).
    #[arg(long, value_name = "N")]
    pub touch_threads: Option<usize>,
    /// Run every case in this process (peak memory is then not measured).
    #[arg(long)]
    pub in_process: bool,
    /// Also print, for each GPU row uploaded through the ring, where its time went (fill, map,
    /// submit, wait, sync, and the GPU's copy time); the JSON report always has it (`gpu_split`).
    #[arg(long, short)]
    pub verbose: bool,
    /// Do not write a twin: by default a checkpoint given in one format only (safetensors or
    /// pickle) is compared with its twin in the other, written to a temporary folder first and
    /// removed after.
    #[arg(long)]
    pub no_twin: bool,
    /// Once the last run has ended, drop every measured file's pages from the page cache
    /// (posix_fadvise DONTNEED, checked with mincore), so that benchmarking a large checkpoint does
    /// not leave it filling the cache; the report says what was freed.
    #[arg(long)]
    pub drop_cache_after: bool,
}

fn size(s: &str) -> Result<u64, String> {
    parse_size(s).ok_or_else(|| format!("{s:?} is not a size (try 500MB, 2GiB)"))
}

fn family(s: &str) -> Result<Family, String> {
    Family::parse(s).ok_or_else(|| format!("{s:?}: expected gpt2, lora, huge or moe"))
}

fn upload(s: &str) -> Result<bench::gpu::Upload, String> {
    bench::gpu::Upload::parse(s).ok_or_else(|| format!("{s:?}: expected ring or write-buffer"))
}

fn method(s: &str) -> Result<Method, String> {
    Method::parse(s).ok_or_else(|| format!("{s:?} is not a method"))
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let formats = args
        .reports
        .iter()
        .map(|p| {
            report::Format::from_path(p).with_context(|| {
                format!(
                    "{}: report format from extension: use .json, .csv, .md or .html",
                    escape(&p.to_string_lossy())
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // a report into a missing folder fails now, not after the whole benchmark has run
    for p in &args.reports {
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        if !dir.is_dir() {
            bail!(
                "{}: cannot write a report there: the folder {} does not exist",
                escape(&p.to_string_lossy()),
                escape(&dir.to_string_lossy())
            );
        }
    }
    // before minutes of measuring, not after
    for path in &args.reports {
        refuse_link(path)?;
    }
    let mut config = Config::new(args.paths.clone());
    config.synthetic = args.synthetic.map(|bytes| Synthetic {
        bytes,
        family: args.shape,
        dir: args.keep.clone(),
    });
    config.runs = args.runs;
    config.warmup = args.warmup;
    config.cold = args.cold;
    config.ranks = args.ranks;
    config.methods = args.methods.clone();
    if args.gpu {
        config.devices.push(Device::Gpu);
    }
    config.upload = args.upload;
    config.twin = !args.no_twin;
    config.drop_cache_after = args.drop_cache_after;
    if let Some(n) = args.touch_threads {
        config.touch_threads = n;
    }
    if !args.in_process {
        let exe = std::env::current_exe().context("cannot find this program to run cases in child processes")?;
        config.isolation = Isolation::Child(exe);
    }
    let bar = progress_bar();
    let report = bench::run_with(&config, |e| on_event(&bar, e))?;
    bar.finish_and_clear();
    let mut out = std::io::stdout().lock();
    summary(&mut out, &report)?;
    if args.verbose {
        splits(&mut out, &report)?;
    }
    // every report is tried: one that fails does not cost the others
    let mut failed = Vec::new();
    for (path, format) in args.reports.iter().zip(formats) {
        match write_report(path, &report::render(&report, format)) {
            Ok(()) => writeln!(out, "wrote {}", escape(&path.to_string_lossy()))?,
            Err(e) => failed.push(e),
        }
    }
    if report.results.is_empty() {
        bail!("nothing could be measured: {}", report.caveats.join("; "));
    }
    if !failed.is_empty() {
        out.flush()?;
        for e in &failed {
            eprintln!("error: {e}");
        }
        return Ok(2);
    }
    Ok(0)
}

/// The rename that writes a report would replace a link with a file, leaving what it points to as it
/// was: refused, as `convert` refuses an output that is a link.
fn refuse_link(path: &std::path::Path) -> anyhow::Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        bail!(
            "{}: the report path is a symbolic link; give the file's own path",
            escape(&path.to_string_lossy())
        );
    }
    Ok(())
}

/// Write `text` to `path` whole or not at all (a temporary file beside it, then a rename).
fn write_report(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    refuse_link(path)?;
    tensorscope::source::atomic::write_atomic(path, text.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", escape(&path.to_string_lossy())))
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn on_event(bar: &ProgressBar, e: &Event) {
    match e {
        Event::Writing {
            bytes: b,
            twin_of: None,
        } => bar.set_message(format!("writing a synthetic pair of {}", bytes(*b))),
        Event::Writing {
            bytes: b,
            twin_of: Some(p),
        } => bar.set_message(format!(
            "writing the twin of {} ({}; --no-twin skips it)",
            escape(&p.to_string_lossy()),
            bytes(*b)
        )),
        Event::Planned { runs, .. } => {
            bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} runs  {msg}")
                    .expect("valid template"),
            );
            bar.set_length(*runs);
            bar.set_position(0);
        }
        Event::CaseStarted { label, .. } => bar.set_message(label.clone()),
        Event::Run { .. } => bar.inc(1),
        Event::CaseFailed { error, .. } => bar.println(format!("warning: {}", escape(error))),
        Event::CaseDone { .. } | Event::Finished => {}
    }
}

/// `--verbose`: one line per GPU row saying where its upload time went.
fn splits(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    let rows: Vec<_> = r
        .results
        .iter()
        .filter_map(|x| x.gpu_split.as_ref().map(|s| (x, s)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nwhere each GPU row's time went (mean of its timed runs):")?;
    for (x, s) in rows {
        writeln!(out, "  {} ({}): {}", x.label(), x.cache, escape(&s.describe()))?;
    }
    Ok(())
}

/// The table on stdout: the headline, one line per result with its rate against its ceiling and
/// the speedup against the baseline, the ceilings, then the caveats.
fn summary(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    for h in &r.headline {
        writeln!(out, "{}", escape(h))?;
    }
    if !r.headline.is_empty() {
        writeln!(out)?;
    }
    let name_w = tensorscope::text::column(r.results.iter().map(|x| x.label().len()).max().unwrap_or(6).max(6));
    let file =
        |x: &tensorscope::report::BenchResult| escape(x.checkpoint.rsplit('/').next().unwrap_or("")).into_owned();
    let file_w = r
        .results
        .iter()
        .map(|x| file(x).chars().count())
        .max()
        .map_or(4, |w| tensorscope::text::column(w.max(4)));
    writeln!(
        out,
        "{:<name_w$}  {:<file_w$}  {:<5}  {:>10}  {:>21}  {:>8}  {:>7}  {:>9}  {:>9}  {:>7}  {:>8}",
        "method", "file", "cache", "median", "min – max", "GB/s", "ceiling", "data", "peak RSS", "majflt", "speedup"
    )?;
    let (full, lazy): (Vec<&report::BenchResult>, Vec<&report::BenchResult>) =
        r.results.iter().partition(|x| !report::is_lazy(x));
    let lazy_head = (!lazy.is_empty())
        .then_some("-- untouched (not read after loading), one tensor, slices: not comparable with the rows above");
    for (i, x) in full.iter().chain(&lazy).enumerate() {
        if i == full.len()
            && let Some(h) = lazy_head
        {
            writeln!(out, "{h}")?;
        }
        let speedup = r
            .speedups
            .iter()
            .find(|s| {
                (
                    &s.checkpoint,
                    &s.method,
                    &s.device,
                    s.touched,
                    s.rank,
                    &s.cache,
                    &s.memory,
                ) == (
                    &x.checkpoint,
                    &x.method,
                    &x.device,
                    x.touched,
                    x.rank,
                    &x.cache,
                    &x.memory,
                )
            })
            .map(|s| report::times(s.ratio))
            .unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "{:<name_w$}  {:<file_w$}  {:<5}  {:>10}  {:>21}  {:>8}  {:>7}  {:>9}  {:>9}  {:>7}  {:>8}",
            x.label(),
            file(x),
            x.cache,
            seconds(x.median_s),
            report::range(x),
            report::gbps(x),
            report::percent(x),
            bytes(x.bytes),
            x.peak_rss_bytes.map(bytes).unwrap_or_else(|| "-".into()),
            x.major_faults.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
            speedup
        )?;
    }
    if !r.ceilings.is_empty() {
        writeln!(
            out,
            "\nceilings (measured in this run; the ceiling column is each row's GB/s as a % of its own):"
        )?;
        for c in &r.ceilings {
            writeln!(
                out,
                "  {:<18} {:>8} GB/s  {}",
                c.name,
                report::rate(c.gbps),
                escape(&c.what)
            )?;
        }
    }
    let whole = r.speedups.iter().find(|s| s.rank.is_none());
    let ranked = r.speedups.iter().find(|s| s.rank.is_some());
    if let Some(b) = whole {
        writeln!(
            out,
            "\nspeedup: {} median (fresh memory, as torch.load gets; reused memory for rows into reused memory) \
             over the method's median, same device, cache and touch",
            b.baseline
        )?;
    }
    if let Some(b) = ranked {
        let sep = if whole.is_some() { "" } else { "\n" };
        writeln!(
            out,
            "{sep}rank rows: speedup over {} of the same rank (load everything the torch.load way, keep rank k's rows)",
            b.baseline
        )?;
    }
    for c in &r.caveats {
        writeln!(out, "note: {}", escape(c))?;
    }
    Ok(())
}
