//! Compare mode: a summary line (`different · 1 outside tolerance · 27/28 within F16 rounding`), then
//! one row per difference and per common tensor (`differs  3 outside F16  max|a−b| 0.0123  cos
//! 0.99991`), real differences first.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Widget};
use tensorscope::diff::Verdict;
use tensorscope::tensor::format::general;
use tensorscope::text::escape;

use crate::tui::app::App;
use crate::tui::diff::{Row, outside, row_count, rows};

fn shape(s: &[u64]) -> String {
    let v: Vec<String> = s.iter().map(u64::to_string).collect();
    format!("[{}]", v.join(","))
}

fn describe(row: Row) -> (String, String, Color) {
    match row {
        Row::OnlyA(b) => (
            "only in A".into(),
            format!("{} {}", b.dtype, shape(&b.shape)),
            Color::Red,
        ),
        Row::OnlyB(b) => (
            "only in B".into(),
            format!("{} {}", b.dtype, shape(&b.shape)),
            Color::Green,
        ),
        Row::Changed(c) => (
            "reshaped".into(),
            format!(
                "{} {} → {} {}",
                c.a.dtype,
                shape(&c.a.shape),
                c.b.dtype,
                shape(&c.b.shape)
            ),
            Color::Yellow,
        ),
        Row::Tensor(t) => {
            let dt = match t.b_dtype {
                Some(b) => format!("{}→{} ", t.dtype, b),
                None => String::new(),
            };
            let color = match (t.equal, t.within_tolerance) {
                (true, _) => Color::DarkGray,
                (false, true) => Color::Cyan,
                (false, false) => Color::Yellow,
            };
            let kind = match (t.equal, t.within_tolerance) {
                (true, _) => "equal",
                (false, true) => "rounding",
                (false, false) => "differs",
            };
            if t.equal {
                (kind.into(), format!("{dt}values equal"), color)
            } else {
                (
                    kind.into(),
                    format!(
                        "{dt}{}  max|a−b| {}  cos {}",
                        t.verdict_label(),
                        t.max_abs_diff.map_or_else(|| "n/a".into(), |d| general(d, 4)),
                        t.cosine_label()
                    ),
                    color,
                )
            }
        }
    }
}

