use super::*;

/// One entry to write: name in the central directory, name in the local header, content, flags.
struct W<'a> {
    name: &'a str,
    local_name: &'a str,
    content: Vec<u8>,
    flags: u16,
    method: u16,
    local_size: Option<u32>,
    /// Uncompressed size to declare, when not the content's length (deflated entries).
    unpacked: Option<u32>,
}

fn w(name: &str, content: &[u8]) -> W<'static> {
    let name: &'static str = Box::leak(name.to_string().into_boxed_str());
    W {
        name,
        local_name: name,
        content: content.to_vec(),
        flags: 0,
        method: 0,
        local_size: None,
        unpacked: None,
    }
}

/// A minimal zip writer; `zip64` forces zip64 end records and central extra fields.
fn build(entries: &[W], zip64: bool, comment: &[u8]) -> Vec<u8> {
    let mut out = b"prefix".to_vec();
    let mut central = Vec::new();
    for e in entries {
        let off = out.len() as u64;
        let size = e.content.len() as u32;
        out.extend_from_slice(b"PK\x03\x04\x14\x00");
        out.extend_from_slice(&e.flags.to_le_bytes());
        out.extend_from_slice(&e.method.to_le_bytes());
        out.extend_from_slice(&[0; 8]); // time, date, crc
        let ls = e.local_size.unwrap_or(size);
        out.extend_from_slice(&ls.to_le_bytes());
        out.extend_from_slice(&e.unpacked.unwrap_or(ls).to_le_bytes());
        out.extend_from_slice(&(e.local_name.len() as u16).to_le_bytes());
        out.extend_from_slice(&3u16.to_le_bytes());
        out.extend_from_slice(e.local_name.as_bytes());
        out.extend_from_slice(b"pad");
        out.extend_from_slice(&e.content);
        central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00");
        central.extend_from_slice(&e.flags.to_le_bytes());
        central.extend_from_slice(&e.method.to_le_bytes());
        central.extend_from_slice(&[0; 8]);
        let (s32, o32) = if zip64 {
            (u32::MAX, u32::MAX)
        } else {
            (size, off as u32)
        };
        central.extend_from_slice(&s32.to_le_bytes());
        let u32_ = if zip64 { u32::MAX } else { e.unpacked.unwrap_or(size) };
        central.extend_from_slice(&u32_.to_le_bytes());
        central.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        central.extend_from_slice(&(if zip64 { 28u16 } else { 0 }).to_le_bytes());
        central.extend_from_slice(&[0; 8]); // comment len, disk, internal, external(2 of 4)
        central.extend_from_slice(&[0; 2]);
        central.extend_from_slice(&o32.to_le_bytes());
        central.extend_from_slice(e.name.as_bytes());
        if zip64 {
            central.extend_from_slice(&1u16.to_le_bytes());
            central.extend_from_slice(&24u16.to_le_bytes());
            central.extend_from_slice(&u64::from(e.unpacked.unwrap_or(size)).to_le_bytes());
            central.extend_from_slice(&u64::from(size).to_le_bytes());
            central.extend_from_slice(&off.to_le_bytes());
        }
    }
    let cd_off = out.len() as u64;
    out.extend_from_slice(&central);
    let n = entries.len() as u64;
    if zip64 {
        let e64 = out.len() as u64;
        out.extend_from_slice(b"PK\x06\x06");
        out.extend_from_slice(&44u64.to_le_bytes());
        out.extend_from_slice(&[0x2d, 0, 0x2d, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(central.len() as u64).to_le_bytes());
        out.extend_from_slice(&cd_off.to_le_bytes());
        out.extend_from_slice(b"PK\x06\x07\0\0\0\0");
        out.extend_from_slice(&e64.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
    }
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    let n16 = if zip64 { 0xffff } else { n as u16 };
    out.extend_from_slice(&n16.to_le_bytes());
    out.extend_from_slice(&n16.to_le_bytes());
    let (cs, co) = if zip64 {
        (u32::MAX, u32::MAX)
    } else {
        (central.len() as u32, cd_off as u32)
    };
    out.extend_from_slice(&cs.to_le_bytes());
    out.extend_from_slice(&co.to_le_bytes());
    out.extend_from_slice(&(comment.len() as u16).to_le_bytes());
    out.extend_from_slice(comment);
    out
}

fn content_of<'a>(data: &'a [u8], e: &Entry) -> &'a [u8] {
    &data[e.data.start as usize..e.data.end as usize]
}

#[test]
fn lists_entries_in_order_with_data_ranges() {
    for zip64 in [false, true] {
        let data = build(
            &[
                w("a/data.pkl", b"\x80\x02N."),
                w("a/data/0", &[1, 2, 3, 4]),
                w("a/version", b"3\n"),
            ],
            zip64,
            b"",
        );
        let ar = read(&data).unwrap();
        assert_eq!(ar.zip64, zip64);
        let names: Vec<&str> = ar.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a/data.pkl", "a/data/0", "a/version"]);
        assert_eq!(content_of(&data, &ar.entries[1]), &[1, 2, 3, 4]);
        assert_eq!(&*content(&data, &ar.entries[0], 100).unwrap(), b"\x80\x02N.");
        assert!(
            ar.entries
                .iter()
                .all(|e| e.mismatches.is_empty() && e.error.is_none() && e.is_stored())
        );
        assert!(ar.problems.is_empty(), "{:?}", ar.problems);
    }
}

