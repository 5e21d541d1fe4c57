//! Tar headers read exactly as Python's `tarfile` reads them (3.11 to 3.13): `TarFile.next`,
//! `TarInfo.frombuf` (every number field through `nti`), and `_proc_member` with its recursion: a
//! GNU long name (`L`) or long link (`K`) and a pax header (`x`, `X`, `g`) each read the header
//! after them and patch it on the way back, so the first of them in the file is applied last. pax
//! records are split as the lenient parser of 3.11.9 and earlier splits them (`(\d+) ([^=]+)=`, the
//! record's last byte dropped whatever it is); later versions raise on any record that parser
//! reads differently, which only ends their listing earlier.

use std::collections::HashSet;

use super::Member;
use crate::formats::sniff::{py_int, tar_checksum_ok, tar_number as nti};

const BLOCK: usize = 512;

/// Most tar members walked; more make the file suspicious.
pub const MAX_MEMBERS: usize = 100_000;

/// Most headers that patch the next one (`L`, `K`, `x`, `g`) read in a row; Python's recursion
/// limit stops it somewhere past 300.
const MAX_NESTED: usize = 64;

/// `tarfile`'s `SUPPORTED_TYPES`; members of other types are read as regular files.
const SUPPORTED: &[u8] = b"0\x0001234567LKSxgX";

/// Why reading a header stopped, as `TarFile.next` sees it.
enum Stop {
    /// No more bytes, part of a block, or a block of zeros: the end of the archive.
    End,
    /// `InvalidHeaderError`: the listing ends there (`tarfile.open` fails at the first header).
    Invalid(String),
    /// A header after `L`, `K` or a pax header failed, or a number could not be read where tarfile
    /// raises: `ReadError`, and `torch.load` fails.
    Raises(String),
}

/// A `TarInfo` as `_proc_member` leaves it.
struct Info {
    name: String,
    linkname: String,
    kind: u8,
    size: i128,
    offset_data: usize,
    /// Where `TarFile.next` reads the next header.
    next: i128,
    sparse: bool,
}

impl Info {
    fn isreg(&self) -> bool {
        matches!(self.kind, b'0' | 0 | b'7' | b'S')
    }

    /// Whether the member's data blocks follow its header.
    fn carries(&self) -> bool {
        self.isreg() || !SUPPORTED.contains(&self.kind)
    }
}

/// `TarInfo._block`: `n` rounded up to whole blocks (Python's floor division for a negative `n`).
fn block(n: i128) -> i128 {
    let b = BLOCK as i128;
    n.div_euclid(b) * b + if n.rem_euclid(b) != 0 { b } else { 0 }
}

/// `nts`: the bytes up to the first NUL, as text.
fn nts(b: &[u8]) -> String {
    let e = b.iter().position(|&x| x == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..e]).into_owned()
}

/// The bytes `read(n)` gives at `pos` (fewer at the end of the file, none for `n <= 0`).
fn read(data: &[u8], pos: usize, n: i128) -> &[u8] {
    let end = usize::try_from(n.max(0)).map_or(data.len(), |n| pos.saturating_add(n).min(data.len()));
    data.get(pos.min(data.len())..end).unwrap_or_default()
}

struct Reader<'a> {
    data: &'a [u8],
    /// `TarFile.pax_headers`: the global records so far, in insertion order.
    global: Vec<(String, Vec<u8>)>,
}

