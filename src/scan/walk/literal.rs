//! Protocol-0 text arguments as the scanner reads them: the reader's own decoders
//! ([`crate::formats::pickle::literal`]), made lenient so that a name is still reported when its text is odd.

use crate::formats::pickle::literal;

/// Decode a protocol-0 STRING argument (a quoted Python literal with backslash escapes); a trailing
/// `\r` (a file written with Windows line ends) is ignored.
pub fn string_literal(line: &[u8]) -> Option<String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    literal::unquote(line).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// Decode a protocol-0 UNICODE argument (raw-unicode-escape); text with a broken escape is read as
/// plain latin-1 so that whatever it names is still reported.
pub fn raw_unicode_escape(line: &[u8]) -> String {
    literal::raw_unicode_escape(line)
        .map(|c| c.into_owned())
        .unwrap_or_else(|| line.iter().map(|&b| char::from(b)).collect())
}
