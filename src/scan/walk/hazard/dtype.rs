//! numpy dtype BUILD states checked field by field, as `numpy.dtype.__setstate__` takes them: the
//! state's flags are trusted by numpy, so a dtype whose flags disagree with what its fields hold
//! (at any depth: a structured field of a structured field, a subarray of objects) makes numpy read
//! raw bytes as object pointers, and a field or subarray that ends past the item makes it read and
//! write past each element.
//!
//! The state (versions 3 and 4) is `(version, byteorder, subarray, names, fields, elsize,
//! alignment, flags[, metadata])`; `fields` maps each name (and title) to `(dtype, offset[,
//! title])`, and `subarray` is `(base dtype, shape)`. Each dtype's BUILD is checked once, with the
//! summaries of the dtypes it holds (which were built before it), so nesting costs nothing extra.

use super::super::info::{Hazard, PickleInfo};
use super::super::value::{DtypeInfo, Fields, Layout, Value, dtype_summary};
use super::elements;

/// Levels of dtypes inside dtypes the scan follows; a deeper dtype is suspicious (numpy itself
/// writes a few levels at most).
pub const MAX_DTYPE_DEPTH: u32 = 32;

/// numpy dtype flags that make an array hold Python object pointers (`NPY_ITEM_REFCOUNT`,
/// `NPY_LIST_PICKLE`, `NPY_ITEM_IS_POINTER`).
const NPY_OBJECT_FLAGS: i64 = 1 | 2 | 4;

/// What one part of the state (its fields or its subarray) gave.
enum Part {
    /// Not there (`None`).
    Absent,
    /// Followed all the way down.
    Known(Fields),
}

/// Check a BUILD on `d` with `state`, record what it makes of `d` for the dtypes that hold it.
pub(super) fn build(d: &DtypeInfo, state: &Value<'_>, offset: usize, info: &mut PickleInfo<'_>) {
    let mut found: Vec<(bool, String)> = Vec::new();
    if d.used.get() || d.layout.get() != Layout::Unbuilt {
        found.push((
            false,
            "numpy.dtype state set on a dtype that already has one or that an enclosing dtype already holds: \
             the enclosing dtype's flags were taken without it"
                .into(),
        ));
    }
    let layout = check(d, state, &mut found);
    d.layout.set(if found.is_empty() { layout } else { Layout::Unchecked });
    for (dangerous, why) in found {
        info.hazards.push(Hazard {
            offset,
            global: "numpy.dtype".into(),
            dangerous,
            why,
        });
    }
}

