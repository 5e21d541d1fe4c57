//! Numbers as people read them: `%g`-style text with as many significant digits as the dtype holds,
//! so a printed value identifies the stored one.
//!
//! - F32 and F64 (and C64 parts): the shortest text that reads back as the same `f32`/`f64`.
//! - F16: 5 significant digits, BF16: 4 — enough to tell any two neighbouring values of the kind
//!   apart (⌈1 + p·log10 2⌉ for p bits of precision), with trailing zeros dropped.
//! - The 8-bit and smaller floats (F8, F6, F4 kinds): the shortest `f32` text, which is the stored
//!   value (`1024`, `-1.25`; two digits had printed `1e3` and `-1.2`).
//! - Integers exactly, booleans as `true`/`false`, complex numbers as `1.5+2j`.
//!
//! Exponent notation is used below 1e-4 and from 10^digits up (from 1e16 for the shortest forms).

use super::decode::Value;
use crate::checkpoint::DType;

/// Significant digits shown for a float dtype; `None` means the shortest round-trip form.
fn digits(dtype: DType) -> Option<usize> {
    use DType::*;
    match dtype {
        F16 => Some(5),
        BF16 => Some(4),
        // the 8-bit and smaller kinds: so few values that digits enough to tell neighbours apart
        // print numbers that are not stored (1024 as 1e3, -1.25 as -1.2): their shortest f32 form
        // is short and is the stored value
        _ => None,
    }
}

/// A value of `dtype` as text.
pub fn value(dtype: DType, v: Value) -> String {
    match v {
        Value::Float(x) => match digits(dtype) {
            Some(d) => general(x, d),
            None if dtype == DType::F64 => shortest(x, false),
            None => shortest(x, true),
        },
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Complex(re, im) => {
            let im_text = shortest(im.into(), true);
            let sign = if im_text.starts_with('-') || im.is_nan() {
                ""
            } else {
                "+"
            };
            format!("{}{sign}{im_text}j", shortest(re.into(), true))
        }
    }
}

fn special(x: f64) -> Option<String> {
    if x.is_nan() {
        Some("nan".into())
    } else if x.is_infinite() {
        Some(if x > 0.0 { "inf" } else { "-inf" }.into())
    } else if x == 0.0 {
        Some(if x.is_sign_negative() { "-0" } else { "0" }.into())
    } else {
        None
    }
}

/// `x` with `d` significant digits, `%g` style, trailing zeros dropped.
pub fn general(x: f64, d: usize) -> String {
    if let Some(s) = special(x) {
        return s;
    }
    let d = d.max(1);
    let sci = format!("{:.*e}", d - 1, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= d as i32 {
        format!("{}e{exp}", trim(mantissa))
    } else {
        let decimals = (d as i32 - 1 - exp).max(0) as usize;
        trim(&format!("{x:.decimals$}")).to_string()
    }
}

/// The shortest text that reads back as the same `f32` (`as_f32`) or `f64`.
pub fn shortest(x: f64, as_f32: bool) -> String {
    if let Some(s) = special(x) {
        return s;
    }
    let a = x.abs();
    let exp_form = !(1e-4..1e16).contains(&a);
    match (as_f32, exp_form) {
        (true, false) => format!("{}", x as f32),
        (true, true) => format!("{:e}", x as f32),
        (false, false) => format!("{x}"),
        (false, true) => format!("{x:e}"),
    }
}

fn trim(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn general_form() {
        assert_eq!(general(0.10009765625, 4), "0.1001");
        assert_eq!(general(12352.0, 4), "1.235e4");
        assert_eq!(general(448.0, 3), "448");
        assert_eq!(general(9.9996, 4), "10");
        assert_eq!(general(2f64.powi(-127), 2), "5.9e-39");
        assert_eq!(general(-0.5, 2), "-0.5");
        assert_eq!(general(1e-4, 3), "0.0001");
        assert_eq!(general(f64::NEG_INFINITY, 3), "-inf");
        assert_eq!(general(-0.0, 3), "-0");
    }

    #[test]
    fn shortest_form() {
        assert_eq!(shortest(f64::from(0.1f32), true), "0.1");
        assert_eq!(shortest(0.1, false), "0.1");
        assert_eq!(shortest(1e-30, false), "1e-30");
        assert_eq!(shortest(f64::from(3.0e20f32), true), "3e20");
        assert_eq!(shortest(f64::NAN, true), "nan");
    }

    #[test]
    fn values_by_dtype() {
        assert_eq!(value(DType::BF16, Value::Float(0.0123291015625)), "0.01233");
        assert_eq!(value(DType::I64, Value::Int(i64::MIN)), "-9223372036854775808");
        assert_eq!(value(DType::U64, Value::UInt(u64::MAX)), "18446744073709551615");
        assert_eq!(value(DType::BOOL, Value::Bool(true)), "true");
        assert_eq!(value(DType::C64, Value::Complex(1.5, -2.0)), "1.5-2j");
        assert_eq!(value(DType::C64, Value::Complex(0.0, 0.25)), "0+0.25j");
        // the small floats print the value stored, not two digits of it (review 39)
        assert_eq!(value(DType::F8_E8M0, Value::Float(1024.0)), "1024");
        assert_eq!(value(DType::F8_E5M2, Value::Float(-256.0)), "-256");
        assert_eq!(value(DType::F8_E5M2FNUZ, Value::Float(-1.25)), "-1.25");
        assert_eq!(value(DType::F8_E4M3, Value::Float(0.001953125)), "0.001953125");
    }
}
