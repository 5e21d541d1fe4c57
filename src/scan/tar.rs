//! Tar archives as `torch.load` meets them: before its legacy pickle reader, `torch.load` (on a real
//! file) hands the file to Python's `tarfile` and, when that opens it, unpickles the members
//! `storages`, `tensors` and `pickle` (the pre-0.4 format). Whether `tarfile` opens a file is
//! decided by the first header's checksum alone (no `ustar` magic needed: V7 tars count), so a
//! legacy `torch.save` file can be a tar too. Every member is scanned, and the whole file is also
//! probed as a pickle (what `pickle.load` would read).

use std::collections::HashMap;

use super::walk::{self, Mode};
use super::{Collector, FileScan, Severity};

const BLOCK: usize = 512;

/// Most tar members walked; more make the file suspicious.
pub const MAX_MEMBERS: usize = 100_000;

/// `nti()` of Python's tarfile: a NUL- or space-terminated octal field, or base-256.
fn number(field: &[u8]) -> Option<u64> {
    let first = *field.first()?;
    if first == 0o200 || first == 0o377 {
        let mut n: i128 = 0;
        for &b in &field[1..] {
            n = n.checked_mul(256)?.checked_add(i128::from(b))?;
        }
        if first == 0o377 {
            n -= 256i128.checked_pow(field.len() as u32 - 1)?;
        }
        return u64::try_from(n).ok();
    }
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let text = std::str::from_utf8(&field[..end]).ok()?;
    let t = text.trim_matches(|c: char| c.is_ascii_whitespace());
    if t.is_empty() {
        return Some(0);
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let t = t.strip_prefix("0o").unwrap_or(t);
    if t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    u64::from_str_radix(&t.replace('_', ""), 8).ok()
}

/// Whether Python's `tarfile` accepts `block` as a header: not all zeros and a matching checksum
/// (the unsigned or the signed sum, as `calc_chksums` allows).
fn header_ok(block: &[u8]) -> bool {
    if block.len() < BLOCK || block.iter().all(|&b| b == 0) {
        return false;
    }
    let Some(want) = number(&block[148..156]) else {
        return false;
    };
    let mut unsigned: i64 = 256;
    let mut signed: i64 = 256;
    for (i, &b) in block[..BLOCK].iter().enumerate() {
        if (148..156).contains(&i) {
            continue;
        }
        unsigned += i64::from(b);
        signed += i64::from(b as i8);
    }
    i64::try_from(want).is_ok_and(|w| w == unsigned || w == signed)
}

/// Whether Python's `tarfile.open(mode="r:")` opens `data`.
pub(in crate::scan) fn is_tar(data: &[u8]) -> bool {
    data.get(..BLOCK).is_some_and(header_ok)
}

/// A member: name, data offset, size.
struct Member {
    name: String,
    offset: usize,
    size: usize,
}

fn members(data: &[u8], problems: &mut Vec<String>) -> Vec<Member> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut long_name: Option<String> = None;
    while let Some(block) = data.get(pos..pos + BLOCK) {
        if !header_ok(block) {
            break;
        }
        if out.len() >= MAX_MEMBERS {
            problems.push(format!("more than {MAX_MEMBERS} members"));
            break;
        }
        let Some(size) = number(&block[124..136]).and_then(|s| usize::try_from(s).ok()) else {
            problems.push(format!("member at {pos}: size field is not a number"));
            break;
        };
        let start = pos + BLOCK;
        let Some(end) = start.checked_add(size).filter(|&e| e <= data.len()) else {
            problems.push(format!("member at {pos}: {size} bytes run past the end of the file"));
            break;
        };
        let cut = |b: &[u8]| {
            let e = b.iter().position(|&x| x == 0).unwrap_or(b.len());
            String::from_utf8_lossy(&b[..e]).into_owned()
        };
        let mut name = cut(&block[..100]);
        if &block[257..263] == b"ustar\0" {
            let prefix = cut(&block[345..500]);
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        let kind = block[156];
        match kind {
            // GNU long name: the next member's name is this member's data
            b'L' => long_name = Some(cut(&data[start..end])),
            // pax headers and other metadata carry no pickle for torch
            b'x' | b'g' | b'K' => {}
            _ => {
                let name = long_name.take().unwrap_or(name);
                out.push(Member {
                    name,
                    offset: start,
                    size,
                });
            }
        }
        pos = end.div_ceil(BLOCK) * BLOCK;
    }
    out
}

/// Scan a file that Python's tarfile opens: every member, and the whole file as a pickle probe.
pub(in crate::scan) fn tar(mut c: Collector, path: String, data: &[u8]) -> FileScan {
    let mut problems = Vec::new();
    let list = members(data, &mut problems);
    for p in problems {
        c.problem("", None, Severity::Suspicious, format!("tar archive: {p}"));
    }
    let mut last: HashMap<&str, usize> = HashMap::new();
    for (i, m) in list.iter().enumerate() {
        if let Some(prev) = last.insert(m.name.as_str(), i) {
            let why = "another member has the same name: tarfile loads the last one (each is scanned)";
            c.problem(
                &list[prev].name,
                Some(list[prev].offset as u64),
                Severity::Suspicious,
                why,
            );
        }
    }
    let torch = list.iter().any(|m| m.name == "pickle");
    for m in &list {
        let body = &data[m.offset..m.offset + m.size];
        if body.is_empty() {
            continue;
        }
        // torch unpickles `pickle` and `tensors` whole; `storages` interleaves pickles with raw data
        let mode = match m.name.as_str() {
            "pickle" | "tensors" => Mode::Strict,
            _ => Mode::Probe,
        };
        c.stream(&m.name, m.offset as u64, &walk::walk_stream(body, mode));
    }
    // what pickle.load (or torch.load on an in-memory stream, which skips the tar reader) reads
    c.stream("whole file as a pickle", 0, &walk::walk_stream(data, Mode::Probe));
    let why = if torch {
        "a tar archive: torch.load unpickles its `storages`, `tensors` and `pickle` members (torch before 0.4)"
    } else {
        "a tar archive: torch.load would open it with its pre-0.4 tar reader; every member was probed"
    };
    if !torch {
        c.problem("", Some(0), Severity::Suspicious, why);
    }
    c.finish(path, if torch { "pytorch-tar" } else { "tar" })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn tar_of(members: &[(&str, &[u8])], ustar: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, body) in members {
            let mut h = [0u8; BLOCK];
            h[..name.len()].copy_from_slice(name.as_bytes());
            h[100..108].copy_from_slice(b"0000644\0");
            h[124..136].copy_from_slice(format!("{:011o}\0", body.len()).as_bytes());
            h[156] = b'0';
            if ustar {
                h[257..263].copy_from_slice(b"ustar\0");
            }
            h[148..156].copy_from_slice(b"        ");
            let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
            h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
            out.extend_from_slice(&h);
            out.extend_from_slice(body);
            out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
        }
        out.resize(out.len() + 2 * BLOCK, 0);
        out
    }

    #[test]
    fn v7_and_ustar_headers_open_and_members_are_listed() {
        for ustar in [false, true] {
            let t = tar_of(&[("storages", b"x"), ("pickle", b"cposix\nsystem\n.")], ustar);
            assert!(is_tar(&t));
            let mut p = Vec::new();
            let m = members(&t, &mut p);
            assert_eq!(
                m.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
                ["storages", "pickle"]
            );
            assert!(p.is_empty());
        }
        let mut bad = tar_of(&[("a", b"x")], true);
        bad[0] = b'b';
        assert!(!is_tar(&bad));
        assert!(!is_tar(&[0u8; 1024]));
        assert_eq!(number(b"0000644\0"), Some(0o644));
        assert_eq!(number(b"  17 \0\0\0"), Some(0o17));
        assert_eq!(number(b"\x80\0\0\0\0\0\x01\x00"), Some(256));
        assert_eq!(number(b"9"), None);
    }
}
