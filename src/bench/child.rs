//! Running one case: its warm-up and timed runs, in this process ([`execute`]) or in a child process
//! ([`run_in_child`]) so that the peak resident memory measured is the case's own.
//!
//! The child is the same binary started as `EXE __bench-child SPEC_JSON`; the front end routes that
//! hidden command to [`serve`]. It prints one line per run (`run WARMUP SECONDS`) and finally
//! `done OUTCOME_JSON` on stdout; on failure it prints one `error:` line on stderr and exits non-zero.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::cpu;
use super::loading::{Arena, Host, Load, Sink};
use super::{CacheState, Device, Memory, Method, cache, gpu};
use crate::{Error, Result};

/// Timed uploads of the GPU ceiling, before the runs and again after them (each time after one
/// untimed upload).
pub const CEILING_RUNS: u32 = 3;

/// The name of the hidden subcommand.
pub const SUBCOMMAND: &str = "__bench-child";

/// One case, as handed to a child.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    /// Checkpoint path as given.
    pub root: PathBuf,
    /// Its weight files.
    pub files: Vec<PathBuf>,
    /// Method.
    pub method: Method,
    /// Read every byte after loading.
    pub touched: bool,
    /// Threads that read them (see [`super::touch`]).
    #[serde(default = "super::touch::default_threads")]
    pub touch_threads: usize,
    /// `(k, n)` for slices.
    pub rank: Option<(u32, u32)>,
    /// Cache state before each run.
    pub cache: CacheState,
    /// Timed runs.
    pub runs: u32,
    /// Warm-up runs.
    pub warmup: u32,
    /// Where the loaded tensors go.
    #[serde(default)]
    pub device: Device,
    /// Eager methods: fresh or reused owned memory (`None`: reused).
    #[serde(default)]
    pub memory: Option<Memory>,
    /// GPU cases: how bytes reach the GPU.
    #[serde(default)]
    pub upload: gpu::Upload,
}

/// What a case measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    /// Seconds of each timed run.
    pub samples_s: Vec<f64>,
    /// Bytes each run made available.
    pub bytes: u64,
    /// Checksum of the data (touched and slice cases).
    pub checksum: Option<u64>,
    /// Peak resident memory of the process (`VmHWM`), when measured.
    pub peak_rss_bytes: Option<u64>,
    /// Cold runs: whether every page was gone before every run.
    pub cache_dropped: Option<bool>,
    /// Cold runs: the most pages that stayed resident before a run.
    pub pages_left: u64,
    /// GPU cases: the adapter the tensors were uploaded to.
    #[serde(default)]
    pub adapter: Option<crate::report::Gpu>,
    /// GPU cases: the upload path's own rate from a warm host buffer (GB/s), measured after the runs.
    #[serde(default)]
    pub ceiling_gbps: Option<f64>,
    /// Major page faults (read from disk) per timed run, on average.
    #[serde(default)]
    pub major_faults: Option<u64>,
    /// Something a run had to fall back to.
    #[serde(default)]
    pub note: Option<String>,
    /// GPU ring uploads: where the upload time of the timed runs went (their mean).
    #[serde(default)]
    pub gpu_split: Option<crate::report::GpuSplit>,
}

/// Major page faults of this process so far (`ru_majflt`).
pub fn major_faults() -> Option<u64> {
    // SAFETY: getrusage fills the zeroed struct we own.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    (unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } == 0).then_some(u.ru_majflt as u64)
}

