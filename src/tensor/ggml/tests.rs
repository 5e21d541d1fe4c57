use super::*;

/// gguf-py's dequantized values of random valid blocks, from `scripts/make_gguf_fixtures.py`.
fn fixtures() -> Vec<serde_json::Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/gguf/every_type.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn close(a: f32, b: f64) -> bool {
    (f64::from(a) - b).abs() <= 1e-3 * b.abs().max(1.0)
}

#[test]
fn every_type_matches_gguf_py() {
    let mut seen = 0;
    for f in fixtures() {
        let Some(ty) = GgmlType::from_name(f["type"].as_str().unwrap()) else {
            continue;
        };
        let bytes = unhex(f["hex"].as_str().unwrap());
        let want: Vec<f64> = f["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let mut got = vec![0f32; want.len()];
        assert!(dequantize(ty, &bytes, &mut got), "{ty:?}");
        for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
            assert!(close(g, w), "{ty:?} element {i}: {g} vs gguf-py {w}");
        }
        // element-wise and strided reads agree with whole blocks
        for i in [0, 1, 31, 32, 255, want.len() as u64 - 1] {
            assert_eq!(element(ty, &bytes, i), Some(got[i as usize]), "{ty:?} {i}");
        }
        let mut strided = vec![0f32; 5];
        assert!(fill(ty, &bytes, 3, 97, &mut strided));
        assert_eq!(strided, [3, 100, 197, 294, 391].map(|i| got[i]));
        assert_eq!(element(ty, &bytes, want.len() as u64), None);
        // a preview reads only the blocks it shows: the first block alone gives its values
        let (n, size) = ty.block().unwrap();
        assert_eq!(
            element(ty, &bytes[..size as usize], u64::from(n) - 1),
            Some(got[n as usize - 1])
        );
        assert_eq!(element(ty, &bytes[..size as usize], u64::from(n)), None);
        seen += 1;
    }
    assert_eq!(seen, 23, "every type gguf-py dequantizes");
}

#[test]
fn bad_lengths_and_missing_dequantizers() {
    let mut out = [0f32; 32];
    assert!(!dequantize(GgmlType::Q8_0, &[0; 33], &mut out));
    assert!(!dequantize(GgmlType::Q1_0, &[0; 18], &mut [0f32; 128]));
    assert!(!dequantize(GgmlType::Unknown(99), &[], &mut []));
    assert!(why_no_values(GgmlType::Unknown(99)).unwrap().contains("99"));
    assert!(why_no_values(GgmlType::Q4_K).is_none());
    assert!(!fill(GgmlType::Q8_0, &[0; 34], 0, 1, &mut [0f32; 33]));
}

#[test]
fn q8_1_and_q8_k() {
    // Q8_1: f16 d = 0.5, f16 s (ignored), 32 codes
    let mut b = vec![0x00, 0x38, 0, 0];
    b.extend((0..32).map(|i| (i as i8 - 16) as u8));
    let mut out = [0f32; 32];
    assert!(dequantize(GgmlType::Q8_1, &b, &mut out));
    assert_eq!(out[0], -8.0);
    assert_eq!(out[31], 7.5);
    // Q8_K: f32 d = 2, 256 codes, 16 i16 sums
    let mut b = 2f32.to_le_bytes().to_vec();
    b.extend((0..256).map(|i| (i % 7) as u8));
    b.extend([0u8; 32]);
    let mut out = [0f32; 256];
    assert!(dequantize(GgmlType::Q8_K, &b, &mut out));
    assert_eq!(out[6], 12.0);
}

#[test]
fn scale_check_names_broken_blocks() {
    let mut data = Vec::new();
    for k in 0..10u16 {
        let d: u16 = match k {
            3 | 7 => 0x7E00, // NaN
            8 => 0x7C00,     // +Inf
            _ => 0x3C00,     // 1.0
        };
        data.extend(d.to_le_bytes());
        data.extend([1u8; 32]);
    }
    let c = scale_check(GgmlType::Q8_0, &data).unwrap();
    assert_eq!((c.blocks, c.nan_scale_blocks, c.inf_scale_blocks), (10, 2, 1));
    assert_eq!(c.first, [3, 7, 8]);
    assert!(scale_check(GgmlType::Unknown(5), &data).is_none());
}

#[test]
fn every_type_with_a_dequantizer_has_a_scale_check() {
    // the scale check (formats::gguf::scales) keeps its own list of types; it must be this one
    let data = [0u8; 512];
    for id in 0..64 {
        if let crate::model::DType::Ggml(ty) = crate::model::DType::from_ggml_id(id) {
            let blocks = ty.block().map_or(0, |(_, b)| b as usize);
            let data = &data[..blocks.min(data.len())];
            assert_eq!(scale_check(ty, data).is_some(), can_dequantize(ty), "{}", ty.name());
        }
    }
}
