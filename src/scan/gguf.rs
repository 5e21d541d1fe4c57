//! GGUF files hold no pickle, but their chat templates are code: servers render
//! `tokenizer.chat_template` (and `tokenizer.chat_template.NAME`) with Jinja on every request, and a
//! template that reaches Python internals escapes the sandbox of a careless renderer
//! (CVE-2024-34359, llama-cpp-python). Each template is read as text, never rendered:
//!
//! - **dangerous**: a dunder name that leads to Python internals (`__class__`, `__globals__`,
//!   `__subclasses__`, `__mro__`, `__init__`, `__builtins__`, `__import__`, …), written out, hidden
//!   behind escapes (`'\x5f\x5fclass\x5f\x5f'`) or built by string concatenation (`'__cla' ~ 'ss__'`,
//!   `'_' * 2`); the `attr` filter (`|attr(`); the Jinja globals `cycler`, `joiner`, `namespace` and
//!   `lipsum` used as gadgets (attribute or item access on them, not the usual `namespace(...)` call);
//!   private attributes of `self`;
//! - **suspicious**: `{% include %}`, `{% import %}`, `{% extends %}` (a chat template needs no other
//!   template) and a mention of `lipsum`.
//!
//! A template with none of these is safe. Each finding names the key (as the entry), the byte offset
//! in the template, why, and an excerpt around the match.

use super::{Collector, FileScan, Severity, Verdict};
use crate::formats::gguf;

/// Dunder names that lead from any object to Python's internals.
const DUNDERS: [&str; 15] = [
    "__class__",
    "__globals__",
    "__subclasses__",
    "__mro__",
    "__init__",
    "__builtins__",
    "__import__",
    "__base__",
    "__bases__",
    "__dict__",
    "__getattribute__",
    "__code__",
    "__func__",
    "__self__",
    "__loader__",
];

/// Jinja globals whose attributes lead to Python internals.
const GADGETS: [&str; 4] = ["cycler", "joiner", "namespace", "lipsum"];

/// Characters of context on each side of a match in an excerpt.
const EXCERPT: usize = 40;

/// A finding before it becomes a [`super::Finding`]: offset in the template, severity, why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit {
    pub(crate) offset: usize,
    pub(crate) severity: Severity,
    pub(crate) why: String,
}

/// Scan a GGUF file's bytes.
pub(super) fn scan(mut c: Collector, path: String, data: &[u8]) -> FileScan {
    let g = match gguf::parse(std::path::Path::new(&path), data) {
        Ok(g) => g,
        Err(e) => {
            let msg = match e {
                crate::Error::Format { msg, .. } => msg,
                e => e.to_string(),
            };
            let mut f = c.finish(path, "gguf");
            f.verdict = Verdict::Error;
            f.error = Some(format!("invalid GGUF: {msg}"));
            return f;
        }
    };
    keys(&mut c, &g);
    let templates = gguf::templates(&g);
    for (key, template) in &templates {
        for h in scan_template(template) {
            let why = format!("{} (excerpt: {})", h.why, excerpt(template, h.offset));
            c.problem(key, Some(h.offset as u64), h.severity, why);
        }
    }
    let mut f = c.finish(path, "gguf");
    f.templates = Some(templates.len());
    f
}

/// Keys as llama.cpp matches them (`strcmp`, up to the first NUL): a key holding a NUL byte is
/// suspicious (no writer makes one; it is a second name for the key before the NUL), and so are two
/// keys equal up to a NUL (llama.cpp takes the first, gguf-py's dict the last: readers disagree
/// on the value). Templates under every such key are scanned ([`gguf::templates`]).
fn keys(c: &mut Collector, g: &gguf::Gguf) {
    let mut first: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for (key, _) in &g.kvs {
        let short = gguf::c_key(key);
        if short.len() != key.len() {
            let why = format!(
                "the GGUF key {} holds a NUL byte: llama.cpp compares keys as C strings and reads it as {}",
                key, short
            );
            c.problem(key, None, Severity::Suspicious, why);
        }
        match first.get(short) {
            Some(prev) => {
                let why = format!(
                    "the GGUF keys {} and {} are equal up to a NUL byte: llama.cpp takes the first, \
                     other readers the last (both values were scanned)",
                    prev, key
                );
                c.problem(key, None, Severity::Suspicious, why);
            }
            None => {
                first.insert(short, key);
            }
        }
    }
}

