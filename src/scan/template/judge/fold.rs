//! Strings folded the way Jinja would build them (printf `%`, `str.format`), and the widths and
//! fields those formats ask for.

use minijinja::machinery::ast::Expr;

use super::val::{MAX_FOLD, Val};

pub(super) fn const_str(e: &Expr<'_>) -> Option<String> {
    match e {
        Expr::Const(c) => c.value.as_str().map(str::to_owned),
        _ => None,
    }
}

/// The widest padding in a printf (`%`) or format (`:`) string: digits after the marker (past
/// flags, a fill character and an alignment) that a conversion or the field's end follows.
pub(super) fn widest(f: &str, marker: char) -> Option<u128> {
    let mut best: Option<u128> = None;
    for piece in f.split(marker).skip(1) {
        let lead = piece
            .chars()
            .take(3)
            .take_while(|c| !c.is_ascii_digit() || *c == '0')
            .map(char::len_utf8)
            .sum::<usize>();
        let rest = &piece[lead..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).take(40).collect();
        let after = rest[digits.len()..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
        if !after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '}') {
            continue;
        }
        let w = if digits.len() > 38 {
            Some(u128::MAX)
        } else {
            digits.parse::<u128>().ok()
        };
        if let Some(w) = w {
            best = Some(best.map_or(w, |b| b.max(w)));
        }
    }
    best
}

/// `fmt % args` folded for `%s`, `%c`, `%d` and `%%` with known arguments.
pub(super) fn fold_printf(f: &str, args: &[Val]) -> Option<String> {
    let mut out = String::new();
    let mut chars = f.chars();
    let mut next = args.iter();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let a = match chars.next()? {
            '%' => {
                out.push('%');
                continue;
            }
            spec => (spec, next.next()?),
        };
        match a {
            ('s', v) => out.push_str(v.known.as_ref().filter(|k| k.len() == 1)?.first()?),
            ('c', v) => out.push(char::from_u32(u32::try_from(v.int?).ok()?)?),
            ('d', v) => out.push_str(&v.int?.to_string()),
            _ => return None,
        }
        if out.len() > MAX_FOLD {
            return None;
        }
    }
    Some(out)
}

/// `'{0}{}'.format(args)` folded for plain positional fields with known single-string arguments.
pub(super) fn fold_format(f: &str, args: &[Val]) -> Option<String> {
    let mut out = String::new();
    let mut rest = f;
    let mut auto = 0;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let r = &rest[i..];
        if r.starts_with("{{") || r.starts_with("}}") {
            out.push(r.as_bytes()[0] as char);
            rest = &r[2..];
            continue;
        }
        let end = r.find('}')?;
        let field = &r[1..end];
        let idx = if field.is_empty() {
            auto += 1;
            auto - 1
        } else {
            field.parse::<usize>().ok()?
        };
        let v = args.get(idx)?;
        out.push_str(v.known.as_ref().filter(|k| k.len() == 1)?.first()?);
        rest = &r[end + 1..];
    }
    out.push_str(rest);
    (out.len() <= MAX_FOLD).then_some(out)
}

/// The first replacement field of a format string that reads an attribute or item (`{0.x}`,
/// `{a[b]}`).
pub(super) fn format_field_access(f: &str) -> Option<String> {
    let mut rest = f;
    while let Some(i) = rest.find('{') {
        let r = &rest[i + 1..];
        if let Some(r2) = r.strip_prefix('{') {
            rest = r2;
            continue;
        }
        let end = r.find(['}', ':', '!']).unwrap_or(r.len());
        let field = &r[..end];
        if field.contains(['.', '[']) {
            return Some(field.chars().take(60).collect());
        }
        rest = &r[end..];
    }
    None
}
