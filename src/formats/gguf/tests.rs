use std::path::Path;

use super::*;

#[path = "../../../tests/common/gguf.rs"]
mod builder;
use builder::{Builder, string};

fn parse_ok(b: &Builder) -> Gguf {
    parse(Path::new("t.gguf"), &b.bytes()).unwrap()
}

fn parse_err(b: &Builder) -> String {
    parse_bytes_err(&b.bytes())
}

fn parse_bytes_err(data: &[u8]) -> String {
    parse(Path::new("t.gguf"), data).unwrap_err().to_string()
}

fn q8_0_blocks(n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.extend(0x3C00u16.to_le_bytes());
        v.extend([2u8; 32]);
    }
    v
}

#[test]
fn reads_tensors_with_row_major_shapes() {
    let b = Builder::default()
        .kv_str("general.architecture", "llama")
        .kv_u32("llama.block_count", 2)
        .f32s("a", &[1.0, 2.0, 3.0])
        .tensor("q", &[64, 3], 8, &q8_0_blocks(6));
    let g = parse_ok(&b);
    assert_eq!(g.version, 3);
    assert_eq!(g.tensors[0].shape, [3]);
    let q = &g.tensors[1];
    assert_eq!(
        (q.name.as_str(), q.dtype.name(), q.shape.as_slice()),
        ("q", "Q8_0", &[3, 64][..])
    );
    assert_eq!(q.nbytes(), Some(6 * 34));
    assert_eq!(q.storage.end - q.storage.start, 6 * 34);
    assert_eq!(g.get("llama.block_count").and_then(Value::as_u64), Some(2));
    let meta = metadata(&g);
    assert_eq!(meta[0], ("GGUF.version".into(), "3".into()));
    assert_eq!(meta[3].0, "general.architecture");
}

#[test]
fn metadata_orders_and_summarises() {
    let mut arr = 8u32.to_le_bytes().to_vec();
    arr.extend(20u64.to_le_bytes());
    for i in 0..20 {
        arr.extend(string(format!("tok{i}").as_bytes()));
    }
    let b = Builder::default()
        .kv("tokenizer.ggml.tokens", 9, arr)
        .kv_u32("llama.context_length", 128)
        .kv_str("general.architecture", "llama")
        .kv_u32("general.file_type", 15)
        .kv_str("tokenizer.chat_template", "{{ x }}");
    let g = parse_ok(&b);
    let meta = metadata(&g);
    let keys: Vec<&str> = meta.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys[3..],
        [
            "general.architecture",
            "general.file_type",
            "llama.context_length",
            "tokenizer.ggml.tokens",
            "tokenizer.chat_template"
        ]
    );
    assert_eq!(meta[4].1, "MOSTLY_Q4_K_M (15)");
    assert_eq!(
        meta[6].1,
        "[STRING × 20] [\"tok0\", \"tok1\", \"tok2\", \"tok3\", \"tok4\", \"tok5\", \"tok6\", \"tok7\", +12 more]"
    );
    assert_eq!(templates(&g), [("tokenizer.chat_template", "{{ x }}")]);
    let data = b.bytes();
    let full = full_value(Path::new("t"), &data, "tokenizer.ggml.tokens")
        .unwrap()
        .unwrap();
    assert_eq!(full.kind, "ARRAY[STRING]");
    assert!(matches!(&full.value, Value::Array(a) if a.head.len() == 20));
    assert_eq!(full.more, 0);
    assert!(full.text().ends_with("tok18\ntok19"));
    assert!(full_value(Path::new("t"), &data, "nope").unwrap().is_none());
}

