//! The restricted machine's object operations: resolving a global to a symbol, APPEND(S)/SETITEM(S)
//! into containers, and BUILD. Split from `machine.rs`; same `Machine`, second `impl` block.

use super::*;

impl<'a> Machine<'a> {
    pub(in crate::formats::pickle) fn symbol(&mut self, module: Text<'a>, name: Text<'a>) -> R<Value<'a>> {
        self.charge(module.len().saturating_add(name.len()))?;
        let safe = classify_safe(&module, &name);
        let g = Global { module, name, safe };
        if safe.is_none() {
            self.warn(format!(
                "global {} was not rebuilt",
                crate::text::escape(&g.qualified())
            ));
        }
        self.alloc(Node::Global(Box::new(g)))
    }

    pub(in crate::formats::pickle) fn append(&mut self, target: &Value<'a>, items: Vec<Value<'a>>) -> R<()> {
        self.grow(items.len())?;
        let Value::Node(id) = *target else {
            return Err(self.bad("APPEND to a value that is not a list"));
        };
        match self.heap.get_mut(id) {
            Some(Node::List(l) | Node::Set(l)) => l.extend(items),
            Some(Node::Object(o)) => o.items.extend(items),
            _ => return Err(self.bad("APPEND to a value that is not a list")),
        }
        Ok(())
    }

    pub(in crate::formats::pickle) fn set_items(&mut self, target: &Value<'a>, items: Vec<Value<'a>>) -> R<()> {
        if !items.len().is_multiple_of(2) {
            return Err(self.bad("SETITEMS with an odd number of items"));
        }
        // inserting hashes every str key
        let hashed: usize = items.iter().step_by(2).map(|k| k.as_str().map_or(1, str::len)).sum();
        self.charge(items.len().saturating_add(hashed))?;
        self.grow(items.len() / 2)?;
        let Value::Node(id) = *target else {
            return Err(self.bad("SETITEM on a value that is not a dict"));
        };
        let mut it = items.into_iter();
        match self.heap.get_mut(id) {
            Some(Node::Dict(d)) => {
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    d.insert(k, v);
                }
            }
            Some(Node::Object(o)) => {
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    o.pairs.push((k, v));
                }
            }
            _ => return Err(self.bad("SETITEM on a value that is not a dict")),
        }
        Ok(())
    }

    pub(in crate::formats::pickle) fn build(&mut self, target: &Value<'a>, state: Value<'a>) -> R<()> {
        let Value::Node(id) = *target else {
            return Err(self.bad("BUILD on a plain value"));
        };
        match self.heap.get(id) {
            Some(Node::Object(_)) => {
                if let Some(Node::Object(o)) = self.heap.get_mut(id) {
                    o.state = Some(state);
                }
            }
            Some(Node::NpPending) => {
                if let Some(why) = crate::formats::pickle::numpy::not_a_view(&self.heap, &state) {
                    self.warn(format!("a numpy array is not listed: {why}"));
                    return Ok(());
                }
                let t = crate::formats::pickle::numpy::array_from_state(&self.heap, &state).map_err(|m| self.bad(m))?;
                if let Some(n) = self.heap.get_mut(id) {
                    *n = Node::Tensor(Box::new(t));
                }
            }
            Some(Node::NpDtype(_)) => {
                let order = self
                    .heap
                    .seq(&state)
                    .and_then(|s| s.get(1))
                    .and_then(|o| o.as_str())
                    .and_then(|o| o.chars().next());
                if let (Some(Node::NpDtype(d)), Some(o)) = (self.heap.get_mut(id), order) {
                    d.order = o;
                }
            }
            // tensors, parameters and containers: the state (requires_grad, hooks, …) is not data we list
            Some(_) => {}
            None => return Err(self.bad("BUILD on an unknown object")),
        }
        Ok(())
    }
}
