//! The module tree of a checkpoint: tensor names split on `.` after their last `/`; what comes before
//! splits on `/` only, so diffusers components (`unet/…`) and the files of a folder
//! (`adapter.safetensors/…`) are top nodes named whole, siblings in natural order (`h.2` before `h.10`), and per node the
//! parameters, bytes and dtype mix of its whole subtree.
//!
//! The tree is an arena in pre-order: a node's subtree is the index range `id..node.end`, so walking
//! the visible rows skips a closed subtree in one step and nothing is allocated per node. It is built
//! once: a trie of the names, walked with each node's children in natural order, then one pass back
//! to sum subtrees (`build.rs` says when one sort of every name replaces the trie).
//!
//! ```
//! use tensorscope::model::{DType, TensorInfo};
//! use tensorscope::tree::{Tree, TreeOptions};
//!
//! let t = |name: &str| TensorInfo::contiguous(name.into(), DType::F32, vec![2, 3], 0, 0..24).unwrap();
//! let tensors = [t("h.10.w"), t("h.2.w"), t("wte")];
//! let tree = Tree::build(&tensors, &TreeOptions::default());
//! let top: Vec<&str> = tree.children(Tree::ROOT).map(|c| tree.label(c)).collect();
//! assert_eq!(top, ["h", "wte"]);
//! let h = tree.children(Tree::ROOT).next().unwrap();
//! let layers: Vec<&str> = tree.children(h).map(|c| tree.label(c)).collect();
//! assert_eq!(layers, ["2", "10"]);
//! assert_eq!(tree.node(Tree::ROOT).params, 18);
//!
//! // folding repeated layers: one pattern row per distinct shape of name
//! let folded = Tree::build(&tensors, &TreeOptions { fold: true });
//! let h = folded.children(Tree::ROOT).next().unwrap();
//! let hash = folded.children(h).next().unwrap();
//! assert_eq!(folded.label(hash), "#");
//! assert_eq!(folded.node(hash).tensors, 2);
//! ```

use std::cmp::Ordering;

use crate::model::count::Role;
use crate::model::{DType, TensorInfo};

/// Index of a node in a [`Tree`].
pub type NodeId = usize;

/// Distinct dtypes a node's mix keeps by name; more are summed into [`DtypeMix::other`].
pub const MIX_DTYPES: usize = 4;

/// How to build a tree.
#[derive(Debug, Clone, Default)]
pub struct TreeOptions {
    /// Fold repeated layers: every all-digit name part becomes `#`, so
    /// `layers.0.mlp.up_proj.weight` … `layers.31.mlp.up_proj.weight` make one leaf with 32 tensors.
    pub fold: bool,
}

/// Parameters per dtype in a subtree, largest first once built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DtypeMix {
    /// The [`MIX_DTYPES`] largest dtypes with their parameter counts.
    pub entries: [Option<(DType, u64)>; MIX_DTYPES],
    /// Parameters of the smaller dtypes beyond the [`MIX_DTYPES`] largest.
    pub other: u64,
    /// While building: dtypes beyond the first [`MIX_DTYPES`] seen, kept by name so that `sort`
    /// can keep the largest rather than the first; empty once built.
    spill: Vec<(DType, u64)>,
}

impl DtypeMix {
    fn add(&mut self, dtype: DType, params: u64) {
        for e in self.entries.iter_mut() {
            match e {
                Some((d, p)) if *d == dtype => {
                    *p = p.saturating_add(params);
                    return;
                }
                None => {
                    *e = Some((dtype, params));
                    return;
                }
                _ => {}
            }
        }
        match self.spill.iter_mut().find(|(d, _)| *d == dtype) {
            Some((_, p)) => *p = p.saturating_add(params),
            None => self.spill.push((dtype, params)),
        }
    }

    fn merge(&mut self, other: &DtypeMix) {
        for &(d, p) in other.entries.iter().flatten().chain(&other.spill) {
            self.add(d, p);
        }
        self.other = self.other.saturating_add(other.other);
    }

    /// The dtypes present, largest share first.
    pub fn iter(&self) -> impl Iterator<Item = (DType, u64)> + '_ {
        self.entries.iter().flatten().copied()
    }

    /// Number of distinct dtypes kept (not counting [`other`](Self::other)).
    pub fn len(&self) -> usize {
        self.entries.iter().flatten().count()
    }

    /// Whether the subtree holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.entries[0].is_none()
    }

    /// Keeps the [`MIX_DTYPES`] largest, ties by name, and sums the rest into `other`.
    fn sort(&mut self) {
        let mut all: Vec<(DType, u64)> = self.entries.iter().flatten().copied().collect();
        all.append(&mut self.spill);
        self.spill = Vec::new();
        all.sort_by(|(da, a), (db, b)| b.cmp(a).then_with(|| da.name().cmp(db.name())));
        self.entries = [None; MIX_DTYPES];
        for (i, e) in all.into_iter().enumerate() {
            match self.entries.get_mut(i) {
                Some(slot) => *slot = Some(e),
                None => self.other = self.other.saturating_add(e.1),
            }
        }
    }
}

