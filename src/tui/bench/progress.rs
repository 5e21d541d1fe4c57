//! A running benchmark's progress, built from the engine's events: runs done, the rows measured, and
//! the ETA. The plan runs each method untouched (a lazy load reads next to nothing: microseconds)
//! before touched (every byte read), so the early runs say little about the later ones: the ETA
//! waits for a touched case and then counts every run left at the slowest case's pace.

use tensorscope::bench::Event;
use tensorscope::report::BenchResult;

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
    /// Seconds of each run of the case running.
    case_runs: Vec<f64>,
    /// The median run of each case finished: what the ETA is made of.
    case_medians: Vec<f64>,
    /// Whether the case running reads every byte (`… touched`).
    case_touched: bool,
    /// Whether a case that reads every byte has run.
    touched_seen: bool,
}

impl Progress {
    pub fn apply(&mut self, e: Event) {
        match e {
            Event::Writing { .. } | Event::Finished => {}
            Event::Planned { cases, runs } => {
                self.cases = cases;
                self.runs_planned = runs;
            }
            Event::CaseStarted { index, label } => {
                self.case_touched = label.split_whitespace().any(|w| w == "touched");
                self.case = Some((index, label));
                self.case_runs.clear();
            }
            Event::Run { seconds, .. } => {
                self.runs_done += 1;
                if seconds.is_finite() && seconds >= 0.0 {
                    self.case_runs.push(seconds);
                    self.touched_seen |= self.case_touched;
                }
            }
            Event::CaseDone { result, .. } => {
                self.rows.push(*result);
                self.case_medians.extend(median(&self.case_runs));
                self.case_runs.clear();
            }
            Event::CaseFailed { error, .. } => {
                self.failures.push(error);
                self.case_runs.clear();
            }
        }
    }

    /// Seconds left: the runs still to go at the pace of the slowest case so far (its median run;
    /// the case running counts with its runs so far). `None` (estimating) until a case that reads
    /// every byte has run: before that the fast untouched runs would promise a tenth of the time.
    pub fn eta(&self) -> Option<f64> {
        if !self.touched_seen {
            return None;
        }
        let per_run = self
            .case_medians
            .iter()
            .copied()
            .chain(median(&self.case_runs))
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))?;
        Some(per_run * self.runs_planned.saturating_sub(self.runs_done) as f64)
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

/// The median of `xs` (the mean of the middle two for an even count); `None` when empty.
fn median(xs: &[f64]) -> Option<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// `0:42`, `12:05`, `1:02:03`.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: &mut Progress, seconds: f64) {
        p.apply(Event::Run {
            index: 0,
            seconds,
            warmup: false,
        });
    }

    fn case(p: &mut Progress, label: &str, runs: &[f64]) {
        p.apply(Event::CaseStarted {
            index: 0,
            label: label.into(),
        });
        for &s in runs {
            run(p, s);
        }
    }

    fn done(p: &mut Progress) {
        p.apply(Event::CaseDone {
            index: 0,
            result: Box::new(tensorscope::report::sample::report().results[0].clone()),
        });
    }

    #[test]
    fn the_eta_waits_for_a_touched_case_then_counts_at_the_slowest_pace() {
        let mut p = Progress::default();
        p.apply(Event::Planned { cases: 4, runs: 12 });
        assert_eq!(p.eta(), None, "nothing measured yet: no guess");
        // an untouched lazy load: fast, and no guide to what follows
        case(&mut p, "safetensors-mmap", &[0.001, 0.003, 0.002]);
        done(&mut p);
        assert_eq!(p.eta(), None, "estimating until a case reads every byte");
        case(&mut p, "safetensors-mmap touched", &[1.0]);
        // the running touched case, 1 s a run, 8 runs left
        assert_eq!(p.eta(), Some(8.0));
        run(&mut p, 3.0);
        run(&mut p, 2.0);
        done(&mut p);
        // medians 0.002 and 2: the slowest pace, 6 runs left
        assert_eq!(p.eta(), Some(12.0));
        case(&mut p, "pickle-eager fresh", &[10.0]);
        assert_eq!(p.eta(), Some(50.0));
        assert_eq!(clock(30.0), "0:30");
        assert_eq!(clock(3725.0), "1:02:05");
    }
}
