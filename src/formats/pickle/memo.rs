//! The restricted machine's memo (PUT/GET), split from `machine.rs`.

use std::collections::HashMap;

use super::value::Value;

/// The memo: indices below a dense bound live in a vector (torch numbers its memo 0, 1, 2, …, so
/// that is every entry of a real checkpoint, without hashing); any other index goes to a SipHash
/// map, so a hostile pickle that stores at index 4,000,000,000 costs one map entry, not a vector of
/// that length. The vector grows only to cover an index at most twice its length plus a margin.
#[derive(Debug, Default)]
pub(super) struct Memo<'a> {
    dense: Vec<Option<Value<'a>>>,
    sparse: HashMap<u64, Value<'a>>,
    len: usize,
}

impl<'a> Memo<'a> {
    /// Indices below this always fit the dense vector.
    const MARGIN: u64 = 1 << 12;

    pub(super) fn reserve(&mut self, n: usize) {
        self.dense.reserve(n);
    }

    /// Entries stored.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn get(&self, i: u64) -> Option<&Value<'a>> {
        let dense = usize::try_from(i).ok().and_then(|at| self.dense.get(at)?.as_ref());
        // an index stored while sparse stays in the map when the vector later grows over it
        dense.or_else(|| self.sparse.get(&i))
    }

    pub(super) fn insert(&mut self, i: u64, v: Value<'a>) {
        let n = self.dense.len() as u64;
        if i < n.saturating_mul(2).saturating_add(Self::MARGIN) {
            let at = i as usize;
            if at >= self.dense.len() {
                self.dense.resize(at + 1, None);
            }
            // an index that was sparse before the vector grew over it moves to the vector
            let moved = if self.sparse.is_empty() {
                None
            } else {
                self.sparse.remove(&i)
            };
            let old = moved.or_else(|| self.dense[at].take());
            self.len += usize::from(old.is_none());
            self.dense[at] = Some(v);
        } else {
            self.len += usize::from(self.sparse.insert(i, v).is_none());
        }
    }
}
