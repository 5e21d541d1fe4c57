//! How `show` prints a tensor: values laid out by shape with their stored indices, the statistics
//! (with a progress line on big tensors) and the histogram.

use std::io::Write;

use tensorscope::tensor::layout::{self, Axis};
use tensorscope::tensor::{Stats, StatsOptions, Value, View, format};

/// Most values per printed line, and the width a line of values aims to stay within.
const PER_LINE: usize = 8;
const LINE: usize = 96;
/// Width of the longest histogram bar.
const BAR: usize = 40;

/// The values by shape: one line per (part of a) row of the last dimension, labelled with its stored
/// indices (`tensor::layout`, which the TUI's preview uses too).
pub(super) fn write_values(out: &mut impl Write, view: &View, values: &[Value], axes: &[Axis]) -> std::io::Result<()> {
    let dtype = view.dtype();
    let texts: Vec<String> = values.iter().map(|&v| format::value(dtype, v)).collect();
    let width = texts
        .iter()
        .map(|t| t.chars().count())
        .max()
        .map_or(0, tensorscope::text::column);
    if view.shape().is_empty() {
        return writeln!(out, "value: {}", texts.first().map_or("", String::as_str));
    }
    if view.numel() == 0 {
        return writeln!(out, "values: none (empty tensor)");
    }
    let shown = values.len() as u64;
    writeln!(out, "{}", layout::values_heading(shown, view.numel()))?;
    let per_line = (LINE / (width + 2)).clamp(1, PER_LINE);
    let lines = layout::value_lines(view.shape(), &texts, axes, per_line);
    let lw = lines
        .iter()
        .map(|l| l.label.len())
        .max()
        .map_or(0, tensorscope::text::column);
    for l in lines {
        let cells: Vec<String> = l.cells.iter().map(|t| format!("{t:>width$}")).collect();
        writeln!(out, "  {:<lw$}  {}", l.label, cells.join("  "))?;
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
    for line in layout::stats_lines(view.dtype(), s) {
        writeln!(out, "{line}")?;
    }
    if let Some(h) = &s.histogram {
        for line in layout::histogram_lines(h, view.dtype(), BAR) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}
