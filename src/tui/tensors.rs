//! The Tensors pane's state: the module tree (or the flat list), which nodes are open, the filter and
//! its matches, the visible rows, the selection and the scroll offset. Pure: no drawing, no terminal.

use tensorscope::checkpoint::Checkpoint;
use tensorscope::model::TensorInfo;
use tensorscope::model::count::Role;
use tensorscope::tree::{NodeId, Tree, TreeOptions};

use super::filter::Filter;

/// Rows the first screen opens the tree up to (levels open while they fit).
const FIRST_SCREEN_ROWS: usize = 20;

/// A checkpoint of at least this many tensors gets its tree on a worker: the first frame is drawn
/// before the tree exists (200,000 tensors take a few hundred ms to index on 2 cores), and the
/// pane fills in when it arrives. Below it the tree is built before the first frame.
pub const TREE_ON_WORKER_MIN: usize = 50_000;

/// The Tensors pane.
#[derive(Debug, Clone)]
pub struct TensorPane {
    pub tree: Tree,
    /// Node per tensor (its leaf in `tree`).
    node_of: Vec<NodeId>,
    pub open: Vec<bool>,
    /// The flat list instead of the tree.
    pub flat: bool,
    /// Bytes every tensor name starts with, ending at a `.` or `/` (`model.layers.`): the flat list
    /// drops it from each row and shows it once.
    pub common_prefix: usize,
    pub filter: String,
    matcher: Filter,
    /// Per tensor, whether the filter matches it (`None` without a filter).
    pub matched: Option<Vec<bool>>,
    /// Matching tensors.
    pub match_count: usize,
    /// Per node, whether it is a matching leaf or an ancestor of one.
    marks: Option<Vec<bool>>,
    /// Node ids shown, top to bottom.
    pub rows: Vec<NodeId>,
    /// Position in `rows`.
    pub selected: usize,
    /// First row drawn (kept so the selection stays in view).
    pub offset: usize,
    /// An empty stand-in while the tree is built on a worker ([`TREE_ON_WORKER_MIN`]).
    pub pending: bool,
    /// Per tensor tied to an earlier one (the same storage), that one: `inspect`'s `tied to`.
    pub tied: std::collections::HashMap<usize, usize>,
    /// The preview asked for (Enter on a tensor, J/K, s): a terminal too narrow for both panes
    /// shows it instead of the list until ←, Esc or a move.
    pub preview_focus: bool,
    /// Bytes on disk, each storage once (`inspect`'s `bytes`): views and transposes of one
    /// storage count once, where the tree's nodes add each view.
    pub unique_bytes: u64,
}

/// The longest prefix of every name that ends at a `.` or `/` (whole name parts only); 0 for one name
/// or none, so a lone tensor keeps its whole name.
pub fn common_prefix<'a>(mut names: impl Iterator<Item = &'a str>) -> usize {
    let Some(first) = names.next() else { return 0 };
    let mut len = first.len();
    let mut any = false;
    for n in names {
        any = true;
        len = first.as_bytes()[..len]
            .iter()
            .zip(n.as_bytes())
            .take_while(|(a, b)| a == b)
            .count();
        if len == 0 {
            return 0;
        }
    }
    if !any {
        return 0;
    }
    // back to just after the last separator inside the shared part (never the whole of a name)
    first.as_bytes()[..len.min(first.len().saturating_sub(1))]
        .iter()
        .rposition(|&b| b == b'.' || b == b'/')
        .map_or(0, |i| i + 1)
}

impl TensorPane {
    /// The pane of `ck`, counted by its roles (tied and packed weights as the model defines them).
    pub fn of(ck: &Checkpoint) -> TensorPane {
        let c = ck.counting();
        TensorPane {
            unique_bytes: c.unique_bytes,
            ..TensorPane::new(&ck.tensors, &c.roles)
        }
    }

    /// The pane of `ck` now, or an empty stand-in whose tree a worker builds ([`TensorPane::of`])
    /// when `ck` holds [`TREE_ON_WORKER_MIN`] tensors or more.
    pub fn first(ck: &Checkpoint) -> TensorPane {
        if ck.tensors.len() < TREE_ON_WORKER_MIN {
            return TensorPane::of(ck);
        }
        TensorPane {
            pending: true,
            ..TensorPane::new(&[], &[])
        }
    }

