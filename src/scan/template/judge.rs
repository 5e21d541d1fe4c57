//! The walk over a template's tree. Each expression gets an abstract value ([`Val`]): the strings
//! it can hold when they are known from the template's own constants, and whether it is a string
//! assembled while the template renders. Variables (`set`, loop targets, `ns.attr`, macro
//! arguments) carry their values; the walk is repeated until they settle, so a use before a later
//! `set` in a loop is judged with what that `set` gives. Names used for attribute or item access
//! are then judged by what they can be, not by how they are written.

use std::collections::HashMap;

use minijinja::machinery::ast::{self, CallArg, Expr, Stmt};
use minijinja::value::ValueKind;

use super::names::{self, FILTERS, GADGETS, METHODS, TESTS, UNUSED_GLOBALS};
use super::{Hit, MAX_LOOP_WORK, MAX_RANGE, MAX_REPEAT_BYTES, MAX_WIDTH, Severity};

/// Most distinct strings a value keeps before it counts as unknown.
const MAX_KNOWN: usize = 32;
/// Longest string folded; a longer one counts as unknown (its length is still tracked).
const MAX_FOLD: usize = 4096;
/// Walks before the variables are taken as settled.
const MAX_PASSES: usize = 6;

/// What the walk knows about a value.
#[derive(Debug, Clone, Default, PartialEq)]
struct Val {
    /// The strings it can be (for a list or map: its string items), when all are known.
    known: Option<Vec<String>>,
    /// Assembled while the template renders (concatenation, repetition, format, join, …).
    built: bool,
    /// Assembled by something that can spell any character (format, join, replace, macro output):
    /// a name of this value may start with `_` even when no constant piece shows one.
    spelled: bool,
    /// An integer the template fixes (an upper bound where it is a product).
    int: Option<u128>,
    /// Bytes or items, when the template fixes them (strings, lists, repetitions).
    size: Option<u128>,
}

impl Val {
    fn data() -> Val {
        Val::default()
    }
    fn string(s: &str) -> Val {
        Val { known: Some(vec![s.to_owned()]), size: Some(s.len() as u128), ..Val::default() }
    }
    fn int(n: u128) -> Val {
        Val { int: Some(n), ..Val::default() }
    }
    fn stringy(&self) -> bool {
        self.known.is_some() || self.built || self.size.is_some()
    }
    /// The union of two values a variable may hold.
    fn merge(&self, o: &Val) -> Val {
        let known = match (&self.known, &o.known) {
            (Some(a), Some(b)) => {
                let mut k = a.clone();
                for s in b {
                    if !k.contains(s) {
                        k.push(s.clone());
                    }
                }
                (k.len() <= MAX_KNOWN).then_some(k)
            }
            _ => None,
        };
        Val {
            known,
            built: self.built || o.built,
            spelled: self.spelled || o.spelled,
            int: if self.int == o.int { self.int } else { None },
            size: self.size.max(o.size),
        }
    }
    /// Built from this value by a transformation that keeps its pieces.
    fn derived(&self) -> Val {
        Val { built: true, int: None, ..self.clone() }
    }
    fn map_known(&self, f: impl Fn(&str) -> String) -> Val {
        let mut v = self.derived();
        v.known = self.known.as_ref().map(|k| k.iter().map(|s| f(s)).collect());
        v
    }
}

