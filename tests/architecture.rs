//! The floors of ARCHITECTURE.md, checked: reads every file under `src/`, follows the module tree from
//! `lib.rs` and `main.rs` (`mod x;`, `#[path]`, inline `mod x { … }`), collects every `crate::`,
//! `super::`, `self::` (and, in the binary, `tensorscope::`) path in `use` items and in code, resolves
//! each to the file that defines the item (through `pub use` re-exports), and fails on
//! - an import that runs up: a room importing a room on a higher floor;
//! - a circle of rooms on one floor;
//! - a circle of files (a module using what its own submodules hold is ownership, not an import).
//!
//! Every violation is printed at once. Plain Rust, no parser crate: comments, strings and char literals
//! are skipped by a small lexer, which is all the precision this check needs.

#[path = "architecture/lex.rs"]
mod lex;
#[path = "architecture/tree.rs"]
mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use lex::{Tok, lex};
use tree::{Tree, use_tree};

/// The floors, from the ground up. A room imports only rooms on lower floors; rooms on one floor may
/// import each other only where they form no circle.
const FLOORS: &[&[&str]] = &[
    &["text", "error", "report"],
    &["source"],
    &["model"],
    &["formats"],
    &["remote"],
    &["checkpoint", "scan", "tensor", "tree"],
    &["convert", "diff", "bench", "fit", "verify", "bom"],
    &["signal_pipe"],
    &["cli", "tui"],
];

/// Violations excused for now. An entry that no longer matches a violation fails the test too, so the
/// list never outlives what it excuses.
const KNOWN: &[&str] = &[];

fn floor_of(room: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&room))
}

// ---------------------------------------------------------------------------------------------
// The checks

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rel(p: &Path) -> String {
    p.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(p)
        .display()
        .to_string()
}

/// The room a module stands in: its first segment below the crate root.
fn room(module: &[String]) -> Option<&str> {
    module.get(1).map(String::as_str)
}

/// The file-level graph: file -> (file -> the path that made the edge).
type Graph = BTreeMap<PathBuf, BTreeMap<PathBuf, String>>;

struct Checked {
    up: Vec<String>,
    unknown_rooms: BTreeSet<String>,
    files: Graph,
    rooms: BTreeMap<String, BTreeMap<String, String>>,
}

fn check(tree: &Tree) -> Checked {
    let mut out = Checked {
        up: Vec::new(),
        unknown_rooms: BTreeSet::new(),
        files: Graph::new(),
        rooms: BTreeMap::new(),
    };
    let mut seen_up = BTreeSet::new();
    for r in &tree.refs {
        if !tree.modules.contains_key(&r.path[..1]) {
            continue;
        }
        let (target, _) = tree.resolve(&r.path, 0);
        let to_file = tree.modules[&target].file.clone();
        let from_file = tree.modules[&r.from[..]].file.clone();
        if !to_file.starts_with(src_dir()) || !from_file.starts_with(src_dir()) {
            continue;
        }
        let written = r.path.join("::");
        let (Some(a), Some(b)) = (room(&r.from), room(&target)) else {
            continue;
        };
        let (fa, fb) = (floor_of(a), floor_of(b));
        for (room, f) in [(a, fa), (b, fb)] {
            if f.is_none() {
                out.unknown_rooms.insert(room.to_string());
            }
        }
        let (Some(fa), Some(fb)) = (fa, fb) else { continue };
        // Test code may borrow a fixture writer from any floor: it is no part of what ships.
        if fb > fa && !tree.modules[&r.from[..]].test {
            let v = format!(
                "up: {} -> {} ({a} on floor {fa} imports {b} on floor {fb})",
                rel(&r.file),
                rel(&to_file)
            );
            if seen_up.insert(v.clone()) {
                out.up.push(format!("{v}: {written}"));
            }
        }
        if fa == fb && a != b {
            out.rooms
                .entry(a.to_string())
                .or_default()
                .entry(b.to_string())
                .or_insert_with(|| format!("{} -> {}", rel(&r.file), written));
        }
        // A module using what its own submodules hold is ownership, not an import.
        let held = module_of_file(tree, &r.file);
        let owns = target.len() > held.len() && target.starts_with(&held);
        if to_file != r.file && !owns {
            out.files
                .entry(r.file.clone())
                .or_default()
                .entry(to_file)
                .or_insert(written);
        }
    }
    out
}

/// The module a file holds (the shortest module path whose file it is).
fn module_of_file(tree: &Tree, file: &Path) -> Vec<String> {
    tree.modules
        .iter()
        .filter(|(_, m)| m.file == file)
        .map(|(k, _)| k.clone())
        .min_by_key(|k| k.len())
        .unwrap_or_default()
}

