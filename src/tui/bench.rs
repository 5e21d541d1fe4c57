//! The Bench view's state and its worker. The worker thread first writes the checkpoint's twin in
//! the other format when it exists in one format only (so zero-copy is always charted against
//! pickle), then runs the core's bench engine ([`tensorscope::bench::run_with`]); every event goes
//! over a std channel, the event loop drains it each tick ([`Worker::poll`]) and feeds each message to
//! `App::update` as `Action::Bench`, so the state below changes only in `update`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};

use tensorscope::bench::{self, Config, Device, Event, Isolation};
use tensorscope::checkpoint;
use tensorscope::report::{self, Report};

mod progress;
pub use progress::{Progress, clock};

/// Stem of the files `e` writes (in the current folder): `tensorscope-bench-20261207-0155.{html,json,md,csv}`.
pub const EXPORT_STEM: &str = "tensorscope-bench";

/// How the per-process twin folders in the temporary folder are named: `tensorscope-twin-<pid>`.
pub const TWIN_PREFIX: &str = "tensorscope-twin-";

/// Remove the twin folders in `parent` whose process is gone: a UI killed mid-bench (SIGKILL, a
/// closed terminal) cannot clean up, so the next one does, at its start. Folders of live processes
/// (this one included) stay; best effort, as a leftover is only disk space.
pub fn sweep_stale_twins(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TWIN_PREFIX))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && pid != std::process::id() && !tensorscope::convert::process_alive(pid) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Most timed runs `+` asks for.
pub const MAX_TUI_RUNS: u32 = 50;

/// What the next run measures: `g`, `c`, `+` and `-` change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// GPU rows: `None` until `g` is pressed, meaning "when an adapter exists".
    pub gpu: Option<bool>,
    /// Drop the page cache before each run.
    pub cold: bool,
    /// Timed runs per case.
    pub runs: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            gpu: None,
            cold: false,
            runs: 5,
        }
    }
}

/// Everything the worker needs to start a run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub path: PathBuf,
    pub settings: Settings,
    /// A folder for the twin, removed on quit.
    pub twin_dir: PathBuf,
}

/// What the engine (or the export) tells the UI.
#[derive(Debug, Clone)]
pub enum BenchMsg {
    /// A progress event of the run.
    Event(Event),
    /// The run ended: its report, or why it failed (one line).
    Done(Result<Box<Report>, String>),
    /// The reports were written there, or could not be.
    Exported(Result<Vec<PathBuf>, String>),
    /// The twin in the other format was written (its path and what it is), or could not be.
    Twin(Result<Option<(PathBuf, String)>, String>),
}

/// Where the Bench view is.
#[derive(Debug, Clone)]
pub enum Phase {
    /// Nothing ran yet.
    Idle,
    /// A run is going.
    Running(Progress),
    /// The last run's report.
    Finished(Box<Report>),
    /// The last run failed (one line).
    Failed(String),
}

/// The Bench view: the phase, and what the last export did.
#[derive(Debug, Clone)]
pub struct BenchState {
    pub phase: Phase,
    pub export: Option<Result<Vec<PathBuf>, String>>,
    pub settings: Settings,
    /// The twin of the last run: its path and a sentence saying what it is (or why none was made).
    pub twin: Option<Result<Option<(PathBuf, String)>, String>>,
    /// The view of the rows and notes below the headline (the list keys scroll it).
    pub view: crate::tui::scroll::Scroll,
    /// Esc or `x` asked the running bench to stop; it ends with the rows measured so far.
    pub cancelling: bool,
}

impl Default for BenchState {
    fn default() -> Self {
        BenchState {
            phase: Phase::Idle,
            export: None,
            settings: Settings::default(),
            twin: None,
            view: Default::default(),
            cancelling: false,
        }
    }
}

impl BenchState {
    pub fn running(&self) -> bool {
        matches!(self.phase, Phase::Running(_))
    }

    /// Start a run unless one is going; `true` when the caller must start the worker.
    pub fn start(&mut self) -> bool {
        if self.running() {
            return false;
        }
        self.phase = Phase::Running(Progress::default());
        self.cancelling = false;
        self.export = None;
        self.view = Default::default();
        true
    }