#[test]
fn malformed_files_fail_with_gguf_errors() {
    let good = Builder::default().f32s("a", &[1.0; 8]);
    let bytes = good.bytes();
    // truncated anywhere: expected and actual sizes
    for cut in [3, 10, 30, 50, bytes.len() - 1] {
        let e = parse_bytes_err(&bytes[..cut]);
        assert!(e.contains("truncated GGUF") || e.contains("GGUF"), "{cut}: {e}");
        let at = format!("truncated GGUF file at {} of at least ", crate::text::bytes(cut as u64));
        assert!(e.contains(&at) || cut < 4, "{cut}: {e}");
        assert!(e.ends_with("re-download it") || cut < 4, "{cut}: {e}");
    }
    let cases: Vec<(Builder, &str)> = vec![
        (
            Builder {
                tensor_count: Some(1 << 62),
                ..good.clone()
            },
            "GGUF tensor count 4611686018427387904 exceeds the limit",
        ),
        (
            Builder {
                kv_count: Some(1 << 62),
                ..good.clone()
            },
            "GGUF metadata key/value count",
        ),
        (
            Builder {
                version: 7,
                ..good.clone()
            },
            "unknown GGUF version 7",
        ),
        (
            Builder {
                version: 1,
                ..good.clone()
            },
            "GGUF version 1",
        ),
        (
            Builder {
                version: 3u32.swap_bytes(),
                ..good.clone()
            },
            "big-endian GGUF",
        ),
        (good.clone().info("b", &[1; 9], 0, 0), "9 dimensions"),
        (good.clone().info("b", &[8], 0, 1 << 20), "lies past the end"),
        (
            good.clone().info("b", &[8], 0, 16),
            "not a multiple of the alignment 32",
        ),
        (good.clone().info("a", &[8], 0, 0), "duplicate tensor name a"),
        (good.clone().info("b", &[1 << 32, 1 << 32], 0, 64), "overflows"),
        (
            good.clone().info("b", &[33], 8, 0),
            "not a multiple of Q8_0's block size 32",
        ),
        (good.clone().info("b", &[4], 0, 0), "overlap"),
        (
            good.clone().kv_u32("general.alignment", 3),
            "general.alignment 3 is not a power of two",
        ),
        (good.clone().kv_u32("x", 1).kv_u32("x", 2), "duplicate metadata key x"),
        (good.clone().kv("x", 13, vec![]), "unknown GGUF value type 13"),
    ];
    for (b, want) in cases {
        let e = parse_err(&b);
        assert!(e.contains(want), "want {want:?}, got {e:?}");
    }
    // a key whose length is 2^60
    let mut data = b"GGUF".to_vec();
    data.extend(3u32.to_le_bytes());
    data.extend(0u64.to_le_bytes());
    data.extend(1u64.to_le_bytes());
    data.extend((1u64 << 60).to_le_bytes());
    data.extend([0u8; 16]);
    assert!(parse_bytes_err(&data).contains("GGUF string length 1152921504606846976 exceeds"));
    // an array of 2^40 items
    let e = parse_err(&good.clone().kv(
        "arr",
        9,
        [4u32.to_le_bytes().to_vec(), (1u64 << 40).to_le_bytes().to_vec()].concat(),
    ));
    assert!(e.contains("GGUF array length"), "{e}");
    assert!(parse_bytes_err(b"GGUX\x03\0\0\0").contains("not a GGUF file"));
}

#[test]
fn unknown_types_stay_listed() {
    let b = Builder::default()
        .f32s("a", &[1.0; 8])
        .tensor("m", &[10], 99, &[0u8; 40])
        .f32s("c", &[1.0; 8]);
    let g = parse_ok(&b);
    let m = &g.tensors[1];
    assert_eq!(m.dtype.to_string(), "UNKNOWN(GGML type 99)");
    assert_eq!(m.storage.start, g.tensors[0].storage.start + 32);
    assert_eq!(m.storage.end, g.tensors[2].storage.start);
    assert_eq!(g.warnings.len(), 1);
}

#[test]
fn split_fields_are_read() {
    let b = Builder::default()
        .kv("split.no", 2, 1u16.to_le_bytes().to_vec())
        .kv("split.count", 2, 3u16.to_le_bytes().to_vec())
        .kv("split.tensors.count", 5, 7i32.to_le_bytes().to_vec());
    assert_eq!(
        parse_ok(&b).split,
        Some(Split {
            no: 1,
            count: 3,
            tensors: 7
        })
    );
}

/// Names are compared as stored (llama.cpp compares C strings): `w\xff` and `w\xfe` are two tensors, not
/// a duplicate `w\u{fffd}` as the lossy text made them, and each prints with its own byte. A name
/// stored twice is still a duplicate, and one that prints as another does is refused as such.
#[test]
fn names_that_are_not_utf8_stay_apart() {
    let raw_name = |b: Builder, i: usize, name: &[u8]| {
        let mut b = b;
        b.tensors[i].name = name.to_vec();
        b
    };
    let two = Builder::default().f32s("a", &[1.0; 4]).f32s("b", &[2.0; 4]);
    let g = parse_ok(&raw_name(raw_name(two.clone(), 0, b"w\xff"), 1, b"w\xfe"));
    let names: Vec<&str> = g.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["w\\xff", "w\\xfe"]);
    let e = parse_err(&raw_name(raw_name(two.clone(), 0, b"w\xff"), 1, b"w\xff"));
    assert!(e.contains("duplicate tensor name w\\xff"), "{e}");
    let e = parse_err(&raw_name(raw_name(two, 0, b"w\xff"), 1, b"w\\xff"));
    assert!(e.contains("two tensor names print as w\\xff"), "{e}");
    // metadata keys likewise
    let mut b = Builder::default().kv_u32("k", 1).kv_u32("k", 2);
    b.kvs[0].0 = b"k\xff".to_vec();
    b.kvs[1].0 = b"k\xfe".to_vec();
    let keys: Vec<String> = parse_ok(&b).kvs.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(keys, ["k\\xff", "k\\xfe"]);
}
