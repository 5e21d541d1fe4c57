//! Malicious pickles as raw files, one or more per bypass family.

use super::*;

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

pub fn case(
    name: &'static str,
    file: &'static str,
    bytes: Vec<u8>,
    global: Option<&'static str>,
    dangerous: bool,
) -> Case {
    Case {
        name,
        file,
        bytes,
        global,
        dangerous,
    }
}

/// The pickles inside which the container cases hide a payload.
pub fn evil() -> Vec<u8> {
    call("posix", "system")
}

/// Every malicious case, one or more per family.
pub fn malicious() -> Vec<Case> {
    let mut v = pickle_cases();
    v.extend(super::containers::container_cases());
    v
}

/// Malicious pickles (raw files): globals, STACK_GLOBAL feeds, dotted names, nesting, streams.
fn pickle_cases() -> Vec<Case> {
    let d = true;
    let s = false;
    let sg = |m: &str, n: &str| {
        P::new()
            .proto(4)
            .sbu(m)
            .sbu(n)
            .stack_global()
            .bu("id")
            .tuple1()
            .reduce()
            .stop()
            .build()
    };
    let mut v = vec![
        // plain globals
        case(
            "GLOBAL posix.system, protocol 0",
            "p0.pkl",
            b"cposix\nsystem\n(S'id'\ntR.".to_vec(),
            Some("posix.system"),
            d,
        ),
        case(
            "GLOBAL os.system, protocol 2",
            "p2.pkl",
            call("os", "system"),
            Some("os.system"),
            d,
        ),
        case(
            "INST subprocess.Popen",
            "inst.pkl",
            b"(S'id'\nisubprocess\nPopen\n.".to_vec(),
            Some("subprocess.Popen"),
            d,
        ),
        case(
            "submodule os.path",
            "ospath.pkl",
            call("os.path", "exists"),
            Some("os.path.exists"),
            d,
        ),
        case(
            "__builtin__.eval",
            "eval.pkl",
            b"c__builtin__\neval\n(S'1+1'\ntR.".to_vec(),
            Some("__builtin__.eval"),
            d,
        ),
        case(
            "builtins.exec",
            "exec.pkl",
            call("builtins", "exec"),
            Some("builtins.exec"),
            d,
        ),
        case(
            "runpy._run_code",
            "runpy.pkl",
            call("runpy", "_run_code"),
            Some("runpy._run_code"),
            d,
        ),
        case(
            "webbrowser.open",
            "web.pkl",
            call("webbrowser", "open"),
            Some("webbrowser.open"),
            d,
        ),
        case(
            "socket.create_connection",
            "sock.pkl",
            call("socket", "create_connection"),
            Some("socket.create_connection"),
            d,
        ),
        case("numpy.load", "npload.pkl", call("numpy", "load"), Some("numpy.load"), d),
        case(
            "torch.hub.load",
            "hub.pkl",
            call("torch.hub", "load"),
            Some("torch.hub.load"),
            d,
        ),
        case(
            "torch.jit.load",
            "jit.pkl",
            call("torch.jit", "load"),
            Some("torch.jit.load"),
            d,
        ),
        case(
            "numpy runstring",
            "runstring.pkl",
            call("numpy.testing._private.utils", "runstring"),
            Some("numpy.testing._private.utils.runstring"),
            d,
        ),
        case(
            "Python 2 cPickle alias",
            "cpickle.pkl",
            call("cPickle", "loads"),
            Some("cPickle.loads"),
            d,
        ),
        // STACK_GLOBAL fed in every way
        case(
            "STACK_GLOBAL from SHORT_BINUNICODE",
            "sg.pkl",
            sg("os", "system"),
            Some("os.system"),
            d,
        ),
        case(
            "STACK_GLOBAL from the memo",
            "sgmemo.pkl",
            P::new()
                .proto(4)
                .sbu("os")
                .binput(0)
                .sbu("system")
                .binput(1)
                .raw(b"0")
                .raw(b"0")
                .binget(0)
                .binget(1)
                .stack_global()
                .bu("id")
                .tuple1()
                .reduce()
                .stop()
                .build(),
            Some("os.system"),
            d,
        ),
        case(
            "STACK_GLOBAL from MEMOIZE and LONG_BINGET",
            "sgmemoize.pkl",
            P::new()
                .proto(4)
                .sbu("nt")
                .memoize()
                .raw(b"0")
                .sbu("system")
                .memoize()
                .raw(b"0")
                .raw(b"j\x00\x00\x00\x00j\x01\x00\x00\x00")
                .stack_global()
                .stop()
                .build(),
            Some("nt.system"),
            d,
        ),
        case(
            "STACK_GLOBAL from STRING opcodes",
            "sgstring.pkl",
            P::new()
                .proto(4)
                .string("os")
                .string("system")
                .stack_global()
                .stop()
                .build(),
            Some("os.system"),
            d,
        ),
        case(
            "STACK_GLOBAL from escaped STRING",
            "sgescape.pkl",
            P::new()
                .proto(4)
                .string("o\\x73")
                .string("sys\\164em")
                .stack_global()
                .stop()
                .build(),
            Some("os.system"),
            d,
        ),
        case(
            "STACK_GLOBAL from SHORT_BINSTRING",
            "sgsbs.pkl",
            P::new()
                .proto(4)
                .sbs("subprocess")
                .sbs("call")
                .stack_global()
                .stop()
                .build(),
            Some("subprocess.call"),
            d,
        ),
        case(
            "STACK_GLOBAL from UNICODE escapes",
            "sgunicode.pkl",
            P::new()
                .proto(4)
                .unicode("\\u0070osix")
                .unicode("system")
                .stack_global()
                .stop()
                .build(),
            Some("posix.system"),
            d,
        ),
        case(
            "STACK_GLOBAL from DUP",
            "sgdup.pkl",
            P::new().proto(4).sbu("code").raw(b"2").stack_global().stop().build(),
            Some("code.code"),
            d,
        ),
        case(
            "STACK_GLOBAL with a module computed at load time",
            "sgunknown.pkl",
            P::new()
                .proto(4)
                .global("mymodule", "which")
                .empty_tuple()
                .reduce()
                .sbu("system")
                .stack_global()
                .stop()
                .build(),
            Some("?.system"),
            s,
        ),
        // dotted names
        case(
            "dotted name pathlib + os.system",
            "dotted.pkl",
            sg("pathlib", "os.system"),
            Some("pathlib.os.system"),
            d,
        ),
        case(
            "dotted name collections + os.system via GLOBAL",
            "dottedg.pkl",
            P::new().proto(4).global("collections", "os.system").stop().build(),
            Some("collections.os.system"),
            d,
        ),
        case(
            "dotted name torch + serialization.load",
            "dottedtorch.pkl",
            sg("torch", "serialization.load"),
            Some("torch.serialization.load"),
            d,
        ),
        // indirection through getattr and import functions
        case(
            "getattr(__import__('os'), 'system')",
            "getattr.pkl",
            P::new()
                .proto(2)
                .global("builtins", "getattr")
                .global("builtins", "__import__")
                .bu("os")
                .tuple1()
                .reduce()
                .bu("system")
                .tuple2()
                .reduce()
                .stop()
                .build(),
            Some("builtins.getattr"),
            d,
        ),
        case(
            "importlib.import_module",
            "importlib.pkl",
            call("importlib", "import_module"),
            Some("importlib.import_module"),
            d,
        ),
        case(
            "operator.attrgetter",
            "attrgetter.pkl",
            call("operator", "attrgetter"),
            Some("operator.attrgetter"),
            d,
        ),
        case(
            "functools.partial",
            "partial.pkl",
            call("functools", "partial"),
            Some("functools.partial"),
            d,
        ),
        case(
            "types.CodeType",
            "code.pkl",
            call("types", "CodeType"),
            Some("types.CodeType"),
            d,
        ),
        case(
            "pydoc.locate",
            "locate.pkl",
            call("pydoc", "locate"),
            Some("pydoc.locate"),
            d,
        ),
        // pickles inside pickles
        case(
            "nested pickle.loads",
            "nested.pkl",
            P::new()
                .proto(3)
                .global("pickle", "loads")
                .bytes(&evil())
                .tuple1()
                .reduce()
                .stop()
                .build(),
            Some("pickle.loads"),
            d,
        ),
        case(
            "nested torch.storage._load_from_bytes",
            "lfb.pkl",
            P::new()
                .proto(3)
                .global("torch.storage", "_load_from_bytes")
                .bytes(&evil())
                .tuple1()
                .reduce()
                .stop()
                .build(),
            Some("torch.storage._load_from_bytes"),
            d,
        ),
        case(
            "payload in a bytes value",
            "inbytes.pkl",
            P::new()
                .proto(3)
                .global("mymodule", "decode")
                .bytes(&evil())
                .tuple1()
                .reduce()
                .stop()
                .build(),
            Some("posix.system"),
            d,
        ),
        // streams
        case(
            "payload then a broken stream",
            "broken.pkl",
            P::new()
                .proto(2)
                .call1("posix", "system", "id")
                .raw(b"\xff\xfe garbage")
                .build(),
            Some("posix.system"),
            d,
        ),
        case(
            "payload then a truncated stream",
            "truncated.pkl",
            P::new()
                .proto(2)
                .call1("os", "system", "id")
                .raw(b"X\xff\x00\x00\x00ab")
                .build(),
            Some("os.system"),
            d,
        ),
        case(
            "benign pickle then a malicious one",
            "two.pkl",
            [benign(), evil()].concat(),
            Some("posix.system"),
            d,
        ),
        case(
            "malicious pickle hidden behind garbage",
            "hidden.pkl",
            [benign(), b"\xff\xffjunk".to_vec(), evil()].concat(),
            Some("posix.system"),
            d,
        ),
        case(
            "protocol 5 with FRAME",
            "frame.pkl",
            {
                let body = P::new()
                    .sbu("os")
                    .sbu("system")
                    .stack_global()
                    .bu("id")
                    .tuple1()
                    .reduce()
                    .stop()
                    .build();
                P::new()
                    .proto(5)
                    .raw(&[0x95])
                    .raw(&(body.len() as u64).to_le_bytes())
                    .raw(&body)
                    .build()
            },
            Some("os.system"),
            d,
        ),
        case(
            "EXT1 extension registry",
            "ext.pkl",
            P::new()
                .proto(2)
                .raw(&[0x82, 0x07])
                .bu("id")
                .tuple1()
                .reduce()
                .stop()
                .build(),
            Some("ext:7"),
            s,
        ),
        // custom classes are suspicious
        case(
            "a pickled nn.Module",
            "module.pkl",
            P::new()
                .proto(2)
                .global("torch.nn.modules.linear", "Linear")
                .raw(b")\x81")
                .stop()
                .build(),
            Some("torch.nn.modules.linear.Linear"),
            s,
        ),
        case(
            "a class from __main__",
            "main.pkl",
            P::new().proto(2).global("__main__", "Net").raw(b")\x81").stop().build(),
            Some("__main__.Net"),
            s,
        ),
    ];
    v.push(case(
        "protocol-0 pickle that starts with NONE, POP",
        "p0b.pkl",
        b"N0cos\nsystem\n(S'id'\ntR.".to_vec(),
        Some("os.system"),
        d,
    ));
    v
}
