//! The memo (PUT/GET) of the restricted machine ([`super::machine`]) and of the scanner's walk
//! ([`crate::scan`]), split from `machine.rs`.

use std::collections::HashMap;

/// The memo: indices below a dense bound live in a vector (torch numbers its memo 0, 1, 2, …, so
/// that is every entry of a real checkpoint, without hashing); any other index goes to a SipHash
/// map, so a hostile pickle that stores at index 4,000,000,000 costs one map entry, not a vector of
/// that length. The vector grows only to cover an index below twice the number of entries stored
/// plus a margin, so it never holds more than about two slots per entry.
#[derive(Debug)]
pub(crate) struct Memo<V> {
    dense: Vec<Option<V>>,
    sparse: HashMap<u64, V>,
    len: usize,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Memo {
            dense: Vec::new(),
            sparse: HashMap::new(),
            len: 0,
        }
    }
}

impl<V: Clone> Memo<V> {
    /// Indices below this always fit the dense vector.
    const MARGIN: u64 = 1 << 12;

    pub(crate) fn reserve(&mut self, n: usize) {
        self.dense.reserve(n);
    }

    /// Entries stored.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn get(&self, i: u64) -> Option<&V> {
        let dense = usize::try_from(i).ok().and_then(|at| self.dense.get(at)?.as_ref());
        // an index stored while sparse stays in the map when the vector later grows over it
        dense.or_else(|| self.sparse.get(&i))
    }

    pub(crate) fn insert(&mut self, i: u64, v: V) {
        // bounded by the entries stored, not by the vector's length: a vector allowed to double
        // to reach each index would grow exponentially in the number of PUTs (twelve of them,
        // each two slots past the end, made 16 million slots)
        let n = self.len as u64;
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Whatever the indices (dense runs, repeats, huge ones), the memo answers as a map does.
        #[test]
        fn behaves_as_a_map(ops in proptest::collection::vec(
            (prop_oneof![0u64..64, 0u64..20_000, any::<u64>()], any::<u16>(), any::<bool>()),
            0..400,
        )) {
            let mut memo: Memo<u16> = Memo::default();
            let mut model: HashMap<u64, u16> = HashMap::new();
            for (i, v, put) in ops {
                if put {
                    memo.insert(i, v);
                    model.insert(i, v);
                }
                prop_assert_eq!(memo.get(i), model.get(&i));
                prop_assert_eq!(memo.len(), model.len());
            }
            for (k, v) in &model {
                prop_assert_eq!(memo.get(*k), Some(v));
            }
        }
    }

    #[test]
    fn puts_just_past_the_end_cannot_grow_the_vector_faster_than_the_entries() {
        let mut memo: Memo<u8> = Memo::default();
        for k in 1..=64u64 {
            // each index just inside a bound of twice the vector's length plus the margin (which
            // let the vector double on every PUT), a different one each time
            let i = (memo.dense.len() as u64) * 2 + Memo::<u8>::MARGIN - 1 - k;
            memo.insert(i, 1);
            assert!(
                memo.dense.len() as u64 <= 2 * k + Memo::<u8>::MARGIN,
                "{k}: {}",
                memo.dense.len()
            );
            assert_eq!(memo.get(i), Some(&1));
        }
        assert_eq!(memo.len(), 64);
    }

    #[test]
    fn a_huge_index_costs_one_entry() {
        let mut memo: Memo<u8> = Memo::default();
        memo.insert(4_000_000_000, 1);
        memo.insert(u64::MAX, 2);
        assert_eq!(
            (memo.len(), memo.get(4_000_000_000), memo.get(u64::MAX)),
            (2, Some(&1), Some(&2))
        );
        assert!(memo.dense.len() < 1 << 13, "{}", memo.dense.len());
    }
}
