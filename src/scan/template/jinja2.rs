//! The template as Jinja2's lexer reads it, written so that minijinja's parser reads the same.
//!
//! The two lexers differ where an attacker can use it (both confirmed with jinja2 3.1.6 and
//! llama-cpp-python 0.2.71 running a payload):
//! - **string literals**: Jinja2 decodes them as Python's `unicode-escape` codec does (after
//!   writing non-ASCII characters as `\x`/`\u`/`\U` escapes), so `\U0000005f`, `\N{LOW LINE}`,
//!   `\137`, a backslash-newline and the rest are Python's; minijinja keeps unknown escapes such
//!   as `\U` and `\N{…}` as text, and a name spelled with them showed no leading `_`. Each literal
//!   with a backslash is rewritten as a plain literal of the value Jinja2 decodes.
//! - **whitespace inside tags**: Jinja2's rules use Python's `\s` (U+00A0, `\x0b`, `\x1c`–`\x1f`,
//!   U+0085, U+2000…), minijinja skips ASCII whitespace only, so `{%<U+00A0>endraw %}` ended a
//!   raw block for Jinja2 and not for minijinja (the code after it was raw text to the check).
//!   Such characters inside a tag (and inside the `raw`/`endraw` tags Jinja2 matches) become ASCII
//!   spaces of the same byte length, and the template is suspicious: renderers disagree on it.
//!
//! The walk follows Jinja2's `Lexer.tokeniter` with the default delimiters (no line statements,
//! which no chat renderer enables): text up to the first `{{`, `{%` or `{#`; a comment to the
//! first `#}`; a raw block to the first `{%[-+]?\s*endraw\s*[-+]?%}`; inside a tag, whitespace,
//! strings, names, numbers and operators, with the tag's end only seen when brackets balance.
//! Where Jinja2's lexer would stop with an error the template is suspicious and the rest is left
//! as it is.

use super::{Hit, char_names::NAMES};

/// Python's `\s` on a `str` pattern (`re`): the whitespace Jinja2 skips inside tags.
pub(crate) fn python_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\x1c'..='\x1f'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// The whitespace minijinja's lexer skips inside tags (`u8::is_ascii_whitespace`).
fn minijinja_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0c' | '\r')
}

/// The text for minijinja, where it moved from the source, and what the reading found.
pub(super) struct Reading {
    pub(super) text: String,
    /// `(offset in text, offset in source)` wherever a rewritten literal changed the length.
    moves: Vec<(usize, usize)>,
    /// Findings, at offsets in the source.
    pub(super) hits: Vec<Hit>,
}

impl Reading {
    /// The source offset of an offset in [`Reading::text`].
    pub(super) fn source_offset(&self, at: usize) -> usize {
        let i = self.moves.partition_point(|m| m.0 <= at);
        match i {
            0 => at,
            _ => {
                let (new, old) = self.moves[i - 1];
                let mapped = old + (at - new);
                self.moves.get(i).map_or(mapped, |next| mapped.min(next.1))
            }
        }
    }
}

/// The template `src` as Jinja2 reads it.
pub(super) fn read(src: &str) -> Reading {
    let mut r = Reader {
        src,
        out: String::with_capacity(src.len()),
        copied: 0,
        moves: Vec::new(),
        hits: Vec::new(),
        odd_space: None,
    };
    if let Err((at, why)) = r.root() {
        let why = format!(
            "Jinja2's lexer stops here ({why}): the template does not load in Jinja2, and what other renderers make of it is unknown"
        );
        r.hits.push(Hit::suspicious(at, why));
    }
    r.copy_to(src.len());
    if let Some((at, c)) = r.odd_space {
        let why = format!(
            "a tag holds U+{:04X}, whitespace to Jinja2 (Python's \\s) but not to other renderers: they read the template differently",
            c as u32
        );
        r.hits.push(Hit::suspicious(at, why));
    }
    Reading {
        text: r.out,
        moves: r.moves,
        hits: r.hits,
    }
}

