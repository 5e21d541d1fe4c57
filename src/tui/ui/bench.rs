//! The Bench view: what a run will measure, its progress (a gauge), then the results as a table,
//! bars of the speedups over `pickle-eager` (or of the median times when there is no baseline)
//! and the report's caveats.
//!
//! ```text
//! ┌ Bench ─────────────────────────────────────────────────────────┐
//! │ path · format · size · runs · cache · memory                    │  summary (or the gauge)
//! │ method            touched  median  min – max  GB/s  RSS speedup │  table
//! │ speedup over pickle-eager …                                     │  bars
//! │ label            ███████████████▌ 3.0x                          │
//! │ notes: caveats, escaped                                         │  notes
//! └─────────────────────────────────────────────────────────────────┘
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph, Row, Table, Widget, Wrap};
use tensorscope::bench::Isolation;
use tensorscope::report::{BenchResult, Report, Speedup, seconds};
use tensorscope::text::{bytes, escape};

use crate::tui::app::App;
use crate::tui::bench::{Phase, Progress, config};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let block = Block::bordered().title(" Bench ");
    let inner = block.inner(area);
    block.render(area, buf);
    let path = escape(&app.ck.path.to_string_lossy()).into_owned();
    match &app.bench.phase {
        Phase::Idle => intro(app, &path, inner, buf),
        Phase::Running(p) => running(p, &path, inner, buf),
        Phase::Finished(r) => {
            let export = app.bench.export.as_ref().map(|e| match e {
                Ok(p) => Line::from(format!("wrote {}", escape(&p.to_string_lossy()))).fg(Color::Green),
                Err(e) => Line::from(escape(e).into_owned()).fg(Color::Red),
            });
            finished(r, export, inner, buf);
        }
        Phase::Failed(e) => Paragraph::new(vec![
            Line::from(format!("bench failed: {}", escape(e))).fg(Color::Red),
            Line::from("press r to run again").dim(),
        ])
        .render(inner, buf),
    }
}

fn intro(app: &App, path: &str, area: Rect, buf: &mut Buffer) {
    let c = config(&app.ck.path, Isolation::InProcess);
    let kv = |k: &str, v: String| Line::from(vec![Span::raw(format!("  {k:<11}")).bold(), Span::raw(v)]);
    let lines = vec![
        Line::from("How fast does this checkpoint load? Each way of loading it is timed, as `tensorscope bench` does."),
        Line::from(""),
        kv(
            "checkpoint",
            format!("{path} ({}, {})", app.ck.format, bytes(app.ck.total_bytes())),
        ),
        kv(
            "runs",
            format!(
                "{} timed runs per case after {} warm-up; the median is shown",
                c.runs, c.warmup
            ),
        ),
        kv(
            "cache",
            "warm: the files are read once before timing, so times show CPU and memory costs, not disk speed".into(),
        ),
        kv(
            "methods",
            "every load method that fits the format, untouched (load only) and touched (every byte read)".into(),
        ),
        kv(
            "memory",
            "each case runs in a child process, so its peak memory is measured".into(),
        ),
        kv(
            "speedups",
            "over pickle-eager (what torch.load does) for torch.save files; safetensors alone: median times".into(),
        ),
        Line::from(""),
        Line::from("press r to run").bold(),
    ];
    Paragraph::new(lines).wrap(Wrap { trim: false }).render(area, buf);
}

fn running(p: &Progress, path: &str, area: Rect, buf: &mut Buffer) {
    let [what, gauge, fails, table] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(p.failures.len() as u16),
        Constraint::Min(0),
    ])
    .areas(area);
    let now = match &p.case {
        Some((i, label)) => format!("case {}/{}: {}", i + 1, p.cases, escape(label)),
        None => "opening the checkpoint and reading it into the page cache".into(),
    };
    Line::from(format!("running {path}  ·  {now}")).render(what, buf);
    let label = if p.runs_planned == 0 {
        "preparing".to_string()
    } else {
        format!("{}/{} runs", p.runs_done, p.runs_planned)
    };
    Gauge::default()
        .ratio(p.ratio())
        .label(label)
        .use_unicode(true)
        .gauge_style(Style::new().fg(Color::Cyan))
        .render(gauge, buf);
    let fail_lines: Vec<Line> = p
        .failures
        .iter()
        .map(|f| Line::from(format!("not measured: {}", escape(f))).fg(Color::Yellow))
        .collect();
    Paragraph::new(fail_lines).render(fails, buf);
    results_table(&p.rows, &[], table, buf);
}