#[test]
fn keeps_both_of_two_same_named_entries() {
    let data = build(&[w("a/data.pkl", b"first"), w("a/data.pkl", b"second")], false, b"");
    let ar = read(&data).unwrap();
    let found: Vec<&[u8]> = ar.find("a/data.pkl").map(|e| content_of(&data, e)).collect();
    assert_eq!(found, [&b"first"[..], &b"second"[..]]);
}

#[test]
fn reports_local_headers_that_disagree() {
    let mut liar = w("a/data.pkl", b"payload");
    liar.local_name = "a/other.pk";
    let mut sized = w("a/data/0", b"1234");
    sized.local_size = Some(99);
    let mut described = w("a/data/1", b"5678");
    described.flags = 8;
    described.local_size = Some(0);
    let data = build(&[liar, sized, described], false, b"");
    let ar = read(&data).unwrap();
    assert!(
        ar.entries[0].mismatches[0].contains("a/other.pk"),
        "{:?}",
        ar.entries[0].mismatches
    );
    assert!(
        ar.entries[1].mismatches[0].contains("99"),
        "{:?}",
        ar.entries[1].mismatches
    );
    assert!(
        ar.entries[2].mismatches.is_empty(),
        "a data descriptor is not a mismatch"
    );
    // data is still located per the central directory, as torch does
    assert_eq!(content_of(&data, &ar.entries[0]), b"payload");
}

#[test]
fn encrypted_flag_is_listed_not_refused() {
    let mut e = w("a/data.pkl", b"x");
    e.flags = 1;
    let data = build(&[e], false, b"");
    let ar = read(&data).unwrap();
    assert!(ar.entries[0].is_encrypted());
    assert_eq!(content_of(&data, &ar.entries[0]), b"x");
}

#[test]
fn deflated_entries_inflate_with_a_limit() {
    let packed = miniz_oxide::deflate::compress_to_vec(&[7u8; 1000], 6);
    let mut e = w("a/data.pkl", &packed);
    e.method = METHOD_DEFLATED;
    e.unpacked = Some(1000);
    let data = build(&[e], false, b"");
    let ar = read(&data).unwrap();
    assert!(ar.entries[0].is_deflated());
    assert_eq!(&*content(&data, &ar.entries[0], 1000).unwrap(), &[7u8; 1000][..]);
    // the declared size is checked before anything is inflated
    let e = content(&data, &ar.entries[0], 999).unwrap_err().0;
    assert!(e.contains("inflates to 1.0 kB, more than the limit of 999 B"), "{e}");
    // data that inflates past its declared size is refused
    let mut e = w("a/data.pkl", &packed);
    e.method = METHOD_DEFLATED;
    e.unpacked = Some(500);
    let data = build(&[e], false, b"");
    let ar = read(&data).unwrap();
    assert!(content(&data, &ar.entries[0], 1000).is_err());
    assert!(inflate(b"\xff\xff\xff", 10).is_err());
}

#[test]
fn comments_and_trailing_bytes_are_problems() {
    let mut data = build(&[w("a/x", b"1")], false, b"hello");
    assert!(read(&data).unwrap().problems.is_empty());
    data.extend_from_slice(b"junk");
    let ar = read(&data).unwrap();
    assert!(ar.problems[0].contains("comment"), "{:?}", ar.problems);
    assert_eq!(ar.entries.len(), 1);
}