    /// The finished report, if any.
    pub fn report(&self) -> Option<&Report> {
        match &self.phase {
            Phase::Finished(r) => Some(r),
            _ => None,
        }
    }

    pub fn apply(&mut self, msg: BenchMsg) {
        match msg {
            BenchMsg::Exported(r) => self.export = Some(r),
            BenchMsg::Twin(t) => self.twin = Some(t),
            BenchMsg::Done(r) if self.running() => {
                // the run is over: the footer stops saying "cancelling"
                self.cancelling = false;
                self.phase = match r {
                    Ok(report) => Phase::Finished(report),
                    Err(e) => Phase::Failed(e),
                }
            }
            BenchMsg::Event(e) => {
                if let Phase::Running(p) = &mut self.phase {
                    p.apply(e);
                }
            }
            // a result with no run going (cannot happen with one worker at a time): ignore it
            BenchMsg::Done(_) => {}
        }
    }
}

/// What the TUI measures: the open checkpoint (and its twin) with the settings, cases placed by
/// `isolation`.
pub fn config(paths: Vec<PathBuf>, settings: &Settings, gpu: bool, isolation: Isolation) -> Config {
    let mut c = Config::new(paths);
    c.isolation = isolation;
    c.runs = settings.runs;
    c.cold = settings.cold;
    if gpu {
        c.devices.push(Device::Gpu);
    }
    c
}

/// Each case in a child process (this binary, `__bench-child`), as the CLI does: the peak memory of
/// a case is then its own and gets measured, and the TUI's own maps and previews do not weigh on
/// the numbers. In process only if this program cannot be found.
pub fn isolation() -> Isolation {
    std::env::current_exe()
        .map(Isolation::Child)
        .unwrap_or(Isolation::InProcess)
}

/// Write the twin of `path` in the other format into `dir` ([`bench::twin::write`]): `Some` when
/// written, `None` when both formats are here already, an error (shown as "no twin: …") when
/// nothing comparable exists (a GGUF) or writing failed.
pub fn write_twin(
    path: &Path,
    dir: &Path,
    remote: &tensorscope::remote::Env,
) -> Result<Option<(PathBuf, String)>, String> {
    let opts = checkpoint::OpenOptions {
        remote: Some(remote.clone()),
        ..Default::default()
    };
    let ck = checkpoint::open_with(path, &opts).map_err(|e| e.to_string())?;
    match bench::twin::write(path, &ck, dir).map_err(|e| e.to_string())? {
        bench::twin::Twin::Written { path, what } => Ok(Some((path, what))),
        bench::twin::Twin::Present => Ok(None),
        bench::twin::Twin::None(why) => Err(why),
    }
}

/// A running benchmark: its thread's channel and its cancel flag.
pub struct Worker {
    rx: Receiver<BenchMsg>,
    done: bool,
    cancel: Arc<AtomicBool>,
}

impl Worker {
    pub fn start(plan: Plan, isolation: Isolation, remote: tensorscope::remote::Env) -> Worker {
        let (tx, rx) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        std::thread::spawn(move || run(plan, isolation, &remote, flag, &tx));
        Worker {
            rx,
            done: false,
            cancel,
        }
    }

    /// Stop the run: the case running is abandoned (its child killed), and the report that follows
    /// keeps the rows measured so far.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Everything that arrived since the last call, without blocking; ends with `Done`. Dropping a
    /// `Worker` detaches the thread (quitting never waits).
    pub fn poll(&mut self) -> Vec<BenchMsg> {
        let out: Vec<BenchMsg> = self.rx.try_iter().collect();
        if out.iter().any(|m| matches!(m, BenchMsg::Done(_))) {
            self.done = true;
        }
        out
    }

    /// Whether the final `Done` was handed out.
    pub fn done(&self) -> bool {
        self.done
    }
}

