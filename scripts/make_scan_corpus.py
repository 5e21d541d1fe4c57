"""Regression corpus for the scanner (issue 13): tests/data/scan/{malicious,benign}/ and manifest.json.

Run by hand outside the test suite (needs torch and numpy):
    /tmp/peers/bin/python scripts/make_scan_corpus.py

Every malicious file is confirmed against the real loader in a child process started in a
throwaway temporary folder. Payloads never run: the child installs an audit hook that stops the
process (exit 0, after writing a marker) the moment the unpickler resolves the payload's global
(`pickle.find_class`), which is exactly "the loader would call it". Files whose harm is not a global
(a tampered function, a hostile dtype, a huge allocation) are confirmed by their effect in the child.
The manifest records what each confirmation saw; the Rust tests read it.
"""
import gzip, io, json, os, pathlib, pickle, struct, subprocess, sys, tarfile, tempfile, zipfile
from collections import Counter, OrderedDict

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "scan"
PY = sys.executable
manifest = []


def payload_p2(module="posix", name="system", arg="true"):
    """A protocol-2 pickle calling module.name(arg) (never run: the child stops at find_class)."""
    return b"\x80\x02c" + module.encode() + b"\n" + name.encode() + b"\nX" + struct.pack("<I", len(arg)) + arg.encode() + b"\x85R."


