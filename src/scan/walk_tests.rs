use super::*;
use std::cell::RefCell;
use std::rc::Rc;

fn names(s: &Stream<'_>) -> Vec<String> {
    s.globals().map(|g| format!("{}.{}", g.module, g.name)).collect()
}

#[test]
fn string_literals_decode_escapes() {
    assert_eq!(string_literal(b"'os'").as_deref(), Some("os"));
    assert_eq!(string_literal(b"\"o\\x73\"").as_deref(), Some("os"));
    assert_eq!(string_literal(b"'sys\\164em'").as_deref(), Some("system"));
    assert_eq!(string_literal(b"'a\\'b\\\\'").as_deref(), Some("a'b\\"));
    assert_eq!(string_literal(b"'\\q'").as_deref(), Some("\\q"));
    assert_eq!(string_literal(b"os"), None);
    assert_eq!(string_literal(b"'os"), None);
    assert_eq!(string_literal(b"'\\x7'"), None);
}

#[test]
fn raw_unicode_escape_decodes_u_escapes_only() {
    assert_eq!(raw_unicode_escape(b"\\u0070osix"), "posix");
    assert_eq!(raw_unicode_escape(b"\\U00000073ys"), "sys");
    assert_eq!(raw_unicode_escape(b"a\\nb"), "a\\nb");
    assert_eq!(raw_unicode_escape(b"\\u00zz"), "\\u00zz");
    assert_eq!(raw_unicode_escape(b"\xe9"), "\u{e9}");
}

#[test]
fn stack_global_from_memo_dup_and_strings() {
    // memo: "os" PUT 0, "system" PUT 1, POP POP, GET 0 GET 1 STACK_GLOBAL
    let p = b"\x80\x04\x8c\x02osq\x00\x8c\x06systemq\x0100h\x00h\x01\x93.";
    assert_eq!(names(&walk_stream(p, Mode::Strict)), ["os.system"]);
    // DUP
    let p = b"\x80\x04\x8c\x04code2\x93.";
    assert_eq!(names(&walk_stream(p, Mode::Strict)), ["code.code"]);
    // old STRING opcodes
    let p = b"\x80\x04S'os'\nS'system'\n\x93.";
    assert_eq!(names(&walk_stream(p, Mode::Strict)), ["os.system"]);
}

#[test]
fn stack_global_fed_by_a_call_is_unresolved() {
    let p = b"\x80\x04cm\nf\n)R\x8c\x06system\x93.";
    let s = walk_stream(p, Mode::Strict);
    let g: Vec<_> = s.globals().collect();
    assert_eq!(g.len(), 2);
    assert_eq!(
        (g[1].module.as_str(), g[1].name.as_str(), g[1].how),
        ("?", "system", How::Unresolved)
    );
    assert!(s.errors.is_empty());
}

#[test]
fn stack_global_of_non_strings_is_an_error() {
    let s = walk_stream(b"\x80\x04K\x01K\x02\x93.", Mode::Strict);
    assert_eq!(s.errors.len(), 1);
    assert!(s.errors[0].msg.contains("not strings"), "{:?}", s.errors);
}

#[test]
fn results_and_persistent_ids_are_simulated() {
    // ('storage', torch.FloatStorage, '0', 'cpu', 2) BINPERSID, then a list ['0']
    let p = b"\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x02tQ0]q\x00X\x01\x00\x00\x000a.";
    let (info, err) = walk_one(p, 0);
    assert!(err.is_none(), "{err:?}");
    assert!(info.complete);
    assert_eq!(info.persistent_ids.len(), 1);
    let Value::Tuple(t) = &info.persistent_ids[0] else {
        panic!("{:?}", info.persistent_ids)
    };
    assert_eq!(t[0], Value::Str("storage".into()));
    assert_eq!(t[4], Value::Int(2));
    assert_eq!(
        info.result,
        Value::List(Rc::new(RefCell::new(vec![Value::Str("0".into())])))
    );
}

#[test]
fn every_pickle_until_the_end_and_errors_keep_earlier_globals() {
    let good = b"\x80\x02cos\nsystem\n.".to_vec();
    let two = [good.clone(), good.clone()].concat();
    let s = walk_stream(&two, Mode::Strict);
    assert_eq!(s.pickles.len(), 2);
    let broken = [good.clone(), b"\xff".to_vec()].concat();
    let s = walk_stream(&broken, Mode::Strict);
    assert_eq!(names(&s), ["os.system"]);
    assert_eq!(s.errors.len(), 1);
    assert_eq!(s.errors[0].offset, good.len());
}