type Lexed<T> = Result<T, (usize, &'static str)>;

struct Reader<'s> {
    src: &'s str,
    out: String,
    /// Source bytes up to here are in `out`.
    copied: usize,
    moves: Vec<(usize, usize)>,
    hits: Vec<Hit>,
    /// The first whitespace inside a tag that minijinja does not skip.
    odd_space: Option<(usize, char)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Tag {
    Block,
    Variable,
}

impl Reader<'_> {
    fn copy_to(&mut self, upto: usize) {
        if upto > self.copied {
            self.out.push_str(&self.src[self.copied..upto]);
            self.copied = upto;
        }
    }

    /// Put `with` where the source has `start..end`.
    fn replace(&mut self, start: usize, end: usize, with: &str) {
        self.copy_to(start);
        let moved = with.len() != end - start;
        if moved {
            self.moves.push((self.out.len(), start));
        }
        self.out.push_str(with);
        self.copied = end;
        if moved {
            self.moves.push((self.out.len(), end));
        }
    }

    fn rest(&self, at: usize) -> &str {
        self.src.get(at..).unwrap_or("")
    }

    /// Skip Python whitespace from `at`, writing what minijinja would not skip as ASCII spaces.
    fn spaces(&mut self, mut at: usize) -> usize {
        while let Some(c) = self.rest(at).chars().next().filter(|c| python_space(*c)) {
            if !minijinja_space(c) {
                self.odd_space.get_or_insert((at, c));
                self.replace(at, at + c.len_utf8(), &" ".repeat(c.len_utf8()));
            }
            at += c.len_utf8();
        }
        at
    }

    /// `-` or `+` at `at`: the offset after it.
    fn sign(&self, at: usize, plus: bool) -> usize {
        match self.src.as_bytes().get(at) {
            Some(b'-') => at + 1,
            Some(b'+') if plus => at + 1,
            _ => at,
        }
    }

    /// Jinja2's "root" state: text, then a tag, a comment or a raw block.
    fn root(&mut self) -> Lexed<()> {
        let b = self.src.as_bytes();
        let mut pos = 0;
        while let Some(i) = find_start(b, pos) {
            let inner = self.sign(i + 2, true);
            match b[i + 1] {
                b'#' => {
                    let end = find(b, inner, b"#}").ok_or((i, "missing end of comment tag"))?;
                    pos = end + 2;
                }
                b'%' => match self.raw_tag(i, "raw", false) {
                    Some(end) => pos = self.raw_body(end)?,
                    None => pos = self.tag(inner, Tag::Block)?,
                },
                _ => pos = self.tag(inner, Tag::Variable)?,
            }
        }
        Ok(())
    }

    /// A `{% raw %}` (or `{% endraw %}` with `endraw`) tag at `at`, as Jinja2's rule matches it:
    /// `{%[-+]?\s*NAME\s*(-%}|%})`, and `+%}` too for `endraw`. Its whitespace is made ASCII when
    /// it matches; the offset after it.
    fn raw_tag(&mut self, at: usize, name: &str, end_plus: bool) -> Option<usize> {
        let b = self.src.as_bytes();
        let mut p = self.sign(at + 2, true);
        let skip = |p: usize| {
            p + self
                .rest(p)
                .chars()
                .take_while(|c| python_space(*c))
                .map(char::len_utf8)
                .sum::<usize>()
        };
        p = skip(p);
        if !self.rest(p).starts_with(name) {
            return None;
        }
        p = skip(p + name.len());
        let end = match b.get(p..p + 3) {
            Some(b"-%}") => p + 3,
            Some(b"+%}") if end_plus => p + 3,
            _ if b.get(p..p + 2) == Some(b"%}") => p + 2,
            _ => return None,
        };
        let mut q = at + 2;
        while q < end {
            q = self.spaces(q) + 1;
        }
        Some(end)
    }

    /// The body of a raw block from `at`, to the end of its `{% endraw %}`.
    fn raw_body(&mut self, at: usize) -> Lexed<usize> {
        let b = self.src.as_bytes();
        let mut from = at;
        while let Some(k) = find(b, from, b"{%") {
            if let Some(end) = self.raw_tag(k, "endraw", true) {
                return Ok(end);
            }
            from = k + 1;
        }
        Err((at, "missing end of raw directive"))
    }

    /// Inside a tag from `at` to its end (`%}` for a block, `}}` for a variable, with `-` or `+`
    /// before it); the offset after the end.
    fn tag(&mut self, mut at: usize, kind: Tag) -> Lexed<usize> {
        let b = self.src.as_bytes();
        let mut open: Vec<u8> = Vec::new();
        loop {
            let rest = &b[at.min(b.len())..];
            if rest.is_empty() {
                return Err((at, "unexpected end of template inside a tag"));
            }
            if open.is_empty() {
                let ends: &[&[u8]] = match kind {
                    Tag::Block => &[b"+%}", b"-%}", b"%}"],
                    Tag::Variable => &[b"-}}", b"}}"],
                };
                if let Some(e) = ends.iter().find(|e| rest.starts_with(e)) {
                    return Ok(at + e.len());
                }
            }
            let c = self.rest(at).chars().next().unwrap_or('\0');
            if python_space(c) {
                at = self.spaces(at);
                continue;
            }
            match c {
                '\'' | '"' => at = self.string(at, c)?,
                '(' | '[' | '{' => {
                    open.push(match c {
                        '(' => b')',
                        '[' => b']',
                        _ => b'}',
                    });
                    at += 1;
                }
                ')' | ']' | '}' => {
                    if open.pop() != Some(c as u8) {
                        return Err((at, "unbalanced brackets"));
                    }
                    at += 1;
                }
                '+' | '-' | '/' | '*' | '%' | '~' | '>' | '<' | '=' | '.' | ':' | '|' | ',' | ';' => at += 1,
                '!' if rest.starts_with(b"!=") => at += 2,
                c if c == '_' || c.is_alphanumeric() || !c.is_ascii() => {
                    // names and numbers: letters, digits, `_`, and any other non-ASCII character
                    // (what Jinja2 rejects there, minijinja rejects too)
                    at += self
                        .rest(at)
                        .chars()
                        .take_while(|c| *c == '_' || c.is_alphanumeric() || (!c.is_ascii() && !python_space(*c)))
                        .map(char::len_utf8)
                        .sum::<usize>();
                }
                _ => return Err((at, "unexpected character")),
            }
        }
    }

    /// A string literal at `at`: rewritten as the value Jinja2 decodes when it has escapes.
    fn string(&mut self, at: usize, quote: char) -> Lexed<usize> {
        let mut chars = self.rest(at + 1).char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => {
                    chars.next();
                }
                Some((i, c)) if c == quote => break at + 1 + i,
                Some(_) => {}
                None => return Err((at, "a string that does not end")),
            }
        };
        let body = &self.src[at + 1..end];
        if body.contains('\\') {
            let (value, unresolved) = unescape(body).map_err(|why| (at, why))?;
            if unresolved {
                let why = "a string holds a \\N{…} escape the check cannot resolve: the character Jinja2 reads there is unknown";
                self.hits.push(Hit::suspicious(at, why));
            }
            let mut lit = String::with_capacity(value.len() + 2);
            lit.push('"');
            for c in value.chars() {
                if c == '"' || c == '\\' {
                    lit.push('\\');
                }
                lit.push(c);
            }
            lit.push('"');
            self.replace(at, end + 1, &lit);
        }
        Ok(end + 1)
    }
}

