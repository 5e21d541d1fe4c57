//! The value viewer: a metadata value too long for its line in the Files tab (a chat template, a
//! token list, merges) opened whole, one item per line, in an overlay that scrolls like every pane.
//! `v` opens the one on screen (the first one shown, or the one whose text fills the view), `n`/`N`
//! step through them, Esc closes it.

use tensorscope::checkpoint::Checkpoint;
use tensorscope::formats::gguf::is_template_key;
use tensorscope::text::escape;

use super::scroll::Scroll;

/// A value longer than this (in chars, as the Files tab shows it) is one the viewer offers.
const LONG: usize = 60;

/// The open viewer: which of the long values is shown, its lines and the view.
#[derive(Debug, Default)]
pub struct Viewer {
    /// The keys of the long values, in the Files tab's order.
    pub keys: Vec<String>,
    pub at: usize,
    /// `key (TYPE, N items)`.
    pub title: String,
    pub lines: Vec<String>,
    pub scroll: Scroll,
}

/// The metadata keys whose values the Files tab cannot show whole.
pub fn long_keys(ck: &Checkpoint) -> Vec<String> {
    ck.metadata
        .iter()
        .filter(|(k, v)| is_template_key(k) || v.chars().count() > LONG || v.contains('\n'))
        .map(|(k, _)| k.clone())
        .collect()
}

/// The value of `key` whole, as lines: a GGUF value through the core's `show` path (arrays one item
/// per row, each with its index, its newlines escaped), any other metadata value as stored.
pub fn load(ck: &Checkpoint, key: &str) -> (String, Vec<String>) {
    let shown = escape(key).into_owned();
    match tensorscope::checkpoint::gguf::metadata_value(ck, key) {
        Ok(Some(v)) => match v.items() {
            // one row per item, its index first, control characters escaped (`nl\x0ax`) as the
            // Files tab shows them, then "… N more" when the array was cut; the count is the array's
            Some(items) => {
                let count = items.len() as u64 + v.more;
                let w = count.saturating_sub(1).to_string().len();
                let mut lines: Vec<String> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| format!("{i:>w$}  {}", escape(item)))
                    .collect();
                if v.more > 0 {
                    lines.push(format!("… {} more", v.more));
                }
                (format!("{shown} ({}, {count} items)", escape(&v.kind)), lines)
            }
            None => {
                let lines = v.text().lines().map(|l| escape(l).into_owned()).collect();
                (format!("{shown} ({})", escape(&v.kind)), lines)
            }
        },
        Ok(None) => {
            let v = ck
                .metadata
                .iter()
                .find(|(k, _)| k == key)
                .map_or("", |(_, v)| v.as_str());
            (shown, v.lines().map(|l| escape(l).into_owned()).collect())
        }
        Err(e) => (shown, vec![format!("cannot read it: {}", escape(&e.to_string()))]),
    }
}

impl Viewer {
    /// The viewer on the long value `at` of `keys` (none when there is no long value).
    pub fn open(ck: &Checkpoint, keys: Vec<String>, at: usize) -> Option<Viewer> {
        let key = keys.get(at)?;
        let (title, lines) = load(ck, key);
        Some(Viewer {
            keys,
            at,
            title,
            lines,
            scroll: Scroll::default(),
        })
    }
}

impl Viewer {
    /// The viewer on the long value shown in the Files tab's rows `top..top + rows`, where the last
    /// frame drew the long values at `drawn` (first row, key): the first of them in view, else the
    /// last one above it (its text fills the view), else the first (none when no value is too long
    /// for its line).
    pub fn on_screen(ck: &Checkpoint, drawn: &[(usize, String)], top: usize, rows: usize) -> Option<Viewer> {
        let keys = long_keys(ck);
        let shown = drawn
            .iter()
            .find(|(r, _)| (top..top + rows.max(1)).contains(r))
            .or_else(|| drawn.iter().rev().find(|(r, _)| *r < top));
        let at = shown.and_then(|(_, k)| keys.iter().position(|x| x == k)).unwrap_or(0);
        Viewer::open(ck, keys, at)
    }

