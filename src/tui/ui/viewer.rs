//! The value viewer over the body: a long metadata value whole, one item per line, scrolled with the
//! list keys, its position on the border.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Widget};

use crate::tui::app::App;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let Some(v) = &app.viewer else { return };
    Clear.render(area, buf);
    let lines: Vec<Line> = v.lines.iter().map(|l| Line::from(l.as_str())).collect();
    let title = format!("{} · {}/{}", v.title, v.at + 1, v.keys.len());
    super::scrolled(lines, &title, &v.scroll, area, buf);
}
