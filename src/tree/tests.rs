use super::*;

fn t(name: &str, dtype: DType, shape: &[u64]) -> TensorInfo {
    let bytes = dtype.bytes_for(shape.iter().product()).unwrap();
    TensorInfo::contiguous(name.into(), dtype, shape.to_vec(), 0, 0..bytes).unwrap()
}

fn labels(tree: &Tree, id: NodeId) -> Vec<String> {
    tree.children(id).map(|c| tree.label(c).to_string()).collect()
}

fn find(tree: &Tree, path: &str) -> NodeId {
    path.split('.').fold(Tree::ROOT, |at, part| {
        tree.children(at)
            .find(|&c| tree.label(c) == part)
            .unwrap_or_else(|| panic!("no node {path}"))
    })
}

#[test]
fn natural_order_of_numbers_any_length() {
    assert_eq!(natural_cmp("h2", "h10"), Ordering::Less);
    assert_eq!(natural_cmp("10", "9"), Ordering::Greater);
    assert_eq!(natural_cmp("a", "a1"), Ordering::Less);
    assert_eq!(natural_cmp("007", "7"), Ordering::Greater);
    assert_eq!(
        natural_cmp("99999999999999999999999", "100000000000000000000000"),
        Ordering::Less
    );
    assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
    assert_eq!(name_cmp("h.2.w", "h.10.w", false), Ordering::Less);
    // part by part: `a.b` sorts with `a` even though `_` < `.` would say otherwise byte-wise
    assert_eq!(name_cmp("a_b", "a.b", false), Ordering::Greater);
}

#[test]
fn subtrees_carry_params_bytes_and_dtype_mix() {
    let ts = [
        t("encoder.layer.10.query.weight", DType::F32, &[4, 4]),
        t("encoder.layer.2.query.weight", DType::F16, &[4, 4]),
        t("encoder.layer.2.query.bias", DType::F32, &[4]),
        t("embeddings.word", DType::BF16, &[10, 4]),
        t("unet/conv_in.weight", DType::F32, &[3]),
    ];
    let tree = Tree::build(&ts, &TreeOptions::default());
    assert_eq!(labels(&tree, Tree::ROOT), ["embeddings", "encoder", "unet"]);
    let layer = find(&tree, "encoder.layer");
    assert_eq!(labels(&tree, layer), ["2", "10"]);
    let enc = find(&tree, "encoder");
    let n = tree.node(enc);
    assert_eq!((n.params, n.bytes, n.tensors), (36, 64 + 32 + 16, 3));
    let mix: Vec<_> = n.dtypes.iter().collect();
    assert_eq!(mix, [(DType::F32, 20), (DType::F16, 16)]);
    let root = tree.node(Tree::ROOT);
    assert_eq!((root.params, root.tensors, root.end), (79, 5, tree.len()));
    let leaf = find(&tree, "encoder.layer.2.query.bias");
    assert_eq!(tree.node(leaf).tensor, Some(2));
    assert_eq!(tree.node_of_tensor(2), Some(leaf));
    // the diffusers component is a top node, its `/` read as a separator
    assert_eq!(labels(&tree, find(&tree, "unet")), ["conv_in"]);
}

#[test]
fn a_name_that_is_also_a_prefix_keeps_both() {
    let ts = [
        t("a.b", DType::F32, &[2]),
        t("a", DType::F32, &[3]),
        t("a.b.c", DType::F32, &[5]),
    ];
    let tree = Tree::build(&ts, &TreeOptions::default());
    let a = find(&tree, "a");
    assert_eq!(tree.node(a).tensor, Some(1));
    assert_eq!(tree.node(a).params, 10);
    let ab = find(&tree, "a.b");
    assert_eq!(tree.node(ab).tensor, Some(0));
    assert!(tree.node(ab).has_children(ab));
}

#[test]
fn duplicate_names_become_sibling_rows() {
    let ts = [t("x.w", DType::F32, &[2]), t("x.w", DType::F32, &[3])];
    let tree = Tree::build(&ts, &TreeOptions::default());
    let x = find(&tree, "x");
    assert_eq!(labels(&tree, x), ["w", "w"]);
    let tensors: Vec<_> = tree.children(x).map(|c| tree.node(c).tensor).collect();
    assert_eq!(tensors, [Some(0), Some(1)]);
}

