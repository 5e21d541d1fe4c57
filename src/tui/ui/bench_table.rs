//! The Bench tab's table and bars. Columns drop (faults, peak RSS, GB/s, min – max, then the
//! percentage of the ceiling) before a number is cut; only the method label may end in `…`.

use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use tensorscope::report::{BenchResult, Ceiling, Speedup, seconds};
use tensorscope::text::{bytes, escape};

/// The speedup of `row`: same device, cache, touch and rank.
pub fn speedup_of<'a>(row: &BenchResult, speedups: &'a [Speedup]) -> Option<&'a Speedup> {
    speedups.iter().find(|s| {
        (
            s.method.as_str(),
            s.device.as_str(),
            s.cache.as_str(),
            s.touched,
            s.rank,
            &s.memory,
        ) == (
            row.method.as_str(),
            row.device.as_str(),
            row.cache.as_str(),
            row.touched,
            row.rank,
            &row.memory,
        )
    })
}

fn cut(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        format!("{s:<w$}")
    } else {
        let mut t: String = s.chars().take(w.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A method label in fewer chars, the same for the same label: `safetensors-` → `st-`, `pickle-` →
/// `pt-`, `(fresh)` → `fresh`.
pub fn short_label(label: &str) -> String {
    label
        .replace("safetensors-", "st-")
        .replace("pickle-", "pt-")
        .replace(" (", " ")
        .replace(')', "")
}

/// Columns of [`table`]: device, method, median, min – max, GB/s, % of ceiling, major faults,
/// peak RSS, speedup.
const COLS: usize = 9;

/// Rows under a header; returns the lines (so callers can stack blocks). The `% ceil` column (each
/// row's rate against the ceiling measured in the same run) shows when any row has a ceiling, the
/// `faults` column (major page faults per run) when any row had one.
pub fn table(rows: &[&BenchResult], speedups: &[Speedup], width: usize) -> Vec<Line<'static>> {
    let devices = rows.iter().any(|r| r.device != rows[0].device);
    let ceilings = rows.iter().any(|r| r.percent_of_ceiling.is_some());
    let faults = rows.iter().any(|r| r.major_faults.is_some_and(|n| n > 0));
    let cells: Vec<[String; COLS]> = rows
        .iter()
        .map(|x| {
            let mem = x
                .memory
                .as_deref()
                .map(|m| format!(" ({})", escape(m)))
                .unwrap_or_default();
            // the lazy-one rows share a block touched or not: the label tells them apart
            let touch = if x.touched && x.method.ends_with("lazy-one") {
                " touched"
            } else {
                ""
            };
            let method = match (x.rank, x.ranks) {
                (Some(k), Some(n)) => format!("{}{touch} rank {k}/{n}", escape(&x.method)),
                _ => format!("{}{touch}{mem}", escape(&x.method)),
            };
            [
                if devices {
                    escape(&x.device).into_owned()
                } else {
                    String::new()
                },
                method,
                seconds(x.median_s),
                if x.samples_s.len() < 2 {
                    "1 run".into()
                } else {
                    format!("{} – {}", seconds(x.min_s), seconds(x.max_s))
                },
                tensorscope::report::gbps(x),
                // as the CLI writes it: `0.044%`, not `0%`
                x.percent_of_ceiling
                    .map_or_else(|| "-".into(), tensorscope::report::share),
                x.major_faults.map_or_else(|| "-".into(), |n| n.to_string()),
                x.peak_rss_bytes.map(bytes).unwrap_or_else(|| "-".into()),
                speedup_of(x, speedups).map_or_else(|| "-".into(), |s| times(s.ratio)),
            ]
        })
        .collect();
    let head = [
        "device",
        "method",
        "median",
        "min – max",
        "GB/s",
        "% ceil",
        "faults",
        "peak RSS",
        "speedup",
    ];
    let widths: [usize; COLS] = std::array::from_fn(|c| {
        cells
            .iter()
            .map(|r| r[c].chars().count())
            .chain([head[c].chars().count()])
            .max()
            .unwrap_or(0)
    });
    let w = |c: usize| widths[c];
    let mut keep = [devices, true, true, true, true, ceilings, faults, true, true];
    let method_min = 20.min(w(1));
    let total = |keep: &[bool; COLS]| -> usize {
        (0..COLS)
            .filter(|&c| keep[c] && c != 1)
            .map(|c| w(c) + 2)
            .sum::<usize>()
    };
    // drop faults, peak RSS, GB/s, then min – max, before a number would be cut (the rate against
    // the ceiling stays longest: it says how close to the hardware a method comes)
    for c in [6, 7, 4, 3, 5] {
        if total(&keep) + method_min <= width {
            break;
        }
        keep[c] = false;
    }
    let method_w = width.saturating_sub(total(&keep)).min(w(1)).max(method_min.min(width));
    // labels that do not fit are all shortened the same way (`st-lazy-one touched`), so rows stay
    // told apart where a cut would make them equal
    let cells: Vec<[String; COLS]> = if cells.iter().any(|r| r[1].chars().count() > method_w) {
        cells
            .into_iter()
            .map(|mut r| {
                r[1] = short_label(&r[1]);
                r
            })
            .collect()
    } else {
        cells
    };
    let line = |r: &[String; COLS], style: Style| {
        let mut spans = Vec::new();
        for c in 0..COLS {
            if !keep[c] {
                continue;
            }
            let text = match c {
                0 => format!("{:<w$}  ", r[0], w = w(0)),
                1 => cut(&r[1], method_w),
                _ => format!("  {:>w$}", r[c], w = w(c)),
            };
            spans.push(Span::raw(text));
        }
        Line::from(spans).style(style)
    };
    let h: [String; COLS] = head.map(String::from);
    let mut out = vec![line(&h, Style::new().bold().underlined())];
    out.extend(cells.iter().map(|r| line(r, Style::new())));
    out
}

/// `ceilings (same run): memcpy-pretouched 10.00 GB/s · …`, or nothing when none was measured.
pub fn ceilings_line(ceilings: &[Ceiling]) -> Option<Line<'static>> {
    if ceilings.is_empty() {
        return None;
    }
    let parts: Vec<String> = ceilings
        .iter()
        .map(|c| format!("{} {:.2} GB/s", escape(&c.name), c.gbps))
        .collect();
    Some(Line::from(format!("ceilings (same run): {}", parts.join(" · "))).fg(Color::Cyan))
}

