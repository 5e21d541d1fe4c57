//! Malicious pickles and containers built as bytes, one per bypass family, shared by the scanner's
//! library tests (tests/scan_malicious.rs) and CLI tests (tests/cli_scan.rs).
#![allow(dead_code)]

mod containers;
mod pickles;

pub use pickles::{Case, evil, malicious};

/// A pickle under construction, one opcode per method.
#[derive(Default, Clone)]
pub struct P(pub Vec<u8>);

impl P {
    pub fn new() -> Self {
        P(Vec::new())
    }
    pub fn proto(mut self, n: u8) -> Self {
        self.0.extend_from_slice(&[0x80, n]);
        self
    }
    pub fn raw(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
    /// GLOBAL `module\nname\n`.
    pub fn global(self, m: &str, n: &str) -> Self {
        self.raw(format!("c{m}\n{n}\n").as_bytes())
    }
    /// INST after a MARK and arguments.
    pub fn inst(self, m: &str, n: &str) -> Self {
        self.raw(format!("i{m}\n{n}\n").as_bytes())
    }
    /// SHORT_BINUNICODE.
    pub fn sbu(self, s: &str) -> Self {
        let mut p = self.raw(&[0x8c, s.len() as u8]);
        p.0.extend_from_slice(s.as_bytes());
        p
    }
    /// BINUNICODE.
    pub fn bu(self, s: &str) -> Self {
        let mut p = self.raw(b"X").raw(&(s.len() as u32).to_le_bytes());
        p.0.extend_from_slice(s.as_bytes());
        p
    }
    /// STRING (protocol 0), `lit` written as is between quotes.
    pub fn string(self, lit: &str) -> Self {
        self.raw(format!("S'{lit}'\n").as_bytes())
    }
    /// UNICODE (protocol 0, raw-unicode-escape).
    pub fn unicode(self, lit: &str) -> Self {
        self.raw(format!("V{lit}\n").as_bytes())
    }
    /// SHORT_BINSTRING.
    pub fn sbs(self, s: &str) -> Self {
        let mut p = self.raw(&[b'U', s.len() as u8]);
        p.0.extend_from_slice(s.as_bytes());
        p
    }
    /// BINBYTES.
    pub fn bytes(self, b: &[u8]) -> Self {
        let mut p = self.raw(b"B").raw(&(b.len() as u32).to_le_bytes());
        p.0.extend_from_slice(b);
        p
    }
    pub fn binput(self, i: u8) -> Self {
        self.raw(&[b'q', i])
    }
    pub fn binget(self, i: u8) -> Self {
        self.raw(&[b'h', i])
    }
    pub fn memoize(self) -> Self {
        self.raw(&[0x94])
    }
    pub fn stack_global(self) -> Self {
        self.raw(&[0x93])
    }
    pub fn mark(self) -> Self {
        self.raw(b"(")
    }
    pub fn tuple(self) -> Self {
        self.raw(b"t")
    }
    pub fn tuple1(self) -> Self {
        self.raw(&[0x85])
    }
    pub fn tuple2(self) -> Self {
        self.raw(&[0x86])
    }
    pub fn empty_tuple(self) -> Self {
        self.raw(b")")
    }
    pub fn reduce(self) -> Self {
        self.raw(b"R")
    }
    pub fn stop(self) -> Self {
        self.raw(b".")
    }
    pub fn none(self) -> Self {
        self.raw(b"N")
    }
    pub fn build(self) -> Vec<u8> {
        self.0
    }
    /// `callable(arg)` where callable is GLOBAL m.n and arg a unicode string: `m.n(arg)`.
    pub fn call1(self, m: &str, n: &str, arg: &str) -> Self {
        self.global(m, n).bu(arg).tuple1().reduce()
    }
}

/// A protocol 2 pickle that calls `module.name("id")`.
pub fn call(m: &str, n: &str) -> Vec<u8> {
    P::new().proto(2).call1(m, n, "id").stop().build()
}

/// A benign protocol 2 pickle: an OrderedDict with one int.
pub fn benign() -> Vec<u8> {
    P::new()
        .proto(2)
        .global("collections", "OrderedDict")
        .empty_tuple()
        .reduce()
        .bu("k")
        .raw(b"K\x07s")
        .stop()
        .build()
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One zip entry to write.
#[derive(Clone)]
pub struct Z {
    pub name: String,
    pub local_name: String,
    pub content: Vec<u8>,
    pub flags: u16,
    pub deflate: bool,
    pub bad_crc: bool,
}

pub fn z(name: &str, content: &[u8]) -> Z {
    Z {
        name: name.into(),
        local_name: name.into(),
        content: content.to_vec(),
        flags: 0,
        deflate: false,
        bad_crc: false,
    }
}

/// A zip archive as `torch.save` or `numpy.savez` write them (plus the oddities an attacker uses).
pub fn zip(entries: &[Z]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let off = out.len() as u32;
        let (method, data) = if e.deflate {
            (8u16, miniz_oxide::deflate::compress_to_vec(&e.content, 6))
        } else {
            (0u16, e.content.clone())
        };
        let crc = if e.bad_crc {
            crc32(&e.content) ^ 0xdead_beef
        } else {
            crc32(&e.content)
        };
        let header = |sig: &[u8], name: &str, central: bool| {
            let mut h = sig.to_vec();
            if central {
                h.extend_from_slice(&20u16.to_le_bytes());
            }
            h.extend_from_slice(&20u16.to_le_bytes());
            h.extend_from_slice(&e.flags.to_le_bytes());
            h.extend_from_slice(&method.to_le_bytes());
            h.extend_from_slice(&[0; 4]);
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&(data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(e.content.len() as u32).to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            if central {
                h.extend_from_slice(&[0; 8]);
                h.extend_from_slice(&[0; 2]);
                h.extend_from_slice(&off.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend_from_slice(&header(b"PK\x03\x04", &e.local_name, false));
        out.extend_from_slice(&data);
        central.extend_from_slice(&header(b"PK\x01\x02", &e.name, true));
    }
    let cd_off = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_off.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

/// The data.pkl of a one-tensor `torch.save` (protocol 2): `{"w": FloatStorage "0", 2 elements}`.
pub fn torch_data_pkl() -> Vec<u8> {
    P::new()
        .proto(2)
        .raw(b"}q\x00")
        .bu("w")
        .global("torch._utils", "_rebuild_tensor_v2")
        .mark()
        .mark()
        .bu("storage")
        .global("torch", "FloatStorage")
        .bu("0")
        .bu("cpu")
        .raw(b"K\x02")
        .tuple()
        .raw(b"Q") // BINPERSID
        .raw(b"K\x00K\x02\x85K\x01\x85\x89")
        .global("collections", "OrderedDict")
        .empty_tuple()
        .reduce()
        .tuple()
        .reduce()
        .raw(b"s")
        .stop()
        .build()
}

/// A torch zip archive around `data_pkl`, with one 8-byte storage.
pub fn torch_zip(data_pkl: &[u8]) -> Vec<u8> {
    zip(&[
        z("archive/data.pkl", data_pkl),
        z("archive/data/0", &[0, 0, 128, 63, 0, 0, 0, 64]),
        z("archive/version", b"3\n"),
    ])
}

/// The torch legacy magic number pickle (protocol 2).
pub fn legacy_magic() -> Vec<u8> {
    P::new()
        .proto(2)
        .raw(&[0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19])
        .stop()
        .build()
}

/// A legacy `torch.save` file: magic, protocol version, sys_info, `object`, key list, storage "0"
/// (2 floats).
pub fn legacy(magic: &[u8], object: &[u8]) -> Vec<u8> {
    let mut f = magic.to_vec();
    f.extend(P::new().proto(2).raw(b"M\xe9\x03").stop().build());
    f.extend(
        P::new()
            .proto(2)
            .raw(b"}q\x00")
            .bu("little_endian")
            .raw(b"\x88s")
            .stop()
            .build(),
    );
    f.extend_from_slice(object);
    f.extend(P::new().proto(2).raw(b"]q\x00").bu("0").raw(b"a").stop().build());
    f.extend_from_slice(&2u64.to_le_bytes());
    f.extend_from_slice(&[0, 0, 128, 63, 0, 0, 0, 64]);
    f
}

/// An `.npy` file whose data is `pickle` (an object array).
pub fn npy_object(pickle: &[u8]) -> Vec<u8> {
    let dict = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }          \n";
    let mut f = b"\x93NUMPY\x01\x00".to_vec();
    f.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    f.extend_from_slice(dict);
    f.extend_from_slice(pickle);
    f
}
