//! Keys to actions: a pure function of the mode, the tab and the key, nothing else.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};

use super::app::{Action, Mode, Tab};
use super::input::Edit;
use super::scroll::Move;

/// The action a key press asks for in `mode` on `tab`, if any.
pub fn action(mode: Mode, tab: Tab, key: KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        match key.code {
            KeyCode::Char('c') => return Some(Action::Quit),
            KeyCode::Char('z') => return Some(Action::Suspend),
            _ => {}
        }
    }
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    // the list keys move the list, the help overlay or the value viewer, except that Shift-↓/↑ on
    // the Tensors tab scroll the preview (below) and the filter takes every key as text
    let preview =
        mode == Mode::Normal && tab == Tab::Tensors && shift && matches!(key.code, KeyCode::Up | KeyCode::Down);
    if mode != Mode::Filter
        && !preview
        && let Some(m) = list_move(key.code)
    {
        return Some(Action::Move(m));
    }
    match mode {
        Mode::Filter => filter_key(key),
        // any key but the list keys (above), q and Esc closes the overlay
        Mode::Help => Some(match key.code {
            KeyCode::Char('q') => Action::Quit,
            KeyCode::Esc => Action::Back,
            _ => Action::ToggleHelp,
        }),
        // the value viewer: n/N step through the long values
        Mode::Value => Some(match key.code {
            KeyCode::Char('q') => Action::Quit,
            KeyCode::Esc | KeyCode::Char('v') => Action::Back,
            KeyCode::Char('n') => Action::NextMatch,
            KeyCode::Char('N') => Action::PrevMatch,
            _ => return None,
        }),
        Mode::Normal => Some(match (key.code, tab) {
            (KeyCode::Char('q'), _) => Action::Quit,
            (KeyCode::Esc, _) => Action::Back,
            // Shift-↓/↑ scroll the preview
            (KeyCode::Down, Tab::Tensors) if shift => Action::ScrollPreview(Move::Down),
            (KeyCode::Up, Tab::Tensors) if shift => Action::ScrollPreview(Move::Up),
            (KeyCode::Char('d'), Tab::Bench) => Action::ToggleGpu,
            (KeyCode::Char('c'), Tab::Bench) => Action::ToggleCold,
            (KeyCode::Char('+' | '='), Tab::Bench) => Action::MoreRuns,
            (KeyCode::Char('-'), Tab::Bench) => Action::FewerRuns,
            (KeyCode::Right | KeyCode::Char('l') | KeyCode::Enter, Tab::Tensors) => Action::Open,
            (KeyCode::Left | KeyCode::Char('h'), Tab::Tensors) => Action::Close,
            (KeyCode::Char('*'), Tab::Tensors) => Action::OpenAll,
            (KeyCode::Char('-'), Tab::Tensors) => Action::CloseAll,
            (KeyCode::Char('t'), Tab::Tensors) => Action::ToggleFlat,
            (KeyCode::Char('v') | KeyCode::Enter, Tab::Files) => Action::OpenValues,
            (KeyCode::Char('n'), Tab::Tensors) => Action::NextMatch,
            (KeyCode::Char('N'), Tab::Tensors) => Action::PrevMatch,
            (KeyCode::Char('s'), Tab::Tensors) => Action::ExactStats,
            (KeyCode::Char('J'), Tab::Tensors) => Action::ScrollPreview(Move::Down),
            (KeyCode::Char('K'), Tab::Tensors) => Action::ScrollPreview(Move::Up),
            (KeyCode::Char(']'), Tab::Tensors) => Action::ScrollPreview(Move::PageDown),
            (KeyCode::Char('['), Tab::Tensors) => Action::ScrollPreview(Move::PageUp),
            // a name to copy: the tree's selection or the comparison's row, not what another tab hides
            (KeyCode::Char('y'), Tab::Tensors | Tab::Diff) => Action::Copy,
            (KeyCode::Tab, _) => Action::NextTab,
            (KeyCode::BackTab, _) => Action::PrevTab,
            (KeyCode::Char(c @ '1'..='9'), _) => Action::SelectTab(c as usize - '1' as usize),
            (KeyCode::Char('r'), Tab::Bench) => Action::RunBench,
            (KeyCode::Char('e'), Tab::Bench) => Action::ExportBench,
            (KeyCode::Char('e'), _) => Action::Export,
            (KeyCode::Char('x'), Tab::Bench) => Action::CancelBench,
            (KeyCode::Char('h'), Tab::Files) => Action::HashFiles,
            (KeyCode::Char('x'), Tab::Files) => Action::CancelHash,
            (KeyCode::Char('/'), _) => Action::StartFilter,
            (KeyCode::Char('?') | KeyCode::F(1), _) => Action::ToggleHelp,
            _ => return None,
        }),
    }
}

