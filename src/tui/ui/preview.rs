//! The selected tensor: where it lives, its first values, statistics and a histogram.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Paragraph, Widget};
use tensorscope::tensor::{Stats, format};
use tensorscope::text::{bytes, escape};
use tensorscope::tree::params_label;

use crate::tui::app::{App, PreviewState};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    if area.width < 3 || area.height < 3 {
        return;
    }
    let pane = &app.tensors;
    let Some(id) = pane.selected_node() else {
        let block = Block::bordered().title(" Tensor ");
        Paragraph::new("nothing selected").render(block.inner(area), buf);
        block.render(area, buf);
        return;
    };
    let node = pane.tree.node(id);
    let leaf = node.tensor.filter(|_| !node.has_children(id) || pane.flat);
    let block = Block::bordered().title(if leaf.is_some() { " Tensor " } else { " Module " });
    let inner = block.inner(area);
    block.render(area, buf);
    let width = usize::from(inner.width).max(1);
    let Some(i) = leaf else {
        let mut lines = wrap(&escape(&pane.tree.path(id)), width);
        lines.extend(wrap_plain(
            &format!(
                "{} tensors  {} params  {}",
                node.tensors,
                params_label(node.params),
                bytes(node.bytes)
            ),
            width,
        ));
        lines.push(Line::from(""));
        for (d, p) in node.dtypes.iter() {
            let share = if node.params > 0 {
                p as f64 * 100.0 / node.params as f64
            } else {
                0.0
            };
            lines.push(Line::from(format!(
                "{:<8} {:>9} params  {share:5.1}%",
                d.name(),
                params_label(p)
            )));
        }
        if node.dtypes.other > 0 {
            lines.push(Line::from(format!(
                "other    {:>9} params",
                params_label(node.dtypes.other)
            )));
        }
        lines.push(Line::from(""));
        lines.push(Line::from("→ open · ← close · * open all · t flat list").dim());
        Paragraph::new(lines).render(inner, buf);
        return;
    };
    let t = &app.ck.tensors[i];
    let file = app
        .ck
        .files
        .get(t.file)
        .map(|f| f.path.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut lines = wrap(&escape(&t.name), width);
    let shape: Vec<String> = t.shape.iter().map(u64::to_string).collect();
    lines.extend(wrap_plain(
        &format!(
            "{}{}  [{}]  {}{}",
            t.dtype,
            match t.dtype.bits_per_weight() {
                Some(bpw) if t.dtype.is_ggml_block() => format!(" ({bpw:.2} bpw)"),
                _ => String::new(),
            },
            shape.join(", "),
            t.nbytes().map(bytes).unwrap_or_else(|| "size unknown".into()),
            if t.is_contiguous() { "" } else { "  strided view" }
        ),
        width,
    ));
    lines.extend(
        wrap_plain(
            &format!("file {}  bytes {}..{}", escape(&file), t.storage.start, t.storage.end),
            width,
        )
        .into_iter()
        .map(|l| l.dim()),
    );
    lines.push(Line::from(""));
    let p = match &app.preview {
        PreviewState::Ready(p) if p.index == i => p,
        PreviewState::Computing { exact, .. } => {
            let what = if *exact {
                "exact statistics"
            } else {
                "values and statistics"
            };
            lines.push(Line::from(format!("computing {what}… (q quits at any time)")).fg(Color::Yellow));
            Paragraph::new(lines).render(inner, buf);
            return;
        }
        _ => {
            Paragraph::new(lines).render(inner, buf);
            return;
        }
    };
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

/// `s` in lines of `width` chars (names have no spaces to break at), the first bold.
fn wrap(s: &str, width: usize) -> Vec<Line<'static>> {
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(width)
        .map(|c| Line::from(c.iter().collect::<String>()).bold())
        .collect()
}

/// `s` in lines of `width` chars, plain.
fn wrap_plain(s: &str, width: usize) -> Vec<Line<'static>> {
    let chars: Vec<char> = s.chars().collect();
    chars
        .chunks(width)
        .map(|c| Line::from(c.iter().collect::<String>()))
        .collect()
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
