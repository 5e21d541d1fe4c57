//! The top line: path, format, the tabs and the overall scan verdict.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use tensorscope::scan::Verdict;
use tensorscope::text::escape;

use crate::tui::app::{App, Tab};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let ck = &app.ck;
    let mut spans = vec![
        Span::styled(" tensorscope ", Style::new().bold().reversed()),
        Span::raw(" "),
        Span::styled(escape(&ck.path.to_string_lossy()).into_owned(), Style::new().bold()),
        Span::raw(format!(
            "  ({}, {} file{})  ",
            ck.format,
            ck.files.len(),
            if ck.files.len() == 1 { "" } else { "s" }
        )),
    ];
    for (i, t) in Tab::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, t.title());
        spans.push(if *t == app.tab {
            Span::styled(label, Style::new().add_modifier(Modifier::REVERSED))
        } else {
            Span::raw(label)
        });
    }
    // the verdict keeps its place at the right edge: a long path or a narrow terminal cuts the tabs first
    let (text, color) = verdict_label(overall(app));
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(text.len() as u16 + 1)]).areas(area);
    Line::from(spans).render(left, buf);
    Line::from(vec![Span::raw(" "), Span::styled(text, Style::new().fg(color).bold())]).render(right, buf);
}

/// The worst verdict over every scanned file.
pub fn overall(app: &App) -> Option<Verdict> {
    app.scan.iter().map(|f| f.verdict).max_by_key(|v| verdict_rank(*v))
}

fn verdict_rank(v: Verdict) -> u8 {
    match v {
        Verdict::Safe => 0,
        Verdict::Suspicious => 1,
        Verdict::Error => 2,
        Verdict::Dangerous => 3,
    }
}

pub fn verdict_label(v: Option<Verdict>) -> (&'static str, Color) {
    match v {
        Some(Verdict::Safe) => ("SAFE", Color::Green),
        Some(Verdict::Suspicious) => ("SUSPICIOUS", Color::Yellow),
        Some(Verdict::Dangerous) => ("DANGEROUS", Color::Red),
        Some(Verdict::Error) => ("SCAN ERROR", Color::Magenta),
        None => ("not scanned", Color::DarkGray),
    }
}