/// The list keys every pane and overlay shares: arrows and j/k, the page keys and space, Home/End
/// and g/G.
fn list_move(code: KeyCode) -> Option<Move> {
    Some(match code {
        KeyCode::Up | KeyCode::Char('k') => Move::Up,
        KeyCode::Down | KeyCode::Char('j') => Move::Down,
        KeyCode::PageUp => Move::PageUp,
        KeyCode::PageDown | KeyCode::Char(' ') => Move::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Move::Top,
        KeyCode::End | KeyCode::Char('G') => Move::Bottom,
        _ => return None,
    })
}

/// A key while the filter is typed: readline's keys edit it, Enter keeps it, Esc clears it.
fn filter_key(key: KeyEvent) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let edit = match key.code {
        KeyCode::Enter => return Some(Action::FilterAccept),
        KeyCode::Esc => return Some(Action::Back),
        KeyCode::Char('a') if ctrl => Edit::Start,
        KeyCode::Char('e') if ctrl => Edit::End,
        KeyCode::Char('u') if ctrl => Edit::KillToStart,
        KeyCode::Char('k') if ctrl => Edit::KillToEnd,
        KeyCode::Char('w') if ctrl => Edit::KillWord,
        KeyCode::Char('b') if ctrl => Edit::Left,
        KeyCode::Char('f') if ctrl => Edit::Right,
        KeyCode::Char('h') if ctrl => Edit::Backspace,
        KeyCode::Char('d') if ctrl => Edit::Delete,
        KeyCode::Char('b') if alt => Edit::WordLeft,
        KeyCode::Char('f') if alt => Edit::WordRight,
        KeyCode::Backspace if alt || ctrl => Edit::KillWord,
        KeyCode::Left if alt || ctrl => Edit::WordLeft,
        KeyCode::Right if alt || ctrl => Edit::WordRight,
        // other control chords insert nothing
        KeyCode::Char(_) if ctrl || alt => return None,
        KeyCode::Char(c) => return Some(Action::FilterInput(c)),
        KeyCode::Backspace => return Some(Action::FilterBackspace),
        KeyCode::Delete => Edit::Delete,
        KeyCode::Left => Edit::Left,
        KeyCode::Right => Edit::Right,
        KeyCode::Home => Edit::Start,
        KeyCode::End => Edit::End,
        KeyCode::Up => Edit::Older,
        KeyCode::Down => Edit::Newer,
        _ => return None,
    };
    Some(Action::FilterEdit(edit))
}

/// The action a mouse event asks for: the wheel scrolls the pane under it (the preview when
/// `in_preview`, else the list or the tab's text); a click on the top line picks a tab by its column
/// (`tab_at`), a click in the list picks a row (`row_at`: the row under a screen line).
pub fn mouse(
    ev: MouseEvent,
    tab_at: impl Fn(u16) -> Option<usize>,
    row_at: impl Fn(u16, u16) -> Option<usize>,
    in_preview: impl Fn(u16, u16) -> bool,
) -> Option<Action> {
    match ev.kind {
        MouseEventKind::ScrollDown if in_preview(ev.column, ev.row) => Some(Action::ScrollPreview(Move::Down)),
        MouseEventKind::ScrollUp if in_preview(ev.column, ev.row) => Some(Action::ScrollPreview(Move::Up)),
        MouseEventKind::ScrollDown => Some(Action::Move(Move::Down)),
        MouseEventKind::ScrollUp => Some(Action::Move(Move::Up)),
        MouseEventKind::Down(_) if ev.row == 0 => tab_at(ev.column).map(Action::SelectTab),
        MouseEventKind::Down(_) => row_at(ev.column, ev.row).map(Action::ClickRow),
        _ => None,
    }
}