#[test]
fn resync_after_an_error_finds_a_later_pickle() {
    let data = [b"\x80\x02N\xff\xff".to_vec(), b"\x80\x02cposix\nsystem\n.".to_vec()].concat();
    let s = walk_stream(&data, Mode::Strict);
    assert_eq!(names(&s), ["posix.system"]);
    assert_eq!(s.errors.len(), 1, "only the first error is reported");
}

#[test]
fn probe_mode_ignores_data_that_is_not_a_pickle() {
    // floats, a GLOBAL-looking byte with binary names, "N." then garbage
    for data in [
        &b"\x00\x00\x80?\x00\x00\x00@"[..],
        b"c\x00\x01\n\x02\n\xff",
        b"N.\xff\xff\x00",
        b"\x80\x02\xff",
    ] {
        let s = walk_stream(data, Mode::Probe);
        assert!(s.errors.is_empty());
        assert_eq!(s.globals().count(), 0, "{data:?}");
    }
    // a payload then garbage still counts: the names are importable
    let s = walk_stream(b"cposix\nsystem\n\xff", Mode::Probe);
    assert_eq!(names(&s), ["posix.system"]);
}

#[test]
fn nested_pickles_in_bytes_and_latin1_strings_are_probed() {
    let inner = b"\x80\x02cposix\nsystem\n.";
    let mut p = b"\x80\x03C".to_vec();
    p.push(inner.len() as u8);
    p.extend_from_slice(inner);
    p.push(b'.');
    let s = walk_stream(&p, Mode::Strict);
    let g: Vec<_> = s.globals().collect();
    assert_eq!(g.len(), 1);
    assert!(g[0].nested);
    assert_eq!(g[0].offset, 2);
    // protocol 2 stores bytes as latin-1 text for _codecs.encode
    let text: String = inner.iter().map(|&b| char::from(b)).collect();
    let mut p = b"\x80\x02X".to_vec();
    p.extend_from_slice(&(text.len() as u32).to_le_bytes());
    p.extend_from_slice(text.as_bytes());
    p.push(b'.');
    assert_eq!(names(&walk_stream(&p, Mode::Strict)), ["posix.system"]);
}

#[test]
fn plausible_names() {
    assert!(plausible_name("torch._utils"));
    assert!(plausible_name("_rebuild_tensor_v2"));
    assert!(plausible_name("ünï"));
    assert!(!plausible_name(""));
    assert!(!plausible_name("a..b"));
    assert!(!plausible_name("1a"));
    assert!(!plausible_name("a\0"));
    assert!(!plausible_name("os system"));
}

#[test]
fn limits_stop_a_runaway_pickle() {
    let mut p = b"\x80\x02".to_vec();
    p.extend(std::iter::repeat_n(b'N', MAX_STACK + 1));
    let s = walk_stream(&p, Mode::Strict);
    assert!(s.errors[0].msg.contains("scan limit"), "{:?}", s.errors);
}

fn hazards(p: &[u8]) -> Vec<(String, bool)> {
    let s = walk_stream(p, Mode::Strict);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    s.pickles
        .iter()
        .flat_map(|p| p.hazards.iter().map(|h| (h.global.clone(), h.dangerous)))
        .collect()
}

#[test]
fn build_on_a_global_is_dangerous() {
    let p = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\nN}X\x0c\x00\x00\x00__defaults__N\x85s\x86b0}.";
    assert_eq!(hazards(p), [("torch._utils._rebuild_tensor_v2".to_owned(), true)]);
    // a BUILD on an instance the pickle made is ordinary
    let p = b"\x80\x02ccollections\nOrderedDict\n)R}b.";
    assert!(hazards(p).is_empty());
}

#[test]
fn numpy_dtype_states_are_checked_field_by_field() {
    let dtype = |code: &str, flags: u8| {
        let mut p = b"\x80\x02cnumpy\ndtype\nX".to_vec();
        p.extend((code.len() as u32).to_le_bytes());
        p.extend(code.as_bytes());
        p.extend(b"\x89\x88\x87R(K\x03X\x01\x00\x00\x00|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK");
        p.push(flags);
        p.extend(b"tb.");
        hazards(&p)
    };
    assert!(dtype("O8", 63).is_empty());
    assert!(dtype("f8", 0).is_empty());
    assert_eq!(dtype("O8", 0), [("numpy.dtype".to_owned(), true)]);
    assert_eq!(dtype("object", 0), [("numpy.dtype".to_owned(), true)]);
    assert_eq!(dtype("f8", 63), [("numpy.dtype".to_owned(), true)]);
    assert_eq!(dtype("V8", 63), [("numpy.dtype".to_owned(), false)]);
}

