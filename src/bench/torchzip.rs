//! A `torch.save`-compatible writer for float32 state dicts: the zip container torch >= 1.6 writes.
//!
//! Layout (what `torch.save` writes, with `archive/` as the top folder):
//!
//! ```text
//! archive/data.pkl                protocol-2 pickle: OrderedDict of _rebuild_tensor_v2(...) calls
//! archive/.format_version         "1"
//! archive/.storage_alignment      "64"
//! archive/byteorder               "little"
//! archive/data/0 … data/N-1       raw little-endian storages, stored (not compressed), 64-byte aligned
//! archive/version                 "3\n"
//! archive/.data/serialization_id  40 decimal digits
//! ```
//!
//! Each storage is referenced from the pickle by a persistent id
//! `('storage', torch.FloatStorage, 'N', 'cpu', numel)` (BINPERSID). Entries are aligned by padding
//! the local header's extra field (id `FB`, as PyTorch does). Zip64 records are written when an
//! entry or the central directory lies past 4 GB (or when forced, to test readers).

use std::io::{self, Write};

/// Zip local header signature.
const LOCAL_SIG: u32 = 0x0403_4b50;
/// Zip central directory header signature.
const CENTRAL_SIG: u32 = 0x0201_4b50;
/// End of central directory signature.
const EOCD_SIG: u32 = 0x0605_4b50;
/// Zip64 end of central directory record signature.
const EOCD64_SIG: u32 = 0x0606_4b50;
/// Zip64 end of central directory locator signature.
const EOCD64_LOCATOR_SIG: u32 = 0x0706_4b50;
/// Largest value a 32-bit zip field holds before zip64 is needed.
const ZIP32_MAX: u64 = 0xFFFF_FFFF;
/// Alignment of every entry's data, as `torch.save` does (`.storage_alignment`).
pub const ALIGN: u64 = 64;
/// Extra-field id PyTorch uses for alignment padding.
const PAD_ID: u16 = 0x4246;
/// DOS date 1980-01-01 (what torch writes).
const DOS_DATE: u16 = 0x0021;

/// A protocol-2 pickle of `OrderedDict(name -> float32 tensor)`, storages numbered in order, byte
/// for byte what `torch.save` writes for such a dict: Python's pickler memoizes every str, global,
/// non-empty tuple and call result (BINPUT, numbered 0, 1, 2, …), refers to a global or an interned
/// str it met before by its memo index (BINGET), and writes the items in batches of 1,000
/// (MARK … SETITEMS; SETITEM for a batch of one). A test compares the output with the `data.pkl`
/// of real `torch.save` files. So a reader spends on this pickle what it spends on torch's own.
///
/// ```
/// let p = tensorscope::bench::torchzip::state_dict_pickle(&[("w".into(), vec![2, 3])]);
/// assert_eq!(&p[..2], b"\x80\x02");
/// assert_eq!(p.last(), Some(&b'.'));
/// ```
pub fn state_dict_pickle(tensors: &[(String, Vec<u64>)]) -> Vec<u8> {
    let mut p = Pickle {
        out: Vec::with_capacity(64 + tensors.len() * 110),
        memo: 0,
    };
    p.out.extend_from_slice(b"\x80\x02");
    let ordered_dict = p.global("collections", "OrderedDict");
    p.out.extend_from_slice(b")R"); // EMPTY_TUPLE, REDUCE
    p.put();
    // memo indices of what every tensor after the first refers to
    let (mut rebuild, mut storage, mut float_storage, mut cpu) = (None, None, None, None);
    let mut i = 0usize;
    for batch in tensors.chunks(PICKLE_BATCH) {
        if batch.len() > 1 {
            p.out.push(b'('); // MARK
        }
        for (name, shape) in batch {
            p.unicode(name);
            p.once(&mut rebuild, |p| p.global("torch._utils", "_rebuild_tensor_v2"));
            p.out.push(b'('); // MARK: args of _rebuild_tensor_v2
            p.out.push(b'('); // MARK: the persistent id ('storage', type, key, location, numel)
            p.once(&mut storage, |p| p.unicode("storage"));
            p.once(&mut float_storage, |p| p.global("torch", "FloatStorage"));
            p.unicode(&i.to_string());
            p.once(&mut cpu, |p| p.unicode("cpu"));
            p.int(shape.iter().product());
            p.out.push(b't'); // TUPLE
            p.put();
            p.out.push(b'Q'); // BINPERSID
            p.int(0); // storage offset
            p.tuple(shape);
            p.tuple(&contiguous_strides(shape));
            p.out.push(0x89); // NEWFALSE: requires_grad
            p.get(ordered_dict); // backward hooks: OrderedDict()
            p.out.extend_from_slice(b")R"); // EMPTY_TUPLE, REDUCE
            p.put();
            p.out.push(b't'); // TUPLE
            p.put();
            p.out.push(b'R'); // REDUCE
            p.put();
            i += 1;
        }
        p.out.push(if batch.len() > 1 { b'u' } else { b's' }); // SETITEMS, SETITEM
    }
    p.out.push(b'.');
    p.out
}

