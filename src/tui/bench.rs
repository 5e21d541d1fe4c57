//! The Bench view's state and its worker: the core's bench engine ([`tensorscope::bench::spawn`])
//! runs on its own thread; the event loop drains its channel each tick ([`Worker::poll`]) and feeds
//! every message to `App::update` as `Action::Bench`, so the state below changes only in `update`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::thread::JoinHandle;

use tensorscope::bench::{self, Config, Event, Isolation};
use tensorscope::report::{self, BenchResult, Report};

/// Where `e` writes the report (in the current folder).
pub const EXPORT_NAME: &str = "tensorscope-bench.json";

/// What the engine (or the export) tells the UI.
#[derive(Debug, Clone)]
pub enum BenchMsg {
    /// A progress event of the run.
    Event(Event),
    /// The run ended: its report, or why it failed (one line).
    Done(Result<Box<Report>, String>),
    /// The report was written there, or could not be.
    Exported(Result<PathBuf, String>),
}

/// Progress of a run, built from its events.
#[derive(Debug, Default, Clone)]
pub struct Progress {
    /// Cases planned (0 until the plan is ready).
    pub cases: usize,
    /// Runs planned, warm-ups included.
    pub runs_planned: u64,
    /// Runs finished.
    pub runs_done: u64,
    /// The case running now: its index and label.
    pub case: Option<(usize, String)>,
    /// Rows measured so far.
    pub rows: Vec<BenchResult>,
    /// Cases that could not run, one line each.
    pub failures: Vec<String>,
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
    pub export: Option<Result<PathBuf, String>>,
}

impl Default for BenchState {
    fn default() -> Self {
        BenchState {
            phase: Phase::Idle,
            export: None,
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
        self.export = None;
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
            BenchMsg::Done(r) if self.running() => {
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

impl Progress {
    fn apply(&mut self, e: Event) {
        match e {
            Event::Writing { .. } | Event::Finished => {}
            Event::Planned { cases, runs } => {
                self.cases = cases;
                self.runs_planned = runs;
            }
            Event::CaseStarted { index, label } => self.case = Some((index, label)),
            Event::Run { .. } => self.runs_done += 1,
            Event::CaseDone { result, .. } => self.rows.push(*result),
            Event::CaseFailed { error, .. } => self.failures.push(error),
        }
    }

    /// Runs done over runs planned, in 0..=1.
    pub fn ratio(&self) -> f64 {
        if self.runs_planned == 0 {
            0.0
        } else {
            (self.runs_done as f64 / self.runs_planned as f64).clamp(0.0, 1.0)
        }
    }
}

/// What the TUI measures: the open checkpoint with the engine's defaults (5 runs, 1 warm-up, warm
/// cache, CPU), cases placed by `isolation`.
pub fn config(path: &Path, isolation: Isolation) -> Config {
    let mut c = Config::new(vec![path.to_path_buf()]);
    c.isolation = isolation;
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

/// A running benchmark: the engine's channel and thread.
pub struct Worker {
    rx: Receiver<Event>,
    handle: Option<JoinHandle<tensorscope::Result<Report>>>,
}

impl Worker {
    pub fn start(config: Config) -> Worker {
        let (rx, handle) = bench::spawn(config);
        Worker {
            rx,
            handle: Some(handle),
        }
    }

    /// Everything that arrived since the last call, without blocking; ends with `Done` once the
    /// engine thread has returned. Dropping a `Worker` detaches the thread (quitting never waits).
    pub fn poll(&mut self) -> Vec<BenchMsg> {
        let mut out = Vec::new();
        loop {
            match self.rx.try_recv() {
                Ok(e) => out.push(BenchMsg::Event(e)),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    // the sender lives in the thread's closure: the thread is returning
                    if self.handle.as_ref().is_some_and(|h| h.is_finished()) {
                        let h = self.handle.take().expect("checked");
                        out.push(BenchMsg::Done(match h.join() {
                            Ok(Ok(r)) => Ok(Box::new(r)),
                            Ok(Err(e)) => Err(e.to_string()),
                            Err(_) => Err("the benchmark thread panicked".into()),
                        }));
                    }
                    break;
                }
            }
        }
        out
    }

    /// Whether the final `Done` was handed out.
    pub fn done(&self) -> bool {
        self.handle.is_none()
    }
}

/// Write `report` as JSON to [`EXPORT_NAME`] in `dir`, atomically (a temporary file, then rename).
pub fn export(report: &Report, dir: &Path) -> Result<PathBuf, String> {
    let path = dir.join(EXPORT_NAME);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(".{EXPORT_NAME}.{}-{nanos}.tmp", std::process::id()));
    let text = report::render(report, report::Format::Json);
    // create_new: never follows a link planted under the temporary name (shared folders)
    let written = std::fs::File::create_new(&tmp)
        .and_then(|mut f| f.write_all(text.as_bytes()).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, &path));
    match written {
        Ok(()) => Ok(path),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(format!("cannot write {}: {e}", tensorscope::text::path(&path)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        s.apply(BenchMsg::Exported(Ok(PathBuf::from("x.json"))));
        assert!(s.export.is_some());
        assert!(s.start(), "r reruns after a report");
        assert!(s.export.is_none() && s.report().is_none());
    }

    #[test]
    fn export_writes_json_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = export(&sample::report(), dir.path()).unwrap();
        assert_eq!(path, dir.path().join(EXPORT_NAME));
        let back: Report = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(back.results.len(), 4);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left");
        let e = export(&sample::report(), &dir.path().join("missing")).unwrap_err();
        assert!(e.starts_with("cannot write"), "{e}");
    }
}
