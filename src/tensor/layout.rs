//! How a tensor is shown as text, the same in `show` and in the TUI's preview: the first values laid out
//! by shape with the stored indices of each line (`[0, 0:6]`), the statistics labelled exact or sampled,
//! the histogram rows, and the GGML block-scale finding. Everything returns lines; the caller writes or
//! draws them.
//!
//! ```
//! use tensorscope::tensor::layout::{axes_of, value_lines};
//! let texts: Vec<String> = (0..6).map(|i| i.to_string()).collect();
//! let lines = value_lines(&[2, 3], &texts, &axes_of(&[2, 3], &[]), 8);
//! assert_eq!(lines[0].label, "[0, 0:3]");
//! assert_eq!(lines[1].cells, ["3", "4", "5"]);
//! ```

use std::ops::Range;

use crate::checkpoint::{DType, TensorInfo};
use crate::formats::gguf::scales::ScaleCheck;

use super::decode::is_integer;
use super::{Histogram, SliceDim, Stats, Value, View, format};

/// How one axis of the stored tensor maps to a view a slice made: fixed at an index (the axis is
/// gone), or view index `k` is stored index `start + k * step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// The axis was indexed away at this stored index.
    Fixed(u64),
    /// View index `k` is stored index `start + k * step`.
    Range { start: u64, step: u64 },
}

/// The axes of a stored tensor of `shape` after `dims` (already checked by `View::slice`).
pub fn axes_of(shape: &[u64], dims: &[SliceDim]) -> Vec<Axis> {
    shape
        .iter()
        .enumerate()
        .map(|(axis, &d)| {
            let di = i64::try_from(d).unwrap_or(i64::MAX);
            let clamp = |v: i64| if v < 0 { (v + di).max(0) } else { v.min(di) };
            match dims.get(axis) {
                None => Axis::Range { start: 0, step: 1 },
                Some(SliceDim::Index(i)) => Axis::Fixed(if *i < 0 { i + di } else { *i }.max(0) as u64),
                Some(SliceDim::Range(a, _, step)) => Axis::Range {
                    start: a.map_or(0, clamp) as u64,
                    step: *step,
                },
            }
        })
        .collect()
}

/// The label of a line of values: the stored tensor's indices (absolute, also after a slice), the
/// last view axis as the range `a:b` (`a:b:step` when strided).
pub fn line_label(axes: &[Axis], lead: &[u64], col: u64, n: u64) -> String {
    let mut view_axis = 0;
    let ranged = axes.iter().filter(|a| matches!(a, Axis::Range { .. })).count();
    let mut parts = Vec::with_capacity(axes.len());
    for a in axes {
        match *a {
            Axis::Fixed(i) => parts.push(i.to_string()),
            Axis::Range { start, step } => {
                if view_axis + 1 == ranged {
                    let a = start.saturating_add(col.saturating_mul(step));
                    let b = start
                        .saturating_add((col + n).saturating_sub(1).saturating_mul(step))
                        .saturating_add(1);
                    parts.push(if step == 1 {
                        format!("{a}:{b}")
                    } else {
                        format!("{a}:{b}:{step}")
                    });
                } else {
                    let i = lead.get(view_axis).copied().unwrap_or(0);
                    parts.push(start.saturating_add(i.saturating_mul(step)).to_string());
                }
                view_axis += 1;
            }
        }
    }
    format!("[{}]", parts.join(", "))
}

/// One line of values: its label and its cells (unpadded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueLine {
    pub label: String,
    pub cells: Vec<String>,
}

/// The first values of a view of `shape` (already formatted, row-major) in lines of at most
/// `per_line` cells, each line within one row of the last dimension and labelled with its indices.
/// A 0-d view is one unlabelled line.
pub fn value_lines(shape: &[u64], texts: &[String], axes: &[Axis], per_line: usize) -> Vec<ValueLine> {
    let Some((&last, leading)) = shape.split_last() else {
        return texts
            .first()
            .map(|t| ValueLine {
                label: String::new(),
                cells: vec![t.clone()],
            })
            .into_iter()
            .collect();
    };
    let row = last.max(1);
    let per_line = per_line.max(1) as u64;
    let shown = texts.len() as u64;
    let mut lines = Vec::new();
    let mut i = 0u64;
    while i < shown {
        let col = i % row;
        let n = (row - col).min(per_line).min(shown - i);
        // indices of the leading dimensions for element i
        let mut rest = i / row;
        let mut lead: Vec<u64> = Vec::with_capacity(leading.len());
        for &d in leading.iter().rev() {
            lead.push(rest % d.max(1));
            rest /= d.max(1);
        }
        lead.reverse();
        lines.push(ValueLine {
            label: line_label(axes, &lead, col, n),
            cells: texts[i as usize..(i + n) as usize].to_vec(),
        });
        i += n;
    }
    lines
}