impl Reader<'_> {
    /// `fromtarfile` at `pos`: `frombuf`, then `_proc_member`.
    fn header(&mut self, pos: usize, depth: usize) -> Result<Info, Stop> {
        let Some(buf) = self.data.get(pos..pos + BLOCK) else {
            return Err(Stop::End);
        };
        if buf.iter().all(|&b| b == 0) {
            return Err(Stop::End);
        }
        let bad = |what: &str| Stop::Invalid(format!("header at {pos}: {what}"));
        if !tar_checksum_ok(buf) {
            return Err(bad("bad checksum"));
        }
        let num = |r: std::ops::Range<usize>| nti(&buf[r]).ok_or_else(|| bad("a number field tarfile refuses"));
        for r in [100..108, 108..116, 116..124, 136..148, 329..337, 337..345] {
            num(r)?;
        }
        let size = num(124..136)?;
        let mut kind = buf[156];
        let mut name = nts(&buf[..100]);
        let linkname = nts(&buf[157..257]);
        let prefix = nts(&buf[345..500]);
        if kind == 0 && name.ends_with('/') {
            kind = b'5';
        }
        let mut ext = 0usize;
        if kind == b'S' {
            for i in 0..4 {
                num(386 + 24 * i..398 + 24 * i)?;
                num(398 + 24 * i..410 + 24 * i)?;
            }
            num(483..495)?;
            // extension blocks of 21 more entries each, while the flag byte says so
            let mut more = buf[482] != 0;
            while more {
                let at = pos + BLOCK * (1 + ext);
                let b = read(self.data, at, BLOCK as i128);
                for i in 0..21 {
                    if b.len() >= 24 * i + 24
                        && (nti(&b[24 * i..24 * i + 12]).is_none() || nti(&b[24 * i + 12..24 * i + 24]).is_none())
                    {
                        return Err(bad("a sparse map entry tarfile refuses"));
                    }
                }
                ext += 1;
                more = b.get(504).is_some_and(|&f| f != 0);
                if ext > MAX_NESTED {
                    return Err(Stop::Raises(format!(
                        "header at {pos}: more than {MAX_NESTED} sparse blocks"
                    )));
                }
            }
        }
        if kind == b'5' {
            name = name.trim_end_matches('/').to_owned();
        }
        if !prefix.is_empty() && !matches!(kind, b'L' | b'K' | b'S') {
            name = format!("{prefix}/{name}");
        }
        let start = pos + BLOCK * (1 + ext);
        let mut info = Info {
            name,
            linkname,
            kind,
            size,
            offset_data: start,
            next: 0,
            sparse: kind == b'S',
        };
        match kind {
            b'L' | b'K' => self.gnulong(info, start, depth),
            b'x' | b'X' | b'g' => self.pax(info, start, depth),
            _ => {
                // `_proc_builtin` (`_proc_sparse` keeps the size of the data stored)
                info.next = start as i128 + if info.carries() { block(size) } else { 0 };
                // `_proc_sparse` applies no pax records
                if kind != b'S' {
                    let global = self.global.clone();
                    apply_pax(&mut info, &global, pos)?;
                }
                if info.kind == b'5' {
                    info.name = info.name.trim_end_matches('/').to_owned();
                }
                Ok(info)
            }
        }
    }

    /// The header after `at`, where one must follow (`SubsequentHeaderError` raises).
    fn subsequent(&mut self, at: i128, depth: usize) -> Result<Info, Stop> {
        if depth >= MAX_NESTED {
            return Err(Stop::Raises(format!(
                "more than {MAX_NESTED} headers patch the one after them"
            )));
        }
        let Ok(at) = usize::try_from(at) else {
            return Err(Stop::Raises("a header size tarfile reads as negative".into()));
        };
        self.header(at, depth + 1).map_err(|e| match e {
            Stop::End => Stop::Raises(format!("no header after the one before {at}")),
            Stop::Invalid(m) | Stop::Raises(m) => Stop::Raises(m),
        })
    }

    /// `_proc_gnulong`: the next header, renamed (or relinked) after it is read.
    fn gnulong(&mut self, info: Info, start: usize, depth: usize) -> Result<Info, Stop> {
        let text = nts(read(self.data, start, block(info.size)));
        let mut next = self.subsequent(start as i128 + block(info.size), depth)?;
        if info.kind == b'L' {
            next.name = text;
        } else {
            next.linkname = text;
        }
        if next.kind == b'5' {
            next.name = next.name.strip_suffix('/').map(str::to_owned).unwrap_or(next.name);
        }
        Ok(next)
    }

    /// `_proc_pax`: records for the next header (`x`, `X`) or for every later one (`g`).
    fn pax(&mut self, info: Info, start: usize, depth: usize) -> Result<Info, Stop> {
        let buf = read(self.data, start, block(info.size));
        let records = pax_records(buf).ok_or_else(|| Stop::Invalid(format!("pax header at {start}: length 0")))?;
        let local = info.kind != b'g';
        let mut headers = if local { self.global.clone() } else { Vec::new() };
        for (k, v) in records {
            let target = if local { &mut headers } else { &mut self.global };
            insert(target, k, v);
        }
        let mut next = self.subsequent(start as i128 + block(info.size), depth)?;
        let headers = if local { headers } else { self.global.clone() };
        let has = |k: &str| headers.iter().any(|(h, _)| h == k);
        if has("GNU.sparse.map") || has("GNU.sparse.size") {
            next.sparse = true;
        } else if get(&headers, "GNU.sparse.major") == Some(b"1") && get(&headers, "GNU.sparse.minor") == Some(b"0") {
            // `_proc_gnusparse_10`: the map of decimal lines at the start of the data, read by blocks
            next.sparse = true;
            let Some(skip) = sparse_10_map(&self.data[next.offset_data.min(self.data.len())..]) else {
                return Err(Stop::Raises(format!(
                    "pax header at {start}: a sparse map tarfile cannot read"
                )));
            };
            next.offset_data += skip;
        }
        if local {
            apply_pax(&mut next, &headers, start)?;
            if has("size") {
                next.next = next.offset_data as i128 + if next.carries() { block(next.size) } else { 0 };
            }
        }
        Ok(next)
    }
}