/// A horizontal bar of `frac` (0..=1) of `width` cells, in eighths of a cell.
pub fn bar(frac: f64, width: usize) -> String {
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let eighths = (frac.clamp(0.0, 1.0) * width as f64 * 8.0).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    s.push_str(PARTS[eighths % 8]);
    s
}

/// Bars under a title: `(label, fraction, value text, colour)` each, `width` wide.
pub fn bar_lines(title: Line<'static>, bars: Vec<(String, f64, String, Color)>, width: usize) -> Vec<Line<'static>> {
    let (label_w, bars) = short_labels(bars, width);
    let value_w = bars.iter().map(|b| b.2.chars().count()).max().unwrap_or(0);
    let bar_w = width.saturating_sub(label_w + value_w + 3);
    let mut lines = vec![title];
    for (label, frac, value, color) in bars {
        let b = bar(frac, bar_w);
        let pad = bar_w.saturating_sub(b.chars().count());
        lines.push(Line::from(vec![
            Span::raw(format!("{} ", cut(&label, label_w))),
            Span::styled(b, Style::new().fg(color)),
            Span::raw(format!("{} {value:>value_w$}", " ".repeat(pad))),
        ]));
    }
    lines
}

/// The label column of a bar chart (at most half of `width`) and the bars, their labels all
/// shortened as the table shortens them ([`short_label`]) when one does not fit.
fn short_labels<T>(bars: Vec<(String, f64, String, T)>, width: usize) -> (usize, Vec<(String, f64, String, T)>) {
    let longest = |bars: &[(String, f64, String, T)]| bars.iter().map(|b| b.0.chars().count()).max().unwrap_or(0);
    let bars = if longest(&bars) > width / 2 {
        bars.into_iter()
            .map(|(l, f, v, c)| (short_label(&l), f, v, c))
            .collect()
    } else {
        bars
    };
    (longest(&bars).min(width / 2), bars)
}

/// Speedups on a log scale with slowdowns: each bar grows from a 1x axis, a speedup to the right
/// (green), a slowdown to the left (red, at least one cell), so 0.89x and 0.068x differ.
fn two_sided(
    title: Line<'static>,
    bars: Vec<(String, f64, String, ())>,
    max: f64,
    min: f64,
    width: usize,
) -> Vec<Line<'static>> {
    let (label_w, bars) = short_labels(bars, width);
    let value_w = bars.iter().map(|b| b.2.chars().count()).max().unwrap_or(0);
    let room = width.saturating_sub(label_w + value_w + 4);
    let (up, down) = (max.max(1.0).ln(), (1.0 / min).ln());
    let left = ((room as f64 * down / (up + down).max(f64::MIN_POSITIVE)).round() as usize).clamp(1, room.max(1));
    let right = room.saturating_sub(left);
    let mut lines = vec![title];
    for (label, ratio, value, ()) in bars {
        let (l, r) = if ratio < 1.0 {
            let cells = ((ratio.max(min).recip().ln() / down * left as f64).round() as usize).clamp(1, left);
            ("█".repeat(cells), String::new())
        } else {
            (String::new(), bar(if up > 0.0 { ratio.ln() / up } else { 0.0 }, right))
        };
        let pad_l = left.saturating_sub(l.chars().count());
        let pad_r = right.saturating_sub(r.chars().count());
        lines.push(Line::from(vec![
            Span::raw(format!("{} {}", cut(&label, label_w), " ".repeat(pad_l))),
            Span::styled(l, Style::new().fg(Color::Red)),
            Span::raw("│").dim(),
            Span::styled(r, Style::new().fg(Color::Green)),
            Span::raw(format!("{} {value:>value_w$}", " ".repeat(pad_r))),
        ]));
    }
    lines
}

