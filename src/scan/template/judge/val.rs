//! The abstract values of the walk: what is known of a string, list or number a template holds.

/// Most distinct strings a value keeps before it counts as unknown.
pub(super) const MAX_KNOWN: usize = 32;
/// Longest string folded; a longer one counts as unknown (its length is still tracked).
pub(super) const MAX_FOLD: usize = 4096;
/// What the walk knows about a value.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Val {
    /// The strings it can be (for a list or map: its string items), when all are known.
    pub(super) known: Option<Vec<String>>,
    /// Assembled while the template renders (concatenation, repetition, format, join, …).
    pub(super) built: bool,
    /// Assembled by something that can spell any character (format, join, replace, macro output):
    /// a name of this value may start with `_` even when no constant piece shows one.
    pub(super) spelled: bool,
    /// An integer the template fixes (an upper bound where it is a product).
    pub(super) int: Option<u128>,
    /// Bytes or items, when the template fixes them (strings, lists, repetitions).
    pub(super) size: Option<u128>,
}

impl Val {
    pub(super) fn data() -> Val {
        Val::default()
    }
    pub(super) fn string(s: &str) -> Val {
        Val {
            known: Some(vec![s.to_owned()]),
            size: Some(s.len() as u128),
            ..Val::default()
        }
    }
    pub(super) fn int(n: u128) -> Val {
        Val {
            int: Some(n),
            ..Val::default()
        }
    }
    pub(super) fn stringy(&self) -> bool {
        self.known.is_some() || self.built || self.size.is_some()
    }
    /// The union of two values a variable may hold.
    pub(super) fn merge(&self, o: &Val) -> Val {
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
    pub(super) fn derived(&self) -> Val {
        Val {
            built: true,
            int: None,
            ..self.clone()
        }
    }
    pub(super) fn map_known(&self, f: impl Fn(&str) -> String) -> Val {
        let mut v = self.derived();
        v.known = self.known.as_ref().map(|k| k.iter().map(|s| f(s)).collect());
        v
    }
}

/// Cartesian concatenation of known strings, within the caps.
pub(super) fn concat(a: &Val, b: &Val) -> Val {
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
    Val {
        known,
        built: true,
        spelled,
        int: None,
        size,
    }
}
