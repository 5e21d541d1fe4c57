//! Protocol-0 text arguments (`INT`, `LONG`, `FLOAT`, memo indices) parsed as CPython's
//! unpicklers parse them: the C one through `strtol`, `PyOS_string_to_double` and
//! `PyLong_FromString`, the pure-Python one through `int()` and `float()`.

use super::{Arg, OpError, OpErrorKind, Reader};

/// The C-string view of a protocol-0 text argument: CPython's `INT`, `LONG` and `FLOAT` hand the
/// line to C parsers that stop at the first NUL, so whatever follows a NUL is never looked at (a
/// "header length" of `I1\0\0…` is an `INT` whose line runs on into the data).
fn c_string(line: &[u8]) -> &[u8] {
    line.iter().position(|&b| b == 0).map_or(line, |i| &line[..i])
}

/// Parse protocol-0 integer text exactly as CPython's `load_int` (C `strtol` with base 0, the line
/// ending at `\n` or a NUL, then `int(text, 0)` as a fallback) or `load_long` (a trailing `L`
/// removed, then `int(text, 0)`): `I0x1`, `I010` (octal for `strtol`), `I 7`, `I1\0junk`, `L0x1L`.
pub(super) fn int_text<'a>(r: &Reader<'a>, line: &'a [u8], long: bool) -> Result<Arg<'a>, OpError> {
    let bad = || r.err(OpErrorKind::BadText(r.op, "not an integer as Python reads it"));
    let line = if long {
        // `s[len - 2] == 'L'` looks at the byte before the newline, NUL or not
        line.strip_suffix(b"L").unwrap_or(line)
    } else {
        line
    };
    let c = std::str::from_utf8(c_string(line)).map_err(|_| bad())?;
    if !long && c.len() == 2 && (c == "00" || c == "01") {
        return Ok(Arg::Bool(c == "01"));
    }
    if !long && let Some(v) = c_strtol(c) {
        return Ok(Arg::Int(v));
    }
    let (v, huge) = py_int(c).ok_or_else(bad)?;
    match i64::try_from(v) {
        Ok(v) if !huge => Ok(Arg::Int(v)),
        _ => Ok(Arg::BigInt(c.trim_matches(py_space))),
    }
}

fn py_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// C `strtol(s, &end, 0)` that must consume all of `s` (the NUL or newline after it is the end);
/// `None` where CPython falls back to `int(text, 0)` (overflow, trailing text).
fn c_strtol(s: &str) -> Option<i64> {
    let t = s.trim_start_matches(py_space);
    if t.is_empty() {
        // no digits: `end` stays at the start, which is accepted only when it is the terminator
        return s.is_empty().then_some(0);
    }
    let (neg, t) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if h.starts_with(|c: char| c.is_ascii_hexdigit()) {
            (16, h)
        } else {
            return None;
        }
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    if digits.is_empty() && radix == 8 {
        return Some(0);
    }
    let v = i128::from_str_radix(digits, radix)
        .ok()
        .filter(|_| !digits.starts_with(['+', '-']))?;
    let v = if neg { -v } else { v };
    i64::try_from(v).ok()
}

/// Python's `int(text, 0)` on a C string: optional whitespace, a sign, `0x`/`0o`/`0b` or a decimal
/// without leading zeros, `_` between digits. Returns the value and whether it did not fit in an
/// `i128` (the value is then 0).
fn py_int(s: &str) -> Option<(i128, bool)> {
    py_int_base(s, None)
}

/// [`py_int`] with `Some(10)`: Python's `int(text, 10)` (`PyLong_FromString(s, NULL, 10)`), where no
/// prefix is read and leading zeros are allowed.
fn py_int_base(s: &str, base: Option<u32>) -> Option<(i128, bool)> {
    let t = s.trim_matches(py_space);
    let (neg, t) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = t.get(..2).map(str::to_ascii_lowercase);
    let (radix, body) = match (base, lower.as_deref()) {
        (Some(b), _) => (b, t),
        (None, Some("0x")) => (16, &t[2..]),
        (None, Some("0o")) => (8, &t[2..]),
        (None, Some("0b")) => (2, &t[2..]),
        _ => (10, t),
    };
    let body = if radix != 10 {
        body.strip_prefix('_').unwrap_or(body)
    } else {
        body
    };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let digits: String = body.chars().filter(|&c| c != '_').collect();
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    if base.is_none() && radix == 10 && digits.len() > 1 && digits.starts_with('0') && digits.chars().any(|c| c != '0')
    {
        return None;
    }
    match i128::from_str_radix(&digits, radix) {
        Ok(v) => Some((if neg { -v } else { v }, false)),
        Err(_) => Some((0, true)),
    }
}

/// Parse a protocol-0 memo index (`GET`, `PUT`) as CPython's `load_get` and `load_put` do:
/// `PyLong_FromString(line, NULL, 10)` on the C string (the line ends at `\n` or a NUL), so spaces
/// around it, a sign, `_` between digits and leading zeros are all accepted (`p1_0` stores at 10,
/// as `int("1_0")` does in the Python unpickler); a negative index is refused, as CPython refuses it.
///
/// An index past `Py_ssize_t` stops the C unpickler (OverflowError) but not the pure-Python one
/// (`pickle._Unpickler`, which joblib and pandas' fallback use), whose memo is a dict of any int:
/// such an index gets a key of its own at or above 2^63, where no index the C unpickler takes lies
/// (a hash of its digits), so the walk reads on as that reader does.
pub(super) fn memo_text(line: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(c_string(line)).ok()?;
    let (v, huge) = py_int_base(text, Some(10))?;
    // `-0` is index 0; any other negative index is an error in both unpicklers
    if v < 0 {
        return None;
    }
    if !huge
        && let Ok(v) = u64::try_from(v)
        && v <= i64::MAX as u64
    {
        return Some(v);
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_start_matches('0');
    let mut h = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(digits, &mut h);
    Some(1 << 63 | std::hash::Hasher::finish(&h) >> 1)
}

/// Parse protocol-0 float text as CPython's `load_float`: `PyOS_string_to_double` on the C string,
/// which must end at the newline or a NUL (no leading or trailing spaces).
pub(super) fn float_text(r: &Reader<'_>, line: &[u8]) -> Result<f64, OpError> {
    std::str::from_utf8(c_string(line))
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .or_else(|| py_float(line))
        .ok_or_else(|| r.err(OpErrorKind::BadText(r.op, "not a float as Python reads it")))
}

/// The pure-Python unpickler's `float(line)` (joblib.load's): surrounding whitespace (`\t`, `\v`,
/// `\f`, `\r` too) and underscores between digits, which the C unpickler refuses (`F1 \n`, `F1_0\n`).
fn py_float(line: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(line).ok()?;
    let t = text.trim_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let b = t.as_bytes();
    let underscores_ok = b.iter().enumerate().all(|(i, &c)| {
        c != b'_' || (i > 0 && b[i - 1].is_ascii_digit() && b.get(i + 1).is_some_and(u8::is_ascii_digit))
    });
    if !underscores_ok || t.contains('\0') {
        return None;
    }
    t.replace('_', "").parse::<f64>().ok()
}
