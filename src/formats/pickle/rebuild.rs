//! What "calling" an allowlisted global builds: dicts, sets, bytes, `torch.Size`, devices, tensors
//! over storages (and the persistent ids that name the storages), numpy arrays and scalars. Any
//! other call becomes an opaque object.

use std::rc::Rc;

use super::allowlist::SafeGlobal;
use super::machine::{MAX_DIMS, MAX_STORAGE_KEY, Machine, MachineError};
use super::value::*;
use crate::model::DType;

type R<T> = Result<T, MachineError>;

/// `module.name` of a called global, rendered only when a message needs it (formatting it for
/// every call cost a String per tensor).
#[derive(Clone)]
struct Qualified<'a>(Text<'a>, Text<'a>);

impl std::fmt::Display for Qualified<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", &*self.0, &*self.1)
    }
}

impl<'a> Machine<'a> {
    pub(super) fn opaque(&mut self, callable: Value<'a>, args: Value<'a>) -> R<Value<'a>> {
        self.alloc(Node::Object(Box::new(Object {
            callable: Some(callable),
            args: Some(args),
            ..Object::default()
        })))
    }

    /// "Call" `callable(*args)`: a value for allowlisted constructors, an opaque object otherwise.
    pub(super) fn call(&mut self, callable: Value<'a>, args: Value<'a>) -> R<Value<'a>> {
        let Some(g) = self.heap.global(&callable) else {
            return self.opaque(callable, args);
        };
        let (Some(safe), qualified) = (g.safe, Qualified(g.module.clone(), g.name.clone())) else {
            return self.opaque(callable, args);
        };
        let n = match self.heap.seq(&args) {
            Some(s) => s.len(),
            None => return Err(self.bad(format!("{qualified}: arguments are not a tuple"))),
        };
        self.charge(n)?;
        use SafeGlobal as S;
        if matches!(safe, S::RebuildTensorV2 | S::RebuildTensor) {
            // the call of every tensor: read its arguments in place rather than copying them
            let t = self.tensor_of(&args, usize::MAX, None, &qualified)?;
            return self.alloc(Node::Tensor(Box::new(t)));
        }
        let a: Vec<Value<'a>> = self.heap.seq(&args).map(<[_]>::to_vec).unwrap_or_default();
        match safe {
            S::OrderedDict => {
                let d = self.alloc(Node::Dict(Dict::default()))?;
                if let Some(n) = a.first().and_then(|p| self.heap.seq(p)).map(<[_]>::len) {
                    self.charge(n)?;
                }
                if let Some(pairs) = a.first().and_then(|p| self.heap.seq(p)) {
                    let flat: Option<Vec<Value<'a>>> = pairs
                        .iter()
                        .map(|p| self.heap.seq(p).filter(|kv| kv.len() == 2).map(|kv| kv.to_vec()))
                        .flatten_ok();
                    let flat = flat.ok_or_else(|| self.bad("OrderedDict: items are not pairs"))?;
                    self.set_items(&d, flat)?;
                }
                Ok(d)
            }
            S::Set => {
                let n = a.first().and_then(|s| self.heap.seq(s)).map_or(0, <[_]>::len);
                self.charge(n)?;
                let items = a.first().and_then(|s| self.set_or_seq(s)).unwrap_or_default();
                self.grow(items.len())?;
                self.alloc(Node::Set(items))
            }
            S::Size => {
                let n = a.first().and_then(|s| self.heap.seq(s)).map_or(0, <[_]>::len);
                self.charge(n)?;
                let items = a
                    .first()
                    .and_then(|s| self.heap.seq(s))
                    .map(<[_]>::to_vec)
                    .unwrap_or_default();
                self.alloc(Node::Tuple(items))
            }
            S::Device => {
                let parts: Vec<String> = a.iter().filter_map(|p| self.heap.repr(p)).collect();
                self.charge(parts.iter().map(String::len).sum())?;
                Ok(Value::Str(Text::Shared(Rc::from(parts.join(":")))))
            }
            S::CodecsEncode | S::Bytes => match (a.first(), a.get(1).and_then(|e| e.as_str())) {
                (None, _) => Ok(Value::Bytes(Blob::Borrowed(&[]))),
                (Some(Value::Bytes(b)), None) => Ok(Value::Bytes(b.clone())),
                (Some(Value::Str(s)), Some(enc)) => match self.charge(s.len()).map(|()| encode(s, enc))? {
                    Some(b) => Ok(Value::Bytes(Blob::Shared(Rc::from(b)))),
                    None => Err(self.bad(format!(
                        "{qualified}: unsupported encoding {}",
                        crate::text::escape(enc)
                    ))),
                },
                _ => self.opaque(callable, args),
            },
            S::RebuildTensorV2 | S::RebuildTensor => self.rebuild_tensor(&args, usize::MAX, None, &qualified),
            S::RebuildTensorV3 => match self.heap.global(a.get(6).unwrap_or(&Value::None)).and_then(|g| g.safe) {
                Some(S::TorchDType(d)) => self.rebuild_tensor(&args, usize::MAX, Some(d), &qualified),
                _ => Err(self.bad(format!("{qualified}: the seventh argument is not a torch dtype"))),
            },
            S::RebuildParameter | S::RebuildParameterWithState | S::Parameter => match a.first() {
                Some(t @ Value::Node(id)) if matches!(self.heap.get(*id), Some(Node::Tensor(_))) => Ok(t.clone()),
                _ => Err(self.bad(format!("{qualified}: the first argument is not a tensor"))),
            },
            S::RebuildFromTypeV2 => {
                // (func, new_type, args, state): rebuild only through an allowlisted func
                let (Some(func), Some(inner)) = (a.first(), a.get(2)) else {
                    return Err(self.bad(format!("{qualified}: expected (func, type, args, state)")));
                };
                let func_ok = self
                    .heap
                    .global(func)
                    .and_then(|g| g.safe)
                    .is_some_and(|s| s != S::RebuildFromTypeV2);
                if func_ok {
                    self.call(func.clone(), inner.clone())
                } else {
                    self.opaque(callable, args)
                }
            }
            S::NumpyReconstruct => self.alloc(Node::NpPending),
            S::NumpyDtype => match a.first().and_then(|c| c.as_str()) {
                Some(code) => {
                    let code = code.to_string();
                    self.charge(code.len())?;
                    self.alloc(Node::NpDtype(NpDtype { code, order: '=' }))
                }
                None => self.opaque(callable, args),
            },
            // a numeric array viewing bytes of the pickle: the reader keeps it as an opaque value
            S::NumpyFromBuffer => self.opaque(callable, args),
            S::NumpyScalar => match super::numpy::scalar(&self.heap, &a) {
                Some(v) => Ok(v),
                None => self.opaque(callable, args),
            },
            S::Counter => match a.first() {
                Some(d) if matches!(self.heap.node(d), Some(Node::Dict(_))) => Ok(d.clone()),
                None => self.alloc(Node::Dict(Dict::default())),
                _ => self.opaque(callable, args),
            },
            S::Layout | S::QScheme => {
                // a label: the layout named by `_get_layout("torch.sparse_coo")` or the global itself
                let label = match a.first().and_then(|v| v.as_str()) {
                    Some(name) => name.to_string(),
                    None => qualified.to_string(),
                };
                self.charge(label.len())?;
                Ok(Value::Str(Text::Shared(Rc::from(label))))
            }
            S::RebuildQTensor => self.rebuild_tensor(&args, 4, None, &qualified),
            S::Complex => match (a.first(), a.get(1)) {
                // Python's repr: (1+2j)
                (Some(Value::Float(re)), Some(Value::Float(im))) => {
                    let sign = if im.is_sign_negative() { '-' } else { '+' };
                    let text = format!("({re}{sign}{}j)", im.abs());
                    self.charge(text.len())?;
                    Ok(Value::Str(Text::Shared(Rc::from(text))))
                }
                _ => self.opaque(callable, args),
            },
            S::RebuildMetaTensor => {
                // (dtype, size, stride, requires_grad): a shape without data
                let dtype = a.first().and_then(|d| self.heap.global(d)).map(|g| g.qualified());
                match (dtype, a.get(1).and_then(|s| self.heap.dims(s))) {
                    (Some(d), Some(shape)) => {
                        let text = format!("meta tensor {d} {shape:?}");
                        self.charge(text.len())?;
                        Ok(Value::Str(Text::Shared(Rc::from(text))))
                    }
                    _ => self.opaque(callable, args),
                }
            }
            // the walk that names tensors says which tensor this is and which listed tensors are its parts
            S::RebuildSparseTensor => self.opaque(callable, args),
            S::Storage(_) | S::UntypedStorage | S::TorchDType(_) | S::NumpyNdarray | S::TensorType => {
                self.warn(format!(
                    "call of {} was not rebuilt",
                    crate::text::escape(&qualified.to_string())
                ));
                self.opaque(callable, args)
            }
        }
    }

    fn set_or_seq(&self, v: &Value<'a>) -> Option<Vec<Value<'a>>> {
        match self.heap.node(v)? {
            Node::Tuple(s) | Node::List(s) | Node::Set(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// A tensor over a storage from the first `limit` items of the argument tuple `args`; `dtype`
    /// overrides the storage's element type (`_rebuild_tensor_v3`).
    fn rebuild_tensor(
        &mut self,
        args: &Value<'a>,
        limit: usize,
        dtype: Option<DType>,
        qualified: &Qualified<'_>,
    ) -> R<Value<'a>> {
        let t = self.tensor_of(args, limit, dtype, qualified)?;
        self.alloc(Node::Tensor(Box::new(t)))
    }

    /// The tensor [`Machine::rebuild_tensor`] allocates, built while the arguments are borrowed.
    fn tensor_of(
        &self,
        args: &Value<'a>,
        limit: usize,
        dtype: Option<DType>,
        qualified: &Qualified<'_>,
    ) -> R<Tensor<'a>> {
        let a = self.heap.seq(args).unwrap_or_default();
        let a = &a[..a.len().min(limit)];
        let bad = |m: &str| self.bad(format!("{qualified}: {m}"));
        let (Some(storage), Some(offset), Some(size), Some(stride)) = (a.first(), a.get(1), a.get(2), a.get(3)) else {
            return Err(bad("expected (storage, offset, size, stride, …)"));
        };
        let Some(Node::Storage(s)) = self.heap.node(storage) else {
            return Err(bad("the first argument is not a storage"));
        };
        let dtype = dtype.unwrap_or(s.dtype);
        let Value::Node(sid) = *storage else {
            return Err(bad("the first argument is not a storage"));
        };
        let offset = offset
            .as_int()
            .and_then(|o| u64::try_from(o).ok())
            .ok_or_else(|| bad("bad storage offset"))?;
        let rank = |v: &Value<'a>| self.heap.seq(v).map_or(0, <[_]>::len);
        if rank(size).max(rank(stride)) > MAX_DIMS {
            return Err(bad(&format!(
                "{} dimensions (at most {MAX_DIMS})",
                rank(size).max(rank(stride))
            )));
        }
        let shape = self
            .heap
            .dims(size)
            .ok_or_else(|| bad("size is not a tuple of non-negative ints"))?;
        let strides = match self.heap.seq(stride) {
            Some(s) if s.iter().any(|x| x.as_int().is_some_and(|i| i < 0)) => {
                return Err(bad("negative strides are not supported"));
            }
            _ => self
                .heap
                .dims(stride)
                .ok_or_else(|| bad("stride is not a tuple of ints"))?,
        };
        if strides.len() != shape.len() {
            return Err(bad(&format!(
                "{} strides for {} dimensions",
                strides.len(),
                shape.len()
            )));
        }
        Ok(Tensor {
            data: TensorData::Storage(sid),
            dtype,
            offset,
            shape,
            strides,
        })
    }

    /// `('storage', type, key, location, numel[, view])`, the persistent ids of `torch.save`.
    pub(super) fn persistent_load(&mut self, pid: Value<'a>) -> R<Value<'a>> {
        let n = self.heap.seq(&pid).map_or(0, <[_]>::len);
        if !(5..=6).contains(&n) {
            return Err(self.bad("persistent id is not ('storage', type, key, location, numel)"));
        }
        // read in place (no copy of the id's items): the node is allocated after the borrow ends
        let items = self.heap.seq(&pid).unwrap_or_default();
        let tag_ok = match items.first() {
            Some(Value::Str(t)) => &**t == "storage",
            Some(Value::Bytes(b)) => &**b == b"storage",
            _ => false,
        };
        if !tag_ok || !(5..=6).contains(&items.len()) {
            return Err(self.bad("persistent id is not ('storage', type, key, location, numel)"));
        }
        let dtype = match self.heap.global(&items[1]).and_then(|g| g.safe) {
            Some(SafeGlobal::Storage(d) | SafeGlobal::TorchDType(d)) => d,
            Some(SafeGlobal::UntypedStorage) => DType::U8,
            _ => {
                let name = self.heap.repr(&items[1]).unwrap_or_else(|| "?".into());
                return Err(self.bad(format!("unknown storage type {}", crate::text::escape(&name))));
            }
        };
        let key = match &items[2] {
            Value::Str(s) if s.len() > MAX_STORAGE_KEY => {
                return Err(self.bad(format!("storage key of {} bytes (at most {MAX_STORAGE_KEY})", s.len())));
            }
            Value::Str(s) => s.to_string(),
            Value::Int(i) => i.to_string(),
            _ => return Err(self.bad("storage key is not a string")),
        };
        let location = self.heap.repr(&items[3]).unwrap_or_default();
        let numel = items[4]
            .as_int()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| self.bad("bad storage size"))?;
        let view = match items.get(5) {
            None | Some(Value::None) => None,
            Some(v) => match self.heap.seq(v) {
                Some([_, off, size]) => {
                    let o = off.as_int().and_then(|x| u64::try_from(x).ok());
                    let n = size.as_int().and_then(|x| u64::try_from(x).ok());
                    Some(o.zip(n).ok_or_else(|| self.bad("bad storage view"))?)
                }
                _ => return Err(self.bad("bad storage view")),
            },
        };
        self.alloc(Node::Storage(Box::new(Storage {
            key,
            dtype,
            location,
            numel,
            view,
        })))
    }
}

trait FlattenOk<T> {
    fn flatten_ok(self) -> Option<Vec<T>>;
}

impl<T, I: Iterator<Item = Option<Vec<T>>>> FlattenOk<T> for I {
    fn flatten_ok(self) -> Option<Vec<T>> {
        let mut out = Vec::new();
        for x in self {
            out.extend(x?);
        }
        Some(out)
    }
}

fn encode(s: &str, encoding: &str) -> Option<Vec<u8>> {
    match encoding.to_ascii_lowercase().replace('_', "-").as_str() {
        "latin1" | "latin-1" | "iso-8859-1" => s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect(),
        "utf8" | "utf-8" => Some(s.as_bytes().to_vec()),
        "ascii" => s.is_ascii().then(|| s.as_bytes().to_vec()),
        _ => None,
    }
}
