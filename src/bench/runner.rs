//! Runs a plan and builds the report: writes the synthetic pair, opens the checkpoints, warms the
//! cache, times every case (in process or in a child), computes speedups and writes the caveats.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use super::caveats::{cache_advice, ceilings, filesystem_caveats, general_caveats, gpu_caveats, page_cache_caveats};
use super::child::{self, Spec};
use super::plan::{self, Case, Target};
use super::speedup::regroup_by_content;
pub use super::speedup::{speedups, speedups_in};
use super::{
    Config, Device, Event, Isolation, MAX_RANKS, MAX_RUNS, Method, cache, gpu, headline, synth, system, touch,
};
use crate::report::{BenchResult, CheckpointFacts, Report, RunConfig};
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
        on_event(&Event::Writing {
            bytes: s.bytes,
            twin_of: None,
        });
        let pair = synth::write_pair(&dir, "model", s.family, s.bytes)?;
        synthetic = Some(format!("{} {}", s.family.as_str(), crate::text::bytes(pair.bytes)));
        paths.push(pair.safetensors);
        paths.push(pair.torch);
    }
    // each path and its twin are one group (the synthetic pair another); without twins, one group
    let mut groups: Vec<usize> = vec![0; paths.len()];
    let twin_temp = if config.twin { TempDir::new().map(Some)? } else { None };
    let twins = match &twin_temp {
        Some(dir) => super::twin::write_twins(&config.paths, &dir.0, &mut caveats, &mut on_event),
        None => Vec::new(),
    };
    let grouped = twins.iter().any(Option::is_some);
    for (i, p) in config.paths.iter().enumerate() {
        paths.push(p.clone());
        groups.push(if grouped { i + 1 } else { 0 });
        if let Some(Some(t)) = twins.get(i) {
            paths.push(t.clone());
            groups.push(if grouped { i + 1 } else { 0 });
        }
    }
    if config.paths.is_empty() || !grouped {
        // no twin written: the old rule, every row against the one pickle baseline there is
        groups.iter_mut().for_each(|g| *g = 0);
    }
    let mut targets = Vec::new();
    let mut group_of: Vec<usize> = Vec::new();
    for (p, &group) in paths.iter().zip(&groups) {
        match Target::open_all(p) {
            Ok(t) => {
                group_of.extend(std::iter::repeat_n(group, t.len()));
                targets.extend(t);
            }
            Err(e) if config.synthetic.is_some() || paths.len() > 1 => {
                caveats.push(format!("{}: not measured: {e}", crate::text::path(p)));
            }
            Err(e) => return Err(e),
        }
    }
    if !grouped {
        regroup_by_content(&targets, &mut group_of, &mut caveats);
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
    let cancelled = || {
        config
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed))
    };
    for (index, case) in cases.iter().enumerate() {
        if cancelled() {
            break;
        }
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
            touch_threads: config.touch_threads,
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
            Isolation::Child(exe) => child::run_in_child(exe, &spec, config.cancel.clone(), &mut on_run),
        };
        // a case cut short by the cancel is no failure, and was not measured: said once, below
        if outcome.is_err() && cancelled() {
            break;
        }
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
    // the cases measured are the rows (one cut short by the cancel, or one that failed, is not)
    if cancelled() {
        caveats.push(format!(
            "cancelled by the user: {} of {} cases measured; the rows here are those",
            results.len(),
            cases.len()
        ));
    }
    // a cancelled run ends now: measuring the ceilings takes seconds, and the user asked to stop
    let mut ceilings = if cancelled() {
        caveats.push("ceilings not measured: the run was cancelled".to_owned());
        Vec::new()
    } else {
        ceilings(config, &system, &targets, gpu_ceilings)
    };
    caveats.extend(headline::assign(&mut results, &mut ceilings));
    let group = |r: &BenchResult| {
        targets
            .iter()
            .position(|t| t.root.to_string_lossy() == r.checkpoint)
            .map_or(0, |i| group_of[i])
    };
    let speedups = speedups_in(&results, &group);
    let headline = headline::headline_in(&results, &group);
    if !results.is_empty()
        && !results.iter().any(|r| r.method == Method::PickleEager.as_str())
        && !targets.iter().all(|t| t.kind == plan::Kind::Gguf)
    {
        caveats.push(if config.twin {
            "Nothing to compare against: no pickle (torch.save) load was measured, so no row has a speedup.".to_owned()
        } else {
            "Nothing to compare against: no pickle (torch.save) load was measured, so no row has a speedup \
             (without --no-twin, bench writes a pickle twin of a safetensors checkpoint and compares the two)."
                .to_owned()
        });
    }
    caveats.extend(general_caveats(config, &system, &results));
    caveats.extend(filesystem_caveats(&targets));
    caveats.extend(page_cache_caveats(config, &targets, &results));
    caveats.extend(gpu_caveats(used_adapter.as_ref(), &results));
    // the files that stay once the run is over: not the twins or a synthetic pair in temporary
    // folders (removed on return), each file once however it was named
    let temporary: Vec<&std::path::Path> = [&temp, &twin_temp]
        .into_iter()
        .flatten()
        .map(|t| t.0.as_path())
        .collect();
    let mut kept: Vec<PathBuf> = targets
        .iter()
        .flat_map(|t| &t.files)
        .filter(|f| !temporary.iter().any(|d| f.starts_with(d)))
        .map(|f| std::fs::canonicalize(f).unwrap_or_else(|_| f.clone()))
        .collect();
    kept.sort();
    kept.dedup();
    caveats.extend(cache_advice(config, &system, &kept));
    if config.drop_cache_after {
        caveats.push(cache::drop_after(kept.iter().map(|f| f.as_path())));
    }
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
            touch_threads: config.touch_threads,
            drop_cache_after: config.drop_cache_after,
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
    if !(1..=touch::MAX_THREADS).contains(&config.touch_threads) {
        return Err(Error::Usage(format!(
            "--touch-threads must be between 1 and {}",
            touch::MAX_THREADS
        )));
    }
    if !(1..=MAX_RANKS).contains(&config.ranks) {
        return Err(Error::Usage(format!("--ranks must be between 1 and {MAX_RANKS}")));
    }
    Ok(())
}

/// Bytes of owned memory a method allocates for a target (at most; slices need less).
fn owned_bytes(method: Method, t: &Target) -> u64 {
    match method {
        Method::SafetensorsMmap
        | Method::GgufMmap
        | Method::PickleMmap
        | Method::SafetensorsLazyOne
        | Method::PickleMmapSlice => 0,
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
        gbps: (median > 0.0 && case.method.reads(case.touched, case.device)).then(|| o.bytes as f64 / median / 1e9),
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
        gpu_split: o.gpu_split,
    }
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
        let h = &report.headline[0];
        assert!(h.starts_with("cpu, touched, warm: "), "{h}");
        assert!(
            h.contains("times faster") || h.contains("times slower") || h.contains("no measurable difference"),
            "{h}"
        );
        let names: Vec<&str> = report.ceilings.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["memcpy-pretouched", "memcpy-fresh", "memory-read"]);
        let eager = |m: &str| {
            report
                .results
                .iter()
                .find(|r| r.method == "pickle-eager" && r.touched && r.memory.as_deref() == Some(m))
                .unwrap()
        };
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
