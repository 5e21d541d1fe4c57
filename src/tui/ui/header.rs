//! The top line: the tabs and the verdict always show; the path gets what is left and is shortened
//! in the middle (`/home/…/model.safetensors`); the brand and the format go first when space is short.

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use tensorscope::scan::Verdict;
use tensorscope::text::escape;

use crate::tui::app::{App, ScanStatus, Tab};

const BRAND: &str = " tensorscope ";

/// What the header shows at a width, and where each tab is.
pub struct HeaderLayout {
    pub brand: bool,
    pub path: String,
    pub format: Option<String>,
    /// Column range of each tab.
    pub tabs: Vec<Range<u16>>,
    pub verdict: (&'static str, Color),
}

fn tab_label(i: usize, t: Tab) -> String {
    format!(" {} {} ", i + 1, t.title())
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// `s` cut to `max` chars with `…` in the middle.
pub fn middle_cut(s: &str, max: usize) -> String {
    let n = width(s);
    if n <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let keep = max - 1;
    let head = keep / 3;
    let tail = keep - head;
    let a: String = s.chars().take(head).collect();
    let b: String = s.chars().skip(n - tail).collect();
    format!("{a}…{b}")
}

pub fn layout(app: &App, w: u16) -> HeaderLayout {
    let w = usize::from(w);
    let tabs = app.tabs();
    let tabs_w: usize = tabs.iter().enumerate().map(|(i, t)| width(&tab_label(i, *t))).sum();
    let verdict = match &app.scan_status {
        ScanStatus::Running => ("scanning…", Color::DarkGray),
        ScanStatus::Failed(_) => ("SCAN ERROR", Color::Magenta),
        ScanStatus::Done => verdict_label(overall(app)),
    };
    let fixed = tabs_w + verdict.0.chars().count() + 2;
    let mut path = escape(&app.ck.path.to_string_lossy()).into_owned();
    if let Some(c) = &app.compare {
        path = format!("{path} ⇄ {}", escape(&c.b.path.to_string_lossy()));
    }
    let format = format!(" ({}) ", app.ck.format);
    let mut left = w.saturating_sub(fixed);
    let brand = left >= BRAND.len() + width(&path) + 1 + format.len().min(12);
    if brand {
        left -= BRAND.len();
    }
    let show_format = left >= width(&path) + 1 + format.len() || left >= 40 + format.len();
    if show_format {
        left -= format.len();
    }
    let path = middle_cut(&path, left.saturating_sub(1));
    let mut x =
        (if brand { BRAND.len() } else { 0 } + 1 + width(&path) + if show_format { format.len() } else { 1 }) as u16;
    let mut ranges = Vec::new();
    for (i, t) in tabs.iter().enumerate() {
        let lw = width(&tab_label(i, *t)) as u16;
        ranges.push(x..x.saturating_add(lw));
        x = x.saturating_add(lw);
    }
    HeaderLayout {
        brand,
        path,
        format: show_format.then_some(format),
        tabs: ranges,
        verdict,
    }
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let l = layout(app, area.width);
    let mut spans = Vec::new();
    if l.brand {
        spans.push(Span::styled(BRAND, Style::new().bold().reversed()));
    }
    spans.push(Span::raw(" "));
    spans.push(Span::styled(l.path.clone(), Style::new().bold()));
    spans.push(Span::raw(l.format.clone().unwrap_or_else(|| " ".into())));
    for (i, t) in app.tabs().iter().enumerate() {
        let label = tab_label(i, *t);
        spans.push(if *t == app.tab {
            Span::styled(label, Style::new().add_modifier(Modifier::REVERSED))
        } else {
            Span::raw(label)
        });
    }
    Line::from(spans).render(area, buf);
    let (text, color) = l.verdict;
    let vw = text.chars().count() as u16 + 1;
    let right = Rect::new(
        area.right().saturating_sub(vw),
        area.y,
        vw.min(area.width),
        area.height.min(1),
    );
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

#[cfg(test)]
mod tests {
    #[test]
    fn middle_cut_keeps_both_ends() {
        assert_eq!(super::middle_cut("abcdefghij", 20), "abcdefghij");
        assert_eq!(super::middle_cut("abcdefghij", 7), "ab…ghij");
        assert_eq!(super::middle_cut("abcdefghij", 1), "…");
        assert_eq!(super::middle_cut("abcdefghij", 0), "");
    }
}
