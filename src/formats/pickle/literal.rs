//! Literal decoding: protocol-0 quoted strings and raw-unicode-escape text, Python ints of any size
//! (two's complement bytes <-> decimal), and Python's float spelling.

use std::borrow::Cow;

/// Most decimal digits converted between text and int (Python's own default limit,
/// `sys.int_info.default_max_str_digits`): both conversions are quadratic in the length.
pub const MAX_INT_DIGITS: usize = 4300;

/// A protocol-0 STRING argument: a Python quoted literal with backslash escapes.
pub fn unquote(line: &[u8]) -> Option<Vec<u8>> {
    let q = *line.first()?;
    if !(q == b'\'' || q == b'"') || line.len() < 2 || *line.last()? != q {
        return None;
    }
    let body = &line[1..line.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = *body.get(i)?;
        i += 1;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'\n' => {}
            b'x' => {
                let h = std::str::from_utf8(body.get(i..i + 2)?).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 2;
            }
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match body.get(i) {
                        Some(&d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            other => {
                if !matches!(other, b'\\' | b'\'' | b'"') {
                    out.push(b'\\');
                }
                out.push(other);
            }
        }
    }
    Some(out)
}

/// A protocol-0 UNICODE argument: latin-1 bytes with `\uXXXX` and `\UXXXXXXXX` escapes.
pub fn raw_unicode_escape(line: &[u8]) -> Option<Cow<'_, str>> {
    if line.is_ascii() && !line.contains(&b'\\') {
        return std::str::from_utf8(line).ok().map(Cow::Borrowed);
    }
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let c = line[i];
        let n = match (c, line.get(i + 1)) {
            (b'\\', Some(b'u')) => 4,
            (b'\\', Some(b'U')) => 8,
            _ => 0,
        };
        if n > 0 {
            let h = std::str::from_utf8(line.get(i + 2..i + 2 + n)?).ok()?;
            let code = u32::from_str_radix(h, 16).ok()?;
            // CPython decodes `\ud800` to a lone surrogate, which no Rust string holds: U+FFFD
            // stands for it (a name holding one imports nothing in CPython either)
            out.push(if (0xd800..0xe000).contains(&code) {
                char::REPLACEMENT_CHARACTER
            } else {
                char::from_u32(code)?
            });
            i += 2 + n;
        } else {
            out.push(char::from(c));
            i += 1;
        }
    }
    Some(Cow::Owned(out))
}

/// Whether `b` is UTF-8 as CPython decodes pickle text (`surrogatepass`): valid UTF-8 except for
/// encoded surrogates (`ED A0..BF 80..BF`), which BINUNICODE may carry.
pub fn is_surrogatepass_utf8(mut b: &[u8]) -> bool {
    loop {
        match std::str::from_utf8(b) {
            Ok(_) => return true,
            Err(e) => {
                let at = e.valid_up_to();
                match b.get(at..at + 3) {
                    Some([0xed, 0xa0..=0xbf, 0x80..=0xbf]) => b = &b[at + 3..],
                    _ => return false,
                }
            }
        }
    }
}

