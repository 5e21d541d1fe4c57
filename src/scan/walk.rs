//! Scan mode of the pickle machine: walk every opcode of every pickle in a byte stream, call
//! nothing, and record every global the stream names — from GLOBAL and INST, and from STACK_GLOBAL
//! whatever produced its operands (unicode opcodes, old STRING opcodes, the memo, DUP).
//!
//! Just enough of the stack and the memo is simulated to resolve those names, to see the
//! persistent ids (legacy `torch.save` needs them to step over its storage data) and the value each
//! pickle ends with. Anything a call would produce is `Unknown`: a STACK_GLOBAL fed by an `Unknown`
//! is itself a finding, because its name is only decided at load time.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use crate::formats::pickle::memo::Memo;
use crate::formats::pickle::ops::{self, Arg, Opcode};

mod hazard;
mod info;
mod joblib;
mod literal;
mod stream;
mod value;

use hazard::{build_hazard, call_result};
pub use info::{GlobalRef, Hazard, How, PickleInfo, WalkError};
pub use literal::{raw_unicode_escape, string_literal};
use stream::probe_nested;
pub use stream::{Mode, Stream, is_limit, plausible_name, starts_with_proto, walk_stream};
pub use value::{DictInfo, MAX_DICT_ITEMS, MAX_NAME, Value};
use value::{Name, cut, long_value, name_of, shallow};

/// Deepest stack, most memo entries and most MARKs a scan simulates before calling the pickle
/// unscannable (every opcode is at least one byte, so these bound memory, not correctness).
pub const MAX_STACK: usize = 1 << 20;
/// See [`MAX_STACK`].
pub const MAX_MEMO: usize = 1 << 21;
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

fn walk_nested(data: &[u8], start: usize, depth: u32) -> (PickleInfo<'_>, Option<WalkError>) {
    walk_with(data, start, depth, true)
}

/// [`walk_nested`]; `follow_joblib` false reads the stream as a plain unpickler does, which knows
/// nothing of joblib's array data after a `NumpyArrayWrapper` BUILD and reads it as opcodes.
fn walk_with(data: &[u8], start: usize, depth: u32, follow_joblib: bool) -> (PickleInfo<'_>, Option<WalkError>) {
    let mut m = Machine {
        follow_joblib,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: Memo::default(),
        seen: HashSet::new(),
        memo_flagged: false,
        joblib: None,
    };
    let mut info = PickleInfo {
        start,
        end: start,
        protocol: 0,
        complete: false,
        result: Value::Unknown,
        persistent_ids: Vec::new(),
        globals: Vec::new(),
        hazards: Vec::new(),
        frame_end: None,
    };
    let mut frame_end = 0usize;
    let mut pos = start;
    loop {
        let (instr, next) = match ops::decode(data, pos) {
            Ok(x) => x,
            Err(e) => {
                info.end = e.offset.max(pos);
                return (
                    info,
                    Some(WalkError {
                        offset: e.offset,
                        msg: e.to_string(),
                    }),
                );
            }
        };
        info.end = next;
        if let Arg::Frame(n) = instr.arg {
            frame_end = usize::try_from(n)
                .ok()
                .and_then(|n| next.checked_add(n))
                .unwrap_or(usize::MAX);
        }
        if depth < MAX_NESTING {
            probe_nested(instr.arg, instr.offset, depth, &mut info.globals);
        }
        match m.step(instr.op, instr.arg, instr.offset, &mut info) {
            Ok(true) => {
                info.complete = true;
                if frame_end > next {
                    info.frame_end = Some(frame_end);
                }
                return (info, None);
            }
            Ok(false) => {
                pos = next;
                if let Some(state) = m.joblib.take() {
                    match joblib::array_data(data, next, &state, depth, &mut info) {
                        Ok(len) => pos = next + len,
                        Err(msg) => return (info, Some(WalkError { offset: next, msg })),
                    }
                }
            }
            Err(msg) => {
                return (
                    info,
                    Some(WalkError {
                        offset: instr.offset,
                        msg,
                    }),
                );
            }
        }
    }
}

