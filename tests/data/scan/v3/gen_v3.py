"""Scanner v3 regression corpus (issue 23): tests/data/scan/v3/{malicious,benign}/ and manifest.json.

Run by hand outside the test suite (needs torch, numpy, joblib, pandas, jinja2):
    python tests/data/scan/v3/gen_v3.py

Every malicious file is confirmed against its real loader in a child process started in a throwaway
temporary folder, as scripts/make_scan_corpus.py does for issue 13: an audit hook stops the child
(exit 0, after writing a marker) the moment the unpickler resolves the payload's global
(`pickle.find_class`), or the moment a template reaches `os.system` (audit event `os.system`), so
nothing runs. Files whose harm is memory or a crash are confirmed by their effect in the child
(MemoryError under an address-space limit, death by a signal). The manifest records what each
confirmation saw; tests/scan_v3.rs reads it.
"""
import io, json, lzma, os, pathlib, pickle, struct, subprocess, sys, tarfile, tempfile, zipfile, zlib

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent
PY = sys.executable
manifest = []


def payload_p2(module="posix", name="system", arg="true"):
    return b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\nX" + struct.pack("<I", len(arg)) + arg.encode() + b"\x85R."


def payload_p0(module="posix", name="system", arg="true"):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n(S'" + arg.encode() + b"'\ntR."


CHILD = r"""
import sys, os, io
want = tuple(sys.argv[1].split(":")) if sys.argv[1] else None
def hook(event, args):
    if event == "pickle.find_class" and want and tuple(args) == want:
        open("REACHED", "w").write(".".join(args))
        os._exit(0)
    if event == "os.system" and want == ("os", "system"):
        open("REACHED", "w").write("os.system")
        os._exit(0)
sys.addaudithook(hook)
path, how = sys.argv[2], sys.argv[3]
import pickle
if how == "pickle":
    with open(path, "rb") as f:
        while True:
            pickle.load(f)
elif how == "joblib":
    import joblib
    joblib.load(path)
elif how == "pandas-zip":
    import pandas
    pandas.read_pickle(path, compression="zip")
elif how == "torch":
    import torch
    torch.load(path, weights_only=False)
elif how == "template":
    import jinja2
    text = open(path, encoding="utf-8").read()
    jinja2.Environment().from_string(text).render(messages=[])
"""


def child(path, how, want=None):
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([PY, "-c", CHILD, ":".join(want) if want else "", str(path), how],
                           cwd=d, capture_output=True, text=True, timeout=300)
        reached = os.path.exists(os.path.join(d, "REACHED"))
        out = (r.stdout + r.stderr).strip().splitlines()
        return reached, r.returncode, out[-1:]


def reached_by(how, module="posix", name="system"):
    def run(path):
        reached, rc, tail = child(path, how, (module, name))
        if not reached:
            raise SystemExit(f"{path}: {how} did not reach {module}.{name} (rc {rc}: {tail})")
        return f"{how} reaches {module}.{name}"
    return run


def add(kind, name, data, cls, expect, global_=None, confirm=None, note=""):
    path = ROOT / kind / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    entry = {"file": f"{kind}/{name}", "class": cls, "expect": expect, "global": global_, "note": note}
    if confirm:
        entry["confirmed"] = confirm(path)
    manifest.append(entry)
    print(f"{kind}/{name}: {entry.get('confirmed', '')}")


# 1. GGUF keys as C strings ---------------------------------------------------------------------
def gguf(kvs):
    """A GGUF v3 file with string metadata only and no tensors."""
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs))
    for k, v in kvs:
        kb, vb = k.encode(), v.encode()
        out += struct.pack("<Q", len(kb)) + kb + struct.pack("<I", 8) + struct.pack("<Q", len(vb)) + vb
    return out


EVIL_TEMPLATE = "{{ cycler.__init__.__globals__.os.system('true') }}"
BENIGN_TEMPLATE = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"


def gguf_keys(data):
    """The keys of a GGUF file in order, read as stored (length-prefixed)."""
    n = struct.unpack_from("<Q", data, 16)[0]
    pos, keys = 24, []
    for _ in range(n):
        kl = struct.unpack_from("<Q", data, pos)[0]
        key = data[pos + 8:pos + 8 + kl]
        pos += 8 + kl
        assert struct.unpack_from("<I", data, pos)[0] == 8
        vl = struct.unpack_from("<Q", data, pos + 4)[0]
        keys.append((key, data[pos + 12:pos + 12 + vl]))
        pos += 12 + vl
    return keys