/// `values (first 32 of 36864, row-major):`, or `values:` when every value is shown.
pub fn values_heading(shown: u64, numel: u64) -> String {
    if shown < numel {
        format!("values (first {shown} of {numel}, row-major):")
    } else {
        "values:".to_string()
    }
}

/// The statistics as lines: `stats (exact):` or `stats (sampled: …):`, then the counts, then min, max,
/// mean and std in the dtype's digits.
pub fn stats_lines(dtype: DType, s: &Stats) -> [String; 3] {
    let how = match s.sample {
        Some(p) => format!(
            "sampled: {} blocks of {} elements, {} apart",
            p.blocks, p.block, p.stride
        ),
        None if s.sampled => "sampled".to_string(),
        None => "exact".to_string(),
    };
    let of = if s.of == "values" {
        String::new()
    } else {
        format!(" of {}", s.of)
    };
    let v = |x: Option<Value>| x.map_or("-".to_string(), |x| format::value(dtype, x));
    let g = |x: Option<f64>| x.map_or("-".to_string(), |x| format::general(x, 6));
    [
        format!("stats{of} ({how}):"),
        format!(
            "  count {}  finite {}  nan {}  +inf {}  -inf {}  zeros {}",
            s.count, s.finite, s.nan, s.posinf, s.neginf, s.zeros
        ),
        format!(
            "  min {}  max {}  mean {}  std {}",
            v(s.min),
            v(s.max),
            g(s.mean),
            g(s.std)
        ),
    ]
}

/// The histogram as lines (a heading, then one line per bin with a bar of at most `bar` cells).
pub fn histogram_lines(h: &Histogram, dtype: DType, bar: usize) -> Vec<String> {
    lines_of(&histogram_rows(h, is_integer(dtype)), bar, PADDING)
}

/// The spaces of a row of [`histogram_lines`] around its labels and bar: an indent of two, and two on
/// each side of the bar.
const PADDING: usize = 6;

/// [`histogram_lines`] fitted to `width` columns, as a pane shows them: the bar takes what the labels
/// leave (at most `max_bar` cells, at least one); where that would be under four cells, the rows give
/// up spaces first (the indent, then one on each side of the bar, down to one space each side), so
/// that the bar never shrinks as the width grows. Rows are `width` long unless the labels and three
/// spaces and one cell do not fit.
pub fn histogram_lines_in(h: &Histogram, dtype: DType, width: usize, max_bar: usize) -> Vec<String> {
    let rows = histogram_rows(h, is_integer(dtype));
    let (w0, w1, wc) = label_widths(&rows);
    let labels = w0 + 4 + w1 + wc;
    let max_bar = max_bar.max(1);
    let least = 4.min(max_bar);
    let padding = width.saturating_sub(labels + least).clamp(2, PADDING);
    let bar = width.saturating_sub(labels + padding).clamp(1, max_bar);
    lines_of(&rows, bar, padding)
}

/// The lines of `rows` ([`histogram_rows`]) with `padding` (2 to [`PADDING`]) spaces: the indent
/// goes first, then a space on each side of the bar in turn.
fn lines_of(rows: &[(String, String, u64)], bar: usize, padding: usize) -> Vec<String> {
    const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let mut out = vec![format!(
        "histogram ({}):",
        crate::text::plural(rows.len() as u64, "bin")
    )];
    let peak = rows.iter().map(|r| r.2).max().unwrap_or(0).max(1);
    let (w0, w1, wc) = label_widths(rows);
    let (indent, before, after) = match padding {
        ..=2 => ("", " ", " "),
        3 => ("", " ", "  "),
        4 => ("", "  ", "  "),
        5 => (" ", "  ", "  "),
        _ => ("  ", "  ", "  "),
    };
    for (lo, hi, c) in rows {
        let eighths = (*c as f64 / peak as f64 * (bar * 8) as f64).round() as usize;
        let eighths = if *c > 0 { eighths.max(1) } else { 0 };
        let cells = format!("{}{}", "█".repeat(eighths / 8), EIGHTHS[eighths % 8]);
        let range = if hi.is_empty() {
            format!("{lo:>w0$}    {:w1$}", "")
        } else {
            format!("{lo:>w0$} .. {hi:<w1$}")
        };
        out.push(format!(
            "{indent}{range}{before}{cells:<bar$}{after}{:>wc$}",
            crate::text::count(*c)
        ));
    }
    out
}

