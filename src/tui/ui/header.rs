//! The top line: the tabs and the verdict always show; the path gets what is left and is shortened
//! by whole components from the front (`…/gpt2-tiny.bin ⇄ …/gpt2-tiny.safetensors`); the brand and the format go first when space is short.

use std::ops::Range;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use tensorscope::scan::Verdict;

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
    let chars: Vec<char> = s.chars().collect();
    let esc = super::cut::escapes(&chars);
    let head = super::cut::snap_head(keep / 3, &esc);
    let start = super::cut::snap_tail(n - (keep - head), &esc);
    let a: String = chars[..head].iter().collect();
    let b: String = chars[start..].iter().collect();
    format!("{a}…{b}")
}

/// `s` cut to `max` chars from the front (`…tiny.safetensors`: the end of a file name, its
/// extension, tells two apart), never inside an escape.
pub fn front_cut(s: &str, max: usize) -> String {
    let n = width(s);
    if n <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let chars: Vec<char> = s.chars().collect();
    let start = super::cut::snap_tail(n - (max - 1), &super::cut::escapes(&chars));
    format!("…{}", chars[start..].iter().collect::<String>())
}

/// The ways to shorten a path, longest first: whole, then `…/` and fewer and fewer trailing
/// components, down to `…/NAME`.
fn shortenings(p: &str) -> Vec<String> {
    let parts: Vec<&str> = p.split('/').collect();
    let mut out = vec![p.to_string()];
    out.extend(
        (1..parts.len())
            .rev()
            .map(|k| format!("…/{}", parts[parts.len() - k..].join("/"))),
    );
    out
}

/// A path cut to `max` chars by whole components from the front (`…/gpt2-tiny.bin`), so what is left
/// is still a path; only a file name that alone is too long is cut in its middle.
pub fn elide_path(p: &str, max: usize) -> String {
    shortenings(p)
        .into_iter()
        .find(|s| width(s) <= max)
        .unwrap_or_else(|| middle_cut(p.rsplit('/').next().unwrap_or(p), max))
}

/// `a ⇄ b` within `max` chars: the longer side loses a component first, so both stay paths.
fn elide_pair(a: &str, b: &str, max: usize) -> String {
    let (a, b) = elide_both(a, b, max.saturating_sub(3));
    format!("{a} ⇄ {b}")
}

/// `a` and `b` shortened to `room` chars together, each by whole components from the front (the
/// longer first), each file name kept; names too long for their share are cut in their middle.
pub fn elide_both(a: &str, b: &str, room: usize) -> (String, String) {
    let (ca, cb) = (shortenings(a), shortenings(b));
    let (mut i, mut j) = (0, 0);
    loop {
        let (wa, wb) = (width(&ca[i]), width(&cb[j]));
        if wa + wb <= room {
            return (ca[i].clone(), cb[j].clone());
        }
        let a_first = wa >= wb;
        if a_first && i + 1 < ca.len() || !a_first && j + 1 >= cb.len() && i + 1 < ca.len() {
            i += 1;
        } else if j + 1 < cb.len() {
            j += 1;
        } else {
            // both down to their names: the names whole when they fit without `…/`, else cut, the
            // shorter whole when the longer keeps a third of the room
            let name = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
            let (na, nb) = (name(a), name(b));
            let (la, lb) = (width(&na), width(&nb));
            if la + lb <= room {
                return (na, nb);
            }
            let ra = if la.min(lb) + room / 3 <= room && la <= lb {
                la
            } else if lb + room / 3 <= room && lb < la {
                room - lb
            } else {
                room * la / (la + lb).max(1)
            };
            // what the two share goes first: a shared stem from the front (`…safetensors` beside
            // `gpt2-tiny.bin`), else the middle (`a.s…ensors` beside `b.safetensors`)
            let shared = |x: &mut dyn Iterator<Item = (char, char)>| x.take_while(|(p, q)| p == q).count();
            let prefix = shared(&mut na.chars().zip(nb.chars()));
            let suffix = shared(&mut na.chars().rev().zip(nb.chars().rev()));
            let cut = if prefix > suffix { front_cut } else { middle_cut };
            return (cut(&na, ra), cut(&nb, room - ra));
        }
    }
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
    let a = tensorscope::text::path(&app.ck.path);
    let b = app.compare.as_ref().map(|c| tensorscope::text::path(&c.b.path));
    let path = match &b {
        Some(b) => format!("{a} ⇄ {b}"),
        None => a.clone(),
    };
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
    let path = match &b {
        Some(b) => elide_pair(&a, b, left.saturating_sub(1)),
        None => elide_path(&a, left.saturating_sub(1)),
    };
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
    app.scan
        .files
        .iter()
        .map(|f| f.verdict)
        .max_by_key(|v| verdict_rank(*v))
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
        // never inside an escape
        assert_eq!(super::middle_cut(r"ab\u{200d}cdefghijklmnop", 12), "ab…hijklmnop");
        assert_eq!(super::front_cut(r"x\u{202e}nib.safetensors", 18), "…nib.safetensors");
    }

    #[test]
    fn paths_are_cut_by_whole_components() {
        assert_eq!(super::elide_path("samples/gpt2-tiny.bin", 30), "samples/gpt2-tiny.bin");
        assert_eq!(
            super::elide_path("/home/u/samples/gpt2-tiny.bin", 24),
            "…/samples/gpt2-tiny.bin"
        );
        assert_eq!(
            super::elide_path("/home/u/samples/gpt2-tiny.bin", 20),
            "…/gpt2-tiny.bin"
        );
        assert_eq!(super::elide_path("/a/very-long-file-name.bin", 10), "ver…me.bin");
        // at 80 columns: the names whole when they fit, else cut from the front, never mid-name
        assert_eq!(
            super::elide_both("samples/gpt2-tiny.bin", "samples/gpt2-tiny.safetensors", 34),
            ("gpt2-tiny.bin".into(), "gpt2-tiny.safetensors".into())
        );
        assert_eq!(
            super::elide_both("samples/gpt2-tiny.bin", "samples/gpt2-tiny.safetensors", 25),
            ("gpt2-tiny.bin".into(), "…safetensors".into())
        );
        assert_eq!(
            super::elide_both("s/a-very-long-name.bin", "s/another-very-long-name.safetensors", 20),
            ("…me.bin".into(), "….safetensors".into())
        );
        assert_eq!(
            super::elide_pair("samples/gpt2-tiny.bin", "samples/gpt2-tiny.safetensors", 44),
            "…/gpt2-tiny.bin ⇄ …/gpt2-tiny.safetensors"
        );
    }
}
