//! What the preview pane shows for one tensor: its first values and its statistics. Computed on a
//! worker thread (see `work.rs`) with a cancel flag, so a long statistic never blocks the UI. Large
//! tensors are sampled for the interactive view (the pane says so); `s` asks for exact ones.

use std::sync::atomic::AtomicBool;

use tensorscope::checkpoint::Checkpoint;
use tensorscope::tensor::{Cancelled, Control, Stats, StatsOptions, View, format};

/// Values shown in the pane.
pub const PREVIEW_VALUES: usize = 64;
/// Above this many elements the interactive statistics look at a sample of about this size.
pub const SAMPLE_ELEMENTS: u64 = 1 << 20;
/// Histogram bins.
pub const BINS: usize = 24;

/// The computed preview of tensor `index`.
#[derive(Debug, Clone)]
pub struct Preview {
    pub index: usize,
    /// Whether exact statistics were asked for.
    pub exact: bool,
    /// The first values, formatted, in logical (row-major) order.
    pub values: Vec<String>,
    /// Whether more values exist than `rows` show.
    pub more: bool,
    pub stats: Option<Stats>,
    /// Why values could not be shown (torch-only dtype, damaged file, …).
    pub error: Option<String>,
}

impl Preview {
    /// The preview of tensor `index`; `Err(Cancelled)` once `cancel` is set.
    pub fn compute(ck: &Checkpoint, index: usize, exact: bool, cancel: &AtomicBool) -> Result<Preview, Cancelled> {
        let mut p = Preview {
            index,
            exact,
            values: Vec::new(),
            more: false,
            stats: None,
            error: None,
        };
        let Some(t) = ck.tensors.get(index) else { return Ok(p) };
        let view = match View::of(ck, t) {
            Ok(v) => v,
            Err(e) => {
                p.error = Some(e.to_string());
                return Ok(p);
            }
        };
        let values = view.first(PREVIEW_VALUES);
        p.more = view.numel() > values.len() as u64;
        p.values = values.into_iter().map(|v| format::value(t.dtype, v)).collect();
        let sample = (!exact && view.numel() > SAMPLE_ELEMENTS).then_some(SAMPLE_ELEMENTS);
        let ctl = Control::none().with_cancel(cancel);
        p.stats = Some(view.stats_with(&StatsOptions { bins: BINS, sample }, &ctl)?);
        if let Err(e) = ck.check_intact() {
            p.values.clear();
            p.more = false;
            p.stats = None;
            p.error = Some(e.to_string());
        }
        Ok(p)
    }
}