    /// The pane over `tensors`, counted by `roles` (the checkpoint's
    /// [`Counting::roles`](tensorscope::model::count::Counting::roles): tied and packed weights as
    /// the model defines them).
    pub fn new(tensors: &[TensorInfo], roles: &[Role]) -> TensorPane {
        let tree = Tree::build_counted(tensors, &TreeOptions::default(), roles);
        let mut node_of = vec![0; tensors.len()];
        for id in 0..tree.len() {
            if let Some(t) = tree.node(id).tensor {
                node_of[t] = id;
            }
        }
        let mut pane = TensorPane {
            open: vec![false; tree.len()],
            tree,
            node_of,
            flat: false,
            common_prefix: common_prefix(tensors.iter().map(|t| t.name.as_str())),
            filter: String::new(),
            matcher: Filter::default(),
            matched: None,
            match_count: 0,
            marks: None,
            rows: Vec::new(),
            selected: 0,
            offset: 0,
            pending: false,
            preview_focus: false,
            unique_bytes: 0,
            tied: roles
                .iter()
                .enumerate()
                .filter_map(|(i, r)| match r {
                    Role::Tied(j) => Some((i, *j)),
                    _ => None,
                })
                .collect(),
        };
        pane.unique_bytes = pane.tree.node(Tree::ROOT).bytes;
        pane.open[Tree::ROOT] = true;
        pane.open_first_screen();
        pane.rebuild(None);
        pane
    }

