//! Python literals as `ast.literal_eval` reads them, for `.npy` headers (numpy evaluates the header
//! that way): numbers (`0x`, `0o`, `0b`, `_`, floats, signs), strings and bytes with every prefix,
//! quote style and escape, implicit concatenation (`'obj' 'ect'`), tuples, lists, dicts (the last
//! of a repeated key wins, as in Python), sets, `True`, `False`, `None` and comments.
//!
//! ```
//! use tensorscope::formats::pickle::pyliteral::{parse, Lit};
//! let d = parse(r#"{'descr': '<f4', 'descr': 'obj' "\x65ct", 'shape': (2,), }"#).unwrap();
//! assert_eq!(d.get("descr"), Some(&Lit::Str("object".into())));
//! ```

/// Deepest nesting of brackets accepted.
pub const MAX_DEPTH: usize = 64;

/// A Python literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// `str`.
    Str(String),
    /// `bytes`.
    Bytes(Vec<u8>),
    /// An integer (`None` inside when it does not fit in 128 bits).
    Int(Option<i128>),
    /// A float.
    Float(f64),
    /// `True` / `False`.
    Bool(bool),
    /// `None`.
    None,
    /// A tuple.
    Tuple(Vec<Lit>),
    /// A list.
    List(Vec<Lit>),
    /// A set.
    Set(Vec<Lit>),
    /// A dict, pairs in source order.
    Dict(Vec<(Lit, Lit)>),
}

impl Lit {
    /// The value of `key` in a dict with `str` keys: the last occurrence, as Python keeps it.
    pub fn get(&self, key: &str) -> Option<&Lit> {
        let Lit::Dict(pairs) = self else { return None };
        pairs
            .iter()
            .rev()
            .find(|(k, _)| matches!(k, Lit::Str(s) if s == key))
            .map(|(_, v)| v)
    }

    /// The distinct `str` keys of a dict, in first-seen order.
    pub fn keys(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if let Lit::Dict(pairs) = self {
            for (k, _) in pairs {
                if let Lit::Str(s) = k
                    && !out.contains(&s.as_str())
                {
                    out.push(s);
                }
            }
        }
        out
    }
}

/// Parse one literal expression (the whole text, surrounding whitespace and comments allowed).
pub fn parse(text: &str) -> Result<Lit, String> {
    parse_with(text, false)
}

/// [`parse`] after numpy's `_filter_header`, which drops the `L` that follows a number (a
/// Python 2 long, `(3L,)`): what `np.load` retries a version 1.0 or 2.0 header with when
/// `ast.literal_eval` refuses it.
pub fn parse_py2(text: &str) -> Result<Lit, String> {
    parse_with(text, true)
}

fn parse_with(text: &str, py2_long: bool) -> Result<Lit, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
        py2_long,
    };
    let v = p.value(0)?;
    p.skip();
    if p.i != p.s.len() {
        return Err(format!("unexpected text at offset {}", p.i));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    /// A number may end with Python 2's `L` (see [`parse_py2`]).
    py2_long: bool,
}

