//! The Bench tab: what a run will measure, its progress (a gauge, and the table and chart filling in
//! as cases finish), then the headline and one line of settings, fixed, and under them one table of
//! every row (the touched rows with their speedups, then the untouched and lazy-one rows: they read
//! nothing, or one tensor), its column header fixed while the rows, the bars, the ceilings, the twin
//! and the notes scroll with the list keys (↑↓ j k, PgUp/PgDn, g/G, the wheel), the position on the
//! border. At 80x24 the fixed part is the headline and two lines; the rest is rows.
//!
//! ```text
//! ┌ Bench ─────────────────────────────────────────── 1–12 of 40 ┐
//! │ cpu, touched, warm: safetensors-mmap loads 3.4x faster than … │  headline, one per device
//! │ 5 runs · warm · GPU auto · e export · ↑↓ scroll               │  settings, one line
//! │ method       median  min – max  GB/s  % ceil  peak RSS  speedup│  column header (fixed)
//! │ safetensors-mmap  …                                           │  touched rows (scroll)
//! │ load only (untouched) and lazy-one …                          │  the same table's other rows
//! │ speedup over pickle-eager …  ███████████████▌ 3.0x            │  bars
//! │ ceilings (same run): memcpy-pretouched 10.0 GB/s · gpu-ring … │  ceilings, twin
//! │ notes                                                         │
//! └───────────────────────────────────────────────────────────────┘
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Gauge, Paragraph, Widget, Wrap};
use tensorscope::bench::runner::speedups;
use tensorscope::report::{BenchResult, Report, Speedup};
use tensorscope::text::{bytes, escape};

use super::bench_table::{ceilings_line, median_bars, speedup_bars, table};
use crate::tui::app::App;
use crate::tui::bench::{BenchState, Phase, Progress};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let block = Block::bordered().title(" Bench ");
    let inner = block.inner(area);
    block.render(area, buf);
    let path = tensorscope::text::path(&app.ck.path);
    match &app.bench.phase {
        Phase::Idle => intro(app, &path, inner, buf),
        Phase::Running(p) => running(&app.bench, p, &path, inner, buf),
        Phase::Finished(r) => finished(&app.bench, r, inner, buf),
        Phase::Failed(e) if e == crate::tui::bench::CANCELLED_EARLY => {
            Paragraph::new(Line::from(e.as_str()).fg(Color::Yellow))
                .wrap(Wrap { trim: false })
                .render(inner, buf)
        }
        Phase::Failed(e) => Paragraph::new(vec![
            Line::from(format!("bench failed: {}", escape(e))).fg(Color::Red),
            Line::from("press r to run again").dim(),
        ])
        .wrap(Wrap { trim: false })
        .render(inner, buf),
    }
    // where the rows and notes are scrolled to, on the border (`3–20 of 45`), as the other panes
    let at = match app.bench.phase {
        Phase::Running(_) | Phase::Finished(_) => app.bench.view.position(app.bench.view.first()),
        _ => String::new(),
    };
    if !at.is_empty() && area.width > 2 {
        Line::from(format!(" {at} "))
            .right_aligned()
            .render(Rect::new(area.x + 1, area.y, area.width - 2, 1), buf);
    }
}

fn settings_line(b: &BenchState) -> Line<'static> {
    let s = &b.settings;
    let gpu = match s.gpu {
        None => "GPU rows when an adapter exists",
        Some(true) => "GPU rows on",
        Some(false) => "GPU rows off",
    };
    Line::from(format!(
        "{} (+/-) · {} cache (c) · {gpu} (d)",
        tensorscope::text::plural(u64::from(s.runs), "run"),
        if s.cold { "cold" } else { "warm" }
    ))
}

