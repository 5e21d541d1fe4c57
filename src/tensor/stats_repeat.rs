//! Views that repeat elements: a dimension with stride 0 (`expand`, broadcasting) shows the same
//! storage elements again and again. The statistics of such a view are those of the view without its
//! zero-stride dimensions, each element weighted by the product of their sizes — exact, and as fast as
//! the distinct elements are few, however many elements the view has (`expand` to 2^40 included).

use super::{Acc, Histogram, View};

/// The view without its zero-stride dimensions, and how many times the full view repeats each element
/// of it (1 when nothing repeats).
pub(super) fn distinct<'a>(view: &View<'a>) -> (View<'a>, u64) {
    if view.numel == 0 || !view.shape.iter().zip(&view.strides).any(|(&d, &s)| s == 0 && d > 1) {
        return (view.clone(), 1);
    }
    let (mut shape, mut strides, mut repeat) = (Vec::new(), Vec::new(), 1u64);
    for (&d, &s) in view.shape.iter().zip(&view.strides) {
        if s == 0 {
            // the product of all sizes fits in u64 (the view's numel), so this does too
            repeat = repeat.saturating_mul(d);
        } else {
            shape.push(d);
            strides.push(s);
        }
    }
    let numel = view.numel / repeat.max(1);
    let reduced = View {
        dtype: view.dtype,
        shape,
        strides,
        offset: view.offset,
        data: view.data,
        numel,
    };
    (reduced, repeat)
}

/// Scale totals computed over the distinct elements to the full view, where each appears `repeat` times.
pub(super) fn scale(acc: &mut Acc, hist: &mut Option<Histogram>, repeat: u64) {
    if repeat <= 1 {
        return;
    }
    for c in [
        &mut acc.count,
        &mut acc.n,
        &mut acc.nan,
        &mut acc.posinf,
        &mut acc.neginf,
        &mut acc.zeros,
    ] {
        *c = c.saturating_mul(repeat);
    }
    // each deviation from the (unchanged) mean appears `repeat` times
    acc.m2 *= repeat as f64;
    if let Some(h) = hist {
        for c in &mut h.counts {
            *c = c.saturating_mul(repeat);
        }
    }
}
