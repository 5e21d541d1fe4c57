//! The element type and layout of a numpy array, from its `.npy` header dict, as `np.load` reads
//! them: `descr` to a [`DType`], `shape`, `fortran_order`, and the byte size they make.

use super::npy::Header;
use super::pyliteral::Lit;
use crate::model::{DType, MAX_DIMS, contiguous_strides};

/// Big-endian spellings listed as they are (their values are not decoded in place).
const BIG_ENDIAN: [&str; 11] = [
    ">i2", ">u2", ">f2", ">i4", ">u4", ">f4", ">i8", ">u8", ">f8", ">c8", ">c16",
];

/// What the header says about the array.
#[derive(Debug)]
pub(super) struct Layout {
    /// Element type.
    pub dtype: DType,
    /// Shape, empty for a 0-d array.
    pub shape: Vec<u64>,
    /// Strides in elements (reversed for `fortran_order`).
    pub strides: Vec<u64>,
    /// Bytes of data the array takes after its header.
    pub nbytes: u64,
    /// Why its values are not decoded, when they are not (big-endian).
    pub note: Option<String>,
}

/// Why an array is not a tensor: its dtype is none tensorscope lists (objects, fields, strings).
#[derive(Debug)]
pub(super) struct NotTensor(pub String);

/// The layout of the array whose header is `h` and dict `dict`: `Ok(Err(_))` for an array of a
/// dtype that is no tensor's, `Err` for a header `np.load` refuses (the message is one line).
pub(super) fn layout(h: &Header, dict: &Lit) -> Result<Result<Layout, NotTensor>, String> {
    // np.load refuses a header with other keys than these three
    let mut keys = dict.keys();
    keys.sort_unstable();
    keys.dedup();
    if keys != ["descr", "fortran_order", "shape"] {
        return Err(format!(
            ".npy header keys are {keys:?}, not 'descr', 'fortran_order' and 'shape' (np.load refuses it)"
        ));
    }
    let fortran = match dict.get("fortran_order") {
        Some(Lit::Bool(b)) => *b,
        _ => return Err(".npy header's 'fortran_order' is not True or False (np.load refuses it)".into()),
    };
    let shape = shape(dict.get("shape"))?;
    let (dtype, note) = match dtype(h, dict.get("descr")) {
        Ok(d) => d,
        Err(why) => return Ok(Err(why)),
    };
    let overflow = || {
        format!(
            ".npy header's shape {} of {} overflows a 64-bit byte size: the header is damaged",
            show_shape(&shape),
            h.descr
        )
    };
    let numel = shape
        .iter()
        .try_fold(1u64, |a, &d| a.checked_mul(d))
        .ok_or_else(overflow)?;
    let nbytes = dtype.bytes_for(numel).ok_or_else(overflow)?;
    let strides = if fortran {
        let mut strides = Vec::with_capacity(shape.len());
        let mut acc = 1u64;
        for &d in &shape {
            strides.push(acc);
            acc = acc.saturating_mul(d.max(1));
        }
        strides
    } else {
        contiguous_strides(&shape).ok_or_else(overflow)?
    };
    Ok(Ok(Layout {
        dtype,
        shape,
        strides,
        nbytes,
        note,
    }))
}

/// `(2, 3)` as Python prints a shape.
pub(super) fn show_shape(shape: &[u64]) -> String {
    match shape {
        [one] => format!("({one},)"),
        _ => format!("({})", shape.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
    }
}

fn shape(v: Option<&Lit>) -> Result<Vec<u64>, String> {
    let Some(Lit::Tuple(dims)) = v else {
        return Err(".npy header's 'shape' is not a tuple (np.load refuses it)".into());
    };
    if dims.len() > MAX_DIMS {
        return Err(format!(
            ".npy header's shape has {} dimensions, more than the limit of {MAX_DIMS} (numpy's own limit)",
            dims.len()
        ));
    }
    dims.iter()
        .map(|d| match d {
            Lit::Int(Some(n)) => {
                u64::try_from(*n).map_err(|_| format!(".npy header's shape holds {n}: the header is damaged"))
            }
            _ => Err(".npy header's shape holds something else than integers (np.load refuses it)".into()),
        })
        .collect()
}

/// The dtype `descr` names, with a note when its values are not decoded; [`NotTensor`] for a
/// dtype no tensor has.
fn dtype(h: &Header, descr: Option<&Lit>) -> Result<(DType, Option<String>), NotTensor> {
    let shown = &h.descr;
    let code = match descr {
        Some(Lit::Str(s)) => s.as_str(),
        Some(Lit::List(_)) => {
            return Err(NotTensor(format!(
                "dtype {shown} is a structured dtype (named fields), not a tensor{}",
                if h.object {
                    "; a field holds Python objects, stored as a pickle that tensorscope never loads"
                } else {
                    ""
                }
            )));
        }
        _ => return Err(NotTensor(format!("dtype {shown} is not a tensor element type"))),
    };
    let (order, rest) = match code.as_bytes().first() {
        Some(b'<' | b'>' | b'|' | b'=') => (code.as_bytes()[0], &code[1..]),
        _ => (b'=', code),
    };
    let mut chars = rest.chars();
    let kind = chars.next().unwrap_or(' ');
    let size: Option<u32> = chars.as_str().parse().ok();
    use DType::*;
    let plain = match (kind, size) {
        ('f', Some(2)) => F16,
        ('f', Some(4)) => F32,
        ('f', Some(8)) => F64,
        ('i', Some(1)) => I8,
        ('i', Some(2)) => I16,
        ('i', Some(4)) => I32,
        ('i', Some(8)) => I64,
        ('u', Some(1)) => U8,
        ('u', Some(2)) => U16,
        ('u', Some(4)) => U32,
        ('u', Some(8)) => U64,
        ('b', Some(1)) | ('?', None) => BOOL,
        ('c', Some(8)) => C64,
        ('c', Some(16)) => Torch {
            name: "complex128",
            bits: 128,
        },
        _ if h.object => {
            return Err(NotTensor(format!(
                "dtype {shown} holds Python objects: its data is a pickle, which tensorscope never loads \
                 (`tensorscope scan` judges it)"
            )));
        }
        _ => {
            return Err(NotTensor(format!(
                "dtype {shown} ({}) is not a tensor element type",
                match kind {
                    'S' | 'a' => "bytes strings",
                    'U' => "unicode strings",
                    'V' => "raw void bytes",
                    'M' | 'm' => "datetimes",
                    'f' | 'c' => "extended precision",
                    _ => "not one numpy writes",
                }
            )));
        }
    };
    if order == b'>' && plain.bits() > 8 {
        let name = BIG_ENDIAN.iter().find(|n| n[1..] == *rest).copied().unwrap_or(">?");
        let note = format!(
            "dtype {shown} is big-endian: listed, its values are not decoded (np.load(…).astype('<{rest}') and save again)"
        );
        return Ok((
            Torch {
                name,
                bits: plain.bits(),
            },
            Some(note),
        ));
    }
    Ok((plain, None))
}