fn finished(r: &Report, export: Option<Line<'static>>, area: Rect, buf: &mut Buffer) {
    let bars = if r.speedups.is_empty() {
        r.results.len()
    } else {
        r.speedups.len()
    };
    let [summary, exported, table, chart, notes] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(u16::from(export.is_some())),
        Constraint::Length(r.results.len() as u16 + 1),
        Constraint::Length(bars as u16 + 2),
        Constraint::Min(0),
    ])
    .areas(area);
    summary_line(r).render(summary, buf);
    if let Some(line) = export {
        line.render(exported, buf);
    }
    results_table(&r.results, &r.speedups, table, buf);
    if r.speedups.is_empty() {
        median_bars(r, chart, buf);
    } else {
        speedup_bars(r, chart, buf);
    }
    let mut lines = vec![Line::from("notes").bold()];
    lines.extend(r.caveats.iter().map(|c| Line::from(format!("• {}", escape(c))).dim()));
    Paragraph::new(lines).wrap(Wrap { trim: false }).render(notes, buf);
}

fn summary_line(r: &Report) -> Line<'static> {
    let what = match r.checkpoints.as_slice() {
        [c] => format!("{} ({}, {})", escape(&c.path), c.format, bytes(c.bytes)),
        cs => format!("{} checkpoints", cs.len()),
    };
    let c = &r.config;
    Line::from(format!(
        "{what}  ·  {} runs + {} warm-up per case  ·  {} cache  ·  {}",
        c.runs,
        c.warmup,
        if c.cold { "cold" } else { "warm" },
        if c.isolated {
            "peak memory per case"
        } else {
            "in process (peak memory not measured)"
        }
    ))
}

fn several_devices(rows: &[BenchResult]) -> bool {
    rows.iter().any(|r| r.device != rows[0].device)
}

/// The speedup of `row`: same device, cache, touch and rank.
fn speedup_of<'a>(row: &BenchResult, speedups: &'a [Speedup]) -> Option<&'a Speedup> {
    speedups.iter().find(|s| {
        (
            s.method.as_str(),
            s.device.as_str(),
            s.cache.as_str(),
            s.touched,
            s.rank,
        ) == (
            row.method.as_str(),
            row.device.as_str(),
            row.cache.as_str(),
            row.touched,
            row.rank,
        )
    })
}

fn results_table(rows: &[BenchResult], speedups: &[Speedup], area: Rect, buf: &mut Buffer) {
    let devices = several_devices(rows);
    let right = |s: &'static str| Line::from(s).right_aligned();
    let mut header = vec![
        Line::from("method"),
        Line::from("touched"),
        right("median"),
        right("min – max"),
        right("GB/s"),
        right("peak RSS"),
        right("speedup"),
    ];
    let mut widths = vec![
        Constraint::Min(20),
        Constraint::Length(7),
        Constraint::Length(10),
        Constraint::Length(21),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(8),
    ];
    if devices {
        header.insert(0, Line::from("device"));
        widths.insert(0, Constraint::Length(6));
    }
    let body = rows.iter().map(|x| {
        let method = match (x.rank, x.ranks) {
            (Some(k), Some(n)) => format!("{} rank {k}/{n}", escape(&x.method)),
            _ => escape(&x.method).into_owned(),
        };
        let right = |s: String| Line::from(s).right_aligned();
        let mut cells = vec![
            Line::from(method),
            Line::from(if x.touched { "yes" } else { "no" }),
            right(seconds(x.median_s)),
            right(format!("{} – {}", seconds(x.min_s), seconds(x.max_s))),
            right(format!("{:.2}", x.gbps)),
            right(x.peak_rss_bytes.map(bytes).unwrap_or_else(|| "-".into())),
            right(speedup_of(x, speedups).map_or_else(|| "-".into(), |s| format!("{:.1}x", s.ratio))),
        ];
        if devices {
            cells.insert(0, Line::from(escape(&x.device).into_owned()));
        }
        Row::new(cells)
    });
    Table::new(body, widths)
        .header(Row::new(header).style(Style::new().bold().underlined()))
        .render(area, buf);
}