impl Parser<'_> {
    fn skip(&mut self) {
        while let Some(&c) = self.s.get(self.i) {
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => self.i += 1,
                b'\\' if self.s.get(self.i + 1) == Some(&b'\n') => self.i += 2,
                b'#' => {
                    while self.s.get(self.i).is_some_and(|&c| c != b'\n') {
                        self.i += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip();
        self.s.get(self.i).copied()
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at offset {}", self.i))
    }

    fn value(&mut self, depth: usize) -> Result<Lit, String> {
        if depth > MAX_DEPTH {
            return self.err("nesting too deep");
        }
        let Some(c) = self.peek() else {
            return self.err("unexpected end");
        };
        match c {
            b'(' => {
                self.i += 1;
                let (items, comma) = self.items(b')', depth)?;
                Ok(if items.len() == 1 && !comma {
                    items.into_iter().next().unwrap_or(Lit::None)
                } else {
                    Lit::Tuple(items)
                })
            }
            b'[' => {
                self.i += 1;
                Ok(Lit::List(self.items(b']', depth)?.0))
            }
            b'{' => self.dict_or_set(depth),
            b'-' | b'+' => {
                self.i += 1;
                let v = self.value(depth + 1)?;
                let neg = c == b'-';
                match v {
                    Lit::Int(i) => Ok(Lit::Int(if neg { i.and_then(i128::checked_neg) } else { i })),
                    Lit::Float(f) => Ok(Lit::Float(if neg { -f } else { f })),
                    _ => self.err("a sign before something that is not a number"),
                }
            }
            b'0'..=b'9' | b'.' => self.number(),
            _ => self.word_or_string(),
        }
    }

    /// Comma-separated values up to `close`; also whether a comma was seen.
    fn items(&mut self, close: u8, depth: usize) -> Result<(Vec<Lit>, bool), String> {
        let mut out = Vec::new();
        let mut comma = false;
        loop {
            if self.peek() == Some(close) {
                self.i += 1;
                return Ok((out, comma));
            }
            out.push(self.value(depth + 1)?);
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    comma = true;
                }
                Some(c) if c == close => {}
                _ => return self.err("expected a comma"),
            }
        }
    }

    fn dict_or_set(&mut self, depth: usize) -> Result<Lit, String> {
        self.i += 1;
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Lit::Dict(Vec::new()));
        }
        let first = self.value(depth + 1)?;
        if self.peek() != Some(b':') {
            let mut items = vec![first];
            if self.peek() == Some(b',') {
                self.i += 1;
                items.extend(self.items(b'}', depth)?.0);
            } else if self.peek() == Some(b'}') {
                self.i += 1;
            } else {
                return self.err("expected ':' or ','");
            }
            return Ok(Lit::Set(items));
        }
        let mut pairs = Vec::new();
        let mut key = first;
        loop {
            if self.peek() != Some(b':') {
                return self.err("expected ':'");
            }
            self.i += 1;
            let v = self.value(depth + 1)?;
            pairs.push((key, v));
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Lit::Dict(pairs));
                }
                _ => return self.err("expected ',' or '}'"),
            }
            if self.peek() == Some(b'}') {
                self.i += 1;
                return Ok(Lit::Dict(pairs));
            }
            key = self.value(depth + 1)?;
        }
    }

    fn number(&mut self) -> Result<Lit, String> {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
            || (self.i > start
                && matches!(self.s.get(self.i), Some(b'+' | b'-'))
                && matches!(self.s[self.i - 1], b'e' | b'E')
                && !self.text[start..self.i].starts_with("0x"))
        {
            self.i += 1;
        }
        let mut t = &self.text[start..self.i];
        if self.py2_long && t.len() > 1 {
            t = t.strip_suffix('L').unwrap_or(t);
        }
        let lower = t.to_ascii_lowercase();
        let (radix, body) = match lower.get(..2) {
            Some("0x") => (16, &t[2..]),
            Some("0o") => (8, &t[2..]),
            Some("0b") => (2, &t[2..]),
            _ => (10, t),
        };
        let bad = || format!("not a Python number: {t:?}");
        if body.starts_with('_') && radix == 10 || body.ends_with('_') || body.contains("__") {
            return Err(bad());
        }
        let clean: String = body.chars().filter(|&c| c != '_').collect();
        if radix == 10 && (clean.contains(['.', 'e', 'E']) || clean.contains("inf")) {
            return clean.parse::<f64>().map(Lit::Float).map_err(|_| bad());
        }
        if clean.is_empty() || !clean.chars().all(|c| c.is_digit(radix)) {
            return Err(bad());
        }
        if radix == 10 && clean.len() > 1 && clean.starts_with('0') && clean.chars().any(|c| c != '0') {
            return Err(bad());
        }
        Ok(Lit::Int(i128::from_str_radix(&clean, radix).ok()))
    }

    fn word_or_string(&mut self) -> Result<Lit, String> {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.i += 1;
        }
        let word = &self.text[start..self.i];
        match (word, self.s.get(self.i)) {
            ("True", _) => return Ok(Lit::Bool(true)),
            ("False", _) => return Ok(Lit::Bool(false)),
            ("None", _) => return Ok(Lit::None),
            (_, Some(b'\'' | b'"')) => {}
            _ => {
                self.i = start;
                return self.err("not a literal");
            }
        }
        self.i = start;
        // one or more adjacent strings, concatenated
        let mut text: Option<String> = None;
        let mut bytes: Option<Vec<u8>> = None;
        while let Some(c) = self.peek() {
            let p0 = self.i;
            while self.s.get(self.i).is_some_and(|&c| c.is_ascii_alphabetic()) {
                self.i += 1;
            }
            let prefix = self.text[p0..self.i].to_ascii_lowercase();
            if !matches!(self.s.get(self.i), Some(b'\'' | b'"'))
                || !(c.is_ascii_alphabetic() || c == b'\'' || c == b'"')
            {
                self.i = p0;
                break;
            }
            let (raw, is_bytes) = match prefix.as_str() {
                "" | "u" => (false, false),
                "r" => (true, false),
                "b" => (false, true),
                "rb" | "br" => (true, true),
                _ => return self.err("string prefix not allowed in a literal"),
            };
            let body = self.quoted()?;
            let decoded = unescape(body, raw, is_bytes)?;
            if is_bytes {
                if text.is_some() {
                    return self.err("cannot mix bytes and str");
                }
                bytes.get_or_insert_with(Vec::new).extend(decoded);
            } else {
                if bytes.is_some() {
                    return self.err("cannot mix bytes and str");
                }
                let s = String::from_utf8(decoded).map_err(|_| "string is not text".to_owned())?;
                text.get_or_insert_with(String::new).push_str(&s);
            }
        }
        match (text, bytes) {
            (Some(t), None) => Ok(Lit::Str(t)),
            (None, Some(b)) => Ok(Lit::Bytes(b)),
            _ => self.err("not a literal"),
        }
    }

    /// The raw body of a quoted string at `self.i` (single or triple quotes).
    fn quoted(&mut self) -> Result<&str, String> {
        let q = self.s[self.i];
        let triple = self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..]);
        let n = if triple { 3 } else { 1 };
        self.i += n;
        let start = self.i;
        while self.i < self.s.len() {
            let c = self.s[self.i];
            if c == b'\\' {
                self.i += 2;
                continue;
            }
            if !triple && c == b'\n' {
                return self.err("newline in a string");
            }
            if c == q && (!triple || self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..])) {
                let body = &self.text[start..self.i];
                self.i += n;
                return Ok(body);
            }
            self.i += 1;
        }
        self.err("unterminated string")
    }
}