/// The text around byte `at`, on one line (escaped where it is printed).
fn excerpt(t: &str, at: usize) -> String {
    let mut lo = at.saturating_sub(EXCERPT);
    while !t.is_char_boundary(lo) {
        lo -= 1;
    }
    let mut hi = (at + EXCERPT).min(t.len());
    while !t.is_char_boundary(hi) {
        hi += 1;
    }
    // not escaped here: the printer escapes text once, where it is printed
    let s = t[lo..hi].replace(['\n', '\r', '\t'], " ");
    format!(
        "{}{s}{}",
        if lo > 0 { "…" } else { "" },
        if hi < t.len() { "…" } else { "" }
    )
}

/// Everything in one template that is not safe, in order of offset.
pub(crate) fn scan_template(t: &str) -> Vec<Hit> {
    let mut hits = Vec::new();
    let lower = t.to_ascii_lowercase();
    for d in DUNDERS {
        for (i, _) in t.match_indices(d) {
            hits.push(Hit {
                offset: i,
                severity: Severity::Dangerous,
                why: format!("the template reaches Python internals through {d}"),
            });
        }
    }
    for (i, lit) in string_literals(t) {
        let raw = &t[i..literal_end(t, i)];
        let dunder = lit.len() > 4 && lit.starts_with("__") && lit.ends_with("__");
        if lit.contains("__") && !raw.contains("__") {
            hits.push(Hit {
                offset: i,
                severity: Severity::Dangerous,
                why: format!("a string literal spells \"{lit}\" through escapes"),
            });
        } else if dunder && !DUNDERS.contains(&lit.as_str()) {
            hits.push(Hit {
                offset: i,
                severity: Severity::Dangerous,
                why: format!("a string literal names the Python attribute {lit}"),
            });
        }
    }
    for (i, built) in concatenations(t) {
        hits.push(Hit {
            offset: i,
            severity: Severity::Dangerous,
            why: format!("string concatenation builds the dunder name \"{built}\""),
        });
    }
    for i in find_filter(&lower, "attr") {
        hits.push(Hit {
            offset: i,
            severity: Severity::Dangerous,
            why: "the attr filter reads attributes by computed name (a sandbox escape route)".into(),
        });
    }
    for g in GADGETS {
        for i in word_indices(t, g) {
            let rest = t[i + g.len()..].trim_start();
            let access = rest.starts_with('.') || rest.starts_with('[') || rest.starts_with('|');
            if access {
                hits.push(Hit {
                    offset: i,
                    severity: Severity::Dangerous,
                    why: format!("the Jinja global {g} is used as a gadget (its attributes lead to Python internals)"),
                });
            } else if g == "lipsum" {
                hits.push(Hit {
                    offset: i,
                    severity: Severity::Suspicious,
                    why: "the template mentions lipsum, a Jinja global no chat template needs".into(),
                });
            }
        }
    }
    for i in word_indices(t, "self") {
        if t[i + 4..].trim_start().starts_with("._") {
            hits.push(Hit {
                offset: i,
                severity: Severity::Dangerous,
                why: "the template reads a private attribute of self (the template's own context)".into(),
            });
        }
    }
    for tag in ["include", "import", "extends", "from"] {
        for i in statement_indices(t, tag) {
            hits.push(Hit {
                offset: i,
                severity: Severity::Suspicious,
                why: format!("the template uses {{% {tag} %}}: a chat template needs no other template"),
            });
        }
    }
    hits.sort_by_key(|h| h.offset);
    hits.dedup_by(|a, b| a.offset == b.offset && a.why == b.why);
    hits
}

/// Offsets of `word` where it stands as an identifier (not inside a longer name).
fn word_indices<'a>(t: &'a str, word: &'a str) -> impl Iterator<Item = usize> + 'a {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    t.match_indices(word).filter_map(move |(i, _)| {
        let before = t[..i].chars().next_back().is_some_and(ident);
        let after = t[i + word.len()..].chars().next().is_some_and(ident);
        (!before && !after).then_some(i)
    })
}

