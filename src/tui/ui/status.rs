//! The bottom line: the filter being typed, a note (copied …), or the keys of the current view; for a
//! remote checkpoint, the bytes fetched since the UI started on its right.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::Widget;
use tensorscope::text::escape;

use crate::tui::app::{App, Mode, Tab};

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let line = match app.mode {
        Mode::Filter => {
            let (before, after) = app.filter_input.split();
            // an empty filter matches nothing because it asks for nothing: no count then
            let count = if before.is_empty() && after.is_empty() {
                "type a name".to_string()
            } else {
                format!("{} match", app.tensors.match_count)
            };
            Line::from(format!(
                " /{}▏{}  {count} · Enter keep · Esc clear · Ctrl-U/W erase · ↑↓ history",
                escape(&before),
                escape(&after),
            ))
            .bold()
        }
        Mode::Value => Line::from(" Esc close · n/N next/previous value · ↑↓ PgUp PgDn g G scroll · q quit").dim(),
        _ if app.note.is_some() => {
            let room = usize::from(area.width).saturating_sub(1);
            Line::from(format!(
                " {}",
                fit_note(app.note.as_deref().unwrap_or(""), &app.wrote, room)
            ))
            .bold()
        }
        _ if app.tab == Tab::Bench && app.bench.cancelling => {
            Line::from(" cancelling: the case running stops, the rows measured are kept").bold()
        }
        _ if app.tab == Tab::Bench && app.bench.running() => {
            Line::from(" benchmark running · Esc/x cancel (keeps the rows) · q quit · Tab view · ? help").dim()
        }
        _ if app.tab == Tab::Bench => {
            let export = if app.bench.report().is_some() {
                " · e write report"
            } else {
                ""
            };
            Line::from(format!(" q quit · r run{export} · Tab view · ? help")).dim()
        }
        _ if app.tab == Tab::Files && app.files.running() => {
            Line::from(" hashing · Esc/x cancel (keeps the digests) · q quit · Tab view · ? help").dim()
        }
        _ if app.tab == Tab::Files => {
            Line::from(" q quit · ↑↓ scroll · v value whole · h hash+verify · e BOM · Tab view · ? help").dim()
        }
        // a narrow terminal shows one pane: how to reach the other
        _ if app.tab == Tab::Tensors && super::narrow(area.width) && app.tensors.preview_focus => {
            Line::from(" ←/Esc list · J/K scroll · s exact stats · q quit").dim()
        }
        _ if app.tab == Tab::Tensors && super::narrow(area.width) && app.selected_tensor().is_some() => {
            Line::from(" Enter preview · →← open/close · / filter · ? help").dim()
        }
        _ if app.tab == Tab::Tensors && app.tensors.matched.is_some() => {
            Line::from(" n/N match · Esc clear · / edit · s exact stats · y copy · q quit · ? help").dim()
        }
        _ if app.tab == Tab::Tensors && app.tensors.flat => {
            Line::from(" q quit · / filter · t tree · s exact stats · y copy · Tab view · ? help").dim()
        }
        _ if app.tab == Tab::Tensors => {
            Line::from(" q quit · →← open/close · / filter · t flat · s exact stats · Tab view · ? help").dim()
        }
        _ if app.tab == Tab::Diff => {
            Line::from(" q quit · ↑↓ move · y copy name · e write JSON · Tab view · ? help").dim()
        }
        _ => Line::from(" q quit · ↑↓ scroll · e write JSON + SARIF · Tab view · ? help").dim(),
    };
    line.render(area, buf);
    if app.ck.is_remote() {
        // what the network cost so far, on the right: a cursor move never pulls gigabytes unseen
        let fetched = format!(" {} fetched ", tensorscope::text::bytes(app.fetched));
        let w = (fetched.chars().count() as u16).min(area.width);
        let right = Rect::new(area.x + area.width - w, area.y, w, 1);
        Line::from(fetched).reversed().render(right, buf);
    }
}

/// A note within `room` columns: as it is when it fits; a note of files written (`wrote`) as
/// `wrote 2 files in FOLDER: a.json, …` (the names cut, then the folder cut by components), so
/// where they went stays on screen; any other note cut at its end with `…`.
fn fit_note(note: &str, wrote: &[std::path::PathBuf], room: usize) -> String {
    let cols = |s: &str| s.chars().count();
    if cols(note) <= room {
        return note.to_string();
    }
    let dir = wrote.first().and_then(|p| p.parent());
    if let Some(dir) = dir.filter(|d| wrote.iter().all(|p| p.parent() == Some(*d))) {
        let n = tensorscope::text::plural(wrote.len() as u64, "file");
        let dir = tensorscope::text::path(dir);
        let head = format!("wrote {n} in {dir}: ");
        if cols(&head) < room {
            let names: Vec<String> = wrote
                .iter()
                .map(|p| p.file_name().map_or_else(String::new, tensorscope::text::os_text))
                .collect();
            return format!("{head}{}", end_cut(&names.join(", "), room - cols(&head)));
        }
        let head = format!("wrote {n} in ");
        return format!(
            "{head}{}",
            super::header::elide_path(&dir, room.saturating_sub(cols(&head)))
        );
    }
    end_cut(note, room)
}

/// `s` cut to `max` chars at its end, `…` last, never inside an escape.
fn end_cut(s: &str, max: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let head = super::cut::snap_head(max - 1, &super::cut::escapes(&chars));
    format!("{}…", chars[..head].iter().collect::<String>())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn a_note_of_files_written_keeps_its_folder() {
        let wrote = [
            PathBuf::from("/tmp/reports/model.cdx.json"),
            PathBuf::from("/tmp/reports/model.spdx.json"),
        ];
        let note = "wrote model.cdx.json, model.spdx.json in /tmp/reports";
        assert_eq!(fit_note(note, &wrote, 80), note);
        assert_eq!(fit_note(note, &wrote, 40), "wrote 2 files in /tmp/reports: model.cd…");
        assert_eq!(fit_note(note, &wrote, 28), "wrote 2 files in …/reports");
        assert_eq!(fit_note("a long note", &[], 6), "a lon…");
    }
}
