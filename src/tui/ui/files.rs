//! Files, components, metadata and warnings of the checkpoint.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Stylize};
use ratatui::text::Line;
use tensorscope::formats::gguf::is_template_key;
use tensorscope::text::{bytes, escape};

use crate::tui::app::App;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let ck = &app.ck;
    let mut lines = vec![Line::from("Files").bold()];
    if let Some(h) = &app.hub {
        lines.push(Line::from(format!("  hugging face cache: {h}")).fg(Color::Cyan));
    }
    for f in &ck.files {
        lines.push(Line::from(format!(
            "  {:<48} {:<20} {:>10}",
            escape(&f.path.to_string_lossy()),
            f.format,
            bytes(f.bytes)
        )));
    }
    lines.push(Line::from(format!(
        "  {} tensors, {} parameters, {}",
        ck.tensors.len(),
        ck.total_params(),
        bytes(ck.total_bytes())
    )));
    if !ck.components.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from("Components").bold());
        for c in &ck.components {
            let what = if c.tensors == 0 {
                "no weights".to_string()
            } else {
                format!("{} tensors", c.tensors)
            };
            lines.push(Line::from(format!(
                "  {:<16} {:<40} {what}",
                escape(&c.name),
                escape(&c.class)
            )));
        }
    }
    if !ck.metadata.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from("Metadata").bold());
        for (k, v) in &ck.metadata {
            let v = if is_template_key(k) {
                short(v)
            } else {
                escape(v).into_owned()
            };
            lines.push(Line::from(format!("  {}: {v}", escape(k))));
        }
    }
    // GGUF chat templates are code: shown whole, line by line, after the metadata
    for (k, v) in ck.metadata.iter().filter(|(k, _)| is_template_key(k)) {
        lines.push(Line::from(""));
        lines.push(Line::from(format!("Chat template {}", escape(k))).bold());
        lines.extend(v.lines().map(|l| Line::from(format!("  {}", escape(l)))));
    }
    if !ck.warnings.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from("Warnings").bold().fg(Color::Yellow));
        lines.extend(
            ck.warnings
                .iter()
                .map(|w| Line::from(format!("  {}", escape(w))).fg(Color::Yellow)),
        );
    }
    super::scrolled(lines, "Files", &app.files_scroll, area, buf);
}

/// The first line of a template, cut, with a pointer to the full text below.
fn short(v: &str) -> String {
    let first: String = v.lines().next().unwrap_or("").chars().take(60).collect();
    format!("{}… ({} chars, shown below)", escape(&first), v.chars().count())
}