/// Bars of the speedups over the baseline (log scale past a 20x spread; the title says so).
pub fn speedup_bars(speedups: &[&Speedup], devices: bool, width: usize) -> Vec<Line<'static>> {
    let Some(first) = speedups.first() else {
        return Vec::new();
    };
    let max = speedups.iter().map(|s| s.ratio).fold(0.0, f64::max);
    let min = speedups
        .iter()
        .map(|s| s.ratio)
        .filter(|x| *x > 0.0)
        .fold(max, f64::min);
    let log = max > 1.0 && min > 0.0 && max / min > 20.0;
    let frac = |x: f64| match (log, x > 1.0) {
        (true, true) => x.ln() / max.ln(),
        (true, false) => 0.0,
        (false, _) if max > 0.0 => x / max,
        _ => 0.0,
    };
    let label = |s: &Speedup| {
        if devices {
            format!("{} {}", escape(&s.device), escape(&s.label()))
        } else {
            escape(&s.label()).into_owned()
        }
    };
    // a log scale has no room below 1x on a bar from zero: slowdowns go left of a 1x axis
    let sides = log && min < 1.0;
    let title = format!(
        "speedup over {} (touched rows; higher is faster{})",
        escape(&first.baseline),
        match (log, sides) {
            (true, true) => "; log scale, slower left of │",
            (true, false) => "; log scale",
            _ => "",
        }
    );
    if sides {
        let title = Line::from(title).bold();
        let bars = speedups
            .iter()
            .map(|s| (label(s), s.ratio, times(s.ratio), ()))
            .collect();
        return two_sided(title, bars, max, min, width);
    }
    let bars = speedups
        .iter()
        .map(|s| {
            let color = if s.ratio >= 1.0 { Color::Green } else { Color::Red };
            (label(s), frac(s.ratio), times(s.ratio), color)
        })
        .collect();
    bar_lines(Line::from(title).bold(), bars, width)
}

/// Bars of median times, when there is no baseline.
pub fn median_bars(rows: &[&BenchResult], width: usize) -> Vec<Line<'static>> {
    let devices = rows.iter().any(|r| r.device != rows[0].device);
    let max = rows.iter().map(|x| x.median_s).fold(0.0, f64::max);
    let bars = rows
        .iter()
        .map(|x| {
            let label = if devices {
                format!("{} {}", escape(&x.device), escape(&x.label()))
            } else {
                escape(&x.label()).into_owned()
            };
            let frac = if max > 0.0 { x.median_s / max } else { 0.0 };
            (label, frac, seconds(x.median_s), Color::Cyan)
        })
        .collect();
    bar_lines(
        Line::from("median time per method (shorter is faster)").bold(),
        bars,
        width,
    )
}