    /// Show the next long value (`forward`) or the previous one, round the list.
    pub fn step(&mut self, ck: &Checkpoint, forward: bool) {
        let n = self.keys.len().max(1);
        let at = if forward {
            (self.at + 1) % n
        } else {
            (self.at + n - 1) % n
        };
        if let Some(v) = Viewer::open(ck, std::mem::take(&mut self.keys), at) {
            *self = v;
        }
    }
}

#[cfg(test)]
#[path = "../../tests/common/gguf.rs"]
mod gguf_builder;

#[cfg(test)]
mod tests {
    use super::*;

    use super::gguf_builder as builder;

    /// A GGUF whose `tokenizer.ggml.tokens` holds `tokens`, in a temporary folder.
    fn with_tokens(dir: &std::path::Path, tokens: &[&[u8]]) -> std::path::PathBuf {
        let mut v = 8u32.to_le_bytes().to_vec();
        v.extend((tokens.len() as u64).to_le_bytes());
        for t in tokens {
            v.extend(builder::string(t));
        }
        let b = builder::Builder::default()
            .kv("tokenizer.ggml.tokens", 9, v)
            .f32s("w", &[1.0]);
        let path = dir.join("t.gguf");
        std::fs::write(&path, b.bytes()).unwrap();
        path
    }

    /// A token with a newline is one row (escaped as the Files tab shows it), a token starting
    /// with "… " is indexed, and the count is the array's: the "… N more" row is no item.
    #[test]
    fn one_row_per_item_and_the_count_is_the_arrays() {
        let dir = tempfile::tempdir().unwrap();
        let path = with_tokens(dir.path(), &[b"nl\nx", "… two".as_bytes(), b"c"]);
        let ck = tensorscope::checkpoint::open(&path).unwrap();
        let (title, lines) = load(&ck, "tokenizer.ggml.tokens");
        assert_eq!(title, "tokenizer.ggml.tokens (ARRAY[STRING], 3 items)");
        assert_eq!(lines, ["0  nl\\x0ax", "1  … two", "2  c"]);

        let many: Vec<&[u8]> = vec![b"t"; 300_003];
        let path = with_tokens(dir.path(), &many);
        let ck = tensorscope::checkpoint::open(&path).unwrap();
        let (title, lines) = load(&ck, "tokenizer.ggml.tokens");
        assert_eq!(title, "tokenizer.ggml.tokens (ARRAY[STRING], 300003 items)");
        let shown = tensorscope::formats::gguf::MAX_SHOWN_ITEMS;
        assert_eq!(lines.len(), shown + 1, "the items read, then the marker");
        assert_eq!(lines[shown], format!("… {} more", 300_003 - shown));
        assert_eq!(lines[shown - 1], format!("{}  t", shown - 1));
    }

    #[test]
    fn a_gguf_token_list_and_template_open_whole() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/tiny.gguf");
        let ck = tensorscope::checkpoint::open(&path).unwrap();
        let keys = long_keys(&ck);
        assert!(keys.iter().any(|k| k == "tokenizer.ggml.tokens"), "{keys:?}");
        assert!(keys.iter().any(|k| k == "tokenizer.chat_template"), "{keys:?}");
        let (title, lines) = load(&ck, "tokenizer.ggml.tokens");
        assert_eq!(title, "tokenizer.ggml.tokens (ARRAY[STRING], 64 items)");
        assert_eq!(lines.len(), 64, "every token, one a line");
        assert_eq!(lines[63].trim_start(), "63  tok60");
        let (_, t) = load(&ck, "tokenizer.chat_template");
        assert!(t.len() == 1 && t[0].starts_with("{%- set ns"), "{t:?}");
    }
}
