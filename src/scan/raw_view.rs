//! The raw bytes of a compressed file, read as the pickle loaders that do not decompress it read
//! them. `pickle.load`, `torch.load` (whatever the file's name) and `joblib.load` (which sniffs only
//! the magic numbers it knows) unpickle a file's bytes as they are; the compression is opened only
//! by loaders that sniff or name it. Two such readings of one file can both be real: a zstd
//! skippable frame starts with `56 2a 4d 18`, and `0x56` is the opcode `V` (a text line); an LZMA
//! "alone" header that a `.tar` or `.xz` name makes the scan open starts with a properties byte that
//! can be `I` (an integer line). Both views are scanned, as elsewhere where loaders disagree.
//!
//! What counts as a raw pickle: one that names a global (of a name Python could import, or in a
//! pickle that reaches STOP), one with a hazard (an allocation or memo asked for), or a walk that
//! stopped at one of the walker's own limits where CPython reads on. A raw view that breaks before
//! any of these runs nothing: CPython raises at the same opcode. Every real compressed file breaks
//! at once: zstd's `28 b5` is MARK and then no opcode, gzip's `1f`, xz's `fd`, zlib's `78` and LZ4's
//! `04` are no opcodes, LZMA's usual `5d 00` is EMPTY_LIST and then none, bzip2's `BZh9` asks for
//! more bytes than the file holds. A complete raw pickle that names nothing runs nothing either (a
//! loader gets a string or a number back instead of a model, and `torch.load` refuses its magic
//! number), so it does not count on its own.

use super::walk::{self, How, Mode, Stream};
use super::{Collector, FileScan, ScanOptions, Severity, loaders};

/// Where the findings of the decompressed view are listed when the raw view counts too.
fn opened_entry(format: &str) -> String {
    let layer = format.split('/').next().unwrap_or(format);
    format!("(as the {layer} data opens)")
}

/// The raw bytes' pickles, when they reach anything (see the module's rules).
fn reached(data: &[u8]) -> Option<Stream<'_>> {
    let s = walk::walk_stream(data, Mode::Probe);
    let names = s
        .pickles
        .iter()
        .any(|p| p.globals.iter().any(|g| g.how != How::Extension) || !p.hazards.is_empty());
    let limit = s.errors.iter().any(|e| walk::is_limit(&e.msg));
    (names || limit).then_some(s)
}

/// `opened`, the scan of a compressed file's decompressed bytes, with the raw bytes' pickles
/// beside it when they reach anything; otherwise `opened` as it is.
pub(super) fn both(opts: &ScanOptions, path: String, data: &[u8], mut opened: FileScan) -> FileScan {
    let Some(raw) = reached(data) else {
        return opened;
    };
    let mut c = Collector::new(opts);
    let mark = c.mark();
    c.stream("", 0, &raw);
    let layer = opened.format.split('/').next().unwrap_or("compressed").to_owned();
    let why = format!(
        "the {layer} file's raw bytes are also a pickle, which pickle.load, torch.load and joblib.load read as \
         they are, without decompressing them (the raw and the decompressed bytes were both scanned)"
    );
    c.problem("", Some(0), Severity::Suspicious, why);
    c.loaders_since(mark, &[loaders::PICKLE, loaders::TORCH_FULL, loaders::JOBLIB]);
    loaders::assign(&mut opened);
    let format = opened.format.clone();
    c.absorb(&opened_entry(&format), opened);
    c.finish(path, &format)
}

#[cfg(test)]
mod tests {
    use crate::scan::{Verdict, scan_bytes};

    /// A zstd frame of one raw block holding `data` (under 256 bytes).
    fn zstd_frame(data: &[u8]) -> Vec<u8> {
        let block = ((data.len() as u32) << 3) | 1;
        let mut f = vec![0x28, 0xb5, 0x2f, 0xfd, 0x20, data.len() as u8];
        f.extend(&block.to_le_bytes()[..3]);
        f.extend(data);
        f
    }

    fn skippable(magic: u8, content: &[u8]) -> Vec<u8> {
        let mut f = vec![magic, 0x2a, 0x4d, 0x18];
        f.extend((content.len() as u32).to_le_bytes());
        f.extend(content);
        f
    }

    #[test]
    fn raw_bytes_that_unpickle_are_scanned_beside_the_decompressed_ones() {
        let benign = b"\x80\x02}q\x00X\x01\x00\x00\x00aK\x01s.";
        let frame = zstd_frame(benign);
        // pzstd's skippable frame (the next frame's size), under every skippable magic: raw bytes
        // that break before naming anything are no finding
        for magic in 0x50..=0x5f {
            for content in [&(frame.len() as u32).to_le_bytes()[..], b"\n0\n\x00\xff\xfe"] {
                let file = [skippable(magic, content), frame.clone()].concat();
                let scan = scan_bytes("x.zst", &file);
                assert_eq!(scan.verdict, Verdict::Safe, "{magic:#x}: {:?}", scan.findings);
            }
        }
        // `V` reads a line: the skipped content ends it, pops it, and holds a payload
        let evil = b"\n0cposix\nsystem\n(S'true'\ntR.";
        let scan = scan_bytes("x.bin", &[skippable(0x56, evil), frame.clone()].concat());
        assert_eq!(scan.verdict, Verdict::Dangerous, "{:?}", scan.findings);
        assert_eq!(scan.format, "zstd/pickle");
        assert!(
            scan.findings
                .iter()
                .any(|f| f.entry.is_empty() && f.global.as_deref() == Some("posix.system"))
        );
        // only allowlisted globals reached raw: still not safe (no real compressed file does that)
        let odd = b"\n0ccollections\nOrderedDict\n)R.";
        let scan = scan_bytes("x.bin", &[skippable(0x56, odd), frame].concat());
        assert_eq!(scan.verdict, Verdict::Suspicious, "{:?}", scan.findings);
    }

    #[test]
    fn a_put_line_longer_than_16_mib_is_read_to_its_end() {
        // `p`, 16 MiB of spaces, `0\n` (CPython's int() skips the spaces): PUT 0, then POP and a payload,
        // alone and as a torch zip's data.pkl
        let mut content = b"\np".to_vec();
        content.resize(content.len() + (16 << 20) + 1, b' ');
        content.extend(b"0\n0cposix\nsystem\n(S'true'\ntR.");
        let file = [
            skippable(0x56, &content),
            zstd_frame(b"\x80\x02}q\x00X\x01\x00\x00\x00aK\x01s."),
        ]
        .concat();
        let scan = scan_bytes("x.bin", &file);
        assert_eq!(scan.verdict, Verdict::Dangerous, "{:?}", scan.findings);
        let zip = crate::scan::tests::zip_of(&[("archive/data.pkl", &file), ("archive/version", b"3\n")]);
        let scan = scan_bytes("x.pt", &zip);
        assert_eq!(scan.verdict, Verdict::Dangerous, "{:?}", scan.findings);
    }
}
