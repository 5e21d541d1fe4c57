//! What the reader's values are ([`Semantics`] for [`Machine`]): literals become [`Value`]s, containers
//! heap nodes, globals symbols, and calls of allowlisted constructors their data. The stack and memo
//! effects of every opcode are [`super::super::interp`]'s, shared with the scanner. Split from
//! `machine.rs`; same `Machine`.

use std::borrow::Cow;

use super::super::interp::{Add, Call, Container, Fault, Literal, Named, Pid, Semantics};
use super::super::literal::{decimal_to_long, long_to_i64};
use super::super::ops::{Arg, Opcode};
use super::*;

impl<'a> Semantics<'a> for Machine<'a> {
    type V = Value<'a>;
    type E = MachineError;
    /// The reader refuses a text literal CPython refuses.
    const LENIENT_TEXT: bool = false;

    fn fault(&self, op: Opcode, f: Fault) -> MachineError {
        let limit = |what, limit: usize| MachineError::Limit {
            what,
            limit: limit as u64,
            offset: self.at,
        };
        match f {
            Fault::Underflow => self.bad("pop from an empty stack"),
            Fault::Empty => self.bad("the stack is empty"),
            Fault::NoMark => self.bad("no MARK on the stack"),
            Fault::StackFull => limit("stack entries", MAX_STACK),
            Fault::MemoFull => limit("memo entries", MAX_MEMO),
            Fault::MemoMissing(i) => self.bad(format!("memo entry {i} was never stored")),
            Fault::BadText if op == Opcode::String => self.bad("STRING argument is not a quoted literal"),
            Fault::BadText => self.bad("bad raw-unicode-escape text"),
            Fault::NoClass => self.bad("OBJ without a class"),
            Fault::BadArg => self.bad(format!("bad {op} argument")),
        }
    }

    fn proto(&mut self, arg: Arg<'a>) -> R<()> {
        if !matches!(arg, Arg::Int(0..=5)) {
            return Err(self.bad(format!("unsupported pickle protocol {arg:?}")));
        }
        Ok(())
    }

    fn literal(&mut self, lit: Literal<'a>) -> R<Value<'a>> {
        Ok(match lit {
            Literal::None => Value::None,
            Literal::Bool(b) => Value::Bool(b),
            Literal::Int(i) => Value::Int(i),
            Literal::Float(f) => Value::Float(f),
            Literal::Long(b) => match long_to_i64(b) {
                Some(i) => Value::Int(i),
                None => Value::BigInt(Blob::Borrowed(b)),
            },
            Literal::BigInt(t) if t.len() > MAX_INT_DIGITS + 1 => {
                return Err(MachineError::Limit {
                    what: "digits in an integer literal",
                    limit: MAX_INT_DIGITS as u64,
                    offset: self.at,
                });
            }
            Literal::BigInt(t) => match decimal_to_long(&t.replace('_', "")) {
                Some(b) => Value::BigInt(Blob::Shared(Rc::from(b))),
                None => return Err(self.bad("bad integer text")),
            },
            Literal::Str(s) => Value::Str(text_from(s)),
            // Python 2 str: text when it is UTF-8 (as torch's loader decodes it), bytes otherwise
            Literal::Py2Str(Cow::Borrowed(b)) => match std::str::from_utf8(b) {
                Ok(s) => Value::Str(Text::Borrowed(s)),
                Err(_) => Value::Bytes(Blob::Borrowed(b)),
            },
            Literal::Py2Str(Cow::Owned(b)) => match String::from_utf8(b) {
                Ok(s) => Value::Str(Text::Shared(Rc::from(s))),
                Err(e) => Value::Bytes(Blob::Shared(Rc::from(e.into_bytes()))),
            },
            Literal::Bytes(b) => Value::Bytes(Blob::Borrowed(b)),
        })
    }

    fn container(&mut self, kind: Container, items: Vec<Value<'a>>) -> R<Value<'a>> {
        match kind {
            Container::Tuple => self.alloc(Node::Tuple(items)),
            Container::List => self.alloc(Node::List(items)),
            Container::Set | Container::FrozenSet => self.alloc(Node::Set(items)),
            Container::Dict => {
                let d = self.alloc(Node::Dict(Dict::default()))?;
                if !items.is_empty() {
                    self.set_items(&d, items)?;
                }
                Ok(d)
            }
        }
    }

    fn add(&mut self, target: &mut Value<'a>, how: Add, items: Vec<Value<'a>>) -> R<()> {
        match how {
            Add::Append | Add::AddItems => self.append(target, items),
            Add::SetItems => self.set_items(target, items),
        }
    }

    fn put(&mut self, _: Opcode, _: u64, _: usize) -> R<()> {
        Ok(())
    }

    fn global(&mut self, module: &'a str, name: &'a str, _: Named) -> R<Value<'a>> {
        self.symbol(Text::Borrowed(module), Text::Borrowed(name))
    }

    fn stack_global(&mut self, module: Value<'a>, name: Value<'a>) -> R<Value<'a>> {
        let (Value::Str(module), Value::Str(name)) = (module, name) else {
            return Err(self.bad("STACK_GLOBAL needs two strings"));
        };
        self.symbol(module, name)
    }

    fn call(&mut self, callable: Value<'a>, args: Value<'a>, _: Call) -> R<Value<'a>> {
        Machine::call(self, callable, args)
    }

    fn build(&mut self, target: &mut Value<'a>, state: Value<'a>) -> R<()> {
        Machine::build(self, target, state)
    }

    fn persistent(&mut self, pid: Pid<'a, Value<'a>>) -> R<Value<'a>> {
        let pid = match pid {
            Pid::Line(l) => Value::Str(Text::Shared(Rc::from(String::from_utf8_lossy(l).as_ref()))),
            Pid::Value(v) => v,
        };
        self.persistent_load(pid)
    }

    fn extension(&mut self, op: Opcode, _: i64) -> R<Value<'a>> {
        Err(self.bad(format!("{op}: extension codes are not registered")))
    }

    fn buffer(&mut self, op: Opcode) -> R<Option<Value<'a>>> {
        Err(self.bad(format!("{op}: out-of-band buffers are not supported")))
    }
}
