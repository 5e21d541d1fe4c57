//! Streams of pickles: one after another until the end of the bytes, strict or probing.

use super::{Arg, GlobalRef, PickleInfo, WalkError, walk_with};

/// How strictly a stream is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The bytes are meant to be pickles: every error is reported, and after an error the rest is
    /// searched for further pickles (a payload hidden behind garbage).
    Strict,
    /// The bytes may be data (a tensor storage, a bytes value): errors are not findings, and only
    /// globals of complete pickles, or names Python could import, are kept. Stops at the first error;
    /// an error that is a limit of the walker ([`is_limit`]) is reported as in strict mode.
    Probe,
    /// [`Mode::Probe`] as a plain unpickler (`pickle.load`, `pandas.read_pickle`) reads the stream:
    /// joblib's array data after a `NumpyArrayWrapper` BUILD is read as opcodes, not stepped over.
    Plain,
}

/// Every pickle found in a byte stream.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stream<'a> {
    /// The pickles, in order (a broken one is kept when it named globals or the mode is strict).
    pub pickles: Vec<PickleInfo<'a>>,
    /// What stopped pickles short ([`Mode::Strict`] only; pickles found while resynchronising
    /// after an error add none).
    pub errors: Vec<WalkError>,
}

impl Stream<'_> {
    /// Every global of every pickle, in stream order.
    pub fn globals(&self) -> impl Iterator<Item = &GlobalRef> {
        self.pickles.iter().flat_map(|p| p.globals.iter())
    }
}

/// Walk every pickle in `data`, one after another until its end (see [`Mode`]).
pub fn walk_stream(data: &[u8], mode: Mode) -> Stream<'_> {
    walk_stream_depth(data, mode, 0)
}

/// Most resume points walked besides the one right after each STOP (see [`PickleInfo::frame_end`]).
pub const MAX_RESUMES: usize = 64;

pub(super) fn walk_stream_depth(data: &[u8], mode: Mode, depth: u32) -> Stream<'_> {
    let mut s = Stream::default();
    // where the next pickle starts is not the same for every reader: right after STOP (a reader
    // that reads opcode by opcode), or at the end of the frame holding STOP (CPython, which reads
    // whole frames): every such start is walked
    let mut starts = vec![0usize];
    let mut seen = std::collections::HashSet::new();
    while let Some(start) = starts.pop() {
        if !seen.insert(start) {
            continue;
        }
        walk_from(data, start, mode, depth, &mut s, &mut starts);
        if seen.len() > MAX_RESUMES {
            s.errors.push(WalkError {
                offset: start,
                msg: format!("more than {MAX_RESUMES} places where a reader could resume"),
            });
            break;
        }
    }
    s.pickles.sort_by_key(|p| p.start);
    s.pickles.dedup_by_key(|p| p.start);
    s
}

fn walk_from<'a>(data: &'a [u8], start: usize, mode: Mode, depth: u32, s: &mut Stream<'a>, starts: &mut Vec<usize>) {
    let mut pos = start;
    let mut resyncing = false;
    while pos < data.len() {
        let (mut info, err) = walk_with(data, pos, depth, mode != Mode::Plain);
        let Some(e) = err else {
            pos = info.end;
            starts.extend(info.next_starts().into_iter().skip(1).filter(|&f| f < data.len()));
            s.pickles.push(info);
            continue;
        };
        // a limit of the walker is not the end of the pickle: CPython would go on, so even a probe
        // reports it (the bytes are never called safe)
        let strict = mode == Mode::Strict && !resyncing || is_limit(&e.msg);
        if !strict {
            info.globals
                .retain(|g| plausible_name(&g.module) && plausible_name(&g.name));
        }
        if strict {
            s.errors.push(e.clone());
        }
        // the C unpickler's reading of a frame may have ended well where this one broke
        starts.extend(info.other_ends.iter().copied().filter(|&f| f < data.len()));
        if strict || !info.globals.is_empty() {
            s.pickles.push(info);
        }
        if mode != Mode::Strict {
            break;
        }
        // look for the next pickle that starts with PROTO after the failure
        let from = e.offset.max(pos) + 1;
        match find_proto(data, from) {
            Some(p) => {
                pos = p;
                resyncing = true;
            }
            None => break,
        }
    }
}

/// Whether a walk stopped at one of the walker's own limits (its stack, memo, MARK or global
/// counts, the longest line it reads), where CPython would carry on.
pub fn is_limit(msg: &str) -> bool {
    ["scan limit", "more than", "longer than"]
        .iter()
        .any(|m| msg.contains(m))
}

/// Next offset at or after `from` where `\x80` is followed by a protocol byte 2 to 5.
fn find_proto(data: &[u8], from: usize) -> Option<usize> {
    let rest = data.get(from..)?;
    rest.windows(2)
        .position(|w| w[0] == 0x80 && (2..=5).contains(&w[1]))
        .map(|i| from + i)
}

/// Whether `b` starts like a protocol 2+ pickle.
pub fn starts_with_proto(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] == 0x80 && (2..=5).contains(&b[1])
}

/// Whether Python could import this dotted name: identifiers separated by dots.
pub fn plausible_name(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|p| {
            let mut c = p.chars();
            c.next().is_some_and(|ch| ch == '_' || ch.is_alphabetic()) && c.all(|ch| ch == '_' || ch.is_alphanumeric())
        })
}

/// Most places inside one bytes or string argument where an embedded pickle is probed.
pub const MAX_NESTED_PROBES: usize = 16;

/// A bytes or string argument that holds a pickle (what `pickle.loads(b"…")` or a smuggled
/// `_extra_state` would unpickle): its globals count, located at the opcode that carries it.
/// The pickle need not start the argument: a payload behind a few bytes of padding (or one whose
/// head was swallowed into a bytes literal by the opcode before it) is probed from every PROTO
/// inside the argument, up to [`MAX_NESTED_PROBES`] of them.
pub(super) fn probe_nested(arg: Arg<'_>, offset: usize, depth: u32, out: &mut Vec<GlobalRef>) {
    let owned: Vec<u8>;
    let bytes: &[u8] = match arg {
        Arg::Bytes(b) => b,
        Arg::Str(t) if t.contains('\u{80}') => {
            // protocol 0..2 keep bytes as latin-1 text for `_codecs.encode`
            let Some(v) = t
                .chars()
                .map(|c| u8::try_from(u32::from(c)).ok())
                .collect::<Option<Vec<u8>>>()
            else {
                return;
            };
            owned = v;
            &owned
        }
        _ => return,
    };
    let mut from = 0;
    for _ in 0..MAX_NESTED_PROBES {
        let Some(start) = find_proto(bytes, from) else { return };
        let inner = walk_stream_depth(&bytes[start..], Mode::Probe, depth + 1);
        for g in inner.globals() {
            out.push(GlobalRef {
                offset,
                nested: true,
                ..g.clone()
            });
        }
        from = start + 1;
    }
}
