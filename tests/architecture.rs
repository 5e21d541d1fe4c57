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

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floors, from the ground up. A room imports only rooms on lower floors; rooms on one floor may
/// import each other only where they form no circle.
const FLOORS: &[&[&str]] = &[
    &["text", "error", "report"],
    &["model"],
    &["source"],
    &["formats"],
    &["remote"],
    &["checkpoint", "scan", "tensor", "tree"],
    &["convert", "diff", "bench", "fit", "verify"],
    &["cli", "tui"],
];

/// Violations the remote room's merge (issue 22, branch `remote`) removes. That work lands separately;
/// the coordinator empties this list when it merges it. An entry that no longer matches a violation
/// fails the test too, so the list never outlives what it excuses.
const KNOWN_UNTIL_REMOTE_MERGE: &[&str] = &[
    // The per-format range planners call each other; one remote room asks each reader instead.
    "circle of files: src/remote/gguf.rs <-> src/remote/plan.rs",
    // The checkpoint reaches the sparse mirror and its on-demand limit through `source::remote`
    // (`Checkpoint::remote`, `contiguous_bytes`): the remote room and the explicit context move this.
    "up: src/model/mod.rs -> src/source/remote/mod.rs (model on floor 1 imports source on floor 2)",
    "up: src/model/mod.rs -> src/source/remote/mirror.rs (model on floor 1 imports source on floor 2)",
    // The checkpoint holds its sources (`Arc<Source>`, local maps or remote files). Not in
    // src/remote or src/source, but the same handle the remote merge reshapes: once remote has left
    // `source`, either `Source` (error-only) moves down into `model` or ARCHITECTURE.md puts
    // `source` under `model`; the coordinator decides when it empties this list.
    "up: src/model/mod.rs -> src/source/mod.rs (model on floor 1 imports source on floor 2)",
];

/// The bench circle another branch of issue 22 removes (`bench/cpu.rs` <-> `bench/strategies.rs`);
/// emptied when that branch is merged, like the list above.
const KNOWN_UNTIL_BENCH_MERGE: &[&str] = &["circle of files: src/bench/cpu.rs <-> src/bench/strategies.rs"];

fn floor_of(room: &str) -> Option<usize> {
    FLOORS.iter().position(|f| f.contains(&room))
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    /// `::`
    Path,
    Punct(char),
}

