//! Tar archives as `torch.load` meets them: before its legacy pickle reader, `torch.load` (on a real
//! file) hands the file to Python's `tarfile` and, when that opens it, unpickles the members
//! `storages`, `tensors` and `pickle` (the pre-0.4 format). Whether `tarfile` opens a file is
//! decided by the first header's checksum alone (no `ustar` magic needed: V7 tars count), so a
//! legacy `torch.save` file can be a tar too. Every member is scanned, and the whole file is also
//! probed as a pickle (what `pickle.load` would read).

use std::collections::HashMap;

use super::walk::{self, Mode};
use super::{Collector, FileScan, Severity};

mod interleaved;
mod links;

pub(super) use interleaved::MAX_RESUMES;
use interleaved::{interleaved, storage_raw, tensor_raw};

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
    /// A GNU sparse member (type `S`, or `GNU.sparse.*` pax records): tarfile rebuilds its data
    /// from a map; torch never writes one.
    sparse: bool,
    /// A hard link (type `1`) or symbolic link (type `2`): its target's name and whether it is
    /// symbolic. `tarfile` extracts the target's data under the link's name (see [`links`]).
    link: Option<(String, bool)>,
}

/// Where a GNU sparse 1.0 member's data starts, as `tarfile._proc_gnusparse_10` reads it: a map of
/// decimal lines (a count, then an offset and a size per chunk) at the start of the member's data,
/// padded to a whole block. `None` when the map cannot be read.
fn sparse_10_data(body: &[u8]) -> Option<usize> {
    let mut lines = body.split(|&b| b == b'\n');
    let mut used = 0usize;
    let mut number = |lines: &mut std::slice::Split<'_, u8, _>| -> Option<u64> {
        let l = lines.next()?;
        used = used.checked_add(l.len() + 1)?;
        std::str::from_utf8(l).ok()?.trim().parse().ok()
    };
    let n = number(&mut lines)?;
    for _ in 0..n.checked_mul(2)?.min(MAX_SPARSE_CHUNKS * 2) {
        number(&mut lines)?;
    }
    (used <= body.len()).then(|| used.div_ceil(BLOCK) * BLOCK)
}

/// Most chunks of a sparse map read (the scan looks only for where the data starts).
const MAX_SPARSE_CHUNKS: u64 = 1 << 16;

/// Header types Python's `tarfile` knows (`SUPPORTED_TYPES`); members of other types are read as
/// regular files.
const SUPPORTED: &[u8] = b"0\x0001234567LKSxgX";

/// The records of a pax extended header (`"%d %s=%s\n"`), as `tarfile._proc_pax` splits them.
fn pax_records(body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let rest = &body[pos..];
        let Some(sp) = rest.iter().position(|&b| b == b' ') else {
            break;
        };
        let Some(len) = std::str::from_utf8(&rest[..sp])
            .ok()
            .and_then(|t| t.parse::<usize>().ok())
        else {
            break;
        };
        if len <= sp + 1 || len > rest.len() {
            break;
        }
        let record = &rest[sp + 1..len];
        let record = record.strip_suffix(b"\n").unwrap_or(record);
        if let Some(eq) = record.iter().position(|&b| b == b'=') {
            let key = String::from_utf8_lossy(&record[..eq]).into_owned();
            out.push((key, record[eq + 1..].to_vec()));
        }
        pos += len;
    }
    out
}

