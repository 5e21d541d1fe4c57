//! Signatures made by `model_signing` v0.2, which the reference verifier still accepts (its
//! `pae_compat` and `dsse_payload_to_manifest_compat`):
//! - the envelope was signed over `DSSEV1 <len> <type> <len> <Python repr of the payload bytes>`
//!   (a bug of that release: the bytes went through `str()`), always with SHA-256 whatever the curve;
//! - the statement's predicate type is `https://model_signing/Digests/v0.1`: one subject per file,
//!   named by its path, with its SHA-256, and no root digest.
//!
//! Both are tried only where the current form fails, as the reference does.

use serde_json::Value;

use super::bundle::{Manifest, Method, Resource, Serialization};
use super::hash::Algorithm;

/// The v0.1 predicate type.
pub const PREDICATE_TYPE_V01: &str = "https://model_signing/Digests/v0.1";

/// The v0.2 pre-authentication encoding of `payload` (signed with SHA-256).
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    format!(
        "DSSEV1 {} {payload_type} {} {}",
        payload_type.len(),
        payload.len(),
        python_bytes_repr(payload)
    )
    .into_bytes()
}

/// What Python's `str(b)` gives for a bytes object: `b'...'` with `\\`, `\t`, `\n`, `\r` and `\xNN`
/// escapes, double quotes when the bytes hold `'` and no `"`.
pub fn python_bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut s = String::with_capacity(b.len() + 3);
    s.push('b');
    s.push(char::from(quote));
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            c if c == quote => {
                s.push('\\');
                s.push(char::from(c));
            }
            0x20..=0x7e => s.push(char::from(c)),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push(char::from(quote));
    s
}

/// Read an authenticated statement: the v0.1 form here, the v1.0 form by [`super::bundle`].
pub fn statement_to_manifest(payload: &[u8]) -> Result<Manifest, String> {
    let v: Value = serde_json::from_slice(payload).map_err(|e| format!("the payload is not JSON: {e}"))?;
    if v.get("predicateType").and_then(Value::as_str) == Some(PREDICATE_TYPE_V01) {
        return manifest_v01(&v);
    }
    super::bundle::statement_to_manifest(payload)
}

/// The manifest of a v0.1 statement (already authenticated): every subject a file hashed with SHA-256.
fn manifest_v01(v: &Value) -> Result<Manifest, String> {
    let subjects = v
        .get("subject")
        .and_then(Value::as_array)
        .ok_or("the v0.1 statement has no subject list")?;
    let mut resources = Vec::with_capacity(subjects.len());
    let mut seen = std::collections::HashSet::new();
    for s in subjects {
        let name = s
            .get("name")
            .and_then(Value::as_str)
            .ok_or("a v0.1 subject has no name")?
            .to_string();
        let digest = s
            .pointer("/digest/sha256")
            .and_then(Value::as_str)
            .and_then(super::bundle::unhex)
            .ok_or_else(|| format!("subject {} has no sha256 digest in hex", crate::text::escape(&name)))?;
        if !seen.insert(name.clone()) {
            return Err(format!("subject {} is listed twice", crate::text::escape(&name)));
        }
        resources.push(Resource {
            name,
            algo: Algorithm::Sha256,
            digest,
        });
    }
    Ok(Manifest {
        model_name: String::new(),
        serialization: Serialization {
            method: Method::Files,
            hash_type: "sha256".into(),
            allow_symlinks: false,
            ignore_paths: Vec::new(),
        },
        resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        // python3 -c "print(str(b'a\\'b\\\\\\n\\x00\\xff\"'))" -> b'a\'b\\\n\x00\xff"'
        assert_eq!(python_bytes_repr(b"a'b\\\n\x00\xff\""), r#"b'a\'b\\\n\x00\xff"'"#);
        assert_eq!(python_bytes_repr(b"it's"), r#"b"it's""#);
        assert_eq!(python_bytes_repr(b"{\"k\": 1}\t\r"), r#"b'{"k": 1}\t\r'"#);
    }
}