#[test]
fn folding_makes_one_pattern_row_per_repeated_layer() {
    let mut ts = Vec::new();
    for i in 0..32 {
        ts.push(t(&format!("model.layers.{i}.mlp.up_proj.weight"), DType::F16, &[8, 2]));
        ts.push(t(&format!("model.layers.{i}.norm"), DType::F32, &[8]));
    }
    ts.push(t("lm_head.weight", DType::F16, &[8, 8]));
    let tree = Tree::build(&ts, &TreeOptions { fold: true });
    let up = find(&tree, "model.layers.#.mlp.up_proj.weight");
    let n = tree.node(up);
    assert_eq!((n.tensors, n.params, n.tensor), (32, 32 * 16, Some(0)));
    assert_eq!(labels(&tree, find(&tree, "model.layers")), ["#"]);
    assert_eq!(tree.node(Tree::ROOT).params, 32 * 24 + 64);
    assert!(tree.len() < 12);
}

#[test]
fn rows_skip_closed_subtrees_and_filter_keeps_ancestors() {
    let ts = [
        t("enc.l.0.query", DType::F32, &[1]),
        t("enc.l.0.key", DType::F32, &[1]),
        t("enc.l.1.query", DType::F32, &[1]),
        t("head", DType::F32, &[1]),
    ];
    let tree = Tree::build(&ts, &TreeOptions::default());
    let closed = vec![false; tree.len()];
    let top: Vec<_> = tree.rows(&closed, None).iter().map(|&i| tree.path(i)).collect();
    assert_eq!(top, ["enc", "head"]);
    let open = vec![true; tree.len()];
    assert_eq!(tree.rows(&open, None).len(), tree.len() - 1);
    let marks = tree.mark(|i| ts[i].name.ends_with("query"));
    let shown: Vec<_> = tree.rows(&open, Some(&marks)).iter().map(|&i| tree.path(i)).collect();
    assert_eq!(
        shown,
        ["enc", "enc.l", "enc.l.0", "enc.l.0.query", "enc.l.1", "enc.l.1.query"]
    );
}

#[test]
fn overflowing_sizes_saturate() {
    let mut big = t("a.x", DType::F32, &[1]);
    big.shape = vec![u64::MAX, 4];
    let ts = [big, t("a.y", DType::F32, &[1])];
    let tree = Tree::build(&ts, &TreeOptions::default());
    assert_eq!(tree.node(Tree::ROOT).params, u64::MAX);
    assert_eq!(tree.node(Tree::ROOT).bytes, u64::MAX);
}

#[test]
fn empty_and_odd_names() {
    let tree = Tree::build(&[], &TreeOptions::default());
    assert!(tree.is_empty());
    assert!(tree.rows(&[], None).is_empty());
    let ts = [
        t("", DType::F32, &[1]),
        t("a..b", DType::F32, &[1]),
        t(".", DType::F32, &[1]),
    ];
    let tree = Tree::build(&ts, &TreeOptions::default());
    assert_eq!(tree.node(Tree::ROOT).tensors, 3);
    let leaves = (0..tree.len()).filter(|&i| tree.node(i).tensor.is_some()).count();
    assert_eq!(leaves, 3);
}

#[test]
fn params_labels() {
    assert_eq!(params_label(768), "768");
    assert_eq!(params_label(10_600_000), "10.6M");
    assert_eq!(params_label(124_439_808), "124.4M");
    assert_eq!(params_label(7_000_000_000), "7.0B");
}

#[test]
fn many_experts_in_natural_order() {
    let mut ts = Vec::new();
    for l in 0..4 {
        for e in 0..1389 {
            for p in ["gate", "up", "down"] {
                ts.push(t(
                    &format!("model.layers.{l}.mlp.experts.{e}.{p}_proj.weight"),
                    DType::BF16,
                    &[2, 2],
                ));
            }
        }
    }
    let tree = Tree::build(&ts, &TreeOptions::default());
    assert_eq!(tree.node(Tree::ROOT).tensors, 16_668);
    let experts = find(&tree, "model.layers.3.mlp.experts");
    let first: Vec<_> = labels(&tree, experts).into_iter().take(3).collect();
    assert_eq!(first, ["0", "1", "2"]);
    let folded = Tree::build(&ts, &TreeOptions { fold: true });
    assert_eq!(
        folded
            .node(find(&folded, "model.layers.#.mlp.experts.#.down_proj.weight"))
            .tensors,
        4 * 1389
    );
}

