//! Files (with each one's SHA-256 once `h` has hashed it, and the model's verification status),
//! components, metadata and warnings of the checkpoint.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Stylize};
use ratatui::text::{Line, Span};
use tensorscope::formats::gguf::is_template_key;
use tensorscope::text::{bytes, escape};

use crate::tui::app::App;
use crate::tui::hashing::{Check, Digest, Provenance};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let ck = &app.ck;
    let mut lines = vec![Line::from("Files").bold()];
    let width = usize::from(area.width.saturating_sub(2)).max(1);
    if let Some(h) = &app.hub {
        // a long revision continues under the repository, not at the pane's edge
        let head = Span::raw(format!("  hugging face cache: {h}")).fg(Color::Cyan);
        lines.extend(super::wrap::hang(vec![head], 22, width));
    }
    // a long status (a signature's name, why it failed) continues under its text, not at the edge
    for l in provenance(&app.files.provenance) {
        let indent = if l.spans.iter().any(|s| s.content.starts_with(PROVENANCE)) {
            PROVENANCE.len()
        } else {
            4
        };
        lines.extend(hang_line(l, indent, width));
    }
    if let Some(k) = &app.files.key_unused {
        let l = Line::from(format!(
            "  --public-key {} is unused: no model.sig here to check",
            escape(&name(k))
        ))
        .fg(Color::Yellow);
        lines.extend(hang_line(l, 4, width));
    }
    // as wide as the longest name, within the pane (borders, indent, 19 + 10 columns and their gaps)
    let longest = ck
        .files
        .iter()
        .map(|f| tensorscope::text::path(&f.path).chars().count())
        .max()
        .unwrap_or(0);
    let w = longest.min(usize::from(area.width).saturating_sub(37)).max(20);
    for (i, f) in ck.files.iter().enumerate() {
        lines.push(Line::from(format!(
            "  {:<w$}  {:<19}  {:>10}",
            tensorscope::text::path(&f.path),
            f.format.as_str(),
            bytes(f.bytes)
        )));
        lines.extend(app.files.digests.get(i).map(digest).unwrap_or_default());
    }
    lines.push(Line::from(totals(app)));
    if !ck.components.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from("Components").bold());
        for c in &ck.components {
            let what = if c.tensors == 0 {
                "no weights".to_string()
            } else {
                tensorscope::text::plural(c.tensors as u64, "tensor")
            };
            lines.push(Line::from(format!(
                "  {:<16} {:<40} {what}",
                escape(&c.name),
                escape(&c.class)
            )));
        }
    }
    // the lines where the long values begin, for `v` to open the one on screen
    let long = crate::tui::viewer::long_keys(ck);
    let mut anchors: Vec<(usize, String)> = Vec::new();
    if !ck.metadata.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from("Metadata").bold());
        for (k, v) in &ck.metadata {
            if long.contains(k) {
                anchors.push((lines.len(), k.clone()));
            }
            let v = if is_template_key(k) {
                short(v)
            } else {
                escape(v).into_owned()
            };
            // a long value continues under its key's indent, not at the pane's edge
            lines.extend(super::wrap::hang(
                vec![Span::raw(format!("  {}: {v}", escape(k)))],
                4,
                width,
            ));
        }
    }
    // GGUF chat templates are code: shown whole, line by line, after the metadata
    for (k, v) in ck.metadata.iter().filter(|(k, _)| is_template_key(k)) {
        lines.push(Line::from(""));
        anchors.push((lines.len(), k.clone()));
        lines.push(Line::from(format!("Chat template {}", escape(k))).bold());
        lines.extend(v.lines().map(|l| Line::from(format!("  {}", escape(l)))));
    }
    // where a file's name says one format and its bytes another, as `inspect` notes it
    let notes = tensorscope::checkpoint::name_notes(ck);
    if !notes.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from("Notes").bold().fg(Color::Yellow));
        for n in notes {
            lines.extend(super::wrap::hang(
                vec![Span::raw(format!("  {n}")).fg(Color::Yellow)],
                4,
                width,
            ));
        }
    }
    if !ck.warnings.is_empty() {
        lines.push(Line::from(""));
        lines.push(Line::from("Warnings").bold().fg(Color::Yellow));
        for w in &ck.warnings {
            let l = Line::from(format!("  {}", escape(w))).fg(Color::Yellow);
            lines.extend(hang_line(l, 4, width));
        }
    }
    *app.files.drawn_values.borrow_mut() = rows_of(&lines, anchors, area.width.saturating_sub(2));
    super::scrolled(lines, "Files", &app.files_scroll, area, buf);
}