/// Decode a string body's escapes as Python does (unknown escapes stay as written).
fn unescape(body: &str, raw: bool, bytes: bool) -> Result<Vec<u8>, String> {
    if raw {
        return Ok(body.as_bytes().to_vec());
    }
    let mut out = Vec::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    let push = |out: &mut Vec<u8>, c: char| {
        let mut b = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    };
    while let Some((_, c)) = chars.next() {
        if c != '\\' {
            if bytes && !c.is_ascii() {
                return Err("bytes literal with a non-ASCII character".into());
            }
            push(&mut out, c);
            continue;
        }
        let Some((_, e)) = chars.next() else {
            return Err("string ends with a backslash".into());
        };
        let simple = match e {
            '\n' => Some(None),
            '\\' => Some(Some('\\')),
            '\'' => Some(Some('\'')),
            '"' => Some(Some('"')),
            'a' => Some(Some('\x07')),
            'b' => Some(Some('\x08')),
            'f' => Some(Some('\x0c')),
            'n' => Some(Some('\n')),
            'r' => Some(Some('\r')),
            't' => Some(Some('\t')),
            'v' => Some(Some('\x0b')),
            _ => None,
        };
        if let Some(c) = simple {
            if let Some(c) = c {
                push(&mut out, c);
            }
            continue;
        }
        let take = |chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>, n: usize, radix: u32| {
            let mut v = 0u32;
            for k in 0..n {
                match chars.peek() {
                    Some(&(_, d)) if d.is_digit(radix) => {
                        v = v * radix + d.to_digit(radix).unwrap_or(0);
                        chars.next();
                    }
                    _ if radix == 8 && k > 0 => break,
                    _ => return None,
                }
            }
            Some(v)
        };
        let code = match e {
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek() {
                        Some(&(_, d)) if d.is_digit(8) => {
                            v = v * 8 + d.to_digit(8).unwrap_or(0);
                            chars.next();
                        }
                        _ => break,
                    }
                }
                v
            }
            'x' => take(&mut chars, 2, 16).ok_or("truncated \\x escape")?,
            'u' if !bytes => take(&mut chars, 4, 16).ok_or("truncated \\u escape")?,
            'U' if !bytes => take(&mut chars, 8, 16).ok_or("truncated \\U escape")?,
            'N' if !bytes => return Err("\\N{…} escapes are not supported".into()),
            other => {
                out.push(b'\\');
                push(&mut out, other);
                continue;
            }
        };
        if bytes {
            out.push(u8::try_from(code).map_err(|_| "octal escape above 255 in bytes")?);
        } else {
            push(&mut out, char::from_u32(code).ok_or("escape is not a character")?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_headers_and_tricks() {
        let d = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }").unwrap();
        assert_eq!(d.get("descr"), Some(&Lit::Str("<f4".into())));
        assert_eq!(d.get("fortran_order"), Some(&Lit::Bool(false)));
        assert_eq!(
            d.get("shape"),
            Some(&Lit::Tuple(vec![Lit::Int(Some(3)), Lit::Int(Some(4))]))
        );
        assert_eq!(d.keys(), ["descr", "fortran_order", "shape"]);
        let cases = [
            (r"{'descr': '|\x4f'}", "|O"),
            (r"{'descr': '\117'}", "O"),
            (r"{'descr': 'obj' 'ect'}", "object"),
            (r#"{'descr': u'obj' r"ect"}"#, "object"),
            (r"{'descr': '<f4', 'descr': 'O'}", "O"),
            ("{'descr': '''O'''}", "O"),
            (r"{'descr': '\u004f'}", "O"),
            ("{'descr': # comment\n 'O'}", "O"),
            (r"{'descr': 'a\qb'}", r"a\qb"),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse(text).unwrap().get("descr"),
                Some(&Lit::Str(want.into())),
                "{text}"
            );
        }
        assert_eq!(parse("(1,)").unwrap(), Lit::Tuple(vec![Lit::Int(Some(1))]));
        assert_eq!(parse("(1)").unwrap(), Lit::Int(Some(1)));
        assert_eq!(parse("-0x1_0").unwrap(), Lit::Int(Some(-16)));
        assert_eq!(parse("1.5e3").unwrap(), Lit::Float(1500.0));
        assert_eq!(parse("b'\\x4f' b'k'").unwrap(), Lit::Bytes(b"Ok".to_vec()));
        assert_eq!(
            parse("{1, 2}").unwrap(),
            Lit::Set(vec![Lit::Int(Some(1)), Lit::Int(Some(2))])
        );
        for bad in ["{'a': f'x'}", "'a' b'b'", "{'a' 'b'", "01", "os.system", "'x", "("] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(parse(&deep).is_err());
    }
}