/// The layout `state` gives `d`, pushing `(dangerous, why)` for each thing wrong with it.
fn check(d: &DtypeInfo, state: &Value<'_>, found: &mut Vec<(bool, String)>) -> Layout {
    let Value::Tuple(t) = state else {
        found.push((
            false,
            "numpy.dtype state could not be checked (it is not a tuple)".into(),
        ));
        return Layout::Unchecked;
    };
    let flags = if t.len() < 8 {
        Some(0)
    } else {
        match t.get(7) {
            Some(Value::Int(f)) => Some(*f),
            _ => None,
        }
    };
    let Some(flags) = flags else {
        found.push((
            false,
            "numpy.dtype state could not be checked (its flags are not a plain integer)".into(),
        ));
        return Layout::Unchecked;
    };
    // the item size: the state's `elsize` for flexible types (-1 keeps the code's)
    let size = match t.get(5) {
        Some(Value::Int(n)) if t.len() >= 8 => u64::try_from(*n).unwrap_or(d.size),
        _ => d.size,
    };
    let fields = part(t.get(4), |v| match v {
        Value::Dict(dict) => dict.try_borrow().ok().map(|dict| dict.fields),
        _ => None,
    });
    let subarray = part(t.get(2), |v| match v {
        Value::Tuple(s) if s.len() == 2 => {
            let Value::Dtype(base) = &s[0] else { return None };
            let mut f = dtype_summary(base);
            f.depth = f.depth.saturating_add(1);
            f.end = elements(&s[1]).and_then(|n| n.checked_mul(f.size));
            Some(f)
        }
        _ => None,
    });
    let (Some(fields), Some(subarray)) = (fields, subarray) else {
        found.push((
            false,
            "numpy.dtype state could not be checked (its fields or subarray are not what numpy writes)".into(),
        ));
        return Layout::Unchecked;
    };
    let mut inner: Option<Fields> = None;
    for (what, p) in [("field", fields), ("subarray", subarray)] {
        let Part::Known(f) = p else { continue };
        if f.unchecked {
            found.push((
                false,
                format!("numpy.dtype state holds a {what} whose dtype could not be checked"),
            ));
        }
        if f.depth > MAX_DTYPE_DEPTH {
            found.push((
                false,
                format!("numpy.dtype state nests dtypes more than {MAX_DTYPE_DEPTH} levels deep: not checked further"),
            ));
        }
        match f.end {
            None => found.push((
                false,
                format!("numpy.dtype state has a {what} whose offset or size is not a 64-bit count"),
            )),
            Some(end) if end > size && (size > 0 || d.code == 'V') => found.push((
                f.objects,
                format!(
                    "numpy.dtype state has a {what} that ends at byte {end} of a {size}-byte item: numpy reads \
                     and writes past each element{}",
                    if f.objects {
                        " and takes those bytes for object pointers"
                    } else {
                        ""
                    }
                ),
            )),
            Some(_) => {}
        }
        inner = Some(inner.map_or(f, |i| Fields {
            objects: i.objects | f.objects,
            depth: i.depth.max(f.depth),
            ..i
        }));
    }
    let flagged = flags & NPY_OBJECT_FLAGS != 0;
    let objects = match (d.code, inner) {
        ('O', _) => {
            if flags & 3 != 3 {
                found.push((
                    true,
                    "numpy.dtype state clears the object flags of an object dtype: raw bytes are read as object pointers"
                        .into(),
                ));
            }
            true
        }
        (_, Some(inner)) => {
            if inner.objects && flags & 3 != 3 {
                found.push((
                    true,
                    "numpy.dtype state clears the object flags of a structured dtype with an object field \
                     (at some depth): raw bytes are read as object pointers"
                        .into(),
                ));
            } else if !inner.objects && !inner.unchecked && flagged {
                found.push((
                    true,
                    "numpy.dtype state sets object flags on a structured dtype whose fields hold no objects \
                     (at any depth): raw bytes are read as object pointers"
                        .into(),
                ));
            }
            inner.objects || flagged
        }
        ('V', None) => {
            if flagged {
                found.push((
                    false,
                    "numpy.dtype state gives a structured dtype object flags, and its fields could not be checked"
                        .into(),
                ));
            }
            flagged
        }
        (_, None) => {
            if flagged {
                found.push((
                    true,
                    "numpy.dtype state sets object flags on a dtype that holds no objects: raw bytes are read as \
                     object pointers"
                        .into(),
                ));
            }
            flagged
        }
    };
    let depth = inner.map_or(0, |i| i.depth);
    Layout::Built(Fields {
        objects,
        unchecked: false,
        depth,
        end: Some(size),
        size,
    })
}

