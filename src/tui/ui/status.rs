//! The bottom line: the filter being typed, a note (copied …), or the keys of the current view.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::Widget;
use tensorscope::text::escape;

use crate::tui::app::{App, Mode, Tab};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let line = match app.mode {
        Mode::Filter => {
            let (before, after) = app.filter_input.split();
            Line::from(format!(
                " /{}▏{}  {} match · Enter keep · Esc clear · Ctrl-U/W erase · ↑↓ history",
                escape(&before),
                escape(&after),
                app.tensors.match_count
            ))
            .bold()
        }
        _ if app.note.is_some() => Line::from(format!(" {}", app.note.as_deref().unwrap_or(""))).bold(),
        _ if app.tab == Tab::Bench && app.bench.cancelling => {
            Line::from(" cancelling: the case running stops, the rows measured are kept").bold()
        }
        _ if app.tab == Tab::Bench && app.bench.running() => {
            Line::from(" benchmark running · Esc/x cancel (keeps the rows) · q quit · Tab view · ? help").dim()
        }
        _ if app.tab == Tab::Bench => {
            let export = if app.bench.report().is_some() {
                " · e write report"
            } else {
                ""
            };
            Line::from(format!(" q quit · r run{export} · Tab view · ? help")).dim()
        }
        _ if app.tab == Tab::Tensors && app.tensors.matched.is_some() => {
            Line::from(" n/N next/prev match · Esc clear filter · / edit · s exact stats · q quit · ? help").dim()
        }
        _ if app.tab == Tab::Tensors => {
            Line::from(" q quit · →← open/close · / filter · t flat · s exact stats · Tab view · ? help").dim()
        }
        _ => Line::from(" q quit · ↑↓ move · / filter · y copy · Tab view · ? help").dim(),
    };
    line.render(area, buf);
}