/// Offsets of `|name` filters (spaces allowed around `|`) followed by `(` or a word end.
fn find_filter(lower: &str, name: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, _) in lower.match_indices('|') {
        let rest = lower[i + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(name)
            && !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        {
            out.push(i);
        }
    }
    out
}

/// Offsets of `{% tag` statements (with `-` trim markers and spaces).
fn statement_indices(t: &str, tag: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, _) in t.match_indices("{%") {
        let rest = t[i + 2..].trim_start_matches(['-', '+']).trim_start();
        if let Some(after) = rest.strip_prefix(tag)
            && after.starts_with(char::is_whitespace)
        {
            out.push(i);
        }
    }
    out
}

/// Every quoted string literal with its escapes decoded (`\xNN`, `\uNNNN`, `\NNN` octal, `\n`, …),
/// with the offset of its opening quote.
fn string_literals(t: &str) -> Vec<(usize, String)> {
    let b = t.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let q = b[i];
        if q != b'\'' && q != b'"' {
            i += 1;
            continue;
        }
        let start = i;
        let mut s = String::new();
        i += 1;
        while i < b.len() && b[i] != q {
            if b[i] == b'\\' && i + 1 < b.len() {
                let (c, used) = unescape(&t[i + 1..]);
                s.push(c);
                i += 1 + used;
            } else {
                let c = t[i..].chars().next().unwrap_or('\u{fffd}');
                s.push(c);
                i += c.len_utf8();
            }
        }
        out.push((start, s));
        i += 1;
    }
    out
}

/// One escape after a backslash: the character and the bytes it used.
fn unescape(rest: &str) -> (char, usize) {
    let hex = |n: usize| {
        rest.get(1..1 + n)
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
    };
    match rest.as_bytes().first() {
        Some(b'x') => hex(2).map_or(('x', 1), |c| (c, 3)),
        Some(b'u') => hex(4).map_or(('u', 1), |c| (c, 5)),
        Some(b'U') => hex(8).map_or(('U', 1), |c| (c, 9)),
        Some(b'0'..=b'7') => {
            let digits = rest.bytes().take(3).take_while(|c| (b'0'..=b'7').contains(c)).count();
            let v = u32::from_str_radix(&rest[..digits], 8).unwrap_or(0);
            (char::from_u32(v).unwrap_or('\u{fffd}'), digits)
        }
        Some(b'n') => ('\n', 1),
        Some(b't') => ('\t', 1),
        Some(_) => {
            let c = rest.chars().next().unwrap_or('\\');
            (c, c.len_utf8())
        }
        None => ('\\', 0),
    }
}

/// Strings built by joining literals with `~` or `+`, or repeating one with `* N`, that spell a
/// dunder: `(offset of the first literal, the built string)`.
fn concatenations(t: &str) -> Vec<(usize, String)> {
    let lits = string_literals(t);
    let mut out = Vec::new();
    let mut k = 0;
    while k < lits.len() {
        let (start, first) = &lits[k];
        let mut built = first.clone();
        let mut joined = false;
        let mut end = literal_end(t, *start);
        let mut j = k + 1;
        loop {
            let gap = t[end..].trim_start();
            if let Some(after) = gap.strip_prefix('*') {
                let digits: String = after.trim_start().chars().take_while(char::is_ascii_digit).collect();
                if let Ok(n) = digits.parse::<usize>() {
                    built = built.repeat(n.min(8));
                    joined = true;
                }
                break;
            }
            let Some(after) = gap.strip_prefix(['~', '+']) else {
                break;
            };
            let next_at = t.len() - after.trim_start().len();
            match lits.get(j) {
                Some((s, lit)) if *s == next_at => {
                    built.push_str(lit);
                    end = literal_end(t, *s);
                    joined = true;
                    j += 1;
                }
                _ => break,
            }
        }
        if joined && built.contains("__") {
            out.push((*start, built));
        }
        k = j.max(k + 1);
    }
    out
}

/// The byte after the closing quote of the literal opening at `start`.
fn literal_end(t: &str, start: usize) -> usize {
    let b = t.as_bytes();
    let q = b[start];
    let mut i = start + 1;
    while i < b.len() && b[i] != q {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    (i + 1).min(b.len())
}

#[cfg(test)]
#[path = "gguf_tests.rs"]
mod tests;
