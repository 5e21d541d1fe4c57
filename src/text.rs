//! Names are data, not terminal commands: helpers that make untrusted text safe to print.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::Path;

/// The widest column a plain-text table pads to.
pub const MAX_COLUMN: usize = 1024;

/// `w` as a padding width for `{:<w$}`: at most [`MAX_COLUMN`]. The standard formatter panics on a
/// width over 65,535, and a name from a file can be longer than that; a cell wider than the column
/// is printed whole, unpadded.
///
/// ```
/// assert_eq!(tensorscope::text::column(12), 12);
/// assert_eq!(tensorscope::text::column(70_000), tensorscope::text::MAX_COLUMN);
/// ```
pub fn column(w: usize) -> usize {
    w.min(MAX_COLUMN)
}

/// Escape control characters (C0, DEL, C1 and bidi/format controls) so that a name from a file can be
/// printed to a terminal without moving the cursor, changing colours or reordering text.
/// Printable text, including non-ASCII letters and the backslash, is left as is, so that what is
/// printed can be searched for in the file: a chat template's `\x5f` prints as `\x5f`. (The price: a
/// name holding the four characters `\x1b` prints as an escaped ESC does; both are harmless.)
/// Call it once, where the text is printed.
///
/// ```
/// assert_eq!(tensorscope::text::escape("a\x1b[2Jb"), "a\\x1b[2Jb");
/// assert_eq!(tensorscope::text::escape("attr('\\x5f')"), "attr('\\x5f')");
/// assert_eq!(tensorscope::text::escape("plain.weight"), "plain.weight");
/// ```
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            let n = c as u32;
            if n <= 0xff {
                let _ = write!(out, "\\x{n:02x}");
            } else {
                let _ = write!(out, "\\u{{{n:04x}}}");
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        // zero-width and bidirectional formatting characters can hide or reorder text
        || matches!(c as u32, 0x200b..=0x200f | 0x202a..=0x202e | 0x2066..=0x2069 | 0xfeff)
}

/// A path for messages: escaped as [`escape`] does, each byte that is not UTF-8 written `\xNN`
/// (so `a\xe9.bin` and `a\xe8.bin` stay two names, where a lossy U+FFFD made them one).
pub fn path(p: &Path) -> String {
    os_text(p.as_os_str())
}

/// A file name (or any OS string) as [`path`] prints it.
pub fn os_text(s: &std::ffi::OsStr) -> String {
    escape(&os_lossless(s)).into_owned()
}

/// An OS string as text, each byte that is not UTF-8 written `\xNN` (not yet escaped: a label
/// kept in a report, escaped where it is printed).
pub fn os_lossless(s: &std::ffi::OsStr) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        lossless(s.as_bytes())
    }
    #[cfg(not(unix))]
    {
        s.to_string_lossy().into_owned()
    }
}

/// Bytes as text, each byte that is not UTF-8 written `\xNN` (control characters are left for
/// [`escape`], where the text is printed).
///
/// ```
/// assert_eq!(tensorscope::text::lossless(b"w\xff"), "w\\xff");
/// assert_eq!(tensorscope::text::lossless("é".as_bytes()), "é");
/// ```
pub fn lossless(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Human byte count with binary-free SI units as users of model hubs expect (`497.8 MB`).
///
/// ```
/// assert_eq!(tensorscope::text::bytes(497_759_232), "497.8 MB");
/// assert_eq!(tensorscope::text::bytes(u64::MAX), "18.4 EB");
/// ```
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `n`, a size past `limit`, as [`bytes`] writes it, or in exact bytes where both would read alike
/// (`100000001 bytes`, not `100.0 MB` over a limit of `100.0 MB`).
///
/// ```
/// assert_eq!(tensorscope::text::size_past(5_000_000, 1_000_000), "5.0 MB");
/// assert_eq!(tensorscope::text::size_past(100_000_001, 100_000_000), "100000001 bytes");
/// ```
pub fn size_past(n: u64, limit: u64) -> String {
    let shown = bytes(n);
    if shown == bytes(limit) {
        format!("{n} bytes")
    } else {
        shown
    }
}

/// A count with thousands separators, the one number format of the CLI: `22713728` -> `22,713,728`.
///
/// ```
/// assert_eq!(tensorscope::text::count(22_713_728), "22,713,728");
/// assert_eq!(tensorscope::text::count(999), "999");
/// ```
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` and a noun, singular or plural as English wants it: `1 tensor`, `2 tensors`, `1,024 files`.
/// Nouns that end in `s`, `x` or `sh` take `es`.
///
/// ```
/// assert_eq!(tensorscope::text::plural(1, "tensor"), "1 tensor");
/// assert_eq!(tensorscope::text::plural(2000, "file"), "2,000 files");
/// assert_eq!(tensorscope::text::plural(0, "match"), "0 matches");
/// ```
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        return format!("1 {noun}");
    }
    let es = noun.ends_with('s') || noun.ends_with('x') || noun.ends_with("sh") || noun.ends_with("ch");
    format!("{} {noun}{}", count(n), if es { "es" } else { "s" })
}

/// `n` as an English ordinal: `2nd`, `3rd`, `4th`, `11th`, `21st`.
///
/// ```
/// assert_eq!(tensorscope::text::ordinal(2), "2nd");
/// assert_eq!(tensorscope::text::ordinal(12), "12th");
/// assert_eq!(tensorscope::text::ordinal(23), "23rd");
/// ```
pub fn ordinal(n: u64) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Parse a size such as `5GB`, `500MB`, `10KiB`, `123` (bytes).
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        "t" | "tb" => 1_000_000_000_000,
        "tib" => 1 << 40,
        _ => return None,
    };
    let v = num * mult as f64;
    (v.is_finite() && v >= 0.0 && v < u64::MAX as f64).then_some(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls() {
        assert_eq!(escape("x\0y"), "x\\x00y");
        assert_eq!(escape("\u{202e}abc"), "\\u{202e}abc");
        // a backslash is text: escaped once, it stays one backslash (searchable in the file)
        assert_eq!(escape("a\\b"), "a\\b");
        assert!(matches!(escape("attr('\\x5f\\x5f')"), Cow::Borrowed(_)));
        assert_eq!(escape("\\x1b\x1b"), "\\x1b\\x1b");
        assert_eq!(escape("ünïcode.weight"), "ünïcode.weight");
        assert_eq!(escape("\u{9b}"), "\\x9b");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("5GB"), Some(5_000_000_000));
        assert_eq!(parse_size("1.5MB"), Some(1_500_000));
        assert_eq!(parse_size("10KiB"), Some(10_240));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("x"), None);
        assert_eq!(bytes(497_755_648), "497.8 MB");
        assert_eq!(bytes(12), "12 B");
    }
}

/// The UTC calendar date and time of `secs` seconds since 1970: `(year, month, day, hour, minute,
/// second)`, proleptic Gregorian (Howard Hinnant's civil-from-days algorithm).
pub fn utc(secs: u64) -> (i64, i64, i64, u64, u64, u64) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3_600, rem % 3_600 / 60, rem % 60)
}

#[cfg(test)]
mod utc_tests {
    #[test]
    fn civil_dates_across_leap_years_and_centuries() {
        assert_eq!(super::utc(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(super::utc(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(super::utc(1_796_608_500), (2026, 12, 7, 1, 55, 0));
        assert_eq!(super::utc(4_107_542_399), (2100, 2, 28, 23, 59, 59));
    }
}
