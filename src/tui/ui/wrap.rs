//! Lines wrapped with a hanging indent: the second line of an entry starts under its text, not under
//! its label (the Scan tab's findings, the help overlay's keys).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// `spans` as lines at most `width` columns wide, broken after a space where there is one (else
/// inside a word), each line after the first starting `indent` columns in (leading spaces dropped).
pub fn hang(spans: Vec<Span<'static>>, indent: usize, width: usize) -> Vec<Line<'static>> {
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
        if end < chars.len()
            && chars[end].0 != ' '
            && let Some(sp) = space.filter(|&sp| sp > start)
        {
            let word: usize = chars[sp + 1..]
                .iter()
                .take_while(|(c, _)| *c != ' ')
                .map(|&(c, _)| cols(c))
                .sum();
            if word <= width - indent {
                end = sp + 1;
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

/// The columns `s` takes on screen (a CJK character or an emoji takes two).
pub fn columns(s: &str) -> usize {
    Span::raw(s).width()
}

/// `s` cut to at most `max` columns, ending in `…` when cut.
pub fn cut_columns(s: &str, max: usize) -> String {
    if columns(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = columns(c.encode_utf8(&mut [0; 4]));
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod column_tests {
    #[test]
    fn wide_characters_count_two_columns() {
        assert_eq!(super::columns("a中b"), 4);
        assert_eq!(super::cut_columns("中文字.w", 5), "中文…");
        assert_eq!(super::cut_columns("abc", 3), "abc");
        assert_eq!(super::cut_columns("abcd", 0), "");
    }
}
