//! What the scan's values are ([`Semantics`] for the walk): only what name resolution, persistent
//! ids and the hazard checks need. The stack and memo effects of every opcode, and their limits,
//! are [`crate::formats::pickle::interp`]'s, shared with the reader.
//!
//! Where the scan differs from the reader, by rule: it never refuses what a loader would go on
//! with, it records it (extension codes become globals, out-of-band buffers unknown values, any
//! protocol number is read, broken text literals are read as latin-1), and it keeps only what
//! names need (texts up to [`MAX_TEXT`], containers up to [`MAX_ITEMS`] shallow items).

use std::cell::RefCell;
use std::rc::Rc;

use super::hazard::{build_hazard, call_result};
use super::value::{Name, cut, long_value, name_of, shallow};
use super::{
    DictInfo, GlobalRef, Hazard, How, MAX_GLOBALS, MAX_ITEMS, MAX_MEMO, MAX_MEMO_BYTES, MAX_NAME, MAX_STACK, MAX_TEXT,
    Value, Walker,
};
use crate::formats::pickle::interp::{Add, Call, Container, Fault, Literal, Named, Pid, Semantics};
use crate::formats::pickle::ops::{Arg, Opcode};

impl<'a> Walker<'a> {
    /// Record a global (once per pickle and way of naming it) and make its value.
    fn record(&mut self, module: &str, name: &str, how: How) -> Result<Value<'a>, String> {
        let long = module.len() > MAX_NAME || name.len() > MAX_NAME;
        let (module, name) = (cut(module), cut(name));
        if self.seen.insert((module.clone(), name.clone(), how, long)) {
            if self.seen.len() > MAX_GLOBALS {
                return Err(format!("more than {MAX_GLOBALS} distinct globals"));
            }
            self.info.globals.push(GlobalRef {
                module: module.clone(),
                name: name.clone(),
                offset: self.offset,
                how,
                nested: false,
                cut: long,
            });
        }
        Ok(Value::Global(Rc::new((module, name))))
    }

    fn text(s: &str) -> Value<'a> {
        if s.len() > MAX_TEXT {
            Value::Unknown
        } else {
            Value::Str(Rc::from(s))
        }
    }
}

fn items<'a>(items: Vec<Value<'a>>) -> Vec<Value<'a>> {
    items.into_iter().take(MAX_ITEMS).map(shallow).collect()
}

