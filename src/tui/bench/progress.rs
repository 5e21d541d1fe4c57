//! A running benchmark's progress, built from the engine's events: runs done, the rows measured, and
//! the ETA from the per-case medians measured so far.

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
                self.case = Some((index, label));
                self.case_runs.clear();
            }
            Event::Run { seconds, .. } => {
                self.runs_done += 1;
                if seconds.is_finite() && seconds >= 0.0 {
                    self.case_runs.push(seconds);
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

    /// Seconds left, estimated from the per-case medians measured so far (the case running counts
    /// with its runs so far): the median of them times the runs still to go. `None` before any run.
    pub fn eta(&self) -> Option<f64> {
        let mut meds = self.case_medians.clone();
        meds.extend(median(&self.case_runs));
        let per_run = median(&meds)?;
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

    #[test]
    fn the_eta_is_the_median_case_run_times_the_runs_left() {
        let mut p = Progress::default();
        p.apply(Event::Planned { cases: 3, runs: 9 });
        assert_eq!(p.eta(), None, "nothing measured yet: no guess");
        p.apply(Event::CaseStarted {
            index: 0,
            label: "a".into(),
        });
        for s in [1.0, 3.0, 2.0] {
            run(&mut p, s);
        }
        p.apply(Event::CaseDone {
            index: 0,
            result: Box::new(tensorscope::report::sample::report().results[0].clone()),
        });
        // one case, median run 2 s, 6 runs left
        assert_eq!(p.eta(), Some(12.0));
        p.apply(Event::CaseStarted {
            index: 1,
            label: "b".into(),
        });
        run(&mut p, 10.0);
        // per-case medians 2 and 10: 6 s a run, 5 runs left
        assert_eq!(p.eta(), Some(30.0));
        assert_eq!(clock(30.0), "0:30");
        assert_eq!(clock(3725.0), "1:02:05");
    }
}
