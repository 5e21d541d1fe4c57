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
use super::wrap::hang;
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
    let report = &app.scan;
    if app.scan_status == ScanStatus::Done && !(report.files.is_empty() && report.skipped.is_empty()) {
        lines.push(counts(report));
        // counted as `tensorscope scan` counts them, listed last
        if !report.skipped.is_empty() {
            lines.push(Line::from(format!("{} skipped (not checkpoints)", report.skipped.len())).dim());
        }
    }
    for f in &report.files {
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
    // as `tensorscope scan` lists them: never scanned as checkpoints, never dropped silently
    for s in &report.skipped {
        let what = if s.index {
            "index, drives the layout"
        } else {
            s.looks.as_str()
        };
        let head = vec![
            Span::styled(format!("{:<11}", "skipped"), Style::new().dim()),
            Span::raw(escape(&s.path).into_owned()),
            Span::raw(format!("  not a checkpoint ({})", escape(what))).dim(),
        ];
        lines.extend(hang(head, 11, width));
    }
    if lines.is_empty() {
        lines.push(Line::from("nothing scanned"));
    }
    super::scrolled(lines, "Scan", &app.scan_scroll, area, buf);
}

/// The counts on top, worst first, coloured as the verdicts are.
fn counts(report: &tensorscope::scan::ScanReport) -> Line<'static> {
    let files = &report.files;
    let mut spans = Vec::new();
    for (v, what) in [
        (Verdict::Dangerous, "dangerous"),
        (Verdict::Suspicious, "suspicious"),
        (Verdict::Error, "error"),
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
        // `1 error`, `2 errors`; the verdicts are adjectives and take no plural
        let what = if v == Verdict::Error && n != 1 { "errors" } else { what };
        spans.push(Span::styled(format!("{n} {what}"), style));
    }
    let n = files.len();
    spans.push(Span::raw(format!(
        " of {n} {} (the worst first)",
        if n == 1 { "file" } else { "files" }
    )));
    Line::from(spans)
}
