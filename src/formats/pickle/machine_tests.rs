use super::*;
use crate::model::DType;

fn fixture(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/pickle")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn dict<'h, 'a>(l: &'h Loaded<'a>, v: &Value<'a>) -> &'h Dict<'a> {
    match l.heap.node(v) {
        Some(Node::Dict(d)) => d,
        other => panic!("not a dict: {other:?}"),
    }
}

#[test]
fn loads_every_protocol_of_the_varied_object() {
    for proto in 0..=5 {
        let data = fixture(&format!("ops_proto{proto}.pkl"));
        let l = load(&data, 0).unwrap_or_else(|e| panic!("protocol {proto}: {e}"));
        assert_eq!(l.end, data.len());
        assert!(l.warnings.is_empty(), "protocol {proto}: {:?}", l.warnings);
        let root = dict(&l, &l.root);
        let ints = l.heap.seq(root.get_str("ints").unwrap()).unwrap();
        let ints: Vec<String> = ints.iter().map(|v| l.heap.repr(v).unwrap()).collect();
        assert_eq!(
            ints,
            [
                "0",
                "1",
                "255",
                "256",
                "65535",
                "65536",
                "-1",
                "2147483647",
                "-2147483648",
                "1099511627776",
                "-1180591620717411303424",
                "1606938044258990275541962092341162602522202993782792835301376"
            ],
            "protocol {proto}"
        );
        let text = l.heap.seq(root.get_str("text").unwrap()).unwrap();
        assert_eq!(text[2].as_str(), Some("é\n\0"), "protocol {proto}");
        assert_eq!(text[3].as_str().map(str::len), Some(300));
        let bytes = l.heap.seq(root.get_str("bytes").unwrap()).unwrap();
        let lens: Vec<usize> = bytes
            .iter()
            .map(|b| match b {
                Value::Bytes(b) => b.len(),
                other => panic!("protocol {proto}: {other:?}"),
            })
            .collect();
        assert_eq!(lens, [0, 2, 300, 2], "protocol {proto}");
        assert_eq!(
            &*match &bytes[1] {
                Value::Bytes(b) => b.clone(),
                _ => unreachable!(),
            },
            b"\x00\xff"
        );
        let od = dict(&l, root.get_str("od").unwrap());
        // the shared list is one node, not two copies
        assert_eq!(od.items[0].1, od.items[1].1);
        let floats = l.heap.repr(root.get_str("floats").unwrap()).unwrap();
        assert_eq!(floats, "[0.5, -1e+300, inf]");
        let tuples: Vec<String> = l
            .heap
            .seq(root.get_str("tuples").unwrap())
            .unwrap()
            .iter()
            .map(|t| l.heap.repr(t).unwrap())
            .collect();
        assert_eq!(tuples, ["()", "(1,)", "(1, 2)", "(1, 2, 3)", "(1, 2, 3, 4)"]);
        let sets = l.heap.seq(root.get_str("sets").unwrap()).unwrap();
        assert!(
            sets.iter().all(|s| matches!(l.heap.node(s), Some(Node::Set(_)))),
            "protocol {proto}"
        );
    }
}

#[test]
fn dangerous_globals_are_symbols_never_calls() {
    // cos\nsystem\n(S'touch /tmp/x'\ntR. and the protocol-4 STACK_GLOBAL form
    let p0 = b"cos\nsystem\n(S'touch /tmp/tensorscope-pwned'\ntR.";
    let p4 = b"\x80\x04\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c\x04echo\x94\x85\x94R\x94.";
    for data in [&p0[..], &p4[..]] {
        let l = load(data, 0).unwrap();
        let Some(Node::Object(o)) = l.heap.node(&l.root) else {
            panic!("{:?}", l.heap.node(&l.root))
        };
        let g = l.heap.global(o.callable.as_ref().unwrap()).unwrap();
        assert!(g.safe.is_none());
        assert_eq!(l.warnings.len(), 1);
        assert!(l.warnings[0].contains("system"), "{:?}", l.warnings);
    }
}