def check_c_lookup(path):
    """llama.cpp's gguf_find_key: the first key for which strcmp(key, name) == 0, keys being the
    stored bytes read as C strings (done here with libc's strcmp); then the template it finds is
    rendered by Jinja without a sandbox, which reaches os.system."""
    import ctypes
    libc = ctypes.CDLL(None)
    data = path.read_bytes()
    found = next(v for k, v in gguf_keys(data) if libc.strcmp(k + b"\0", b"tokenizer.chat_template") == 0)
    with tempfile.TemporaryDirectory() as d:
        t = pathlib.Path(d) / "template.jinja"
        t.write_bytes(found)
        reached_by("template", "os", "system")(t)
    return "strcmp lookup (as gguf_find_key) finds the NUL-suffixed key first; an unsandboxed Jinja render reaches os.system"


add("malicious", "nul-key-template.gguf",
    gguf([("tokenizer.chat_template\0", EVIL_TEMPLATE), ("tokenizer.chat_template", BENIGN_TEMPLATE)]),
    "gguf-keys", "dangerous", None, check_c_lookup)
add("malicious", "nul-key-only.gguf", gguf([("tokenizer.chat_template\0evil", EVIL_TEMPLATE)]),
    "gguf-keys", "dangerous", None, check_c_lookup)
add("malicious", "nul-key-duplicate.gguf", gguf([("general.name\0", "a"), ("general.name", "b")]),
    "gguf-keys", "suspicious", None, None, "two keys equal up to a NUL: readers disagree on the value")

# 3. compression loaders sniff -------------------------------------------------------------------
add("malicious", "payload-zlib.joblib", zlib.compress(payload_p2(), 3), "compressed", "dangerous", "posix.system",
    reached_by("joblib"))
add("malicious", "payload.z", zlib.compress(payload_p2()), "compressed", "dangerous", "posix.system",
    reached_by("joblib"))
add("malicious", "payload.pkl.lzma", lzma.compress(payload_p2(), format=lzma.FORMAT_ALONE), "compressed",
    "dangerous", "posix.system", reached_by("joblib"))
add("malicious", "payload.pkl.xz", lzma.compress(payload_p2(), format=lzma.FORMAT_XZ), "compressed",
    "dangerous", "posix.system", reached_by("joblib"))

# 4. a walker's limit is not the end -------------------------------------------------------------
MANY = (1 << 20) + 16
add("malicious", "million-none", b"N" * MANY + payload_p0(), "probe-limit", "suspicious", None,
    reached_by("pickle"), "protocol 0, no extension: no PROTO to resynchronise on; the stack limit makes it suspicious, and a folder scan keeps it")
add("malicious", "million-none-p2.bin", b"N" * MANY + payload_p2(), "probe-limit", "dangerous", "posix.system",
    reached_by("pickle"))


def stored_zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


add("malicious", "sole-member.zip", stored_zip([("weights", b"N" * MANY + payload_p2())]), "probe-limit",
    "dangerous", "posix.system", reached_by("pandas-zip"), "pandas.read_pickle reads the only member, whatever its name")


def pax_record(key, value):
    """`"%d %s=%s\n"`, the length counting its own digits (as tarfile writes it)."""
    rec = key.encode() + b"=" + value.encode() + b"\n"
    n = len(rec) + 2
    while len(str(n)) + 1 + len(rec) != n:
        n = len(str(n)) + 1 + len(rec)
    return str(n).encode() + b" " + rec


def tar_of(members, pax=None):
    """members: (name, data, size_in_header or None); pax: {index: {key: value}} local pax headers."""
    buf = io.BytesIO()
    for i, (name, data, header_size) in enumerate(members):
        if pax and i in pax:
            body = b"".join(pax_record(k, v) for k, v in pax[i].items())
            ti = tarfile.TarInfo("././@PaxHeader")
            ti.type, ti.size = tarfile.XHDTYPE, len(body)
            buf.write(ti.tobuf(tarfile.USTAR_FORMAT))
            buf.write(body + b"\0" * (-len(body) % 512))
        ti = tarfile.TarInfo(name)
        ti.size = len(data) if header_size is None else header_size
        buf.write(ti.tobuf(tarfile.USTAR_FORMAT))
        buf.write(data + b"\0" * (-len(data) % 512))
    buf.write(b"\0" * 1024)
    return buf.getvalue()


