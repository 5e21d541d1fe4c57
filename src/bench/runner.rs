//! Runs a plan and builds the report: writes the synthetic pair, opens the checkpoints, warms the
//! cache, times every case (in process or in a child), computes speedups and writes the caveats.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use super::child::{self, Spec};
use super::plan::{self, Case, Target};
use super::headline::{self, DISK_READ, MEMCPY_FRESH, MEMCPY_PRETOUCHED};
use super::{
    CacheState, Config, Device, Event, Isolation, MAX_RANKS, MAX_RUNS, Memory, Method, cache, gpu, synth, system,
};
use crate::report::{BenchResult, Ceiling, CheckpointFacts, Report, RunConfig, Speedup};
use crate::{Error, Result};

/// Run the benchmark, calling `on_event` with its progress, and return the report.
pub fn run_with(config: &Config, mut on_event: impl FnMut(&Event)) -> Result<Report> {
    validate(config)?;
    // Before writing anything: a GPU run needs an adapter.
    let adapters = if config.devices.contains(&Device::Gpu) {
        gpu::probe()?
    } else {
        Vec::new()
    };
    let mut caveats = Vec::new();
    let temp = match &config.synthetic {
        Some(s) if s.dir.is_none() => Some(TempDir::new()?),
        _ => None,
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut synthetic = None;
    if let Some(s) = &config.synthetic {
        let dir = s
            .dir
            .clone()
            .or_else(|| temp.as_ref().map(|t| t.0.clone()))
            .expect("a folder");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        on_event(&Event::Writing { bytes: s.bytes });
        let pair = synth::write_pair(&dir, "model", s.family, s.bytes)?;
        synthetic = Some(format!("{} {}", s.family.as_str(), crate::text::bytes(pair.bytes)));
        paths.push(pair.safetensors);
        paths.push(pair.torch);
    }
    paths.extend(config.paths.iter().cloned());
    let mut targets = Vec::new();
    for p in &paths {
        match Target::open(p) {
            Ok(t) => targets.push(t),
            Err(e) if config.synthetic.is_some() || paths.len() > 1 => {
                caveats.push(format!("{}: not measured: {e}", crate::text::path(p)));
            }
            Err(e) => return Err(e),
        }
    }
    let mut system = system::facts();
    system.gpu = adapters;
    let cases = plan::plan(config, &targets);
    let per_case = u64::from(config.warmup + config.runs);
    on_event(&Event::Planned {
        cases: cases.len(),
        runs: cases.len() as u64 * per_case,
    });
    if !config.cold {
        for f in targets.iter().flat_map(|t| &t.files) {
            cache::warm(f)?;
        }
    }
    let mut results = Vec::new();
    let mut used_adapter = None;
    let mut gpu_ceilings = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        on_event(&Event::CaseStarted {
            index,
            label: case.label(),
        });
        let t = &targets[case.target];
        let spec = Spec {
            root: t.root.clone(),
            files: t.files.clone(),
            method: case.method,
            touched: case.touched,
            rank: case.rank,
            cache: case.cache,
            runs: config.runs,
            warmup: config.warmup,
            device: case.device,
            memory: case.memory,
            upload: config.upload,
        };
        let mut on_run = |seconds: f64, warmup: bool| on_event(&Event::Run { index, seconds, warmup });
        let outcome = match &config.isolation {
            // Validate before allocating: an owned copy must fit in the memory that is free now.
            _ if owned_bytes(case.method, t) > system.available_memory_bytes && system.available_memory_bytes > 0 => {
                Err(Error::Usage(format!(
                    "needs {} of owned memory, {} available",
                    crate::text::bytes(owned_bytes(case.method, t)),
                    crate::text::bytes(system.available_memory_bytes)
                )))
            }
            Isolation::InProcess => child::execute(&spec, false, &mut on_run),
            Isolation::Child(exe) => child::run_in_child(exe, &spec, &mut on_run),
        };
        match outcome {
            Ok(o) => {
                if o.cache_dropped == Some(false) {
                    caveats.push(format!(
                        "cold cache: {} pages of {} stayed resident before some runs of {}: those rows are partly warm",
                        o.pages_left,
                        crate::text::path(&t.root),
                        case.label()
                    ));
                }
                if o.adapter.is_some() {
                    used_adapter.clone_from(&o.adapter);
                }
                if let Some(g) = o.ceiling_gbps {
                    gpu_ceilings.push(g);
                }
                if let Some(n) = &o.note {
                    let n = format!("{}: {n}", case.label());
                    if !caveats.contains(&n) {
                        caveats.push(n);
                    }
                }
                let r = result(t, case, o, config.upload);
                on_event(&Event::CaseDone {
                    index,
                    result: Box::new(r.clone()),
                });
                results.push(r);
            }
            Err(e) => {
                let error = format!("{} on {}: {e}", case.label(), crate::text::path(&t.root));
                on_event(&Event::CaseFailed {
                    index,
                    error: error.clone(),
                });
                caveats.push(format!("not measured: {error}"));
            }
        }
    }
    let ceilings = ceilings(config, &system, &targets, gpu_ceilings);
    headline::assign(&mut results, &ceilings);
    let speedups = speedups(&results);
    let headline = headline::headline(&results);
    caveats.extend(general_caveats(config, &system, &results));
    caveats.extend(filesystem_caveats(&targets));
    caveats.extend(gpu_caveats(used_adapter.as_ref(), &results));
    on_event(&Event::Finished);
    Ok(Report {
        tool: format!("tensorscope {}", env!("CARGO_PKG_VERSION")),
        system,
        config: RunConfig {
            runs: config.runs,
            warmup: config.warmup,
            cold: config.cold,
            ranks: config.ranks,
            synthetic,
            isolated: matches!(config.isolation, Isolation::Child(_)),
        },
        checkpoints: targets
            .iter()
            .map(|t| CheckpointFacts {
                path: t.root.to_string_lossy().into_owned(),
                format: t.format.as_str().into(),
                bytes: t.bytes,
                tensors: t.tensors,
                filesystem: t.files.first().and_then(|f| system::filesystem(f)),
            })
            .collect(),
        results,
        speedups,
        caveats,
        headline,
        ceilings,
    })
}