#[test]
fn build_on_an_opaque_object_records_state() {
    // argparse.Namespace() with BUILD {'lr': 0.5}
    let data = b"\x80\x02cargparse\nNamespace\n)\x81}X\x02\x00\x00\x00lrG?\xe0\x00\x00\x00\x00\x00\x00sb.";
    let l = load(data, 0).unwrap();
    let Some(Node::Object(o)) = l.heap.node(&l.root) else {
        panic!()
    };
    let st = dict(&l, o.state.as_ref().unwrap());
    assert_eq!(st.get_str("lr"), Some(&Value::Float(0.5)));
    assert_eq!(l.warnings, ["global argparse.Namespace was not rebuilt"]);
}

#[test]
fn cycles_and_deep_nesting_do_not_recurse() {
    // a list that contains itself
    let l = load(b"]q\x00h\x00a.", 0).unwrap();
    let Value::Node(id) = l.root else { panic!() };
    assert_eq!(l.heap.seq(&l.root).unwrap()[0], Value::Node(id));
    // 200000 levels of nesting built through the memo: L_k.append(L_{k+1})
    let mut data = b"]q\x00".to_vec();
    for _ in 0..200_000 {
        data.extend_from_slice(b"h\x00]2q\x000a0");
    }
    data.push(b'.');
    let l = load(&data, 0).unwrap();
    assert_eq!(l.heap.len(), 200_001);
    drop(l);
}

#[test]
fn limits_hold() {
    // memo: LONG_BINPUT with distinct indices past the limit
    let mut data = b"N".to_vec();
    for i in 0..(MAX_MEMO as u32 + 1) {
        data.push(b'r');
        data.extend_from_slice(&i.to_le_bytes());
    }
    data.push(b'.');
    let e = load(&data, 0).unwrap_err();
    assert!(
        matches!(
            e,
            MachineError::Limit {
                what: "memo entries",
                ..
            }
        ),
        "{e}"
    );
    // stack: DUP forever
    let mut data = b"N".to_vec();
    data.extend(std::iter::repeat_n(b'2', MAX_STACK + 1));
    let e = load(&data, 0).unwrap_err();
    assert!(
        matches!(
            e,
            MachineError::Limit {
                what: "stack entries",
                ..
            }
        ),
        "{e}"
    );
    // huge sparse memo index does not allocate
    assert!(load(b"Nr\xff\xff\xff\xff0j\xff\xff\xff\xff.", 0).is_ok());
}

#[test]
fn malformed_pickles_are_errors_with_offsets() {
    for (data, want) in [
        (&b"2."[..], "stack is empty"),
        (b"0.", "no MARK"),
        (b"h\x05.", "memo entry 5"),
        (b"(K\x01K\x02K\x03d.", "odd number"),
        (b"K\x01K\x02a.", "not a list"),
        (b"t.", "no MARK"),
        (b"N", "without STOP"),
        (b"\x80\x06N.", "protocol"),
        (b"\x82\x01.", "extension"),
        (b"\x97.", "out-of-band"),
        (b"NQ.", "persistent id"),
    ] {
        let e = load(data, 0).unwrap_err().to_string();
        assert!(e.contains(want), "{data:?}: {e}");
    }
}

#[test]
fn marks_hide_the_stack_below() {
    // POP under a fresh mark pops the mark itself (as Python does), leaving K1 for STOP
    let l = load(b"K\x01(0.", 0).unwrap();
    assert_eq!(l.root, Value::Int(1));
    assert!(load(b"K\x01(t0a.", 0).is_err());
}

#[test]
fn persistent_ids_become_storages_and_tensors() {
    // _rebuild_tensor_v2(('storage', torch.HalfStorage, '0', 'cuda:0', 6), 1, (2, 2), (1, 2), False, OrderedDict())
    let data = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nHalfStorage\nX\x01\x00\x00\x000X\x06\x00\x00\x00cuda:0K\x06tQK\x01K\x02K\x02\x86K\x01K\x02\x86\x89ccollections\nOrderedDict\n)RtR.";
    let l = load(data, 0).unwrap();
    assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    let Some(Node::Tensor(t)) = l.heap.node(&l.root) else {
        panic!("{:?}", l.heap.node(&l.root))
    };
    assert_eq!(
        (t.dtype, t.offset, t.shape.clone(), t.strides.clone()),
        (DType::F16, 1, vec![2, 2], vec![1, 2])
    );
    let TensorData::Storage(sid) = t.data else { panic!() };
    let Some(Node::Storage(s)) = l.heap.get(sid) else {
        panic!()
    };
    assert_eq!((s.key.as_str(), s.location.as_str(), s.numel), ("0", "cuda:0", 6));
    // a negative stride is refused
    let at = data.windows(5).position(|w| w == b"K\x01K\x02\x86").unwrap() + 2;
    let neg = [&data[..at], &b"J\xfe\xff\xff\xff"[..], &data[at + 2..]].concat();
    assert!(load(&neg, 0).unwrap_err().to_string().contains("negative strides"));
}

