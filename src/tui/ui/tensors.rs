//! The tensor list: name, dtype, shape; the filter in the title.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Block, Row, StatefulWidget, Table, TableState};
use tensorscope::text::escape;

use crate::tui::app::{App, Mode};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let list = &app.list;
    let title = if list.filter.is_empty() {
        format!(" Tensors ({}) ", app.ck.tensors.len())
    } else {
        format!(
            " Tensors {}/{}  filter: {} ",
            list.visible.len(),
            app.ck.tensors.len(),
            escape(&list.filter)
        )
    };
    let rows = list.visible.iter().map(|&i| {
        let t = &app.ck.tensors[i];
        let shape = format!("{:?}", t.shape);
        Row::new([escape(&t.name).into_owned(), t.dtype.name().to_string(), shape])
    });
    let table = Table::new(
        rows,
        [Constraint::Fill(1), Constraint::Length(11), Constraint::Length(14)],
    )
    .header(Row::new(["name", "dtype", "shape"]).style(Style::new().bold().underlined()))
    .block(Block::bordered().title(title))
    .row_highlight_style(if app.mode == Mode::Filter {
        Style::new().underlined()
    } else {
        Style::new().reversed()
    });
    let mut state = TableState::default().with_selected((!list.visible.is_empty()).then_some(list.selected));
    StatefulWidget::render(table, area, buf, &mut state);
}
