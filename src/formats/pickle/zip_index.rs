//! Looking entries up by name: the archive's name index (split from `zip.rs`).

use std::hash::BuildHasher;

use super::{Archive, Entry};

impl Archive {
    /// Every entry named exactly `name` (more than one is an ambiguity the caller must handle).
    pub fn find<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Entry> + use<'a> {
        let h = self.by_name.state.hash_one(name.as_bytes());
        let chain = self.by_name.heads.get(&h).map(|&(head, _)| head);
        let chain = std::iter::successors(chain, |&i| {
            self.by_name.next.get(i as usize).copied().filter(|&n| n != NONE)
        });
        let mut entries = chain.map(|i| &self.entries[i as usize]);
        // entries whose names merely share the hash are skipped; the rest are compared with the first match
        let first = entries.by_ref().find(|e| e.raw_name() == name.as_bytes());
        first
            .into_iter()
            .chain(entries.filter(move |e| first.is_some_and(|f| f.raw_name() == e.raw_name())))
    }

    /// Whether no two entries share a name (then the entry at a guessed position, if it has the
    /// name looked for, is the only one: see [`Archive::find_unique_at`]).
    pub fn names_distinct(&self) -> bool {
        !self.by_name.shared
    }

    /// The entry named `name` when it is the one at position `at` and no two entries share a
    /// name: one comparison instead of a hash lookup, for readers that know where a record
    /// usually is (torch writes `data/0`, `data/1`, … in order). `None` says: use [`Archive::find`].
    pub fn find_unique_at(&self, at: usize, name: &str) -> Option<&Entry> {
        self.entries
            .get(at)
            .filter(|e| !self.by_name.shared && e.raw_name() == name.as_bytes())
    }

    pub(super) fn index(&mut self) {
        let ix = &mut self.by_name;
        ix.shared = false;
        ix.heads.clear();
        ix.heads.reserve(self.entries.len());
        ix.next.clear();
        ix.next.resize(self.entries.len(), NONE);
        for (i, e) in self.entries.iter().enumerate() {
            // at most MAX_ENTRIES (2^20) entries: the index fits in u32
            let i = i as u32;
            let h = ix.state.hash_one(e.raw_name());
            match ix.heads.get_mut(&h) {
                Some((_, tail)) => {
                    // the same name twice (or, rarely, two names of one hash)
                    ix.shared = true;
                    ix.next[*tail as usize] = i;
                    *tail = i;
                }
                None => {
                    ix.heads.insert(h, (i, i));
                }
            }
        }
    }
}

const NONE: u32 = u32::MAX;

/// Entries by the hash of their raw name (SipHash with this archive's random keys, so a hostile
/// archive cannot choose names that collide): the first and last entry of each hash, and a chain
/// through the rest in directory order. Building it copies no name (the map held a copy of every
/// name and a vector per name before: two allocations per entry of a 20,000-tensor archive).
#[derive(Debug, Clone, Default)]
pub(super) struct NameIndex {
    state: std::collections::hash_map::RandomState,
    heads: std::collections::HashMap<u64, (u32, u32)>,
    next: Vec<u32>,
    /// Some hash is shared by two entries (a name repeated, or a collision).
    shared: bool,
}

impl PartialEq for NameIndex {
    /// Derived from the entries, which the archive compares itself.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for NameIndex {}
