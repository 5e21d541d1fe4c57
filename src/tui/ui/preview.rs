//! The selected tensor: where it lives, its first values, statistics and a histogram.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Paragraph, Widget};
use tensorscope::tensor::{Stats, format};
use tensorscope::text::{bytes, escape};

use crate::tui::app::App;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let block = Block::bordered().title(" Tensor ");
    let inner = block.inner(area);
    block.render(area, buf);
    let (Some(i), Some(p)) = (app.selected_tensor(), app.preview.as_ref()) else {
        Paragraph::new("no tensor selected").render(inner, buf);
        return;
    };
    let t = &app.ck.tensors[i];
    let file = app
        .ck
        .files
        .get(t.file)
        .map(|f| f.path.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut lines = vec![
        Line::from(escape(&t.name).into_owned()).bold(),
        Line::from(format!(
            "{}  {:?}  {}  {}",
            t.dtype,
            t.shape,
            t.nbytes().map(bytes).unwrap_or_else(|| "size overflows".into()),
            if t.is_contiguous() {
                "contiguous"
            } else {
                "strided view"
            }
        )),
        Line::from(format!(
            "file {}  bytes {}..{}",
            escape(&file),
            t.storage.start,
            t.storage.end
        ))
        .dim(),
        Line::from(""),
    ];
    if let Some(e) = &p.error {
        lines.push(Line::from(escape(e).into_owned()).fg(Color::Red));
    }
    if let Some(s) = &p.stats {
        lines.extend(stats_lines(t.dtype, s));
    }
    let hist = p.stats.as_ref().and_then(|s| s.histogram.as_ref());
    let hist_height = if hist.is_some() && inner.height >= lines.len() as u16 + 10 {
        6
    } else {
        0
    };
    let [text, chart, axis, values] = Layout::vertical([
        Constraint::Length(lines.len() as u16),
        Constraint::Length(hist_height),
        Constraint::Length(u16::from(hist_height > 0)),
        Constraint::Min(0),
    ])
    .areas(inner);
    Paragraph::new(lines).render(text, buf);
    if let (Some(h), true) = (hist, hist_height > 0) {
        let bars: Vec<Bar> = h
            .counts
            .iter()
            .map(|&c| Bar::default().value(c).text_value(String::new()))
            .collect();
        let width = (chart.width / h.counts.len().max(1) as u16).max(1);
        BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(width)
            .bar_gap(0)
            .bar_style(Style::new().fg(Color::Cyan))
            .render(chart, buf);
        let (lo, hi) = (format::general(h.lo, 4), format::general(h.hi, 4));
        let used = (width as usize * h.counts.len()).min(axis.width as usize);
        let gap = used.saturating_sub(lo.len() + hi.len()).max(1);
        Line::from(format!("{lo}{}{hi}", " ".repeat(gap)))
            .dim()
            .render(axis, buf);
    }
    value_grid(&p.values, p.more, values, buf);
}

/// The values in aligned columns, as many per row as fit.
fn value_grid(values: &[String], more: bool, area: Rect, buf: &mut Buffer) {
    let cell = values.iter().map(|v| v.chars().count()).max().unwrap_or(1) + 2;
    let per_row = (area.width as usize / cell).max(1);
    let mut lines = vec![Line::from("")];
    lines.extend(
        values
            .chunks(per_row)
            .map(|row| Line::from(row.iter().map(|v| format!("{v:>w$}", w = cell)).collect::<String>())),
    );
    if more {
        lines.push(Line::from("…").dim());
    }
    Paragraph::new(lines).render(area, buf);
}

fn stats_lines(dtype: tensorscope::checkpoint::DType, s: &Stats) -> Vec<Line<'static>> {
    let v = |x: Option<tensorscope::tensor::Value>| x.map(|x| format::value(dtype, x)).unwrap_or_else(|| "-".into());
    let f = |x: Option<f64>| x.map(|x| format::general(x, 6)).unwrap_or_else(|| "-".into());
    let mut out = vec![
        Line::from(format!("min {}  max {}", v(s.min), v(s.max))),
        Line::from(format!("mean {}  std {}", f(s.mean), f(s.std))),
        Line::from(format!(
            "zeros {}  nan {}  +inf {}  -inf {}",
            s.zeros, s.nan, s.posinf, s.neginf
        )),
    ];
    if s.sampled {
        out.push(
            Line::from(format!(
                "sampled {} of the elements: press s for exact statistics",
                s.count
            ))
            .fg(Color::Yellow),
        );
    }
    out
}