struct Machine<'a> {
    stack: Vec<Value<'a>>,
    marks: Vec<Vec<Value<'a>>>,
    memo: Memo<Value<'a>>,
    /// Globals already recorded in this pickle: each is reported once, at its first offset.
    seen: HashSet<(String, String, How)>,
    /// Whether a memo index far past the entries stored was reported (once per pickle).
    memo_flagged: bool,
    /// The state of a joblib array wrapper just built: its data follows in the stream.
    joblib: Option<Value<'a>>,
    /// Whether joblib's array data is stepped over (joblib's unpickler) or read as opcodes.
    follow_joblib: bool,
}

type Step = Result<bool, String>;

impl<'a> Machine<'a> {
    fn push(&mut self, v: Value<'a>) -> Result<(), String> {
        if self.stack.len() >= MAX_STACK {
            return Err(format!("stack deeper than the scan limit of {MAX_STACK}"));
        }
        self.stack.push(v);
        Ok(())
    }

    fn pop(&mut self, op: Opcode) -> Result<Value<'a>, String> {
        self.stack.pop().ok_or_else(|| format!("{op}: stack underflow"))
    }

    fn pop_mark(&mut self, op: Opcode) -> Result<Vec<Value<'a>>, String> {
        let prev = self.marks.pop().ok_or_else(|| format!("{op} without MARK"))?;
        Ok(std::mem::replace(&mut self.stack, prev))
    }

    fn top(&mut self, op: Opcode) -> Result<&mut Value<'a>, String> {
        self.stack.last_mut().ok_or_else(|| format!("{op}: stack underflow"))
    }

    fn memo_put(&mut self, key: u64, op: Opcode, offset: usize, info: &mut PickleInfo<'_>) -> Result<(), String> {
        let v = self.stack.last().cloned().ok_or_else(|| format!("{op}: empty stack"))?;
        // CPython: `_Unpickler_ResizeMemoList(self, idx * 2)`, 8-byte slots, zero-filled
        let stored = self.memo.len() as u64;
        let bytes = key.saturating_mul(16);
        if !self.memo_flagged && bytes > MAX_MEMO_BYTES && key > stored.saturating_mul(2).saturating_add(1024) {
            self.memo_flagged = true;
            info.hazards.push(Hazard {
                offset,
                global: op.to_string(),
                dangerous: false,
                why: format!(
                    "memo index {key} far past the {stored} entries stored: pickle.load grows its memo to {bytes} bytes \
                     ({:.1} GiB) and zero-fills it (the limit is {MAX_MEMO_BYTES} bytes)",
                    bytes as f64 / f64::from(1u32 << 30)
                ),
            });
        }
        if self.memo.len() >= MAX_MEMO && self.memo.get(key).is_none() {
            return Err(format!("memo larger than the scan limit of {MAX_MEMO}"));
        }
        self.memo.insert(key, v);
        Ok(())
    }

    fn append(&mut self, items: Vec<Value<'a>>, op: Opcode) -> Result<(), String> {
        if let Value::List(list) = self.top(op)? {
            let mut l = list.borrow_mut();
            let room = MAX_ITEMS.saturating_sub(l.len());
            l.extend(items.into_iter().take(room).map(shallow));
        }
        Ok(())
    }

    fn global(
        &mut self,
        info: &mut PickleInfo<'_>,
        module: &str,
        name: &str,
        offset: usize,
        how: How,
    ) -> Result<Value<'a>, String> {
        let (module, name) = (cut(module), cut(name));
        if self.seen.insert((module.clone(), name.clone(), how)) {
            if self.seen.len() > MAX_GLOBALS {
                return Err(format!("more than {MAX_GLOBALS} distinct globals"));
            }
            info.globals.push(GlobalRef {
                module: module.clone(),
                name: name.clone(),
                offset,
                how,
                nested: false,
            });
        }
        Ok(Value::Global(Rc::new((module, name))))
    }

    fn text(&mut self, s: &str) -> Result<(), String> {
        self.push(if s.len() > MAX_TEXT {
            Value::Unknown
        } else {
            Value::Str(Rc::from(s))
        })
    }

    /// Run one instruction; `Ok(true)` at STOP.
    fn step(&mut self, op: Opcode, arg: Arg<'a>, offset: usize, info: &mut PickleInfo<'a>) -> Step {
        use Opcode as O;
        match op {
            O::Proto => {
                if let Arg::Int(p) = arg {
                    info.protocol = u8::try_from(p).unwrap_or(u8::MAX);
                }
            }
            O::Frame | O::ReadonlyBuffer => {}
            O::Stop => {
                info.result = self.pop(op)?;
                return Ok(true);
            }
            O::Mark => {
                if self.marks.len() >= MAX_STACK {
                    return Err(format!("more than {MAX_STACK} open MARKs"));
                }
                let cur = std::mem::take(&mut self.stack);
                self.marks.push(cur);
            }
            O::Pop => {
                if self.stack.pop().is_none() {
                    self.pop_mark(op)?;
                }
            }
            O::PopMark => {
                self.pop_mark(op)?;
            }
            O::Dup => {
                let v = self.top(op)?.clone();
                self.push(v)?;
            }
            O::None | O::NewTrue | O::NewFalse | O::Float | O::BinFloat | O::EmptySet => self.push(Value::Other)?,
            O::EmptyDict => self.push(Value::Dict(Rc::default()))?,
            O::Int | O::BinInt | O::BinInt1 | O::BinInt2 | O::Long | O::Long1 | O::Long4 => {
                let v = match arg {
                    Arg::Int(i) => Value::Int(i),
                    Arg::Long(b) => long_value(b),
                    _ => Value::Other,
                };
                self.push(v)?
            }
            O::String => {
                let Arg::Line(l) = arg else {
                    return Err("STRING without text".into());
                };
                let s = string_literal(l).ok_or_else(|| "STRING argument is not a quoted literal".to_owned())?;
                self.text(&s)?
            }
            O::Unicode => {
                let Arg::Line(l) = arg else {
                    return Err("UNICODE without text".into());
                };
                self.text(&raw_unicode_escape(l))?
            }
            O::BinString | O::ShortBinString => {
                let Arg::Bytes(b) = arg else {
                    return Err("BINSTRING without bytes".into());
                };
                self.text(&String::from_utf8_lossy(b))?
            }
            O::BinUnicode | O::ShortBinUnicode | O::BinUnicode8 => {
                let Arg::Str(s) = arg else {
                    return Err("BINUNICODE without text".into());
                };
                self.text(s)?
            }
            O::BinBytes | O::ShortBinBytes | O::BinBytes8 | O::ByteArray8 => {
                let Arg::Bytes(b) = arg else {
                    return Err("BINBYTES without bytes".into());
                };
                self.push(Value::Bytes(b))?
            }
            O::NextBuffer => self.push(Value::Unknown)?,
            O::EmptyList => self.push(Value::List(Rc::new(RefCell::new(Vec::new()))))?,
            O::EmptyTuple => self.push(Value::Tuple(Rc::new(Vec::new())))?,
            O::Tuple1 | O::Tuple2 | O::Tuple3 => {
                let n = match op {
                    O::Tuple1 => 1,
                    O::Tuple2 => 2,
                    _ => 3,
                };
                if self.stack.len() < n {
                    return Err(format!("{op}: stack underflow"));
                }
                let items = self.stack.split_off(self.stack.len() - n);
                self.push(Value::Tuple(Rc::new(items.into_iter().map(shallow).collect())))?
            }
            O::Tuple => {
                let items = self.pop_mark(op)?;
                self.push(Value::Tuple(Rc::new(
                    items.into_iter().take(MAX_ITEMS).map(shallow).collect(),
                )))?
            }
            O::List => {
                let items: Vec<Value<'a>> = self.pop_mark(op)?.into_iter().take(MAX_ITEMS).map(shallow).collect();
                self.push(Value::List(Rc::new(RefCell::new(items))))?
            }
            O::Dict => {
                let items = self.pop_mark(op)?;
                let mut d = DictInfo::default();
                for kv in items.chunks_exact(2) {
                    d.set(&kv[0], &kv[1]);
                }
                self.push(Value::Dict(Rc::new(RefCell::new(d))))?
            }
            O::FrozenSet => {
                self.pop_mark(op)?;
                self.push(Value::Other)?
            }
            O::Append => {
                let v = self.pop(op)?;
                self.append(vec![v], op)?
            }
            O::Appends => {
                let items = self.pop_mark(op)?;
                self.append(items, op)?
            }
            O::SetItem => {
                let v = self.pop(op)?;
                let k = self.pop(op)?;
                if let Value::Dict(d) = self.top(op)? {
                    d.borrow_mut().set(&k, &v);
                }
            }
            O::SetItems => {
                let items = self.pop_mark(op)?;
                if let Value::Dict(d) = self.top(op)? {
                    let mut d = d.borrow_mut();
                    for kv in items.chunks_exact(2) {
                        d.set(&kv[0], &kv[1]);
                    }
                }
            }
            O::AddItems => {
                self.pop_mark(op)?;
                self.top(op)?;
            }
            O::Build => {
                let state = self.pop(op)?;
                let target = self.top(op)?.clone();
                if target == Value::JoblibWrapper && self.follow_joblib {
                    // joblib's unpickler reads the array's data right after this BUILD
                    *self.top(op)? = Value::Unknown;
                    self.joblib = Some(state);
                } else {
                    build_hazard(&target, &state, offset, info);
                }
            }
            O::Get | O::BinGet | O::LongBinGet => {
                let Arg::Memo(k) = arg else {
                    return Err("GET without index".into());
                };
                let v = self
                    .memo
                    .get(k)
                    .cloned()
                    .ok_or_else(|| format!("{op}: memo key {k} was never PUT"))?;
                self.push(v)?
            }
            O::Put | O::BinPut | O::LongBinPut => {
                let Arg::Memo(k) = arg else {
                    return Err("PUT without index".into());
                };
                self.memo_put(k, op, offset, info)?
            }
            O::Memoize => {
                let k = self.memo.len() as u64;
                self.memo_put(k, op, offset, info)?
            }
            O::Global => {
                let Arg::Global { module, name } = arg else {
                    return Err("GLOBAL without names".into());
                };
                let v = self.global(info, module, name, offset, How::Global)?;
                self.push(v)?
            }
            O::Inst => {
                let Arg::Global { module, name } = arg else {
                    return Err("INST without names".into());
                };
                self.global(info, module, name, offset, How::Inst)?;
                self.pop_mark(op)?;
                self.push(Value::Unknown)?
            }
            O::StackGlobal => {
                let name = self.pop(op)?;
                let module = self.pop(op)?;
                let v = match (name_of(&module), name_of(&name)) {
                    (Name::Text(m), Name::Text(n)) => self.global(info, &m, &n, offset, How::StackGlobal)?,
                    (Name::NotText, _) | (_, Name::NotText) => {
                        return Err("STACK_GLOBAL operands are not strings".to_owned());
                    }
                    (m, n) => {
                        let m = if let Name::Text(m) = m { m } else { "?".to_owned() };
                        let n = if let Name::Text(n) = n { n } else { "?".to_owned() };
                        self.global(info, &m, &n, offset, How::Unresolved)?
                    }
                };
                self.push(v)?
            }
            O::Ext1 | O::Ext2 | O::Ext4 => {
                let code = if let Arg::Int(c) = arg { c } else { -1 };
                self.global(info, "copyreg extension", &code.to_string(), offset, How::Extension)?;
                self.push(Value::Unknown)?
            }
            O::PersId => {
                let Arg::Line(l) = arg else {
                    return Err("PERSID without text".into());
                };
                if info.persistent_ids.len() < MAX_ITEMS {
                    info.persistent_ids.push(Value::Str(Rc::from(
                        String::from_utf8_lossy(&l[..l.len().min(MAX_TEXT)]).as_ref(),
                    )));
                }
                self.push(Value::Unknown)?
            }
            O::BinPersId => {
                let pid = self.pop(op)?;
                if info.persistent_ids.len() < MAX_ITEMS {
                    info.persistent_ids.push(pid);
                }
                self.push(Value::Unknown)?
            }
            O::Reduce | O::NewObj => {
                let args = self.pop(op)?;
                let callable = self.pop(op)?;
                let v = call_result(&callable, &args, offset, info);
                self.push(v)?
            }
            O::NewObjEx => {
                self.pop(op)?;
                self.pop(op)?;
                self.pop(op)?;
                self.push(Value::Unknown)?
            }
            O::Obj => {
                let items = self.pop_mark(op)?;
                if items.is_empty() {
                    return Err("OBJ without a class".to_owned());
                }
                self.push(Value::Unknown)?
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
#[path = "walk_tests.rs"]
mod tests;