#[test]
fn sort_keys_order_as_name_cmp() {
    let names = [
        "h.2.w",
        "h.10.w",
        "h.02.w",
        "h.2",
        "h",
        "h_b",
        "h.b",
        "a7",
        "a07",
        "a10b",
        "a10",
        "a1a",
        "x.y.z",
        "x.y",
        "x/y",
        "model.layers.0.mlp",
        "model.layers.10.mlp",
        "model.layers.9.mlp",
        "",
        ".",
        "..",
        "a..b",
        "0",
        "00",
        "9",
        "z9z",
        "z10z",
        "é.1",
        "e.1",
        "layers.3",
        "layers.#",
    ];
    for fold in [false, true] {
        for a in names {
            for b in names {
                let (mut ka, mut kb) = (Vec::new(), Vec::new());
                sort_key(a, fold, &mut ka);
                sort_key(b, fold, &mut kb);
                let by_key = ka.cmp(&kb);
                let by_name = name_cmp(a, b, fold);
                assert!(
                    by_key == by_name || by_key == Ordering::Equal,
                    "{a:?} {b:?} fold {fold}: key {by_key:?}, name_cmp {by_name:?}"
                );
            }
        }
    }
}

/// Every field of every node, for comparing two trees.
fn dump(tree: &Tree) -> Vec<String> {
    (0..tree.len())
        .map(|i| {
            let n = tree.node(i);
            format!(
                "{} {} {} {:?} {:?} {} {} {} {:?}",
                n.parent,
                n.depth,
                n.end,
                tree.label(i),
                n.tensor,
                n.tensors,
                n.params,
                n.bytes,
                n.dtypes
            )
        })
        .collect()
}

#[test]
fn the_trie_builds_the_tree_the_sort_builds() {
    // names drawn from parts that stress the order: numbers with leading zeros and of any length,
    // prefixes of one another, `/` folders holding dots, empty parts, more than four dtypes
    const PARTS: [&str; 14] = [
        "h",
        "h_b",
        "2",
        "10",
        "02",
        "007",
        "7",
        "a10b",
        "a1a",
        "",
        "x.bin/y",
        "w",
        "é",
        "99999999999999999999",
    ];
    const DTYPES: [DType; 6] = [DType::F32, DType::F16, DType::BF16, DType::I8, DType::U8, DType::F64];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let (mut tries, mut grouped) = (0, 0);
    for round in 0..300 {
        let count = 1 + next(40);
        let mut ts = Vec::new();
        let mut names = std::collections::HashSet::new();
        for _ in 0..count {
            let depth = 1 + next(4);
            let name: Vec<&str> = (0..depth).map(|_| PARTS[next(PARTS.len())]).collect();
            let name = name.join(".");
            // a third of the rounds keep repeated names (the sorted build's sibling rows)
            if round % 3 != 0 && !names.insert(name.clone()) {
                continue;
            }
            ts.push(t(&name, DTYPES[next(DTYPES.len())], &[1 + next(5) as u64]));
        }
        let roles: Vec<Role> = (0..ts.len())
            .map(|i| match next(4) {
                0 if i > 0 => Role::Tied(0),
                1 => Role::Quantization,
                _ => Role::Param,
            })
            .collect();
        // half the rounds in name order, as checkpoints mostly write them: the grouped trie's case
        if round % 2 == 0 {
            ts.sort_by(|a, b| a.name.cmp(&b.name));
        }
        tries += usize::from(build::trie(&ts, false).is_some());
        let mut probe = Tree::root_only(0, 0);
        grouped += usize::from(build::trie(&ts, true).is_some_and(|t| build::from_trie(&t, &mut probe)));
        let by_trie = dump(&build::build_by(&ts, false, &roles, true));
        let by_sort = dump(&build::build_by(&ts, false, &roles, false));
        let names: Vec<_> = ts.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(by_trie, by_sort, "names {names:?}");
    }
    assert!(tries > 100, "the trie ran in {tries} rounds");
    assert!(
        grouped > 50 && grouped < tries,
        "the grouped trie held in {grouped} of {tries} rounds"
    );
}