fn run(
    plan: Plan,
    isolation: Isolation,
    remote: &tensorscope::remote::Env,
    cancel: Arc<AtomicBool>,
    tx: &Sender<BenchMsg>,
) {
    let Some(twin) = twin_or_cancel(&plan, remote, &cancel) else {
        let _ = tx.send(BenchMsg::Twin(Err("cancelled while it was being written".into())));
        let _ = tx.send(BenchMsg::Done(Err(CANCELLED_EARLY.into())));
        return;
    };
    let mut paths = vec![plan.path.clone()];
    if let Ok(Some((p, _))) = &twin {
        paths.push(p.clone());
    }
    let _ = tx.send(BenchMsg::Twin(twin));
    let gpu = plan.settings.gpu.unwrap_or_else(|| !bench::gpu::adapters().is_empty());
    let mut config = config(paths, &plan.settings, gpu, isolation);
    config.cancel = Some(cancel);
    let r = bench::run_with(&config, |e| {
        let _ = tx.send(BenchMsg::Event(e.clone()));
    });
    let _ = tx.send(BenchMsg::Done(r.map(Box::new).map_err(|e| e.to_string())));
}

/// What a run cancelled before its first case ends with.
pub const CANCELLED_EARLY: &str = "cancelled while the twin was being written: nothing was measured (r runs again)";

/// The twin, written on a thread of its own so that a cancel is answered at once (a 500 MB twin
/// takes seconds and its writer cannot stop): `None` when cancelled first. Each run writes into a
/// folder of its own under the twin folder, so an abandoned writer never shares a file with the
/// next run; it removes its folder when it ends, and the whole twin folder goes on quit.
fn twin_or_cancel(
    plan: &Plan,
    remote: &tensorscope::remote::Env,
    cancel: &AtomicBool,
) -> Option<Result<Option<(PathBuf, String)>, String>> {
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = plan
        .twin_dir
        .join(format!("run-{}", RUNS.fetch_add(1, Ordering::Relaxed)));
    let (ttx, trx) = channel();
    let (path, remote, abandoned) = (plan.path.clone(), remote.clone(), Arc::new(AtomicBool::new(false)));
    let gone = abandoned.clone();
    let writer_dir = dir.clone();
    std::thread::spawn(move || {
        let r = write_twin(&path, &writer_dir, &remote);
        if gone.load(Ordering::Relaxed) {
            let _ = std::fs::remove_dir_all(&writer_dir);
        }
        let _ = ttx.send(r);
    });
    loop {
        match trx.recv_timeout(std::time::Duration::from_millis(20)) {
            Ok(r) => return Some(r),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if cancel.load(Ordering::Relaxed) => {
                abandoned.store(true, Ordering::Relaxed);
                return None;
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                return Some(Err("the twin writer stopped".into()));
            }
        }
    }
}

