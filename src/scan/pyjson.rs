//! JSON as Python's `json` module reads it, which is what transformers reads configs with: besides
//! strict JSON it takes the bare words `NaN`, `Infinity` and `-Infinity`, and `\uD800`-style escapes
//! of lone surrogates. serde_json refuses both, and a config it cannot parse must not pass for one
//! that names no code (a NaN beside an `auto_map` hid it). The text is rewritten to strict JSON that
//! means the same to the scan (the numbers become `null`, a lone surrogate U+FFFD), then parsed.

use std::borrow::Cow;

use serde_json::Value;

/// `bytes` parsed as Python's `json.loads` would take them, `None` when Python would refuse them too
/// (or they are not UTF-8).
pub fn parse(bytes: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    serde_json::from_str(&strict(text)).ok()
}

/// `text` with Python's extensions to JSON replaced by strict JSON.
fn strict(text: &str) -> Cow<'_, str> {
    if !text.contains("NaN") && !text.contains("Infinity") && !text.contains("\\u") {
        return Cow::Borrowed(text);
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut in_string = false;
    while i < b.len() {
        let c = b[i];
        if in_string {
            if c == b'\\' && b.get(i + 1) == Some(&b'u') {
                let unit = hex4(b, i + 2);
                match unit {
                    Some(u)
                        if (0xd800..0xdc00).contains(&u)
                            && hex4(b, i + 8).is_some_and(|l| (0xdc00..0xe000).contains(&l))
                            && b.get(i + 6..i + 8) == Some(b"\\u") =>
                    {
                        // a surrogate pair: kept as written
                        out.push_str(&text[i..i + 12]);
                        i += 12;
                    }
                    Some(u) if (0xd800..0xe000).contains(&u) => {
                        out.push_str("\\ufffd");
                        i += 6;
                    }
                    _ => {
                        out.push_str(&text[i..i + 2]);
                        i += 2;
                    }
                }
                continue;
            }
            if c == b'\\' {
                // any other escape: the backslash, then the character it escapes, whole
                out.push('\\');
                i += 1;
                if let Some(ch) = text[i..].chars().next() {
                    out.push(ch);
                    i += ch.len_utf8();
                }
                continue;
            }
            if c == b'"' {
                in_string = false;
            }
        } else if c == b'"' {
            in_string = true;
        } else {
            let word = ["-Infinity", "Infinity", "NaN"]
                .into_iter()
                .find(|w| b[i..].starts_with(w.as_bytes()));
            if let Some(w) = word {
                out.push_str("null");
                i += w.len();
                continue;
            }
        }
        // copy one whole character
        let len = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + len]);
        i += len;
    }
    Cow::Owned(out)
}

/// The value of four hex digits at `at`.
fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let h = std::str::from_utf8(b.get(at..at + 4)?).ok()?;
    if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(h, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_extensions_parse_and_strict_json_is_unchanged() {
        let v = parse(br#"{"a": NaN, "b": [Infinity, -Infinity], "auto_map": {"AutoModel": "m.X"}}"#).unwrap();
        assert_eq!(v["auto_map"]["AutoModel"], "m.X");
        assert!(v["a"].is_null() && v["b"][1].is_null());
        let v =
            parse(br#"{"note": "\ud800 lone", "pair": "\ud83d\ude00", "s": "NaN \" Infinity", "e": "\\u"}"#).unwrap();
        assert_eq!(v["note"], "\u{fffd} lone");
        assert_eq!(v["pair"], "\u{1f600}");
        assert_eq!(v["s"], "NaN \" Infinity");
        assert_eq!(v["e"], "\\u");
        assert!(parse(b"{not json}").is_none());
        assert!(parse(br#"{"a": NaNa}"#).is_none());
        assert!(matches!(strict(r#"{"a": 1}"#), Cow::Borrowed(_)));
        // an escape of a multi-byte character is not JSON, and must not split the character
        assert!(parse("{\"a\": \"\\é NaN\"}".as_bytes()).is_none());
    }
}
