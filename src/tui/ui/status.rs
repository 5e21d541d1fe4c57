//! The bottom line: the filter being typed, or the main keys.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::Widget;
use tensorscope::text::escape;

use crate::tui::app::{App, Mode, Tab};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let line = match app.mode {
        Mode::Filter => Line::from(format!(
            " filter: {}▏  Enter keep · Esc clear",
            escape(&app.list.filter)
        ))
        .bold(),
        _ if app.tab == Tab::Bench && app.bench.running() => {
            Line::from(" benchmark running · q quit (the run is abandoned) · Tab view · ? help").dim()
        }
        _ if app.tab == Tab::Bench => {
            let export = if app.bench.report().is_some() {
                " · e write JSON"
            } else {
                ""
            };
            Line::from(format!(" q quit · r run{export} · Tab view · ? help")).dim()
        }
        _ => Line::from(" q quit · ↑↓ move · / filter · s exact stats · Tab view · ? help").dim(),
    };
    line.render(area, buf);
}