/// Write `report` as HTML, JSON, Markdown and CSV to `dir` with the time in their names, each
/// atomically, never over a file there (see [`super::export::write_all`]).
pub fn export(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let formats = [
        ("html", report::Format::Html),
        ("json", report::Format::Json),
        ("md", report::Format::Markdown),
        ("csv", report::Format::Csv),
    ];
    let files = formats.map(|(ext, format)| (ext, report::render(report, format)));
    super::export::write_all(dir, EXPORT_STEM, files.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_twins_of_dead_processes_are_swept_and_live_ones_kept() {
        let parent = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let mk = |name: String| {
            let d = parent.path().join(name);
            std::fs::create_dir(&d).unwrap();
            std::fs::write(d.join("twin.bin"), b"x").unwrap();
            d
        };
        let stale = mk(format!("{TWIN_PREFIX}{dead}"));
        let mine = mk(format!("{TWIN_PREFIX}{}", std::process::id()));
        let other = mk(format!("{TWIN_PREFIX}notapid"));
        sweep_stale_twins(parent.path());
        assert!(!stale.exists(), "the dead process's twin is swept");
        assert!(mine.exists() && other.exists());
    }
    use tensorscope::report::sample;

    fn ev(e: Event) -> BenchMsg {
        BenchMsg::Event(e)
    }

    #[test]
    fn events_drive_progress_then_the_report() {
        let mut s = BenchState::default();
        assert!(s.start());
        assert!(!s.start(), "one run at a time");
        s.apply(ev(Event::Planned { cases: 2, runs: 4 }));
        s.apply(ev(Event::CaseStarted {
            index: 0,
            label: "safetensors-mmap untouched".into(),
        }));
        s.apply(ev(Event::Run {
            index: 0,
            seconds: 0.1,
            warmup: true,
        }));
        let Phase::Running(p) = &s.phase else { panic!("running") };
        assert_eq!((p.runs_done, p.runs_planned, p.cases), (1, 4, 2));
        assert_eq!(p.ratio(), 0.25);
        assert_eq!(p.case.as_ref().unwrap().1, "safetensors-mmap untouched");
        let row = sample::report().results[0].clone();
        s.apply(ev(Event::CaseDone {
            index: 0,
            result: Box::new(row),
        }));
        s.apply(ev(Event::CaseFailed {
            index: 1,
            error: "pickle-eager: no pickle".into(),
        }));
        let Phase::Running(p) = &s.phase else { panic!("running") };
        assert_eq!((p.rows.len(), p.failures.len()), (1, 1));
        s.apply(ev(Event::Finished));
        assert!(s.running(), "the report comes with Done");
        s.apply(BenchMsg::Done(Ok(Box::new(sample::report()))));
        assert_eq!(s.report().unwrap().results.len(), 4);
        // stray events after the end change nothing
        s.apply(ev(Event::Planned { cases: 9, runs: 9 }));
        assert!(s.report().is_some());
    }

    /// A worker cancelled at once ends within a second: while the twin is written (nothing measured,
    /// said so), or with a report of no rows that says it was cancelled.
    #[test]
    fn a_cancelled_worker_ends_with_the_rows_measured() {
        let twin = tempfile::tempdir().unwrap();
        let plan = Plan {
            path: concat!(env!("CARGO_MANIFEST_DIR"), "/samples/gpt2-tiny.safetensors").into(),
            settings: Settings {
                gpu: Some(false),
                ..Settings::default()
            },
            twin_dir: twin.path().to_path_buf(),
        };
        let mut w = Worker::start(plan, Isolation::InProcess, tensorscope::remote::Env::default());
        w.cancel();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let done = loop {
            let done = w.poll().into_iter().find_map(|m| match m {
                BenchMsg::Done(r) => Some(r),
                _ => None,
            });
            if let Some(r) = done {
                break r;
            }
            assert!(std::time::Instant::now() < deadline, "hang guard");
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        match done {
            Err(e) => assert_eq!(e, CANCELLED_EARLY),
            Ok(report) => {
                assert!(report.results.is_empty() && report.ceilings.is_empty());
                assert!(
                    report
                        .caveats
                        .iter()
                        .any(|c| c.starts_with("cancelled by the user: 0 of ")),
                    "{:?}",
                    report.caveats
                );
            }
        }
    }

    #[test]
    fn an_error_then_a_rerun() {
        let mut s = BenchState::default();
        s.start();
        s.apply(BenchMsg::Done(Err("no such file".into())));
        assert!(matches!(&s.phase, Phase::Failed(e) if e == "no such file"));
        assert!(s.start(), "r retries after an error");
        let Phase::Running(p) = &s.phase else { panic!("running") };
        assert_eq!((p.runs_done, p.ratio()), (0, 0.0), "fresh progress");
        s.apply(BenchMsg::Done(Ok(Box::new(sample::report()))));
        s.apply(BenchMsg::Exported(Ok(vec![PathBuf::from("x.json")])));
        assert!(s.export.is_some());
        assert!(s.start(), "r reruns after a report");
        assert!(s.export.is_none() && s.report().is_none());
    }

    #[test]
    fn export_writes_every_format_atomically_with_readable_names() {
        let dir = tempfile::tempdir().unwrap();
        let paths = export(&sample::report(), dir.path()).unwrap();
        assert_eq!(paths.len(), 4);
        let name = paths[1].file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("tensorscope-bench-") && name.ends_with(".json"),
            "{name}"
        );
        let back: Report = serde_json::from_str(&std::fs::read_to_string(&paths[1]).unwrap()).unwrap();
        assert_eq!(back.results.len(), 4);
        assert!(std::fs::read_to_string(&paths[0]).unwrap().contains("<svg"));
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 4, "html, json, md, csv; no temporary file left");
        assert!(paths[2].to_string_lossy().ends_with(".md") && paths[3].to_string_lossy().ends_with(".csv"));
        let e = export(&sample::report(), &dir.path().join("missing")).unwrap_err();
        assert!(e.starts_with("cannot write"), "{e}");
    }
}
