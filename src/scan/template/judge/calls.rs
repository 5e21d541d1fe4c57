//! Filters, calls and methods: what each gives, and the names and sizes it is handed.

use minijinja::machinery::ast::{self, CallArg, Expr};

use super::fold::{const_str, fold_format, format_field_access, widest};
use super::val::{MAX_FOLD, Val};
use super::{Judge, at};
use crate::scan::Severity;
use crate::scan::template::MAX_RANGE;
use crate::scan::template::names::{self, FILTERS, METHODS, UNUSED_GLOBALS};

impl Judge {
    pub(super) fn filter(&mut self, f: &ast::Spanned<ast::Filter<'_>>) -> Val {
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
            f.args
                .iter()
                .zip(&args)
                .filter(|(a, _)| matches!(a, CallArg::Pos(_)))
                .nth(i)
                .map(|(_, v)| v.clone())
        };
        match name {
            "attr" => {
                let n = pos(0).unwrap_or_default();
                self.name_use(
                    offset,
                    &Val {
                        built: true,
                        ..n.clone()
                    },
                    "the attr filter",
                );
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
                        _ => self.name_use(
                            offset,
                            &Val {
                                built: true,
                                spelled: true,
                                ..filter
                            },
                            "the map filter's filter name",
                        ),
                    }
                }
                Val {
                    spelled: true,
                    ..input.derived()
                }
            }
            "format" => self.printf(offset, &input, &args),
            "join" => {
                let sep = pos(0).unwrap_or_else(|| Val::string(""));
                let mut v = Val {
                    built: true,
                    spelled: true,
                    ..Val::data()
                };
                if let (Some(items), Some(s), true) = (&input.known, &sep.known, matches!(f.expr, Some(Expr::List(_))))
                    && s.len() == 1
                    && items.iter().map(String::len).sum::<usize>() <= MAX_FOLD
                    && let Some(Expr::List(l)) = &f.expr
                {
                    let parts: Option<Vec<String>> = l.items.iter().map(const_str).collect();
                    if let Some(parts) = parts {
                        v.known = Some(vec![parts.join(&s[0])]);
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
                Val {
                    known: None,
                    ..input.derived()
                }
            }
            "first" | "last" | "random" | "list" | "sort" | "unique" | "select" | "reject" | "selectattr"
            | "rejectattr" | "batch" | "slice" | "min" | "max" | "title" | "capitalize" => Val { int: None, ..input },
            _ => Val::data(),
        }
    }

    pub(super) fn call_expr(&mut self, c: &ast::Spanned<ast::Call<'_>>) -> Val {
        self.call(c)
    }

    pub(super) fn call(&mut self, c: &ast::Spanned<ast::Call<'_>>) -> Val {
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
                    return Val {
                        built: true,
                        spelled: true,
                        ..Val::data()
                    };
                }
                Val {
                    int: None,
                    size: None,
                    known: None,
                    ..callee
                }
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
        Val {
            size: count,
            ..Val::data()
        }
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
                    return Val {
                        built: true,
                        spelled: true,
                        ..Val::data()
                    };
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
                Val {
                    known: folded,
                    built: true,
                    spelled: true,
                    ..Val::data()
                }
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
            "join" => Val {
                built: true,
                spelled: true,
                ..Val::data()
            },
            "split" | "rsplit" | "splitlines" | "title" | "capitalize" | "removeprefix" | "removesuffix" => Val {
                known: None,
                int: None,
                ..obj.derived()
            },
            "get" | "pop" => {
                let v = Val {
                    int: None,
                    size: None,
                    ..obj.clone()
                };
                match args.get(1) {
                    Some(d) => v.merge(d),
                    None => v,
                }
            }
            _ => Val::data(),
        }
    }
}
