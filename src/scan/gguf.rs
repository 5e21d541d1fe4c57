//! GGUF files hold no pickle, but their chat templates are code: servers render
//! `tokenizer.chat_template` (and `tokenizer.chat_template.NAME`) with Jinja on every request, and a
//! template that reaches Python internals escapes the sandbox of a careless renderer
//! (CVE-2024-34359, llama-cpp-python). Each template is parsed and its syntax tree judged as an
//! allowlist, never rendered ([`super::template`]). Each finding names the key (as the entry), the
//! byte offset in the template, why, and an excerpt around it.

use super::{Collector, FileScan, Severity, Verdict, template};
use crate::formats::gguf;

/// Characters of context on each side of a match in an excerpt.
const EXCERPT: usize = 40;

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
    for (key, text) in &templates {
        for h in template::check(text) {
            let why = format!("{} (excerpt: {})", h.why, excerpt(text, h.offset));
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
pub(super) fn excerpt(t: &str, at: usize) -> String {
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

#[cfg(test)]
#[path = "gguf_tests.rs"]
mod tests;
