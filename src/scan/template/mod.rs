//! Chat templates judged by their syntax tree, as an allowlist.
//!
//! A chat template is Jinja code that servers render on every request. Its text proves nothing:
//! a dunder name can be built while it renders (`{% set u = "_" %}` then `u ~ u ~ "init" ~ u ~ u`,
//! `'%c%c'|format(95,95)`, `['_','_']|join`), a gadget global can be renamed
//! (`{% set c = cycler %}`). So the template is parsed with the `minijinja` parser (the same
//! language as Jinja2) and the tree is walked ([`judge`]): names are followed through `set`,
//! loops, lists, maps and macros, and strings are folded where their pieces are known.
//!
//! Findings:
//! - **dangerous**: an attribute or item name (also through `attr`, `map(attribute=…)`,
//!   `selectattr`, `str.format` fields) that starts with `_` or names a Python internal
//!   (`mro`, `gi_frame`, `f_globals`, …), whether written out or folded from its pieces; a name
//!   computed at render time from pieces that can spell `_` (format, join, replace, macro output,
//!   …); a Jinja global (`cycler`, `joiner`, `namespace`, `lipsum`, `range`, `dict`) used as a
//!   value rather than called (an alias, attribute or item access); `str.format` on a string the
//!   template does not fix;
//! - **suspicious**: any other name computed at render time; `self`; filters, tests and methods
//!   outside the list real chat templates use ([`names`]); `include`, `import`, `extends`; unbounded
//!   work inside the sandbox (a string or list repeated past [`MAX_REPEAT_BYTES`], a `range`
//!   past [`MAX_RANGE`], nested constant loops past [`MAX_LOOP_WORK`], a power with a large or
//!   computed exponent, a padding width past [`MAX_WIDTH`]); a template that does not parse, is
//!   larger than [`MAX_TEMPLATE_BYTES`], or holds an expression of more than
//!   [`MAX_EXPR_TOKENS`] tokens (the parse depth bound: the parser itself stops at 150 nested
//!   brackets or statements).
//!
//! A template with no finding is safe. The walk never renders anything.

mod char_names;
mod jinja2;
mod judge;
pub(crate) mod names;

use super::Severity;
use minijinja::machinery::{Token, parse, tokenize};
use minijinja::syntax::SyntaxConfig;

/// Largest template checked; a larger one is suspicious unchecked (real ones are under 64 KiB).
pub const MAX_TEMPLATE_BYTES: usize = 1 << 20;
/// Most tokens in one `{{ … }}` or `{% … %}` block: bounds the depth of an expression's tree
/// (postfix and operator chains are parsed by loops, not recursion, so the parser's own limit
/// does not cover them).
pub const MAX_EXPR_TOKENS: usize = 4096;
/// Most bytes a string or list repetition (`'A' * n`) may ask for.
pub const MAX_REPEAT_BYTES: u128 = 1 << 20;
/// Largest constant `range`.
pub const MAX_RANGE: u128 = 100_000;
/// Most iterations of nested loops whose counts the template fixes.
pub const MAX_LOOP_WORK: u128 = 10_000_000;
/// Largest padding width (`center`, `indent`, `%999s`, `{:999}`).
pub const MAX_WIDTH: u128 = 10_000;
/// Stack of the thread that parses and walks one template.
const STACK_BYTES: usize = 64 << 20;

/// One finding in a template: byte offset, severity, why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hit {
    pub(crate) offset: usize,
    pub(crate) severity: Severity,
    pub(crate) why: String,
}

impl Hit {
    fn suspicious(offset: usize, why: impl Into<String>) -> Hit {
        Hit {
            offset,
            severity: Severity::Suspicious,
            why: why.into(),
        }
    }
}