/// Run the case here. `on_run(seconds, warmup)` is called after every run.
pub fn execute(spec: &Spec, measure_rss: bool, on_run: &mut dyn FnMut(f64, bool)) -> Result<Outcome> {
    let mut arena = match spec.memory {
        Some(Memory::Fresh) => Arena::fresh(),
        _ => Arena::new(),
    };
    let load = Load {
        root: &spec.root,
        files: &spec.files,
        method: spec.method,
        touched: spec.touched,
        touch_threads: spec.touch_threads,
        rank: spec.rank,
    };
    let mut out = Outcome {
        samples_s: Vec::with_capacity(spec.runs as usize),
        bytes: 0,
        checksum: None,
        peak_rss_bytes: None,
        cache_dropped: (spec.cache == CacheState::Cold).then_some(true),
        pages_left: 0,
        adapter: None,
        ceiling_gbps: None,
        major_faults: None,
        note: None,
        gpu_split: None,
    };
    let mut splits = Vec::new();
    // The device is opened before the first run (untimed), as a loader's process has it already.
    let mut uploader = match spec.device {
        Device::Cpu => None,
        Device::Gpu => Some(gpu::Uploader::open(spec.upload)?),
    };
    // The ring's ceiling is sampled before the runs and again after them, so that it sees the
    // machine as the runs did (a software driver's rate drifts with the host's load).
    let mut ceiling_rates = Vec::new();
    if let Some(u) = uploader.as_mut() {
        let planned: u64 = spec
            .files
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum();
        ceiling_rates = u.ceiling(planned, CEILING_RUNS)?;
    }
    let mut host = Host;
    let mut faults = 0u64;
    for i in 0..spec.warmup + spec.runs {
        if spec.cache == CacheState::Cold {
            for f in &spec.files {
                let d = cache::drop_pages(f)?;
                if !d.dropped() {
                    out.cache_dropped = Some(false);
                    out.pages_left = out.pages_left.max(d.resident_after);
                }
            }
        }
        let sink: &mut dyn Sink = match uploader.as_mut() {
            Some(u) => u,
            None => &mut host,
        };
        let before = major_faults();
        let t = Instant::now();
        let got = cpu::load_into(&mut arena, &load, sink)?;
        let secs = t.elapsed().as_secs_f64();
        std::hint::black_box(&got);
        let warmup = i < spec.warmup;
        if let (false, Some(a), Some(b)) = (warmup, before, major_faults()) {
            faults += b.saturating_sub(a);
        }
        // untimed: fresh memory is given back so the next run faults new pages
        arena.release();
        if let Some(n) = got.note {
            out.note = Some(n.to_owned());
        }
        if i == 0 {
            (out.bytes, out.checksum) = (got.bytes, got.checksum);
        } else if (got.bytes, got.checksum) != (out.bytes, out.checksum) {
            return Err(Error::format(
                &spec.root,
                "the data changed between runs (is the file being written?)",
            ));
        }
        if !warmup {
            out.samples_s.push(secs);
            // untimed: where the upload's time went (reads the GPU's timestamps back)
            if let Some(mut split) = uploader.as_ref().map(|u| u.split()).transpose()?.flatten() {
                split.run_s = secs;
                splits.push(split);
            }
        }
        on_run(secs, warmup);
    }
    if let Some(u) = &uploader {
        // Untimed proof that the GPU holds the bytes: its checksum must equal touched CPU rows'.
        out.checksum = Some(u.readback_checksum()?);
        out.adapter = Some(u.adapter().clone());
    }
    if let Some(u) = uploader.as_mut() {
        // the same path's ceiling, in the same process, from warm pre-touched host memory: the
        // median of the samples before and after the runs
        ceiling_rates.extend(u.ceiling(out.bytes, CEILING_RUNS)?);
        ceiling_rates.sort_by(f64::total_cmp);
        out.ceiling_gbps = ceiling_rates.get(ceiling_rates.len() / 2).copied();
    }
    out.gpu_split = crate::report::GpuSplit::mean(&splits);
    out.major_faults = major_faults().map(|_| faults / u64::from(spec.runs.max(1)));
    if measure_rss {
        out.peak_rss_bytes = peak_rss();
    }
    Ok(out)
}

/// Peak resident memory of this process so far (`VmHWM` of `/proc/self/status`, else
/// `getrusage`).
pub fn peak_rss() -> Option<u64> {
    if let Ok(s) = std::fs::read_to_string("/proc/self/status") {
        for line in s.lines() {
            if let Some(v) = line.strip_prefix("VmHWM:") {
                let kb: u64 = v.trim().trim_end_matches("kB").trim().parse().ok()?;
                return Some(kb * 1024);
            }
        }
    }
    // SAFETY: getrusage fills the zeroed struct we own.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    (unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } == 0).then(|| u.ru_maxrss as u64 * 1024)
}

/// The child side: run the case described by `spec_json`, reporting on `out`.
pub fn serve(spec_json: &str, out: &mut dyn Write) -> Result<()> {
    // A child outlives nothing: if the program that started it goes (a TUI quit mid-run, a killed
    // `bench`), the kernel kills the case too instead of letting it load gigabytes for no one.
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_PDEATHSIG) only sets an attribute of this process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    let spec: Spec = serde_json::from_str(spec_json).map_err(|e| Error::Usage(format!("bad bench spec: {e}")))?;
    let io = |e| Error::io("<stdout>", e);
    let mut write_err = None;
    let outcome = execute(&spec, true, &mut |secs, warmup| {
        if let Err(e) = writeln!(out, "run {} {secs:e}", u8::from(warmup)).and_then(|_| out.flush()) {
            write_err.get_or_insert(e);
        }
    })?;
    if let Some(e) = write_err {
        return Err(io(e));
    }
    let json = serde_json::to_string(&outcome).expect("outcome serializes");
    writeln!(out, "done {json}").and_then(|_| out.flush()).map_err(io)
}