/// A speedup with two significant digits below 1 (`0.036x`, `0.50x`; `{:.1}` said `0.0x`), one
/// decimal above.
pub fn times(ratio: f64) -> String {
    if ratio >= 1.0 || ratio <= 0.0 || !ratio.is_finite() {
        return format!("{ratio:.1}x");
    }
    let decimals = (1.0 - ratio.log10().floor()).clamp(1.0, 12.0) as usize;
    let s = format!("{ratio:.decimals$}");
    // 0.996 rounds up to 1.00: written as the ratios of 1 and more are
    if s.parse::<f64>().is_ok_and(|r| r >= 1.0) {
        return format!("{ratio:.1}x");
    }
    s + "x"
}

#[cfg(test)]
mod tests {
    use super::*;
    use tensorscope::report::sample;

    #[test]
    fn bars_in_eighths() {
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(0.5, 3), "█▌");
        assert_eq!(bar(0.0, 10), "");
        assert_eq!(bar(2.0, 2), "██", "clamped");
        assert_eq!(bar(0.3, 0), "");
    }

    #[test]
    fn slowdowns_on_a_log_scale_grow_left_of_the_axis() {
        let r = sample::report();
        let mk = |label: &str, ratio: f64| {
            let mut s = r.speedups[0].clone();
            s.method = label.into();
            s.ratio = ratio;
            s
        };
        let (a, b, c) = (
            mk("safetensors-mmap", 40.0),
            mk("pickle-eager", 0.89),
            mk("pickle-mmap", 0.068),
        );
        let lines: Vec<String> = speedup_bars(&[&a, &b, &c], false, 60)
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert!(lines[0].contains("log scale, slower left of │)"), "{lines:?}");
        let left = |l: &str| l.split('│').next().unwrap().matches('█').count();
        assert_eq!(left(&lines[1]), 0, "{lines:?}");
        assert!(left(&lines[2]) >= 1 && left(&lines[3]) > left(&lines[2]), "{lines:?}");
        assert!(lines[1].split('│').nth(1).unwrap().contains('█'), "{lines:?}");
        for l in &lines[1..] {
            assert!(l.chars().count() <= 60, "{l}");
        }
        // labels too long for half the width are shortened as the table shortens them
        let narrow: Vec<String> = speedup_bars(&[&a, &b, &c], false, 30)
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert!(narrow[1].starts_with("st-mmap"), "{narrow:?}");
    }

    #[test]
    fn a_small_share_of_the_ceiling_keeps_its_digits() {
        let r = sample::report();
        let mut row = r.results[0].clone();
        row.percent_of_ceiling = Some(0.044);
        let lines: Vec<String> = table(&[&row], &[], 120).iter().map(|l| l.to_string()).collect();
        assert!(lines[1].contains("0.044%"), "{lines:?}");
    }

    #[test]
    fn columns_drop_before_a_number_is_cut() {
        let r = sample::report();
        let rows: Vec<&BenchResult> = r.results.iter().collect();
        let wide = table(&rows, &r.speedups, 120);
        assert!(wide[0].to_string().contains("peak RSS"));
        let narrow = table(&rows, &r.speedups, 60);
        let head = narrow[0].to_string();
        assert!(!head.contains("peak RSS") && head.contains("median"), "{head}");
        for l in &narrow {
            assert!(l.width() <= 60, "{l}");
        }
        // every median is shown whole
        for x in &r.results {
            assert!(narrow.iter().any(|l| l.to_string().contains(&seconds(x.median_s))));
        }
    }

    #[test]
    fn lazy_one_rows_keep_distinct_short_labels_when_narrow() {
        let r = sample::report();
        let mut lazy = r.results[0].clone();
        lazy.method = "safetensors-lazy-one".into();
        lazy.memory = None;
        lazy.rank = None;
        lazy.touched = false;
        let mut touched = lazy.clone();
        touched.touched = true;
        let rows = [&lazy, &touched];
        for w in [120, 44] {
            let lines: Vec<String> = table(&rows, &[], w).iter().map(|l| l.to_string()).collect();
            assert_ne!(
                lines[1].split("  ").next(),
                lines[2].split("  ").next(),
                "{w}: {lines:?}"
            );
        }
        let narrow: Vec<String> = table(&rows, &[], 44).iter().map(|l| l.to_string()).collect();
        assert!(narrow[2].starts_with("st-lazy-one touched"), "{narrow:?}");
        assert_eq!(short_label("pickle-eager (fresh)"), "pt-eager fresh");
    }
}
