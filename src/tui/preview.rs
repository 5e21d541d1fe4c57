//! What the preview pane shows for one tensor, as `show` prints it: the first values laid out by shape,
//! the statistics labelled exact or sampled, the histogram, and for GGML block types the block-scale
//! check. Computed on a worker thread (see `work.rs`) with a cancel flag, so a long statistic never
//! blocks the UI. Large tensors are sampled for the interactive view (the pane says so); `s` asks for
//! exact ones. Over the network, a tensor larger than [`REMOTE_BUDGET`] is not fetched whole until `s`:
//! only the bytes of the values shown are.

use std::sync::atomic::AtomicBool;

use tensorscope::checkpoint::Checkpoint;
use tensorscope::formats::gguf::scales::ScaleCheck;
use tensorscope::tensor::{Cancelled, Control, Stats, StatsOptions, View, format, layout};

/// Values shown in the pane (it scrolls).
pub const PREVIEW_VALUES: usize = 256;
/// Above this many elements the interactive statistics look at a sample of about this size: the
/// plan of `show --sample` (the same blocks, so the same figures).
pub const SAMPLE_ELEMENTS: u64 = tensorscope::tensor::stats::DEFAULT_SAMPLE;
/// Histogram bins (`show`'s default).
pub const BINS: usize = 20;
/// A remote tensor larger than this is fetched whole only when exact statistics are asked for.
pub const REMOTE_BUDGET: u64 = 4 << 20;
/// A local GGML tensor larger than this gets its block-scale check only with exact statistics (the
/// check reads every block's scale, so every page of the tensor).
pub const SCALE_CHECK_BUDGET: u64 = 64 << 20;

/// The computed preview of tensor `index`.
#[derive(Debug, Clone)]
pub struct Preview {
    pub index: usize,
    /// Whether exact statistics were asked for.
    pub exact: bool,
    /// The first values, formatted, in logical (row-major) order.
    pub values: Vec<String>,
    /// Elements of the tensor.
    pub numel: u64,
    pub stats: Option<Stats>,
    /// GGML block types: blocks whose scale is NaN or infinite.
    pub scales: Option<ScaleCheck>,
    /// Why statistics (or the scale check) were left for `s`: a remote tensor over the budget.
    pub deferred: Option<String>,
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
            numel: 0,
            stats: None,
            scales: None,
            deferred: None,
            error: None,
        };
        let Some(t) = ck.tensors.get(index) else { return Ok(p) };
        let size = t.storage.end.saturating_sub(t.storage.start);
        let partial = ck.is_remote() && !exact && size > REMOTE_BUDGET;
        let view = if partial {
            // only the bytes of the values shown come over the network (as `show` fetches them)
            ck.mapped_storage_bytes(t)
                .map_err(|e| e.to_string())
                .and_then(|b| View::from_parts(t.dtype, &t.shape, &t.strides, t.offset, b))
                .and_then(|v| {
                    ck.fetch(t.file, &layout::shown_bytes(&v, t, PREVIEW_VALUES))
                        .map(|()| v)
                        .map_err(|e| e.to_string())
                })
        } else {
            View::of(ck, t).map_err(|e| e.to_string())
        };
        let view = match view {
            Ok(v) => v,
            Err(e) => {
                p.error = Some(e);
                return Ok(p);
            }
        };
        p.numel = view.numel();
        p.values = view
            .first(PREVIEW_VALUES)
            .into_iter()
            .map(|v| format::value(t.dtype, v))
            .collect();
        if partial {
            p.deferred = Some(format!(
                "statistics not fetched: the tensor is {} over the network; s fetches it and computes them",
                tensorscope::text::bytes(size)
            ));
        } else {
            let sample = (!exact && view.numel() > SAMPLE_ELEMENTS).then_some(SAMPLE_ELEMENTS);
            let ctl = Control::none().with_cancel(cancel);
            p.stats = Some(view.stats_with(&StatsOptions { bins: BINS, sample }, &ctl)?);
            if exact || size <= SCALE_CHECK_BUDGET {
                p.scales = tensorscope::checkpoint::gguf::scale_check(ck, t).ok().flatten();
            } else if t.dtype.is_ggml_block() {
                p.deferred = Some("block scales not checked on a sample: s checks every block".into());
            }
        }
        if let Err(e) = ck.check_intact() {
            p.values.clear();
            p.stats = None;
            p.scales = None;
            p.error = Some(e.to_string());
        }
        Ok(p)
    }
}