/// The keys of a pane, as the help overlay lists them.
pub fn help(tab: Tab, tabs: usize) -> Vec<(&'static str, &'static str)> {
    let mut keys = match tab {
        Tab::Tensors => vec![
            ("↑ ↓ / j k", "move (mouse wheel too; a click selects)"),
            ("→ l Enter / ← h", "open a node / close it (or go to its parent)"),
            ("* / -", "open / close every node"),
            ("t", "flat list / module tree"),
            ("/", "fuzzy filter by name (Enter keeps it, Esc clears it)"),
            ("n / N", "next / previous match"),
            ("s", "exact statistics (on a worker; q still quits)"),
            (
                "J K / Shift-↓ Shift-↑",
                "scroll the preview a line (the wheel over it too)",
            ),
            ("] / [", "scroll the preview a page"),
            ("y", "copy the selected name (OSC 52)"),
            ("e", "write `inspect --json` to the current folder"),
        ],
        Tab::Diff => vec![
            ("↑ ↓ / j k", "move in the comparison"),
            ("e", "write the comparison as JSON to the current folder"),
            ("y", "copy the selected name (OSC 52)"),
        ],
        Tab::Bench => vec![
            (
                "r",
                "run the load benchmark (again); a twin in the other format is written first",
            ),
            ("x", "cancel the running benchmark (Esc too), keeping the rows measured"),
            ("d", "GPU device rows on / off (on when an adapter exists)"),
            ("c", "cold / warm page cache"),
            ("+ / -", "more / fewer timed runs"),
            ("↑ ↓ / j k", "scroll the rows and notes (mouse wheel too)"),
            (
                "e",
                "write the report (HTML, JSON, Markdown, CSV: tensorscope-bench-<date>-<time>) to the current folder",
            ),
        ],
        Tab::Scan => vec![
            ("↑ ↓ / j k", "scroll"),
            (
                "e",
                "write the scan as JSON and SARIF (tensorscope-scan-<date>-<time>) to the current folder",
            ),
        ],
        Tab::Files => vec![
            ("↑ ↓ / j k", "scroll"),
            (
                "v / Enter",
                "open a value too long for its line whole (templates, token lists); n / N the next",
            ),
            ("h", "SHA-256 of each file; then verify model.sig, HF cache"),
            ("x", "cancel hashing (Esc too); the digests done stay"),
            ("e", "write the BOM (CycloneDX, SPDX) to the current folder"),
        ],
    };
    keys.extend([
        ("PgUp PgDn / space", "move a page"),
        ("g G / Home End", "first / last row"),
        (
            if tabs == 5 {
                "Tab / Shift-Tab / 1-5"
            } else {
                "Tab / Shift-Tab / 1-4"
            },
            "next / previous / n-th view (a click on a tab too)",
        ),
        ("?", "this help"),
        ("Esc", "close this help, clear the filter (never quits)"),
        ("q / Ctrl-C", "quit (Ctrl-C from anywhere)"),
        ("Ctrl-Z", "suspend to the shell (fg comes back)"),
    ]);
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn same_key_means_different_things_by_mode_and_tab() {
        let n = |c| action(Mode::Normal, Tab::Tensors, key(c));
        assert!(matches!(n(KeyCode::Char('q')), Some(Action::Quit)));
        assert!(matches!(n(KeyCode::Esc), Some(Action::Back)), "Esc never quits");
        assert!(matches!(n(KeyCode::Right), Some(Action::Open)));
        assert!(matches!(n(KeyCode::Char('h')), Some(Action::Close)));
        assert!(matches!(n(KeyCode::Char('4')), Some(Action::SelectTab(3))));
        assert!(n(KeyCode::Char('r')).is_none());
        for tab in [Tab::Files, Tab::Scan, Tab::Bench] {
            assert!(
                action(Mode::Normal, tab, key(KeyCode::Char('y'))).is_none(),
                "{tab:?}: nothing to copy"
            );
        }
        assert!(matches!(
            action(Mode::Normal, Tab::Bench, key(KeyCode::Char('r'))),
            Some(Action::RunBench)
        ));
        assert!(matches!(
            action(Mode::Filter, Tab::Tensors, key(KeyCode::Char('q'))),
            Some(Action::FilterInput('q'))
        ));
        assert!(matches!(
            action(Mode::Filter, Tab::Tensors, key(KeyCode::Esc)),
            Some(Action::Back)
        ));
        assert!(matches!(
            action(Mode::Help, Tab::Scan, key(KeyCode::Char('x'))),
            Some(Action::ToggleHelp)
        ));
        assert!(
            matches!(
                action(Mode::Help, Tab::Bench, key(KeyCode::Char('j'))),
                Some(Action::Move(Move::Down))
            ),
            "the help overlay scrolls"
        );
        // Shift-↓ scrolls the preview on the Tensors tab only; the filter and the viewer take j as
        // text and as a move
        let shift_down = KeyEvent::new(KeyCode::Down, KeyModifiers::SHIFT);
        assert!(matches!(
            action(Mode::Normal, Tab::Tensors, shift_down),
            Some(Action::ScrollPreview(Move::Down))
        ));
        assert!(matches!(
            action(Mode::Normal, Tab::Files, shift_down),
            Some(Action::Move(Move::Down))
        ));
        assert!(matches!(
            action(Mode::Filter, Tab::Tensors, key(KeyCode::Char('j'))),
            Some(Action::FilterInput('j'))
        ));
        assert!(matches!(
            action(Mode::Value, Tab::Files, key(KeyCode::End)),
            Some(Action::Move(Move::Bottom))
        ));
        for mode in [Mode::Normal, Mode::Filter, Mode::Help] {
            assert!(matches!(
                action(
                    mode,
                    Tab::Diff,
                    KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
                ),
                Some(Action::Quit)
            ));
        }
    }

    /// No key means two things on one tab: every key the help lists for a tab appears once, and each
    /// single-character key it lists does something there.
    #[test]
    fn no_key_means_two_things_per_tab() {
        for tab in [Tab::Tensors, Tab::Files, Tab::Scan, Tab::Bench, Tab::Diff] {
            let mut seen = std::collections::HashMap::new();
            for (keys, what) in help(tab, 5) {
                for k in keys.split_whitespace().filter(|k| *k != "/") {
                    if let Some(before) = seen.insert(k, what) {
                        panic!("{tab:?}: `{k}` means both {before:?} and {what:?}");
                    }
                    let mut chars = k.chars();
                    if let (Some(c), None) = (chars.next().filter(char::is_ascii_graphic), chars.next()) {
                        assert!(
                            action(Mode::Normal, tab, key(KeyCode::Char(c))).is_some(),
                            "{tab:?}: help lists `{c}` but it does nothing"
                        );
                    }
                }
            }
            assert!(matches!(
                action(Mode::Normal, tab, key(KeyCode::Char('g'))),
                Some(Action::Move(Move::Top))
            ));
        }
    }

    #[test]
    fn readline_keys_in_the_filter() {
        let ctrl = |c| {
            action(
                Mode::Filter,
                Tab::Tensors,
                KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
            )
        };
        assert!(matches!(ctrl('u'), Some(Action::FilterEdit(Edit::KillToStart))));
        assert!(matches!(ctrl('w'), Some(Action::FilterEdit(Edit::KillWord))));
        assert!(matches!(ctrl('a'), Some(Action::FilterEdit(Edit::Start))));
        assert!(matches!(ctrl('e'), Some(Action::FilterEdit(Edit::End))));
        assert!(ctrl('x').is_none(), "a control chord never types a letter");
        let alt = |c| {
            action(
                Mode::Filter,
                Tab::Tensors,
                KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT),
            )
        };
        assert!(matches!(alt('b'), Some(Action::FilterEdit(Edit::WordLeft))));
        assert!(matches!(alt('f'), Some(Action::FilterEdit(Edit::WordRight))));
        let plain = |c| action(Mode::Filter, Tab::Tensors, key(c));
        assert!(matches!(plain(KeyCode::Up), Some(Action::FilterEdit(Edit::Older))));
        assert!(matches!(plain(KeyCode::Enter), Some(Action::FilterAccept)));
    }

    #[test]
    fn mouse_wheel_and_clicks() {
        let ev = |kind, column, row| MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        };
        let tab = |c: u16| (c > 10).then_some(2);
        let row = |_, r: u16| r.checked_sub(3).map(usize::from);
        let preview = |c: u16, _| c >= 40;
        assert!(matches!(
            mouse(ev(MouseEventKind::ScrollDown, 5, 5), tab, row, preview),
            Some(Action::Move(Move::Down))
        ));
        assert!(
            matches!(
                mouse(ev(MouseEventKind::ScrollDown, 50, 5), tab, row, preview),
                Some(Action::ScrollPreview(Move::Down))
            ),
            "the wheel over the preview scrolls the preview"
        );
        assert!(matches!(
            mouse(ev(MouseEventKind::ScrollUp, 50, 5), tab, row, preview),
            Some(Action::ScrollPreview(Move::Up))
        ));
        let left = MouseEventKind::Down(crossterm::event::MouseButton::Left);
        assert!(matches!(
            mouse(ev(left, 20, 0), tab, row, preview),
            Some(Action::SelectTab(2))
        ));
        assert!(matches!(
            mouse(ev(left, 20, 7), tab, row, preview),
            Some(Action::ClickRow(4))
        ));
        assert!(mouse(ev(left, 2, 0), tab, row, preview).is_none());
    }
}
