//! The walk over a template's tree. Each expression gets an abstract value ([`Val`]): the strings
//! it can hold when they are known from the template's own constants, and whether it is a string
//! assembled while the template renders. Variables (`set`, loop targets, `ns.attr`, macro
//! arguments) carry their values; the walk is repeated until they settle, so a use before a later
//! `set` in a loop is judged with what that `set` gives. Names used for attribute or item access
//! are then judged by what they can be, not by how they are written.

use std::collections::HashMap;

use minijinja::machinery::ast::{self, CallArg, Expr, Stmt};
use minijinja::value::ValueKind;

mod calls;
mod fold;
mod ops;
mod val;

use super::names::{self, GADGETS, TESTS};
use super::{Hit, MAX_LOOP_WORK, Severity};
use val::Val;

/// Walks before the variables are taken as settled.
const MAX_PASSES: usize = 6;

struct Judge {
    vars: HashMap<String, Val>,
    /// Names that hold macros, loop targets or set variables: not the Jinja globals.
    local: std::collections::HashSet<String>,
    hits: Vec<Hit>,
    /// Iterations of the enclosing loops whose counts the template fixes.
    loops: Vec<u128>,
    changed: bool,
    /// Late passes drop what keeps growing (folded strings, sizes), so the walk settles.
    widen: bool,
}

/// Judge a parsed template.
pub(super) fn judge(tree: &Stmt<'_>) -> Vec<Hit> {
    let mut j = Judge {
        vars: HashMap::new(),
        local: Default::default(),
        hits: Vec::new(),
        loops: Vec::new(),
        changed: false,
        widen: false,
    };
    for pass in 0..MAX_PASSES {
        j.widen = pass >= MAX_PASSES / 2;
        j.changed = false;
        j.hits.clear();
        j.stmt(tree);
        if !j.changed {
            return j.hits;
        }
    }
    let why = "the template's variables did not settle within the walk's passes (not fully checked)";
    j.hits.push(Hit::suspicious(0, why));
    j.hits
}

fn at(span: minijinja::machinery::Span) -> usize {
    span.start_offset as usize
}

impl Judge {
    fn hit(&mut self, offset: usize, severity: Severity, why: String) {
        self.hits.push(Hit { offset, severity, why });
    }

    fn assign(&mut self, name: String, v: Val) {
        self.local.insert(name.clone());
        let mut merged = match self.vars.get(&name) {
            Some(old) => old.merge(&v),
            None => v,
        };
        if self.widen && self.vars.get(&name).is_some_and(|old| *old != merged) {
            merged = Val {
                known: None,
                int: None,
                size: None,
                ..merged
            };
        }
        if self.vars.get(&name) != Some(&merged) {
            self.changed = true;
            self.vars.insert(name, merged);
        }
    }

