use super::*;

fn all(data: &[u8]) -> Result<Vec<Instr<'_>>, OpError> {
    Ops::new(data).collect()
}

fn fixture(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pickle")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn matches_pickletools_at_every_protocol() {
    for proto in 0..=5 {
        let data = fixture(&format!("ops_proto{proto}.pkl"));
        let want = String::from_utf8(fixture(&format!("ops_proto{proto}.txt"))).unwrap();
        let got: Vec<String> = all(&data)
            .unwrap()
            .iter()
            .map(|i| format!("{} {}", i.offset, i.op.name()))
            .collect();
        let want: Vec<&str> = want.lines().collect();
        assert_eq!(got, want, "protocol {proto}");
    }
}

#[test]
fn fixtures_carry_the_expected_arguments() {
    let data = fixture("ops_proto2.pkl");
    let ops = all(&data).unwrap();
    let longs: Vec<&[u8]> = ops
        .iter()
        .filter_map(|i| if let Arg::Long(b) = i.arg { Some(b) } else { None })
        .collect();
    // 2**40 as LONG1: 6 bytes little endian
    assert!(longs.contains(&&[0, 0, 0, 0, 0, 1][..]), "{longs:?}");
    assert!(ops.iter().any(|i| i.arg == Arg::Int(-(1 << 31))));
    assert!(ops.iter().any(|i| i.arg == Arg::Float(-1e300)));
    assert!(ops.iter().any(|i| i.arg
        == Arg::Global {
            module: "collections",
            name: "OrderedDict"
        }));
    let p5 = fixture("ops_proto5.pkl");
    let ops5 = all(&p5).unwrap();
    assert!(
        ops5.iter()
            .any(|i| i.op == Opcode::ByteArray8 && i.arg == Arg::Bytes(b"ba"))
    );
    assert!(ops5.iter().any(|i| i.op == Opcode::Frame));
    assert!(
        ops5.iter()
            .any(|i| i.op == Opcode::ShortBinUnicode && i.arg == Arg::Str("é\n\0"))
    );
    let p0 = fixture("ops_proto0.pkl");
    let ops0 = all(&p0).unwrap();
    assert!(
        ops0.iter()
            .any(|i| i.op == Opcode::Long && matches!(i.arg, Arg::BigInt(s) if s.starts_with("1606938")))
    );
    assert!(ops0.iter().any(|i| i.op == Opcode::Int && i.arg == Arg::Bool(true)));
    assert!(
        ops0.iter()
            .any(|i| i.op == Opcode::Float && i.arg == Arg::Float(f64::INFINITY))
    );
}

#[test]
fn text_arguments() {
    let ops = all(b"ctorch._utils\n_rebuild_tensor_v2\nI-12\nL7L\nF0.25\ng3\nS'a'\n.").unwrap();
    assert_eq!(
        ops[0].arg,
        Arg::Global {
            module: "torch._utils",
            name: "_rebuild_tensor_v2"
        }
    );
    assert_eq!(ops[1].arg, Arg::Int(-12));
    assert_eq!(ops[2].arg, Arg::Int(7));
    assert_eq!(ops[3].arg, Arg::Float(0.25));
    assert_eq!(ops[4].arg, Arg::Memo(3));
    assert_eq!(ops[5].arg, Arg::Line(b"'a'"));
    assert_eq!(ops[6].op, Opcode::Stop);
}