fn intro(app: &App, path: &str, area: Rect, buf: &mut Buffer) {
    let lines = vec![
        Line::from("How fast does this checkpoint load? Each way of loading it is timed, as `tensorscope bench` does."),
        Line::from(""),
        Line::from(format!(
            "checkpoint  {path} ({}, {})",
            app.ck.format,
            bytes(app.ck.total_bytes())
        )),
        Line::from(
            "twin        written first to a temporary folder in the other format (a torch.save zip for \
             safetensors, safetensors for a pickle), so zero-copy is charted against pickle; removed on quit",
        ),
        Line::from(vec![
            Span::raw("settings    "),
            Span::raw(settings_line(&app.bench).to_string()),
        ]),
        Line::from("memory      each case runs in a child process, so its peak memory is measured"),
        Line::from(""),
        Line::from("press r to run").bold(),
    ];
    Paragraph::new(lines).wrap(Wrap { trim: false }).render(area, buf);
}

fn twin_line(b: &BenchState) -> Option<Line<'static>> {
    match b.twin.as_ref()? {
        Ok(Some((p, what))) => Some(Line::from(format!("twin {}: {what}", tensorscope::text::path(p))).dim()),
        Ok(None) => Some(Line::from("both formats are here: no twin needed").dim()),
        Err(e) => Some(Line::from(format!("no twin: {}", escape(e))).fg(Color::Yellow)),
    }
}

