//! Fuzzy name matching for the `/` filter: nucleo's matcher (Helix's), each word of the filter a
//! subsequence of the name, smart case. Which names match needs no score, so it is nucleo's greedy
//! O(n) pass per word (the same subsequence test its scoring matcher makes first); the optimal
//! alignment is computed only for the rows drawn, to highlight them. Typing a character only
//! narrows the matches, so each keystroke looks only at the names the previous filter kept;
//! backspace pops back to a kept result.

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str, Utf32String};

/// Results kept for backspace: one per filter typed, at most this many.
const KEPT: usize = 64;

/// The matcher and the matches of the filters typed so far.
pub struct Filter {
    matcher: Matcher,
    /// (filter, indices of the names it matches), each filter a prefix of the next.
    kept: Vec<(String, Vec<u32>)>,
    buf: Vec<char>,
}

/// A copy keeps the matches and starts a new matcher (the matcher holds only scratch space).
impl Clone for Filter {
    fn clone(&self) -> Self {
        Filter {
            kept: self.kept.clone(),
            buf: self.buf.clone(),
            ..Filter::default()
        }
    }
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Filter")
            .field("kept", &self.kept.len())
            .finish_non_exhaustive()
    }
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            matcher: Matcher::new(Config::DEFAULT),
            kept: Vec::new(),
            buf: Vec::new(),
        }
    }
}

fn pattern(needle: &str) -> Pattern {
    Pattern::new(needle, CaseMatching::Smart, Normalization::Smart, AtomKind::Fuzzy)
}

/// The words of a filter, each with its case rule (smart case: a word with a capital letter is
/// matched case-sensitively).
struct Words(Vec<(Utf32String, bool)>);

impl Words {
    fn new(needle: &str) -> Words {
        Words(
            needle
                .split_whitespace()
                .map(|w| (Utf32String::from(w), !w.chars().any(char::is_uppercase)))
                .collect(),
        )
    }

    /// Whether every word is a subsequence of `hay`.
    fn all_in(&self, hay: Utf32Str<'_>, m: &mut Matcher) -> bool {
        self.0.iter().all(|(w, ignore_case)| {
            m.config.ignore_case = *ignore_case;
            m.fuzzy_match_greedy(hay, w.slice(..)).is_some()
        })
    }
}

impl Filter {
    /// Indices of `names` that `needle` matches (all of them for an empty needle), in index order.
    pub fn matches<'a>(&mut self, needle: &str, names: impl Fn(usize) -> &'a str, count: usize) -> &[u32] {
        // a trailing `\` escapes the space typed next: that filter is no narrowing of it
        while self
            .kept
            .last()
            .is_some_and(|(f, _)| !needle.starts_with(f.as_str()) || (f.ends_with('\\') && f != needle))
        {
            self.kept.pop();
        }
        if self.kept.last().is_none_or(|(f, _)| f != needle) {
            let words = Words::new(needle);
            let candidates: Box<dyn Iterator<Item = u32>> = match self.kept.last() {
                Some((_, m)) => Box::new(m.clone().into_iter()),
                None => Box::new(0..u32::try_from(count).unwrap_or(u32::MAX)),
            };
            let mut found = Vec::new();
            for i in candidates {
                let hay = Utf32Str::new(names(i as usize), &mut self.buf);
                if words.all_in(hay, &mut self.matcher) {
                    found.push(i);
                }
            }
            if self.kept.len() == KEPT {
                self.kept.remove(0);
            }
            self.kept.push((needle.to_string(), found));
        }
        self.kept.last().map(|(_, m)| m.as_slice()).unwrap_or(&[])
    }

    /// Char positions of `name` that `needle` matches, sorted, for highlighting.
    pub fn indices(&mut self, needle: &str, name: &str) -> Vec<u32> {
        let mut out = Vec::new();
        let hay = Utf32Str::new(name, &mut self.buf);
        if pattern(needle).indices(hay, &mut self.matcher, &mut out).is_none() {
            out.clear();
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 4] = [
        "encoder.layer.0.attention.self.query.weight",
        "encoder.layer.0.attention.self.key.weight",
        "encoder.layer.1.attention.self.query.bias",
        "pooler.dense.weight",
    ];

    #[test]
    fn subsequence_smart_case_and_backspace() {
        let mut f = Filter::default();
        let name = |i: usize| NAMES[i];
        assert_eq!(f.matches("query", name, 4), [0, 2]);
        assert_eq!(f.matches("qw", name, 4), [0]);
        assert_eq!(f.matches("q", name, 4), [0, 2]);
        assert_eq!(f.matches("Query", name, 4), [] as [u32; 0]);
        assert_eq!(f.matches("", name, 4), [0, 1, 2, 3]);
        assert_eq!(f.matches("pool dense", name, 4), [3]);
        assert_eq!(f.matches("1 bias", name, 4), [2]);
    }

    #[test]
    fn indices_for_highlighting() {
        let mut f = Filter::default();
        let idx = f.indices("pdw", "pooler.dense.weight");
        assert_eq!(idx.len(), 3);
        assert_eq!(idx[0], 0);
        assert!(f.indices("zzz", "pooler").is_empty());
    }
}