fn lex(src: &str) -> Vec<Tok> {
    let b: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let n = b.len();
    while i < n {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && i + 1 < n && b[i + 1] == '/' {
            while i < n && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && i + 1 < n && b[i + 1] == '*' {
            let mut depth = 0;
            while i < n {
                if b[i] == '/' && i + 1 < n && b[i + 1] == '*' {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && i + 1 < n && b[i + 1] == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if (c == 'r' || c == 'b') && raw_string_start(&b, i).is_some() {
            let (hashes, start) = raw_string_start(&b, i).unwrap();
            let mut j = start;
            let mut s = String::new();
            while j < n {
                if b[j] == '"' && (0..hashes).all(|k| j + 1 + k < n && b[j + 1 + k] == '#') {
                    break;
                }
                s.push(b[j]);
                j += 1;
            }
            out.push(Tok::Str(s));
            i = j + 1 + hashes;
        } else if c == '"' || (c == 'b' && i + 1 < n && b[i + 1] == '"') {
            i += if c == 'b' { 2 } else { 1 };
            let mut s = String::new();
            while i < n && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                if i < n {
                    s.push(b[i]);
                }
                i += 1;
            }
            out.push(Tok::Str(s));
            i += 1;
        } else if c == '\'' || (c == 'b' && i + 1 < n && b[i + 1] == '\'') {
            let q = if c == 'b' { i + 1 } else { i };
            if q + 1 < n && b[q + 1] == '\\' {
                // An escaped char literal: skip to the closing quote.
                let mut j = q + 2;
                j += 1;
                while j < n && b[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
            } else if q + 2 < n && b[q + 2] == '\'' {
                i = q + 3;
            } else {
                // A lifetime or label.
                out.push(Tok::Punct('\''));
                i = q + 1;
            }
        } else if c.is_alphanumeric() || c == '_' {
            let mut s = String::new();
            while i < n && (b[i].is_alphanumeric() || b[i] == '_') {
                s.push(b[i]);
                i += 1;
            }
            out.push(Tok::Ident(s));
        } else if c == ':' && i + 1 < n && b[i + 1] == ':' {
            out.push(Tok::Path);
            i += 2;
        } else {
            out.push(Tok::Punct(c));
            i += 1;
        }
    }
    out
}

/// `r"`, `r#"`, `br"`, `br#"`: the number of hashes and where the content starts.
fn raw_string_start(b: &[char], i: usize) -> Option<(usize, usize)> {
    let mut j = i;
    if b[j] == 'b' {
        j += 1;
    }
    if j >= b.len() || b[j] != 'r' {
        return None;
    }
    if i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while j < b.len() && b[j] == '#' {
        hashes += 1;
        j += 1;
    }
    (j < b.len() && b[j] == '"').then_some((hashes, j + 1))
}

// ---------------------------------------------------------------------------------------------
// The module tree

/// A module: `lib::formats::pickle` or `bin::cli::show`, with the file that holds it.
#[derive(Default)]
struct Module {
    file: PathBuf,
    /// Compiled for tests only (`#[cfg(test)]`, or inside such a module).
    test: bool,
    children: BTreeSet<String>,
    /// Items defined here (fn, struct, enum, const, static, type, trait, union, macro).
    defs: BTreeSet<String>,
    /// `pub use` re-exports: the name it is known by here -> the absolute path it names.
    reexports: BTreeMap<String, Vec<String>>,
    /// `pub use path::*` targets (absolute module paths).
    globs: Vec<Vec<String>>,
}

/// One path found in a file: the module it was written in, and the absolute path it names.
struct Ref {
    file: PathBuf,
    from: Vec<String>,
    path: Vec<String>,
}

#[derive(Default)]
struct Tree {
    modules: BTreeMap<Vec<String>, Module>,
    refs: Vec<Ref>,
}

impl Tree {
    fn load(&mut self, root: &str, file: &Path) {
        self.load_file(vec![root.to_string()], file, true);
    }

    fn load_file(&mut self, module: Vec<String>, file: &Path, owns_dir: bool) {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let toks = lex(&text);
        // Where `mod x;` looks for its file.
        let dir = if owns_dir {
            file.parent().unwrap().to_path_buf()
        } else {
            file.with_extension("")
        };
        let attr_dir = file.parent().unwrap().to_path_buf();
        self.modules.entry(module.clone()).or_default().file = file.to_path_buf();

        // Inline modules: (path, brace depth inside them).
        let mut stack: Vec<(Vec<String>, usize)> = vec![(module.clone(), 0)];
        let mut depth = 0usize;
        let mut pending_path: Option<String> = None;
        let mut pending_test = false;
        let in_test = self.modules[&module].test;
        let mut uses: Vec<(Vec<String>, Vec<Tok>, bool)> = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            let cur = stack.last().unwrap().0.clone();
            match &toks[i] {
                Tok::Punct('#')
                    if toks.get(i + 2) == Some(&Tok::Ident("cfg".into()))
                        && toks.get(i + 4) == Some(&Tok::Ident("test".into()))
                        && toks.get(i + 5) == Some(&Tok::Punct(')')) =>
                {
                    pending_test = true;
                    i += 1;
                }
                Tok::Punct('#') if matches!(toks.get(i + 2), Some(Tok::Ident(p)) if p == "path") => {
                    if let Some(Tok::Str(s)) = toks.get(i + 4) {
                        pending_path = Some(s.clone());
                    }
                    i += 1;
                }
                Tok::Punct('{') => {
                    depth += 1;
                    i += 1;
                }
                Tok::Punct('}') => {
                    if stack.len() > 1 && stack.last().unwrap().1 == depth {
                        stack.pop();
                    }
                    depth = depth.saturating_sub(1);
                    pending_path = None;
                    pending_test = false;
                    i += 1;
                }
                Tok::Punct(';') => {
                    pending_path = None;
                    pending_test = false;
                    i += 1;
                }
                Tok::Ident(k) if k == "mod" && !matches!(toks.get(i.wrapping_sub(1)), Some(Tok::Path)) => {
                    let Some(Tok::Ident(name)) = toks.get(i + 1) else {
                        i += 1;
                        continue;
                    };
                    let mut child = cur.clone();
                    child.push(name.clone());
                    let test = in_test || self.modules[&cur].test || std::mem::take(&mut pending_test);
                    self.modules.entry(child.clone()).or_default().test = test;
                    self.modules
                        .get_mut(&cur)
                        .unwrap_or_else(|| panic!("{cur:?}"))
                        .children
                        .insert(name.clone());
                    match toks.get(i + 2) {
                        Some(Tok::Punct('{')) => {
                            self.modules.entry(child.clone()).or_default().file = file.to_path_buf();
                            depth += 1;
                            stack.push((child, depth));
                            pending_path = None;
                            i += 3;
                        }
                        Some(Tok::Punct(';')) => {
                            // Nested inline modules add their names to the folder (the rule for files).
                            let mut base = if stack.len() > 1 && pending_path.is_none() {
                                let mut d = dir.clone();
                                for m in &cur[module.len()..] {
                                    d.push(m);
                                }
                                d
                            } else {
                                dir.clone()
                            };
                            let (path, owns) = if let Some(p) = pending_path.take() {
                                let p = attr_dir.join(p);
                                let p = std::fs::canonicalize(&p).unwrap_or(p);
                                let owns = p.file_name().is_some_and(|f| f == "mod.rs");
                                (p, owns)
                            } else {
                                base.push(format!("{name}.rs"));
                                if base.exists() {
                                    (base, false)
                                } else {
                                    base.set_extension("");
                                    (base.join("mod.rs"), true)
                                }
                            };
                            if path.starts_with(src_dir()) {
                                self.load_file(child, &path, owns);
                            } else {
                                // A test helper outside src/ (tests/common): not part of the floors.
                                self.modules.entry(child).or_default().file = path;
                            }
                            i += 3;
                        }
                        _ => i += 1,
                    }
                }
                Tok::Ident(k) if k == "use" => {
                    let public = matches!(toks.get(i.wrapping_sub(1)), Some(Tok::Ident(p)) if p == "pub")
                        || (matches!(toks.get(i.wrapping_sub(1)), Some(Tok::Punct(')')))
                            && toks[..i].iter().rev().take(6).any(|t| *t == Tok::Ident("pub".into())));
                    let end = toks[i..]
                        .iter()
                        .position(|t| *t == Tok::Punct(';'))
                        .map_or(toks.len(), |e| i + e);
                    uses.push((cur.clone(), toks[i + 1..end].to_vec(), public));
                    i = end;
                }
                Tok::Ident(k)
                    if matches!(
                        k.as_str(),
                        "fn" | "struct" | "enum" | "const" | "static" | "type" | "trait" | "union" | "macro_rules"
                    ) =>
                {
                    let at = if k == "macro_rules" { i + 2 } else { i + 1 };
                    if let Some(Tok::Ident(name)) = toks.get(at) {
                        self.modules.entry(cur.clone()).or_default().defs.insert(name.clone());
                    }
                    i += 1;
                }
                Tok::Ident(k)
                    if matches!(k.as_str(), "crate" | "super" | "self" | "tensorscope")
                        && toks.get(i + 1) == Some(&Tok::Path)
                        && !matches!(toks.get(i.wrapping_sub(1)), Some(Tok::Path)) =>
                {
                    let mut segs = vec![k.clone()];
                    let mut j = i + 1;
                    while toks.get(j) == Some(&Tok::Path) {
                        match toks.get(j + 1) {
                            Some(Tok::Ident(s)) => {
                                segs.push(s.clone());
                                j += 2;
                            }
                            _ => break,
                        }
                    }
                    if let Some(path) = self.absolute(&cur, &segs).filter(|_| segs.len() > 1) {
                        self.refs.push(Ref {
                            file: file.to_path_buf(),
                            from: cur.clone(),
                            path,
                        });
                    }
                    i = j;
                }
                _ => i += 1,
            }
        }
        // Use trees last: relative paths need the children declared anywhere in the file.
        for (cur, toks, public) in uses {
            let mut leaves = Vec::new();
            let mut at = 0;
            use_tree(&toks, &mut at, Vec::new(), &mut leaves);
            for (path, alias) in leaves {
                let Some(abs) = self.absolute(&cur, &path) else {
                    continue;
                };
                if public {
                    let m = self.modules.entry(cur.clone()).or_default();
                    match alias {
                        Leaf::Glob => m.globs.push(abs.clone()),
                        Leaf::Name(n) => {
                            m.reexports.insert(n, abs.clone());
                        }
                    }
                }
                self.refs.push(Ref {
                    file: file.to_path_buf(),
                    from: cur.clone(),
                    path: abs,
                });
            }
        }
    }

    /// A path as written in module `cur`, made absolute (`lib::…`/`bin::…`); None for other crates.
    fn absolute(&self, cur: &[String], path: &[String]) -> Option<Vec<String>> {
        let first = path.first()?;
        let mut base: Vec<String> = match first.as_str() {
            "crate" => vec![cur[0].clone()],
            "tensorscope" if cur[0] == "bin" => vec!["lib".to_string()],
            "self" => cur.to_vec(),
            "super" => {
                let mut b = cur.to_vec();
                let mut k = 0;
                while path.get(k).is_some_and(|s| s == "super") {
                    b.pop()?;
                    k += 1;
                }
                b.extend(path[k..].iter().cloned());
                return Some(b);
            }
            _ => {
                let m = self.modules.get(cur)?;
                if m.children.contains(first) {
                    let mut b = cur.to_vec();
                    b.extend(path.iter().cloned());
                    return Some(b);
                }
                return None;
            }
        };
        base.extend(path[1..].iter().cloned());
        Some(base)
    }

    /// The module that defines what an absolute path names, and whether it was found for sure.
    fn resolve(&self, path: &[String], depth: usize) -> (Vec<String>, bool) {
        let mut cur = vec![path[0].clone()];
        for (k, seg) in path.iter().enumerate().skip(1) {
            let m = &self.modules[&cur];
            if m.children.contains(seg) {
                cur.push(seg.clone());
                continue;
            }
            if depth < 16 {
                if m.defs.contains(seg) {
                    return (cur, true);
                }
                if let Some(target) = m.reexports.get(seg) {
                    let mut p = target.clone();
                    p.extend(path[k + 1..].iter().cloned());
                    if self.modules.contains_key(&p[..1]) {
                        return self.resolve(&p, depth + 1);
                    }
                }
                for g in &m.globs {
                    let mut p = g.clone();
                    p.extend(path[k..].iter().cloned());
                    let (r, found) = self.resolve(&p, depth + 1);
                    if found {
                        return (r, true);
                    }
                }
            }
            return (cur, false);
        }
        (cur, true)
    }
}

enum Leaf {
    Name(String),
    Glob,
}

/// Flattens a use tree (`a::{b, c::{self, D as E}, f::*}`) into leaf paths.
fn use_tree(toks: &[Tok], at: &mut usize, prefix: Vec<String>, out: &mut Vec<(Vec<String>, Leaf)>) {
    let mut path = prefix;
    if toks.get(*at) == Some(&Tok::Path) {
        *at += 1;
    }
    loop {
        match toks.get(*at) {
            Some(Tok::Ident(s)) if s == "self" && !path.is_empty() => {
                *at += 1;
                let name = alias(toks, at).unwrap_or_else(|| path.last().unwrap().clone());
                out.push((path, Leaf::Name(name)));
                return;
            }
            Some(Tok::Ident(s)) => {
                path.push(s.clone());
                *at += 1;
                if toks.get(*at) == Some(&Tok::Path) {
                    *at += 1;
                    continue;
                }
                let name = alias(toks, at).unwrap_or_else(|| path.last().unwrap().clone());
                out.push((path, Leaf::Name(name)));
                return;
            }
            Some(Tok::Punct('*')) => {
                *at += 1;
                out.push((path, Leaf::Glob));
                return;
            }
            Some(Tok::Punct('{')) => {
                *at += 1;
                while !matches!(toks.get(*at), Some(Tok::Punct('}')) | None) {
                    use_tree(toks, at, path.clone(), out);
                    if toks.get(*at) == Some(&Tok::Punct(',')) {
                        *at += 1;
                    }
                }
                *at += 1;
                return;
            }
            _ => return,
        }
    }
}

fn alias(toks: &[Tok], at: &mut usize) -> Option<String> {
    if toks.get(*at) == Some(&Tok::Ident("as".into())) {
        if let Some(Tok::Ident(n)) = toks.get(*at + 1) {
            *at += 2;
            return Some(n.clone());
        }
    }
    None
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
    let known: Vec<&str> = KNOWN_UNTIL_REMOTE_MERGE
        .iter()
        .chain(KNOWN_UNTIL_BENCH_MERGE)
        .copied()
        .collect();
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
            "  stale KNOWN_UNTIL_* entry (no longer a violation: remove it): {s}\n"
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
