//! Code an archive ships beside its tensors, which its own loaders run: native libraries
//! (AOTInductor packages, loaded with `dlopen`) and the shape expressions of `torch.export`
//! archives (`models/*.json`), which `torch.export.load` hands to `sympy.sympify`, an `eval`.

use super::Severity;

/// The kind of native library `content` is (ELF, Mach-O, or a PE with its `PE\0\0` signature where
/// its DOS header points), if it is one.
pub(super) fn native_library(content: &[u8]) -> Option<&'static str> {
    const MACHO: [[u8; 4]; 4] = [
        [0xfe, 0xed, 0xfa, 0xce],
        [0xfe, 0xed, 0xfa, 0xcf],
        [0xce, 0xfa, 0xed, 0xfe],
        [0xcf, 0xfa, 0xed, 0xfe],
    ];
    if content.starts_with(b"\x7fELF") {
        return Some("ELF");
    }
    if MACHO.iter().any(|m| content.starts_with(m)) {
        return Some("Mach-O");
    }
    let pe_at = content
        .get(0x3c..0x40)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize);
    let pe = pe_at.and_then(|at| content.get(at..at.checked_add(4)?));
    (content.starts_with(b"MZ") && pe == Some(b"PE\0\0")).then_some("PE")
}

/// Most `expr_str` values looked at in one JSON member.
const MAX_EXPRS: usize = 100_000;
/// Longest expression quoted in a finding.
const QUOTE: usize = 120;

/// Names `sympy.srepr` writes for the expressions `torch.export` saves (sympy's classes and torch's
/// own shape functions) and the keyword arguments of `Symbol`; anything else is not what
/// `torch.export.save` writes.
const SREPR_NAMES: &[&str] = &[
    "Symbol",
    "Dummy",
    "Integer",
    "Float",
    "Rational",
    "Half",
    "One",
    "Zero",
    "NegativeOne",
    "Infinity",
    "NegativeInfinity",
    "Add",
    "Mul",
    "Pow",
    "Mod",
    "Max",
    "Min",
    "Abs",
    "floor",
    "ceiling",
    "sign",
    "Eq",
    "Ne",
    "Lt",
    "Le",
    "Gt",
    "Ge",
    "StrictLessThan",
    "StrictGreaterThan",
    "LessThan",
    "GreaterThan",
    "Equality",
    "Unequality",
    "And",
    "Or",
    "Not",
    "BooleanTrue",
    "BooleanFalse",
    "true",
    "false",
    "True",
    "False",
    "Piecewise",
    "ExprCondPair",
    "FloorDiv",
    "CeilingDiv",
    "CleanDiv",
    "IntTrueDiv",
    "FloatTrueDiv",
    "TruncToFloat",
    "TruncToInt",
    "RoundToInt",
    "RoundDecimal",
    "ToFloat",
    "PythonMod",
    "FloorToInt",
    "CeilToInt",
    "Identity",
    "ModularIndexing",
    "Where",
    "PowByNatural",
    "FloatPow",
    "LShift",
    "RShift",
    "IsNonOverlappingAndDenseIndicator",
    "BitwiseFn_bitwise_and",
    "BitwiseFn_bitwise_or",
    "BitwiseFn_bitwise_xor",
    "OpaqueUnaryFn_sqrt",
    "OpaqueUnaryFn_exp",
    "OpaqueUnaryFn_log",
    "OpaqueUnaryFn_cos",
    "OpaqueUnaryFn_sin",
    "OpaqueUnaryFn_tan",
    "OpaqueUnaryFn_tanh",
    "OpaqueUnaryFn_cosh",
    "OpaqueUnaryFn_sinh",
    "OpaqueUnaryFn_acos",
    "OpaqueUnaryFn_asin",
    "OpaqueUnaryFn_atan",
    "OpaqueUnaryFn_log2",
    "Trunc",
    "positive",
    "negative",
    "nonnegative",
    "nonpositive",
    "integer",
    "real",
    "finite",
    "infinite",
    "commutative",
    "zero",
    "nonzero",
    "even",
    "odd",
    "precision",
    "oo",
    "zoo",
    "nan",
];

/// Names that reach Python itself from an `eval` (sympify evaluates with builtins in reach).
const EVAL_REACH: &[&str] = &[
    "eval",
    "exec",
    "compile",
    "open",
    "getattr",
    "setattr",
    "delattr",
    "globals",
    "locals",
    "vars",
    "input",
    "breakpoint",
    "exit",
    "quit",
    "help",
    "lambdify",
    "sympify",
    "parse_expr",
    "preview",
    "python",
    "system",
];