#[test]
fn bytes_of_a_huge_size_are_suspicious() {
    let big = b"\x80\x02c__builtin__\nbytearray\nJ\x01\x00\x10\x00\x85R.";
    assert_eq!(hazards(big), [("__builtin__.bytearray".to_owned(), false)]);
    let long = b"\x80\x02cbuiltins\nbytes\n\x8a\x05\x00\x00\x00\x00\x04\x85R.";
    assert_eq!(hazards(long), [("builtins.bytes".to_owned(), false)]);
    assert!(hazards(b"\x80\x02c__builtin__\nbytearray\nK\x10\x85R.").is_empty());
}

#[test]
fn a_frame_longer_than_its_pickle_is_a_second_resume_point() {
    // frame of 12 bytes: "N." then a BINBYTES that swallows the next pickle for a reader that
    // resumes right after STOP; CPython on an io.BytesIO resumes at the frame's end
    let evil = b"\x80\x04\x8c\x05posix\x8c\x06system\x93\x8c\x04true\x85R.";
    let mut p = b"\x80\x04\x95".to_vec();
    let frame = [&b"N.\x80\x04B"[..], &((1 + evil.len() + 2) as u32).to_le_bytes(), b"X"].concat();
    p.extend((frame.len() as u64).to_le_bytes());
    p.extend(&frame);
    p.extend(evil);
    p.extend(b"0N.");
    let s = walk_stream(&p, Mode::Strict);
    assert!(names(&s).contains(&"posix.system".to_owned()), "{s:?}");
    assert_eq!(s.pickles[0].frame_end, Some(11 + frame.len()));
}

#[test]
fn v3_memo_dicts_and_joblib_arrays() {
    // a dict put into itself (SETITEM and SETITEMS) does not trip the dict tracking
    for p in [
        &b"\x80\x02}q\x00X\x01\x00\x00\x00kh\x00s."[..],
        b"\x80\x02}q\x00(X\x01\x00\x00\x00kh\x00u.",
    ] {
        let (info, err) = walk_one(p, 0);
        assert!(err.is_none() && info.complete, "{err:?}");
    }
    // LONG_BINPUT 2**29 on an empty memo: pickle.load would grow its memo to 8.6 GB
    let (info, _) = walk_one(b"\x80\x02Nr\x00\x00\x00\x20.", 0);
    assert!(
        info.hazards.iter().any(|h| h.why.contains("8589934592 bytes")),
        "{:?}",
        info.hazards
    );
    // ordinary PUTs, in order, are not a hazard
    let (info, _) = walk_one(b"\x80\x02Nq\x00Nq\x01Nq\x02.", 0);
    assert!(info.hazards.is_empty());
    // a protocol-0 stream past the stack limit is reported even by a probe
    let mut many = vec![b'N'; MAX_STACK + 2];
    many.push(b'.');
    let s = walk_stream(&many, Mode::Probe);
    assert!(s.errors.iter().any(|e| is_limit(&e.msg)), "{:?}", s.errors);
}

#[test]
fn an_argument_past_a_frame_end_is_read_both_ways() {
    // FRAME ending 5 bytes into a 16-byte BINUNICODE: read in order, the next BINUNICODE swallows
    // the payload; the C unpickler reads the 16 bytes from the frame's end and runs the payload
    let evil = b"0cposix\nsystem\n(S'true'\ntR.";
    let frame = [&b"}X"[..], &16u32.to_le_bytes(), &[0u8; 5]].concat();
    let mut p = b"\x80\x04\x95".to_vec();
    p.extend((frame.len() as u64).to_le_bytes());
    p.extend(&frame);
    p.extend([0u8; 11]);
    p.push(b'X');
    p.extend((evil.len() as u32).to_le_bytes());
    p.extend(evil);
    p.extend(b"00.");
    let (info, err) = walk_one(&p, 0);
    assert!(err.is_none() && info.complete, "{err:?}");
    assert_eq!(info.end, p.len());
    assert_eq!(
        names(&Stream {
            pickles: vec![info.clone()],
            errors: Vec::new()
        }),
        ["posix.system"]
    );
    assert!(
        info.hazards.iter().any(|h| h.why.contains("past the end of its FRAME")),
        "{:?}",
        info.hazards
    );
    // the C reading stops at the payload's STOP: the next pickle may start there
    assert_eq!(info.other_ends, [p.len() - 3]);
    assert_eq!(info.next_starts(), [p.len(), p.len() - 3]);
    // a frame that holds its arguments is read once, with no hazard
    let (info, _) = walk_one(b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x07.", 0);
    assert!(info.hazards.is_empty() && info.other_ends.is_empty() && info.complete);
}
