//! The help overlay, built from the keymap's table.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use crate::tui::keymap::HELP;

pub fn render(area: Rect, buf: &mut Buffer) {
    let [v] = Layout::vertical([Constraint::Length(HELP.len() as u16 + 2)])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Max(90)]).flex(Flex::Center).areas(v);
    Clear.render(r, buf);
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| Line::from(format!(" {k:<18} {what}")))
        .collect();
    Paragraph::new(lines)
        .block(Block::bordered().title(" Help ").bold())
        .render(r, buf);
}
