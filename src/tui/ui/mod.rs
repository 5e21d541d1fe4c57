//! Drawing: `impl Widget for &App`, one file per pane.
//!
//! ```text
//! ┌ tensorscope  pa…th (format)   1 Tensors 2 Files 3 Scan 4 Bench     SAFE ┐  header (path cut in the middle)
//! ├─ tree / list (≥ half the width) ─┬─ selected node or tensor ────────────┤
//! │ ▾ encoder   10.6M params 42.6 MB │ full name, wrapped                   │  body (by tab)
//! │   ▸ layer   …                    │ statistics, histogram, values        │
//! ├──────────────────────────────────┴──────────────────────────────────────┤
//! │ status: keys, the filter being typed, notes                             │  status
//! └─────────────────────────────────────────────────────────────────────────┘
//!                  help overlay (keys of the current pane) on top when open
//! ```
//! Files, Scan, Diff and Bench use the whole body (Bench: see `bench.rs`).

mod bench;
mod bench_table;
mod cut;
mod diff;
mod files;
pub mod header;
mod help;
mod preview;
mod scan;
mod status;
mod tensors;
mod viewer;
mod window;
mod wrap;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Widget};

use super::app::{App, Mode, Tab};
use super::scroll::Scroll;

/// Below this width the preview pane is left out and the list takes the body.
const MIN_SPLIT_WIDTH: u16 = 50;

fn areas(area: Rect) -> [Rect; 3] {
    Layout::vertical([Constraint::Length(1), Constraint::Min(0), Constraint::Length(1)]).areas(area)
}

/// Whether the Tensors tab shows one pane at a time at width `width`.
pub fn narrow(width: u16) -> bool {
    width < MIN_SPLIT_WIDTH
}

/// The list and preview panes of the Tensors tab: the list gets at least half; a terminal too
/// narrow for both shows the list, or the preview full-width once asked for (Enter on a tensor).
fn split(app: &App, body: Rect) -> (Rect, Rect) {
    if narrow(body.width) {
        return match app.tensors.preview_focus {
            true => (Rect::default(), body),
            false => (body, Rect::default()),
        };
    }
    let [l, r] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
    (l, r)
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let [head, body, foot] = areas(area);
        header::render(self, head, buf);
        match self.tab {
            Tab::Tensors => {
                let (left, right) = split(self, body);
                tensors::render(self, left, buf);
                preview::render(self, right, buf);
            }
            Tab::Files => files::render(self, body, buf),
            Tab::Scan => scan::render(self, body, buf),
            Tab::Bench => bench::render(self, body, buf),
            Tab::Diff => diff::render(self, body, buf),
        }
        if self.mode == Mode::Value {
            viewer::render(self, body, buf);
        }
        status::render(self, foot, buf);
        if self.mode == Mode::Help {
            help::render(self, area, buf);
        }
    }
}

/// A text pane in a border titled `title`, wrapped, scrolled by `scroll`, its position in the title.
fn scrolled(lines: Vec<ratatui::text::Line<'_>>, title: &str, scroll: &Scroll, area: Rect, buf: &mut Buffer) {
    let inner = Block::bordered().inner(area);
    let text = window::Wrapped::new(lines, inner.width);
    let first = scroll.frame(usize::from(inner.height), text.total());
    let mut block = Block::bordered().title(format!(" {title} "));
    let at = scroll.position(first);
    if !at.is_empty() {
        block = block.title_top(Line::from(format!(" {at} ")).right_aligned());
    }
    // only the rows on screen go to the Paragraph (it scrolls by a u16: at most 65,535 rows)
    text.window(first, usize::from(inner.height))
        .block(block)
        .render(area, buf);
}

/// Rows a list pane of a terminal `height` shows, for paging and scrolling.
pub fn page_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(4)).max(1)
}

/// The tab under column `col` of the header.
pub fn tab_at(app: &App, area: Rect, col: u16) -> Option<usize> {
    header::layout(app, area.width)
        .tabs
        .iter()
        .position(|r| r.contains(&col))
}

/// The list row (counted from the first drawn) under a screen position on the Tensors tab.
pub fn row_at(app: &App, area: Rect, col: u16, row: u16) -> Option<usize> {
    if app.tab != Tab::Tensors {
        return None;
    }
    let (list, _) = split(app, areas(area)[1]);
    let inner = tensors::inner(list);
    let p = ratatui::layout::Position::new(col, row);
    inner.contains(p).then(|| usize::from(row - inner.y))
}

/// Whether a screen position is over the preview pane of the Tensors tab (the wheel scrolls it there).
pub fn in_preview(app: &App, area: Rect, col: u16, row: u16) -> bool {
    if app.tab != Tab::Tensors || app.mode == Mode::Help {
        return false;
    }
    let (_, preview) = split(app, areas(area)[1]);
    preview.contains(ratatui::layout::Position::new(col, row))
}

#[cfg(test)]
mod tests;