/// The worst `expr_str` of a `torch.export` model description (`content`, JSON), as a finding:
/// dangerous when it reaches past sympy (a dunder name, attribute access, a name from the list
/// above), suspicious when it is otherwise not what `srepr` writes. `None` when the member is not
/// JSON, holds no `expr_str`, or every one is plain srepr.
pub(super) fn sym_exprs(content: &[u8]) -> Option<(Severity, String)> {
    if !content.windows(8).any(|w| w == b"expr_str") {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(content).ok()?;
    let mut exprs = Vec::new();
    collect(&v, &mut exprs);
    let mut worst: Option<(Severity, &str, String)> = None;
    for e in exprs {
        if let Some((sev, why)) = check(e)
            && worst.as_ref().is_none_or(|(w, _, _)| sev > *w)
        {
            worst = Some((sev, e, why));
        }
    }
    let (sev, e, why) = worst?;
    let mut quoted: String = e.chars().take(QUOTE).collect();
    if quoted.len() < e.len() {
        quoted.push('…');
    }
    Some((
        sev,
        format!(
            "a shape expression torch.export.load passes to sympy.sympify (an eval): {why}: {}",
            crate::text::escape(&quoted)
        ),
    ))
}

fn collect<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    if out.len() >= MAX_EXPRS {
        return;
    }
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("expr_str", serde_json::Value::String(s)) => out.push(s),
                    _ => collect(x, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
        _ => {}
    }
}

/// What is wrong with one expression, if anything: the names outside string literals and the
/// characters srepr never writes.
fn check(e: &str) -> Option<(Severity, String)> {
    let mut code = String::with_capacity(e.len());
    let mut quote = None;
    for c in e.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                code.push(' ');
            }
            None => code.push(c),
        }
    }
    if quote.is_some() {
        return Some((Severity::Suspicious, "an unterminated string".into()));
    }
    let mut odd = None;
    let mut word = String::new();
    let mut names = Vec::new();
    for c in code.chars().chain([' ']) {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        if !word.is_empty() && !word.starts_with(|d: char| d.is_ascii_digit()) {
            names.push(std::mem::take(&mut word));
        }
        word.clear();
        if c == '.' {
            return Some((Severity::Dangerous, "attribute access".into()));
        }
        if !matches!(c, '(' | ')' | ',' | '=' | ' ' | '-') {
            odd.get_or_insert(c);
        }
    }
    if let Some(n) = names
        .iter()
        .find(|n| n.contains("__") || EVAL_REACH.contains(&n.as_str()))
    {
        return Some((Severity::Dangerous, format!("the name {n}")));
    }
    if let Some(n) = names.iter().find(|n| !SREPR_NAMES.contains(&n.as_str())) {
        return Some((
            Severity::Suspicious,
            format!("the name {n}, which srepr does not write"),
        ));
    }
    odd.map(|c| {
        (
            Severity::Suspicious,
            format!("the character {c:?}, which srepr does not write"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srepr_is_plain_and_code_is_not() {
        let ok = "FloorDiv(Add(Mul(Integer(2), Symbol('s17', positive=True, integer=True)), Integer(-3)), Integer(3))";
        assert_eq!(check(ok), None);
        assert_eq!(check("Mod(Symbol('a.b(__import__)', integer=True), Integer(5))"), None);
        let bad = "(__import__('os').system('x') and 0) or Symbol('s77')";
        assert_eq!(check(bad).unwrap().0, Severity::Dangerous);
        assert_eq!(check("eval('1')").unwrap().0, Severity::Dangerous);
        assert_eq!(check("Frobnicate(Integer(1))").unwrap().0, Severity::Suspicious);
        assert_eq!(check("Integer(1) + Integer(2)").unwrap().0, Severity::Suspicious);
        assert_eq!(check("Symbol('s0").unwrap().0, Severity::Suspicious);
        let json = br#"{"a": [{"expr_str": "Integer(1)"}, {"b": {"expr_str": "open('f')"}}]}"#;
        assert_eq!(sym_exprs(json).unwrap().0, Severity::Dangerous);
        assert_eq!(sym_exprs(br#"{"expr_str": "Symbol('s1')"}"#), None);
    }

    #[test]
    fn native_libraries_by_their_magic() {
        assert_eq!(native_library(b"\x7fELF\x02\x01\x01"), Some("ELF"));
        assert_eq!(native_library(&[0xcf, 0xfa, 0xed, 0xfe, 7]), Some("Mach-O"));
        let mut pe = vec![0u8; 0x80];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c] = 0x40;
        pe[0x40..0x44].copy_from_slice(b"PE\0\0");
        assert_eq!(native_library(&pe), Some("PE"));
        assert_eq!(native_library(b"MZ not a PE"), None);
        assert_eq!(native_library(b"{\"a\": 1}"), None);
    }
}