/// `parts` joined by ` · ` within `width` columns: the parts that fit whole, then `· …` for the rest
/// (never cut mid-phrase); a first part too long alone is cut with `…`.
fn fit_parts(parts: &[String], width: usize) -> String {
    let cols = super::wrap::columns;
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        let sep = if i == 0 { "" } else { " · " };
        let rest = i + 1 < parts.len();
        // room for ` · …` after this part when more follow
        let tail = if rest { 4 } else { 0 };
        if cols(&out) + cols(sep) + cols(p) + tail <= width || (!rest && cols(&out) + cols(sep) + cols(p) <= width) {
            out.push_str(sep);
            out.push_str(p);
            continue;
        }
        if i == 0 {
            return super::wrap::cut_columns(p, width);
        }
        out.push_str(" · …");
        break;
    }
    out
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let Some(c) = &app.compare else { return };
    // both paths shortened fairly (whole components from the front, file names kept) so that B's
    // never falls off the border, nor under the position drawn at its right (`1–19 of 28`)
    let position_w = match &c.report {
        Some(Ok(r)) if row_count(r) + 3 > usize::from(area.height) => {
            format!(" {0}–{0} of {0} ", row_count(r)).chars().count() + 1
        }
        _ => 0,
    };
    let (a, b) = super::header::elide_both(
        &tensorscope::text::path(&app.ck.path),
        &tensorscope::text::path(&c.b.path),
        usize::from(area.width).saturating_sub(" A  ⇄ B  ".chars().count() + 4 + position_w),
    );
    let block = Block::bordered().title(format!(" A {a} ⇄ B {b} "));
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height == 0 {
        return;
    }
    let report = match &c.report {
        None => {
            Line::from("comparing… (q quits at any time)")
                .fg(Color::Yellow)
                .render(inner, buf);
            return;
        }
        Some(Err(e)) => {
            Line::from(format!("cannot compare: {}", escape(e)))
                .fg(Color::Red)
                .render(inner, buf);
            return;
        }
        Some(Ok(r)) => r,
    };
    let summary = if report.identical {
        Line::from("identical: every tensor equal").fg(Color::Green).bold()
    } else {
        let color = match report.verdict {
            Verdict::WithinTolerance => Color::Cyan,
            _ => Color::Yellow,
        };
        // the answer, then the counts that are not zero (at 80 columns all of them do not fit)
        let mut parts = vec![report.verdict_line()];
        let outside = report.tensors.iter().filter(|t| outside(t)).count();
        for (n, what) in [
            (outside, "outside tolerance"),
            (report.shape_changes().count(), "reshaped"),
            (report.only_in_a.len(), "only in A"),
            (report.only_in_b.len(), "only in B"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        // as the CLI says it: `27/28 within F16 rounding`, for the groups that have a rounding
        for g in &report.tolerances {
            let t = &g.tolerance;
            if g.tensors > 0 && (t.rtol > 0.0 || t.atol > 0.0) {
                parts.push(format!("{}/{} within {} rounding", g.within, g.tensors, t.dtype));
            }
        }
        if report.equal > 0 {
            parts.push(format!("{} equal", report.equal));
        }
        Line::from(fit_parts(&parts, usize::from(inner.width))).fg(color).bold()
    };
    summary.render(Rect::new(inner.x, inner.y, inner.width, 1), buf);
    let list = Rect::new(inner.x, inner.y + 1, inner.width, inner.height - 1);
    let all = rows(report);
    let h = usize::from(list.height);
    let offset = c.selected.saturating_sub(h.saturating_sub(1));
    if all.len() > h && h > 0 {
        // where the view is, on the border, as the other panes say it
        let last = (offset + h).min(all.len());
        Line::from(format!(" {}–{last} of {} ", offset + 1, all.len()))
            .right_aligned()
            .render(Rect::new(area.x + 1, area.y, area.width.saturating_sub(2), 1), buf);
    }
    let w = usize::from(list.width);
    let shown: Vec<_> = all
        .iter()
        .enumerate()
        .skip(offset)
        .take(h)
        .map(|(k, r)| (k, *r, describe(*r)))
        .collect();
    let longest = shown
        .iter()
        .map(|(_, r, _)| super::wrap::columns(&escape(r.name())))
        .max()
        .unwrap_or(0);
    let detail_w = shown
        .iter()
        .map(|(_, _, d)| super::wrap::columns(&d.1))
        .max()
        .unwrap_or(0);
    // the name keeps at least half the width; the detail gets the rest and is cut with …
    let name_w = longest.min(w.saturating_sub(12 + detail_w).max(w / 2));
    for (k, row, (kind, detail, color)) in shown {
        let detail_room = w.saturating_sub(10 + name_w + 2);
        let detail = super::wrap::cut_columns(&detail, detail_room);
        let name = super::wrap::cut_columns(&escape(row.name()), name_w);
        let pad = name_w.saturating_sub(super::wrap::columns(&name));
        let mut line = Line::from(vec![
            Span::styled(format!("{kind:<10}"), Style::new().fg(color)),
            Span::raw(name),
            Span::raw(" ".repeat(pad + 2)),
            Span::raw(detail).dim(),
        ]);
        if k == c.selected {
            line = line.style(Style::new().add_modifier(Modifier::REVERSED));
        }
        line.render(Rect::new(list.x, list.y + (k - offset) as u16, list.width, 1), buf);
    }
}

#[cfg(test)]
mod tests {
    use super::fit_parts;

    #[test]
    fn the_summary_is_cut_between_parts_with_an_ellipsis() {
        let parts: Vec<String> = [
            "different",
            "3 outside tolerance",
            "27/28 within F16 rounding",
            "5 equal",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(fit_parts(&parts, 80), parts.join(" · "));
        assert_eq!(fit_parts(&parts, 40), "different · 3 outside tolerance · …");
        assert_eq!(fit_parts(&parts, 6), "diffe…");
    }
}