/// The ceilings of this run: memcpy into pre-touched and fresh memory (the system probes), the
/// GPU path's own rate (median over the GPU cases, each measured in its process after its runs),
/// and for cold runs the disk's sequential read rate of the largest file.
fn ceilings(config: &Config, sys: &crate::report::System, targets: &[Target], gpu: Vec<f64>) -> Vec<Ceiling> {
    let mut out = vec![
        Ceiling {
            name: MEMCPY_PRETOUCHED.into(),
            device: "cpu".into(),
            gbps: sys.mapped_memory_gbps,
            what: format!(
                "memcpy of {} from warm memory into pre-touched memory (median of {})",
                crate::text::bytes(system::PROBE_BYTES as u64),
                system::PROBE_RUNS
            ),
        },
        Ceiling {
            name: MEMCPY_FRESH.into(),
            device: "cpu".into(),
            gbps: sys.fresh_memory_gbps,
            what: format!(
                "memcpy of {} from warm memory into fresh memory, every page faulted on first touch (median of {})",
                crate::text::bytes(system::PROBE_BYTES as u64),
                system::PROBE_RUNS
            ),
        },
    ];
    if !gpu.is_empty() {
        let n = gpu.len();
        out.push(Ceiling {
            name: headline::gpu_ceiling(config.upload.as_str()),
            device: "gpu".into(),
            gbps: headline::median(gpu),
            what: format!(
                "upload of a warm, pre-touched host buffer (up to {}) through the same {} path (median over {n} GPU case(s))",
                crate::text::bytes(gpu::CEILING_BYTES),
                config.upload.as_str()
            ),
        });
    }
    if config.cold {
        let largest = targets.iter().flat_map(|t| &t.files).max_by_key(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0));
        if let Some((gbps, direct)) = largest.and_then(|f| system::disk_read_gbps(f)) {
            out.push(Ceiling {
                name: DISK_READ.into(),
                device: "cpu".into(),
                gbps,
                what: format!(
                    "sequential read of the largest file from a dropped cache, 16 MiB requests{}",
                    if direct { ", O_DIRECT" } else { " (O_DIRECT refused: buffered)" }
                ),
            });
        }
    }
    out
}

/// The filesystems holding the checkpoints, with advice where maps are slow.
fn filesystem_caveats(targets: &[Target]) -> Vec<String> {
    let mut out = Vec::new();
    for t in targets {
        let Some(fs) = t.files.first().and_then(|f| system::filesystem(f)) else {
            continue;
        };
        if system::prefers_pread(&fs) {
            out.push(format!(
                "{} lies on {fs}: on network and FUSE filesystems a map faults in 4 KiB pieces, each a round trip; \
                 prefer pread in large requests (safetensors-pread) over mmap there.",
                crate::text::path(&t.root)
            ));
        }
    }
    out
}

