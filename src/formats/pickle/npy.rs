//! numpy `.npy` headers, read far enough to know where the data starts and whether it is a pickle.
//!
//! An `.npy` file is `\x93NUMPY`, a version (1.0, 2.0 or 3.0), a header length (2 bytes in 1.0, 4
//! bytes after), and a Python dict literal such as `{'descr': '<f4', 'fortran_order': False,
//! 'shape': (3,), }`. When the dtype holds objects (`'O'`, also inside a structured dtype) the data
//! is a pickle written by `pickle.dump`, which `numpy.load(allow_pickle=True)` unpickles.

/// Longest header accepted (numpy itself refuses more than 10 000 bytes unless told otherwise).
pub const MAX_HEADER: usize = 1 << 20;

/// The magic string of `.npy` files.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// What the header of an `.npy` file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Format version (major, minor).
    pub version: (u8, u8),
    /// The `descr` value as written (a dtype string or a list of fields).
    pub descr: String,
    /// Whether the dtype holds Python objects: the data is then a pickle.
    pub object: bool,
    /// Offset of the data (just past the header).
    pub data_offset: usize,
}

/// Parse the header of the `.npy` bytes in `data`; the error is one line.
///
/// ```
/// let mut f = b"\x93NUMPY\x01\x00".to_vec();
/// let dict = b"{'descr': '|O', 'fortran_order': False, 'shape': (2,), }\n";
/// f.extend_from_slice(&(dict.len() as u16).to_le_bytes());
/// f.extend_from_slice(dict);
/// let h = tensorscope::formats::pickle::npy::header(&f).unwrap();
/// assert!(h.object);
/// assert_eq!(h.data_offset, f.len());
/// ```
pub fn header(data: &[u8]) -> Result<Header, String> {
    if !data.starts_with(MAGIC) {
        return Err("not an .npy file (no \\x93NUMPY magic)".into());
    }
    let (Some(&major), Some(&minor)) = (data.get(6), data.get(7)) else {
        return Err(".npy header is truncated".into());
    };
    let (len, start): (Option<usize>, usize) = match major {
        1 => (
            data.get(8..10).map(|b| usize::from(u16::from_le_bytes([b[0], b[1]]))),
            10,
        ),
        2 | 3 => (
            data.get(8..12)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize),
            12,
        ),
        v => return Err(format!(".npy format version {v}.{minor} is not known")),
    };
    let len = len.ok_or(".npy header is truncated")?;
    if len > MAX_HEADER {
        return Err(format!(".npy header of {len} bytes exceeds the limit of {MAX_HEADER}"));
    }
    let end = start
        .checked_add(len)
        .filter(|&e| e <= data.len())
        .ok_or(".npy header runs past the end of the file")?;
    let text: String = if major == 3 {
        String::from_utf8(data[start..end].to_vec()).map_err(|_| ".npy 3.0 header is not UTF-8")?
    } else {
        data[start..end].iter().map(|&b| char::from(b)).collect()
    };
    let descr = descr_of(&text).ok_or(".npy header has no 'descr' entry")?;
    let object = quoted(descr).any(is_object_code);
    Ok(Header {
        version: (major, minor),
        descr: descr.to_owned(),
        object,
        data_offset: end,
    })
}

/// The text of the `descr` value: up to the next top-level `,` of the dict.
fn descr_of(dict: &str) -> Option<&str> {
    let at = dict.find("'descr'").or_else(|| dict.find("\"descr\""))?;
    let rest = &dict[at + 7..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') if depth == 0 => return Some(rest[..i].trim()),
            (None, ')' | ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => return Some(rest[..i].trim()),
            _ => {}
        }
    }
    Some(rest.trim())
}

/// Every quoted string in `s`.
fn quoted(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let open = rest.find(['\'', '"'])?;
        let q = rest[open..].chars().next()?;
        let body = &rest[open + 1..];
        let close = body.find(q)?;
        let out = &body[..close];
        rest = &body[close + 1..];
        Some(out)
    })
}

/// `O`, `|O`, `<O8`: a dtype code for Python objects. Field names that happen to be `O` count
/// too, which only makes the scan read more.
fn is_object_code(s: &str) -> bool {
    let s = s.strip_prefix(['<', '>', '|', '=']).unwrap_or(s);
    s.strip_prefix('O')
        .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(dict: &str, major: u8) -> Vec<u8> {
        let mut f = MAGIC.to_vec();
        f.extend_from_slice(&[major, 0]);
        if major == 1 {
            f.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        } else {
            f.extend_from_slice(&(dict.len() as u32).to_le_bytes());
        }
        f.extend_from_slice(dict.as_bytes());
        f
    }

    #[test]
    fn plain_and_object_dtypes() {
        let h = header(&npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 1)).unwrap();
        assert!(!h.object);
        assert_eq!(h.descr, "'<f4'");
        assert!(
            header(&npy("{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", 1))
                .unwrap()
                .object
        );
        let structured = "{'descr': [('a', '<f4'), ('b', '|O')], 'fortran_order': False, 'shape': (2,), }";
        assert!(header(&npy(structured, 2)).unwrap().object);
        let named = "{'descr': [('Open', '<f4')], 'fortran_order': False, 'shape': (2,), }";
        assert!(!header(&npy(named, 3)).unwrap().object);
    }

    #[test]
    fn bad_headers_are_errors() {
        assert!(header(b"\x93NUMPY").is_err());
        assert!(header(b"\x93NUMPY\x09\x00\x00\x00").is_err());
        assert!(header(b"\x93NUMPY\x01\x00\xff\x00{'descr'").is_err());
        assert!(header(&npy("{'shape': (3,)}", 1)).is_err());
        assert!(header(b"PK\x03\x04").is_err());
    }
}
