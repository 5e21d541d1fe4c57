//! Malicious pickles and containers built as bytes, one per bypass family, shared by the scanner's
//! library tests (tests/scan_malicious.rs) and CLI tests (tests/cli_scan.rs).
#![allow(dead_code)]

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
    P::new().proto(2).global("collections", "OrderedDict").empty_tuple().reduce().bu("k").raw(b"K\x07s").stop().build()
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
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
        let crc = if e.bad_crc { crc32(&e.content) ^ 0xdead_beef } else { crc32(&e.content) };
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
    zip(&[z("archive/data.pkl", data_pkl), z("archive/data/0", &[0, 0, 128, 63, 0, 0, 0, 64]), z("archive/version", b"3\n")])
}

/// The torch legacy magic number pickle (protocol 2).
pub fn legacy_magic() -> Vec<u8> {
    P::new().proto(2).raw(&[0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]).stop().build()
}

/// A legacy `torch.save` file: magic, protocol version, sys_info, `object`, key list, storage "0"
/// (2 floats).
pub fn legacy(magic: &[u8], object: &[u8]) -> Vec<u8> {
    let mut f = magic.to_vec();
    f.extend(P::new().proto(2).raw(b"M\xe9\x03").stop().build());
    f.extend(P::new().proto(2).raw(b"}q\x00").bu("little_endian").raw(b"\x88s").stop().build());
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

/// A malicious file: name on disk, bytes, and a global the scan must name (with its severity).
pub struct Case {
    pub name: &'static str,
    pub file: &'static str,
    pub bytes: Vec<u8>,
    /// A global that must appear among the findings, `None` for non-global findings.
    pub global: Option<&'static str>,
    /// Whether that global (or the file) must be dangerous, not just suspicious.
    pub dangerous: bool,
}

fn case(name: &'static str, file: &'static str, bytes: Vec<u8>, global: Option<&'static str>, dangerous: bool) -> Case {
    Case { name, file, bytes, global, dangerous }
}

/// The pickles inside which the container cases hide a payload.
fn evil() -> Vec<u8> {
    call("posix", "system")
}

/// Every malicious case, one or more per family.
pub fn malicious() -> Vec<Case> {
    let d = true;
    let s = false;
    let sg = |m: &str, n: &str| P::new().proto(4).sbu(m).sbu(n).stack_global().bu("id").tuple1().reduce().stop().build();
    let mut v = vec![
        // plain globals
        case("GLOBAL posix.system, protocol 0", "p0.pkl", b"cposix\nsystem\n(S'id'\ntR.".to_vec(), Some("posix.system"), d),
        case("GLOBAL os.system, protocol 2", "p2.pkl", call("os", "system"), Some("os.system"), d),
        case("INST subprocess.Popen", "inst.pkl", b"(S'id'\nisubprocess\nPopen\n.".to_vec(), Some("subprocess.Popen"), d),
        case("submodule os.path", "ospath.pkl", call("os.path", "exists"), Some("os.path.exists"), d),
        case("__builtin__.eval", "eval.pkl", b"c__builtin__\neval\n(S'1+1'\ntR.".to_vec(), Some("__builtin__.eval"), d),
        case("builtins.exec", "exec.pkl", call("builtins", "exec"), Some("builtins.exec"), d),
        case("runpy._run_code", "runpy.pkl", call("runpy", "_run_code"), Some("runpy._run_code"), d),
        case("webbrowser.open", "web.pkl", call("webbrowser", "open"), Some("webbrowser.open"), d),
        case("socket.create_connection", "sock.pkl", call("socket", "create_connection"), Some("socket.create_connection"), d),
        case("numpy.load", "npload.pkl", call("numpy", "load"), Some("numpy.load"), d),
        case("torch.hub.load", "hub.pkl", call("torch.hub", "load"), Some("torch.hub.load"), d),
        case("torch.jit.load", "jit.pkl", call("torch.jit", "load"), Some("torch.jit.load"), d),
        case("numpy runstring", "runstring.pkl", call("numpy.testing._private.utils", "runstring"), Some("numpy.testing._private.utils.runstring"), d),
        case("Python 2 cPickle alias", "cpickle.pkl", call("cPickle", "loads"), Some("cPickle.loads"), d),
        // STACK_GLOBAL fed in every way
        case("STACK_GLOBAL from SHORT_BINUNICODE", "sg.pkl", sg("os", "system"), Some("os.system"), d),
        case(
            "STACK_GLOBAL from the memo",
            "sgmemo.pkl",
            P::new().proto(4).sbu("os").binput(0).sbu("system").binput(1).raw(b"0").raw(b"0").binget(0).binget(1).stack_global().bu("id").tuple1().reduce().stop().build(),
            Some("os.system"),
            d,
        ),
        case(
            "STACK_GLOBAL from MEMOIZE and LONG_BINGET",
            "sgmemoize.pkl",
            P::new().proto(4).sbu("nt").memoize().raw(b"0").sbu("system").memoize().raw(b"0").raw(b"j\x00\x00\x00\x00j\x01\x00\x00\x00").stack_global().stop().build(),
            Some("nt.system"),
            d,
        ),
        case("STACK_GLOBAL from STRING opcodes", "sgstring.pkl", P::new().proto(4).string("os").string("system").stack_global().stop().build(), Some("os.system"), d),
        case("STACK_GLOBAL from escaped STRING", "sgescape.pkl", P::new().proto(4).string("o\\x73").string("sys\\164em").stack_global().stop().build(), Some("os.system"), d),
        case("STACK_GLOBAL from SHORT_BINSTRING", "sgsbs.pkl", P::new().proto(4).sbs("subprocess").sbs("call").stack_global().stop().build(), Some("subprocess.call"), d),
        case("STACK_GLOBAL from UNICODE escapes", "sgunicode.pkl", P::new().proto(4).unicode("\\u0070osix").unicode("system").stack_global().stop().build(), Some("posix.system"), d),
        case("STACK_GLOBAL from DUP", "sgdup.pkl", P::new().proto(4).sbu("code").raw(b"2").stack_global().stop().build(), Some("code.code"), d),
        case(
            "STACK_GLOBAL with a module computed at load time",
            "sgunknown.pkl",
            P::new().proto(4).global("mymodule", "which").empty_tuple().reduce().sbu("system").stack_global().stop().build(),
            Some("?.system"),
            s,
        ),
        // dotted names
        case("dotted name pathlib + os.system", "dotted.pkl", sg("pathlib", "os.system"), Some("pathlib.os.system"), d),
        case("dotted name collections + os.system via GLOBAL", "dottedg.pkl", P::new().proto(4).global("collections", "os.system").stop().build(), Some("collections.os.system"), d),
        case("dotted name torch + serialization.load", "dottedtorch.pkl", sg("torch", "serialization.load"), Some("torch.serialization.load"), d),
        // indirection through getattr and import functions
        case(
            "getattr(__import__('os'), 'system')",
            "getattr.pkl",
            P::new().proto(2).global("builtins", "getattr").global("builtins", "__import__").bu("os").tuple1().reduce().bu("system").tuple2().reduce().stop().build(),
            Some("builtins.getattr"),
            d,
        ),
        case("importlib.import_module", "importlib.pkl", call("importlib", "import_module"), Some("importlib.import_module"), d),
        case("operator.attrgetter", "attrgetter.pkl", call("operator", "attrgetter"), Some("operator.attrgetter"), d),
        case("functools.partial", "partial.pkl", call("functools", "partial"), Some("functools.partial"), d),
        case("types.CodeType", "code.pkl", call("types", "CodeType"), Some("types.CodeType"), d),
        case("pydoc.locate", "locate.pkl", call("pydoc", "locate"), Some("pydoc.locate"), d),
        // pickles inside pickles
        case("nested pickle.loads", "nested.pkl", P::new().proto(3).global("pickle", "loads").bytes(&evil()).tuple1().reduce().stop().build(), Some("pickle.loads"), d),
        case("nested torch.storage._load_from_bytes", "lfb.pkl", P::new().proto(3).global("torch.storage", "_load_from_bytes").bytes(&evil()).tuple1().reduce().stop().build(), Some("torch.storage._load_from_bytes"), d),
        case("payload in a bytes value", "inbytes.pkl", P::new().proto(3).global("mymodule", "decode").bytes(&evil()).tuple1().reduce().stop().build(), Some("posix.system"), d),
        // streams
        case("payload then a broken stream", "broken.pkl", P::new().proto(2).call1("posix", "system", "id").raw(b"\xff\xfe garbage").build(), Some("posix.system"), d),
        case("payload then a truncated stream", "truncated.pkl", P::new().proto(2).call1("os", "system", "id").raw(b"X\xff\x00\x00\x00ab").build(), Some("os.system"), d),
        case("benign pickle then a malicious one", "two.pkl", [benign(), evil()].concat(), Some("posix.system"), d),
        case("malicious pickle hidden behind garbage", "hidden.pkl", [benign(), b"\xff\xffjunk".to_vec(), evil()].concat(), Some("posix.system"), d),
        case("protocol 5 with FRAME", "frame.pkl", {
            let body = P::new().sbu("os").sbu("system").stack_global().bu("id").tuple1().reduce().stop().build();
            P::new().proto(5).raw(&[0x95]).raw(&(body.len() as u64).to_le_bytes()).raw(&body).build()
        }, Some("os.system"), d),
        case("EXT1 extension registry", "ext.pkl", P::new().proto(2).raw(&[0x82, 0x07]).bu("id").tuple1().reduce().stop().build(), Some("ext:7"), s),
        // custom classes are suspicious
        case("a pickled nn.Module", "module.pkl", P::new().proto(2).global("torch.nn.modules.linear", "Linear").raw(b")\x81").stop().build(), Some("torch.nn.modules.linear.Linear"), s),
        case("a class from __main__", "main.pkl", P::new().proto(2).global("__main__", "Net").raw(b")\x81").stop().build(), Some("__main__.Net"), s),
        // legacy torch
        case(
            "legacy magic number computed by eval",
            "legacy_eval.pt",
            legacy(&b"c__builtin__\neval\n(S'0x1950a86a20f9469cfc6c'\ntR.".to_vec(), &torch_data_pkl()),
            Some("__builtin__.eval"),
            d,
        ),
        case("legacy object pickle with a payload", "legacy_obj.pt", legacy(&legacy_magic(), &evil()), Some("posix.system"), d),
        case("legacy file with a pickle after the storage data", "legacy_tail.pt", [legacy(&legacy_magic(), &torch_data_pkl()), evil()].concat(), Some("posix.system"), d),
        // zip containers
        case("torch zip with a payload in data.pkl", "zip.pt", torch_zip(&evil()), Some("posix.system"), d),
        case(
            "second pickle in a zip",
            "zip2.pt",
            zip(&[z("archive/data.pkl", &torch_data_pkl()), z("archive/data/0", &[0; 8]), z("archive/extra.pkl", &evil())]),
            Some("posix.system"),
            d,
        ),
        case(
            "pickle in a storage entry",
            "zipstorage.pt",
            zip(&[z("archive/data.pkl", &torch_data_pkl()), z("archive/data/0", &evil())]),
            Some("posix.system"),
            d,
        ),
        case(
            "duplicate data.pkl, the first malicious",
            "dup.pt",
            zip(&[z("archive/data.pkl", &evil()), z("archive/data.pkl", &torch_data_pkl()), z("archive/data/0", &[0; 8])]),
            Some("posix.system"),
            d,
        ),
        case(
            "local/central name mismatch",
            "mismatch.pt",
            zip(&[Z { local_name: "archive/innocent.txt".into(), ..z("archive/data.pkl", &evil()) }, z("archive/data/0", &[0; 8])]),
            Some("posix.system"),
            d,
        ),
        case(
            "local/central name mismatch alone",
            "mismatch_only.pt",
            zip(&[Z { local_name: "archive/xata.pkl".into(), ..z("archive/data.pkl", &torch_data_pkl()) }, z("archive/data/0", &[0; 8])]),
            None,
            s,
        ),
        case(
            "flag bit 0 (encrypted) on data.pkl",
            "flag.pt",
            zip(&[Z { flags: 1, ..z("archive/data.pkl", &evil()) }, z("archive/data/0", &[0; 8])]),
            Some("posix.system"),
            d,
        ),
        case(
            "flag bit 3 and 11 on data.pkl",
            "flag8.pt",
            zip(&[Z { flags: 0x808, ..z("archive/data.pkl", &evil()) }, z("archive/data/0", &[0; 8])]),
            Some("posix.system"),
            d,
        ),
        case(
            "bad CRC on data.pkl",
            "crc.pt",
            zip(&[Z { bad_crc: true, ..z("archive/data.pkl", &evil()) }, z("archive/data/0", &[0; 8])]),
            Some("posix.system"),
            d,
        ),
        case(
            "deflated data.pkl",
            "deflate.pt",
            zip(&[Z { deflate: true, ..z("archive/data.pkl", &evil()) }, z("archive/data/0", &[0; 8])]),
            Some("posix.system"),
            d,
        ),
        // numpy
        case("npy object array", "obj.npy", npy_object(&evil()), Some("posix.system"), d),
        case("npz with an object array", "obj.npz", zip(&[z("a.npy", &npy_object(&call("subprocess", "run")))]), Some("subprocess.run"), d),
    ];
    v.push(case("protocol-0 pickle that starts with NONE, POP", "p0b.pkl", b"N0cos\nsystem\n(S'id'\ntR.".to_vec(), Some("os.system"), d));
    v
}
