//! Tests of compress.rs (beside it, which would otherwise pass 500 lines).
use super::*;

fn gz(plain: &[u8]) -> Vec<u8> {
    let mut v = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    v.extend(miniz_oxide::deflate::compress_to_vec(plain, 6));
    v.extend([0; 8]);
    v
}

#[test]
fn members_are_concatenated_and_bounded() {
    let two = [gz(b"abc"), gz(b"def")].concat();
    assert_eq!(gunzip(&two, 100).unwrap(), b"abcdef");
    let padded = [gz(b"abc"), vec![0; 7], gz(b"def"), vec![0; 3]].concat();
    assert_eq!(gunzip(&padded, 100).unwrap(), b"abcdef");
    assert!(
        gunzip(&gz(&[7u8; 5000]), 4096)
            .unwrap_err()
            .why
            .contains("more than 4096")
    );
    assert!(gunzip(&gz(b"abc")[..12], 100).is_err());
    assert_eq!(kind(&gz(b"x")), Some(Compression::Gzip));
    assert_eq!(kind(b"BZh91AY"), Some(Compression::Bzip2));
    assert_eq!(kind(b"\x80\x02"), None);
}

#[test]
fn zlib_streams_and_lzma_alone_are_opened_and_bounded() {
    let z = miniz_oxide::deflate::compress_to_vec_zlib(b"abc", 6);
    assert_eq!(kind(&z), Some(Compression::Zlib));
    assert_eq!(unzlib(&[z.clone(), z.clone()].concat(), 100).unwrap(), b"abcabc");
    assert!(unzlib(&z[..z.len() - 3], 100).is_err());
    let big = miniz_oxide::deflate::compress_to_vec_zlib(&[0u8; 5000], 6);
    assert!(unzlib(&big, 4096).unwrap_err().why.contains("more than 4096"));
    let mut l = Vec::new();
    lzma_rs::lzma_compress(&mut &[7u8; 5000][..], &mut l).unwrap();
    assert_eq!(kind(&l), Some(Compression::LzmaAlone));
    assert_eq!(unlzma(&l, false, 10_000).unwrap(), vec![7u8; 5000]);
    assert!(unlzma(&l, false, 4096).unwrap_err().why.contains("more than 4096"));
    let mut x = Vec::new();
    lzma_rs::xz_compress(&mut &b"xyz"[..], &mut x).unwrap();
    assert_eq!(unlzma(&x, true, 100).unwrap(), b"xyz");
}

fn lzma(plain: &[u8], xz: bool) -> Vec<u8> {
    let mut v = Vec::new();
    if xz {
        lzma_rs::xz_compress(&mut &plain[..], &mut v).unwrap();
    } else {
        lzma_rs::lzma_compress(&mut &plain[..], &mut v).unwrap();
    }
    v
}

#[test]
fn lzma_streams_are_read_one_after_another_as_lzmafile_reads_them() {
    // an "alone" stream, then an xz one, then xz stream padding
    let (a, x) = (lzma(b"abc", false), lzma(b"def", true));
    assert_eq!(unlzma(&[a.clone(), a.clone()].concat(), false, 100).unwrap(), b"abcabc");
    assert_eq!(
        unlzma(&[a.clone(), x.clone(), vec![0; 4]].concat(), false, 100).unwrap(),
        b"abcdef"
    );
    assert_eq!(unlzma(&[x.clone(), a.clone()].concat(), true, 100).unwrap(), b"defabc");
    // bytes that open no stream: what came before is kept and the stop says why
    let junk = unlzma(&[a.clone(), vec![0xff; 20]].concat(), false, 100).unwrap_err();
    assert_eq!(
        (junk.got.as_slice(), junk.why.as_str()),
        (&b"abc"[..], "20 bytes after the last LZMA stream are not a stream")
    );
    let cut = unlzma(&[a.clone(), x[..x.len() - 5].to_vec()].concat(), false, 100).unwrap_err();
    assert!(cut.got.starts_with(b"abc") && cut.why.contains("damaged or truncated"));
    // the limit counts every stream
    assert!(
        unlzma(&[a.clone(), a].concat(), false, 5)
            .unwrap_err()
            .why
            .contains("more than 5")
    );
}

