//! How `show` prints a tensor: values laid out by shape with their stored indices, the statistics
//! (with a progress line on big tensors) and the histogram.

use std::io::Write;

use tensorscope::checkpoint::DType;
use tensorscope::tensor::{Histogram, SliceDim, Stats, StatsOptions, Value, View, format};

/// Most values per printed line, and the width a line of values aims to stay within.
const PER_LINE: usize = 8;
const LINE: usize = 96;
/// Width of the longest histogram bar.
const BAR: usize = 40;

/// The values by shape: one line per (part of a) row of the last dimension, labelled with its indices.
/// How one axis of the stored tensor maps to the view `--slice` made: fixed at an index (the axis is
/// gone), or view index `k` is stored index `start + k * step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Axis {
    Fixed(u64),
    Range { start: u64, step: u64 },
}

/// The axes of a stored tensor of `shape` after `dims` (already checked by `View::slice`).
pub(super) fn axes_of(shape: &[u64], dims: &[SliceDim]) -> Vec<Axis> {
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
pub(super) fn line_label(axes: &[Axis], lead: &[u64], col: u64, n: u64) -> String {
    let mut view_axis = 0;
    let ranged = axes.iter().filter(|a| matches!(a, Axis::Range { .. })).count();
    let mut parts = Vec::with_capacity(axes.len());
    for a in axes {
        match *a {
            Axis::Fixed(i) => parts.push(i.to_string()),
            Axis::Range { start, step } => {
                if view_axis + 1 == ranged {
                    let a = start + col * step;
                    let b = start + (col + n - 1) * step + 1;
                    parts.push(if step == 1 {
                        format!("{a}:{b}")
                    } else {
                        format!("{a}:{b}:{step}")
                    });
                } else {
                    parts.push((start + lead.get(view_axis).copied().unwrap_or(0) * step).to_string());
                }
                view_axis += 1;
            }
        }
    }
    format!("[{}]", parts.join(", "))
}

pub(super) fn write_values(out: &mut impl Write, view: &View, values: &[Value], axes: &[Axis]) -> std::io::Result<()> {
    let dtype = view.dtype();
    let texts: Vec<String> = values.iter().map(|&v| format::value(dtype, v)).collect();
    let width = texts.iter().map(|t| t.chars().count()).max().unwrap_or(0);
    let shape = view.shape();
    if shape.is_empty() {
        return writeln!(out, "value: {}", texts.first().map_or("", String::as_str));
    }
    if view.numel() == 0 {
        return writeln!(out, "values: none (empty tensor)");
    }
    let shown = values.len() as u64;
    let more = if shown < view.numel() {
        format!(" (first {shown} of {}, row-major)", view.numel())
    } else {
        String::new()
    };
    writeln!(out, "values{more}:")?;
    let row = shape[shape.len() - 1].max(1);
    let per_line = (LINE / (width + 2)).clamp(1, PER_LINE) as u64;
    let mut lines = Vec::new();
    let mut i = 0u64;
    while i < shown {
        let col = i % row;
        let n = (row - col).min(per_line).min(shown - i);
        // indices of the leading dimensions for element i
        let mut rest = i / row;
        let mut lead: Vec<u64> = Vec::new();
        for &d in shape[..shape.len() - 1].iter().rev() {
            lead.push(rest % d.max(1));
            rest /= d.max(1);
        }
        lead.reverse();
        let label = line_label(axes, &lead, col, n);
        let cells: Vec<String> = texts[i as usize..(i + n) as usize]
            .iter()
            .map(|t| format!("{t:>width$}"))
            .collect();
        lines.push((label, cells.join("  ")));
        i += n;
    }
    let lw = lines.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (label, cells) in lines {
        writeln!(out, "  {label:<lw$}  {cells}")?;
    }
    if shown < view.numel() {
        writeln!(out, "  …")?;
    }
    Ok(())
}

/// Statistics of `view`; when they take more than a second and stderr is a terminal, a progress
/// line there (cleared at the end), so that a long exact pass over a huge tensor never looks hung.
pub(super) fn stats_with_progress(view: &View, opts: &StatsOptions) -> Stats {
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use tensorscope::tensor::Control;
    let start = std::time::Instant::now();
    let tty = std::io::stderr().is_terminal();
    let (shown, printed) = (AtomicU64::new(u64::MAX), AtomicBool::new(false));
    let report = |done: u64, total: u64| {
        if !tty || start.elapsed() < std::time::Duration::from_secs(1) {
            return;
        }
        let pct = done.saturating_mul(100) / total.max(1);
        if shown.swap(pct, Ordering::Relaxed) != pct {
            printed.store(true, Ordering::Relaxed);
            eprint!(
                "\rstatistics: {pct}% of {} elements of work (Ctrl-C stops; --sample is faster)",
                total
            );
        }
    };
    let ctl = Control::none().with_progress(&report);
    let stats = match view.stats_with(opts, &ctl) {
        Ok(s) => s,
        // no cancel flag was given, so this cannot happen; compute without progress then
        Err(_) => view.stats(opts),
    };
    if printed.load(Ordering::Relaxed) {
        eprint!("\r\x1b[K");
    }
    stats
}

pub(super) fn write_stats(out: &mut impl Write, view: &View, s: &Stats) -> std::io::Result<()> {
    let dtype = view.dtype();
    let how = match s.sample {
        Some(p) => format!(
            "sampled: {} blocks of {} elements, {} apart",
            p.blocks, p.block, p.stride
        ),
        None => "exact".to_string(),
    };
    let of = if s.of == "values" {
        String::new()
    } else {
        format!(" of {}", s.of)
    };
    writeln!(out, "stats{of} ({how}):")?;
    writeln!(
        out,
        "  count {}  finite {}  nan {}  +inf {}  -inf {}  zeros {}",
        s.count, s.finite, s.nan, s.posinf, s.neginf, s.zeros
    )?;
    let v = |x: Option<Value>| x.map_or("-".to_string(), |x| format::value(dtype, x));
    let g = |x: Option<f64>| x.map_or("-".to_string(), |x| format::general(x, 6));
    writeln!(
        out,
        "  min {}  max {}  mean {}  std {}",
        v(s.min),
        v(s.max),
        g(s.mean),
        g(s.std)
    )?;
    if let Some(h) = &s.histogram {
        write_histogram(out, h, dtype)?;
    }
    Ok(())
}

pub(super) fn write_histogram(out: &mut impl Write, h: &Histogram, dtype: DType) -> std::io::Result<()> {
    const EIGHTHS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let rows = histogram_rows(h, is_integer(dtype));
    writeln!(
        out,
        "histogram ({}):",
        tensorscope::text::plural(rows.len() as u64, "bin")
    )?;
    let peak = rows.iter().map(|r| r.2).max().unwrap_or(0).max(1);
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let wc = rows
        .iter()
        .map(|r| tensorscope::text::count(r.2).len())
        .max()
        .unwrap_or(0);
    for (lo, hi, c) in &rows {
        let eighths = (*c as f64 / peak as f64 * (BAR * 8) as f64).round() as usize;
        let eighths = if *c > 0 { eighths.max(1) } else { 0 };
        let bar = format!("{}{}", "█".repeat(eighths / 8), EIGHTHS[eighths % 8]);
        let range = if hi.is_empty() {
            format!("{lo:>w0$}    {:w1$}", "")
        } else {
            format!("{lo:>w0$} .. {hi:<w1$}")
        };
        writeln!(out, "  {range}  {bar:<BAR$}  {:>wc$}", tensorscope::text::count(*c))?;
    }
    Ok(())
}

/// Whether a dtype holds integers (its histogram edges are integers).
pub(super) fn is_integer(dtype: DType) -> bool {
    matches!(
        dtype,
        DType::U8
            | DType::I8
            | DType::I16
            | DType::U16
            | DType::I32
            | DType::U32
            | DType::I64
            | DType::U64
            | DType::BOOL
    )
}

/// The rows of a histogram as `(lo, hi, count)` labels: one row for a constant tensor (`hi` empty);
/// for integers, the integers each bin holds (`3 .. 5`, or `4` alone), bins that hold no integer left
/// out (they are empty); otherwise equal-width float edges.
pub(super) fn histogram_rows(h: &Histogram, integer: bool) -> Vec<(String, String, u64)> {
    let total: u64 = h.counts.iter().sum();
    if h.lo == h.hi || h.counts.len() <= 1 {
        return vec![(format::general(h.lo, 6), String::new(), total)];
    }
    let n = h.counts.len() as f64;
    let edge = |i: usize| h.lo + (h.hi - h.lo) * i as f64 / n;
    let last = h.counts.len() - 1;
    if integer {
        let mut rows = Vec::new();
        for (i, &c) in h.counts.iter().enumerate() {
            // the last bin is closed: it holds hi
            let first = edge(i).ceil();
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

#[cfg(test)]
mod tests {
    use super::*;
    use tensorscope::tensor::parse_slice;

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
    }
}