#[test]
fn rebuild_from_type_needs_an_allowlisted_function() {
    // _rebuild_from_type_v2(os.system, torch.Tensor, ('x',), {}) stays opaque
    let data = b"ctorch._tensor\n_rebuild_from_type_v2\n(cos\nsystem\nctorch\nTensor\n(S'x'\nt}tR.";
    let l = load(data, 0).unwrap();
    assert!(matches!(l.heap.node(&l.root), Some(Node::Object(_))));
    // one warning, for os.system: torch.Tensor (the type argument) is allowlisted
    assert_eq!(l.warnings.len(), 1, "{:?}", l.warnings);
    // through an allowlisted function it calls that function: OrderedDict() -> dict
    let data = b"ctorch._tensor\n_rebuild_from_type_v2\n(ccollections\nOrderedDict\nctorch\nTensor\n)}tR.";
    let l = load(data, 0).unwrap();
    assert!(matches!(l.heap.node(&l.root), Some(Node::Dict(_))));
}

#[test]
fn codecs_encode_and_small_constructors() {
    let l = load(
        b"c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xbfX\x06\x00\x00\x00latin1\x86R.",
        0,
    )
    .unwrap();
    assert_eq!(l.root, Value::Bytes(Blob::Shared(Rc::from(&b"\xff"[..]))));
    let l = load(b"ctorch\ndevice\nX\x04\x00\x00\x00cudaK\x00\x86R.", 0).unwrap();
    assert_eq!(l.root.as_str(), Some("cuda:0"));
    let l = load(b"c__builtin__\nset\n]K\x01a\x85R.", 0).unwrap();
    assert!(matches!(l.heap.node(&l.root), Some(Node::Set(s)) if s.len() == 1));
    let l = load(b"ctorch\nSize\nK\x02K\x03\x86\x85R.", 0).unwrap();
    assert_eq!(l.heap.dims(&l.root), Some(vec![2, 3]));
}

#[test]
fn memo_indices_far_apart_and_then_covered_read_back() {
    // 7 stored at index 10,000 while the memo is empty (kept aside, not in a 10,000-slot vector),
    // then 6,000 entries stored at 0, 1, 2, … grow the vector over index 10,000
    let far = 10_000u32.to_le_bytes();
    let mut data = b"\x80\x04K\x07r".to_vec();
    data.extend_from_slice(&far);
    data.push(b'0');
    for i in 0..6000u32 {
        data.extend_from_slice(b"Nr");
        data.extend_from_slice(&i.to_le_bytes());
        data.push(b'0');
    }
    let mut first = data.clone();
    first.push(b'j');
    first.extend_from_slice(&far);
    first.push(b'.');
    assert_eq!(load(&first, 0).unwrap().root, Value::Int(7));
    // stored again at the same index once the vector covers it: the new value wins
    let mut again = data;
    again.extend_from_slice(b"K\x09r");
    again.extend_from_slice(&far);
    again.extend_from_slice(b"0j");
    again.extend_from_slice(&far);
    again.push(b'.');
    assert_eq!(load(&again, 0).unwrap().root, Value::Int(9));
    // an index never stored is still an error, below and past the vector
    for i in [1u32, 6_001, 4_000_000_000] {
        let mut bad = b"\x80\x04Nr\x00\x00\x00\x000j".to_vec();
        bad.extend_from_slice(&i.to_le_bytes());
        bad.push(b'.');
        assert!(load(&bad, 0).is_err(), "{i}");
    }
}