/// A horizontal bar of `frac` (0..=1) of `width` cells, in eighths of a cell.
fn bar(frac: f64, width: usize) -> String {
    const PARTS: [&str; 8] = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
    let eighths = (frac.clamp(0.0, 1.0) * width as f64 * 8.0).round() as usize;
    let mut s = "█".repeat(eighths / 8);
    s.push_str(PARTS[eighths % 8]);
    s
}

/// Bars under a title: `(label, fraction, value text, colour)` each.
fn bar_lines(title: Line<'static>, bars: Vec<(String, f64, String, Color)>, area: Rect, buf: &mut Buffer) {
    let label_w = bars.iter().map(|b| b.0.chars().count()).max().unwrap_or(0);
    let value_w = bars.iter().map(|b| b.2.chars().count()).max().unwrap_or(0);
    let bar_w = (area.width as usize).saturating_sub(label_w + value_w + 3);
    let mut lines = vec![Line::from(""), title];
    for (label, frac, value, color) in bars {
        let b = bar(frac, bar_w);
        let pad = bar_w.saturating_sub(b.chars().count());
        lines.push(Line::from(vec![
            Span::raw(format!("{label:<label_w$} ")),
            Span::styled(b, Style::new().fg(color)),
            Span::raw(format!("{} {value:>value_w$}", " ".repeat(pad))),
        ]));
    }
    Paragraph::new(lines).render(area, buf);
}

fn speedup_bars(r: &Report, area: Rect, buf: &mut Buffer) {
    let devices = several_devices(&r.results);
    let max = r.speedups.iter().map(|s| s.ratio).fold(0.0, f64::max);
    let min = r
        .speedups
        .iter()
        .map(|s| s.ratio)
        .filter(|x| *x > 0.0)
        .fold(max, f64::min);
    // a zero-copy load can be hundreds of times faster while the others are a few times faster:
    // past a 20x spread, a log scale keeps the small bars readable (the title says so)
    let log = max > 1.0 && min > 0.0 && max / min > 20.0;
    let frac = |x: f64| match (log, x > 1.0) {
        (true, true) => x.ln() / max.ln(),
        (true, false) => 0.0,
        (false, _) if max > 0.0 => x / max,
        _ => 0.0,
    };
    let bars = r
        .speedups
        .iter()
        .map(|s| {
            let label = if devices {
                format!("{} {}", escape(&s.device), escape(&s.label()))
            } else {
                escape(&s.label()).into_owned()
            };
            let color = if s.ratio >= 1.0 { Color::Green } else { Color::Red };
            (label, frac(s.ratio), format!("{:.1}x", s.ratio), color)
        })
        .collect();
    let baseline = escape(&r.speedups[0].baseline).into_owned();
    let title = format!(
        "speedup over {baseline} (its median over each method's; higher is faster{})",
        if log { "; log scale" } else { "" }
    );
    bar_lines(Line::from(title).bold(), bars, area, buf);
}

fn median_bars(r: &Report, area: Rect, buf: &mut Buffer) {
    let devices = several_devices(&r.results);
    let max = r.results.iter().map(|x| x.median_s).fold(0.0, f64::max);
    let bars = r
        .results
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
    let title = "median time per method (shorter is faster): no pickle-eager baseline, this checkpoint is not \
                 a torch.save file";
    bar_lines(Line::from(title).bold(), bars, area, buf);
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn bars_in_eighths() {
        assert_eq!(bar(1.0, 4), "████");
        assert_eq!(bar(0.5, 3), "█▌");
        assert_eq!(bar(0.0, 10), "");
        assert_eq!(bar(2.0, 2), "██", "clamped");
        assert_eq!(bar(0.3, 0), "");
    }
}