    fn body(&mut self, stmts: &[Stmt<'_>]) {
        for s in stmts {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt<'_>) {
        match s {
            Stmt::Template(t) => self.body(&t.children),
            Stmt::EmitExpr(e) => {
                self.expr(&e.expr);
            }
            Stmt::EmitRaw(_) | Stmt::Continue(_) | Stmt::Break(_) => {}
            Stmt::ForLoop(f) => self.for_loop(f),
            Stmt::IfCond(c) => {
                self.expr(&c.expr);
                self.body(&c.true_body);
                self.body(&c.false_body);
            }
            Stmt::WithBlock(w) => {
                for (target, value) in &w.assignments {
                    let v = self.expr(value);
                    self.target(target, v);
                }
                self.body(&w.body);
            }
            Stmt::Set(set) => {
                let v = self.expr(&set.expr);
                self.target(&set.target, v);
            }
            Stmt::SetBlock(set) => {
                if let Some(f) = &set.filter {
                    self.expr(f);
                }
                self.body(&set.body);
                // captured output: assembled from whatever the body printed
                let v = Val {
                    built: true,
                    spelled: true,
                    ..Val::data()
                };
                self.target(&set.target, v);
            }
            Stmt::AutoEscape(a) => {
                self.expr(&a.enabled);
                self.body(&a.body);
            }
            Stmt::FilterBlock(f) => {
                self.expr(&f.filter);
                self.body(&f.body);
            }
            Stmt::Block(b) => self.body(&b.body),
            Stmt::Import(i) => self.other_template(at(i.span()), "import", &i.expr),
            Stmt::FromImport(i) => self.other_template(at(i.span()), "from … import", &i.expr),
            Stmt::Extends(e) => self.other_template(at(e.span()), "extends", &e.name),
            Stmt::Include(i) => self.other_template(at(i.span()), "include", &i.name),
            Stmt::Macro(m) => self.macro_decl(m),
            Stmt::CallBlock(c) => {
                self.macro_decl(&c.macro_decl);
                self.call(&c.call);
            }
            Stmt::Do(d) => {
                self.call(&d.call);
            }
        }
    }

    fn other_template(&mut self, offset: usize, tag: &str, name: &Expr<'_>) {
        self.expr(name);
        let why = format!("the template uses {{% {tag} %}}: a chat template needs no other template");
        self.hit(offset, Severity::Suspicious, why);
    }

    fn macro_decl(&mut self, m: &ast::Spanned<ast::Macro<'_>>) {
        self.local.insert(m.name.to_owned());
        for d in &m.defaults {
            self.expr(d);
        }
        for a in &m.args {
            self.target(a, Val::data());
        }
        self.body(&m.body);
    }

    /// Bind a `set`, `with` or loop target.
    fn target(&mut self, t: &Expr<'_>, v: Val) {
        match t {
            Expr::Var(var) => self.assign(var.id.to_owned(), v),
            Expr::Tuple(items) => {
                for item in &items.items {
                    self.target(item, v.clone());
                }
            }
            Expr::GetAttr(g) => {
                // `{% set ns.attr = … %}`
                self.name_use(at(g.span()), &Val::string(g.name), "an attribute set");
                if let Some(path) = path_of(t) {
                    self.assign(path, v);
                }
                self.expr(&g.expr);
            }
            other => {
                self.expr(other);
            }
        }
    }

    fn for_loop(&mut self, f: &ast::Spanned<ast::ForLoop<'_>>) {
        let iter = self.expr(&f.iter);
        // a loop over a fixed list or range gives its target the list's strings
        let item = Val {
            int: None,
            size: None,
            ..iter.clone()
        };
        self.target(&f.target, item);
        self.local.insert("loop".into());
        if let Some(e) = &f.filter_expr {
            self.expr(e);
        }
        let n = iter
            .size
            .filter(|_| iter.known.is_none() || matches!(f.iter, Expr::Call(_)));
        let count = match &f.iter {
            Expr::Call(_) | Expr::List(_) => n.unwrap_or(1),
            _ => 1,
        };
        let work = self.loops.iter().fold(count, |a, b| a.saturating_mul(*b));
        if work > MAX_LOOP_WORK {
            let why = format!(
                "nested loops of {work} iterations fixed by the template (limit {MAX_LOOP_WORK}): unbounded work inside the sandbox"
            );
            self.hit(at(f.span()), Severity::Suspicious, why);
        }
        self.loops.push(count);
        self.body(&f.body);
        self.loops.pop();
        self.body(&f.else_body);
    }

    /// A name used for attribute or item access (or named by `attr`, `map(attribute=…)`, …).
    fn name_use(&mut self, offset: usize, name: &Val, how: &str) {
        if let Some(known) = &name.known {
            for n in known {
                if let Some(bad) = names::bad_name(n) {
                    let built = if name.built {
                        " (built while the template renders)"
                    } else {
                        ""
                    };
                    self.hit(
                        offset,
                        Severity::Dangerous,
                        format!("{how} reads {bad}{built}: a sandbox escape route"),
                    );
                    return;
                }
            }
            if name.built {
                let why = format!("{how} with a name computed while the template renders");
                self.hit(offset, Severity::Suspicious, why);
            }
        } else if name.built {
            let (severity, more) = if name.spelled {
                (
                    Severity::Dangerous,
                    " by a filter or macro that can spell any name (a dunder such as __class__)",
                )
            } else {
                (Severity::Suspicious, "")
            };
            self.hit(
                offset,
                severity,
                format!("{how} with a name computed while the template renders{more}"),
            );
        }
    }

    fn expr(&mut self, e: &Expr<'_>) -> Val {
        match e {
            Expr::Var(v) => self.var(v, false),
            Expr::Const(c) => match c.value.kind() {
                ValueKind::String => {
                    let s = c.value.as_str().unwrap_or_default();
                    if let Some(bad) = names::bad_name(s).filter(|_| s.starts_with("__") && s.len() > 4) {
                        let why = format!("a string constant names {bad}");
                        self.hit(at(c.span()), Severity::Suspicious, why);
                    }
                    Val::string(s)
                }
                ValueKind::Number => c
                    .value
                    .as_i64()
                    .and_then(|n| u128::try_from(n).ok())
                    .map_or_else(Val::data, Val::int),
                _ => Val::data(),
            },
            Expr::Slice(s) => {
                let v = self.expr(&s.expr);
                for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(part);
                }
                if v.stringy() {
                    // a slice of a string the template builds can cut any character out of it
                    Val {
                        known: None,
                        int: None,
                        spelled: true,
                        ..v.derived()
                    }
                } else {
                    Val { int: None, ..v }
                }
            }
            Expr::UnaryOp(u) => {
                self.expr(&u.expr);
                Val::data()
            }
            Expr::BinOp(b) => self.binop(b),
            Expr::Compare(c) => {
                self.expr(&c.expr);
                for op in &c.ops {
                    self.expr(&op.expr);
                }
                Val::data()
            }
            Expr::IfExpr(i) => {
                self.expr(&i.test_expr);
                let a = self.expr(&i.true_expr);
                match &i.false_expr {
                    Some(f) => a.merge(&self.expr(f)),
                    None => a,
                }
            }
            Expr::Filter(f) => self.filter(f),
            Expr::Test(t) => {
                if !TESTS.contains(&t.name) {
                    let why = format!("the test {} is not a Jinja built-in test", t.name);
                    self.hit(at(t.span()), Severity::Suspicious, why);
                }
                self.expr(&t.expr);
                self.args(&t.args);
                Val::data()
            }
            Expr::GetAttr(g) => {
                let obj = self.expr(&g.expr);
                self.name_use(at(g.span()), &Val::string(g.name), "an attribute access");
                match path_of(e).and_then(|p| self.vars.get(&p)) {
                    Some(v) => v.clone(),
                    None => Val {
                        known: None,
                        int: None,
                        size: None,
                        ..obj
                    },
                }
            }
            Expr::GetItem(g) => {
                let obj = self.expr(&g.expr);
                let sub = self.expr(&g.subscript_expr);
                if sub.int.is_none() {
                    self.name_use(at(g.span()), &sub, "an item access");
                }
                // an item of a list or map keeps what the walk knows of its items
                Val {
                    int: None,
                    size: None,
                    ..obj
                }
            }
            Expr::Call(c) => self.call_expr(c),
            Expr::List(l) => self.items(&l.items),
            Expr::Tuple(t) => self.items(&t.items),
            Expr::Map(m) => {
                for k in &m.keys {
                    self.expr(k);
                }
                let v = self.items(&m.values);
                Val { size: None, ..v }
            }
        }
    }

    fn var(&mut self, v: &ast::Spanned<ast::Var<'_>>, callee: bool) -> Val {
        let id = v.id;
        if let Some(val) = self.vars.get(id) {
            return val.clone();
        }
        if self.local.contains(id) {
            return Val::data();
        }
        if id == "self" {
            let why = "the template reads self (its own template reference, a route to the template's context)";
            self.hit(at(v.span()), Severity::Suspicious, why.into());
        } else if GADGETS.contains(&id) && !callee {
            let why = format!(
                "the Jinja global {id} is used as a value, not called (an alias, attribute or item access): its attributes lead to Python internals"
            );
            self.hit(at(v.span()), Severity::Dangerous, why);
        } else if id.starts_with("__") {
            let why = format!("the template reads the variable {id}");
            self.hit(at(v.span()), Severity::Suspicious, why);
        }
        Val::data()
    }

    fn items(&mut self, items: &[Expr<'_>]) -> Val {
        let mut out = Val {
            known: Some(Vec::new()),
            ..Val::data()
        };
        for i in items {
            let v = self.expr(i);
            // numbers and other non-strings add no name; an unknown string makes the list unknown
            let v = if v.stringy() {
                v
            } else {
                Val {
                    known: Some(Vec::new()),
                    ..v
                }
            };
            out = out.merge(&Val {
                int: None,
                size: None,
                ..v
            });
        }
        out.size = Some(items.len() as u128);
        out
    }

    fn args(&mut self, args: &[CallArg<'_>]) -> Vec<Val> {
        args.iter()
            .map(|a| match a {
                CallArg::Pos(e) | CallArg::PosSplat(e) | CallArg::KwargSplat(e) | CallArg::Kwarg(_, e) => self.expr(e),
            })
            .collect()
    }
}

/// `ns.a.b` as a variable path, for `set ns.attr` tracking.
fn path_of(e: &Expr<'_>) -> Option<String> {
    match e {
        Expr::Var(v) => Some(v.id.to_owned()),
        Expr::GetAttr(g) => Some(format!("{}.{}", path_of(&g.expr)?, g.name)),
        _ => None,
    }
}
