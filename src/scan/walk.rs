//! Scan mode of the pickle machine: walk every opcode of every pickle in a byte stream, call
//! nothing, and record every global the stream names — from GLOBAL and INST, and from STACK_GLOBAL
//! whatever produced its operands (unicode opcodes, old STRING opcodes, the memo, DUP).
//!
//! Just enough of the stack and the memo is simulated to resolve those names, to see the
//! persistent ids (legacy `torch.save` needs them to step over its storage data) and the value each
//! pickle ends with. Anything a call would produce is `Unknown`: a STACK_GLOBAL fed by an `Unknown`
//! is itself a finding, because its name is only decided at load time.

use std::collections::HashSet;

use crate::formats::pickle::interp::{Flow, Interp};
use crate::formats::pickle::ops::{self, Arg};

mod hazard;
mod info;
mod joblib;
mod literal;
mod semantics;
mod stream;
mod value;

pub use info::{GlobalRef, Hazard, How, PickleInfo, WalkError};
pub use literal::{raw_unicode_escape, string_literal};
use stream::probe_nested;
pub use stream::{Mode, Stream, is_limit, plausible_name, starts_with_proto, walk_stream};
pub use value::{DictInfo, MAX_DICT_ITEMS, MAX_NAME, Value};

/// See [`MAX_STACK`].
pub use crate::formats::pickle::interp::MAX_MEMO;
/// Deepest stack (values and MARKs) and most memo entries a scan simulates before calling the pickle
/// unscannable: the reader's limits, from the one place both interpreters take them
/// ([`crate::formats::pickle::interp`]). Every opcode is at least one byte, so these bound memory,
/// not correctness; a limit is never taken as the end of a pickle ([`is_limit`]).
pub use crate::formats::pickle::interp::MAX_STACK;
/// Items kept per simulated list or tuple; later items are dropped (they only feed names).
pub const MAX_ITEMS: usize = 1 << 20;
/// Longest string kept as a possible name; longer ones only exist at load time as far as the scan
/// knows (a STACK_GLOBAL fed by one is unresolved, hence suspicious).
pub const MAX_TEXT: usize = 64 << 10;
/// Most distinct globals recorded per pickle; more make the pickle unscannable.
pub const MAX_GLOBALS: usize = 4096;
/// How deep pickles found inside bytes arguments are followed.
pub const MAX_NESTING: u32 = 4;
/// Largest `bytes(n)` / `bytearray(n)` a checkpoint may ask for: torch's `weights_only` loader
/// allocates whatever the integer says (`bytearray(2**34)` tries to fill 16 GiB). The same bound
/// holds for the array numpy's `_reconstruct` makes (numpy itself always asks for shape `(0,)`).
pub const MAX_BYTES_CALL: i64 = 1 << 20;
/// Largest object array an ndarray BUILD state may ask for: numpy allocates and zero-fills
/// `8 × elements` bytes before it reads a single item.
pub const MAX_OBJECT_ARRAY_BYTES: u64 = 1 << 30;
/// Most bytes the C unpickler's memo may be grown to by one PUT: CPython resizes its memo to twice
/// the PUT index (8 bytes a slot) and zero-fills it, so a 9-byte pickle can ask for 8.6 GB.
pub const MAX_MEMO_BYTES: u64 = 64 << 20;

/// Walk one pickle starting at `start` of `data`. The returned info ends at STOP or at the first
/// error (with the error); globals named before an error are kept.
pub fn walk_one(data: &[u8], start: usize) -> (PickleInfo<'_>, Option<WalkError>) {
    walk_nested(data, start, 0)
}

/// [`walk_one`] as a plain unpickler (`pickle.load`) reads the pickle: joblib's array data after a
/// `NumpyArrayWrapper` BUILD is read as opcodes, not stepped over (the reader does the same).
pub fn walk_one_plain(data: &[u8], start: usize) -> (PickleInfo<'_>, Option<WalkError>) {
    walk_with(data, start, 0, false)
}

