//! Building a [`Tree`]: the arena in pre-order, then the totals summed into every subtree.
//!
//! Two ways reach the same arena. The usual one inserts each name part by part into a trie (a name
//! shares the path of the one before it, so most parts cost a string comparison, the rest one hash
//! lookup), then walks it with each node's children in natural order: a few sorts of siblings, cheap
//! where a sort of every whole name was the largest cost of opening 200,000 tensors. Folded trees,
//! repeated names (sibling rows of their own), and names the sort key cannot order (a NUL byte, a
//! digit run past 65,535) take the other way: one sort of all names by [`name_cmp`]'s byte key, then
//! one pass.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::{DtypeMix, Node, NodeId, Tree, name_cmp, natural_cmp, parts, sort_key};
use crate::model::TensorInfo;
use crate::model::count::Role;
use crate::model::names::NameHasher;

const NONE: u32 = u32::MAX;

/// A trie node: the name part, children as a list in first-seen order, and the tensor it names.
pub(super) struct Trie<'a> {
    label: &'a str,
    first: u32,
    last: u32,
    next: u32,
    tensor: u32,
}

/// The trie of `tensors`' names, or `None` where the sorted build must run (see the module docs).
pub(super) fn trie(tensors: &[TensorInfo]) -> Option<Vec<Trie<'_>>> {
    let n = u32::try_from(tensors.len()).ok().filter(|&n| n < NONE)?;
    let leaf = |label| Trie {
        label,
        first: NONE,
        last: NONE,
        next: NONE,
        tensor: NONE,
    };
    // at most one node per name part: the arena is reserved for that, so it never grows (and is
    // never copied); the map gets three entries per tensor (names share their leading parts), as
    // reserving one per part would spread its inserts over far more fresh pages than it fills
    let parts_total = tensors
        .iter()
        .map(|t| t.name.bytes().filter(|&b| b == b'.' || b == b'/').count() + 1)
        .sum::<usize>();
    let mut nodes = Vec::with_capacity(parts_total + 1);
    nodes.push(leaf(""));
    let mut map: HashMap<(u32, &str), u32, BuildHasherDefault<NameHasher>> =
        HashMap::with_capacity_and_hasher(parts_total.min(tensors.len() * 3), Default::default());
    // the path of the last name added: stack[d] is the node at depth d
    let mut stack: Vec<u32> = vec![0];
    for (i, t) in (0..n).zip(tensors) {
        if t.name.len() > usize::from(u16::MAX) || t.name.as_bytes().contains(&0) {
            return None;
        }
        let mut depth = 0;
        let mut reuse = true;
        for part in parts(&t.name, false) {
            depth += 1;
            if reuse && depth < stack.len() && nodes[stack[depth] as usize].label == part {
                continue;
            }
            reuse = false;
            stack.truncate(depth);
            let parent = stack[depth - 1];
            let id = *map.entry((parent, part)).or_insert_with(|| {
                let id = u32::try_from(nodes.len()).unwrap_or(NONE);
                nodes.push(leaf(part));
                let p = &mut nodes[parent as usize];
                let last = std::mem::replace(&mut p.last, id);
                if last == NONE {
                    p.first = id;
                } else {
                    nodes[last as usize].next = id;
                }
                id
            });
            if id == NONE {
                return None;
            }
            stack.push(id);
        }
        let node = &mut nodes[stack[depth] as usize];
        if node.tensor != NONE {
            // a repeated name: the sorted build gives it a sibling row
            return None;
        }
        node.tensor = i;
    }
    Some(nodes)
}