/// The members as Python's `tarfile` lists them: GNU long names, and pax extended headers (`x`, for
/// the next member; `g`, global, for every later one) whose `path` renames and whose `size` resizes
/// a member. A local `size` also moves the next header, as `_proc_pax` recomputes the offset; a
/// global one changes only what is read.
fn members(data: &[u8], problems: &mut Vec<String>) -> Vec<Member> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut long_name: Option<String> = None;
    let mut long_link: Option<String> = None;
    let mut local: Vec<(String, Vec<u8>)> = Vec::new();
    let mut global: HashMap<String, Vec<u8>> = HashMap::new();
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
        let kind = block[156];
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
        // a header's own data blocks: regular files and unknown types carry data, the others none
        // (except the metadata types, whose data is what they say)
        let meta = matches!(kind, b'L' | b'K' | b'x' | b'g' | b'X');
        let carries = meta || matches!(kind, b'0' | 0 | b'7' | b'S') || !SUPPORTED.contains(&kind);
        let own = if carries { size } else { 0 };
        let Some(end) = start.checked_add(own).filter(|&e| e <= data.len()) else {
            problems.push(format!("member at {pos}: {size} bytes run past the end of the file"));
            break;
        };
        match kind {
            // GNU long name: the next member's name is this member's data
            b'L' => long_name = Some(cut(&data[start..end])),
            b'x' | b'X' => local = pax_records(&data[start..end]),
            b'g' => global.extend(pax_records(&data[start..end])),
            // GNU long link name: the next member's link target
            b'K' => long_link = Some(cut(&data[start..end])),
            _ => {
                // global records first, then the local ones override them (later records win)
                let mut pax: HashMap<&str, &[u8]> = global.iter().map(|(k, v)| (k.as_str(), v.as_slice())).collect();
                for (k, v) in &local {
                    pax.insert(k.as_str(), v.as_slice());
                }
                let mut name = long_name.take().unwrap_or(name);
                let mut link_name = long_link.take().unwrap_or_else(|| cut(&block[157..257]));
                // tarfile applies the records in order (the global ones first), and
                // `GNU.sparse.name` renames as `path` does
                for (k, v) in global.iter().chain(local.iter().map(|(k, v)| (k, v))) {
                    if k == "path" || k == "GNU.sparse.name" {
                        name = String::from_utf8_lossy(v).into_owned();
                    } else if k == "linkpath" {
                        link_name = String::from_utf8_lossy(v).into_owned();
                    }
                }
                let sparse = kind == b'S' || pax.keys().any(|k| k.starts_with("GNU.sparse."));
                let sparse_10 = pax.get("GNU.sparse.major").is_some_and(|v| v.trim_ascii() == b"1")
                    && pax.get("GNU.sparse.minor").is_some_and(|v| v.trim_ascii() == b"0");
                let mut member_size = own;
                let mut next = end;
                if let Some(v) = pax.get("size") {
                    let Some(n) = std::str::from_utf8(v).ok().and_then(|t| t.trim().parse::<usize>().ok()) else {
                        problems.push(format!(
                            "member at {pos}: pax size {:?} is not a number",
                            String::from_utf8_lossy(v)
                        ));
                        break;
                    };
                    member_size = n;
                    if local.iter().any(|(k, _)| k == "size") && carries {
                        next = start.saturating_add(n);
                    }
                }
                local.clear();
                let Some(stop) = start.checked_add(member_size).filter(|&e| e <= data.len()) else {
                    problems.push(format!(
                        "member {name:?} at {pos}: {member_size} bytes run past the end of the file"
                    ));
                    break;
                };
                // a sparse 1.0 member's data follows its map
                let skip = if sparse_10 {
                    sparse_10_data(&data[start..stop]).unwrap_or(0)
                } else {
                    0
                };
                out.push(Member {
                    name,
                    offset: start + skip,
                    size: stop - start - skip,
                    sparse,
                    link: matches!(kind, b'1' | b'2').then(|| (link_name, kind == b'2')),
                });
                pos = next.div_ceil(BLOCK) * BLOCK;
                continue;
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
    for m in list.iter().filter(|m| m.sparse) {
        let why = "a GNU sparse member (torch never writes one): tarfile rebuilds its data from a map, \
                   with holes the scan does not fill in; its stored data was scanned";
        c.problem(&m.name, Some(m.offset as u64), Severity::Suspicious, why);
    }
    for (i, m) in list.iter().enumerate() {
        let bodies = if m.link.is_some() {
            linked(&mut c, &list, i)
        } else {
            vec![(m.offset, m.size)]
        };
        for (offset, size) in bodies {
            member(&mut c, &m.name, offset, &data[offset..offset + size]);
        }
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

/// Walk one member's data (`offset` in the file) as torch reads a member of its name: `pickle`
/// whole; `storages` and `tensors` interleave pickles with raw data, which torch reads past by the
/// sizes the pickles give; any other member is probed.
fn member(c: &mut Collector, name: &str, offset: usize, body: &[u8]) {
    if body.is_empty() {
        return;
    }
    match name {
        "storages" => interleaved(c, name, offset, body, storage_raw),
        "tensors" => interleaved(c, name, offset, body, tensor_raw),
        "pickle" => c.stream(name, offset as u64, &walk::walk_stream(body, Mode::Strict)),
        _ => c.stream(name, offset as u64, &walk::walk_stream(body, Mode::Probe)),
    }
}

/// The data (offset, size) that link member `i` stands for, when torch reads a member of its name
/// (another link's target is probed under its own name): said, since torch never writes a link.
fn linked(c: &mut Collector, list: &[Member], i: usize) -> Vec<(usize, usize)> {
    let m = &list[i];
    if !TORCH_MEMBERS.contains(&m.name.as_str()) {
        return Vec::new();
    }
    let (targets, too_deep) = links::targets(list, i);
    let Some((target, symbolic)) = &m.link else {
        return Vec::new();
    };
    let kind = if *symbolic { "symbolic" } else { "hard" };
    if too_deep {
        let why = format!("a chain of links from this {kind} link is longer than the scan follows");
        c.problem(&m.name, Some(m.offset as u64), Severity::Suspicious, why);
    }
    if !targets.is_empty() {
        let why = format!(
            "a {kind} link to {target:?} (torch never writes one): tarfile gives torch that member's data as \
             {:?}, which was read as torch reads this member",
            m.name
        );
        c.problem(&m.name, Some(m.offset as u64), Severity::Suspicious, why);
    }
    targets.into_iter().map(|t| (list[t].offset, list[t].size)).collect()
}

/// The members torch's pre-0.4 reader reads.
const TORCH_MEMBERS: [&str; 3] = ["storages", "tensors", "pickle"];

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

    #[test]
    fn an_interleaved_member_goes_on_from_a_frame_end_too() {
        // `storages`: a count of 0 in a frame that runs past its STOP. Read on right after STOP, a
        // BINBYTES swallows the payload; torch.load on a file reads on from the frame's end.
        let evil = b"cposix\nsystem\n(S'true'\ntR.";
        let tail = [&b"\x80\x02B"[..], &(evil.len() as u32).to_le_bytes()].concat();
        let frame = [&b"K\x00."[..], &tail].concat();
        let mut body = b"\x80\x04\x95".to_vec();
        body.extend((frame.len() as u64).to_le_bytes());
        body.extend(&frame);
        body.extend(evil);
        body.extend(b"0.");
        let t = tar_of(&[("storages", &body), ("pickle", b"\x80\x02}.")], true);
        let scan = crate::scan::scan_bytes("x.tar", &t);
        assert!(
            scan.findings
                .iter()
                .any(|f| f.global.as_deref() == Some("posix.system") && f.severity == Severity::Dangerous),
            "{:?}",
            scan.findings
        );
    }
}
