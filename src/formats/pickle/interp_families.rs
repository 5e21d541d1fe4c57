//! [`Interp::step`] by opcode family: the stack itself, literals, containers, the memo, and the
//! opcodes that touch objects (globals, calls, BUILD, persistent ids, extensions, buffers).
//! Split from `interp.rs`; same `Interp`, second `impl` block.

use super::*;

impl<'a, S: Semantics<'a>> Interp<'a, S> {
    /// MARK, POP, POP_MARK, DUP.
    pub(super) fn stack_op(&mut self, op: Opcode) -> Result<(), S::E> {
        let r = match op {
            Opcode::Mark => self.stack.mark(),
            Opcode::Pop => self.stack.pop_or_mark(),
            Opcode::PopMark => self.stack.pop_mark().map(drop),
            _ => self.stack.top().map(|v| v.clone()).and_then(|v| self.stack.push(v)),
        };
        r.map_err(|e| self.sem.fault(op, e))
    }

    /// Every opcode that pushes a literal: decode it once, let the semantics make its value.
    pub(super) fn literal(&mut self, op: Opcode, arg: Arg<'a>) -> Result<(), S::E> {
        use Opcode as O;
        let bad = |s: &Self| s.sem.fault(op, Fault::BadArg);
        let lit = match (op, arg) {
            (O::None, _) => Literal::None,
            (O::NewTrue, _) => Literal::Bool(true),
            (O::NewFalse, _) => Literal::Bool(false),
            (_, Arg::Int(i)) => Literal::Int(i),
            (_, Arg::Bool(b)) => Literal::Bool(b),
            (_, Arg::Float(f)) => Literal::Float(f),
            (_, Arg::Long(b)) => Literal::Long(b),
            (_, Arg::BigInt(t)) => Literal::BigInt(t),
            (O::BinUnicode | O::ShortBinUnicode | O::BinUnicode8, Arg::Str(s)) => Literal::Str(Cow::Borrowed(s)),
            (O::BinUnicode | O::ShortBinUnicode | O::BinUnicode8, Arg::Surrogates(b)) => {
                Literal::Str(Cow::Owned(crate::formats::pickle::literal::surrogatepass_lossy(b)))
            }
            (O::BinBytes | O::ShortBinBytes | O::BinBytes8 | O::ByteArray8, Arg::Bytes(b)) => Literal::Bytes(b),
            (O::BinString | O::ShortBinString, Arg::Bytes(b)) => Literal::Py2Str(Cow::Borrowed(b)),
            (O::String, Arg::Line(l)) => {
                // CPython reads the line without its `\n` only; a lenient reader drops a `\r` too
                let l = if S::LENIENT_TEXT {
                    l.strip_suffix(b"\r").unwrap_or(l)
                } else {
                    l
                };
                let b = unquote(l).ok_or_else(|| self.sem.fault(op, Fault::BadText))?;
                Literal::Py2Str(Cow::Owned(b))
            }
            (O::Unicode, Arg::Line(l)) => match raw_unicode_escape(l) {
                Some(s) => Literal::Str(s),
                None if S::LENIENT_TEXT => Literal::Str(Cow::Owned(l.iter().map(|&b| char::from(b)).collect())),
                None => return Err(self.sem.fault(op, Fault::BadText)),
            },
            _ => return Err(bad(self)),
        };
        let v = self.sem.literal(lit)?;
        self.push(op, v)
    }

    /// Containers built from the stack, and the opcodes that add into the container on top.
    pub(super) fn container(&mut self, op: Opcode) -> Result<(), S::E> {
        use Opcode as O;
        let fault = |s: &Self, e| s.sem.fault(op, e);
        let (kind, items) = match op {
            O::EmptyTuple => (Container::Tuple, Vec::new()),
            O::EmptyList => (Container::List, Vec::new()),
            O::EmptyDict => (Container::Dict, Vec::new()),
            O::EmptySet => (Container::Set, Vec::new()),
            O::Tuple1 | O::Tuple2 | O::Tuple3 => {
                let n = match op {
                    O::Tuple1 => 1,
                    O::Tuple2 => 2,
                    _ => 3,
                };
                let items = self.stack.pop_n(n).map_err(|e| fault(self, e))?;
                (Container::Tuple, items)
            }
            O::Tuple => (Container::Tuple, self.pop_mark(op)?),
            O::List => (Container::List, self.pop_mark(op)?),
            O::Dict => (Container::Dict, self.pop_mark(op)?),
            O::FrozenSet => (Container::FrozenSet, self.pop_mark(op)?),
            _ => {
                let (how, items) = match op {
                    O::Append => (Add::Append, vec![self.pop(op)?]),
                    O::Appends => (Add::Append, self.pop_mark(op)?),
                    O::SetItem => {
                        let v = self.pop(op)?;
                        let k = self.pop(op)?;
                        (Add::SetItems, vec![k, v])
                    }
                    O::SetItems => (Add::SetItems, self.pop_mark(op)?),
                    _ => (Add::AddItems, self.pop_mark(op)?),
                };
                let target = self.stack.top().map_err(|e| self.sem.fault(op, e))?;
                return self.sem.add(target, how, items);
            }
        };
        let v = self.sem.container(kind, items)?;
        self.push(op, v)
    }

    /// GET, BINGET, LONG_BINGET, PUT, BINPUT, LONG_BINPUT, MEMOIZE.
    pub(super) fn memo_op(&mut self, op: Opcode, arg: Arg<'a>) -> Result<(), S::E> {
        use Opcode as O;
        match (op, arg) {
            (O::Get | O::BinGet | O::LongBinGet, Arg::Memo(i)) => {
                let v = self.memo.get(i).cloned();
                let v = v.ok_or_else(|| self.sem.fault(op, Fault::MemoMissing(i)))?;
                self.push(op, v)
            }
            (O::Put | O::BinPut | O::LongBinPut, Arg::Memo(i)) => self.put(op, i),
            (O::Memoize, _) => self.put(op, self.memo.len() as u64),
            _ => Err(self.sem.fault(op, Fault::BadArg)),
        }
    }

    fn put(&mut self, op: Opcode, i: u64) -> Result<(), S::E> {
        let v = self.stack.top().map(|v| v.clone()).map_err(|e| self.sem.fault(op, e))?;
        self.sem.put(op, i, self.memo.len())?;
        if self.memo.len() >= MAX_MEMO && self.memo.get(i).is_none() {
            return Err(self.sem.fault(op, Fault::MemoFull));
        }
        self.memo.insert(i, v);
        Ok(())
    }

    /// Globals, calls, BUILD, persistent ids, extension codes and out-of-band buffers.
    pub(super) fn object_op(&mut self, op: Opcode, arg: Arg<'a>) -> Result<(), S::E> {
        use Opcode as O;
        let v = match (op, arg) {
            (O::Global, Arg::Global { module, name }) => self.sem.global(module, name, Named::Global)?,
            (O::Inst, Arg::Global { module, name }) => {
                let class = self.sem.global(module, name, Named::Inst)?;
                let items = self.pop_mark(op)?;
                let args = self.sem.container(Container::Tuple, items)?;
                self.sem.call(class, args, Call::Instantiate)?
            }
            (O::StackGlobal, _) => {
                let name = self.pop(op)?;
                let module = self.pop(op)?;
                self.sem.stack_global(module, name)?
            }
            (O::Reduce | O::NewObj, _) => {
                let args = self.pop(op)?;
                let callable = self.pop(op)?;
                let how = if op == O::Reduce { Call::Reduce } else { Call::NewObj };
                self.sem.call(callable, args, how)?
            }
            (O::NewObjEx, _) => {
                let _kwargs = self.pop(op)?;
                let args = self.pop(op)?;
                let class = self.pop(op)?;
                self.sem.call(class, args, Call::NewObj)?
            }
            (O::Obj, _) => {
                let mut items = self.pop_mark(op)?;
                if items.is_empty() {
                    return Err(self.sem.fault(op, Fault::NoClass));
                }
                let class = items.remove(0);
                let args = self.sem.container(Container::Tuple, items)?;
                self.sem.call(class, args, Call::Instantiate)?
            }
            (O::Build, _) => {
                let state = self.pop(op)?;
                let target = self.stack.top().map_err(|e| self.sem.fault(op, e))?;
                return self.sem.build(target, state);
            }
            (O::PersId, Arg::Line(l)) => self.sem.persistent(Pid::Line(l))?,
            (O::BinPersId, _) => {
                let pid = self.pop(op)?;
                self.sem.persistent(Pid::Value(pid))?
            }
            (O::Ext1 | O::Ext2 | O::Ext4, arg) => {
                let code = if let Arg::Int(c) = arg { c } else { -1 };
                self.sem.extension(op, code)?
            }
            (O::NextBuffer | O::ReadonlyBuffer, _) => match self.sem.buffer(op)? {
                Some(v) => v,
                None => return Ok(()),
            },
            _ => return Err(self.sem.fault(op, Fault::BadArg)),
        };
        self.push(op, v)
    }
}