/// Strongly connected components of more than one node (Tarjan), each as its nodes in order.
fn circles<N: Ord + Clone>(graph: &BTreeMap<N, BTreeMap<N, String>>) -> Vec<Vec<N>> {
    struct State<N> {
        index: BTreeMap<N, usize>,
        low: BTreeMap<N, usize>,
        on: BTreeSet<N>,
        stack: Vec<N>,
        out: Vec<Vec<N>>,
    }
    fn visit<N: Ord + Clone>(g: &BTreeMap<N, BTreeMap<N, String>>, v: &N, s: &mut State<N>) {
        let i = s.index.len();
        s.index.insert(v.clone(), i);
        s.low.insert(v.clone(), i);
        s.stack.push(v.clone());
        s.on.insert(v.clone());
        for w in g.get(v).into_iter().flat_map(|e| e.keys()) {
            if !s.index.contains_key(w) {
                visit(g, w, s);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on.remove(&w);
                comp.push(w.clone());
                if w == *v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        on: BTreeSet::new(),
        stack: Vec::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v) {
            visit(graph, v, &mut s);
        }
    }
    s.out
}

fn load() -> Tree {
    let mut tree = Tree::default();
    tree.load("lib", &src_dir().join("lib.rs"));
    tree.load("bin", &src_dir().join("main.rs"));
    tree
}

#[test]
fn floors_hold_and_nothing_goes_round() {
    let tree = load();
    let checked = check(&tree);
    let mut violations: Vec<String> = Vec::new();
    for r in &checked.unknown_rooms {
        violations.push(format!(
            "room: {r} stands on no floor (add it to FLOORS and ARCHITECTURE.md)"
        ));
    }
    violations.extend(checked.up.iter().cloned());
    for comp in circles(&checked.rooms) {
        let edges: Vec<String> = comp
            .iter()
            .flat_map(|a| {
                checked.rooms[a]
                    .iter()
                    .filter(|(b, _)| comp.contains(b))
                    .map(move |(b, why)| format!("{a} -> {b} ({why})"))
            })
            .collect();
        violations.push(format!("circle of rooms: {}: {}", comp.join(" <-> "), edges.join("; ")));
    }
    for comp in circles(&checked.files) {
        let names: Vec<String> = comp.iter().map(|p| rel(p)).collect();
        let edges: Vec<String> = comp
            .iter()
            .flat_map(|a| {
                checked.files[a]
                    .iter()
                    .filter(|(b, _)| comp.contains(b))
                    .map(move |(b, why)| format!("{} -> {} ({why})", rel(a), rel(b)))
            })
            .collect();
        violations.push(format!(
            "circle of files: {}: {}",
            names.join(" <-> "),
            edges.join("; ")
        ));
    }
    let key = |v: &String| v.split(": ").take(2).collect::<Vec<_>>().join(": ");
    let known: Vec<&str> = KNOWN.to_vec();
    let stale: Vec<&&str> = known
        .iter()
        .filter(|k| !violations.iter().any(|v| key(v) == **k))
        .collect();
    violations.retain(|v| !known.contains(&key(v).as_str()));
    let mut msg = String::new();
    for v in &violations {
        msg.push_str(&format!("  {v}\n"));
    }
    for s in &stale {
        msg.push_str(&format!(
            "  stale KNOWN entry (no longer a violation: remove it): {s}\n"
        ));
    }
    assert!(
        msg.is_empty(),
        "{} violation(s) of the floors (see ARCHITECTURE.md):\n{msg}",
        violations.len() + stale.len()
    );
}

/// The check sees what it should: a guard against a parser that silently finds nothing.
#[test]
fn the_check_reads_the_tree() {
    let tree = load();
    assert!(tree.modules.len() > 100, "only {} modules found", tree.modules.len());
    assert!(tree.refs.len() > 500, "only {} paths found", tree.refs.len());
    let checked = check(&tree);
    let edges: usize = checked.files.values().map(BTreeMap::len).sum();
    assert!(edges > 300, "only {edges} file-level imports found");
    // Re-exports resolve to the defining file: `crate::Error` is error.rs's.
    let (m, found) = tree.resolve(&["lib".into(), "Error".into()], 0);
    assert!(found && m == ["lib", "error"], "{m:?}");
    // Every room in src/ stands on a floor.
    let rooms: BTreeSet<&str> = tree.modules.keys().filter_map(|k| room(k)).collect();
    for r in rooms {
        assert!(floor_of(r).is_some(), "room {r} stands on no floor");
    }
}

#[test]
fn lexer_skips_comments_strings_and_chars() {
    let t = lex(
        "use crate::a; // crate::b\n/* crate::c /* nested */ */ let s = \"crate::d\"; let c = '\"'; let r = r#\"crate::e\"#; fn f<'a>() {}",
    );
    let idents: Vec<&str> = t
        .iter()
        .filter_map(|t| if let Tok::Ident(s) = t { Some(s.as_str()) } else { None })
        .collect();
    assert_eq!(
        idents,
        ["use", "crate", "a", "let", "s", "let", "c", "let", "r", "fn", "f", "a"]
    );
    let mut leaves = Vec::new();
    let toks = lex("crate::{a::{self, B as C}, d::*, e}");
    use_tree(&toks, &mut 0, Vec::new(), &mut leaves);
    let paths: Vec<String> = leaves.iter().map(|(p, _)| p.join("::")).collect();
    assert_eq!(paths, ["crate::a", "crate::a::B", "crate::d", "crate::e"]);
}