/// The drawn row (lines wrapped at `width`, as the pane wraps them) of each `(line, key)`.
fn rows_of(lines: &[Line<'_>], anchors: Vec<(usize, String)>, width: u16) -> Vec<(usize, String)> {
    let last = anchors.iter().map(|a| a.0).max().unwrap_or(0);
    let mut starts = Vec::with_capacity(last + 1);
    let mut row = 0;
    for l in lines.iter().take(last + 1) {
        starts.push(row);
        row += ratatui::widgets::Paragraph::new(l.clone())
            .wrap(ratatui::widgets::Wrap { trim: false })
            .line_count(width);
    }
    anchors
        .into_iter()
        .map(|(i, k)| (starts.get(i).copied().unwrap_or(row), k))
        .collect()
}

/// `29 tensors, 172,288 parameters, 689.2 kB (945.2 kB as listed)`: counted as `inspect` counts,
/// each storage once (a tied weight once), from the tree the Tensors tab built (never recounted per
/// frame); while a large tree is still being built, the tensors only.
fn totals(app: &App) -> String {
    let ck = &app.ck;
    let tensors = tensorscope::text::plural(ck.tensors.len() as u64, "tensor");
    if app.tensors.pending {
        return format!("  {tensors}, counting…");
    }
    let root = app.tensors.tree.node(tensorscope::tree::Tree::ROOT);
    // each storage once, as `inspect` counts it; the listed sum beside it when they differ
    let unique = app.tensors.unique_bytes;
    let listed = ck.total_bytes();
    let as_listed = if listed != unique {
        format!(" ({} as listed)", bytes(listed))
    } else {
        String::new()
    };
    format!(
        "  {tensors}, {}, {}{as_listed}",
        tensorscope::text::plural(root.params, "parameter"),
        bytes(unique)
    )
}

/// `l` wrapped at `width` with a hanging indent (see [`super::wrap::hang`]), its style kept.
fn hang_line(l: Line<'static>, indent: usize, width: usize) -> Vec<Line<'static>> {
    let style = l.style;
    let spans = l
        .spans
        .into_iter()
        .map(|s| Span::styled(s.content, style.patch(s.style)))
        .collect();
    super::wrap::hang(spans, indent, width)
}

/// The label of the verification status; its text wraps under its first word.
const PROVENANCE: &str = "  provenance  ";

/// The verification status: what was found, or what `h` will check.
fn provenance(p: &Provenance) -> Vec<Line<'static>> {
    let head = PROVENANCE;
    match p {
        Provenance::NotSigned => {
            vec![Line::from(format!("{head}not signed (no model.sig, not a Hugging Face cache)")).dim()]
        }
        Provenance::Unchecked(Check::Oms { signature, .. }) => vec![Line::from(format!(
            "{head}signed ({}): h hashes and verifies",
            escape(&name(signature))
        ))],
        Provenance::Unchecked(Check::HfCache(_)) => {
            vec![Line::from(format!(
                "{head}Hugging Face cache: h checks every blob against its name"
            ))]
        }
        Provenance::NoKey(signature) => vec![
            Line::from(format!("{head}signed ({}), not checked:", escape(&name(signature)))).fg(Color::Yellow),
            Line::from("              open it with --public-key PEM to verify the signature").fg(Color::Yellow),
        ],
        Provenance::Checking => vec![Line::from(format!("{head}verifying…")).fg(Color::Cyan)],
        Provenance::Verified(what) => vec![
            Line::from(format!("{head}verified: {}", escape(what)))
                .fg(Color::Green)
                .bold(),
        ],
        Provenance::Failed(why) => {
            let mut v = vec![Line::from(format!("{head}FAILED")).fg(Color::Red).bold()];
            v.extend(
                why.iter()
                    .map(|w| Line::from(format!("    {}", escape(w))).fg(Color::Red)),
            );
            v
        }
        Provenance::Error(e) => vec![Line::from(format!("{head}cannot verify: {}", escape(e))).fg(Color::Yellow)],
    }
}

/// The line under a file: its SHA-256, or how far the hashing is; a file whose size changed since
/// it was opened gets a second line with the size hashed.
fn digest(d: &Digest) -> Vec<Line<'static>> {
    vec![match d {
        Digest::None => return Vec::new(),
        Digest::Queued => Line::from("    sha256 queued").dim(),
        Digest::Hashing { done, total } => {
            let pct = (*done as f64 / (*total).max(1) as f64 * 100.0).min(100.0);
            Line::from(format!(
                "    sha256 hashing {} of {} ({pct:.0}%) · Esc cancels",
                bytes(*done),
                bytes(*total)
            ))
            .fg(Color::Cyan)
        }
        Digest::Done(hex) => Line::from(format!("    sha256 {hex}")),
        Digest::Changed { hex, hashed, listed } => {
            return vec![
                Line::from(format!("    sha256 {hex}")).fg(Color::Yellow),
                Line::from(format!(
                    "    of {} read now: the file changed since it was opened ({} then)",
                    bytes(*hashed),
                    bytes(*listed)
                ))
                .fg(Color::Yellow),
            ];
        }
        Digest::Failed(e) => Line::from(format!("    sha256 failed: {}", escape(e))).fg(Color::Yellow),
        Digest::Cancelled => Line::from("    sha256 cancelled (h hashes again)").dim(),
    }]
}

fn name(p: &std::path::Path) -> String {
    p.file_name().map_or_else(
        || tensorscope::text::os_lossless(p.as_os_str()),
        tensorscope::text::os_lossless,
    )
}

/// The first line of a template, cut, with a pointer to the full text below.
fn short(v: &str) -> String {
    let first: String = v.lines().next().unwrap_or("").chars().take(60).collect();
    format!("{}… ({} chars, shown below)", escape(&first), v.chars().count())
}