/// One node: a name part and the totals of everything below it.
#[derive(Debug, Clone)]
pub struct Node {
    /// The parent; the root is its own parent.
    pub parent: NodeId,
    /// Depth below the root (top nodes are 1).
    pub depth: u16,
    /// One past the last node of this subtree: descendants are `id + 1 .. end`.
    pub end: NodeId,
    label: (u32, u32),
    /// The tensor (index into the slice the tree was built from) named by the path to this node;
    /// for a folded leaf, the first of its tensors.
    pub tensor: Option<usize>,
    /// Tensors in the subtree (a folded leaf counts each tensor it stands for).
    pub tensors: usize,
    /// Parameters (elements) in the subtree; saturates instead of overflowing.
    pub params: u64,
    /// Bytes in the subtree; saturates instead of overflowing.
    pub bytes: u64,
    /// Parameters per dtype in the subtree.
    pub dtypes: DtypeMix,
}

impl Node {
    /// Whether the node has children.
    pub fn has_children(&self, id: NodeId) -> bool {
        self.end > id + 1
    }
}

/// The module tree; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Tree {
    nodes: Vec<Node>,
    labels: String,
}

/// The parts of `name`; with `fold`, all-digit parts read `#`. Everything before the last `/` is a
/// path of folders and files, each part named whole (`gpt2-tiny.bin/wte.weight` is `gpt2-tiny.bin`
/// then `wte`, `weight`): dots in a file name never split it.
fn parts(name: &str, fold: bool) -> impl Iterator<Item = &str> {
    let (dirs, leaf) = match name.rfind('/') {
        Some(i) => (Some(&name[..i]), &name[i + 1..]),
        None => (None, name),
    };
    dirs.into_iter()
        .flat_map(|d| d.split('/'))
        .chain(leaf.split('.'))
        .map(move |p| if fold && is_number(p) { "#" } else { p })
}

fn is_number(p: &str) -> bool {
    !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())
}

/// Natural order of two strings: runs of ASCII digits compare by value (`2` < `10`, any length,
/// no overflow), everything else byte by byte.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let (si, sj) = (i, j);
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let (x, y) = (trim_zeros(&a[si..i]), trim_zeros(&b[sj..j]));
            let ord = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
            // equal values: fewer leading zeros first, so the order stays total
            let ord = ord.then_with(|| (i - si).cmp(&(j - sj)));
            if ord != Ordering::Equal {
                return ord;
            }
        } else {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let k = d.iter().position(|&c| c != b'0').unwrap_or(d.len());
    &d[k..]
}

/// Natural order of two names part by part, so that every name under one prefix sorts together.
pub fn name_cmp(a: &str, b: &str, fold: bool) -> Ordering {
    let mut x = parts(a, fold);
    let mut y = parts(b, fold);
    loop {
        match (x.next(), y.next()) {
            (Some(p), Some(q)) => match natural_cmp(p, q) {
                Ordering::Equal => {}
                o => return o,
            },
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
        }
    }
}

/// Append to `out` a key whose byte order is [`name_cmp`]'s: parts end in `0x00` (below every
/// other byte), a run of digits reads `'0'`, its length without leading zeros (2 bytes, big-endian),
/// those digits and the count of leading zeros (so `2` < `10` and `7` < `007`). A digit byte never
/// meets another byte at the marker's place in a different role: the marker `'0'` sorts against any
/// non-digit byte exactly as a digit does. Names holding NUL bytes may tie; the sort breaks ties
/// with `name_cmp` itself.
fn sort_key(name: &str, fold: bool, out: &mut Vec<u8>) {
    for part in parts(name, fold) {
        let b = part.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                let s = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let run = &b[s..i];
                let digits = trim_zeros(run);
                let len = u16::try_from(digits.len()).unwrap_or(u16::MAX);
                out.push(b'0');
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(digits);
                out.push(u8::try_from(run.len() - digits.len()).unwrap_or(u8::MAX));
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out.push(0);
    }
}

impl Tree {
    /// The root node (no label; totals of the whole checkpoint).
    pub const ROOT: NodeId = 0;

    /// Build the tree of `tensors`.
    pub fn build(tensors: &[TensorInfo], opts: &TreeOptions) -> Tree {
        Self::build_counted(tensors, opts, &[])
    }

    /// A tree whose parameters and bytes count as the model defines them: `roles` is
    /// [`Counting::roles`](crate::model::count::Counting::roles) of the same tensors, so a tied tensor
    /// adds neither parameters nor bytes (its storage counts once, at the first name), a packed weight
    /// adds its unpacked parameters, and scales and zeros add bytes but no parameters. A tensor
    /// without a role (`roles` shorter) counts as stored.
    pub fn build_counted(tensors: &[TensorInfo], opts: &TreeOptions, roles: &[Role]) -> Tree {
        build::build(tensors, opts.fold, roles)
    }

