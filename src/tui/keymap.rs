//! Keys to actions: a pure function of the mode, the tab and the key, nothing else.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};

use super::app::{Action, Mode, Tab};

/// The action a key press asks for in `mode` on `tab`, if any.
pub fn action(mode: Mode, tab: Tab, key: KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    match mode {
        Mode::Filter => match key.code {
            KeyCode::Enter | KeyCode::Down | KeyCode::Up => Some(Action::FilterAccept),
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Backspace => Some(Action::FilterBackspace),
            KeyCode::Char(c) => Some(Action::FilterInput(c)),
            _ => None,
        },
        Mode::Help => match key.code {
            KeyCode::Char('q') => Some(Action::Quit),
            KeyCode::Esc => Some(Action::Back),
            _ => Some(Action::ToggleHelp),
        },
        Mode::Normal => Some(match (key.code, tab) {
            (KeyCode::Char('q'), _) => Action::Quit,
            (KeyCode::Esc, _) => Action::Back,
            (KeyCode::Up | KeyCode::Char('k'), _) => Action::Up,
            (KeyCode::Down | KeyCode::Char('j'), _) => Action::Down,
            (KeyCode::PageUp, _) => Action::PageUp,
            (KeyCode::PageDown | KeyCode::Char(' '), _) => Action::PageDown,
            (KeyCode::Char('g'), Tab::Bench) => Action::ToggleGpu,
            (KeyCode::Char('c'), Tab::Bench) => Action::ToggleCold,
            (KeyCode::Char('+' | '='), Tab::Bench) => Action::MoreRuns,
            (KeyCode::Char('-'), Tab::Bench) => Action::FewerRuns,
            (KeyCode::Home | KeyCode::Char('g'), _) => Action::Top,
            (KeyCode::End | KeyCode::Char('G'), _) => Action::Bottom,
            (KeyCode::Right | KeyCode::Char('l') | KeyCode::Enter, Tab::Tensors) => Action::Open,
            (KeyCode::Left | KeyCode::Char('h'), Tab::Tensors) => Action::Close,
            (KeyCode::Char('*'), Tab::Tensors) => Action::OpenAll,
            (KeyCode::Char('-'), Tab::Tensors) => Action::CloseAll,
            (KeyCode::Char('t'), Tab::Tensors) => Action::ToggleFlat,
            (KeyCode::Char('n'), Tab::Tensors) => Action::NextMatch,
            (KeyCode::Char('N'), Tab::Tensors) => Action::PrevMatch,
            (KeyCode::Char('s'), Tab::Tensors) => Action::ExactStats,
            (KeyCode::Char('y'), _) => Action::Copy,
            (KeyCode::Tab, _) => Action::NextTab,
            (KeyCode::BackTab, _) => Action::PrevTab,
            (KeyCode::Char(c @ '1'..='9'), _) => Action::SelectTab(c as usize - '1' as usize),
            (KeyCode::Char('r'), Tab::Bench) => Action::RunBench,
            (KeyCode::Char('e'), Tab::Bench) => Action::ExportBench,
            (KeyCode::Char('/'), _) => Action::StartFilter,
            (KeyCode::Char('?') | KeyCode::F(1), _) => Action::ToggleHelp,
            _ => return None,
        }),
    }
}

/// The action a mouse event asks for: the wheel scrolls; a click on the top line picks a tab by its
/// column (`tab_at`), a click in the list picks a row (`row_at`: the row under a screen line).
pub fn mouse(
    ev: MouseEvent,
    tab_at: impl Fn(u16) -> Option<usize>,
    row_at: impl Fn(u16, u16) -> Option<usize>,
) -> Option<Action> {
    match ev.kind {
        MouseEventKind::ScrollDown => Some(Action::Down),
        MouseEventKind::ScrollUp => Some(Action::Up),
        MouseEventKind::Down(_) if ev.row == 0 => tab_at(ev.column).map(Action::SelectTab),
        MouseEventKind::Down(_) => row_at(ev.column, ev.row).map(Action::ClickRow),
        _ => None,
    }
}

/// The keys of a pane, as the help overlay lists them.
pub fn help(tab: Tab) -> Vec<(&'static str, &'static str)> {
    let mut keys = match tab {
        Tab::Tensors => vec![
            ("↑ ↓ / j k", "move (mouse wheel too; a click selects)"),
            ("→ l Enter / ← h", "open a node / close it (or go to its parent)"),
            ("* / -", "open / close every node"),
            ("t", "flat list / module tree"),
            ("/", "fuzzy filter by name (Enter keeps it, Esc clears it)"),
            ("n / N", "next / previous match"),
            ("s", "exact statistics (on a worker; q still quits)"),
            ("y", "copy the selected name (OSC 52)"),
        ],
        Tab::Diff => vec![
            ("↑ ↓ / j k", "move in the comparison"),
            ("y", "copy the selected name (OSC 52)"),
        ],
        Tab::Bench => vec![
            (
                "r",
                "run the load benchmark (again); a twin in the other format is written first",
            ),
            ("g", "GPU rows on / off (on when an adapter exists)"),
            ("c", "cold / warm page cache"),
            ("+ / -", "more / fewer timed runs"),
            ("↑ ↓", "scroll the notes"),
            (
                "e",
                "write the report (HTML and JSON, timestamped) to the current folder",
            ),
        ],
        Tab::Files | Tab::Scan => vec![],
    };
    keys.extend([
        ("PgUp PgDn / space", "move a page"),
        ("g G / Home End", "first / last row"),
        (
            "Tab / Shift-Tab / 1-5",
            "next / previous / n-th view (a click on a tab too)",
        ),
        ("?", "this help"),
        ("Esc", "close this help, clear the filter (never quits)"),
        ("q / Ctrl-C", "quit (Ctrl-C from anywhere)"),
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
        assert!(matches!(
            mouse(ev(MouseEventKind::ScrollDown, 5, 5), tab, row),
            Some(Action::Down)
        ));
        let left = MouseEventKind::Down(crossterm::event::MouseButton::Left);
        assert!(matches!(mouse(ev(left, 20, 0), tab, row), Some(Action::SelectTab(2))));
        assert!(matches!(mouse(ev(left, 20, 7), tab, row), Some(Action::ClickRow(4))));
        assert!(mouse(ev(left, 2, 0), tab, row).is_none());
    }
}