/// Run the benchmark on a thread; progress arrives on the receiver, the report from the handle.
pub fn spawn(config: Config) -> (mpsc::Receiver<Event>, JoinHandle<Result<Report>>) {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        run_with(&config, |e| {
            let _ = tx.send(e.clone());
        })
    });
    (rx, handle)
}

fn validate(config: &Config) -> Result<()> {
    if config.paths.is_empty() && config.synthetic.is_none() {
        return Err(Error::Usage(
            "nothing to measure: give checkpoint paths or --synthetic SIZE".into(),
        ));
    }
    if !(1..=MAX_RUNS).contains(&config.runs) {
        return Err(Error::Usage(format!("--runs must be between 1 and {MAX_RUNS}")));
    }
    if config.warmup > MAX_RUNS {
        return Err(Error::Usage(format!("at most {MAX_RUNS} warm-up runs")));
    }
    if !(1..=MAX_RANKS).contains(&config.ranks) {
        return Err(Error::Usage(format!("--ranks must be between 1 and {MAX_RANKS}")));
    }
    Ok(())
}

/// Bytes of owned memory a method allocates for a target (at most; slices need less).
fn owned_bytes(method: Method, t: &Target) -> u64 {
    match method {
        Method::SafetensorsMmap | Method::PickleMmap | Method::SafetensorsLazyOne | Method::PickleMmapSlice => 0,
        Method::PickleSlice => t.bytes.saturating_mul(2),
        _ => t.bytes,
    }
}

fn result(t: &Target, case: &Case, o: child::Outcome, upload: gpu::Upload) -> BenchResult {
    let mut s = o.samples_s.clone();
    s.sort_by(f64::total_cmp);
    let median = match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    };
    BenchResult {
        checkpoint: t.root.to_string_lossy().into_owned(),
        method: case.method.as_str().into(),
        device: case.device.as_str().into(),
        cache: case.cache.as_str().into(),
        touched: case.touched,
        runs: s.len() as u32,
        median_s: median,
        min_s: s.first().copied().unwrap_or(0.0),
        max_s: s.last().copied().unwrap_or(0.0),
        bytes: o.bytes,
        gbps: if median > 0.0 {
            o.bytes as f64 / median / 1e9
        } else {
            0.0
        },
        peak_rss_bytes: o.peak_rss_bytes,
        rank: case.rank.map(|r| r.0),
        ranks: case.rank.map(|r| r.1),
        cache_dropped: o.cache_dropped,
        checksum: o.checksum.map(|c| format!("{c:#018x}")),
        samples_s: o.samples_s,
        memory: case.memory.map(|m| m.as_str().to_owned()),
        upload: (case.device == Device::Gpu).then(|| upload.as_str().to_owned()),
        ceiling: None,
        percent_of_ceiling: None,
        major_faults: o.major_faults,
        note: o.note,
    }
}

/// Each row against the baseline of its group: `pickle-eager` for whole loads, `pickle-slice` of
/// the same rank for tensor-parallel rows (same device, cache and touch). Eager rows compare with
/// `pickle-eager` into the same kind of memory; every other row with `pickle-eager` into fresh
/// memory, as `torch.load` gets.
pub fn speedups(results: &[BenchResult]) -> Vec<Speedup> {
    let fresh = Memory::Fresh.as_str();
    let baseline_of = |r: &BenchResult| {
        let name = if r.rank.is_some() {
            Method::PickleSlice
        } else {
            Method::PickleEager
        };
        let memory = r.memory.as_deref().unwrap_or(fresh);
        results.iter().find(|b| {
            b.method == name.as_str()
                && (b.device.as_str(), b.cache.as_str(), b.touched, b.rank)
                    == (r.device.as_str(), r.cache.as_str(), r.touched, r.rank)
                && b.memory.as_deref().is_none_or(|m| m == memory)
        })
    };
    results
        .iter()
        .filter_map(|r| {
            let b = baseline_of(r)?;
            (b.method != r.method && r.median_s > 0.0).then(|| Speedup {
                device: r.device.clone(),
                cache: r.cache.clone(),
                touched: r.touched,
                baseline: b.method.clone(),
                method: r.method.clone(),
                rank: r.rank,
                ratio: b.median_s / r.median_s,
                memory: r.memory.clone(),
                baseline_memory: b.memory.clone(),
            })
        })
        .collect()
}