fn walk_nested(data: &[u8], start: usize, depth: u32) -> (PickleInfo<'_>, Option<WalkError>) {
    walk_with(data, start, depth, true)
}

/// What a read that runs past the end of a frame means, as a hazard.
const CROSSING: &str = "an argument runs past the end of its FRAME: CPython's C unpickler reading a file or \
                        io.BytesIO (pickle.load, torch.load, np.load) that read the frame whole drops the bytes \
                        left in it and reads the argument from the frame's end, a pickle.loads of the bytes reads \
                        on, Python's own unpickler raises (both readings were scanned)";

/// [`walk_nested`]; `follow_joblib` false reads the stream as a plain unpickler does, which knows
/// nothing of joblib's array data after a `NumpyArrayWrapper` BUILD and reads it as opcodes.
///
/// The pickle is read in order; when a read runs past the end of a frame, it is read again as the
/// C unpickler reads it from a file that handed it the frame with one `read()` (see
/// [`ops::FrameBuffer`]), and what that reading names is added: its globals and hazards, and where
/// it ends ([`PickleInfo::other_ends`]).
fn walk_with(data: &[u8], start: usize, depth: u32, follow_joblib: bool) -> (PickleInfo<'_>, Option<WalkError>) {
    let (mut info, err, crossed) = walk_reading(data, start, depth, follow_joblib, false);
    if !crossed {
        return (info, err);
    }
    let (c, _, _) = walk_reading(data, start, depth, follow_joblib, true);
    for g in c.globals {
        if !info
            .globals
            .iter()
            .any(|h| h.module == g.module && h.name == g.name && h.how == g.how)
        {
            info.globals.push(g);
        }
    }
    for h in c.hazards {
        if !info.hazards.contains(&h) {
            info.hazards.push(h);
        }
    }
    if c.complete {
        let ends = std::iter::once(c.end).chain(c.frame_end).chain(c.other_ends);
        for e in ends {
            if e != info.end && Some(e) != info.frame_end && !info.other_ends.contains(&e) {
                info.other_ends.push(e);
            }
        }
    }
    (info, err)
}

