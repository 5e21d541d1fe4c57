//! A one-line text input with the readline keys people already know: a cursor, Ctrl-A/E, Ctrl-U,
//! Ctrl-W, Alt-B/F, and a history of accepted entries on Up/Down.

/// Entries the history keeps.
const HISTORY: usize = 100;

/// An edit of the line, from one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Insert(char),
    /// Backspace: the character before the cursor.
    Backspace,
    /// Delete: the character under the cursor.
    Delete,
    Left,
    Right,
    /// Ctrl-A / Home.
    Start,
    /// Ctrl-E / End.
    End,
    /// Ctrl-U: everything before the cursor.
    KillToStart,
    /// Ctrl-K: everything from the cursor on.
    KillToEnd,
    /// Ctrl-W / Alt-Backspace: the word before the cursor.
    KillWord,
    /// Alt-B / Ctrl-Left.
    WordLeft,
    /// Alt-F / Ctrl-Right.
    WordRight,
    /// Up: the previous accepted entry.
    Older,
    /// Down: the next accepted entry, or the line being typed.
    Newer,
}

/// The text, the cursor (in characters) and the history.
#[derive(Debug, Default)]
pub struct LineInput {
    chars: Vec<char>,
    cursor: usize,
    history: Vec<String>,
    /// Position in the history while browsing it (`history.len()` = the line being typed).
    browsing: Option<usize>,
    /// The line being typed when browsing began.
    draft: String,
}

impl LineInput {
    /// The text.
    pub fn text(&self) -> String {
        self.chars.iter().collect()
    }

    /// The text before and after the cursor, for drawing it.
    pub fn split(&self) -> (String, String) {
        (
            self.chars[..self.cursor].iter().collect(),
            self.chars[self.cursor..].iter().collect(),
        )
    }

    /// Replaces the text, the cursor at its end.
    pub fn set(&mut self, text: &str) {
        self.chars = text.chars().collect();
        self.cursor = self.chars.len();
    }

    /// Keeps the text in the history (when it is new), for Up to bring back.
    pub fn accept(&mut self) {
        let t = self.text();
        self.browsing = None;
        if !t.trim().is_empty() && self.history.last() != Some(&t) {
            if self.history.len() == HISTORY {
                self.history.remove(0);
            }
            self.history.push(t);
        }
    }

    /// Applies one edit.
    pub fn edit(&mut self, e: Edit) {
        let (c, n) = (self.cursor, self.chars.len());
        match e {
            Edit::Insert(ch) => {
                self.chars.insert(c, ch);
                self.cursor += 1;
            }
            Edit::Backspace if c > 0 => {
                self.chars.remove(c - 1);
                self.cursor -= 1;
            }
            Edit::Delete if c < n => {
                self.chars.remove(c);
            }
            Edit::Left => self.cursor = c.saturating_sub(1),
            Edit::Right => self.cursor = (c + 1).min(n),
            Edit::Start => self.cursor = 0,
            Edit::End => self.cursor = n,
            Edit::KillToStart => {
                self.chars.drain(..c);
                self.cursor = 0;
            }
            Edit::KillToEnd => self.chars.truncate(c),
            Edit::KillWord => {
                // readline's unix-word-rubout: back to the whitespace before the word
                let mut to = c;
                while to > 0 && self.chars[to - 1].is_whitespace() {
                    to -= 1;
                }
                while to > 0 && !self.chars[to - 1].is_whitespace() {
                    to -= 1;
                }
                self.chars.drain(to..c);
                self.cursor = to;
            }
            Edit::WordLeft => self.cursor = self.word_start(c),
            Edit::WordRight => {
                let mut i = c;
                while i < n && !self.chars[i].is_alphanumeric() {
                    i += 1;
                }
                while i < n && self.chars[i].is_alphanumeric() {
                    i += 1;
                }
                self.cursor = i;
            }
            Edit::Older | Edit::Newer => self.browse(e == Edit::Older),
            Edit::Backspace | Edit::Delete => {}
        }
    }

    /// Where the alphanumeric word ending at `c` starts (separators before it skipped first).
    fn word_start(&self, c: usize) -> usize {
        let mut i = c;
        while i > 0 && !self.chars[i - 1].is_alphanumeric() {
            i -= 1;
        }
        while i > 0 && self.chars[i - 1].is_alphanumeric() {
            i -= 1;
        }
        i
    }

    fn browse(&mut self, older: bool) {
        let len = self.history.len();
        let at = self.browsing.unwrap_or(len);
        if at == len {
            self.draft = self.text();
        }
        let to = if older { at.saturating_sub(1) } else { (at + 1).min(len) };
        if len == 0 || to == at {
            return;
        }
        self.browsing = Some(to);
        let text = if to == len {
            self.draft.clone()
        } else {
            self.history[to].clone()
        };
        self.set(&text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> LineInput {
        let mut l = LineInput::default();
        for c in s.chars() {
            l.edit(Edit::Insert(c));
        }
        l
    }

    #[test]
    fn readline_keys() {
        let mut l = typed("h.0. attn c_proj");
        l.edit(Edit::KillWord);
        assert_eq!(l.text(), "h.0. attn ", "Ctrl-W: back to the whitespace, as readline");
        l.edit(Edit::KillWord);
        assert_eq!(l.text(), "h.0. ");
        l.edit(Edit::Backspace);
        l.edit(Edit::Start);
        l.edit(Edit::Insert('x'));
        assert_eq!(l.split(), ("x".into(), "h.0.".into()));
        l.edit(Edit::End);
        l.edit(Edit::WordLeft);
        assert_eq!(l.split(), ("xh.".into(), "0.".into()));
        l.edit(Edit::WordLeft);
        assert_eq!(l.split(), ("".into(), "xh.0.".into()));
        l.edit(Edit::WordRight);
        assert_eq!(l.split(), ("xh".into(), ".0.".into()));
        l.edit(Edit::KillToStart);
        assert_eq!(l.text(), ".0.");
        l.edit(Edit::End);
        l.edit(Edit::KillToStart);
        assert_eq!(l.text(), "", "Ctrl-U at the end clears the line");
        l.edit(Edit::Backspace);
        l.edit(Edit::Delete);
        l.edit(Edit::Left);
        assert_eq!(l.text(), "");
    }

    #[test]
    fn history_on_up_and_down() {
        let mut l = typed("wte");
        l.accept();
        l.set("mlp");
        l.accept();
        l.set("draft");
        l.edit(Edit::Older);
        assert_eq!(l.text(), "mlp");
        l.edit(Edit::Older);
        assert_eq!(l.text(), "wte");
        l.edit(Edit::Older);
        assert_eq!(l.text(), "wte", "the oldest stays");
        l.edit(Edit::Newer);
        l.edit(Edit::Newer);
        assert_eq!(
            l.text(),
            "draft",
            "down past the newest gives back the line being typed"
        );
    }
}
