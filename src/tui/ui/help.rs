//! The help overlay: the keys of the current pane, from the keymap's table. A description too long
//! for the line continues under itself; when the keys do not fit the screen (80x24) the overlay
//! scrolls with the list keys and says where it is.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget};

use super::wrap::hang;
use crate::tui::app::App;
use crate::tui::keymap::help;

/// Width of the keys column (a leading space, the keys, a space).
const KEYS: usize = 24;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let [r] = Layout::horizontal([Constraint::Max(90)]).flex(Flex::Center).areas(area);
    let width = usize::from(r.width.saturating_sub(2)).max(1);
    let mut lines: Vec<Line> = help(app.tab, app.tabs().len())
        .iter()
        .flat_map(|(k, what)| hang(vec![Span::raw(format!(" {k:<22} {what}"))], KEYS, width))
        .collect();
    lines.extend(hang(
        vec![Span::raw(" names are shown escaped: \\x1b is a control character").dim()],
        1,
        width,
    ));
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX).min(area.height);
    let [v] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(r);
    Clear.render(v, buf);
    let inner = Block::bordered().inner(v);
    let first = app.help_scroll.frame(usize::from(inner.height), lines.len());
    let mut block = Block::bordered().title(format!(" Keys: {} ", app.tab.title())).bold();
    let at = app.help_scroll.position(first);
    if !at.is_empty() {
        block = block.title_top(Line::from(format!(" {at} · j/k scroll ")).right_aligned());
    }
    Paragraph::new(lines)
        .scroll((u16::try_from(first).unwrap_or(u16::MAX), 0))
        .block(block)
        .render(v, buf);
}
