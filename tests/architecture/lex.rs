//! The lexer of the architecture check: tokens of Rust source with comments skipped and strings
//! kept as one token (for `#[path = "…"]`), and use trees flattened into paths.

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    /// `::`
    Path,
    Punct(char),
}

pub fn lex(src: &str) -> Vec<Tok> {
    let b: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let n = b.len();
    while i < n {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && i + 1 < n && b[i + 1] == '/' {
            while i < n && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && i + 1 < n && b[i + 1] == '*' {
            let mut depth = 0;
            while i < n {
                if b[i] == '/' && i + 1 < n && b[i + 1] == '*' {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && i + 1 < n && b[i + 1] == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if (c == 'r' || c == 'b') && raw_string_start(&b, i).is_some() {
            let (hashes, start) = raw_string_start(&b, i).unwrap();
            let mut j = start;
            let mut s = String::new();
            while j < n {
                if b[j] == '"' && (0..hashes).all(|k| j + 1 + k < n && b[j + 1 + k] == '#') {
                    break;
                }
                s.push(b[j]);
                j += 1;
            }
            out.push(Tok::Str(s));
            i = j + 1 + hashes;
        } else if c == '"' || (c == 'b' && i + 1 < n && b[i + 1] == '"') {
            i += if c == 'b' { 2 } else { 1 };
            let mut s = String::new();
            while i < n && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                if i < n {
                    s.push(b[i]);
                }
                i += 1;
            }
            out.push(Tok::Str(s));
            i += 1;
        } else if c == '\'' || (c == 'b' && i + 1 < n && b[i + 1] == '\'') {
            let q = if c == 'b' { i + 1 } else { i };
            if q + 1 < n && b[q + 1] == '\\' {
                // An escaped char literal: skip to the closing quote.
                let mut j = q + 2;
                j += 1;
                while j < n && b[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
            } else if q + 2 < n && b[q + 2] == '\'' {
                i = q + 3;
            } else {
                // A lifetime or label.
                out.push(Tok::Punct('\''));
                i = q + 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let mut s = String::new();
            while i < n && (b[i].is_alphanumeric() || b[i] == '_') {
                s.push(b[i]);
                i += 1;
            }
            out.push(Tok::Ident(s));
        } else if c == ':' && i + 1 < n && b[i + 1] == ':' {
            out.push(Tok::Path);
            i += 2;
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    out
}

/// `r"`, `r#"`, `br"`, `br#"`: the number of hashes and where the content starts.
fn raw_string_start(b: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if b[j] == 'b' {
        j += 1;
    }
    if j >= b.len() || b[j] != 'r' {
        return None;
    }
    if i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while j < b.len() && b[j] == '#' {
        hashes += 1;
        j += 1;
    }
    (j < b.len() && b[j] == '"').then_some((hashes, j + 1))
}