/// The first `{{`, `{%` or `{#` from `at`.
fn find_start(b: &[u8], at: usize) -> Option<usize> {
    (at..b.len().saturating_sub(1)).find(|&i| b[i] == b'{' && matches!(b[i + 1], b'{' | b'%' | b'#'))
}

fn find(b: &[u8], at: usize, what: &[u8]) -> Option<usize> {
    b.get(at..)?.windows(what.len()).position(|w| w == what).map(|i| i + at)
}

/// A string literal's body as Jinja2 decodes it: newlines made `\n`, non-ASCII written as
/// `\x`/`\u`/`\U` escapes (`encode("ascii", "backslashreplace")`), then Python's
/// `unicode-escape` codec. A lone surrogate (which Python keeps) is U+FFFD; so is a `\N{…}`
/// name outside [`NAMES`] (the flag is then set). An error is Jinja2's syntax error.
pub(super) fn unescape(body: &str) -> Result<(String, bool), &'static str> {
    let body = body.replace("\r\n", "\n").replace('\r', "\n");
    let mut ascii = String::with_capacity(body.len());
    for c in body.chars() {
        match c as u32 {
            0..=0x7f => ascii.push(c),
            n @ 0x80..=0xff => ascii.push_str(&format!("\\x{n:02x}")),
            n @ 0x100..=0xffff => ascii.push_str(&format!("\\u{n:04x}")),
            n => ascii.push_str(&format!("\\U{n:08x}")),
        }
    }
    let b = ascii.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut unresolved = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        i += 1;
        if c != b'\\' {
            out.push(c as char);
            continue;
        }
        let Some(&e) = b.get(i) else {
            return Err("\\ at end of string");
        };
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e as char),
            b'a' => out.push('\x07'),
            b'b' => out.push('\x08'),
            b't' => out.push('\t'),
            b'n' => out.push('\n'),
            b'v' => out.push('\x0b'),
            b'f' => out.push('\x0c'),
            b'r' => out.push('\r'),
            b'0'..=b'7' => {
                let mut n = u32::from(e - b'0');
                for _ in 0..2 {
                    match b.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            n = n * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(char::from_u32(n).unwrap_or('\u{fffd}'));
            }
            b'x' | b'u' | b'U' => {
                let (len, why) = match e {
                    b'x' => (2, "truncated \\xXX escape"),
                    b'u' => (4, "truncated \\uXXXX escape"),
                    _ => (8, "truncated \\UXXXXXXXX escape"),
                };
                let digits = b
                    .get(i..i + len)
                    .filter(|d| d.iter().all(u8::is_ascii_hexdigit))
                    .ok_or(why)?;
                let n = u32::from_str_radix(std::str::from_utf8(digits).unwrap_or("g"), 16).map_err(|_| why)?;
                i += len;
                if n > 0x10ffff {
                    return Err("illegal Unicode character");
                }
                out.push(char::from_u32(n).unwrap_or('\u{fffd}'));
            }
            b'N' => {
                let why = "malformed \\N character escape";
                if b.get(i) != Some(&b'{') {
                    return Err(why);
                }
                let close = find(b, i + 1, b"}").ok_or(why)?;
                if close == i + 1 {
                    return Err(why);
                }
                let name = ascii[i + 1..close].to_ascii_uppercase();
                i = close + 1;
                match NAMES.binary_search_by(|(n, _)| (*n).cmp(name.as_str())) {
                    Ok(k) => out.push(NAMES[k].1),
                    Err(_) => {
                        unresolved = true;
                        out.push('\u{fffd}');
                    }
                }
            }
            other => {
                out.push('\\');
                out.push(other as char);
            }
        }
    }
    Ok((out, unresolved))
}
