//! Operators: concatenation, repetition, powers and printf `%`, with the sizes they ask for.

use minijinja::machinery::ast;

use super::fold::{fold_printf, widest};
use super::val::{MAX_FOLD, Val, concat};
use super::{Judge, at};
use crate::scan::Severity;
use crate::scan::template::{MAX_REPEAT_BYTES, MAX_WIDTH};

impl Judge {
    pub(super) fn binop(&mut self, b: &ast::Spanned<ast::BinOp<'_>>) -> Val {
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
                    self.hit(
                        at(b.span()),
                        Severity::Suspicious,
                        "a power with a large or computed exponent: unbounded work inside the sandbox".into(),
                    );
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
    pub(super) fn printf(&mut self, offset: usize, fmt: &Val, args: &[Val]) -> Val {
        let mut out = Val {
            built: true,
            spelled: true,
            ..Val::data()
        };
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

    pub(super) fn width(&mut self, offset: usize, w: u128) {
        if w > MAX_WIDTH {
            let why = format!("a padding width of {w} (limit {MAX_WIDTH}): memory exhaustion inside the sandbox");
            self.hit(offset, Severity::Suspicious, why);
        }
    }
}