def pk(obj):
    return pickle.dumps(obj, protocol=2)


def storages_with_raw(raw, views):
    # num_storages, then (key, location, storage_type) and raw data, then the views pickle
    rec = b"\x80\x02(X\x01\x00\x00\x000X\x03\x00\x00\x00cpuctorch\nByteStorage\nt."
    return pk(1) + rec + struct.pack("<q", len(raw)) + raw + views


# raw bytes that stop a probe walk (an opcode byte no unpickler knows) before the views pickle
RAW = b"\xff" * 64
add("malicious", "tar-storages-raw.pt",
    tar_of([("storages", storages_with_raw(RAW, payload_p2()), None), ("tensors", pk(0), None), ("pickle", pk({}), None)]),
    "probe-limit", "dangerous", "posix.system", reached_by("torch"),
    "torch's legacy tar reader reads past the storage's raw bytes and unpickles the views pickle")

# 5. tar pax headers -----------------------------------------------------------------------------
evil = payload_p2()
add("malicious", "pax-size.pt",
    tar_of([("storages", pk(0) + pk([]), None), ("tensors", pk(0), None), ("pickle", evil, 0)],
           pax={2: {"size": str(len(evil))}}),
    "tar", "dangerous", "posix.system", reached_by("torch"),
    "the ustar header says 0 bytes; the pax size= record gives the member its payload")
add("malicious", "pax-path.pt",
    tar_of([("storages", pk(0) + pk([]), None), ("tensors", pk(0), None), ("harmless", b"N" * MANY + evil, None)],
           pax={2: {"path": "pickle"}}),
    "tar", "dangerous", "posix.system", reached_by("torch"),
    "the member named harmless is renamed pickle by pax path=; torch unpickles it whole")


# 6. allowlisted constructors with attacker sizes ------------------------------------------------
def check_memory(limit_gb):
    def run(path):
        code = ("import resource,pickle,sys;"
                f"resource.setrlimit(resource.RLIMIT_AS,({limit_gb}<<30,{limit_gb}<<30));"
                "pickle.load(open(sys.argv[1],'rb'))")
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([PY, "-c", code, str(path)], cwd=d, capture_output=True, text=True, timeout=120)
        assert "MemoryError" in r.stderr, r.stderr[-500:]
        return f"pickle.load raises MemoryError under a {limit_gb} GiB address-space limit ({len(path.read_bytes())}-byte file)"
    return run


add("malicious", "memo-index.pkl", b"\x80\x02Nr" + struct.pack("<I", 0x20000000) + b".", "allowlisted-size", "suspicious",
    None, check_memory(4))
reconstruct = (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
               b"\x8a\x05\x00\x00\x00\x80\x00\x85C\x01O\x87R.")  # _reconstruct(ndarray, (2**31,), b'O')
add("malicious", "reconstruct-object.pkl", reconstruct, "allowlisted-size", "suspicious",
    "numpy.core.multiarray._reconstruct", check_memory(4))


