//! Duplicate tensor names, found without SipHash and without copying a name: a hash set of borrowed
//! names with a fast hasher. Names come from files, but a collision only costs time, and
//! [`MAX_TENSORS`](super::MAX_TENSORS) bounds the work.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a over 8-byte words, then a splitmix64 finish so the low bits a table uses depend on every byte.
#[derive(Default)]
pub struct NameHasher(u64);

impl Hasher for NameHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0 ^ 0xcbf2_9ce4_8422_2325;
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let x = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            h = (h ^ x).wrapping_mul(0x0100_0000_01b3).rotate_left(23);
        }
        for &b in words.remainder() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A set of borrowed names with [`NameHasher`].
pub type NameSet<'a> = HashSet<&'a str, BuildHasherDefault<NameHasher>>;

/// The index of the first name that repeats an earlier one, if any.
pub fn first_duplicate<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> Option<usize> {
    let mut seen = NameSet::with_capacity_and_hasher(names.len(), Default::default());
    names.enumerate().find_map(|(i, n)| (!seen.insert(n)).then_some(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_at_their_second_occurrence() {
        assert_eq!(first_duplicate(["a", "b", "c"].into_iter()), None);
        assert_eq!(first_duplicate(["a", "b", "a", "b"].into_iter()), Some(2));
        assert_eq!(first_duplicate(std::iter::empty()), None);
        // names differing past the first word, and by length only
        let long: Vec<String> = (0..10_000)
            .map(|i| format!("model.layers.0.mlp.experts.{i}.w"))
            .collect();
        assert_eq!(first_duplicate(long.iter().map(String::as_str)), None);
        assert_eq!(first_duplicate(["abcdefgh", "abcdefgh\0"].into_iter()), None);
        let mut with_dup = long.clone();
        with_dup.push(long[1234].clone());
        assert_eq!(first_duplicate(with_dup.iter().map(String::as_str)), Some(10_000));
    }
}