fn running(b: &BenchState, p: &Progress, path: &str, area: Rect, buf: &mut Buffer) {
    let mut head = vec![];
    let now = match &p.case {
        Some((i, label)) => format!("case {}/{}: {}", i + 1, p.cases, escape(label)),
        None if b.twin.is_none() => "writing the twin in the other format".into(),
        None => "opening the checkpoints and reading them into the page cache".into(),
    };
    head.push(Line::from(format!("running {path} · {now}")));
    head.extend(twin_line(b));
    head.extend(
        p.failures
            .iter()
            .map(|f| Line::from(format!("not measured: {}", escape(f))).fg(Color::Yellow)),
    );
    let [top, gauge, rest] = Layout::vertical([
        Constraint::Length(head.len() as u16),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    Paragraph::new(head).render(top, buf);
    let label = if p.runs_planned == 0 {
        "preparing".to_string()
    } else {
        let eta = match p.eta() {
            Some(s) => format!(" · about {} left", crate::tui::bench::clock(s)),
            None => " · estimating time left…".into(),
        };
        format!("{}/{} runs{eta}", p.runs_done, p.runs_planned)
    };
    Gauge::default()
        .ratio(p.ratio())
        .label(label)
        .use_unicode(true)
        .gauge_style(Style::new().fg(Color::Cyan))
        .render(gauge, buf);
    // the chart fills in as cases finish
    let ups = speedups(&p.rows);
    results(&p.rows, &ups, rest, buf, None, &b.view);
}

fn finished(b: &BenchState, r: &Report, area: Rect, buf: &mut Buffer) {
    // fixed above the rows: the headline (one sentence per device, the core's `bench::headline`)
    // and one line of settings; the ceilings and the twin are read once, below the rows
    let mut head = Vec::new();
    if r.headline.is_empty() {
        head.push(Line::from("nothing read every byte: median times only").bold());
    }
    head.extend(
        r.headline
            .iter()
            .map(|h| Line::from(escape(h).into_owned()).bold().fg(Color::Green)),
    );
    if r.results.iter().any(|x| x.samples_s.len() < 2) {
        head.push(Line::from("1 run, no spread: a ± of 0 means not measured (+ runs more)").fg(Color::Yellow));
    }
    match &b.export {
        Some(Ok(paths)) => {
            let names: Vec<String> = paths.iter().map(|p| tensorscope::text::path(p)).collect();
            head.push(Line::from(format!("wrote {}", names.join(" and "))).fg(Color::Green));
        }
        Some(Err(e)) => head.push(Line::from(escape(e).into_owned()).fg(Color::Red)),
        None => {}
    }
    let w = usize::from(area.width).max(1);
    // the rows the headline takes as the Paragraph wraps it (on words: more than its width / w)
    let head = Paragraph::new(head).wrap(Wrap { trim: true });
    let rows = head.line_count(area.width);
    // one row, never wrapped: the settings in full where they fit, else in short
    let full = format!("{} · e writes HTML, JSON, Markdown, CSV · ↑↓ scroll", settings_line(b));
    let settings = if full.chars().count() <= w {
        full
    } else {
        format!("{} · e export · ↑↓ scroll", settings_short(b))
    };
    // the headline never leaves fewer than 4 rows to the column header and the rows below it
    let rows = rows.min(usize::from(area.height.saturating_sub(5)));
    let [top, line, rest] = Layout::vertical([
        Constraint::Length(u16::try_from(rows).unwrap_or(u16::MAX)),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    head.render(top, buf);
    Paragraph::new(Line::from(settings).dim()).render(line, buf);
    let mut after: Vec<Line<'static>> = ceilings_line(&r.ceilings).into_iter().collect();
    after.extend(twin_line(b));
    let notes = Notes {
        before: after,
        caveats: &r.caveats,
    };
    results(&r.results, &r.speedups, rest, buf, Some(notes), &b.view);
}

/// `5 runs · warm · GPU auto`: the settings in few columns.
fn settings_short(b: &BenchState) -> String {
    let s = &b.settings;
    let gpu = match s.gpu {
        None => "auto",
        Some(true) => "on",
        Some(false) => "off",
    };
    format!(
        "{} · {} · GPU {gpu}",
        tensorscope::text::plural(u64::from(s.runs), "run"),
        if s.cold { "cold" } else { "warm" }
    )
}

/// What a finished report shows below its rows: the ceilings and the twin, then its notes.
struct Notes<'a> {
    before: Vec<Line<'static>>,
    caveats: &'a [String],
}

/// Rows in the plan's order, the touched ones first, then the untouched and lazy-one rows (they read
/// nothing, or one tensor) under a line of their own, all in one table: the same columns, and its
/// header stays on top while the rows, the bars and the notes below scroll with the list keys, so
/// every line is reachable at 80x24 and no number is unlabelled.
fn results(
    rows: &[BenchResult],
    ups: &[Speedup],
    area: Rect,
    buf: &mut Buffer,
    notes: Option<Notes>,
    view: &crate::tui::scroll::Scroll,
) {
    // an upload to the GPU reads every byte: GPU rows count as touched
    let lazy = |x: &BenchResult| x.method == "safetensors-lazy-one";
    let read = |x: &BenchResult| (x.touched || x.device == "gpu") && !lazy(x);
    // rows stay in the plan's order (the order they are measured in): a row that arrives never
    // moves the ones above it
    let touched: Vec<&BenchResult> = rows.iter().filter(|x| read(x)).collect();
    let other: Vec<&BenchResult> = rows.iter().filter(|x| !read(x)).collect();
    let bars: Vec<&Speedup> = ups
        .iter()
        .filter(|s| (s.touched || s.device == "gpu") && s.method != "safetensors-lazy-one")
        .collect();
    let w = usize::from(area.width);
    let devices = rows.iter().any(|r| r.device != rows[0].device);
    let all: Vec<&BenchResult> = touched.iter().chain(&other).copied().collect();
    let mut table_lines = if all.is_empty() {
        Vec::new()
    } else {
        table(&all, ups, w)
    };
    let header = (!table_lines.is_empty()).then(|| table_lines.remove(0));
    let mut lines = Vec::new();
    let mut table_lines = table_lines.into_iter();
    lines.extend(table_lines.by_ref().take(touched.len()));
    if !other.is_empty() {
        lines.push(Line::from("load only (untouched) and lazy-one: they read nothing, or one tensor").bold());
        lines.extend(table_lines);
    }
    if !touched.is_empty() {
        lines.extend(if bars.is_empty() {
            median_bars(&touched, w)
        } else {
            speedup_bars(&bars, devices, w)
        });
    }
    if let Some(n) = notes {
        lines.extend(n.before);
        lines.push(Line::from("notes").bold());
        lines.extend(n.caveats.iter().map(|c| Line::from(format!("• {}", escape(c))).dim()));
    }
    let [top, body] =
        Layout::vertical([Constraint::Length(u16::from(header.is_some())), Constraint::Min(0)]).areas(area);
    if let Some(h) = header {
        Paragraph::new(h).render(top, buf);
    }
    // only the rows on screen go to the Paragraph (it scrolls by a u16: at most 65,535 rows)
    let text = super::window::Wrapped::new(lines, body.width);
    let first = view.frame(usize::from(body.height), text.total());
    text.window(first, usize::from(body.height)).render(body, buf);
}
