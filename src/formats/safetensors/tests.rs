//! One test per validation rule, with the bad bytes built here.

use super::*;

fn file(header: &str, data_len: usize) -> Vec<u8> {
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header.as_bytes());
    v.resize(v.len() + data_len, 0);
    v
}

fn err(bytes: &[u8]) -> String {
    parse_header(Path::new("x.safetensors"), bytes).unwrap_err().to_string()
}

#[test]
fn accepts_a_valid_file_in_data_order() {
    let h = r#"{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#;
    let hd = parse_header(Path::new("x"), &file(h, 12)).unwrap();
    assert_eq!(
        hd.tensors.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(hd.metadata, [("format".to_string(), "pt".to_string())]);
    assert_eq!(hd.data_start, 8 + h.len() as u64);
}

#[test]
fn accepts_sub_byte_and_empty_tensors() {
    let h = r#"{"f4":{"dtype":"F4","shape":[4],"data_offsets":[0,2]},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[2,2]},"s":{"dtype":"F16","shape":[],"data_offsets":[2,4]}}"#;
    assert_eq!(parse_header(Path::new("x"), &file(h, 4)).unwrap().tensors.len(), 3);
}

#[test]
fn rejects_duplicate_names() {
    let h =
        r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#;
    assert!(err(&file(h, 2)).contains("appears twice"));
}

#[test]
fn rejects_offsets_that_overflow() {
    let h = r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}}"#;
    assert!(err(&file(h, 1)).contains("end before they start"));
    let h = r#"{"a":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,8]}}"#;
    assert!(err(&file(h, 8)).contains("overflows"));
}

#[test]
fn rejects_size_mismatch() {
    let h = r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#;
    assert!(err(&file(h, 8)).contains("needs 12 bytes"));
}

#[test]
fn rejects_partial_bytes() {
    let h = r#"{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}"#;
    assert!(err(&file(h, 2)).contains("whole bytes"));
}

#[test]
fn rejects_gaps_and_overlaps() {
    let h = r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#;
    assert!(err(&file(h, 2)).contains("gap"));
    let h =
        r#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#;
    assert!(err(&file(h, 3)).contains("overlaps"));
}

#[test]
fn reports_truncated_downloads_with_counts() {
    let h = r#"{"a":{"dtype":"U8","shape":[100],"data_offsets":[0,100]}}"#;
    let bytes = file(h, 40);
    let e = err(&bytes);
    assert!(e.contains("truncated") && e.contains("60 missing"), "{e}");
    let e = err(&bytes[..20]);
    assert!(e.contains("truncated") && e.contains("header needs"), "{e}");
    assert!(err(&bytes[..5]).contains("too short"));
}

#[test]
fn rejects_trailing_bytes() {
    let h = r#"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}"#;
    assert!(err(&file(h, 3)).contains("2 unexpected bytes"));
}

#[test]
fn rejects_huge_header_length() {
    let mut v = 4611686018427387904u64.to_le_bytes().to_vec();
    v.extend_from_slice(b"{}");
    let e = err(&v);
    assert!(
        e.contains("not a safetensors file, or a damaged one: its first 8 bytes give a header size of 4.6 EB"),
        "{e}"
    );
    assert!(e.contains("exceeds the limit of 100.0 MB (a fixed limit"), "{e}");
}

#[test]
fn names_impostors() {
    assert!(err(b"version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n").contains("Git LFS"));
    assert!(err(b"PK\x03\x04\0\0\0\0\0\0\0\0\0\0").contains("zip"));
    assert!(err(b"\x80\x02}q\0.").contains("pickle"));
    assert!(err(b"<!DOCTYPE html><html><body>Sign in</body></html>").contains("HTML"));
}

#[test]
fn rejects_bad_json_and_types() {
    assert!(err(&file("{\"a\":", 0)).contains("not valid JSON"));
    assert!(err(&file("[1,2]   ", 0)).contains("not a JSON object"));
    assert!(err(&[2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe]).contains("UTF-8"));
    let h = r#"{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#;
    assert!(err(&file(h, 4)).contains("unknown dtype"));
    let h = r#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#;
    assert!(err(&file(h, 4)).contains("tensor a"));
    let h = r#"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#;
    assert!(err(&file(h, 4)).contains("missing field `shape`"));
    let h = r#"{"__metadata__":{"n":1}}"#;
    assert!(err(&file(h, 0)).contains("not a string"));
    let h = r#"{"__metadata__":[1]}"#;
    assert!(err(&file(h, 0)).contains("not a JSON object"));
}

#[test]
fn too_many_dimensions() {
    let shape = vec!["1"; MAX_DIMS + 1].join(",");
    let h = format!(r#"{{"a":{{"dtype":"U8","shape":[{shape}],"data_offsets":[0,1]}}}}"#);
    assert!(err(&file(&h, 1)).contains("dimensions"));
}

#[test]
fn escapes_control_characters_in_messages() {
    let h = "{\"a\\u001b[31m\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}";
    let e = err(&file(h, 8));
    assert!(e.contains("a\\x1b[31m") && !e.contains('\x1b'), "{e}");
}

#[test]
fn escaped_names_and_dtypes_are_decoded() {
    // borrowed when plain, decoded (owned) when the JSON escapes something
    let h = r#"{"a\"b\u00e9":{"dtype":"F\u0033\u0032","shape":[1],"data_offsets":[0,4]},"plain":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#;
    let got = parse_header(Path::new("x"), &file(h, 8)).unwrap();
    let names: Vec<&str> = got.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["a\"bé", "plain"]);
    assert_eq!(got.tensors[0].dtype, DType::F32);
    // an escaped spelling of an existing name is the same name
    let h = r#"{"ab":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a\u0062":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#;
    assert!(err(&file(h, 2)).contains("twice"));
}

/// Every committed file this parser accepts, the safetensors crate accepts too (it is no longer
/// asked at run time: see the module docs).
#[test]
fn whatever_we_accept_the_reference_crate_accepts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![
        root.join("samples"),
        root.join("tests/data"),
        root.join("fuzz/corpus/safetensors_header"),
    ];
    let (mut accepted, mut seen) = (0, 0);
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(p);
                continue;
            }
            if !meta.is_file() || meta.len() > 64 << 20 {
                continue;
            }
            let data = std::fs::read(&p).unwrap();
            seen += 1;
            if parse_header(&p, &data).is_ok() {
                accepted += 1;
                assert!(
                    safetensors::SafeTensors::read_metadata(&data).is_ok(),
                    "{} is accepted here but refused by the safetensors crate",
                    p.display()
                );
            }
        }
    }
    assert!(seen > 100 && accepted > 10, "{seen} files, {accepted} accepted");
}