/// Items per SETITEMS batch, as Python's pickler writes them.
const PICKLE_BATCH: usize = 1000;

fn contiguous_strides(shape: &[u64]) -> Vec<u64> {
    let mut s = vec![1u64; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1].max(1);
    }
    s
}

/// A pickle being written, and the number of memo entries it has put.
struct Pickle {
    out: Vec<u8>,
    memo: u32,
}

impl Pickle {
    /// A memo opcode for index `i`: `short` with one byte below 256, `long` with four from there.
    fn memo_op(&mut self, short: u8, long: u8, i: u32) {
        match u8::try_from(i) {
            Ok(b) => self.out.extend_from_slice(&[short, b]),
            Err(_) => {
                self.out.push(long);
                self.out.extend_from_slice(&i.to_le_bytes());
            }
        }
    }

    /// Memoize what was just written (BINPUT, or LONG_BINPUT from index 256); its index.
    fn put(&mut self) -> u32 {
        let i = self.memo;
        self.memo_op(b'q', b'r', i);
        self.memo += 1;
        i
    }

    /// Push memo entry `i` (BINGET, or LONG_BINGET from index 256).
    fn get(&mut self, i: u32) {
        self.memo_op(b'h', b'j', i);
    }

    /// What `write` writes (and memoizes) the first time, remembering its index in `at`; a memo read
    /// after (Python pickles a global, or an interned str, as one object).
    fn once(&mut self, at: &mut Option<u32>, write: impl FnOnce(&mut Self) -> u32) {
        match *at {
            Some(i) => self.get(i),
            None => *at = Some(write(self)),
        }
    }

    /// GLOBAL `module.name`, memoized; its memo index.
    fn global(&mut self, module: &str, name: &str) -> u32 {
        self.out.push(b'c');
        self.out.extend_from_slice(module.as_bytes());
        self.out.push(b'\n');
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'\n');
        self.put()
    }

    /// BINUNICODE `s`, memoized.
    fn unicode(&mut self, s: &str) -> u32 {
        self.out.push(b'X');
        self.out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.out.extend_from_slice(s.as_bytes());
        self.put()
    }

    /// A non-negative int in the smallest opcode (ints are not memoized).
    fn int(&mut self, v: u64) {
        if v < 0x100 {
            self.out.extend_from_slice(&[b'K', v as u8]);
        } else if v < 0x1_0000 {
            self.out.push(b'M');
            self.out.extend_from_slice(&(v as u16).to_le_bytes());
        } else if v < 0x8000_0000 {
            self.out.push(b'J');
            self.out.extend_from_slice(&(v as u32).to_le_bytes());
        } else {
            // LONG1: little-endian two's complement; 9 bytes keeps the sign bit clear for any u64.
            let mut b = v.to_le_bytes().to_vec();
            b.push(0);
            while b.len() > 1 && b[b.len() - 1] == 0 && b[b.len() - 2] & 0x80 == 0 {
                b.pop();
            }
            self.out.extend_from_slice(&[0x8a, b.len() as u8]);
            self.out.extend_from_slice(&b);
        }
    }

    /// A tuple of ints, memoized unless empty (Python writes `()` as EMPTY_TUPLE and keeps no copy).
    fn tuple(&mut self, items: &[u64]) {
        match items.len() {
            0 => {
                self.out.push(b')');
                return;
            }
            n @ 1..=3 => {
                items.iter().for_each(|&v| self.int(v));
                self.out.push([0x85, 0x86, 0x87][n - 1]); // TUPLE1..3
            }
            _ => {
                self.out.push(b'(');
                items.iter().for_each(|&v| self.int(v));
                self.out.push(b't');
            }
        }
        self.put();
    }
}

/// One finished entry, for the central directory.
struct Entry {
    name: String,
    crc: u32,
    size: u64,
    offset: u64,
}