#[test]
fn hostile_archives_are_errors() {
    assert!(read(b"").is_err());
    assert!(
        read(b"PK\x03\x04 not really a zip at all, no end record")
            .unwrap_err()
            .0
            .contains("end-of-central")
    );
    let good = build(&[w("a/x", b"1")], false, b"");
    let eocd = good.len() - 22;
    // entry count far larger than the directory
    let mut d = good.clone();
    d[eocd + 8..eocd + 12].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    assert!(read(&d).is_err());
    // central directory offset past the end record
    let mut d = good.clone();
    d[eocd + 16..eocd + 20].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(read(&d).unwrap_err().0.contains("runs past"));
    // local header offset outside the file: entry-level error, not a panic
    let mut d = good.clone();
    let cd = u32::from_le_bytes(d[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
    d[cd + 42..cd + 46].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let ar = read(&d).unwrap();
    assert!(ar.entries[0].error.as_ref().unwrap().contains("no local header"));
    assert!(content(&d, &ar.entries[0], 10).is_err());
    // data size past the end of the file
    let mut d = good.clone();
    d[cd + 20..cd + 24].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
    assert!(
        read(&d).unwrap().entries[0]
            .error
            .as_ref()
            .unwrap()
            .contains("past the end")
    );
    // zip64 sentinel without the extra field
    let mut d = good.clone();
    d[cd + 24..cd + 28].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(read(&d).unwrap_err().0.contains("zip64"));
}

#[test]
fn every_truncation_is_an_error_and_every_flip_is_handled() {
    let data = build(&[w("a/data.pkl", b"abc"), w("a/data/0", &[0; 64])], true, b"");
    for n in 0..data.len() {
        assert!(read(&data[..n]).is_err(), "truncated at {n} of {}", data.len());
        let mut flipped = data.clone();
        flipped[n] ^= 0xff;
        if let Ok(ar) = read(&flipped) {
            for e in &ar.entries {
                let _ = content(&flipped, e, 1 << 20);
            }
        }
    }
}

/// A real `torch.save` archive, committed with the samples (made by `samples/make_samples.py`).
#[test]
fn reads_a_real_torch_archive() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/gpt2-tiny.bin");
    let data = std::fs::read(path).expect("the committed sample is there");
    let ar = read(&data).unwrap();
    assert!(ar.zip64);
    assert!(ar.problems.is_empty(), "{:?}", ar.problems);
    assert!(ar.entries.iter().all(|e| e.mismatches.is_empty() && e.error.is_none()));
    assert_eq!(ar.find("gpt2-tiny/data.pkl").count(), 1);
    let storages: Vec<_> = ar
        .entries
        .iter()
        .filter(|e| e.name.starts_with("gpt2-tiny/data/"))
        .collect();
    assert!(storages.len() > 1);
    assert!(storages.iter().all(|e| e.data.start % 64 == 0));
}

#[test]
fn prefetch_names_every_local_header_before_it_is_read() {
    let data = build(
        &[w("a/data.pkl", b"x"), w("a/data/0", &[0; 10]), w("a/version", b"3\n")],
        false,
        b"",
    );
    let mut asked = Vec::new();
    let ar = read_prefetching(&data, &mut |r| asked.push(r)).unwrap();
    assert_eq!(ar, read(&data).unwrap());
    for e in &ar.entries {
        assert!(
            asked
                .iter()
                .any(|r| r.start <= e.local_header_offset && e.data.start <= r.end),
            "{} not asked for: {asked:?}",
            e.name
        );
    }
    assert_eq!(asked.len(), 1, "headers this close are one range");
    assert!(asked.iter().all(|r| r.end <= data.len() as u64));
}

#[test]
fn find_looks_up_every_name_of_a_large_archive() {
    let names: Vec<String> = (0..3000).map(|i| format!("a/data/{i}")).collect();
    let entries: Vec<W> = names.iter().map(|n| w(n, n.as_bytes())).collect();
    let data = build(&entries, true, b"");
    let ar = read(&data).unwrap();
    for n in &names {
        let found: Vec<&Entry> = ar.find(n).collect();
        assert_eq!(found.len(), 1, "{n}");
        assert_eq!(content_of(&data, found[0]), n.as_bytes());
    }
    assert_eq!(ar.find("a/data/3000").count(), 0);
    assert_eq!(ar.find("").count(), 0);
}

#[test]
fn a_guessed_position_is_taken_only_when_no_name_repeats() {
    let data = build(
        &[w("a/data.pkl", b"p"), w("a/data/0", b"0"), w("a/data/1", b"1")],
        false,
        b"",
    );
    let ar = read(&data).unwrap();
    assert!(ar.names_distinct());
    assert_eq!(ar.find_unique_at(1, "a/data/0").map(|e| e.index), Some(1));
    // the wrong place, or past the end: the caller looks the name up instead
    assert!(ar.find_unique_at(2, "a/data/0").is_none());
    assert!(ar.find_unique_at(3, "a/data/1").is_none());
    let data = build(&[w("a/data/0", b"first"), w("a/data/0", b"second")], false, b"");
    let ar = read(&data).unwrap();
    assert!(!ar.names_distinct());
    assert!(ar.find_unique_at(0, "a/data/0").is_none());
    assert_eq!(ar.find("a/data/0").count(), 2);
}

#[test]
fn names_that_are_not_utf8_keep_their_bytes() {
    let data = build(&[w("a/\u{e9}", b"x")], false, b"");
    let raw: Vec<u8> = "a/\u{e9}".as_bytes().to_vec();
    assert_eq!(read(&data).unwrap().entries[0].raw_name(), raw.as_slice());
    // the same archive with the name's last byte made invalid UTF-8 (in both headers)
    let mut bad = data.clone();
    let n = raw.len();
    for i in 0..=bad.len() - n {
        if bad[i..i + n] == raw[..] {
            bad[i + n - 1] = 0xff;
        }
    }
    let ar = read(&bad).unwrap();
    let e = &ar.entries[0];
    assert_eq!(e.raw_name(), b"a/\xc3\xff");
    assert_eq!(e.name, "a/\u{fffd}\u{fffd}");
    assert!(e.mismatches.is_empty(), "{:?}", e.mismatches);
    assert_eq!(ar.find("a/\u{fffd}\u{fffd}").count(), 0);
}