/// The text of [`is_surrogatepass_utf8`] bytes, each encoded surrogate as U+FFFD characters.
pub fn surrogatepass_lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Python's float repr for the common cases (`1.0`, `0.001`, `1e+300`, `inf`, `nan`).
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e16).contains(&a) {
        let s = format!("{f:e}");
        return match s.split_once('e') {
            Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e:0>2}"),
            Some((m, e)) => format!("{m}e-{:0>2}", &e[1..]),
            None => s,
        };
    }
    let s = format!("{f}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

/// Little-endian two's complement bytes of a decimal integer text (`-123`), `None` when not one or
/// longer than [`MAX_INT_DIGITS`] digits.
pub fn decimal_to_long(text: &str) -> Option<Vec<u8>> {
    if text.len() > MAX_INT_DIGITS + 1 {
        return None;
    }
    let (neg, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() {
        return None;
    }
    let mut mag: Vec<u8> = vec![0];
    for c in digits.bytes().filter(|&c| c != b'_') {
        if !c.is_ascii_digit() {
            return None;
        }
        let mut carry = u32::from(c - b'0');
        for x in mag.iter_mut() {
            let v = u32::from(*x) * 10 + carry;
            *x = v as u8;
            carry = v >> 8;
        }
        if carry > 0 {
            mag.push(carry as u8);
        }
    }
    mag.push(0); // room for the sign bit
    if neg {
        let mut carry = true;
        for x in mag.iter_mut() {
            *x = !*x;
            if carry {
                let (v, c) = x.overflowing_add(1);
                *x = v;
                carry = c;
            }
        }
    }
    Some(mag)
}

/// Decimal text of a big int given as LONG bytes (little-endian two's complement); beyond
/// [`MAX_INT_DIGITS`] digits only its size (`<int of 4096 bytes>`).
pub fn big_int_text(b: &[u8]) -> String {
    // 2.41 digits per byte: 1784 bytes make at most 4300 digits
    if b.len() > MAX_INT_DIGITS * 100 / 241 {
        return format!("<int of {} bytes>", b.len());
    }
    let neg = b.last().is_some_and(|&x| x & 0x80 != 0);
    // magnitude in little-endian u32 limbs, then repeated division by 10^9
    let mut bytes = b.to_vec();
    if neg {
        let mut carry = true;
        for x in bytes.iter_mut() {
            *x = !*x;
            if carry {
                let (v, c) = x.overflowing_add(1);
                *x = v;
                carry = c;
            }
        }
    }
    let mut limbs: Vec<u32> = bytes
        .chunks(4)
        .map(|c| {
            let mut a = [0u8; 4];
            a[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(a)
        })
        .collect();
    let mut parts = Vec::new();
    while limbs.iter().any(|&l| l != 0) {
        let mut rem: u64 = 0;
        for l in limbs.iter_mut().rev() {
            let cur = (rem << 32) | u64::from(*l);
            *l = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        parts.push(rem);
    }
    let mut s = if neg { "-".to_string() } else { String::new() };
    match parts.split_last() {
        None => s.push('0'),
        Some((top, rest)) => {
            s.push_str(&top.to_string());
            for p in rest.iter().rev() {
                s.push_str(&format!("{p:09}"));
            }
        }
    }
    s
}

/// LONG1/LONG4 bytes as an i64 when they fit.
pub fn long_to_i64(b: &[u8]) -> Option<i64> {
    if b.len() > 8 {
        // sign extension bytes beyond 8 are allowed if they match
        let (lo, hi) = b.split_at(8);
        let sign = if lo[7] & 0x80 != 0 { 0xff } else { 0 };
        if hi.iter().any(|&x| x != sign) {
            return None;
        }
        return long_to_i64(lo);
    }
    if b.is_empty() {
        return Some(0);
    }
    let fill = if b[b.len() - 1] & 0x80 != 0 { 0xff } else { 0 };
    let mut a = [fill; 8];
    a[..b.len()].copy_from_slice(b);
    Some(i64::from_le_bytes(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bytes_decode() {
        assert_eq!(long_to_i64(&[]), Some(0));
        assert_eq!(long_to_i64(&[0xff]), Some(-1));
        assert_eq!(long_to_i64(&[0xff, 0x00]), Some(255));
        assert_eq!(long_to_i64(&[0, 0, 0, 0, 0, 1]), Some(1 << 40));
        assert_eq!(long_to_i64(&[0, 0, 0, 0, 0, 0, 0, 0x80, 0xff]), Some(i64::MIN));
        assert_eq!(long_to_i64(&[0, 0, 0, 0, 0, 0, 0, 0, 1]), None);
        // 2**200 and -2**70
        let mut b = vec![0u8; 26];
        b[25] = 1;
        assert_eq!(
            big_int_text(&b),
            "1606938044258990275541962092341162602522202993782792835301376"
        );
        let mut n = vec![0u8; 9];
        n[8] = 0xc0;
        assert_eq!(big_int_text(&n), "-1180591620717411303424");
        let b = decimal_to_long("-123456789012345678901234").unwrap();
        assert_eq!(big_int_text(&b), "-123456789012345678901234");
        assert_eq!(long_to_i64(&decimal_to_long("-5").unwrap()), Some(-5));
        assert_eq!(long_to_i64(&decimal_to_long("255").unwrap()), Some(255));
        assert_eq!(decimal_to_long("1x"), None);
    }

    #[test]
    fn int_text_conversions_stop_at_python_s_digit_limit() {
        // both directions are quadratic: a 200k-digit LONG line took minutes before the limit
        let t = std::time::Instant::now();
        assert!(decimal_to_long(&"7".repeat(MAX_INT_DIGITS)).is_some());
        assert_eq!(decimal_to_long(&"7".repeat(200_000)), None);
        assert_eq!(big_int_text(&vec![0x55; 100_000]), "<int of 100000 bytes>");
        assert_eq!(big_int_text(&[0x55; 1784]).len(), 4296);
        assert!(t.elapsed() < std::time::Duration::from_secs(60));
    }

    #[test]
    fn floats_print_like_python() {
        assert_eq!(float_repr(1.0), "1.0");
        assert_eq!(float_repr(0.001), "0.001");
        assert_eq!(float_repr(1e-5), "1e-05");
        assert_eq!(float_repr(-1e300), "-1e+300");
        assert_eq!(float_repr(f64::NAN), "nan");
        assert_eq!(float_repr(0.9), "0.9");
    }

    #[test]
    fn protocol_0_literals() {
        assert_eq!(unquote(b"'a\\n\\x41\\101\\''").unwrap(), b"a\nAA'");
        assert!(unquote(b"'open").is_none());
        assert_eq!(raw_unicode_escape(b"caf\\u00e9 \xe9").unwrap(), "caf\u{e9} \u{e9}");
    }
}