/// `dict[key] = value`: a key already there keeps its place.
fn insert(map: &mut Vec<(String, Vec<u8>)>, k: String, v: Vec<u8>) {
    match map.iter_mut().find(|(h, _)| *h == k) {
        Some(e) => e.1 = v,
        None => map.push((k, v)),
    }
}

fn get<'m>(map: &'m [(String, Vec<u8>)], k: &str) -> Option<&'m [u8]> {
    map.iter().find(|(h, _)| h == k).map(|(_, v)| v.as_slice())
}

/// `_apply_pax_info`, in the records' order.
fn apply_pax(info: &mut Info, headers: &[(String, Vec<u8>)], at: usize) -> Result<(), Stop> {
    let int = |v: &[u8]| std::str::from_utf8(v).ok().and_then(|t| py_int(t, 10));
    for (k, v) in headers {
        match k.as_str() {
            "GNU.sparse.name" => info.name = String::from_utf8_lossy(v).into_owned(),
            // int() unguarded: a ValueError leaves tarfile
            "GNU.sparse.size" | "GNU.sparse.realsize" => {
                info.size = int(v).ok_or_else(|| Stop::Raises(format!("pax header at {at}: {k} is no number")))?;
            }
            "path" => info.name = String::from_utf8_lossy(v).trim_end_matches('/').to_owned(),
            "linkpath" => info.linkname = String::from_utf8_lossy(v).into_owned(),
            "size" => info.size = int(v).unwrap_or(0),
            _ => {}
        }
    }
    Ok(())
}