/// One reading of the pickle at `start`: in order (`jump` false), or as the C unpickler reads a
/// file that hands it each frame with one `read()` (`jump` true). Also returns whether a read ran
/// past the end of a frame (where the two readings part).
fn walk_reading(
    data: &[u8],
    start: usize,
    depth: u32,
    follow_joblib: bool,
    jump: bool,
) -> (PickleInfo<'_>, Option<WalkError>, bool) {
    let mut m = Interp::new(Walker {
        follow_joblib,
        seen: HashSet::new(),
        memo_flagged: false,
        joblib: None,
        offset: start,
        info: PickleInfo {
            start,
            end: start,
            protocol: 0,
            complete: false,
            result: Value::Unknown,
            persistent_ids: Vec::new(),
            globals: Vec::new(),
            hazards: Vec::new(),
            frame_end: None,
            other_ends: Vec::new(),
        },
    });
    let mut buf = ops::FrameBuffer {
        end: None,
        jump,
        crossed_then_failed: false,
    };
    let mut crossed = false;
    let mut frame_end = 0usize;
    // where the file handle stands once joblib has read an array from it inside a frame: the
    // unpickler read the whole frame first, so the array came from the frame's end, and what follows
    // the frame is read from after the array
    let mut file_at: Option<usize> = None;
    let mut pos = start;
    loop {
        if pos == frame_end
            && let Some(at) = file_at.take()
        {
            pos = at;
        }
        let (instr, next, crossing) = match ops::decode_buffered(data, pos, &mut buf) {
            Ok(x) => x,
            Err(e) => {
                m.sem.info.end = e.offset.max(pos);
                let err = WalkError {
                    offset: e.offset,
                    msg: e.to_string(),
                };
                // an argument that crossed its frame and then failed: the other reading may not fail
                if buf.crossed_then_failed && !crossed {
                    crossed = true;
                    m.sem.info.hazards.push(Hazard {
                        offset: e.offset,
                        global: String::new(),
                        dangerous: false,
                        why: CROSSING.into(),
                    });
                }
                return (m.sem.info, Some(err), crossed);
            }
        };
        m.sem.info.end = next;
        if let ops::Arg::Frame(n) = instr.arg
            && n > (data.len() - next) as u64
        {
            let h = Hazard {
                offset: instr.offset,
                global: String::new(),
                dangerous: false,
                why: format!(
                    "a FRAME of {n} bytes runs past the end of the data ({} left): CPython's C unpickler \
                     stops at it, the pure-Python one (joblib.load) reads on, as this scan does",
                    data.len() - next
                ),
            };
            m.sem.info.hazards.push(h);
        }
        if crossing.is_some() {
            crossed = true;
            let h = Hazard {
                offset: instr.offset,
                global: String::new(),
                dangerous: false,
                why: CROSSING.into(),
            };
            if !m.sem.info.hazards.contains(&h) {
                m.sem.info.hazards.push(h);
            }
        }
        if jump {
            // the C unpickler's file stands at the end of the frame it holds
            frame_end = buf.end.unwrap_or(0);
        } else if let Arg::Frame(n) = instr.arg {
            frame_end = usize::try_from(n)
                .ok()
                .and_then(|n| next.checked_add(n))
                .unwrap_or(usize::MAX);
        }
        if depth < MAX_NESTING {
            probe_nested(instr.arg, instr.offset, depth, &mut m.sem.info.globals);
        }
        m.sem.offset = instr.offset;
        match m.step(instr.op, instr.arg) {
            Ok(Flow::Stop(result)) => {
                let mut info = m.sem.info;
                info.result = result;
                info.complete = true;
                if frame_end > next {
                    info.frame_end = Some(frame_end);
                }
                // the buffered frame holding STOP (an outer one, when a frame inside it fit in it)
                if let Some(e) = buf.end.filter(|&e| e > next && Some(e) != info.frame_end) {
                    info.other_ends.push(e);
                }
                return (info, None, crossed);
            }
            Ok(Flow::Next) => {
                pos = next;
                if let Some(state) = m.sem.joblib.take() {
                    // joblib.dump ends the frame at the wrapper's BUILD; in a frame that runs on,
                    // joblib.load reads the array from the file, past the frame
                    let in_frame = next < frame_end;
                    let at = if in_frame {
                        m.sem.info.hazards.push(Hazard {
                            offset: instr.offset,
                            global: "joblib.numpy_pickle.NumpyArrayWrapper".into(),
                            dangerous: false,
                            why: "a frame runs on past a joblib array's BUILD (joblib.dump ends it there): \
                                  joblib.load reads the array from after the frame"
                                .into(),
                        });
                        file_at.unwrap_or(frame_end)
                    } else {
                        next
                    };
                    match joblib::array_data(data, at, &state, depth, &mut m.sem.info) {
                        Ok(len) if in_frame => file_at = Some(at + len),
                        Ok(len) => pos = next + len,
                        Err(msg) => return (m.sem.info, Some(WalkError { offset: at, msg }), crossed),
                    }
                }
            }
            Err(msg) => {
                let err = WalkError {
                    offset: instr.offset,
                    msg,
                };
                return (m.sem.info, Some(err), crossed);
            }
        }
    }
}

/// The scanner's half of the pickle machine: what it records while [`Interp`] runs the opcodes
/// (the stack and memo effects the reader has too); its [`Semantics`](crate::formats::pickle::interp::Semantics)
/// are in `walk/semantics.rs`.
struct Walker<'a> {
    /// What the walk found so far.
    info: PickleInfo<'a>,
    /// Offset of the opcode being run.
    offset: usize,
    /// Globals already recorded in this pickle: each is reported once, at its first offset.
    seen: HashSet<(String, String, How, bool)>,
    /// Whether a memo index far past the entries stored was reported (once per pickle).
    memo_flagged: bool,
    /// The state of a joblib array wrapper just built: its data follows in the stream.
    joblib: Option<Value<'a>>,
    /// Whether joblib's array data is stepped over (joblib's unpickler) or read as opcodes.
    follow_joblib: bool,
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