#[test]
fn binary_arguments() {
    let ops = all(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00M\x01\x02J\xff\xff\xff\xff\x8a\x02\xff\x00.").unwrap();
    assert_eq!(ops[0].arg, Arg::Int(4));
    assert_eq!(ops[1].arg, Arg::Frame(5));
    assert_eq!(ops[2].arg, Arg::Int(0x0201));
    assert_eq!(ops[3].arg, Arg::Int(-1));
    assert_eq!(ops[4].arg, Arg::Long(&[0xff, 0]));
}

#[test]
fn stops_after_stop_and_reports_position() {
    let data = b"K\x01.K\x02.";
    let mut it = Ops::new(data);
    assert_eq!(it.by_ref().count(), 2);
    assert_eq!(it.position(), 3);
    let second: Vec<_> = Ops::at(data, it.position()).collect::<Result<_, _>>().unwrap();
    assert_eq!(second[0].arg, Arg::Int(2));
}

#[test]
fn hostile_lengths_are_errors_not_allocations() {
    // BINBYTES8 claiming 2^63 bytes
    let e = all(b"\x8e\x00\x00\x00\x00\x00\x00\x00\x80").unwrap_err();
    assert_eq!(e.offset, 0);
    assert!(
        matches!(e.kind, OpErrorKind::Truncated { op: Some(Opcode::BinBytes8), needed, available: 0 } if needed == 1 << 63)
    );
    // BINSTRING with a negative length
    let e = all(b"K\x00T\xff\xff\xff\xff").unwrap_err();
    assert_eq!((e.offset, e.kind), (2, OpErrorKind::NegativeLength(Opcode::BinString)));
    // LONG4 negative
    assert!(matches!(
        all(b"\x8b\xfe\xff\xff\xffxx").unwrap_err().kind,
        OpErrorKind::NegativeLength(_)
    ));
    // FRAME longer than the input
    assert!(matches!(
        all(b"\x95\x10\0\0\0\0\0\0\0N.").unwrap_err().kind,
        OpErrorKind::Truncated { .. }
    ));
    // truncated fixed-size argument
    assert!(matches!(
        all(b"J\x01\x02").unwrap_err().kind,
        OpErrorKind::Truncated {
            needed: 4,
            available: 2,
            ..
        }
    ));
}

#[test]
fn unknown_opcode_and_missing_stop() {
    let e = all(b"N\xff").unwrap_err();
    assert_eq!((e.offset, e.kind.clone()), (1, OpErrorKind::UnknownOpcode(0xff)));
    assert_eq!(e.to_string(), "unknown pickle opcode 0xff at offset 1");
    let e = all(b"NN").unwrap_err();
    assert_eq!(e.offset, 2);
    assert!(e.to_string().contains("without STOP"));
}

#[test]
fn bad_text_is_refused() {
    assert!(matches!(
        all(b"Iabc\n.").unwrap_err().kind,
        OpErrorKind::BadText(Opcode::Int, _)
    ));
    assert!(matches!(
        all(b"Fx\n.").unwrap_err().kind,
        OpErrorKind::BadText(Opcode::Float, _)
    ));
    assert!(matches!(
        all(b"X\x02\x00\x00\x00\xff\xfe.").unwrap_err().kind,
        OpErrorKind::BadText(..)
    ));
    assert!(matches!(
        all(b"cos\nsystem").unwrap_err().kind,
        OpErrorKind::Truncated { .. }
    ));
}

#[test]
fn every_byte_decodes_or_errors_without_panic() {
    for b in 0..=255u8 {
        let mut data = vec![b];
        data.extend_from_slice(&[0xff; 9]);
        let _ = decode(&data, 0);
        let _ = decode(&data[..1], 0);
        if let Some(op) = Opcode::from_byte(b) {
            assert_eq!(op as u8, b);
            assert!(op.protocol() <= 5);
        }
    }
    assert!(decode(b"", 5).is_err());
}

/// Protocol-0 number text against what CPython 3's `pickle.loads` answered for each (run once by
/// hand; `I0x1` and `I1\0junk` start protocol-0 pickles and safetensors polyglots).
#[test]
fn number_text_is_read_as_cpython_reads_it() {
    let ok: [(&[u8], Arg<'_>); 17] = [
        (b"I0x1\n.", Arg::Int(1)),
        (b"I010\n.", Arg::Int(8)),
        (b"I 7\n.", Arg::Int(7)),
        (b"I1\0junk\xff\n.", Arg::Int(1)),
        (b"L0x1L\n.", Arg::Int(1)),
        (b"I\0\n.", Arg::Int(0)),
        (b"I1_000\n.", Arg::Int(1000)),
        (b"I0o17\n.", Arg::Int(15)),
        (b"I-0x10\n.", Arg::Int(-16)),
        (b"L 12 L\n.", Arg::Int(12)),
        (b"I+5\n.", Arg::Int(5)),
        (b"I01\n.", Arg::Bool(true)),
        (b"F1.5\0zz\n.", Arg::Float(1.5)),
        (b"Finf\n.", Arg::Float(f64::INFINITY)),
        // the pure-Python unpickler's float(): whitespace around, underscores between digits
        (b"F1 \n.", Arg::Float(1.0)),
        (b"F\t1_0.2_5\r\n.", Arg::Float(10.25)),
        (
            b"I99999999999999999999999\0x\n.",
            Arg::BigInt("99999999999999999999999"),
        ),
    ];
    for (text, want) in ok {
        let ops = all(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(ops[0].arg, want, "{text:?}");
    }
    for bad in [
        &b"I08\n."[..],
        b"L1l\n.",
        b"F1__0\n.",
        b"F_1\n.",
        b"F1.5x\n.",
        b"I0x\n.",
        b"I1 2\n.",
        b"I__1\n.",
    ] {
        assert!(all(bad).is_err(), "{bad:?}");
    }
}

/// Protocol-0 memo indices as CPython's `PyLong_FromString(s, NULL, 10)` reads them (checked
/// against `pickle.loads` of `p<text>\n` for each of these: accepted ones store at the index shown).
#[test]
fn memo_indices_read_as_cpython_reads_them() {
    for (text, want) in [
        (&b"10"[..], Some(10)),
        (b"1_0", Some(10)),
        (b" 7 ", Some(7)),
        (b"+3", Some(3)),
        (b"010", Some(10)),
        (b"-0", Some(0)),
        (b"1\0junk\xff", Some(1)),
        (b"\t12\r", Some(12)),
        (b"-1", None),
        (b"1__0", None),
        (b"_1", None),
        (b"1_", None),
        (b"", None),
        (b"0x1", None),
        (b"1 0", None),
    ] {
        assert_eq!(memo_text(text), want, "{:?}", String::from_utf8_lossy(text));
    }
    // past Py_ssize_t: the pure-Python unpickler stores it (a key of its own, at or above 2^63,
    // the same for the same number however written)
    let big = memo_text(b"99999999999999999999").unwrap();
    assert!(big >= 1 << 63);
    assert_eq!(memo_text(b" 0099_999999999999999999\n"), Some(big));
    assert_ne!(memo_text(b"99999999999999999998"), Some(big));
    assert!(memo_text(b"9223372036854775808").unwrap() >= 1 << 63);
    // and in a pickle: `p1_0` stores at 10, `g10` gets it back
    let ops = all(b"(lp1_0\ng10\n.").unwrap();
    assert_eq!(ops[2].arg, Arg::Memo(10));
    assert_eq!(ops[3].arg, Arg::Memo(10));
}

/// CPython decodes pickle text with `surrogatepass`: an encoded lone surrogate is text, not an
/// error (a probe that stopped there let a folder scan skip the payload after it).
#[test]
fn text_with_encoded_surrogates_is_text() {
    let ops = all(b"X\x03\x00\x00\x00\xed\xa0\x80\x8c\x04a\xed\xb0\x80.").unwrap();
    assert_eq!(ops[0].arg, Arg::Surrogates(b"\xed\xa0\x80"));
    assert_eq!(ops[1].arg, Arg::Surrogates(b"a\xed\xb0\x80"));
    assert!(all(b"X\x02\x00\x00\x00\xed\xa0.").is_err());
    assert!(all(b"X\x03\x00\x00\x00\xc0\x80\x80.").is_err());
    assert_eq!(
        super::super::literal::surrogatepass_lossy(b"a\xed\xa0\x80"),
        "a\u{fffd}\u{fffd}\u{fffd}"
    );
    assert_eq!(
        super::super::literal::raw_unicode_escape(b"a\\ud800b").as_deref(),
        Some("a\u{fffd}b")
    );
}

#[test]
fn a_read_past_a_frame_is_taken_from_the_frame_end_as_cpython_reads_a_file() {
    // FRAME of 7 bytes: "}" then BINUNICODE of 3 bytes with 1 byte inside the frame ("a"); after
    // the frame: "bcd". In order, the text is "abc"; the C unpickler drops "a" and reads "bcd".
    let p = b"\x95\x07\x00\x00\x00\x00\x00\x00\x00}X\x03\x00\x00\x00abcd";
    let mut buf = FrameBuffer {
        end: None,
        jump: true,
        crossed_then_failed: false,
    };
    let (i, next, crossed) = decode_buffered(p, 0, &mut buf).unwrap();
    assert_eq!((i.arg, next, crossed, buf.end), (Arg::Frame(7), 9, None, Some(16)));
    let (_, next, _) = decode_buffered(p, next, &mut buf).unwrap();
    let (i, next, crossed) = decode_buffered(p, next, &mut buf).unwrap();
    assert_eq!((i.arg, next, crossed, buf.end), (Arg::Str("bcd"), 19, Some(15), None));
    // read in order, the crossing is only reported
    let mut buf = FrameBuffer {
        end: None,
        jump: false,
        crossed_then_failed: false,
    };
    let (_, next, _) = decode_buffered(p, 0, &mut buf).unwrap();
    let (_, next, _) = decode_buffered(p, next, &mut buf).unwrap();
    let (i, next, crossed) = decode_buffered(p, next, &mut buf).unwrap();
    assert_eq!((i.arg, next, crossed), (Arg::Str("abc"), 18, Some(15)));
    // a line the frame does not finish is read with readline() from the frame's end
    let g = b"\x95\x04\x00\x00\x00\x00\x00\x00\x00cpososix\nsystem\n";
    let mut buf = FrameBuffer {
        end: None,
        jump: true,
        crossed_then_failed: false,
    };
    let (_, next, _) = decode_buffered(g, 0, &mut buf).unwrap();
    let (i, _, crossed) = decode_buffered(g, next, &mut buf).unwrap();
    let want = Arg::Global {
        module: "osix",
        name: "system",
    };
    assert_eq!((i.arg, crossed), (want, Some(10)));
    // plain decoding and a read that the frame holds are untouched
    assert_eq!(decode(p, 0).unwrap().1, 9);
    let mut buf = FrameBuffer {
        end: None,
        jump: true,
        crossed_then_failed: false,
    };
    let q = b"\x95\x02\x00\x00\x00\x00\x00\x00\x00K\x07.";
    let (_, next, _) = decode_buffered(q, 0, &mut buf).unwrap();
    let (i, next, crossed) = decode_buffered(q, next, &mut buf).unwrap();
    assert_eq!((i.arg, next, crossed, buf.end), (Arg::Int(7), 11, None, Some(11)));
    let (i, _, _) = decode_buffered(q, next, &mut buf).unwrap();
    assert_eq!((i.op, buf.end), (Opcode::Stop, None));
}