    fn push(&mut self, parent: NodeId, depth: usize, part: &str) -> NodeId {
        let id = self.nodes.len();
        let start = u32::try_from(self.labels.len()).unwrap_or(u32::MAX);
        self.labels.push_str(part);
        self.nodes.push(Node {
            parent,
            depth: u16::try_from(depth).unwrap_or(u16::MAX),
            end: id + 1,
            label: (start, u32::try_from(self.labels.len()).unwrap_or(u32::MAX)),
            tensor: None,
            tensors: 0,
            params: 0,
            bytes: 0,
            dtypes: DtypeMix::default(),
        });
        id
    }

    /// Number of nodes, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the tree holds only its root.
    pub fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }

    /// The node `id`. Panics when `id` is not below [`len`](Self::len).
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// The name part of node `id` (`#` for a folded number; empty for the root).
    pub fn label(&self, id: NodeId) -> &str {
        let (a, b) = self.nodes[id].label;
        self.labels.get(a as usize..b as usize).unwrap_or("")
    }

    /// The children of `id`, in natural order.
    pub fn children(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let end = self.nodes[id].end;
        let first = (id + 1 < end).then_some(id + 1);
        std::iter::successors(first, move |&c| Some(self.nodes[c].end).filter(|&n| n < end))
    }

    /// The path from the top node to `id`, parts joined with `.` (`encoder.layer.0`).
    pub fn path(&self, id: NodeId) -> String {
        let mut ids = Vec::new();
        let mut at = id;
        while at != Self::ROOT {
            ids.push(at);
            at = self.nodes[at].parent;
        }
        let parts: Vec<&str> = ids.iter().rev().map(|&i| self.label(i)).collect();
        parts.join(".")
    }

    /// The node of tensor `index`, if the tree holds it (a folded tree holds only first instances).
    pub fn node_of_tensor(&self, index: usize) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.tensor == Some(index))
    }

    /// For every node, whether it or a descendant names a tensor for which `keep` is true:
    /// the nodes a filter shows (matching leaves and their ancestors).
    pub fn mark(&self, mut keep: impl FnMut(usize) -> bool) -> Vec<bool> {
        let mut marks: Vec<bool> = self.nodes.iter().map(|n| n.tensor.is_some_and(&mut keep)).collect();
        for id in (1..self.nodes.len()).rev() {
            if marks[id] {
                marks[self.nodes[id].parent] = true;
            }
        }
        marks
    }

    /// The rows to show, in pre-order and without the root: a node is shown when its parent is shown
    /// and open (`open[parent]`), and, with `only`, when `only[node]` is true.
    pub fn rows(&self, open: &[bool], only: Option<&[bool]>) -> Vec<NodeId> {
        let mut rows = Vec::new();
        let mut id = 1;
        while id < self.nodes.len() {
            if only.is_some_and(|m| !m.get(id).copied().unwrap_or(false)) {
                id = self.nodes[id].end;
                continue;
            }
            rows.push(id);
            id = if open.get(id).copied().unwrap_or(false) {
                id + 1
            } else {
                self.nodes[id].end
            };
        }
        rows
    }
}

/// A parameter count as people write it: `124.4M`, `10.6M`, `7.0B`, `768`.
pub fn params_label(n: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1_000_000_000_000, "T"),
        (1_000_000_000, "B"),
        (1_000_000, "M"),
        (1_000, "K"),
    ];
    for (scale, unit) in UNITS {
        if n >= scale {
            return format!("{:.1}{unit}", n as f64 / scale as f64);
        }
    }
    n.to_string()
}

mod build;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod mix_tests {
    use super::*;

    fn t(name: &str, dtype: DType, n: u64) -> TensorInfo {
        let bytes = dtype.bytes_for(n).unwrap();
        TensorInfo::contiguous(name.into(), dtype, vec![n], 0, 0..bytes).unwrap()
    }

    #[test]
    fn the_mix_keeps_the_largest_dtypes_not_the_first_seen() {
        // four small dtypes come first, in two subtrees, then two large ones in a third
        let ts = [
            t("blk.0.a", DType::U8, 1),
            t("blk.0.b", DType::I8, 2),
            t("blk.1.a", DType::I16, 3),
            t("blk.1.b", DType::U16, 3),
            t("blk.2.a", DType::F16, 50),
            t("blk.2.b", DType::F32, 40),
        ];
        let tree = Tree::build(&ts, &TreeOptions::default());
        let blk = tree.children(Tree::ROOT).next().unwrap();
        let mix = &tree.node(blk).dtypes;
        let kept: Vec<_> = mix.iter().collect();
        // largest first; the tie between I16 and U16 breaks by name
        assert_eq!(
            kept,
            [(DType::F16, 50), (DType::F32, 40), (DType::I16, 3), (DType::U16, 3)]
        );
        assert_eq!(mix.other, 3);
        assert!(mix.spill.is_empty());
    }
}