    /// Open level after level while the rows still fit one screen, and single-child chains always.
    fn open_first_screen(&mut self) {
        loop {
            let rows = self.tree.rows(&self.open, None);
            let mut count = rows.len();
            let mut changed = false;
            for &id in &rows {
                let n = self.tree.node(id);
                if self.open[id] || !n.has_children(id) {
                    continue;
                }
                let kids = self.tree.children(id).count();
                if count + kids <= FIRST_SCREEN_ROWS || rows.len() == 1 {
                    self.open[id] = true;
                    count += kids;
                    changed = true;
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// The tensors that the tensors under node `id` (itself included) are tied to, when every one
    /// of them is tied (an `lm_head` that shares `wte`'s storage counts 0 params); else none.
    pub fn tied_targets(&self, id: NodeId) -> Vec<usize> {
        let mut out = Vec::new();
        if self.tied.is_empty() || id >= self.tree.len() {
            return out;
        }
        for k in id..self.tree.node(id).end.max(id + 1) {
            if let Some(t) = self.tree.node(k).tensor {
                match self.tied.get(&t) {
                    Some(&j) => out.push(j),
                    None => return Vec::new(),
                }
            }
        }
        out
    }

    /// The node under the cursor.
    pub fn selected_node(&self) -> Option<NodeId> {
        self.rows.get(self.selected).copied()
    }

    /// The tensor under the cursor, when the row is a tensor.
    pub fn selected_tensor(&self) -> Option<usize> {
        self.selected_node().and_then(|id| self.tree.node(id).tensor)
    }

    /// Whether tensor `t` matches the filter (true without one).
    pub fn is_match(&self, t: usize) -> bool {
        self.matched.as_ref().is_none_or(|m| m[t])
    }

    /// Recompute the rows, keeping `keep` (else the selected node) selected when still shown.
    fn rebuild(&mut self, keep: Option<NodeId>) {
        let keep = keep.or_else(|| self.selected_node());
        self.rows = if self.flat {
            let mut rows = Vec::with_capacity(self.node_of.len());
            for id in 1..self.tree.len() {
                if self.tree.node(id).tensor.is_some_and(|t| self.is_match(t)) {
                    rows.push(id);
                }
            }
            rows
        } else if let Some(marks) = &self.marks {
            self.tree.rows(&vec![true; self.tree.len()], Some(marks))
        } else {
            self.tree.rows(&self.open, None)
        };
        self.selected = keep
            .and_then(|k| self.position(k))
            .unwrap_or_else(|| self.first_match_row().unwrap_or(0));
    }

    fn position(&self, id: NodeId) -> Option<usize> {
        // rows are in pre-order, so ids increase: binary search
        self.rows.binary_search(&id).ok()
    }

    fn first_match_row(&self) -> Option<usize> {
        self.matched.as_ref()?;
        self.rows.iter().position(|&id| self.row_matches(id))
    }

    /// Whether row `id` is a tensor the filter matches.
    pub fn row_matches(&self, id: NodeId) -> bool {
        self.matched.is_some() && self.tree.node(id).tensor.is_some_and(|t| self.is_match(t))
    }

    pub fn move_by(&mut self, delta: isize) {
        let n = self.rows.len();
        if n == 0 {
            return;
        }
        self.selected = (self.selected as isize + delta).clamp(0, n as isize - 1) as usize;
    }

    pub fn top(&mut self) {
        self.selected = 0;
    }

    pub fn bottom(&mut self) {
        self.selected = self.rows.len().saturating_sub(1);
    }

    /// → / l / Enter: open the node; on an open node (or with a filter) go to its first child.
    pub fn open_selected(&mut self) {
        let Some(id) = self.selected_node() else { return };
        if self.flat || !self.tree.node(id).has_children(id) {
            return;
        }
        if self.open[id] || self.marks.is_some() {
            self.move_by(1);
        } else {
            self.open[id] = true;
            self.rebuild(Some(id));
        }
    }

    /// ← / h: close the node; on a closed node or a leaf go to its parent.
    pub fn close_selected(&mut self) {
        let Some(id) = self.selected_node() else { return };
        if self.flat {
            return;
        }
        let n = self.tree.node(id);
        if self.open[id] && n.has_children(id) && self.marks.is_none() {
            self.open[id] = false;
            self.rebuild(Some(id));
        } else if n.parent != Tree::ROOT
            && let Some(p) = self.position(n.parent)
        {
            self.selected = p;
        }
    }

    /// `*` / `-`: open or close every node.
    pub fn set_all(&mut self, open: bool) {
        let keep = self.selected_node();
        self.open.iter_mut().for_each(|o| *o = open);
        self.open[Tree::ROOT] = true;
        // closing everything: select the top node that held the selection
        let keep = match (open, keep) {
            (false, Some(mut id)) => {
                while self.tree.node(id).parent != Tree::ROOT {
                    id = self.tree.node(id).parent;
                }
                Some(id)
            }
            _ => keep,
        };
        self.rebuild(keep);
    }

    /// `t`: the flat list or the tree.
    pub fn toggle_flat(&mut self) {
        self.flat = !self.flat;
        let keep = self.selected_node();
        // the selected tensor stays selected: open its ancestors in the tree
        if let Some(mut id) = keep {
            while id != Tree::ROOT {
                id = self.tree.node(id).parent;
                self.open[id] = true;
            }
        }
        self.rebuild(keep);
    }

    /// Set the filter; `names(i)` is tensor i's name.
    pub fn set_filter<'a>(&mut self, filter: &str, names: impl Fn(usize) -> &'a str) {
        self.filter = filter.to_string();
        if filter.trim().is_empty() {
            // clearing the filter keeps the selection: its ancestors open in the tree
            if let Some(mut id) = self.selected_node().filter(|_| self.matched.is_some()) {
                let keep = id;
                while id != Tree::ROOT {
                    id = self.tree.node(id).parent;
                    self.open[id] = true;
                }
                self.matched = None;
                self.marks = None;
                self.match_count = 0;
                self.rebuild(Some(keep));
                return;
            }
            self.matched = None;
            self.marks = None;
            self.match_count = 0;
        } else {
            let found = self.matcher.matches(filter, names, self.node_of.len());
            let mut matched = vec![false; self.node_of.len()];
            for &i in found {
                matched[i as usize] = true;
            }
            self.match_count = found.len();
            self.marks = Some(self.tree.mark(|t| matched[t]));
            self.matched = Some(matched);
        }
        // the selection stays only when it is itself a match; else the first match is selected
        let keep = self.selected_node().filter(|&id| self.row_matches(id));
        self.rows.clear();
        self.rebuild(keep);
    }

    /// `n` / `N`: the next (or previous) matching row, wrapping around.
    pub fn jump(&mut self, forward: bool) {
        let n = self.rows.len();
        if n == 0 || self.matched.is_none() {
            return;
        }
        for step in 1..=n {
            let i = if forward {
                (self.selected + step) % n
            } else {
                (self.selected + n - step % n) % n
            };
            if self.row_matches(self.rows[i]) {
                self.selected = i;
                return;
            }
        }
    }

    /// Char positions of `name` the filter matches, for highlighting.
    pub fn highlight(&mut self, name: &str) -> Vec<u32> {
        if self.matched.is_none() {
            return Vec::new();
        }
        let filter = self.filter.clone();
        self.matcher.indices(&filter, name)
    }

    /// The first matching tensor at or below `id`, following marked children (for highlighting a
    /// node's part of a matching name).
    pub fn first_match_below(&self, mut id: NodeId) -> Option<usize> {
        let marks = self.marks.as_ref()?;
        loop {
            if let Some(t) = self.tree.node(id).tensor.filter(|&t| self.is_match(t)) {
                return Some(t);
            }
            id = self.tree.children(id).find(|&c| marks[c])?;
        }
    }

    /// Keep the selection within `height` rows from `offset`.
    pub fn scroll_to_selection(&mut self, height: usize) {
        let height = height.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(self.rows.len().saturating_sub(height));
    }
}
