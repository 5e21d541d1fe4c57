//! A GGUF writer for hand-made (and deliberately broken) files: every field can be set to anything.
#![allow(dead_code)]

/// One tensor info: name, `ne` (GGUF order, fastest dimension first), type id, data offset.
#[derive(Clone)]
pub struct Info {
    pub name: Vec<u8>,
    pub ne: Vec<u64>,
    pub ty: u32,
    pub offset: u64,
}

/// A GGUF file under construction.
#[derive(Clone)]
pub struct Builder {
    pub version: u32,
    /// Overrides the written tensor count.
    pub tensor_count: Option<u64>,
    /// Overrides the written key/value count.
    pub kv_count: Option<u64>,
    /// `(key bytes, type id, value bytes)`.
    pub kvs: Vec<(Vec<u8>, u32, Vec<u8>)>,
    pub tensors: Vec<Info>,
    /// Padding before the data section.
    pub alignment: u64,
    pub data: Vec<u8>,
}

pub fn string(s: &[u8]) -> Vec<u8> {
    let mut v = (s.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            version: 3,
            tensor_count: None,
            kv_count: None,
            kvs: Vec::new(),
            tensors: Vec::new(),
            alignment: 32,
            data: Vec::new(),
        }
    }
}

impl Builder {
    pub fn kv(mut self, key: &str, ty: u32, value: Vec<u8>) -> Self {
        self.kvs.push((key.as_bytes().to_vec(), ty, value));
        self
    }

    pub fn kv_str(self, key: &str, value: &str) -> Self {
        self.kv(key, 8, string(value.as_bytes()))
    }

    pub fn kv_u32(self, key: &str, value: u32) -> Self {
        self.kv(key, 4, value.to_le_bytes().to_vec())
    }

    /// A tensor info with an explicit offset (no data added).
    pub fn info(mut self, name: &str, ne: &[u64], ty: u32, offset: u64) -> Self {
        self.tensors.push(Info {
            name: name.as_bytes().to_vec(),
            ne: ne.to_vec(),
            ty,
            offset,
        });
        self
    }

    /// A tensor with its bytes appended to the data section (aligned).
    pub fn tensor(mut self, name: &str, ne: &[u64], ty: u32, bytes: &[u8]) -> Self {
        let offset = (self.data.len() as u64).next_multiple_of(self.alignment.max(1));
        self.data.resize(offset as usize, 0);
        self.data.extend_from_slice(bytes);
        self.info(name, ne, ty, offset)
    }

    /// An F32 vector.
    pub fn f32s(self, name: &str, values: &[f32]) -> Self {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.tensor(name, &[values.len() as u64], 0, &bytes)
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend(self.version.to_le_bytes());
        out.extend(self.tensor_count.unwrap_or(self.tensors.len() as u64).to_le_bytes());
        out.extend(self.kv_count.unwrap_or(self.kvs.len() as u64).to_le_bytes());
        for (k, ty, v) in &self.kvs {
            out.extend(string(k));
            out.extend(ty.to_le_bytes());
            out.extend(v);
        }
        for t in &self.tensors {
            out.extend(string(&t.name));
            out.extend((t.ne.len() as u32).to_le_bytes());
            for d in &t.ne {
                out.extend(d.to_le_bytes());
            }
            out.extend(t.ty.to_le_bytes());
            out.extend(t.offset.to_le_bytes());
        }
        let start = (out.len() as u64).next_multiple_of(self.alignment.max(1));
        out.resize(start as usize, 0);
        out.extend(&self.data);
        out
    }
}
