//! Keys to actions: a pure function of the mode and the key, nothing else.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{Action, Mode, Tab};

/// The action a key press asks for in `mode`, if any.
pub fn action(mode: Mode, key: KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    match mode {
        Mode::Filter => match key.code {
            KeyCode::Enter | KeyCode::Down | KeyCode::Up => Some(Action::FilterAccept),
            KeyCode::Esc => Some(Action::FilterCancel),
            KeyCode::Backspace => Some(Action::FilterBackspace),
            KeyCode::Char(c) => Some(Action::FilterInput(c)),
            _ => None,
        },
        Mode::Help => match key.code {
            KeyCode::Char('q') => Some(Action::Quit),
            _ => Some(Action::ToggleHelp),
        },
        Mode::Normal => Some(match key.code {
            KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
            KeyCode::Up | KeyCode::Char('k') => Action::Up,
            KeyCode::Down | KeyCode::Char('j') => Action::Down,
            KeyCode::PageUp => Action::PageUp,
            KeyCode::PageDown | KeyCode::Char(' ') => Action::PageDown,
            KeyCode::Home | KeyCode::Char('g') => Action::Top,
            KeyCode::End | KeyCode::Char('G') => Action::Bottom,
            KeyCode::Tab => Action::NextTab,
            KeyCode::BackTab => Action::PrevTab,
            KeyCode::Char('1') => Action::Select(Tab::Tensors),
            KeyCode::Char('2') => Action::Select(Tab::Files),
            KeyCode::Char('3') => Action::Select(Tab::Scan),
            KeyCode::Char('4') => Action::Select(Tab::Bench),
            KeyCode::Char('r') => Action::RunBench,
            KeyCode::Char('e') => Action::ExportBench,
            KeyCode::Char('/') => Action::StartFilter,
            KeyCode::Char('?') | KeyCode::F(1) => Action::ToggleHelp,
            KeyCode::Char('s') => Action::ExactStats,
            _ => return None,
        }),
    }
}

/// The key bindings as shown in the help overlay, derived from the same table of meanings.
pub const HELP: [(&str, &str); 13] = [
    ("↑ ↓ / j k", "move in the tensor list"),
    ("PgUp PgDn / space", "move a page"),
    ("g G / Home End", "first / last tensor"),
    ("/", "filter tensors by name (Enter keeps, Esc clears)"),
    ("s", "exact statistics (large tensors show a sample first)"),
    ("Tab / Shift-Tab", "next / previous view"),
    ("1 2 3 4", "Tensors, Files, Scan, Bench"),
    ("r", "Bench view: run the load benchmark (again)"),
    ("e", "Bench view: write the report to ./tensorscope-bench.json"),
    ("?", "this help"),
    ("q / Esc", "quit"),
    ("Ctrl-C", "quit from anywhere"),
    ("", "names are shown escaped: \\x1b is a control character"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn same_key_means_different_things_by_mode() {
        // `Action` carries bench reports (no `PartialEq`): compare with `matches!`
        assert!(matches!(
            action(Mode::Normal, key(KeyCode::Char('q'))),
            Some(Action::Quit)
        ));
        assert!(matches!(
            action(Mode::Filter, key(KeyCode::Char('q'))),
            Some(Action::FilterInput('q'))
        ));
        assert!(matches!(
            action(Mode::Help, key(KeyCode::Char('x'))),
            Some(Action::ToggleHelp)
        ));
        assert!(action(Mode::Normal, key(KeyCode::Char('x'))).is_none());
        assert!(matches!(
            action(Mode::Filter, KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        ));
        assert!(matches!(
            action(Mode::Normal, key(KeyCode::Char('4'))),
            Some(Action::Select(Tab::Bench))
        ));
        assert!(matches!(
            action(Mode::Normal, key(KeyCode::Char('r'))),
            Some(Action::RunBench)
        ));
        assert!(matches!(
            action(Mode::Filter, key(KeyCode::Char('r'))),
            Some(Action::FilterInput('r'))
        ));
    }
}