/// Cartesian concatenation of known strings, within the caps.
fn concat(a: &Val, b: &Val) -> Val {
    let known = match (&a.known, &b.known) {
        (Some(x), Some(y)) if x.len() * y.len() <= MAX_KNOWN => {
            let mut k = Vec::new();
            for p in x {
                for q in y {
                    if p.len() + q.len() <= MAX_FOLD {
                        k.push(format!("{p}{q}"));
                    }
                }
            }
            (k.len() == x.len() * y.len()).then_some(k)
        }
        _ => None,
    };
    let size = match (a.size, b.size) {
        (Some(x), Some(y)) => Some(x.saturating_add(y)),
        (x, y) => x.or(y),
    };
    // a piece holding `_` next to an unknown piece can start or end a dunder
    let under = |v: &Val| v.known.as_ref().is_some_and(|k| k.iter().any(|s| s.contains('_')));
    let spelled = a.spelled || b.spelled || (known.is_none() && (under(a) || under(b)));
    Val { known, built: true, spelled, int: None, size }
}

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
            merged = Val { known: None, int: None, size: None, ..merged };
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
                let v = Val { built: true, spelled: true, ..Val::data() };
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
        let item = Val { int: None, size: None, ..iter.clone() };
        self.target(&f.target, item);
        self.local.insert("loop".into());
        if let Some(e) = &f.filter_expr {
            self.expr(e);
        }
        let n = iter.size.filter(|_| iter.known.is_none() || matches!(f.iter, Expr::Call(_)));
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
                    let built = if name.built { " (built while the template renders)" } else { "" };
                    self.hit(offset, Severity::Dangerous, format!("{how} reads {bad}{built}: a sandbox escape route"));
                    return;
                }
            }
            if name.built {
                let why = format!("{how} with a name computed while the template renders");
                self.hit(offset, Severity::Suspicious, why);
            }
        } else if name.built {
            let (severity, more) = if name.spelled {
                (Severity::Dangerous, " by a filter or macro that can spell any name (a dunder such as __class__)")
            } else {
                (Severity::Suspicious, "")
            };
            self.hit(offset, severity, format!("{how} with a name computed while the template renders{more}"));
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
                ValueKind::Number => c.value.as_i64().and_then(|n| u128::try_from(n).ok()).map_or_else(Val::data, Val::int),
                _ => Val::data(),
            },
            Expr::Slice(s) => {
                let v = self.expr(&s.expr);
                for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                    self.expr(part);
                }
                if v.stringy() {
                    // a slice of a string the template builds can cut any character out of it
                    Val { known: None, int: None, spelled: true, ..v.derived() }
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
                    None => Val { known: None, int: None, size: None, ..obj },
                }
            }
            Expr::GetItem(g) => {
                let obj = self.expr(&g.expr);
                let sub = self.expr(&g.subscript_expr);
                if sub.int.is_none() {
                    self.name_use(at(g.span()), &sub, "an item access");
                }
                // an item of a list or map keeps what the walk knows of its items
                Val { int: None, size: None, ..obj }
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
        let mut out = Val { known: Some(Vec::new()), ..Val::data() };
        for i in items {
            let v = self.expr(i);
            // numbers and other non-strings add no name; an unknown string makes the list unknown
            let v = if v.stringy() { v } else { Val { known: Some(Vec::new()), ..v } };
            out = out.merge(&Val { int: None, size: None, ..v });
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

    fn binop(&mut self, b: &ast::Spanned<ast::BinOp<'_>>) -> Val {
        use ast::BinOpKind as K;
        let l = self.expr(&b.left);
        let r = self.expr(&b.right);
        match b.op {
            K::Concat => concat(&l, &r),
            K::Add if l.stringy() || r.stringy() => concat(&l, &r),
            K::Add => match (l.int, r.int) {
                (Some(x), Some(y)) => Val::int(x.saturating_add(y)),
                _ => Val::data(),
            },
            K::Mul => self.repeat(at(b.span()), &l, &r),
            K::Pow => {
                let big = match (l.int, r.int) {
                    (Some(x), Some(y)) => x > 1 && (y > 128 || (x as f64).log2() * y as f64 > 128.0),
                    (_, None) => true,
                    _ => false,
                };
                if big {
                    self.hit(at(b.span()), Severity::Suspicious, "a power with a large or computed exponent: unbounded work inside the sandbox".into());
                }
                match (l.int, r.int) {
                    (Some(x), Some(y)) if !big => Val::int(x.saturating_pow(y.min(128) as u32)),
                    _ => Val::data(),
                }
            }
            K::Rem if l.stringy() => self.printf(at(b.span()), &l, std::slice::from_ref(&r)),
            _ => Val::data(),
        }
    }

    /// `a * b`: a number product, or a string or list repeated.
    fn repeat(&mut self, offset: usize, l: &Val, r: &Val) -> Val {
        let (seq, n) = match (l.stringy(), r.stringy()) {
            (true, false) => (l, r),
            (false, true) => (r, l),
            _ => {
                return match (l.int, r.int) {
                    (Some(x), Some(y)) => Val::int(x.saturating_mul(y)),
                    _ => Val::data(),
                };
            }
        };
        let size = match (seq.size, n.int) {
            (Some(s), Some(k)) => Some(s.max(1).saturating_mul(k)),
            _ => None,
        };
        if let Some(s) = size.filter(|s| *s > MAX_REPEAT_BYTES) {
            let why = format!(
                "a string or list repeated to {s} bytes or items (limit {MAX_REPEAT_BYTES}): memory exhaustion inside the sandbox"
            );
            self.hit(offset, Severity::Suspicious, why);
        }
        let mut v = seq.derived();
        v.size = size;
        v.known = match (&seq.known, n.int) {
            (Some(k), Some(c)) if size.is_some_and(|s| s <= MAX_FOLD as u128) => {
                Some(k.iter().map(|s| s.repeat(c as usize)).collect())
            }
            _ => None,
        };
        v
    }

    /// `fmt % args` and `fmt|format(args)`: printf formatting, folded where every piece is known.
    fn printf(&mut self, offset: usize, fmt: &Val, args: &[Val]) -> Val {
        let mut out = Val { built: true, spelled: true, ..Val::data() };
        let Some(fmts) = &fmt.known else { return out };
        let mut folded = Vec::new();
        for f in fmts {
            if let Some(w) = widest(f, '%') {
                self.width(offset, w);
            }
            folded.push(fold_printf(f, args));
        }
        if folded.iter().all(Option::is_some) {
            out.known = Some(folded.into_iter().flatten().collect());
        }
        out
    }

    fn width(&mut self, offset: usize, w: u128) {
        if w > MAX_WIDTH {
            let why = format!("a padding width of {w} (limit {MAX_WIDTH}): memory exhaustion inside the sandbox");
            self.hit(offset, Severity::Suspicious, why);
        }
    }

    fn filter(&mut self, f: &ast::Spanned<ast::Filter<'_>>) -> Val {
        let offset = at(f.span());
        let input = f.expr.as_ref().map_or_else(Val::data, |e| self.expr(e));
        let args = self.args(&f.args);
        let name = f.name;
        if !FILTERS.contains(&name) {
            let why = format!("the filter {name} is not a Jinja built-in filter");
            self.hit(offset, Severity::Suspicious, why);
        }
        // attribute names given to filters
        let (first, kwargs) = names::attribute_args(name);
        for (i, a) in f.args.iter().enumerate() {
            let named = match a {
                CallArg::Pos(_) => first && i == 0,
                CallArg::Kwarg(k, _) => kwargs.contains(k),
                _ => false,
            };
            if named {
                self.name_use(offset, &args[i], &format!("the {name} filter's attribute"));
            }
        }
        let pos = |i: usize| {
            f.args.iter().zip(&args).filter(|(a, _)| matches!(a, CallArg::Pos(_))).nth(i).map(|(_, v)| v.clone())
        };
        match name {
            "attr" => {
                let n = pos(0).unwrap_or_default();
                self.name_use(offset, &Val { built: true, ..n.clone() }, "the attr filter");
                if n.known.is_some() {
                    let why = "the attr filter reads an attribute by name (no chat template needs it)";
                    self.hit(offset, Severity::Suspicious, why.into());
                }
                Val::data()
            }
            "map" => {
                if let Some(filter) = pos(0) {
                    match &filter.known {
                        Some(k) if k.iter().all(|s| FILTERS.contains(&s.as_str()) && s != "attr") => {}
                        Some(k) if k.iter().any(|s| s == "attr") => {
                            let n = pos(1).unwrap_or_default();
                            self.name_use(offset, &Val { built: true, ..n }, "the attr filter (through map)");
                            let why = "the attr filter reads an attribute by name (no chat template needs it)";
                            self.hit(offset, Severity::Suspicious, why.into());
                        }
                        _ => self.name_use(offset, &Val { built: true, spelled: true, ..filter }, "the map filter's filter name"),
                    }
                }
                Val { spelled: true, ..input.derived() }
            }
            "format" => self.printf(offset, &input, &args),
            "join" => {
                let sep = pos(0).unwrap_or_else(|| Val::string(""));
                let mut v = Val { built: true, spelled: true, ..Val::data() };
                if let (Some(items), Some(s), true) = (&input.known, &sep.known, matches!(f.expr, Some(Expr::List(_)))) {
                    if s.len() == 1 && items.iter().map(String::len).sum::<usize>() <= MAX_FOLD {
                        if let Some(Expr::List(l)) = &f.expr {
                            let parts: Option<Vec<String>> = l.items.iter().map(const_str).collect();
                            if let Some(parts) = parts {
                                v.known = Some(vec![parts.join(&s[0])]);
                            }
                        }
                    }
                }
                v
            }
            "replace" => {
                let (a, b) = (pos(0).unwrap_or_default(), pos(1).unwrap_or_default());
                let mut v = input.derived();
                v.spelled = true;
                v.known = match (&input.known, &a.known, &b.known) {
                    (Some(k), Some(x), Some(y)) if x.len() == 1 && y.len() == 1 => {
                        Some(k.iter().map(|s| s.replace(&x[0], &y[0])).collect())
                    }
                    _ => None,
                };
                v
            }
            "reverse" => {
                let mut v = input.map_known(|s| s.chars().rev().collect());
                v.spelled = true;
                v
            }
            "lower" => input.map_known(str::to_lowercase),
            "upper" => input.map_known(str::to_uppercase),
            "trim" => input.map_known(|s| s.trim().to_owned()),
            "string" | "safe" | "e" | "escape" | "forceescape" | "d" | "default" => {
                let v = match pos(0) {
                    Some(d) if name.starts_with('d') => input.merge(&d),
                    _ => input,
                };
                Val { int: None, ..v }
            }
            "center" | "indent" | "wordwrap" | "truncate" | "tojson" | "pprint" => {
                // widths and indents, positional or named: each can be repeated per line
                for w in args.iter().filter_map(|a| a.int) {
                    self.width(offset, w);
                }
                if matches!(name, "tojson" | "pprint") {
                    return Val::data();
                }
                Val { known: None, ..input.derived() }
            }
            "first" | "last" | "random" | "list" | "sort" | "unique" | "select" | "reject" | "selectattr"
            | "rejectattr" | "batch" | "slice" | "min" | "max" | "title" | "capitalize" => {
                Val { int: None, ..input }
            }
            _ => Val::data(),
        }
    }

    fn call_expr(&mut self, c: &ast::Spanned<ast::Call<'_>>) -> Val {
        self.call(c)
    }

    fn call(&mut self, c: &ast::Spanned<ast::Call<'_>>) -> Val {
        let offset = at(c.span());
        match &c.expr {
            Expr::Var(v) => {
                let callee = self.var(v, true);
                let args = self.args(&c.args);
                let global = !self.local.contains(v.id);
                if global && UNUSED_GLOBALS.contains(&v.id) {
                    let why = format!("the template calls {}, a Jinja global no chat template needs", v.id);
                    self.hit(offset, Severity::Suspicious, why);
                }
                if global && v.id == "range" {
                    return self.range(offset, &args);
                }
                if self.local.contains(v.id) && !self.vars.contains_key(v.id) {
                    // a macro: its output is assembled from whatever its body prints
                    return Val { built: true, spelled: true, ..Val::data() };
                }
                Val { int: None, size: None, known: None, ..callee }
            }
            Expr::GetAttr(g) => {
                let obj = self.expr(&g.expr);
                self.name_use(at(g.span()), &Val::string(g.name), "a method call");
                let args = self.args(&c.args);
                self.method(offset, g.name, &obj, &args)
            }
            other => {
                self.expr(other);
                self.args(&c.args);
                Val::data()
            }
        }
    }

    fn range(&mut self, offset: usize, args: &[Val]) -> Val {
        let ints: Vec<Option<u128>> = args.iter().map(|a| a.int).collect();
        let count = match ints.as_slice() {
            [Some(n)] => Some(*n),
            [Some(a), Some(b)] => Some(b.saturating_sub(*a)),
            [Some(a), Some(b), Some(s)] if *s > 0 => Some(b.saturating_sub(*a) / s),
            _ => None,
        };
        if let Some(n) = count.filter(|n| *n > MAX_RANGE) {
            let why = format!("a range of {n} items (limit {MAX_RANGE}): unbounded work inside the sandbox");
            self.hit(offset, Severity::Suspicious, why);
        }
        Val { size: count, ..Val::data() }
    }

    fn method(&mut self, offset: usize, name: &str, obj: &Val, args: &[Val]) -> Val {
        if !METHODS.contains(&name) {
            let why = format!("the method {name} is not one a chat template calls");
            self.hit(offset, Severity::Suspicious, why);
        }
        let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
        match name {
            "format" => {
                let Some(fmts) = &obj.known else {
                    let why = "str.format on a string the template does not fix: its fields can read any attribute ({0.__class__})";
                    self.hit(offset, Severity::Dangerous, why.into());
                    return Val { built: true, spelled: true, ..Val::data() };
                };
                let mut folded = Some(Vec::new());
                for f in fmts {
                    if let Some(bad) = format_field_access(f) {
                        let why = format!("str.format with the field {{{bad}}}, which reads attributes or items");
                        self.hit(offset, Severity::Dangerous, why);
                    }
                    if let Some(w) = widest(f, ':') {
                        self.width(offset, w);
                    }
                    folded = folded.and_then(|mut v: Vec<String>| {
                        v.push(fold_format(f, args)?);
                        Some(v)
                    });
                }
                Val { known: folded, built: true, spelled: true, ..Val::data() }
            }
            "lower" => obj.map_known(str::to_lowercase),
            "upper" => obj.map_known(str::to_uppercase),
            "strip" | "lstrip" | "rstrip" => obj.map_known(|s| s.trim().to_owned()),
            "replace" => {
                let (a, b) = (arg(0), arg(1));
                let mut v = obj.derived();
                v.spelled = true;
                v.known = match (&obj.known, &a.known, &b.known) {
                    (Some(k), Some(x), Some(y)) if x.len() == 1 && y.len() == 1 => {
                        Some(k.iter().map(|s| s.replace(&x[0], &y[0])).collect())
                    }
                    _ => None,
                };
                v
            }
            "join" => Val { built: true, spelled: true, ..Val::data() },
            "split" | "rsplit" | "splitlines" | "title" | "capitalize" | "removeprefix" | "removesuffix" => {
                Val { known: None, int: None, ..obj.derived() }
            }
            "get" | "pop" => {
                let v = Val { int: None, size: None, ..obj.clone() };
                match args.get(1) {
                    Some(d) => v.merge(d),
                    None => v,
                }
            }
            _ => Val::data(),
        }
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

fn const_str(e: &Expr<'_>) -> Option<String> {
    match e {
        Expr::Const(c) => c.value.as_str().map(str::to_owned),
        _ => None,
    }
}

/// The widest padding in a printf (`%`) or format (`:`) string: digits after the marker (past
/// flags, a fill character and an alignment) that a conversion or the field's end follows.
fn widest(f: &str, marker: char) -> Option<u128> {
    let mut best: Option<u128> = None;
    for piece in f.split(marker).skip(1) {
        let lead = piece.chars().take(3).take_while(|c| !c.is_ascii_digit() || *c == '0').map(char::len_utf8).sum::<usize>();
        let rest = &piece[lead..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).take(40).collect();
        let after = rest[digits.len()..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
        if !after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '}') {
            continue;
        }
        let w = if digits.len() > 38 { Some(u128::MAX) } else { digits.parse::<u128>().ok() };
        if let Some(w) = w {
            best = Some(best.map_or(w, |b| b.max(w)));
        }
    }
    best
}

/// `fmt % args` folded for `%s`, `%c`, `%d` and `%%` with known arguments.
fn fold_printf(f: &str, args: &[Val]) -> Option<String> {
    let mut out = String::new();
    let mut chars = f.chars();
    let mut next = args.iter();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let a = match chars.next()? {
            '%' => {
                out.push('%');
                continue;
            }
            spec => (spec, next.next()?),
        };
        match a {
            ('s', v) => out.push_str(v.known.as_ref().filter(|k| k.len() == 1)?.first()?),
            ('c', v) => out.push(char::from_u32(u32::try_from(v.int?).ok()?)?),
            ('d', v) => out.push_str(&v.int?.to_string()),
            _ => return None,
        }
        if out.len() > MAX_FOLD {
            return None;
        }
    }
    Some(out)
}

/// `'{0}{}'.format(args)` folded for plain positional fields with known single-string arguments.
fn fold_format(f: &str, args: &[Val]) -> Option<String> {
    let mut out = String::new();
    let mut rest = f;
    let mut auto = 0;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let r = &rest[i..];
        if r.starts_with("{{") || r.starts_with("}}") {
            out.push(r.as_bytes()[0] as char);
            rest = &r[2..];
            continue;
        }
        let end = r.find('}')?;
        let field = &r[1..end];
        let idx = if field.is_empty() {
            auto += 1;
            auto - 1
        } else {
            field.parse::<usize>().ok()?
        };
        let v = args.get(idx)?;
        out.push_str(v.known.as_ref().filter(|k| k.len() == 1)?.first()?);
        rest = &r[end + 1..];
    }
    out.push_str(rest);
    (out.len() <= MAX_FOLD).then_some(out)
}

/// The first replacement field of a format string that reads an attribute or item (`{0.x}`,
/// `{a[b]}`).
fn format_field_access(f: &str) -> Option<String> {
    let mut rest = f;
    while let Some(i) = rest.find('{') {
        let r = &rest[i + 1..];
        if let Some(r2) = r.strip_prefix('{') {
            rest = r2;
            continue;
        }
        let end = r.find(['}', ':', '!']).unwrap_or(r.len());
        let field = &r[..end];
        if field.contains(['.', '[']) {
            return Some(field.chars().take(60).collect());
        }
        rest = &r[end..];
    }
    None
}
