//! The help overlay: the keys of the current pane, from the keymap's table.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::tui::app::App;
use crate::tui::keymap::help;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let keys = help(app.tab);
    let [v] = Layout::vertical([Constraint::Length(keys.len() as u16 + 3)])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Max(90)]).flex(Flex::Center).areas(v);
    Clear.render(r, buf);
    let mut lines: Vec<Line> = keys
        .iter()
        .map(|(k, what)| Line::from(format!(" {k:<22} {what}")))
        .collect();
    lines.push(Line::from(" names are shown escaped: \\x1b is a control character").dim());
    Paragraph::new(lines)
        .block(Block::bordered().title(format!(" Keys: {} ", app.tab.title())).bold())
        .render(r, buf);
}
