//! Cancellation and progress for long statistics.
//!
//! A [`Control`] carries an optional cancel flag and an optional progress callback. The statistics
//! check the flag every few thousand elements (one relaxed atomic load, nothing measurable) and stop
//! with [`Cancelled`] soon after it is set; the callback hears `(done, total)` in elements of work
//! about every [`REPORT_EVERY`] elements, where `total` counts every pass (a histogram is a second pass).
//! A `Control` is `Sync`, so several worker threads of one computation may share it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Elements of work between two progress reports.
pub const REPORT_EVERY: u64 = 1 << 22;

/// The statistics were cancelled through [`Control`]'s flag before they finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("statistics cancelled")]
pub struct Cancelled;

/// A progress callback: `(done, total)` elements of work.
pub type ProgressFn<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Cancel flag and progress callback for [`View::stats_with`](super::super::View::stats_with).
#[derive(Default)]
pub struct Control<'a> {
    cancel: Option<&'a AtomicBool>,
    progress: Option<ProgressFn<'a>>,
    done: AtomicU64,
    total: AtomicU64,
    next_report: AtomicU64,
}

impl std::fmt::Debug for Control<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control")
            .field("cancel", &self.cancel)
            .field("progress", &self.progress.is_some())
            .field("done", &self.done)
            .field("total", &self.total)
            .finish()
    }
}

impl<'a> Control<'a> {
    /// No flag, no callback: the computation always finishes.
    pub fn none() -> Self {
        Control::default()
    }

    /// Stop soon after `flag` becomes true.
    pub fn with_cancel(mut self, flag: &'a AtomicBool) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Call `f(done, total)` as the work advances (from the computing thread(s)).
    pub fn with_progress(mut self, f: ProgressFn<'a>) -> Self {
        self.progress = Some(f);
        self
    }

    /// Whether the flag is set.
    pub fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Elements of work done so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Set the total amount of work, in elements (every pass counted).
    pub(crate) fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.next_report.store(REPORT_EVERY, Ordering::Relaxed);
    }

    /// Note `n` more elements of work; `Err` when the flag is set.
    pub(crate) fn tick(&self, n: u64) -> Result<(), Cancelled> {
        let done = self.done.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if let Some(f) = self.progress {
            let next = self.next_report.load(Ordering::Relaxed);
            if done >= next
                && self
                    .next_report
                    .compare_exchange(
                        next,
                        done.saturating_add(REPORT_EVERY),
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                f(done, self.total.load(Ordering::Relaxed).max(done));
            }
        }
        if self.cancelled() { Err(Cancelled) } else { Ok(()) }
    }

    /// Report the end of the work (the callback hears `(total, total)`).
    pub(crate) fn finish(&self) {
        if let Some(f) = self.progress {
            let total = self.total.load(Ordering::Relaxed).max(self.done());
            f(total, total);
        }
    }
}
