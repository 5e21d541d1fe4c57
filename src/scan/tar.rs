//! Tar archives as `torch.load` meets them: before its legacy pickle reader, `torch.load` (on a real
//! file) hands the file to Python's `tarfile` and, when that opens it, unpickles the members
//! `storages`, `tensors` and `pickle` (the pre-0.4 format). Whether `tarfile` opens a file is
//! decided by the first header's checksum alone (no `ustar` magic needed: V7 tars count), so a
//! legacy `torch.save` file can be a tar too. Every member is scanned, and the whole file is also
//! probed as a pickle (what `pickle.load` would read).

use std::collections::HashMap;

use super::walk::Mode;
use super::{Collector, FileScan, Severity};

mod headers;
mod interleaved;
mod links;

pub(in crate::scan) use headers::is_tar;
use headers::members;

pub(super) use interleaved::MAX_RESUMES;
use interleaved::{interleaved, storage_raw, tensor_raw};

#[cfg(test)]
const BLOCK: usize = 512;

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
            linked(&mut c, &list, i, data.len())
        } else {
            vec![(m.offset, m.size)]
        };
        for (offset, size) in bodies {
            member(&mut c, &m.name, offset, &data[offset..offset + size]);
        }
    }
    // what pickle.load (or torch.load on an in-memory stream, which skips the tar reader) reads
    c.walk("whole file as a pickle", 0, data, Mode::Probe);
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
        "pickle" => c.walk(name, offset as u64, body, Mode::Strict),
        _ => c.walk(name, offset as u64, body, Mode::Probe),
    }
}

/// The data (offset, size) that link member `i` stands for, when torch reads a member of its name
/// (another link's target is probed under its own name): said, since torch never writes a link.
fn linked(c: &mut Collector, list: &[Member], i: usize, file_len: usize) -> Vec<(usize, usize)> {
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
    let mut out: Vec<(usize, usize)> = targets.into_iter().map(|t| (list[t].offset, list[t].size)).collect();
    if !out.is_empty() {
        let why = format!(
            "a {kind} link to {target:?} (torch never writes one): tarfile gives torch that member's data as \
             {:?}, which was read as torch reads this member",
            m.name
        );
        c.problem(&m.name, Some(m.offset as u64), Severity::Suspicious, why);
    }
    if links::leaves_folder(&m.name, target) {
        // extract() makes the link on disk (tarfile's default filter up to Python 3.13), and torch
        // opens `storages` or `tensors` through it: any file, `/proc/self/fd/N` the checkpoint itself
        let why = format!(
            "a {kind} link to {target:?}, outside the folder torch extracts to: torch reads whatever file \
             that is (the checkpoint's own bytes through /proc/self/fd or /dev/fd); the whole file was read \
             as torch reads this member"
        );
        c.problem(&m.name, Some(m.offset as u64), Severity::Suspicious, why);
        out.push((0, file_len));
    }
    out
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