/// One part of the state: `None` (written as `Other`) or missing is absent, what `known` follows
/// is known, anything else (a value only known at load time) is not what numpy writes.
fn part(v: Option<&Value<'_>>, known: impl Fn(&Value<'_>) -> Option<Fields>) -> Option<Part> {
    match v {
        None | Some(Value::Other | Value::PyNone) => Some(Part::Absent),
        Some(v) => known(v).map(Part::Known),
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::stream::{Mode, walk_stream};

    /// `numpy.dtype(code, False, True)`.
    fn dtype(code: &str) -> Vec<u8> {
        let mut p = b"cnumpy\ndtype\nX".to_vec();
        p.extend((code.len() as u32).to_le_bytes());
        p.extend(code.as_bytes());
        p.extend(b"\x89\x88\x87R");
        p
    }

    /// A version-3 BUILD state: one field `a` at offset 0 holding `field` (a dtype already built).
    fn build(field: Option<&[u8]>, elsize: i32, flags: u8) -> Vec<u8> {
        let mut p = b"(K\x03X\x01\x00\x00\x00|N".to_vec();
        match field {
            Some(f) => {
                p.extend(b"X\x01\x00\x00\x00a\x85}X\x01\x00\x00\x00a");
                p.extend(f);
                p.extend(b"K\x00\x86s");
            }
            None => p.extend(b"NN"),
        }
        p.push(b'J');
        p.extend(elsize.to_le_bytes());
        p.extend(b"K\x01K");
        p.push(flags);
        p.extend(b"tb");
        p
    }

    fn hazards(p: &[u8]) -> Vec<(bool, String)> {
        let s = walk_stream(p, Mode::Strict);
        s.pickles
            .iter()
            .flat_map(|p| p.hazards.iter().map(|h| (h.dangerous, h.why.clone())))
            .collect()
    }

    /// `levels` structured dtypes, each the only field of the next, around an `i8`.
    fn nested(levels: usize) -> Vec<u8> {
        let mut inner = dtype("i8");
        inner.extend(build(None, -1, 0));
        for _ in 0..levels {
            let mut d = dtype("V8");
            d.extend(build(Some(&inner), 8, 16));
            inner = d;
        }
        let mut p = b"\x80\x02".to_vec();
        p.extend(inner);
        p.push(b'.');
        p
    }

    #[test]
    fn nesting_up_to_the_limit_is_followed_and_past_it_is_suspicious() {
        assert!(hazards(&nested(3)).is_empty(), "{:?}", hazards(&nested(3)));
        assert!(hazards(&nested(super::MAX_DTYPE_DEPTH as usize)).is_empty());
        let h = hazards(&nested(super::MAX_DTYPE_DEPTH as usize + 1));
        assert!(!h.is_empty() && h.iter().all(|(dangerous, _)| !dangerous), "{h:?}");
        assert!(h.iter().any(|(_, why)| why.contains("more than 32 levels")), "{h:?}");
    }

    #[test]
    fn a_build_after_the_dtype_was_used_as_a_field_is_suspicious() {
        // the inner V8 is put into the outer dtype's fields before its own BUILD gives it an
        // object field: the outer's flags (16, no objects) were judged without it
        let mut p = b"\x80\x02".to_vec();
        p.extend(dtype("V8"));
        p.extend(b"q\x00"); // PUT 0: the inner dtype, unbuilt
        p.extend(b"0"); // POP
        p.extend(dtype("V8"));
        p.extend(build(Some(b"h\x00"), 8, 16));
        p.extend(b"0h\x00"); // POP the outer, GET the inner
        let mut o = dtype("O8");
        o.extend(build(None, -1, 63));
        p.extend(build(Some(&o), 8, 27));
        p.push(b'.');
        let h = hazards(&p);
        assert!(
            h.iter()
                .any(|(_, why)| why.contains("an enclosing dtype already holds")),
            "{h:?}"
        );
    }

    #[test]
    fn an_offset_past_64_bits_is_suspicious() {
        let mut p = b"\x80\x02".to_vec();
        let mut f = dtype("i8");
        f.extend(build(None, -1, 0));
        p.extend(dtype("V8"));
        let mut s = build(Some(&f), 8, 16);
        // offset 0 -> 2^64 - 4 (a LONG1 of nine bytes), so offset + 8 does not fit in 64 bits
        let at = s.windows(3).rposition(|w| w == b"K\x00\x86").unwrap();
        s.splice(
            at..at + 2,
            b"\x8a\x09\xfc\xff\xff\xff\xff\xff\xff\xff\x00".iter().copied(),
        );
        p.extend(s);
        p.push(b'.');
        let h = hazards(&p);
        assert!(h.iter().any(|(_, why)| why.contains("not a 64-bit count")), "{h:?}");
    }
}
