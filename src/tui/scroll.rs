//! The scroll position of a text pane (Files, Scan, Bench, the preview, the help overlay): an offset in drawn rows, kept inside what the
//! last frame drew, so every pane reaches its last line with the same keys as the lists.

use std::cell::Cell;

/// An offset into a pane's drawn rows, and what the last frame showed (rows visible, rows in all).
#[derive(Debug, Default, Clone)]
pub struct Scroll {
    offset: usize,
    /// `(visible, total)` rows as last drawn; the renderer sets it, `update` clamps by it.
    drawn: Cell<(usize, usize)>,
}

/// A move of the view, from the keys every pane shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
}

impl Scroll {
    /// The largest offset that still fills the pane, from the last frame.
    fn max(&self) -> usize {
        let (visible, total) = self.drawn.get();
        total.saturating_sub(visible)
    }

    /// Moves the view; a page is `page` rows.
    pub fn apply(&mut self, m: Move, page: usize) {
        let page = page.max(1);
        self.offset = match m {
            Move::Up => self.offset.saturating_sub(1),
            Move::Down => self.offset.saturating_add(1),
            Move::PageUp => self.offset.saturating_sub(page),
            Move::PageDown => self.offset.saturating_add(page),
            Move::Top => 0,
            Move::Bottom => usize::MAX,
        }
        .min(self.max());
    }

    /// Records what a frame draws (`visible` of `total` rows) and returns the first row to show.
    pub fn frame(&self, visible: usize, total: usize) -> usize {
        self.drawn.set((visible, total));
        self.offset.min(self.max())
    }

    /// The first row shown, by the last frame's sizes.
    pub fn first(&self) -> usize {
        self.offset.min(self.max())
    }

    /// Rows the last frame showed.
    pub fn visible(&self) -> usize {
        self.drawn.get().0
    }

    /// Where the view is, as a title shows it: `12–34 of 151` (empty when everything fits).
    pub fn position(&self, first: usize) -> String {
        let (visible, total) = self.drawn.get();
        if total <= visible {
            return String::new();
        }
        format!("{}–{} of {total}", first + 1, (first + visible).min(total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_stay_inside_what_was_drawn() {
        let mut s = Scroll::default();
        assert_eq!(s.frame(10, 35), 0);
        s.apply(Move::Bottom, 10);
        assert_eq!(s.frame(10, 35), 25);
        assert_eq!(s.position(25), "26–35 of 35");
        s.apply(Move::Up, 10);
        assert_eq!(s.frame(10, 35), 24, "one up from the bottom moves at once");
        s.apply(Move::PageDown, 10);
        s.apply(Move::PageDown, 10);
        assert_eq!(s.frame(10, 35), 25);
        s.apply(Move::Top, 10);
        assert_eq!(s.frame(10, 35), 0);
        assert_eq!(s.position(0), "1–10 of 35");
        // a taller pane: the offset shrinks to what fits
        s.apply(Move::Bottom, 10);
        assert_eq!(s.frame(30, 35), 5);
        assert_eq!(s.frame(40, 35), 0);
        assert_eq!(s.position(0), "");
    }
}
