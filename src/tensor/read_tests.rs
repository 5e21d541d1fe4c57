//! Tests of the strided-view materialiser (kept beside `read.rs`).
use super::testing::*;
use super::*;

fn all(r: &TensorReader, t: &TensorInfo) -> Vec<f32> {
    r.check(t).unwrap();
    let mut buf = Vec::new();
    floats(r.read_elems(t, 0, u64::MAX, &mut buf).unwrap())
}

#[test]
fn views_materialise_in_logical_order() {
    let dir = tempfile::tempdir().unwrap();
    let base = [6u64, 8];
    let ts = vec![
        view("base", &base, &[8, 1], 0, 192),
        view("rows", &[2, 8], &[8, 1], 16, 192),
        view("column", &[6], &[8], 3, 192),
        view("transposed", &[8, 6], &[1, 8], 0, 192),
        view("block", &[2, 3], &[8, 1], 10, 192),
        view("every_other", &[3, 3], &[16, 3], 0, 192),
        view("expanded", &[2, 3], &[0, 1], 0, 192),
        view("scalar", &[], &[], 5, 192),
        view("empty", &[0, 4], &[4, 1], 0, 192),
    ];
    let ck = checkpoint(dir.path(), &counting(48), ts);
    let r = TensorReader::new(&ck);
    let get = |n: &str| all(&r, ck.tensor(n).unwrap());
    assert_eq!(get("base"), (0..48).map(|i| i as f32).collect::<Vec<_>>());
    assert_eq!(get("rows"), (16..32).map(|i| i as f32).collect::<Vec<_>>());
    assert_eq!(get("column"), [3., 11., 19., 27., 35., 43.]);
    let t: Vec<f32> = (0..8).flat_map(|c| (0..6).map(move |r| (r * 8 + c) as f32)).collect();
    assert_eq!(get("transposed"), t);
    assert_eq!(get("block"), [10., 11., 12., 18., 19., 20.]);
    assert_eq!(get("every_other"), [0., 3., 6., 16., 19., 22., 32., 35., 38.]);
    assert_eq!(get("expanded"), [0., 1., 2., 0., 1., 2.]);
    assert_eq!(get("scalar"), [5.]);
    assert_eq!(get("empty"), Vec::<f32>::new());
    // chunked reads agree with one read
    let tr = ck.tensor("transposed").unwrap();
    let mut buf = Vec::new();
    let mid = floats(r.read_elems(tr, 8, 16, &mut buf).unwrap());
    assert_eq!(mid, t[8..24]);
}

proptest::proptest! {
    /// Any in-bounds strided view (permuted, sliced, broadcast) reads as the naive unravel, in
    /// one go or in chunks.
    #[test]
    fn any_view_reads_as_the_naive_unravel(
        shape in proptest::collection::vec(0u64..5, 0..4),
        stride_seed in proptest::collection::vec(0u64..7, 4),
        offset in 0u64..9,
        chunk in 1u64..7,
    ) {
        let strides: Vec<u64> = shape.iter().zip(&stride_seed).map(|(_, &s)| s).collect();
        let numel: u64 = shape.iter().product();
        let reach = shape.iter().zip(&strides).map(|(&d, &s)| d.saturating_sub(1) * s).sum::<u64>() + offset + 1;
        let dir = tempfile::tempdir().unwrap();
        let t = view("v", &shape, &strides, offset, reach * 4);
        let ck = checkpoint(dir.path(), &counting(reach as u32), vec![t.clone()]);
        let r = TensorReader::new(&ck);
        let naive: Vec<f32> = (0..numel)
            .map(|mut i| {
                let mut at = offset;
                for (&d, &s) in shape.iter().zip(&strides).rev() {
                    at += (i % d) * s;
                    i /= d;
                }
                at as f32
            })
            .collect();
        proptest::prop_assert_eq!(&all(&r, &t), &naive);
        let mut got = Vec::new();
        let mut buf = Vec::new();
        let mut at = 0;
        while at < numel {
            got.extend(floats(r.read_elems(&t, at, chunk, &mut buf).unwrap()));
            at += chunk;
        }
        proptest::prop_assert_eq!(&got, &naive);
    }
}

#[test]
fn copy_to_writes_the_materialised_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let ts = vec![view("t", &[4, 3], &[1, 4], 0, 48), view("c", &[3, 4], &[4, 1], 0, 48)];
    let ck = checkpoint(dir.path(), &counting(12), ts);
    let r = TensorReader::new(&ck);
    let out_path = dir.path().join("out");
    let mut out = File::create(&out_path).unwrap();
    let mut buf = Vec::new();
    assert_eq!(
        r.copy_to(&ck.tensors[0], (&mut out, &out_path), &mut buf, None, &mut |_| {})
            .unwrap(),
        48
    );
    assert_eq!(
        r.copy_to(&ck.tensors[1], (&mut out, &out_path), &mut buf, None, &mut |_| {})
            .unwrap(),
        48
    );
    drop(out);
    let got = floats(&std::fs::read(&out_path).unwrap());
    let transposed = [0., 4., 8., 1., 5., 9., 2., 6., 10., 3., 7., 11.];
    assert_eq!(got[..12], transposed);
    assert_eq!(got[12..], (0..12).map(|i| i as f32).collect::<Vec<_>>());
}

#[test]
fn absurd_expansions_and_bad_views_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let ts = vec![
        view("huge", &[1 << 20, 1 << 20], &[0, 0], 0, 4),
        view("outside", &[4, 4], &[4, 1], 1, 64),
        view("overflow", &[u64::MAX, 2], &[1, 1], 0, 64),
    ];
    let ck = checkpoint(dir.path(), &counting(16), ts);
    let r = TensorReader::new(&ck);
    let e = r.check(&ck.tensors[0]).unwrap_err();
    assert!(matches!(e, Error::Limit { .. }), "{e}");
    assert!(e.to_string().contains("expanded view"), "{e}");
    assert!(
        r.check(&ck.tensors[1])
            .unwrap_err()
            .to_string()
            .contains("needs 68 bytes")
    );
    assert!(r.check(&ck.tensors[2]).is_err());
}

#[test]
fn gather_copies_every_step() {
    let src: Vec<u8> = (0..32).collect();
    let mut out = Vec::new();
    gather(&src, 8, 4, 2, &mut out);
    assert_eq!(out, [0, 1, 8, 9, 16, 17, 24, 25]);
    out.clear();
    gather(&src, 3, 5, 1, &mut out);
    assert_eq!(out, [0, 3, 6, 9, 12]);
    out.clear();
    gather(&src, 12, 2, 4, &mut out);
    assert_eq!(out, [0, 1, 2, 3, 12, 13, 14, 15]);
}

/// review 37: a full output disk was reported against the input file.
#[test]
fn a_write_error_names_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let ck = checkpoint(dir.path(), &counting(12), vec![view("t", &[12], &[1], 0, 48)]);
    let r = TensorReader::new(&ck);
    let Ok(mut full) = File::options().write(true).open("/dev/full") else {
        return; // no /dev/full here
    };
    let out = Path::new("/out/o.safetensors");
    match r.copy_to(&ck.tensors[0], (&mut full, out), &mut Vec::new(), None, &mut |_| {}) {
        Err(Error::Io { path, source }) => {
            assert_eq!(path, out);
            assert_eq!(source.raw_os_error(), Some(libc::ENOSPC));
        }
        other => panic!("{other:?}"),
    }
}
