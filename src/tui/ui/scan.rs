//! The safety scan of every file: verdict per file, then its findings.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use tensorscope::scan::{Severity, Verdict};
use tensorscope::text::escape;

use super::header::verdict_label;
use crate::tui::app::{App, ScanStatus};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
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
        lines.push(Line::from(vec![
            Span::styled(format!("{label:<11}"), Style::new().fg(color).bold()),
            Span::raw(format!("{}  [{}]", escape(&f.path), f.format)),
        ]));
        if let Some(e) = &f.error {
            lines.push(Line::from(format!("    {}", escape(e))));
        }
        for x in &f.findings {
            let (_, c) = verdict_label(Some(match x.severity {
                Severity::Dangerous => Verdict::Dangerous,
                Severity::Suspicious => Verdict::Suspicious,
            }));
            lines.push(Line::from(vec![
                Span::raw("    "),
                Span::styled(format!("{:<10}", x.severity.as_str()), Style::new().fg(c)),
                Span::raw(format!(
                    " {}  {}  @{}  {}",
                    escape(&x.entry),
                    escape(x.global.as_deref().unwrap_or("-")),
                    x.offset.map(|o| o.to_string()).unwrap_or_else(|| "-".into()),
                    escape(&x.why)
                )),
            ]));
            if !x.loaders.is_empty() {
                lines.push(Line::from(format!("      run by: {}", escape(&x.loaders.join(", ")))).dim());
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