fn general_caveats(config: &Config, sys: &crate::report::System, results: &[BenchResult]) -> Vec<String> {
    let mut out = Vec::new();
    if results.iter().any(|r| !r.touched) {
        out.push(
            "Untouched rows only load: the mmap methods map the file and build views without reading a \
             tensor byte. Touched rows read every byte after loading; compare those for the cost of using the weights."
                .into(),
        );
    }
    if let Some(r) = results.iter().find(|r| r.method == Method::SafetensorsLazyOne.as_str()) {
        out.push(format!(
            "safetensors-lazy-one reads one tensor ({}), not the whole checkpoint: its speedup shows what reading \
             only what you need saves, not a faster full load.",
            crate::text::bytes(r.bytes)
        ));
    }
    if !config.cold {
        out.push(
            "Warm page cache: the files were read once before timing, so times show CPU and memory costs, \
             not disk speed (use --cold to drop the pages before each run)."
                .into(),
        );
    }
    if results
        .iter()
        .any(|r| Method::parse(&r.method).is_some_and(Method::copies))
        && sys.fresh_memory_gbps > 0.0
    {
        out.push(format!(
            "Eager loads run twice: into fresh memory (new pages every run, faulted and zeroed as the load first \
             writes them, as torch.load and a one-shot loader get) and into reused memory (one pre-faulted arena, as \
             a long-lived loader keeps); the headline compares fresh with fresh. Here memcpy runs at {:.1} GB/s into \
             fresh memory and {:.1} GB/s into pre-touched memory.",
            sys.fresh_memory_gbps, sys.mapped_memory_gbps
        ));
    }
    if config.runs < 3 {
        out.push(format!(
            "Only {} timed run(s) per case: medians are not robust.",
            config.runs
        ));
    }
    if !matches!(config.isolation, Isolation::Child(_)) {
        out.push("Cases ran in one process: peak memory was not measured.".into());
    }
    for r in results.iter().filter(|r| r.noisy()) {
        out.push(format!(
            "Noisy: {} ranged from {} to {} around a median of {}; rerun with more --runs on an idle machine.",
            r.label(),
            crate::report::seconds(r.min_s),
            crate::report::seconds(r.max_s),
            crate::report::seconds(r.median_s)
        ));
    }
    if config.synthetic.is_some() {
        let mut sums: Vec<&str> = results
            .iter()
            .filter(|r| r.rank.is_none() && (r.touched || r.device == Device::Gpu.as_str()))
            .filter(|r| r.method != Method::SafetensorsLazyOne.as_str())
            .filter_map(|r| r.checksum.as_deref())
            .collect();
        sums.dedup();
        if sums.len() > 1 {
            out.push(
                "The touched methods read different data from the synthetic pair (checksums differ): a bug.".into(),
            );
        }
    }
    if results.iter().any(|r| r.cache == CacheState::Cold.as_str())
        && results.iter().all(|r| r.cache_dropped != Some(false))
    {
        out.push("Cold cache: every page of every file was dropped (checked with mincore) before every run.".into());
    }
    out
}

/// What a reader of GPU rows must know: the adapter, what a software adapter means, and whether
/// the bytes read back from the GPU equal the bytes the CPU rows read.
fn gpu_caveats(adapter: Option<&crate::report::Gpu>, results: &[BenchResult]) -> Vec<String> {
    let gpu_rows: Vec<&BenchResult> = results.iter().filter(|r| r.device == Device::Gpu.as_str()).collect();
    let Some(a) = adapter.filter(|_| !gpu_rows.is_empty()) else {
        return Vec::new();
    };
    let mut out = vec![format!(
        "GPU rows: each load's tensors uploaded with wgpu ({} backend) to {} ({}), timed until the GPU \
         finished copying; the destination buffers are allocated once per case and reused.",
        a.backend, a.name, a.device_type
    )];
    if a.device_type == "Cpu" {
        out.push(
            "The GPU adapter is a software driver: its \"GPU memory\" is host memory and the copies run on \
             CPU threads, so GPU rows measure wgpu's upload path here, not a GPU's transfer speed."
                .into(),
        );
    }
    // Each GPU row's read-back against the touched CPU row of the same checkpoint and method.
    let whole = |r: &&&BenchResult| r.rank.is_none() && r.method != Method::SafetensorsLazyOne.as_str();
    let pairs: Vec<(Option<&str>, Option<&str>)> = gpu_rows
        .iter()
        .filter(whole)
        .map(|g| {
            let cpu = results.iter().find(|r| {
                r.device == Device::Cpu.as_str()
                    && r.touched
                    && (&r.checkpoint, &r.method) == (&g.checkpoint, &g.method)
            });
            (g.checksum.as_deref(), cpu.and_then(|r| r.checksum.as_deref()))
        })
        .filter(|(_, cpu)| cpu.is_some())
        .collect();
    if pairs.iter().any(|(g, c)| g != c) {
        out.push(
            "The bytes read back from the GPU differ from the touched CPU rows' (checksums differ): a bug.".into(),
        );
    } else if !pairs.is_empty() {
        out.push(format!(
            "Every GPU buffer was read back after its runs: {} row(s) hold the same bytes as the touched CPU rows.",
            pairs.len()
        ));
    }
    out
}

