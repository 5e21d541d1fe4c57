//! numpy `.npy` headers, read far enough to know where the data starts and whether it is a pickle.
//!
//! An `.npy` file is `\x93NUMPY`, a version (1.0, 2.0 or 3.0), a header length (2 bytes in 1.0, 4
//! bytes after), and a Python dict literal such as `{'descr': '<f4', 'fortran_order': False,
//! 'shape': (3,), }`. When the dtype holds objects (`'O'`, also inside a structured dtype) the data
//! is a pickle written by `pickle.dump`, which `numpy.load(allow_pickle=True)` unpickles.

use super::pyliteral::{self, Lit};

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
    header_dict(data).map(|(h, _)| h)
}

/// [`header`], with the whole header dict as `ast.literal_eval` reads it (`shape`,
/// `fortran_order`, the `descr` literal), for the reader that lists the array as a tensor.
pub fn header_dict(data: &[u8]) -> Result<(Header, Lit), String> {
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
        return Err(format!(
            ".npy header of {}, which exceeds the limit of {} (a fixed limit; numpy writes a few hundred \
             bytes): the file is damaged",
            crate::text::bytes(len as u64),
            crate::text::bytes(MAX_HEADER as u64)
        ));
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
    // numpy reads the header with ast.literal_eval: parse it the same way (escapes, implicit
    // concatenation, a repeated key whose last value wins), never by searching the text
    let text = text.trim_end_matches(['\n', ' ', '\0']);
    let dict = pyliteral::parse(text)
        .or_else(|e| match major {
            // np.load retries a 1.0 or 2.0 header without Python 2's `L` suffixes
            1 | 2 => pyliteral::parse_py2(text).map_err(|_| e),
            _ => Err(e),
        })
        .map_err(|e| format!(".npy header is not a Python literal: {e}"))?;
    let descr = dict.get("descr").ok_or(".npy header has no 'descr' entry")?;
    let object = may_hold_objects(descr, 0);
    let header = Header {
        version: (major, minor),
        descr: show(descr),
        object,
        data_offset: end,
    };
    Ok((header, dict))
}

/// The descr as Python would print it (for messages).
fn show(v: &Lit) -> String {
    match v {
        Lit::Str(s) => format!("'{s}'"),
        Lit::Bytes(b) => format!("b'{}'", String::from_utf8_lossy(b)),
        Lit::Tuple(t) | Lit::List(t) => {
            let parts: Vec<String> = t.iter().map(show).collect();
            let (o, c) = if matches!(v, Lit::Tuple(_)) {
                ("(", ")")
            } else {
                ("[", "]")
            };
            format!("{o}{}{c}", parts.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// Whether numpy's `descr_to_dtype(descr)` could hold Python objects: a dtype string is plain only
/// when it is one of the known non-object spellings; anything else (`'O'`, `'object'`, a
/// comma-separated format, a code this function does not know) counts as objects, which only
/// makes the scan read the data as a pickle.
fn may_hold_objects(v: &Lit, depth: usize) -> bool {
    if depth > 16 {
        return true;
    }
    match v {
        Lit::Str(s) => !plain_code(s),
        Lit::Bytes(b) => std::str::from_utf8(b).map_or(true, |s| !plain_code(s)),
        // (base, shape) subarray
        Lit::Tuple(t) if t.len() == 2 && !matches!(t[0], Lit::Tuple(_)) => may_hold_objects(&t[0], depth + 1),
        // fields: (name, descr) or (name, descr, shape)
        Lit::List(fields) => fields.iter().any(|f| match f {
            Lit::Tuple(p) | Lit::List(p) if p.len() == 2 || p.len() == 3 => may_hold_objects(&p[1], depth + 1),
            _ => true,
        }),
        _ => true,
    }
}

/// A dtype string numpy reads as a plain (non-object) type: a byte-order mark, one type letter and
/// an optional size, or a datetime with its unit.
fn plain_code(s: &str) -> bool {
    let s = s.strip_prefix(['<', '>', '|', '=']).unwrap_or(s);
    let mut chars = s.chars();
    let Some(c) = chars.next() else { return false };
    let rest = chars.as_str();
    match c {
        'M' | 'm' => {
            let r = rest.strip_prefix('8').unwrap_or(rest);
            r.is_empty()
                || r.starts_with('[')
                    && r.ends_with(']')
                    && r[1..r.len() - 1].chars().all(|c| c.is_ascii_alphanumeric())
        }
        'b' | 'B' | 'h' | 'H' | 'i' | 'I' | 'l' | 'L' | 'q' | 'Q' | 'p' | 'P' | 'e' | 'f' | 'd' | 'g' | 'F' | 'D'
        | 'G' | 'S' | 'U' | 'a' | 'V' | 'c' | 'u' | '?' => rest.bytes().all(|b| b.is_ascii_digit()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_2_longs_are_read_as_np_load_retries_them() {
        // numpy 1.x on Python 2 could write `(3L,)`: np.load drops the L for versions 1.0 and 2.0
        for major in [1, 2] {
            let h = header(&npy(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }",
                major,
            ))
            .unwrap();
            assert!(!h.object);
            let h = header(&npy("{'descr': '|O', 'fortran_order': False, 'shape': (3L,), }", major)).unwrap();
            assert!(h.object);
        }
        assert!(header(&npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }", 3)).is_err());
        assert_eq!(
            pyliteral::parse_py2("(3L, 0x1L, 2)").unwrap(),
            Lit::Tuple(vec![Lit::Int(Some(3)), Lit::Int(Some(1)), Lit::Int(Some(2))])
        );
        assert!(pyliteral::parse("(3L,)").is_err());
    }

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
        for tricky in [
            "'object'",
            "'|\\x4f'",
            "'obj' 'ect'",
            "'<f4', 'descr': 'O'",
            "'f4,O'",
            "[(\"'descr': '<f4'\", '|O')]",
        ] {
            let text = format!("{{'descr': {tricky}, 'fortran_order': False, 'shape': (1,), }}");
            assert!(header(&npy(&text, 1)).unwrap().object, "{text}");
        }
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