/// A streaming writer of an uncompressed, 64-byte-aligned zip archive.
pub struct ZipWriter<W: Write> {
    w: W,
    at: u64,
    entries: Vec<Entry>,
    force_zip64: bool,
}

impl<W: Write> ZipWriter<W> {
    /// Start an archive on `w`; `force_zip64` writes zip64 records even when not needed.
    pub fn new(w: W, force_zip64: bool) -> Self {
        ZipWriter {
            w,
            at: 0,
            entries: Vec::new(),
            force_zip64,
        }
    }

    /// Add one stored entry whose data starts on a 64-byte boundary.
    pub fn add(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        let size = data.len() as u64;
        let crc = crc32fast::hash(data);
        let zip64 = self.force_zip64 || size >= ZIP32_MAX || self.at >= ZIP32_MAX;
        let z64_len: u64 = if zip64 { 20 } else { 0 };
        let fixed = self.at + 30 + name.len() as u64 + z64_len + 4;
        let pad = (ALIGN - fixed % ALIGN) % ALIGN;
        let extra_len = z64_len + 4 + pad;
        let mut h = Vec::with_capacity(30 + name.len() + extra_len as usize);
        put32(&mut h, LOCAL_SIG);
        put16(&mut h, if zip64 { 45 } else { 20 });
        put16(&mut h, 0); // flags
        put16(&mut h, 0); // stored
        put16(&mut h, 0); // time
        put16(&mut h, DOS_DATE);
        put32(&mut h, crc);
        let small = if zip64 { ZIP32_MAX as u32 } else { size as u32 };
        put32(&mut h, small);
        put32(&mut h, small);
        put16(&mut h, name.len() as u16);
        put16(&mut h, extra_len as u16);
        h.extend_from_slice(name.as_bytes());
        if zip64 {
            put16(&mut h, 1);
            put16(&mut h, 16);
            put64(&mut h, size);
            put64(&mut h, size);
        }
        put16(&mut h, PAD_ID);
        put16(&mut h, pad as u16);
        h.resize(h.len() + pad as usize, 0);
        self.w.write_all(&h)?;
        self.w.write_all(data)?;
        self.entries.push(Entry {
            name: name.to_owned(),
            crc,
            size,
            offset: self.at,
        });
        self.at += h.len() as u64 + size;
        Ok(())
    }