impl<'a> Semantics<'a> for Walker<'a> {
    type V = Value<'a>;
    type E = String;
    /// A name in odd text is still a name: it is reported.
    const LENIENT_TEXT: bool = true;

    fn fault(&self, op: Opcode, f: Fault) -> String {
        match f {
            Fault::Underflow | Fault::Empty => format!("{op}: stack underflow"),
            Fault::NoMark => format!("{op} without MARK"),
            Fault::StackFull => format!("stack (values and MARKs) deeper than the scan limit of {MAX_STACK}"),
            Fault::MemoFull => format!("memo larger than the scan limit of {MAX_MEMO}"),
            Fault::MemoMissing(k) => format!("{op}: memo key {k} was never PUT"),
            Fault::BadText => format!("{op} argument is not a quoted literal"),
            Fault::NoClass => "OBJ without a class".to_owned(),
            Fault::BadArg => format!("{op} without its argument"),
        }
    }

    fn proto(&mut self, arg: Arg<'a>) -> Result<(), String> {
        if let Arg::Int(p) = arg {
            self.info.protocol = u8::try_from(p).unwrap_or(u8::MAX);
        }
        Ok(())
    }

    fn literal(&mut self, lit: Literal<'a>) -> Result<Value<'a>, String> {
        Ok(match lit {
            Literal::None => Value::PyNone,
            Literal::Bool(_) | Literal::Float(_) | Literal::BigInt(_) => Value::Other,
            Literal::Int(i) => Value::Int(i),
            Literal::Long(b) => long_value(b),
            Literal::Str(s) => Self::text(&s),
            // torch.load's encoding makes Python 2 strings str
            Literal::Py2Str(b) => Self::text(&String::from_utf8_lossy(&b)),
            Literal::Bytes(b) => Value::Bytes(b),
        })
    }

    fn container(&mut self, kind: Container, all: Vec<Value<'a>>) -> Result<Value<'a>, String> {
        Ok(match kind {
            Container::Tuple => Value::Tuple(Rc::new(items(all))),
            Container::List => Value::List(Rc::new(RefCell::new(items(all)))),
            Container::Dict => {
                let mut d = DictInfo::default();
                for kv in all.chunks_exact(2) {
                    d.set(&kv[0], &kv[1]);
                }
                Value::Dict(Rc::new(RefCell::new(d)))
            }
            Container::Set | Container::FrozenSet => Value::Other,
        })
    }

    fn add(&mut self, target: &mut Value<'a>, how: Add, items: Vec<Value<'a>>) -> Result<(), String> {
        match (how, target) {
            (Add::Append, Value::List(list)) => {
                let mut l = list.borrow_mut();
                let room = MAX_ITEMS.saturating_sub(l.len());
                l.extend(items.into_iter().take(room).map(shallow));
            }
            (Add::SetItems, Value::Dict(d)) => {
                let mut d = d.borrow_mut();
                for kv in items.chunks_exact(2) {
                    d.set(&kv[0], &kv[1]);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn put(&mut self, op: Opcode, key: u64, stored: usize) -> Result<(), String> {
        // CPython: `_Unpickler_ResizeMemoList(self, idx * 2)`, 8-byte slots, zero-filled
        let stored = stored as u64;
        let bytes = key.saturating_mul(16);
        if !self.memo_flagged && bytes > MAX_MEMO_BYTES && key > stored.saturating_mul(2).saturating_add(1024) {
            self.memo_flagged = true;
            self.info.hazards.push(Hazard {
                offset: self.offset,
                global: op.to_string(),
                dangerous: false,
                why: format!(
                    "memo index {key} far past the {stored} entries stored: pickle.load grows its memo to {bytes} bytes \
                     ({:.1} GiB) and zero-fills it (the limit is {MAX_MEMO_BYTES} bytes)",
                    bytes as f64 / f64::from(1u32 << 30)
                ),
            });
        }
        Ok(())
    }

    fn global(&mut self, module: &'a str, name: &'a str, how: Named) -> Result<Value<'a>, String> {
        let how = match how {
            Named::Global => How::Global,
            Named::Inst => How::Inst,
        };
        self.record(module, name, how)
    }

    fn stack_global(&mut self, module: Value<'a>, name: Value<'a>) -> Result<Value<'a>, String> {
        match (name_of(&module), name_of(&name)) {
            (Name::Text(m), Name::Text(n)) => self.record(&m, &n, How::StackGlobal),
            (Name::NotText, _) | (_, Name::NotText) => Err("STACK_GLOBAL operands are not strings".to_owned()),
            (m, n) => {
                let m = if let Name::Text(m) = m { m } else { "?".to_owned() };
                let n = if let Name::Text(n) = n { n } else { "?".to_owned() };
                self.record(&m, &n, How::Unresolved)
            }
        }
    }

    fn call(&mut self, callable: Value<'a>, args: Value<'a>, _: Call) -> Result<Value<'a>, String> {
        Ok(call_result(&callable, &args, self.offset, &mut self.info))
    }

    fn build(&mut self, target: &mut Value<'a>, state: Value<'a>) -> Result<(), String> {
        if let Value::JoblibWrapper(builds) = target
            && self.follow_joblib
        {
            // a second BUILD updates the first one's attributes (an alignment it set stays set):
            // the data's layout is the union of both states, which the scan does not follow
            if builds.get() > 0 {
                return Err("a joblib NumpyArrayWrapper built twice: where its array data ends is not known".into());
            }
            builds.set(1);
            // joblib's unpickler reads the array's data right after this BUILD
            *target = Value::Unknown;
            self.joblib = Some(state);
        } else {
            build_hazard(target, &state, self.offset, &mut self.info);
        }
        Ok(())
    }

    fn persistent(&mut self, pid: Pid<'a, Value<'a>>) -> Result<Value<'a>, String> {
        let pid = match pid {
            Pid::Line(l) => Value::Str(Rc::from(String::from_utf8_lossy(&l[..l.len().min(MAX_TEXT)]).as_ref())),
            Pid::Value(v) => v,
        };
        if self.info.persistent_ids.len() < MAX_ITEMS {
            self.info.persistent_ids.push(pid);
        }
        Ok(Value::Unknown)
    }

    fn extension(&mut self, _: Opcode, code: i64) -> Result<Value<'a>, String> {
        self.record("copyreg extension", &code.to_string(), How::Extension)?;
        Ok(Value::Unknown)
    }

    fn buffer(&mut self, op: Opcode) -> Result<Option<Value<'a>>, String> {
        Ok((op == Opcode::NextBuffer).then_some(Value::Unknown))
    }
}
