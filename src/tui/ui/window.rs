//! The rows of a wrapped text that a pane shows, cut out before drawing: a `Paragraph` scrolls by a
//! `u16`, so a text past 65,535 rows (a 128,256-token vocabulary) would stop at row 65,535 while the
//! border counted on. Only the lines on screen are handed to the `Paragraph`, scrolled by the rows of
//! the first one above the pane.

use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

/// Lines and the rows each wraps to at one width.
pub struct Wrapped<'a> {
    lines: Vec<Line<'a>>,
    rows: Vec<usize>,
}

impl<'a> Wrapped<'a> {
    /// `lines` wrapped (words, spaces kept) at `width` columns.
    pub fn new(lines: Vec<Line<'a>>, width: u16) -> Self {
        let rows = lines
            .iter()
            .map(|l| Paragraph::new(l.clone()).wrap(Wrap { trim: false }).line_count(width))
            .collect();
        Wrapped { lines, rows }
    }

    /// Rows in all.
    pub fn total(&self) -> usize {
        self.rows.iter().sum()
    }

    /// A paragraph showing rows `first..first + height`: the lines that reach into them, scrolled
    /// past the rows of the first line above `first`.
    pub fn window(self, first: usize, height: usize) -> Paragraph<'a> {
        let (mut above, mut skip, mut take) = (0, 0, 0);
        let mut start = self.rows.len();
        for (i, &r) in self.rows.iter().enumerate() {
            if start == self.rows.len() {
                if above + r > first {
                    start = i;
                    skip = first - above;
                } else {
                    above += r;
                    continue;
                }
            }
            take += 1;
            if above + r >= first + height {
                break;
            }
            above += r;
        }
        let lines: Vec<Line<'a>> = self.lines.into_iter().skip(start).take(take).collect();
        // `skip` is within one line: past u16::MAX only for one line of more than 65,535 rows
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(skip).unwrap_or(u16::MAX), 0))
    }
}

#[cfg(test)]
mod tests {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::widgets::Widget;

    use super::*;

    fn shown(lines: Vec<Line<'static>>, width: u16, first: usize, height: u16) -> Vec<String> {
        let w = Wrapped::new(lines, width);
        let area = Rect::new(0, 0, width, height);
        let mut buf = Buffer::empty(area);
        w.window(first, usize::from(height)).render(area, &mut buf);
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn rows_past_65535_are_reached() {
        let lines: Vec<Line> = (0..100_000).map(|i| Line::from(format!("row {i}"))).collect();
        assert_eq!(Wrapped::new(lines.clone(), 20).total(), 100_000);
        assert_eq!(shown(lines, 20, 99_997, 3), ["row 99997", "row 99998", "row 99999"]);
    }

    #[test]
    fn a_wrapped_line_is_entered_part_way() {
        let lines = vec![Line::from("aaaa bbbb cccc"), Line::from("dd"), Line::from("ee")];
        assert_eq!(Wrapped::new(lines.clone(), 5).total(), 5);
        assert_eq!(shown(lines.clone(), 5, 1, 3), ["bbbb", "cccc", "dd"]);
        assert_eq!(shown(lines, 5, 3, 3), ["dd", "ee", ""]);
    }
}
