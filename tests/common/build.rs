//! Builders for hand-made inputs shared by the reliability tests: stored zips, `torch.save` zip
//! archives, pickles opcode by opcode, safetensors files.

/// CRC-32 (IEEE), as zip records it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xedb8_8320 } else { c >> 1 };
        }
    }
    !c
}

/// A stored (uncompressed) zip of `(name, content)` entries, no zip64.
pub fn zip_stored(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, content) in entries {
        let off = out.len() as u32;
        let (n, crc, len) = (name.len() as u16, crc32(content), content.len() as u32);
        out.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(content);
        central.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&len.to_le_bytes());
        central.extend_from_slice(&len.to_le_bytes());
        central.extend_from_slice(&n.to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&off.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// A `torch.save` zip: `archive/data.pkl`, `archive/byteorder`, one `archive/data/KEY` per storage.
pub fn torch_zip(pickle: &[u8], storages: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut e = vec![
        ("archive/data.pkl".to_string(), pickle.to_vec()),
        ("archive/byteorder".to_string(), b"little".to_vec()),
    ];
    for (k, b) in storages {
        e.push((format!("archive/data/{k}"), b.clone()));
    }
    e.push(("archive/version".to_string(), b"3\n".to_vec()));
    zip_stored(&e)
}

/// A pickle written opcode by opcode (protocol 2 framing: `PROTO 2` first, `STOP` at `done`).
#[derive(Default)]
pub struct Pickle(pub Vec<u8>);

impl Pickle {
    pub fn new() -> Self {
        Pickle(vec![0x80, 2])
    }
    pub fn op(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.0.push(b'X');
        self.0.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.0.extend_from_slice(s.as_bytes());
        self
    }
    pub fn int(&mut self, i: i32) -> &mut Self {
        self.0.push(b'J');
        self.0.extend_from_slice(&i.to_le_bytes());
        self
    }
    pub fn put(&mut self, i: u32) -> &mut Self {
        self.0.push(b'r');
        self.0.extend_from_slice(&i.to_le_bytes());
        self
    }
    pub fn get(&mut self, i: u32) -> &mut Self {
        self.0.push(b'j');
        self.0.extend_from_slice(&i.to_le_bytes());
        self
    }
    pub fn global(&mut self, module: &str, name: &str) -> &mut Self {
        self.0.push(b'c');
        self.0.extend_from_slice(format!("{module}\n{name}\n").as_bytes());
        self
    }
    /// `torch._utils._rebuild_tensor_v2(storage(KEY, DTYPE, numel), offset, shape, stride, False, {})`.
    pub fn tensor(
        &mut self,
        key: &str,
        storage_class: &str,
        numel: u64,
        offset: u64,
        shape: &[u64],
        stride: &[u64],
    ) -> &mut Self {
        self.global("torch._utils", "_rebuild_tensor_v2");
        self.op(b"(");
        self.op(b"(")
            .str("storage")
            .global("torch", storage_class)
            .str(key)
            .str("cpu");
        self.op(b"\x8a\x08").op(&numel.to_le_bytes()).op(b"tQ");
        self.op(b"\x8a\x08").op(&offset.to_le_bytes());
        self.op(b"(");
        for d in shape {
            self.op(b"\x8a\x08").op(&d.to_le_bytes());
        }
        self.op(b"t(");
        for s in stride {
            self.op(b"\x8a\x08").op(&s.to_le_bytes());
        }
        self.op(b"t\x89}tR")
    }
    pub fn done(&mut self) -> Vec<u8> {
        let mut v = self.0.clone();
        v.push(b'.');
        v
    }
}

/// A safetensors file from `(name, dtype, shape, bytes)` tensors laid out in order, with metadata.
pub fn safetensors(tensors: &[(String, &str, Vec<u64>, Vec<u8>)], metadata: &[(String, String)]) -> Vec<u8> {
    let mut h = serde_json::Map::new();
    if !metadata.is_empty() {
        let m: serde_json::Map<String, serde_json::Value> =
            metadata.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
        h.insert("__metadata__".into(), m.into());
    }
    let mut at = 0usize;
    for (name, dtype, shape, bytes) in tensors {
        h.insert(
            name.clone(),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [at, at + bytes.len()]}),
        );
        at += bytes.len();
    }
    let mut json = serde_json::to_vec(&h).unwrap();
    while !json.len().is_multiple_of(8) {
        json.push(b' ');
    }
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&json);
    for (_, _, _, b) in tensors {
        out.extend_from_slice(b);
    }
    out
}
