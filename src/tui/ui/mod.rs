//! Drawing: `impl Widget for &App`, one file per pane.
//!
//! ```text
//! ┌ tensorscope  path  (format, files)  [Tensors] Files Scan Bench  verdict ┐  header
//! ├──────────────────────────┬──────────────────────────────────────────────┤
//! │ tensor list (filter)     │ details / values / statistics / histogram    │  body (by tab)
//! │                          │                                              │
//! ├──────────────────────────┴──────────────────────────────────────────────┤
//! │ status: keys, filter being typed                                         │  status
//! └──────────────────────────────────────────────────────────────────────────┘
//!                     help overlay centred on top when open
//! ```
//! The Files, Scan and Bench tabs use the whole body (Bench: see `bench.rs`).

mod bench;
mod files;
mod header;
mod help;
mod preview;
mod scan;
mod status;
mod tensors;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Widget;

use super::app::{App, Mode, Tab};

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let [head, body, foot] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0), Constraint::Length(1)]).areas(area);
        header::render(self, head, buf);
        match self.tab {
            Tab::Tensors => {
                let [left, right] =
                    Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
                tensors::render(self, left, buf);
                preview::render(self, right, buf);
            }
            Tab::Files => files::render(self, body, buf),
            Tab::Scan => scan::render(self, body, buf),
            Tab::Bench => bench::render(self, body, buf),
        }
        status::render(self, foot, buf);
        if self.mode == Mode::Help {
            help::render(area, buf);
        }
    }
}

/// Rows a list pane of `height` shows, for paging.
pub fn page_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(3)).max(1)
}

#[cfg(test)]
mod tests;