/// The parent side: start `exe __bench-child SPEC` and relay its runs to `on_run`.
/// `cancel`, when set from another thread, kills the child at once (checked every 50 ms).
pub fn run_in_child(
    exe: &Path,
    spec: &Spec,
    cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    on_run: &mut dyn FnMut(f64, bool),
) -> Result<Outcome> {
    let json = serde_json::to_string(spec).expect("spec serializes");
    let mut child = Command::new(exe)
        .arg(SUBCOMMAND)
        .arg(&json)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io(exe, e))?;
    let stdout = child.stdout.take().expect("piped");
    let watcher = cancel.map(|cancel| Watcher::start(child.id(), cancel));
    let mut outcome = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| Error::io(exe, e))?;
        if let Some(rest) = line.strip_prefix("run ") {
            let mut it = rest.split(' ');
            let warmup = it.next() == Some("1");
            if let Some(secs) = it.next().and_then(|s| s.parse::<f64>().ok()) {
                on_run(secs, warmup);
            }
        } else if let Some(rest) = line.strip_prefix("done ") {
            outcome = serde_json::from_str::<Outcome>(rest).ok();
        }
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.by_ref().take(64 << 10).read_to_string(&mut err);
    }
    let status = child.wait().map_err(|e| Error::io(exe, e))?;
    drop(watcher);
    match outcome {
        Some(o) if status.success() => Ok(o),
        _ => {
            let msg = err
                .lines()
                .last()
                .unwrap_or("")
                .trim_start_matches("error: ")
                .to_owned();
            Err(Error::Usage(if msg.is_empty() {
                format!("{} failed ({status})", spec.method.as_str())
            } else {
                msg
            }))
        }
    }
}

/// Kills a child process when `cancel` is set; stops watching when dropped.
struct Watcher {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watcher {
    fn start(pid: u32, cancel: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Watcher {
        use std::sync::atomic::Ordering;
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = done.clone();
        let thread = std::thread::spawn(move || {
            while !seen.load(Ordering::Relaxed) {
                if cancel.load(Ordering::Relaxed) {
                    if let Ok(pid) = libc::pid_t::try_from(pid) {
                        // SAFETY: a signal to our own child, which is not yet reaped (the reaping
                        // `wait` happens only after this watcher is dropped and joined)
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                    }
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
        Watcher {
            done,
            thread: Some(thread),
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execute_counts_runs_and_serve_speaks_the_protocol() {
        let dir = tempfile::tempdir().unwrap();
        let pair =
            super::super::synth::write_pair(dir.path(), "m", super::super::synth::Family::Huge, 100_000).unwrap();
        let spec = Spec {
            root: pair.safetensors.clone(),
            files: vec![pair.safetensors.clone()],
            method: Method::SafetensorsRead,
            touched: true,
            touch_threads: 2,
            rank: None,
            cache: CacheState::Cold,
            runs: 3,
            warmup: 1,
            device: Device::Cpu,
            memory: Some(Memory::Fresh),
            upload: gpu::Upload::Ring,
        };
        let mut seen = Vec::new();
        let o = execute(&spec, false, &mut |s, w| seen.push((s, w))).unwrap();
        assert_eq!(o.samples_s.len(), 3);
        assert_eq!(seen.iter().filter(|(_, w)| *w).count(), 1);
        assert!(o.checksum.is_some() && o.cache_dropped.is_some() && o.peak_rss_bytes.is_none());
        let mut out = Vec::new();
        serve(&serde_json::to_string(&spec).unwrap(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().filter(|l| l.starts_with("run ")).count(), 4);
        let done: Outcome = serde_json::from_str(text.lines().last().unwrap().strip_prefix("done ").unwrap()).unwrap();
        assert_eq!(done.checksum, o.checksum);
        assert!(done.peak_rss_bytes.unwrap() > 0);
        assert!(serve("{", &mut Vec::new()).is_err());
    }

    #[test]
    fn peak_rss_is_measured() {
        assert!(peak_rss().unwrap() > 1 << 20);
    }
}
