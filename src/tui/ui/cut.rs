//! Where a name written by [`tensorscope::text::escape`] may be cut: never inside an escape (`\x1b`,
//! `\u{202e}`), which half cut reads as something else (`\u{…0d}`).

/// Char ranges `[start, end)` of the escapes in `chars` (`\xNN`, `\u{…}`).
pub fn escapes(chars: &[char]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < chars.len() {
        if chars[i] != '\\' {
            i += 1;
            continue;
        }
        let end = match chars[i + 1] {
            'x' if chars.len() >= i + 4 && chars[i + 2..i + 4].iter().all(char::is_ascii_hexdigit) => Some(i + 4),
            'u' if chars.get(i + 2) == Some(&'{') => chars[i + 3..]
                .iter()
                .take(7)
                .position(|&c| c == '}')
                .filter(|&k| k > 0 && chars[i + 3..i + 3 + k].iter().all(char::is_ascii_hexdigit))
                .map(|k| i + 3 + k + 1),
            _ => None,
        };
        match end {
            Some(e) => {
                out.push((i, e));
                i = e;
            }
            None => i += 1,
        }
    }
    out
}

/// `head` chars kept from the front, fewer if the cut would land inside an escape.
pub fn snap_head(head: usize, escapes: &[(usize, usize)]) -> usize {
    escapes
        .iter()
        .find(|&&(a, b)| a < head && head < b)
        .map_or(head, |&(a, _)| a)
}

/// The first char kept of a tail starting at `start`, later if it would start inside an escape.
pub fn snap_tail(start: usize, escapes: &[(usize, usize)]) -> usize {
    escapes
        .iter()
        .find(|&&(a, b)| a < start && start < b)
        .map_or(start, |&(_, b)| b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_are_found_and_never_cut() {
        let chars: Vec<char> = r"a\x1bb\u{202e}c\q".chars().collect();
        let e = super::escapes(&chars);
        assert_eq!(e, vec![(1, 5), (6, 14)]);
        assert_eq!(super::snap_head(3, &e), 1);
        assert_eq!(super::snap_head(5, &e), 5);
        assert_eq!(super::snap_tail(10, &e), 14);
        assert_eq!(super::snap_tail(6, &e), 6);
    }
}
