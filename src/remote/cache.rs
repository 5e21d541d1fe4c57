//! The cache of remote files: which byte ranges of each sparse copy were fetched ([`RangeSet`],
//! kept per mirror in `ranges.json` beside `files/` and merged with what other processes saved).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A sorted set of disjoint byte ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RangeSet(Vec<Range<u64>>);

impl RangeSet {
    /// The ranges, sorted and disjoint.
    pub fn ranges(&self) -> &[Range<u64>] {
        &self.0
    }

    /// Add `r`, merging with neighbours.
    pub fn insert(&mut self, r: Range<u64>) {
        if r.start >= r.end {
            return;
        }
        let (mut start, mut end) = (r.start, r.end);
        let mut out = Vec::with_capacity(self.0.len() + 1);
        for x in self.0.drain(..) {
            if x.end < start || x.start > end {
                out.push(x);
            } else {
                start = start.min(x.start);
                end = end.max(x.end);
            }
        }
        out.push(start..end);
        out.sort_by_key(|x| x.start);
        self.0 = out;
    }

    /// The parts of `r` not in the set.
    pub fn missing(&self, r: Range<u64>) -> Vec<Range<u64>> {
        let mut out = Vec::new();
        let mut at = r.start;
        for x in &self.0 {
            if x.end <= at {
                continue;
            }
            if x.start >= r.end {
                break;
            }
            if x.start > at {
                out.push(at..x.start);
            }
            at = at.max(x.end);
        }
        if at < r.end {
            out.push(at..r.end);
        }
        out
    }

    /// Total bytes in the set.
    pub fn len(&self) -> u64 {
        self.0.iter().map(|r| r.end - r.start).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The fetched ranges of every file of one mirror, kept in `ranges.json` beside `files/`.
#[derive(Debug)]
pub(crate) struct State {
    dir: PathBuf,
    ranges: Mutex<BTreeMap<String, RangeSet>>,
}

impl State {
    pub(crate) fn load(dir: &Path) -> State {
        let ranges = read_ranges(&dir.join("ranges.json"));
        State {
            dir: dir.to_path_buf(),
            ranges: Mutex::new(ranges),
        }
    }

    pub(crate) fn ranges_of(&self, rel: &str) -> RangeSet {
        self.ranges
            .lock()
            .ok()
            .and_then(|m| m.get(rel).cloned())
            .unwrap_or_default()
    }

    pub(crate) fn add_range(&self, rel: &str, r: std::ops::Range<u64>) {
        if let Ok(mut m) = self.ranges.lock() {
            m.entry(rel.to_owned()).or_default().insert(r);
        }
    }

    pub(crate) fn forget(&self, rel: &str) {
        if let Ok(mut m) = self.ranges.lock() {
            m.remove(rel);
        }
    }

    /// Merge with what another process saved, then write (temporary file + rename).
    pub(crate) fn save_ranges(&self) {
        let path = self.dir.join("ranges.json");
        let Ok(mut mine) = self.ranges.lock() else { return };
        for (k, set) in read_ranges(&path) {
            let e = mine.entry(k).or_default();
            for r in set.ranges() {
                e.insert(r.clone());
            }
        }
        let json: BTreeMap<&String, Vec<[u64; 2]>> = mine
            .iter()
            .map(|(k, v)| (k, v.ranges().iter().map(|r| [r.start, r.end]).collect()))
            .collect();
        if let Ok(text) = serde_json::to_vec(&json) {
            let _ = write_atomic(&path, &text);
        }
    }
}

fn read_ranges(path: &Path) -> BTreeMap<String, RangeSet> {
    let Ok(text) = std::fs::read(path) else {
        return BTreeMap::new();
    };
    let Ok(map) = serde_json::from_slice::<BTreeMap<String, Vec<[u64; 2]>>>(&text) else {
        return BTreeMap::new();
    };
    map.into_iter()
        .map(|(k, v)| {
            let mut s = RangeSet::default();
            for [a, b] in v {
                s.insert(a..b);
            }
            (k, s)
        })
        .collect()
}

pub(crate) use crate::source::atomic::write_atomic;

#[cfg(test)]
mod tests {
    use super::RangeSet;

    #[test]
    fn range_sets_merge_and_report_holes() {
        let mut s = RangeSet::default();
        s.insert(10..20);
        s.insert(30..40);
        assert_eq!(s.missing(0..50), vec![0..10, 20..30, 40..50]);
        s.insert(20..30);
        assert_eq!(s.ranges(), std::slice::from_ref(&(10..40)));
        assert_eq!(s.missing(15..35), Vec::<std::ops::Range<u64>>::new());
        s.insert(5..12);
        assert_eq!(s.ranges(), std::slice::from_ref(&(5..40)));
        assert_eq!(s.len(), 35);
    }
}
