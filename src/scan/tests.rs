use super::*;

pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    // stored entries, CRCs left zero (ignored, as torch ignores them)
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, content) in entries {
        let off = out.len() as u32;
        let mut h = Vec::new();
        h.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        h.extend_from_slice(&(content.len() as u32).to_le_bytes());
        h.extend_from_slice(&(content.len() as u32).to_le_bytes());
        h.extend_from_slice(&(name.len() as u16).to_le_bytes());
        h.extend_from_slice(&[0, 0]);
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&h);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(content);
        central.extend_from_slice(b"PK\x01\x02\x14\x00");
        central.extend_from_slice(&h);
        central.extend_from_slice(&[0; 10]);
        central.extend_from_slice(&off.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

const SAFE_PKL: &[u8] = b"\x80\x02ccollections\nOrderedDict\n)R.";

#[test]
fn storage_entries_that_look_like_pickles_by_chance_stay_safe() {
    // "N." parses as a pickle, then garbage; a 'c' with binary names; a PROTO then garbage
    let r = scan_bytes(
        "x.pt",
        &zip_of(&[
            ("a/data.pkl", SAFE_PKL),
            ("a/data/0", b"N.\xff\xfe\x00\x01"),
            ("a/data/1", b"c\x01\x02\n\x03\n\x04"),
            ("a/data/2", b"\x80\x02\xff\xff"),
            ("a/data/3", b""),
        ]),
    );
    assert_eq!(r.verdict, Verdict::Safe, "{:?}", r.findings);
}

#[test]
fn broken_pkl_entries_are_suspicious() {
    let r = scan_bytes("x.pt", &zip_of(&[("a/data.pkl", &SAFE_PKL[..SAFE_PKL.len() - 1])]));
    assert_eq!(r.verdict, Verdict::Suspicious);
    assert!(r.findings[0].why.contains("broken"), "{:?}", r.findings);
    assert!(r.findings[0].global.is_none());
}

#[test]
fn classify_uses_allowlist_then_dangerous_list() {
    use super::walk::{GlobalRef, How};
    let c = Collector::default();
    let classify = |e: &str, b: u64, g: &GlobalRef| c.classify(e, b, g).0;
    let g = |m: &str, n: &str, how| GlobalRef {
        module: m.into(),
        name: n.into(),
        offset: 5,
        how,
        nested: false,
        cut: false,
    };
    assert!(classify("e", 0, &g("torch._utils", "_rebuild_tensor_v2", How::Global)).is_none());
    assert!(classify("e", 0, &g("torch._utils", "_rebuild_tensor_v3", How::StackGlobal)).is_none());
    let f = classify("e", 10, &g("os", "system", How::StackGlobal)).unwrap();
    assert_eq!(
        (f.severity, f.offset, f.global.as_deref()),
        (Severity::Dangerous, Some(15), Some("os.system"))
    );
    let f = classify("e", 0, &g("mypkg", "Model", How::Global)).unwrap();
    assert_eq!(f.severity, Severity::Suspicious);
    assert_eq!(
        classify("e", 0, &g("os", "?", How::Unresolved)).unwrap().severity,
        Severity::Dangerous
    );
    assert_eq!(
        classify("e", 0, &g("?", "system", How::Unresolved)).unwrap().severity,
        Severity::Suspicious
    );
    assert_eq!(
        classify("e", 0, &g("copyreg extension", "7", How::Extension))
            .unwrap()
            .severity,
        Severity::Suspicious
    );
    let nested = GlobalRef {
        nested: true,
        ..g("posix", "system", How::Global)
    };
    assert!(classify("e", 0, &nested).unwrap().why.contains("inside a bytes value"));
}

#[test]
fn a_file_verdict_is_its_worst_finding_and_pickles_get_their_own() {
    let data = [SAFE_PKL, b"\x80\x02cmypkg\nThing\n.", b"\x80\x02cos\nsystem\n."].concat();
    let r = scan_bytes("x.pkl", &data);
    assert_eq!(r.verdict, Verdict::Dangerous);
    let v: Vec<Verdict> = r.pickles.iter().map(|p| p.verdict).collect();
    assert_eq!(v, [Verdict::Safe, Verdict::Suspicious, Verdict::Dangerous]);
}

#[test]
fn scan_file_never_fails() {
    let dir = std::env::temp_dir().join(format!("tensorscope-scan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.bin");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(scan_file(&empty).verdict, Verdict::Suspicious);
    assert_eq!(
        scan_file(&dir.join("missing")).verdict,
        Verdict::Error,
        "not opened: an error, never safe"
    );
    assert!(scan_paths(&[dir.join("missing")]).is_err());
    // a folder of no checkpoint is an error; with one, the others are listed as skipped
    std::fs::write(dir.join("notes.txt"), b"hello").unwrap();
    let e = scan_paths(std::slice::from_ref(&dir)).unwrap_err().to_string();
    assert!(e.contains("no checkpoint found (2 files skipped"), "{e}");
    std::fs::write(dir.join("m.pkl"), b"\x80\x02}q\x00.").unwrap();
    let r = scan_paths(std::slice::from_ref(&dir)).unwrap();
    assert_eq!(r.files.len(), 1);
    let skipped: Vec<&str> = r.skipped.iter().map(|s| s.looks.as_str()).collect();
    assert_eq!(skipped, ["an empty file", "text"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_folder_linked_into_itself_is_walked_once() {
    // `a -> .` and `b -> .` made scan fail with "folder depth 33 exceeds the limit of 32"
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("m.pkl"), b"\x80\x02}q\x00.").unwrap();
    std::os::unix::fs::symlink(".", dir.join("a")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("b")).unwrap();
    let r = scan_paths(&[dir.to_path_buf()]).unwrap();
    assert_eq!(
        r.files.len(),
        1,
        "{:?}",
        r.files.iter().map(|f| &f.path).collect::<Vec<_>>()
    );
    assert_eq!(r.files[0].verdict, Verdict::Safe);
}

#[test]
fn damaged_compressed_files_are_named_and_never_safe() {
    // bzip2 and zstd are opened (joblib, pandas and Python's readers read them); damaged is suspicious
    for (data, format) in [(&b"BZh91AY&SY\x00\x00"[..], "bzip2"), (b"\x28\xb5\x2f\xfd\x00", "zstd")] {
        let r = scan_bytes("x.pkl.z", data);
        assert_eq!((r.verdict, r.format.as_str()), (Verdict::Suspicious, format));
        assert!(
            r.findings[0].why.contains(&format!("cannot scan the {format} data")),
            "{:?}",
            r.findings
        );
    }
    // xz is opened (joblib and lzma.open read it); a damaged stream is suspicious
    let r = scan_bytes("x.pkl.xz", b"\xfd7zXZ\x00\x00\x04");
    assert_eq!((r.verdict, r.format.as_str()), (Verdict::Suspicious, "xz"));
    assert!(
        r.findings[0].why.contains("cannot scan the xz data"),
        "{:?}",
        r.findings
    );
    // a damaged gzip stream is suspicious, not skipped
    let r = scan_bytes("x.pkl.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xff");
    assert_eq!((r.verdict, r.format.as_str()), (Verdict::Suspicious, "gzip"));
}

/// A valid safetensors file whose header length is `len` bytes (padded with spaces, as writers do).
fn safetensors_with_header_len(len: usize) -> Vec<u8> {
    let mut h = br#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#.to_vec();
    assert!(h.len() <= len);
    h.resize(len, b' ');
    let mut out = (len as u64).to_le_bytes().to_vec();
    out.extend(h);
    out.extend([0u8; 8]);
    out
}

#[test]
fn a_header_length_that_starts_with_an_opcode_byte_is_no_false_alarm() {
    // every low byte of the length is some opcode or none: real files hit all of them (a 200,000-tensor
    // file's length started with `P`, PERSID, which reads on into the JSON and breaks there)
    let mut alarms = Vec::new();
    for low in 0..=255usize {
        let len = 0x5800 + low;
        let data = safetensors_with_header_len(len);
        let f = scan_bytes("m.safetensors", &data);
        if f.verdict != Verdict::Safe {
            alarms.push(format!("{len:#x}: {:?}", f.findings));
        }
    }
    assert!(alarms.is_empty(), "{alarms:#?}");
}

#[test]
fn a_header_longer_than_a_pickle_line_is_read_to_its_newline_as_cpython_reads_it() {
    // 16 MiB of header after `P` (PERSID) or `I` (INT) with no newline anywhere: CPython's readline()
    // reaches the end of the file and raises, as the walk does (no limit, no alarm)
    let big = crate::formats::pickle::ops::MAX_LINE_LEN + 0x100;
    for op in [b'P', b'I', b'p', b'c'] {
        let len = (big & !0xff) | usize::from(op);
        let f = scan_bytes("m.safetensors", &safetensors_with_header_len(len));
        assert_eq!(f.verdict, Verdict::Safe, "{}: {:?}", op as char, f.findings);
    }
    // `V` (UNICODE) whose line ends at the header's last byte, then the data bytes are opcodes:
    // NONE, STOP, a complete pickle through the header into the data
    let len = (big & !0xff) | usize::from(b'V');
    let mut data = safetensors_with_header_len(len);
    let end = data.len() - 8;
    data[end - 1] = b'\n';
    data[end..].copy_from_slice(b"N.\0\0\0\0\0\0");
    assert_ne!(scan_bytes("m.safetensors", &data).verdict, Verdict::Safe);
}

/// An archive inside an archive is scanned as a file of its own (a torch.save zip inside a
/// torch.export `.pt2`, which `torch.export.load` hands to `torch.load`), down to a fixed depth: a
/// payload one level in is found, and nesting past the limit is suspicious, never safe or endless.
#[test]
fn archives_inside_archives_are_scanned_to_a_depth() {
    let evil = b"\x80\x02cposix\nsystem\nX\x04\x00\x00\x00true\x85R.";
    let inner = zip_of(&[("m/data.pkl", evil)]);
    let outer = zip_of(&[("base/data/sample_inputs/model.pt", &inner)]);
    let r = scan_bytes("x.pt2", &outer);
    assert_eq!(r.verdict, Verdict::Dangerous, "{r:?}");
    assert_eq!(r.findings[0].entry, "base/data/sample_inputs/model.pt/m/data.pkl");
    let mut deep = zip_of(&[("a/data.pkl", SAFE_PKL)]);
    for i in 0..6 {
        deep = zip_of(&[(&format!("level{i}/x.bin"), &deep)]);
    }
    let r = scan_bytes("deep.zip", &deep);
    assert_eq!(r.verdict, Verdict::Suspicious, "{r:?}");
    assert!(r.findings.iter().any(|f| f.why.contains("nested more than")), "{r:?}");
}

/// Raw bytes of a member that merely start like a zlib or LZMA header (weights do, by chance) are
/// not taken for a compressed file: the member is judged as it was before nested files were opened
/// (and a storage the archive's pickle names is never opened at all).
#[test]
fn members_that_only_look_compressed_are_not_opened() {
    let heads: [&[u8]; 2] = [
        b"\x78\x9c\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c",
        b"\x5d\x00\x10\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09",
    ];
    for head in heads {
        let zip = zip_of(&[("base/data/weights/weight_0", head)]);
        let r = scan_bytes("x.pt2", &zip);
        assert!(r.findings.iter().all(|f| !f.why.contains("cannot scan the")), "{r:?}");
    }
}
