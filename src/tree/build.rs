//! Building a [`Tree`]: the arena in pre-order, then the totals summed into every subtree.
//!
//! Two ways reach the same arena. The usual one inserts each name part by part into a trie (a name
//! shares the path of the one before it, so most parts cost a string comparison), then walks it
//! with each node's children in natural order: a few sorts of siblings, cheap where a sort of every
//! whole name was the largest cost of opening 200,000 tensors. A part that differs from the last
//! name's is first taken as a new child with no lookup, right when names come grouped by module
//! (sorted, or in module order, as checkpoints write them); two siblings with one label show the
//! names were not, and the trie is built again with a hash map of every node's children. Folded trees,
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
/// With `grouped`, a name part that differs from the last name's at its depth is taken as a new
/// child, without looking it up: right when each node's children come in one run (names sorted or
/// grouped by module, as checkpoints write them), and caught by [`from_trie`] (two siblings with
/// one label) when not. Without it, every new part is looked up in a map.
pub(super) fn trie(tensors: &[TensorInfo], grouped: bool) -> Option<Vec<Trie<'_>>> {
    let n = u32::try_from(tensors.len()).ok().filter(|&n| n < NONE)?;
    let leaf = |label| Trie {
        label,
        first: NONE,
        last: NONE,
        next: NONE,
        tensor: NONE,
    };
    // at most one node per name part: the arena is reserved for that, so it never grows (and is
    // never copied); the map, when used, gets three entries per tensor (names share their leading
    // parts), as reserving one per part would spread its inserts over far more fresh pages
    let parts_total = tensors
        .iter()
        .map(|t| t.name.bytes().filter(|&b| b == b'.' || b == b'/').count() + 1)
        .sum::<usize>();
    let mut nodes = Vec::with_capacity(parts_total + 1);
    nodes.push(leaf(""));
    let mut map: HashMap<(u32, &str), u32, BuildHasherDefault<NameHasher>> = if grouped {
        HashMap::default()
    } else {
        HashMap::with_capacity_and_hasher(parts_total.min(tensors.len() * 3), Default::default())
    };
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
            let mut add = || {
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
            };
            let id = if grouped {
                add()
            } else {
                *map.entry((parent, part)).or_insert_with(add)
            };
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

/// The arena of `trie` in pre-order, siblings in natural order; `false` (the arena unfinished) when
/// two siblings have one label, which a trie built `grouped` from names not grouped can hold.
pub(super) fn from_trie(trie: &[Trie<'_>], tree: &mut Tree) -> bool {
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
        // strictly increasing: natural order is total (equal only for equal labels), so a label
        // twice shows as two equal neighbours once sorted
        if !kids.is_sorted_by(|a, b| natural_cmp(label(a), label(b)).is_lt()) {
            kids.sort_unstable_by(|a, b| natural_cmp(label(a), label(b)));
            if kids.windows(2).any(|w| label(&w[0]) == label(&w[1])) {
                return false;
            }
        }
        todo.extend(kids.iter().rev().map(|&k| (k, parent, depth)));
        true
    };
    if !push_children(0, Tree::ROOT, 1, &mut todo) {
        return false;
    }
    while let Some((at, parent, depth)) = todo.pop() {
        let id = tree.push(parent, depth, trie[at as usize].label);
        let t = trie[at as usize].tensor;
        if t != NONE {
            tree.nodes[id].tensor = Some(t as usize);
        }
        if !push_children(at, id, depth + 1, &mut todo) {
            return false;
        }
    }
    true
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

impl Tree {
    /// The root alone, with room for `nodes` nodes and `bytes` bytes of labels.
    pub(super) fn root_only(nodes: usize, bytes: usize) -> Tree {
        let mut tree = Tree {
            nodes: Vec::with_capacity(nodes),
            labels: String::with_capacity(bytes),
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
        tree
    }
}

/// The tree of `tensors`, counted by `roles` (see [`Tree::build_counted`]).
pub(super) fn build(tensors: &[TensorInfo], fold: bool, roles: &[Role]) -> Tree {
    build_by(tensors, fold, roles, true)
}

/// [`build`], through the trie where `by_trie` allows it (the tests build both ways and compare).
pub(super) fn build_by(tensors: &[TensorInfo], fold: bool, roles: &[Role], by_trie: bool) -> Tree {
    if !fold && by_trie {
        // names grouped as checkpoints write them first (no lookups), then with the map
        for grouped in [true, false] {
            let Some(t) = trie(tensors, grouped) else { break };
            let mut tree = Tree::root_only(t.len(), t.iter().map(|n| n.label.len()).sum());
            if from_trie(&t, &mut tree) {
                drop(t);
                // (leaf, tensor) in the order the tensors count: the sorted names' order
                let nodes = &tree.nodes;
                let leaves = (0..nodes.len())
                    .filter_map(|id| nodes[id].tensor.map(|t| (id, t)))
                    .collect();
                return counted(tree, tensors, roles, leaves);
            }
        }
    }
    // at most one node per name part: reserving it up front spares regrowing (and copying) an
    // arena of hundreds of thousands of nodes
    let (nodes, bytes_total) = tensors.iter().fold((1, 0), |(n, b), t| {
        let seps = t.name.bytes().filter(|&b| b == b'.' || b == b'/').count();
        (n + seps + 1, b + t.name.len())
    });
    let mut tree = Tree::root_only(nodes, bytes_total);
    let leaves = from_sort(tensors, fold, &mut tree);
    counted(tree, tensors, roles, leaves)
}

/// `tree` with each leaf's tensor counted by `roles`, then the totals summed into every subtree.
fn counted(mut tree: Tree, tensors: &[TensorInfo], roles: &[Role], leaves: Vec<(NodeId, usize)>) -> Tree {
    for (leaf, i) in leaves {
        let t = &tensors[i];
        let n = &mut tree.nodes[leaf];
        let stored = t.numel().unwrap_or(u64::MAX);
        let nbytes = t.nbytes().unwrap_or(u64::MAX);
        let (params, nbytes) = match roles.get(i) {
            None | Some(Role::Param) => (stored, nbytes),
            Some(Role::Tied(_)) => (0, 0),
            Some(Role::Packed { params, .. }) => (*params, nbytes),
            Some(Role::Quantization | Role::Buffer) => (0, nbytes),
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