/// A folder under the system temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!("tensorscope-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&p).map_err(|e| Error::io(&p, e))?;
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn speedups_compare_like_with_like() {
        let r = sample::report();
        let s = speedups(&r.results);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].method, "safetensors-mmap");
        assert!(!s[0].touched && s[1].touched);
        assert!((s[0].ratio - 0.1 / 0.0002).abs() < 1e-6);
        assert!((s[1].ratio - 3.0).abs() < 1e-9);
    }

    #[test]
    fn synthetic_run_in_process() {
        let mut config = Config::synthetic(300_000);
        config.runs = 2;
        let mut events = Vec::new();
        let report = run_with(&config, |e| events.push(format!("{e:?}"))).unwrap();
        assert!(events[0].starts_with("Writing"));
        assert!(events.last().unwrap().starts_with("Finished"));
        // 8 methods untouched and touched, the 4 eager ones into fresh and reused memory, plus the
        // reference read
        assert_eq!(report.results.len(), 25, "{:?}", report.caveats);
        assert!(report.results.iter().all(|r| r.runs == 2 && r.peak_rss_bytes.is_none()));
        assert_eq!(report.checkpoints.len(), 2);
        // every row but pickle-eager's own four has a baseline
        assert_eq!(report.speedups.len(), 21);
        assert_eq!(report.headline.len(), 1, "{:?}", report.headline);
        assert!(report.headline[0].starts_with("cpu, touched, warm: safetensors-mmap loads"));
        let names: Vec<&str> = report.ceilings.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["memcpy-pretouched", "memcpy-fresh"]);
        let eager = |m: &str| report.results.iter().find(|r| r.method == "pickle-eager" && r.touched && r.memory.as_deref() == Some(m)).unwrap();
        assert_eq!(eager("fresh").ceiling.as_deref(), Some("memcpy-fresh"));
        assert_eq!(eager("reused").ceiling.as_deref(), Some("memcpy-pretouched"));
        assert!(report.results.iter().all(|r| r.major_faults.is_some()));
        assert!(report.checkpoints.iter().all(|c| c.filesystem.is_some()));
        let bad = |c: &&String| c.contains("not measured:") || c.contains("a bug");
        assert!(!report.caveats.iter().any(|c| bad(&c)), "{:?}", report.caveats);
        assert!(
            report
                .caveats
                .iter()
                .any(|c| c.contains("peak memory was not measured"))
        );
    }

    #[test]
    fn spawn_sends_events_over_a_channel() {
        let mut config = Config::synthetic(100_000);
        config.runs = 1;
        config.methods = vec![Method::SafetensorsMmap];
        let (rx, handle) = spawn(config);
        let events: Vec<Event> = rx.iter().collect();
        let report = handle.join().unwrap().unwrap();
        let runs = events.iter().filter(|e| matches!(e, Event::Run { .. })).count();
        assert_eq!(runs, 4, "2 cases x (1 warm-up + 1 run)");
        let done = events.iter().filter(|e| matches!(e, Event::CaseDone { .. })).count();
        assert_eq!(done, report.results.len());
        assert!(matches!(events.last(), Some(Event::Finished)));
    }

    #[test]
    fn refuses_bad_configs() {
        assert!(run_with(&Config::new(vec![]), |_| {}).is_err());
        let mut c = Config::synthetic(300_000);
        c.runs = 0;
        assert!(run_with(&c, |_| {}).is_err());
        c.runs = 1;
        c.ranks = 0;
        assert!(run_with(&c, |_| {}).is_err());
    }
}