    /// Write the central directory and the end records; returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        let cd_start = self.at;
        let mut cd = Vec::new();
        for e in &self.entries {
            let zip64 = self.force_zip64 || e.size >= ZIP32_MAX || e.offset >= ZIP32_MAX;
            put32(&mut cd, CENTRAL_SIG);
            put16(&mut cd, 45); // made by (version 4.5, MS-DOS)
            put16(&mut cd, if zip64 { 45 } else { 20 });
            put16(&mut cd, 0);
            put16(&mut cd, 0);
            put16(&mut cd, 0);
            put16(&mut cd, DOS_DATE);
            put32(&mut cd, e.crc);
            let (size, offset) = if zip64 {
                (ZIP32_MAX as u32, ZIP32_MAX as u32)
            } else {
                (e.size as u32, e.offset as u32)
            };
            put32(&mut cd, size);
            put32(&mut cd, size);
            put16(&mut cd, e.name.len() as u16);
            put16(&mut cd, if zip64 { 28 } else { 0 });
            put16(&mut cd, 0); // comment
            put16(&mut cd, 0); // disk
            put16(&mut cd, 0); // internal attributes
            put32(&mut cd, 0); // external attributes
            put32(&mut cd, offset);
            cd.extend_from_slice(e.name.as_bytes());
            if zip64 {
                put16(&mut cd, 1);
                put16(&mut cd, 24);
                put64(&mut cd, e.size);
                put64(&mut cd, e.size);
                put64(&mut cd, e.offset);
            }
        }
        self.w.write_all(&cd)?;
        let cd_len = cd.len() as u64;
        let n = self.entries.len() as u64;
        let mut end = Vec::new();
        let zip64 = self.force_zip64 || cd_start + cd_len >= ZIP32_MAX || n >= 0xFFFF;
        if zip64 {
            let eocd64_at = cd_start + cd_len;
            put32(&mut end, EOCD64_SIG);
            put64(&mut end, 44);
            put16(&mut end, 45);
            put16(&mut end, 45);
            put32(&mut end, 0);
            put32(&mut end, 0);
            put64(&mut end, n);
            put64(&mut end, n);
            put64(&mut end, cd_len);
            put64(&mut end, cd_start);
            put32(&mut end, EOCD64_LOCATOR_SIG);
            put32(&mut end, 0);
            put64(&mut end, eocd64_at);
            put32(&mut end, 1);
        }
        put32(&mut end, EOCD_SIG);
        put16(&mut end, 0);
        put16(&mut end, 0);
        let n16 = if zip64 { 0xFFFF } else { n as u16 };
        put16(&mut end, n16);
        put16(&mut end, n16);
        put32(&mut end, if zip64 { ZIP32_MAX as u32 } else { cd_len as u32 });
        put32(&mut end, if zip64 { ZIP32_MAX as u32 } else { cd_start as u32 });
        put16(&mut end, 0);
        self.w.write_all(&end)?;
        self.w.flush()?;
        Ok(self.w)
    }
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}
fn put64(v: &mut Vec<u8>, x: u64) {
    v.extend_from_slice(&x.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_use_the_smallest_opcode() {
        let mut p = Pickle {
            out: Vec::new(),
            memo: 0,
        };
        for v in [0u64, 255, 256, 65_535, 65_536, 0x7fff_ffff, 0x8000_0000, u64::MAX] {
            p.int(v);
        }
        let want: &[u8] = b"K\x00K\xffM\x00\x01M\xff\xffJ\x00\x00\x01\x00J\xff\xff\xff\x7f\
            \x8a\x05\x00\x00\x00\x80\x00\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\x00";
        assert_eq!(p.out, want);
    }

    #[test]
    fn entries_are_aligned_and_indexed() {
        for force in [false, true] {
            let mut z = ZipWriter::new(Vec::new(), force);
            z.add("archive/data.pkl", b"\x80\x02}.").unwrap();
            z.add("archive/data/0", &[7u8; 100]).unwrap();
            let out = z.finish().unwrap();
            // Find each local header and check its data offset.
            let mut at = 0usize;
            let mut seen = 0;
            while out[at..].starts_with(&LOCAL_SIG.to_le_bytes()) {
                let n = u16::from_le_bytes([out[at + 26], out[at + 27]]) as usize;
                let e = u16::from_le_bytes([out[at + 28], out[at + 29]]) as usize;
                let data = at + 30 + n + e;
                assert_eq!(data % 64, 0, "zip64 {force}");
                let size = if seen == 0 { 4 } else { 100 };
                at = data + size;
                seen += 1;
            }
            assert_eq!(seen, 2);
            assert!(out.ends_with(&[0, 0]));
            assert_eq!(out[out.len() - 22..out.len() - 18], EOCD_SIG.to_le_bytes());
        }
    }

    #[test]
    fn pickle_shape_and_strides() {
        let p = state_dict_pickle(&[("a".into(), vec![2, 3]), ("b".into(), vec![])]);
        let s = String::from_utf8_lossy(&p);
        assert!(s.contains("torch._utils\n_rebuild_tensor_v2\n"));
        assert!(s.contains("torch\nFloatStorage\n"));
        // shape (2, 3) then strides (3, 1) as TUPLE2, each memoized (BINPUT)
        assert!(
            p.windows(12)
                .any(|w| w[..5] == *b"K\x02K\x03\x86" && w[5] == b'q' && w[7..] == *b"K\x03K\x01\x86")
        );
        assert_eq!(contiguous_strides(&[4, 5, 6]), vec![30, 6, 1]);
    }

    /// The `data.pkl` of real `torch.save` files (the committed shards, made by
    /// `samples/make_samples.py` with torch) is what this writer writes for the same names and
    /// shapes, byte for byte.
    #[test]
    fn the_pickle_is_torch_saves_own() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/sharded-bin");
        for shard in ["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"] {
            let path = dir.join(shard);
            let bytes = std::fs::read(&path).unwrap();
            let file = crate::formats::pickle::torch::read(&path, &bytes).unwrap();
            let archive = crate::formats::pickle::zip::read(&bytes).unwrap();
            let top = file.top.as_deref().unwrap();
            let pkl = archive.find(&format!("{top}/data.pkl")).next().unwrap();
            let real = crate::formats::pickle::zip::content(&bytes, pkl, u64::MAX).unwrap();
            let named: Vec<(String, Vec<u64>)> =
                file.tensors.iter().map(|t| (t.name.clone(), t.shape.clone())).collect();
            assert!(named.len() > 3, "{shard}");
            assert_eq!(state_dict_pickle(&named), *real, "{shard}");
        }
    }
}
