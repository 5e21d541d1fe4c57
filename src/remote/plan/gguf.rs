//! GGUF over ranges: the header, metadata (chat templates included) and tensor infos, fetched as a
//! prefix grown until a walk of the v2/v3 layout ends. Tensor data is never fetched here.

use super::common::{PICKLE_PREFIX, le64};
use crate::Result;
use crate::remote::file::RemoteFile;

/// Most bytes of a GGUF file's header, metadata and tensor infos fetched.
pub const MAX_GGUF_HEADER_FETCH: u64 = 256 << 20;

/// Why a GGUF walk stopped.
#[derive(Debug, PartialEq, Eq)]
enum Walk {
    /// The section runs past the bytes given.
    Need,
    /// Not a GGUF layout this walker knows (the reader reports it).
    Broken,
}

/// Where the tensor infos of the GGUF file starting with `data` end (version 2 and 3 layouts):
/// magic, version, tensor and KV counts, the KVs (strings, scalars, arrays, nested arrays), then per
/// tensor its name, dimensions, type and offset. Tensor data follows and is not needed.
/// `size` is the whole file's: a section that would run past it is broken, not worth fetching.
fn gguf_end(data: &[u8], size: u64) -> std::result::Result<usize, Walk> {
    struct R<'a>(&'a [u8], usize, u64);
    impl R<'_> {
        fn take(&mut self, n: u64) -> std::result::Result<usize, Walk> {
            let at = self.1;
            let end = u64::try_from(at)
                .ok()
                .and_then(|a| a.checked_add(n))
                .ok_or(Walk::Broken)?;
            if end > self.2 {
                return Err(Walk::Broken);
            }
            if end > self.0.len() as u64 {
                return Err(Walk::Need);
            }
            self.1 = end as usize;
            Ok(at)
        }
        fn u32(&mut self) -> std::result::Result<u32, Walk> {
            let at = self.take(4)?;
            Ok(u32::from_le_bytes(self.0[at..at + 4].try_into().unwrap_or_default()))
        }
        fn u64(&mut self) -> std::result::Result<u64, Walk> {
            let at = self.take(8)?;
            Ok(le64(self.0, at))
        }
        fn string(&mut self) -> std::result::Result<(), Walk> {
            let n = self.u64()?;
            self.take(n).map(|_| ())
        }
        fn value(&mut self, kind: u32, depth: u32) -> std::result::Result<(), Walk> {
            match kind {
                0 | 1 | 7 => self.take(1).map(|_| ()),
                2 | 3 => self.take(2).map(|_| ()),
                4..=6 => self.take(4).map(|_| ()),
                10..=12 => self.take(8).map(|_| ()),
                8 => self.string(),
                9 if depth < 8 => {
                    let (elem, n) = (self.u32()?, self.u64()?);
                    let fixed = match elem {
                        0 | 1 | 7 => Some(1),
                        2 | 3 => Some(2),
                        4..=6 => Some(4),
                        10..=12 => Some(8),
                        _ => None,
                    };
                    match fixed {
                        Some(w) => self.take(n.checked_mul(w).ok_or(Walk::Broken)?).map(|_| ()),
                        None => {
                            // every element takes at least 8 bytes, so this ends with the data
                            for _ in 0..n {
                                self.value(elem, depth + 1)?;
                            }
                            Ok(())
                        }
                    }
                }
                _ => Err(Walk::Broken),
            }
        }
    }
    let mut r = R(data, 0, size);
    r.take(4)?;
    if !matches!(r.u32()?, 2 | 3) {
        return Err(Walk::Broken);
    }
    let (tensors, kvs) = (r.u64()?, r.u64()?);
    for _ in 0..kvs {
        r.string()?;
        let kind = r.u32()?;
        r.value(kind, 0)?;
    }
    for _ in 0..tensors {
        r.string()?;
        let dims = r.u32()?;
        r.take(u64::from(dims).checked_mul(8).ok_or(Walk::Broken)?)?;
        r.take(12)?;
    }
    Ok(r.1)
}

/// GGUF: a prefix grown until the header, metadata and tensor infos are all in it.
pub(super) fn plan(f: &RemoteFile) -> Result<Option<String>> {
    let limit = f.size.min(MAX_GGUF_HEADER_FETCH);
    let mut have = f.size.min(PICKLE_PREFIX);
    loop {
        let data = f.read(0..have)?;
        match gguf_end(&data, f.size) {
            Ok(_) | Err(Walk::Broken) => return Ok(None),
            Err(Walk::Need) if have < limit => have = limit.min(have.saturating_mul(2)),
            Err(Walk::Need) => {
                return Ok(Some(format!(
                    "its metadata and tensor infos run past the {MAX_GGUF_HEADER_FETCH}-byte limit"
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Walk, gguf_end};

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend((s.len() as u64).to_le_bytes());
        out.extend(s.as_bytes());
    }

    /// A GGUF v3 header: two KVs (a string, an array of strings) and one 2-d tensor info.
    fn gguf() -> (Vec<u8>, usize) {
        let mut b = b"GGUF".to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(1u64.to_le_bytes());
        b.extend(2u64.to_le_bytes());
        string(&mut b, "tokenizer.chat_template");
        b.extend(8u32.to_le_bytes());
        string(&mut b, "{{ messages }}");
        string(&mut b, "tokenizer.ggml.tokens");
        b.extend(9u32.to_le_bytes());
        b.extend(8u32.to_le_bytes());
        b.extend(3u64.to_le_bytes());
        for t in ["a", "bc", "def"] {
            string(&mut b, t);
        }
        string(&mut b, "blk.0.w");
        b.extend(2u32.to_le_bytes());
        b.extend(4u64.to_le_bytes());
        b.extend(8u64.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend(0u64.to_le_bytes());
        let end = b.len();
        b.extend([0u8; 64]);
        (b, end)
    }

    #[test]
    fn the_gguf_walk_finds_the_end_of_the_tensor_infos_and_asks_for_more_when_cut() {
        let (b, end) = gguf();
        let size = b.len() as u64;
        assert_eq!(gguf_end(&b, size), Ok(end));
        for cut in [0, 3, 20, 40, end - 1] {
            assert_eq!(gguf_end(&b[..cut], size), Err(Walk::Need), "cut at {cut}");
        }
        let mut v1 = b.clone();
        v1[4] = 1;
        assert_eq!(gguf_end(&v1, size), Err(Walk::Broken));
    }

    #[test]
    fn hostile_gguf_counts_end_the_walk_instead_of_looping_or_overflowing() {
        let (mut b, _) = gguf();
        // 2^64-1 KVs: the walk ends within the bytes of the file, without finding an end
        b[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(gguf_end(&b, 1 << 30).is_err());
        assert_eq!(gguf_end(&b, b.len() as u64), Err(Walk::Broken));
        // an array of 2^62 u64 values overflows the size: broken, not a huge fetch
        let (mut b, _) = gguf();
        let at = 24 + 8 + 23 + 4 + 8 + 14 + 8 + 21 + 4;
        b[at..at + 4].copy_from_slice(&10u32.to_le_bytes());
        b[at + 4..at + 12].copy_from_slice(&(1u64 << 62).to_le_bytes());
        assert_eq!(gguf_end(&b, u64::MAX), Err(Walk::Broken));
        // a 1 TB array in a 1 GB file is not fetched
        b[at + 4..at + 12].copy_from_slice(&(1u64 << 37).to_le_bytes());
        assert_eq!(gguf_end(&b, 1 << 30), Err(Walk::Broken));
    }
}