# 7. structured dtypes, field by field -----------------------------------------------------------
def structured_object():
    a = np.array([(0x4141414141414141,)], dtype=[("a", "<i8")])
    raw = pickle.dumps(a, protocol=2)
    # the field's dtype becomes an object dtype (with the flags an object dtype has) while the outer
    # structured dtype keeps the flags 0 of a numeric one: the raw bytes are read as a pointer
    inner = b"X\x02\x00\x00\x00i8"
    assert raw.count(inner) == 1, raw
    raw = raw.replace(inner, b"X\x02\x00\x00\x00O8")
    import re
    old = re.compile(rb"X\x01\x00\x00\x00<(q.)NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t", re.S)
    assert len(old.findall(raw)) == 1, raw
    return old.sub(lambda m: b"X\x01\x00\x00\x00|" + m.group(1) + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?t", raw)


def check_crash(path):
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([PY, "-c", "import pickle,sys;a=pickle.load(open(sys.argv[1],'rb'));print(repr(a))", str(path)],
                           cwd=d, capture_output=True, text=True)
    assert r.returncode < 0, (r.returncode, r.stdout, r.stderr[-300:])
    return f"pickle.load + repr: the child was killed by signal {-r.returncode}"


add("malicious", "structured-object-field.pkl", structured_object(), "dtype-fields", "dangerous", "numpy.dtype",
    check_crash)


# 8. false alarms --------------------------------------------------------------------------------
def saved(obj, name="archive"):
    with tempfile.TemporaryDirectory() as d:
        p = pathlib.Path(d) / name
        torch.save(obj, p)
        torch.load(p, weights_only=True)  # accepted by torch itself
        return p.read_bytes()


def weights_only_ok(path):
    torch.load(path, weights_only=True)
    return "torch.load(weights_only=True) accepts it"


add("benign", "code.pt", saved({"w": torch.ones(3)}, "code.pt"), "false-alarm", "safe", None, weights_only_ok,
    "torch names the archive folder after the file: entries code/data.pkl, code/data/0")
t = torch.ones(3)
t.note = "attribute"
add("benign", "tensor-attribute.pt", saved({"t": t}), "false-alarm", "safe", None, weights_only_ok)
add("benign", "buffer.pt", saved({"b": torch.nn.Buffer(torch.ones(3))}), "false-alarm", "safe", None, weights_only_ok)
ext4 = torch.frombuffer(bytearray(b"\x84\x01\x00\x00\x00." + b"\0" * 10), dtype=torch.float32).clone()
add("benign", "storage-ext4.pt", saved({"w": ext4}), "false-alarm", "safe", None, weights_only_ok,
    "the storage data/0 starts with EXT4 1 and STOP: a complete pickle if it were one")
nones = torch.frombuffer(bytearray(b"N" * (MANY + 16)), dtype=torch.uint8).clone()
add("benign", "storage-nones.pt", saved({"w": nones}), "false-alarm", "safe", None, weights_only_ok,
    "a storage of a million NONE bytes: past the walker's stack limit if it were walked")
add("benign", "random-template.pt", saved({"w": torch.randn(64, 64)}), "false-alarm", "safe", None, weights_only_ok,
    "template for the Rust test that rewrites its storage with random bytes")


def joblib_file(obj, **kw):
    import joblib
    with tempfile.TemporaryDirectory() as d:
        p = pathlib.Path(d) / "x.joblib"
        joblib.dump(obj, p, **kw)
        joblib.load(p)
        return p.read_bytes()


def joblib_ok(path):
    import joblib
    joblib.load(path)
    return "joblib.load reads it"


arrays = {"f8": np.arange(10, dtype="f8"), "i4": np.arange(7, dtype="<i4").reshape(7, 1), "u1": np.zeros((3, 5), "u1"),
          "b": np.array([True, False]), "f2": np.ones(33, "f2"), "U": np.array(["ab", "c"])}
add("benign", "numeric.joblib", joblib_file(arrays), "false-alarm", "safe", None, joblib_ok)
add("benign", "numeric-compressed.joblib", joblib_file(arrays, compress=True), "false-alarm", "safe", None, joblib_ok)
add("benign", "numeric-lzma.joblib", joblib_file(arrays, compress="lzma"), "false-alarm", "safe", None, joblib_ok)
add("benign", "object-array.joblib", joblib_file({"o": np.array(["a", 1, None], dtype=object), "f": np.ones(4)}),
    "false-alarm", "safe", None, joblib_ok)



def joblib_differential():
    """A joblib wrapper without the alignment key (as joblib before 0.12 wrote it), whose array data
    is a payload: joblib.load reads it as an array of bytes, pickle.load as opcodes."""
    from joblib.numpy_pickle import NumpyArrayWrapper
    body = b"cposix\nsystem\nX\x04\x00\x00\x00true\x85R"
    w = NumpyArrayWrapper.__new__(NumpyArrayWrapper)
    w.__dict__.update(subclass=np.ndarray, shape=(len(body),), order="C", dtype=np.dtype("u1"), allow_mmap=False)
    head = pickle.dumps(w, protocol=2)
    assert head.endswith(b"b."), head
    return head[:-1] + body + b"."


def check_differential(path):
    import joblib
    arr = joblib.load(path)
    assert arr.dtype == np.uint8, arr
    return "joblib.load returns a uint8 array; " + reached_by("pickle")(path)


add("malicious", "joblib-array-is-a-payload.pkl", joblib_differential(), "false-alarm", "dangerous", "posix.system",
    check_differential, "the joblib wrapper is safe for joblib.load; a plain unpickler reads its data as opcodes")

(ROOT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
print(f"{len(manifest)} files")