/// The records of a pax header as `_proc_pax` (3.11.9 and earlier) splits them: at each position
/// `(\d+) ([^=]+)=`, the value up to the record's last byte (dropped whatever it is), the position
/// moved by the length; the first position that does not match ends them. `None` for a length of 0
/// (`InvalidHeaderError`).
fn pax_records(buf: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < buf.len() {
        let rest = &buf[pos..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || rest.get(digits) != Some(&b' ') {
            break;
        }
        let kw = digits + 1;
        let Some(eq) = rest[kw..].iter().position(|&b| b == b'=').map(|e| kw + e) else {
            break;
        };
        if eq == kw {
            break;
        }
        let length = rest[..digits]
            .iter()
            .try_fold(0usize, |n, &d| n.checked_mul(10)?.checked_add(usize::from(d - b'0')))
            .unwrap_or(usize::MAX);
        if length == 0 {
            return None;
        }
        let end = length.saturating_sub(1).min(rest.len());
        let value = rest.get(eq + 1..end).unwrap_or_default().to_vec();
        out.push((String::from_utf8_lossy(&rest[kw..eq]).into_owned(), value));
        pos = pos.saturating_add(length);
    }
    Some(out)
}

/// Bytes `_proc_gnusparse_10` reads before a sparse 1.0 member's data: a first block, split at its
/// first newline (the count), then a block more whenever the rest holds no newline, one line per
/// number (two per chunk). `None` where tarfile raises.
fn sparse_10_map(data: &[u8]) -> Option<usize> {
    let mut read = BLOCK.min(data.len());
    let mut buf = &data[..read];
    let nl = buf.iter().position(|&b| b == b'\n')?;
    let count = std::str::from_utf8(&buf[..nl]).ok().and_then(|t| py_int(t, 10))?;
    let mut start = nl + 1;
    let mut left = count.max(0).checked_mul(2)?;
    while left > 0 {
        while !data[start.min(read)..read].contains(&b'\n') {
            if read >= data.len() {
                return None;
            }
            read = (read + BLOCK).min(data.len());
        }
        buf = &data[..read];
        let nl = start + buf[start..].iter().position(|&b| b == b'\n')?;
        std::str::from_utf8(&buf[start..nl]).ok().and_then(|t| py_int(t, 10))?;
        start = nl + 1;
        left -= 1;
    }
    Some(read)
}

/// Whether Python's `tarfile.open(mode="r:")` opens `data`: its first member reads.
pub(in crate::scan) fn is_tar(data: &[u8]) -> bool {
    let mut r = Reader {
        data,
        global: Vec::new(),
    };
    r.header(0, 0).is_ok()
}

/// The members as `tarfile` lists them (see the module). Where its listing ends other than at the
/// end of the archive, or where the scan stops first, a problem says so.
pub(super) fn members(data: &[u8], problems: &mut Vec<String>) -> Vec<Member> {
    let mut r = Reader {
        data,
        global: Vec::new(),
    };
    let mut out = Vec::new();
    let mut pos: i128 = 0;
    let mut seen: HashSet<i128> = HashSet::new();
    loop {
        if out.len() >= MAX_MEMBERS {
            problems.push(format!("more than {MAX_MEMBERS} members"));
            break;
        }
        // `TarFile.next`: an offset past the end raises, one back at 0 ends the listing
        let Ok(at) = usize::try_from(pos) else {
            problems.push(format!("a member's size moves the next header to {pos}"));
            break;
        };
        if at > data.len() {
            problems.push(format!("the next header at {at} is past the end of the file"));
            break;
        }
        if !seen.insert(pos) || (pos == 0 && !out.is_empty()) {
            break;
        }
        let info = match r.header(at, 0) {
            Ok(info) => info,
            Err(Stop::End) => break,
            Err(Stop::Invalid(m)) => {
                if at > 0 {
                    problems.push(format!(
                        "{m}: tarfile ends its listing there too, but the file goes on with bytes that are no \
                         end of archive"
                    ));
                }
                break;
            }
            Err(Stop::Raises(m)) => {
                problems.push(format!("{m} (tarfile raises)"));
                break;
            }
        };
        let Ok(size) = usize::try_from(info.size) else {
            problems.push(format!(
                "member {:?} at {at}: size {} is negative",
                info.name, info.size
            ));
            break;
        };
        let size = if info.carries() { size } else { 0 };
        let Some(stop) = info.offset_data.checked_add(size).filter(|&e| e <= data.len()) else {
            problems.push(format!(
                "member {:?} at {at}: {size} bytes run past the end of the file",
                info.name
            ));
            break;
        };
        let link = matches!(info.kind, b'1' | b'2');
        out.push(Member {
            name: info.name,
            offset: info.offset_data,
            size: if link { 0 } else { stop - info.offset_data },
            sparse: info.sparse,
            link: link.then_some((info.linkname, info.kind == b'2')),
        });
        pos = info.next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_split_as_tarfile_splits_them() {
        let r = pax_records(b"17 path=storagesZ").unwrap();
        assert_eq!(r, [("path".to_owned(), b"storages".to_vec())]);
        assert!(pax_records(b"+14 path=junk\n").unwrap().is_empty());
        assert!(pax_records(b"0 path=x\n").is_none());
        assert_eq!(block(1), 512);
        assert_eq!(block(-5), 0);
        assert_eq!(block(-512), -512);
    }
}