def payload_p0(module="posix", name="system", arg="true"):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n(S'" + arg.encode() + b"'\ntR."


CHILD = r"""
import sys, os
want = tuple(sys.argv[1].split(":")) if sys.argv[1] else None
def hook(event, args):
    if event == "pickle.find_class" and want and tuple(args) == want:
        open("REACHED", "w").write(".".join(args))
        os._exit(0)
sys.addaudithook(hook)
path = sys.argv[2]
how = sys.argv[3]
import pickle, gzip, io
if how == "pickle":
    with open(path, "rb") as f:
        while True:
            pickle.load(f)
elif how == "pickle-bytesio":
    f = io.BytesIO(open(path, "rb").read())
    while True:
        pickle.load(f)
elif how == "gzip":
    pickle.load(gzip.open(path))
elif how == "torch":
    import torch
    torch.load(path, weights_only=False)
elif how == "torch-bytesio":
    import torch
    print(repr(torch.load(io.BytesIO(open(path, "rb").read()), weights_only=False)))
elif how == "numpy":
    import numpy as np
    r = np.load(path, allow_pickle=True)
    if hasattr(r, "files"):
        for k in r.files:
            r[k]
elif how == "import":
    import importlib
    m, n = want
    obj = importlib.import_module(m)
    for part in n.split("."):
        obj = getattr(obj, part)
    print("resolved")
"""


def child(path, how, want=None):
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(
            [PY, "-c", CHILD, ":".join(want) if want else "", str(path), how],
            cwd=d, capture_output=True, text=True, timeout=120,
        )
        reached = os.path.exists(os.path.join(d, "REACHED"))
        return reached, r.returncode, (r.stdout + r.stderr).strip().splitlines()[-1:] if (r.stdout + r.stderr).strip() else []


def add(kind, name, data, cls, expect, global_=None, confirm=None, note=""):
    path = ROOT / kind / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    entry = {"file": f"{kind}/{name}", "class": cls, "expect": expect, "global": global_, "note": note}
    if confirm:
        entry["confirmed"] = confirm(path)
    manifest.append(entry)
    print(f"{kind}/{name}: {entry.get('confirmed', '')}")


def reached_by(how, module, name):
    def run(path):
        reached, rc, tail = child(path, how, (module, name))
        if not reached:
            raise SystemExit(f"{path}: {how} did not reach {module}.{name} (rc {rc}: {tail})")
        return f"{how} reaches {module}.{name}"
    return run


# 1. polyglots ---------------------------------------------------------------------------------
def safetensors_polyglot():
    length_bytes = b"I1\0\0\0\0\0\0"  # INT "1", the rest of the line ends at a NUL for CPython
    n = int.from_bytes(length_bytes, "little")
    evil = b"00" + payload_p0()  # POP the dict and the int, then the payload
    head = {"t": {"dtype": "U8", "shape": [len(evil)], "data_offsets": [0, len(evil)]}, "__metadata__": {"pad": ""}}
    text = json.dumps(head, separators=(",", ":"))
    pad = n - len(text) - 1  # a "\n}" ends the header: INT's line, then EMPTY_DICT
    text = text[:-1] + " " * pad + "\n}"
    assert len(text) == n
    data = length_bytes + text.encode() + evil
    from safetensors import safe_open
    return data


def check_safetensors(path):
    from safetensors import safe_open
    with safe_open(str(path), "np") as f:
        assert list(f.keys()) == ["t"]
    # torch 2.15's torch.load recognises safetensors files itself; pickle.load (and older torch) unpickle it
    return "safetensors opens it; " + reached_by("pickle", "posix", "system")(path)


add("malicious", "polyglot.safetensors", safetensors_polyglot(), "polyglot", "dangerous", "posix.system", check_safetensors)


def tar_member(name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, io.BytesIO(data)


def torch_tar(evil, v7=False):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        t.addfile(*tar_member("storages", pickle.dumps(0, protocol=2) + pickle.dumps([], protocol=2)))
        t.addfile(*tar_member("tensors", pickle.dumps(0, protocol=2)))
        t.addfile(*tar_member("pickle", evil))
    data = bytearray(buf.getvalue())
    if v7:
        for off in range(0, len(data), 512):
            if data[off + 257:off + 263] == b"ustar\0":
                data[off + 257:off + 265] = b"\0" * 8
                data[off + 148:off + 156] = b" " * 8
                s = sum(data[off:off + 512])
                data[off + 148:off + 156] = b"%06o\0 " % s
    return bytes(data)


def legacy_tar_polyglot():
    """A legacy torch.save file (magic, 1001, sys_info, {}, []) whose bytes are also a tar."""
    magic = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)
    tar = torch_tar(payload_p2())
    # a zero-size first member whose header is: the magic pickle, then PROTO 3 + BINBYTES that
    # swallows the rest of this header and the whole tar, then POP, BININT2 1001, STOP
    head = magic + b"\x80\x03B"
    body_len = 512 + len(tar) - len(head) - 4
    head += struct.pack("<I", body_len)
    first = bytearray(tar[:512])
    first[:100] = head + b"\0" * (100 - len(head))
    first[124:136] = b"%011o\0" % 0
    first[156] = ord("0")
    first[148:156] = b" " * 8
    first[148:156] = b"%06o\0 " % sum(first)
    data = bytes(first) + tar
    tail = b"0M\xe9\x03."
    sys_info = pickle.dumps({"protocol_version": 1001, "little_endian": True,
                             "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2)
    return data + tail + sys_info + pickle.dumps({}, protocol=2) + pickle.dumps([], protocol=2)


def check_legacy_tar(path):
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([PY, "-c", "import torch,io,sys;print(repr(torch.load(io.BytesIO(open(sys.argv[1],'rb').read()),weights_only=False)))", str(path)],
                           cwd=d, capture_output=True, text=True)
        legacy = r.stdout.strip()
    assert legacy == "{}", r.stdout + r.stderr
    return "torch.load(BytesIO) reads the legacy file {}; " + reached_by("torch", "posix", "system")(path)


add("malicious", "legacy-and-tar.pt", legacy_tar_polyglot(), "polyglot", "dangerous", "posix.system", check_legacy_tar)
add("malicious", "v7-tar.pt", torch_tar(payload_p2(), v7=True), "tar", "dangerous", "posix.system", reached_by("torch", "posix", "system"))

# 2. stream boundaries -------------------------------------------------------------------------
def framed_resume():
    evil = b"\x80\x04\x8c\x05posix\x8c\x06system\x93\x8c\x04true\x85R."
    first = b"N."  # the benign first pickle
    filler = b"\x80\x04B" + struct.pack("<I", 1 + len(evil) + 2) + b"X"
    frame = first + filler
    return b"\x80\x04\x95" + struct.pack("<Q", len(frame)) + frame + evil + b"0N."


def check_frame(path):
    # a file opened with open() resumes right after STOP (the C unpickler peeks), an io.BytesIO at
    # the end of the frame: only the in-memory load reaches the payload
    reached, _, _ = child(path, "pickle", ("posix", "system"))
    assert not reached
    return "from open(): not reached; " + reached_by("pickle-bytesio", "posix", "system")(path) + " (io.BytesIO)"


add("malicious", "frame-resume.pkl", framed_resume(), "stream", "dangerous", "posix.system", check_frame)

# 3. npy headers -------------------------------------------------------------------------------
def npy(header_dict_text, body):
    h = header_dict_text.encode("latin1")
    total = 10 + len(h) + 1
    h += b" " * ((64 - total % 64) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + body


EVIL_NPY_BODY = payload_p2()
for name, text in [
    ("object-word.npy", "{'descr': 'object', 'fortran_order': False, 'shape': (1,), }"),
    ("hex-escape.npy", "{'descr': '|\\x4f', 'fortran_order': False, 'shape': (1,), }"),
    ("repeated-descr.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'descr': '|O'}"),
    ("decoy-field.npy", "{\"descr\": [(\"'descr': '<f4'\", '|O')], 'fortran_order': False, 'shape': (1,), }"),
    ("concatenated.npy", "{'descr': 'obj' 'ect', 'fortran_order': False, 'shape': (1,), }"),
]:
    add("malicious", name, npy(text, EVIL_NPY_BODY), "npy-header", "dangerous", "posix.system", reached_by("numpy", "posix", "system"))

# 4. zip central directories -------------------------------------------------------------------
def stored_zip(name, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(name, data)
    b = buf.getvalue()
    eocd = b.rindex(b"PK\x05\x06")
    size, offset = struct.unpack("<II", b[eocd + 12:eocd + 20])
    return b[:offset], b[offset:offset + size]


def concat_npz():
    benign = np.zeros(64, dtype="<f8")
    bio = io.BytesIO()
    np.lib.format.write_array(bio, benign)
    g_local, g_cd = stored_zip("arr.npy", bio.getvalue())
    e_local, e_cd = stored_zip("arr.npy", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", EVIL_NPY_BODY))
    assert len(g_cd) == len(e_cd) and len(g_local) >= len(e_local)
    lg, s, le = len(g_local), len(g_cd), len(e_local)
    concat = s + le
    e_cd = bytearray(e_cd)
    e_cd[42:46] = struct.pack("<I", lg + s - concat)  # Python adds `concat` back
    eocd = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, s, lg, 0)
    return g_local + g_cd + e_local + bytes(e_cd) + eocd


add("malicious", "concat.npz", concat_npz(), "zip", "dangerous", "posix.system", reached_by("numpy", "posix", "system"))

# 5. compressed and protocol-0 pickles ---------------------------------------------------------
add("malicious", "payload.pkl.gz", gzip.compress(payload_p2(), mtime=0), "compressed", "dangerous", "posix.system", reached_by("gzip", "posix", "system"))
for name, prefix in [("int-hex.pkl", b"I0x1\n0"), ("int-nul.pkl", b"I1\0junk\n0"), ("long-hex.pkl", b"L0x1L\n0")]:
    add("malicious", name, prefix + payload_p0(), "protocol-0", "dangerous", "posix.system", reached_by("pickle", "posix", "system"))


# 6. allowlisted globals that still do harm ----------------------------------------------------
def build_on_global():
    return (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\nN}X\x0c\x00\x00\x00__defaults__"
            b"X\x08\x00\x00\x00tamperedJ\x01\x00\x00\x00\x86\x85s\x86b0}.")


def check_defaults(path):
    code = ("import torch,pickle,sys;before=torch._utils._rebuild_tensor_v2.__defaults__;"
            "pickle.load(open(sys.argv[1],'rb'));after=torch._utils._rebuild_tensor_v2.__defaults__;"
            "print(before, after);assert before!=after")
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([PY, "-c", code, str(path)], cwd=d, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return "pickle.load changes torch._utils._rebuild_tensor_v2.__defaults__: " + r.stdout.strip()


add("malicious", "build-on-global.pkl", build_on_global(), "allowlisted-harm", "dangerous", "torch._utils._rebuild_tensor_v2", check_defaults)


def dtype_flags():
    raw = pickle.dumps(np.zeros(1, dtype="<f8"), protocol=2)
    old = b"J\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t"
    assert raw.count(old) == 1, raw
    return raw.replace(old, b"J\xff\xff\xff\xffJ\xff\xff\xff\xffK\x3ft")


def check_crash(path):
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([PY, "-c", "import pickle,sys;a=pickle.load(open(sys.argv[1],'rb'));print(repr(a))", str(path)],
                           cwd=d, capture_output=True, text=True)
    last = (r.stdout + r.stderr).strip().splitlines()[-1:]
    assert r.returncode != 0, r.stdout
    return f"pickle.load child exited with {r.returncode} (negative: killed by that signal): {last}"


add("malicious", "dtype-object-flags.pkl", dtype_flags(), "allowlisted-harm", "dangerous", "numpy.dtype", check_crash)


def check_bytearray(path):
    code = "import torch,sys;b=torch.load(sys.argv[1],weights_only=True);print(type(b).__name__,len(b))"
    r = subprocess.run([PY, "-c", code, str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return "torch.load(weights_only=True) allocates what the file asks: " + r.stdout.strip()


def torch_zip_with(pkl):
    buf = io.BytesIO()
    torch.save({}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for info in src.infolist():
            z.writestr(info.filename, pkl if info.filename.endswith("data.pkl") else src.read(info))
    return out.getvalue()


add("malicious", "bytearray-2mib.pt", torch_zip_with(b"\x80\x02c__builtin__\nbytearray\nJ\x00\x00\x20\x00\x85R."), "allowlisted-harm", "suspicious", "__builtin__.bytearray", check_bytearray)


# TorchScript archive: torch.load hands it to torch.jit.load (CVE-2025-32434)
class Tiny(torch.nn.Module):
    def forward(self, x):
        return x + 1


def torchscript():
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(Tiny()), buf)
    return buf.getvalue()


def check_torchscript(path):
    code = "import torch,sys;m=torch.load(sys.argv[1],weights_only=False);print(type(m).__name__)"
    r = subprocess.run([PY, "-c", code, str(path)], capture_output=True, text=True)
    assert "ScriptModule" in r.stdout, r.stdout + r.stderr
    return "torch.load returns " + r.stdout.strip()


add("malicious", "torchscript.pt", torchscript(), "torchscript", "dangerous", None, check_torchscript)


# tensor metadata: views outside their storage, negative strides, storage sizes that disagree
def patched_torch(patch):
    buf = io.BytesIO()
    torch.save({"w": torch.arange(4, dtype=torch.float32)}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("data.pkl"):
                new = patch(data)
                assert new != data
                data = new
            z.writestr(info.filename, data)
    return out.getvalue()


def check_torch_weights_only(path):
    code = "import torch,sys\ntry:\n  r=torch.load(sys.argv[1],weights_only=True);print('accepted', tuple(r['w'].shape))\nexcept Exception as e:\n  print('refused:', type(e).__name__)"
    r = subprocess.run([PY, "-c", code, str(path)], capture_output=True, text=True)
    return "torch.load(weights_only=True): " + r.stdout.strip()


add("malicious", "view-outside-storage.pt", patched_torch(lambda d: d.replace(b"K\x04\x85", b"K@\x85", 1)), "tensor-metadata", "suspicious", None, check_torch_weights_only)
add("malicious", "negative-stride.pt", patched_torch(lambda d: d.replace(b"K\x01\x85", b"J\xff\xff\xff\xff\x85", 1)), "tensor-metadata", "suspicious", None, check_torch_weights_only)
add("malicious", "storage-size.pt", patched_torch(lambda d: d.replace(b"X\x03\x00\x00\x00cpuq\x06K\x04", b"X\x03\x00\x00\x00cpuq\x06K@", 1)), "tensor-metadata", "suspicious", None, check_torch_weights_only)

# 7. public bypass gadget families (picklescan advisories, ModelAudit's list) -----------------
GADGETS = [
    ("pip", "main"), ("pkgutil", "resolve_name"), ("uuid", "_get_command_stdout"), ("imaplib", "IMAP4_stream"),
    ("ensurepip", "_run_pip"), ("mailcap", "findmatch"), ("typing", "_eval_type"), ("operator", "call"),
    ("operator", "attrgetter"), ("builtins", "getattr"), ("runpy", "run_path"), ("code", "InteractiveInterpreter"),
    ("timeit", "timeit"), ("cProfile", "run"), ("pydoc", "locate"), ("importlib", "import_module"),
    ("shutil", "rmtree"), ("socket", "create_connection"), ("subprocess", "Popen"), ("webbrowser", "open"),
    ("torch.hub", "load"), ("_operator", "attrgetter"), ("functools", "partial"), ("builtins", "exec"),
    ("pathlib", "Path.write_text"), ("asyncio", "subprocess"), ("bdb", "Bdb"), ("pty", "spawn"),
]
for m, n in GADGETS:
    def confirm(path, m=m, n=n):
        reached_by("pickle", m, n)(path)
        _, _, tail = child(path, "import", (m, n))
        return f"pickle reaches {m}.{n}; importable here: {tail[-1:] == ['resolved']}"
    add("malicious", f"gadget-{m}.{n}.pkl", payload_p2(m, n), "gadget", "dangerous", f"{m}.{n}", confirm)


# 8. what torch's weights_only loader accepts: safe --------------------------------------------
def saved(obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    torch.load(io.BytesIO(data), weights_only=True)  # accepted by torch itself
    return data


q = torch.quantize_per_tensor(torch.rand(4), 0.1, 3, torch.quint8)
qc = torch.quantize_per_channel(torch.rand(2, 3), torch.tensor([0.1, 0.2]), torch.tensor([0, 1]), 0, torch.qint8)
BENIGN = [
    ("complex.pt", {"c": complex(1, 2)}),
    ("counter.pt", {"n": Counter({"a": 2})}),
    ("layout.pt", {"layout": torch.sparse_coo}),
    ("qscheme.pt", {"a": torch.per_tensor_affine, "b": torch.per_channel_affine}),
    ("qtensor.pt", {"q": q, "qc": qc}),
    ("sparse-coo.pt", {"s": torch.eye(3).to_sparse()}),
    ("sparse-csr.pt", {"s": torch.eye(3).to_sparse_csr()}),
    ("meta.pt", {"m": torch.empty(3, 4, device="meta")}),
    ("plain.pt", OrderedDict(w=torch.ones(2, 2))),
]
for name, obj in BENIGN:
    add("benign", name, saved(obj), "weights-only", "safe", None, lambda p: "torch.load(weights_only=True) accepts it")

# refused by torch's weights_only loader: suspicious, not dangerous
import argparse, collections, datetime
for name, obj in [("namespace.pt", argparse.Namespace(lr=0.1)), ("defaultdict.pt", collections.defaultdict(int)),
                  ("datetime.pt", datetime.datetime(2020, 1, 1)), ("posixpath.pt", pathlib.PurePosixPath("/tmp/x"))]:
    buf = io.BytesIO()
    torch.save({"x": obj}, buf)
    add("benign", name, buf.getvalue(), "refused-by-torch", "suspicious", None)

(ROOT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
print(f"{len(manifest)} files")
