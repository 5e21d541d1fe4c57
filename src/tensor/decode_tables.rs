//! Every bit pattern of every float kind of 8 bits or fewer against the values ml_dtypes gives
//! (tests/data/dtypes/*.txt, made by make_tables.py), decoded through the public element decoder.

use crate::checkpoint::DType;
use crate::tensor::decode::{Value, element};

const TABLES: [(DType, &str); 8] = [
    (DType::F8_E4M3, include_str!("../../tests/data/dtypes/F8_E4M3.txt")),
    (DType::F8_E5M2, include_str!("../../tests/data/dtypes/F8_E5M2.txt")),
    (DType::F8_E8M0, include_str!("../../tests/data/dtypes/F8_E8M0.txt")),
    (
        DType::F8_E4M3FNUZ,
        include_str!("../../tests/data/dtypes/F8_E4M3FNUZ.txt"),
    ),
    (
        DType::F8_E5M2FNUZ,
        include_str!("../../tests/data/dtypes/F8_E5M2FNUZ.txt"),
    ),
    (DType::F6_E2M3, include_str!("../../tests/data/dtypes/F6_E2M3.txt")),
    (DType::F6_E3M2, include_str!("../../tests/data/dtypes/F6_E3M2.txt")),
    (DType::F4, include_str!("../../tests/data/dtypes/F4.txt")),
];

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a == b && a.is_sign_negative() == b.is_sign_negative())
}

#[test]
fn every_bit_pattern_matches_ml_dtypes() {
    for (dtype, text) in TABLES {
        let width = dtype.bits();
        let mut seen = 0;
        for line in text.lines() {
            let (code, want) = line.split_once(' ').unwrap();
            let code = u8::from_str_radix(code.trim_start_matches("0x"), 16).unwrap();
            let want: f64 = want.parse().unwrap();
            // the code alone in its byte (element 0), and as element 1 after another element
            let data = match width {
                8 => vec![code],
                4 => vec![0x0f | code << 4],
                _ => vec![0x3f | code << 6, code >> 2],
            };
            let index = u64::from(width != 8);
            let got = match element(dtype, &data, index) {
                Some(Value::Float(x)) => x,
                other => panic!("{dtype} 0x{code:02x}: {other:?}"),
            };
            assert!(
                same(got, want),
                "{dtype} 0x{code:02x}: got {got}, ml_dtypes says {want}"
            );
            seen += 1;
        }
        assert_eq!(seen, 1 << width, "{dtype}: table incomplete");
    }
}

#[test]
fn packed_vectors_decode_in_element_order() {
    let text = include_str!("../../tests/data/dtypes/packed.txt");
    let mut checked = 0;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let dtype = DType::from_safetensors_name(f[0]).unwrap();
        let count: u64 = f[1].parse().unwrap();
        let bytes: Vec<u8> = (0..f[2].len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&f[2][i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(dtype.bytes_for(count), Some(bytes.len() as u64));
        for (i, code) in f[3..].iter().enumerate() {
            let code = u8::from_str_radix(code, 16).unwrap();
            assert_eq!(
                super::sub_byte_code(&bytes, i as u64, dtype.bits()),
                Some(code),
                "{line}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 21);
}
