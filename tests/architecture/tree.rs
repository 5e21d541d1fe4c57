//! The module tree of the architecture check: modules from `mod` items (files, `#[path]`, inline),
//! the paths each file names, the items each module defines and re-exports, and resolution of a
//! path to the module that defines what it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::lex::{Tok, lex};
use super::src_dir;

/// A module: `lib::formats::pickle` or `bin::cli::show`, with the file that holds it.
#[derive(Default)]
pub struct Module {
    pub file: PathBuf,
    /// Compiled for tests only (`#[cfg(test)]`, or inside such a module).
    pub test: bool,
    pub children: BTreeSet<String>,
    /// Items defined here (fn, struct, enum, const, static, type, trait, union, macro).
    pub defs: BTreeSet<String>,
    /// `pub use` re-exports: the name it is known by here -> the absolute path it names.
    pub reexports: BTreeMap<String, Vec<String>>,
    /// `pub use path::*` targets (absolute module paths).
    pub globs: Vec<Vec<String>>,
}

/// One path found in a file: the module it was written in, and the absolute path it names.
pub struct Ref {
    pub file: PathBuf,
    pub from: Vec<String>,
    pub path: Vec<String>,
}

#[derive(Default)]
pub struct Tree {
    pub modules: BTreeMap<Vec<String>, Module>,
    pub refs: Vec<Ref>,
}

impl Tree {
    pub fn load(&mut self, root: &str, file: &Path) {
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
    pub fn resolve(&self, path: &[String], depth: usize) -> (Vec<String>, bool) {
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

pub enum Leaf {
    Name(String),
    Glob,
}

/// Flattens a use tree (`a::{b, c::{self, D as E}, f::*}`) into leaf paths.
pub fn use_tree(toks: &[Tok], at: &mut usize, prefix: Vec<String>, out: &mut Vec<(Vec<String>, Leaf)>) {
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
    if toks.get(*at) == Some(&Tok::Ident("as".into()))
        && let Some(Tok::Ident(n)) = toks.get(*at + 1)
    {
        *at += 2;
        return Some(n.clone());
    }
    None
}