/// The widths of the lower edges, upper edges and counts of `rows` (in characters; the labels are
/// ASCII).
fn label_widths(rows: &[(String, String, u64)]) -> (usize, usize, usize) {
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let wc = rows.iter().map(|r| crate::text::count(r.2).len()).max().unwrap_or(0);
    (w0, w1, wc)
}

/// The rows of a histogram as `(lo, hi, count)` labels: one row for a constant tensor (`hi` empty);
/// for integers, the integers each bin holds (`3 .. 5`, or `4` alone), bins that hold no integer left
/// out (they are empty); otherwise, and for integers past 2^53 (where the `f64` edges cannot name
/// the integer each bin ends at, nor the exact minimum and maximum), equal-width float edges.
pub fn histogram_rows(h: &Histogram, integer: bool) -> Vec<(String, String, u64)> {
    let total: u64 = h.counts.iter().sum();
    if h.lo == h.hi || h.counts.len() <= 1 {
        return vec![(format::general(h.lo, 6), String::new(), total)];
    }
    let n = h.counts.len() as f64;
    let edge = |i: usize| h.lo + (h.hi - h.lo) * i as f64 / n;
    let last = h.counts.len() - 1;
    // past 2^53 an f64 edge rounds to an even integer: `edge - 1` is lost
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if integer && h.lo.abs() < EXACT && h.hi.abs() < EXACT {
        let mut rows = Vec::new();
        for (i, &c) in h.counts.iter().enumerate() {
            // the last bin is closed: it holds hi
            // + 0.0: the ceiling of an edge in (-1, 0) is -0, printed "-0"
            let first = edge(i).ceil() + 0.0;
            let end = if i == last { h.hi } else { edge(i + 1).ceil() - 1.0 };
            if end < first {
                continue;
            }
            let (a, b) = (format!("{first:.0}"), format!("{end:.0}"));
            rows.push(if a == b { (a, String::new(), c) } else { (a, b, c) });
        }
        return rows;
    }
    (0..h.counts.len())
        .map(|i| {
            (
                format::general(edge(i), 4),
                format::general(edge(i + 1), 4),
                h.counts[i],
            )
        })
        .collect()
}

/// The block-scale finding of a GGML block tensor:
/// `Q8_0: 8.50 bits per weight, 4 blocks; BROKEN: 1 blocks with a NaN scale, 0 with an infinite scale (first: 0)`,
/// or `…, every block scale finite`.
pub fn scale_line(dtype: DType, c: &ScaleCheck) -> String {
    let bpw = dtype.bits_per_weight().unwrap_or(0.0);
    let head = format!("{dtype}: {bpw:.2} bits per weight, {} blocks", c.blocks);
    if c.nan_scale_blocks + c.inf_scale_blocks == 0 {
        return format!("{head}, every block scale finite");
    }
    let first: Vec<String> = c.first.iter().map(u64::to_string).collect();
    format!(
        "{head}; BROKEN: {} blocks with a NaN scale, {} with an infinite scale (first: {})",
        c.nan_scale_blocks,
        c.inf_scale_blocks,
        first.join(", ")
    )
}

