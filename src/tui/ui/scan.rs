//! The safety scan of every file: verdict per file, then its findings. Long lines wrap with a hanging
//! indent, so a path or a finding's why continues under its own text, never under the verdicts:
//!
//! ```text
//! DANGEROUS  samples/malicious.bin  [pytorch-zip]
//!     dangerous  malicious/data.pkl  posix.system  @184  os on Linux and macOS:
//!                runs shell commands, touches files
//!       run by:  torch.load(weights_only=False)
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use tensorscope::scan::{Severity, Verdict};
use tensorscope::text::escape;

use super::header::verdict_label;
use crate::tui::app::{App, ScanStatus};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    // the text width inside the border: lines are wrapped here, with their hanging indents
    let width = usize::from(area.width.saturating_sub(2)).max(1);
    let mut lines = Vec::new();
    match &app.scan_status {
        ScanStatus::Running => lines.push(Line::from("scanning… (q quits at any time)").dim()),
        ScanStatus::Failed(e) => lines.push(Line::from(format!("cannot scan: {}", escape(e))).fg(Color::Magenta)),
        ScanStatus::Done => {}
    }
    if app.scan_status == ScanStatus::Done && !app.scan.is_empty() {
        lines.push(counts(&app.scan));
    }
    for f in &app.scan {
        let (label, color) = verdict_label(Some(f.verdict));
        let head = vec![
            Span::styled(format!("{label:<11}"), Style::new().fg(color).bold()),
            Span::raw(format!("{}  [{}]", escape(&f.path), f.format)),
        ];
        lines.extend(hang(head, 11, width));
        if let Some(e) = &f.error {
            lines.extend(hang(vec![Span::raw(format!("    {}", escape(e)))], 4, width));
        }
        for x in &f.findings {
            let (_, c) = verdict_label(Some(match x.severity {
                Severity::Dangerous => Verdict::Dangerous,
                Severity::Suspicious => Verdict::Suspicious,
            }));
            let finding = vec![
                Span::raw("    "),
                Span::styled(format!("{:<10}", x.severity.as_str()), Style::new().fg(c)),
                Span::raw(format!(
                    " {}  {}  @{}  {}",
                    escape(&x.entry),
                    escape(x.global.as_deref().unwrap_or("-")),
                    x.offset.map(|o| o.to_string()).unwrap_or_else(|| "-".into()),
                    escape(&x.why)
                )),
            ];
            lines.extend(hang(finding, 15, width));
            if !x.loaders.is_empty() {
                let by = Span::raw(format!("      run by: {}", escape(&x.loaders.join(", ")))).dim();
                lines.extend(hang(vec![by], 14, width));
            }
        }
    }
    if lines.is_empty() {
        lines.push(Line::from("nothing scanned"));
    }
    super::scrolled(lines, "Scan", &app.scan_scroll, area, buf);
}

/// The counts on top, worst first, coloured as the verdicts are.
fn counts(files: &[tensorscope::scan::FileScan]) -> Line<'static> {
    let mut spans = Vec::new();
    for (v, what) in [
        (Verdict::Dangerous, "dangerous"),
        (Verdict::Suspicious, "suspicious"),
        (Verdict::Error, "errors"),
        (Verdict::Safe, "safe"),
    ] {
        let n = files.iter().filter(|f| f.verdict == v).count();
        if !spans.is_empty() {
            spans.push(Span::raw(" · "));
        }
        let style = if n > 0 {
            Style::new().fg(verdict_label(Some(v)).1).bold()
        } else {
            Style::new().dim()
        };
        spans.push(Span::styled(format!("{n} {what}"), style));
    }
    let n = files.len();
    spans.push(Span::raw(format!(
        " of {n} {} (the worst first)",
        if n == 1 { "file" } else { "files" }
    )));
    Line::from(spans)
}

/// `spans` as lines at most `width` columns wide, broken after a space where there is one (else
/// inside a word), each line after the first starting `indent` columns in (leading spaces dropped).
fn hang(spans: Vec<Span<'static>>, indent: usize, width: usize) -> Vec<Line<'static>> {
    let cols = |c: char| Span::raw(c.to_string()).width();
    let chars: Vec<(char, Style)> = spans
        .iter()
        .flat_map(|s| s.content.chars().map(move |c| (c, s.style)))
        .collect();
    // a pane too narrow for the indent wraps flush left
    let indent = if indent * 2 > width { 0 } else { indent };
    let mut lines = Vec::new();
    let mut start = 0;
    let mut first = true;
    while start < chars.len() {
        if !first {
            while start < chars.len() && chars[start].0 == ' ' {
                start += 1;
            }
            if start == chars.len() {
                break;
            }
        }
        let room = if first { width } else { width - indent };
        let (mut end, mut used, mut space) = (start, 0, None);
        while end < chars.len() && used + cols(chars[end].0) <= room {
            if chars[end].0 == ' ' {
                space = Some(end);
            }
            used += cols(chars[end].0);
            end += 1;
        }
        // break after the last space that leaves something on this line, unless the word after it
        // would not fit a line of its own either (a long path is cut where the line ends)
        if end < chars.len() && chars[end].0 != ' ' {
            if let Some(sp) = space.filter(|&sp| sp > start) {
                let word: usize = chars[sp + 1..]
                    .iter()
                    .take_while(|(c, _)| *c != ' ')
                    .map(|&(c, _)| cols(c))
                    .sum();
                if word <= width - indent {
                    end = sp + 1;
                }
            }
        }
        let end = end.max(start + 1);
        let mut line: Vec<Span<'static>> = Vec::new();
        if !first && indent > 0 {
            line.push(Span::raw(" ".repeat(indent)));
        }
        let own = line.len();
        for &(c, style) in &chars[start..end] {
            let n = line.len();
            match line.last_mut() {
                Some(last) if n > own && last.style == style => last.content.to_mut().push(c),
                _ => line.push(Span::styled(c.to_string(), style)),
            }
        }
        lines.push(Line::from(line));
        start = end;
        first = false;
    }
    if lines.is_empty() {
        lines.push(Line::from(""));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn a_long_line_wraps_under_its_own_text() {
        let l = hang(
            vec![Span::raw("    dangerous  data.pkl  os.system  runs shell commands")],
            15,
            30,
        );
        assert_eq!(
            text(&l),
            [
                "    dangerous  data.pkl  ",
                "               os.system  runs",
                "               shell commands"
            ]
        );
        assert!(l.iter().all(|x| x.width() <= 30));
        // a word longer than a line is cut
        let l = hang(
            vec![Span::raw("SAFE       samples/a-very-long-path-name.safetensors")],
            11,
            24,
        );
        assert_eq!(
            text(&l),
            [
                "SAFE       samples/a-ver",
                "           y-long-path-n",
                "           ame.safetenso",
                "           rs"
            ]
        );
        assert_eq!(text(&hang(vec![Span::raw("short")], 11, 80)), ["short"]);
        // narrower than twice the indent: no indent
        assert_eq!(text(&hang(vec![Span::raw("abcdef")], 4, 3)), ["abc", "def"]);
    }
}