/// Everything in one template that is not on the allowlist, in order of offset.
pub(crate) fn check(t: &str) -> Vec<Hit> {
    if t.len() > MAX_TEMPLATE_BYTES {
        return vec![Hit::suspicious(
            0,
            format!(
                "the template is {} bytes, over the {MAX_TEMPLATE_BYTES}-byte limit of the check (not checked)",
                t.len()
            ),
        )];
    }
    // the text as Jinja2 reads it (string escapes decoded, Python whitespace in tags made ASCII)
    let reading = jinja2::read(t);
    let text = without_generation_tags(&reading.text);
    let mut hits = match too_long_expression(&text) {
        Some(h) => vec![h],
        None => {
            // the tree is deep only within the limits above, but its walk and drop recurse: a
            // thread with a known stack keeps that off the caller's
            let run = std::thread::Builder::new()
                .name("template-check".into())
                .stack_size(STACK_BYTES)
                .spawn(move || parse_and_judge(&text));
            match run.map(|h| h.join()) {
                Ok(Ok(hits)) => hits,
                _ => vec![Hit::suspicious(0, "the template check could not run (not checked)")],
            }
        }
    };
    for h in &mut hits {
        let mut at = reading.source_offset(h.offset).min(t.len());
        while !t.is_char_boundary(at) {
            at -= 1;
        }
        h.offset = at;
    }
    hits.extend(reading.hits);
    hits.sort_by_key(|h| h.offset);
    hits.dedup_by(|a, b| a.offset == b.offset && a.why == b.why);
    hits
}

fn parse_and_judge(text: &str) -> Vec<Hit> {
    let tree = match parse(text, "<template>", SyntaxConfig::default()) {
        Ok(tree) => tree,
        Err(e) => {
            let offset = e.range().map_or(0, |r| r.start);
            let why = format!(
                "the template does not parse as Jinja ({}): what a renderer would make of it is unknown",
                e.detail().unwrap_or("syntax error")
            );
            return vec![Hit::suspicious(offset, why)];
        }
    };
    let mut hits = judge::judge(&tree);
    hits.sort_by_key(|h| h.offset);
    hits.dedup_by(|a, b| a.offset == b.offset && a.why == b.why);
    hits
}

/// The first block of more than [`MAX_EXPR_TOKENS`] tokens, or a lexer error, as a finding.
fn too_long_expression(t: &str) -> Option<Hit> {
    let mut start = 0;
    let mut count = 0usize;
    for tok in tokenize(t, false, SyntaxConfig::default()) {
        let (tok, span) = match tok {
            Ok(x) => x,
            Err(e) => {
                let why = format!(
                    "the template does not parse as Jinja ({}): what a renderer would make of it is unknown",
                    e.detail().unwrap_or("syntax error")
                );
                return Some(Hit::suspicious(e.range().map_or(0, |r| r.start), why));
            }
        };
        match tok {
            Token::VariableStart | Token::BlockStart => {
                start = span.start_offset as usize;
                count = 0;
            }
            _ => count += 1,
        }
        if count > MAX_EXPR_TOKENS {
            return Some(Hit::suspicious(
                start,
                format!("an expression of more than {MAX_EXPR_TOKENS} tokens (the limit of the check; not checked)"),
            ));
        }
    }
    None
}

/// transformers' `{% generation %}` … `{% endgeneration %}` (its AssistantTracker extension marks
/// assistant text for training masks; it renders its body unchanged) blanked out as comments of
/// the same length, so that offsets stay true. Any other unknown tag still fails the parse.
fn without_generation_tags(t: &str) -> String {
    let mut out = t.to_owned();
    let mut from = 0;
    while let Some(i) = out[from..].find("{%").map(|i| i + from) {
        // the closing `%}` after the opening one (`{%}` holds both, overlapping)
        let Some(end) = out[i + 2..].find("%}").map(|e| i + 2 + e + 2) else {
            break;
        };
        let inner = out[i + 2..end - 2].trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        if inner == "generation" || inner == "endgeneration" {
            let blank = format!("{{#{}#}}", " ".repeat(end - i - 4));
            out.replace_range(i..end, &blank);
        }
        from = end;
    }
    out
}

#[cfg(test)]
mod tests;