/// The file byte ranges of the first `limit` values of `view` (a view of `t`): what a remote reader
/// fetches to show them.
pub fn shown_bytes(view: &View, t: &TensorInfo, limit: usize) -> Vec<Range<u64>> {
    let one = |first: u64, count: u64| crate::remote::plan::element_bytes(t.dtype, t.storage.start, first, count);
    let mut out = Vec::new();
    for run in view.runs(0, limit as u64) {
        if run.step <= 1 {
            out.extend(one(run.start, run.len));
        } else {
            out.extend((0..run.len).filter_map(|i| one(run.start + i * run.step, 1)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::parse_slice;

    #[test]
    fn labels_are_stored_indices_after_a_slice() {
        // [4, 3, 8] sliced `-1, 1:3, ::2`: view [2, 4]
        let dims = parse_slice("-1,1:3,::2").unwrap();
        let axes = axes_of(&[4, 3, 8], &dims);
        assert_eq!(line_label(&axes, &[0], 0, 4), "[3, 1, 0:7:2]");
        assert_eq!(line_label(&axes, &[1], 0, 4), "[3, 2, 0:7:2]");
        let axes = axes_of(&[4, 8], &[]);
        assert_eq!(line_label(&axes, &[2], 0, 8), "[2, 0:8]");
    }

    #[test]
    fn value_lines_break_at_rows_and_at_the_width() {
        let texts: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let lines = value_lines(&[2, 6], &texts, &axes_of(&[2, 6], &[]), 4);
        let labels: Vec<&str> = lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["[0, 0:4]", "[0, 4:6]", "[1, 0:4]"]);
        assert_eq!(value_lines(&[], &texts[..1], &[], 4)[0].cells, ["0"]);
        assert_eq!(values_heading(10, 12), "values (first 10 of 12, row-major):");
    }

    #[test]
    fn histogram_rows_for_integers_and_constants() {
        let h = Histogram {
            lo: 0.0,
            hi: 255.0,
            counts: vec![1; 10],
        };
        let rows = histogram_rows(&h, true);
        assert_eq!(rows[0], ("0".into(), "25".into(), 1));
        assert_eq!(rows[1], ("26".into(), "50".into(), 1));
        assert_eq!(rows.last().unwrap(), &("230".into(), "255".into(), 1));
        // fewer integers than bins: each integer once, empty bins dropped
        let h = Histogram {
            lo: 0.0,
            hi: 2.0,
            counts: vec![3, 0, 0, 0, 0, 0, 0, 0, 0, 4],
        };
        let rows = histogram_rows(&h, true);
        let labels: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(labels, ["0", "1", "2"]);
        assert_eq!(rows[0].2, 3);
        assert_eq!(rows[2].2, 4);
        // a constant tensor: one bin
        let h = Histogram {
            lo: 0.5,
            hi: 0.5,
            counts: vec![0, 0, 7],
        };
        assert_eq!(histogram_rows(&h, false), [("0.5".to_string(), String::new(), 7)]);
        // a bin starting in (-1, 0) starts at 0, not "-0"
        let h = Histogram {
            lo: -128.0,
            hi: 127.0,
            counts: vec![1; 4],
        };
        assert_eq!(histogram_rows(&h, true)[2].0, "0");
        // past 2^53 the f64 edges cannot name integers (edge - 1 is lost, the maximum rounded):
        // float edges, which overlap as float bins do, rather than integers that claim too much
        let h = Histogram {
            lo: i64::MIN as f64,
            hi: i64::MAX as f64,
            counts: vec![1; 4],
        };
        let rows = histogram_rows(&h, true);
        assert_eq!(rows[0].0, "-9.223e18");
        assert_eq!(rows[3].1, "9.223e18");
    }

    #[test]
    fn rows_fitted_to_a_width_take_it_exactly() {
        // large counts and edges of 4 significant digits around zero (9 characters), a constant
        // tensor too
        for h in [
            Histogram {
                lo: -0.142,
                hi: 0.128,
                counts: (0..20).map(|i| 5 + i * i * 1_000).collect(),
            },
            Histogram {
                lo: 2.0,
                hi: 2.0,
                counts: vec![1_048_576],
            },
        ] {
            let widest = histogram_lines(&h, DType::F32, 1)[1].chars().count();
            // the labels alone: a row with one cell and all six spaces, less those
            let labels = widest - 1 - 6;
            let mut last_bar = 0;
            for width in labels + 3..widest + 45 {
                let lines = histogram_lines_in(&h, DType::F32, width, 40);
                for l in &lines[1..] {
                    assert!(l.contains(|c: char| ('█'..='▏').contains(&c)), "{l:?}");
                    assert_eq!(l.chars().count(), width.min(widest + 39), "{width}: {l:?}");
                }
                // the bar (the widest row's, at the peak) never shrinks as the width grows
                let bar = lines[1..]
                    .iter()
                    .map(|l| l.chars().filter(|c| ('█'..='▏').contains(c)).count())
                    .max()
                    .unwrap();
                assert!(bar >= last_bar, "{width}: {bar} after {last_bar}");
                last_bar = bar;
            }
            // show's own lines: the bar as asked
            for l in &histogram_lines(&h, DType::F32, 10)[1..] {
                assert_eq!(l.chars().count(), widest + 9, "{l:?}");
            }
        }
    }
}