/// The arena of `trie` in pre-order, siblings in natural order.
fn from_trie(trie: &[Trie<'_>], tree: &mut Tree) {
    let mut todo: Vec<(u32, NodeId, usize)> = Vec::new();
    let mut kids: Vec<u32> = Vec::new();
    let mut push_children = |at: u32, parent: NodeId, depth: usize, todo: &mut Vec<(u32, NodeId, usize)>| {
        kids.clear();
        let mut c = trie[at as usize].first;
        while c != NONE {
            kids.push(c);
            c = trie[c as usize].next;
        }
        let label = |k: &u32| trie[*k as usize].label;
        if !kids.is_sorted_by(|a, b| natural_cmp(label(a), label(b)).is_le()) {
            kids.sort_unstable_by(|a, b| natural_cmp(label(a), label(b)));
        }
        todo.extend(kids.iter().rev().map(|&k| (k, parent, depth)));
    };
    push_children(0, Tree::ROOT, 1, &mut todo);
    while let Some((at, parent, depth)) = todo.pop() {
        let id = tree.push(parent, depth, trie[at as usize].label);
        let t = trie[at as usize].tensor;
        if t != NONE {
            tree.nodes[id].tensor = Some(t as usize);
        }
        push_children(at, id, depth + 1, &mut todo);
    }
}

/// The arena by one sort of every name, then one pass; a repeated name gets a sibling row.
fn from_sort(tensors: &[TensorInfo], fold: bool, tree: &mut Tree) -> Vec<(NodeId, usize)> {
    // one byte key per name whose plain comparison is `name_cmp`'s order: a sort of 200,000 names
    // then compares with memcmp instead of splitting both names at every comparison
    let mut keys = Vec::new();
    let mut spans = Vec::with_capacity(tensors.len());
    for t in tensors {
        let start = keys.len();
        sort_key(&t.name, fold, &mut keys);
        spans.push(start..keys.len());
    }
    let mut order: Vec<usize> = (0..tensors.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        keys[spans[a].clone()]
            .cmp(&keys[spans[b].clone()])
            .then_with(|| name_cmp(&tensors[a].name, &tensors[b].name, fold))
            .then_with(|| name_cmp(&tensors[a].name, &tensors[b].name, false))
            .then(a.cmp(&b))
    });
    let mut leaves = Vec::with_capacity(tensors.len());
    // the path of the last name added: stack[d] is the node at depth d
    let mut stack: Vec<NodeId> = vec![Tree::ROOT];
    for &i in &order {
        let t = &tensors[i];
        let mut depth = 0;
        let mut reuse = true;
        for part in parts(&t.name, fold) {
            depth += 1;
            if reuse && depth < stack.len() && tree.label(stack[depth]) == part {
                continue;
            }
            reuse = false;
            stack.truncate(depth);
            let id = tree.push(stack[depth - 1], depth, part);
            stack.push(id);
        }
        let mut leaf = stack[depth];
        let taken = tree.nodes[leaf].tensor.is_some();
        if reuse && taken && !fold {
            // a repeated name (two files holding the same tensor): a sibling row of its own
            let part = tree.label(leaf).to_string();
            stack.truncate(depth);
            leaf = tree.push(stack[depth - 1], depth, &part);
            stack.push(leaf);
        }
        tree.nodes[leaf].tensor.get_or_insert(i);
        leaves.push((leaf, i));
    }
    leaves
}

/// The tree of `tensors`, counted by `roles` (see [`Tree::build_counted`]).
pub(super) fn build(tensors: &[TensorInfo], fold: bool, roles: &[Role]) -> Tree {
    build_by(tensors, fold, roles, true)
}

/// [`build`], through the trie where `by_trie` allows it (the tests build both ways and compare).
pub(super) fn build_by(tensors: &[TensorInfo], fold: bool, roles: &[Role], by_trie: bool) -> Tree {
    let trie = if fold || !by_trie { None } else { trie(tensors) };
    let (nodes, bytes_total) = match &trie {
        Some(t) => (t.len(), t.iter().map(|n| n.label.len()).sum()),
        // at most one node per name part: reserving it up front spares regrowing (and copying) an
        // arena of hundreds of thousands of nodes
        None => tensors.iter().fold((1, 0), |(n, b), t| {
            let seps = t.name.bytes().filter(|&b| b == b'.' || b == b'/').count();
            (n + seps + 1, b + t.name.len())
        }),
    };
    let mut tree = Tree {
        nodes: Vec::with_capacity(nodes),
        labels: String::with_capacity(bytes_total),
    };
    tree.nodes.push(Node {
        parent: 0,
        depth: 0,
        end: 1,
        label: (0, 0),
        tensor: None,
        tensors: 0,
        params: 0,
        bytes: 0,
        dtypes: DtypeMix::default(),
    });
    // (leaf, tensor) in the order the tensors count: the sorted names' order
    let leaves = match &trie {
        Some(t) => {
            from_trie(t, &mut tree);
            drop(trie);
            let nodes = &tree.nodes;
            (0..nodes.len())
                .filter_map(|id| nodes[id].tensor.map(|t| (id, t)))
                .collect()
        }
        None => from_sort(tensors, fold, &mut tree),
    };
    for (leaf, i) in leaves {
        let t = &tensors[i];
        let n = &mut tree.nodes[leaf];
        let stored = t.numel().unwrap_or(u64::MAX);
        let nbytes = t.nbytes().unwrap_or(u64::MAX);
        let (params, nbytes) = match roles.get(i) {
            None | Some(Role::Param) => (stored, nbytes),
            Some(Role::Tied(_)) => (0, 0),
            Some(Role::Packed { params, .. }) => (*params, nbytes),
            Some(Role::Quantization) => (0, nbytes),
        };
        n.tensors += 1;
        n.params = n.params.saturating_add(params);
        n.bytes = n.bytes.saturating_add(nbytes);
        n.dtypes.add(t.dtype, params);
    }
    // pre-order: every child comes after its parent, so one backward pass sums the subtrees
    for id in (1..tree.nodes.len()).rev() {
        let (head, tail) = tree.nodes.split_at_mut(id);
        let n = &tail[0];
        let p = &mut head[n.parent];
        p.end = p.end.max(n.end);
        p.tensors += n.tensors;
        p.params = p.params.saturating_add(n.params);
        p.bytes = p.bytes.saturating_add(n.bytes);
        p.dtypes.merge(&n.dtypes);
    }
    for n in &mut tree.nodes {
        n.dtypes.sort();
    }
    tree
}