#[test]
fn a_declared_size_with_an_end_marker_ends_after_the_marker_as_liblzma_reads_it() {
    let mut a = lzma(b"abc", false);
    assert_eq!(a[5..13], [0xff; 8], "lzma_rs writes an end marker and no size");
    a[5..13].copy_from_slice(&3u64.to_le_bytes());
    let two = [a, lzma(b"def", false)].concat();
    assert_eq!(unlzma(&two, false, 100).unwrap(), b"abcdef");
}

#[test]
fn alone_headers_are_taken_as_liblzma_detects_them() {
    let header = |props: u8, dict: u32, size: u64| [&[props][..], &dict.to_le_bytes(), &size.to_le_bytes()].concat();
    assert!(liblzma_takes_alone(&header(0x5d, 1 << 23, u64::MAX)));
    assert!(liblzma_takes_alone(&header(0, 3 << 15, 10))); // 2^16 + 2^15
    assert!(liblzma_takes_alone(&header(0, u32::MAX, 10)));
    assert!(!liblzma_takes_alone(&header(0, (1 << 16) + 1, 10)));
    assert!(!liblzma_takes_alone(&header(225, 1 << 16, 10)));
    assert!(!liblzma_takes_alone(&header(8, 1 << 16, 10))); // lc 8: lc + lp over 4
    assert!(!liblzma_takes_alone(&header(0, 1 << 16, 1 << 38)));
    assert!(!liblzma_takes_alone(&header(0, 1 << 16, 1)[..12]));
    assert_eq!(
        kind_by_name("x.PKL.XZ", &header(0, 1 << 16, 1)),
        Some(Compression::LzmaAlone)
    );
    assert_eq!(
        kind_by_name("x.tar", &header(0, 1 << 16, 1)),
        Some(Compression::LzmaAlone)
    );
    assert_eq!(kind_by_name("x.bin", &header(0, 1 << 16, 1)), None);
}

fn bz2(plain: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    e.write_all(plain).unwrap();
    e.finish().unwrap()
}

fn zst(plain: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(plain, ruzstd::encoding::CompressionLevel::Fastest)
}

#[test]
fn bzip2_streams_are_opened_as_bz2file_reads_them_and_bounded() {
    let one = bz2(b"abc");
    assert_eq!(kind(&one), Some(Compression::Bzip2));
    assert_eq!(unbzip2(&[one.clone(), bz2(b"def")].concat(), 100).unwrap(), b"abcdef");
    // data after the last stream that is not a stream is ignored, as BZ2File ignores it
    assert_eq!(
        unbzip2(&[one.clone(), b"trailing".to_vec()].concat(), 100).unwrap(),
        b"abc"
    );
    assert!(unbzip2(&one[..one.len() - 4], 100).is_err());
    // 50 MB of zeros is a 50-byte bzip2 file: the limit stops it
    let bomb = bz2(&vec![0u8; 50 << 20]);
    assert!(bomb.len() < 200, "{}", bomb.len());
    assert!(unbzip2(&bomb, 1 << 20).unwrap_err().why.contains("more than 1048576"));
}

#[test]
fn zstd_frames_are_opened_skippable_frames_skipped_and_bounded() {
    let one = zst(b"abc");
    assert_eq!(kind(&one), Some(Compression::Zstd));
    assert_eq!(unzstd(&[one.clone(), zst(b"def")].concat(), 100).unwrap(), b"abcdef");
    let skip = [&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0][..], b"xyz"].concat();
    assert_eq!(kind(&skip), Some(Compression::Zstd));
    assert_eq!(unzstd(&[skip.clone(), one.clone()].concat(), 100).unwrap(), b"abc");
    assert_eq!(
        unzstd(&[one.clone(), b"trailing".to_vec()].concat(), 100).unwrap(),
        b"abc"
    );
    assert!(unzstd(&skip, 100).is_err());
    assert!(unzstd(&skip[..6], 100).is_err());
    assert!(unzstd(&one[..one.len() - 2], 100).is_err());
    let bomb = zst(&vec![0u8; 50 << 20]);
    assert!(bomb.len() < 20_000, "{}", bomb.len());
    assert!(unzstd(&bomb, 1 << 20).unwrap_err().why.contains("more than 1048576"));
    // a frame asking for a 1 GiB window (window descriptor exponent 20) is refused before any block
    let huge = [&ZSTD_MAGIC[..], &[0x00, 0xa0], &[0u8; 8]].concat();
    assert!(unzstd(&huge, 100).is_err());
}
