//! What the preview pane shows for one tensor: its first values and its statistics.
//! Large tensors are sampled for the interactive view (the pane says so); `s` asks for exact ones.

use tensorscope::checkpoint::Checkpoint;
use tensorscope::tensor::{Stats, StatsOptions, View, format};

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
    /// The first values, formatted, in logical (row-major) order.
    pub values: Vec<String>,
    /// Whether more values exist than `rows` show.
    pub more: bool,
    pub stats: Option<Stats>,
    /// Why values could not be shown (torch-only dtype, damaged file, …).
    pub error: Option<String>,
}

impl Preview {
    pub fn compute(ck: &Checkpoint, index: usize, exact: bool) -> Preview {
        let mut p = Preview {
            index,
            values: Vec::new(),
            more: false,
            stats: None,
            error: None,
        };
        let Some(t) = ck.tensors.get(index) else { return p };
        let view = match View::of(ck, t) {
            Ok(v) => v,
            Err(e) => {
                p.error = Some(e.to_string());
                return p;
            }
        };
        let values = view.first(PREVIEW_VALUES);
        p.more = view.numel() > values.len() as u64;
        p.values = values.into_iter().map(|v| format::value(t.dtype, v)).collect();
        let sample = (!exact && view.numel() > SAMPLE_ELEMENTS).then_some(SAMPLE_ELEMENTS);
        p.stats = Some(view.stats(&StatsOptions { bins: BINS, sample }));
        if let Err(e) = ck.check_intact() {
            p = Preview {
                index,
                values: Vec::new(),
                more: false,
                stats: None,
                error: Some(e.to_string()),
            };
        }
        p
    }
}
