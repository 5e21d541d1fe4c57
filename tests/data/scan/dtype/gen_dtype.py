"""Nested structured dtypes (issue 23, class 7 at any depth): tests/data/scan/dtype/ and manifest.json.

Run by hand outside the test suite (needs numpy):
    python tests/data/scan/dtype/gen_dtype.py

numpy's `dtype.__setstate__` trusts the flags and the field offsets of a pickled dtype. A structured
dtype whose field is itself structured is pickled as a dtype inside the fields dict of another, each
with its own state; the scanner must follow every level. Each malicious file is confirmed by its
effect in a child process started in a throwaway folder: `pickle.load` then reading the array kills
the child with a signal (a raw integer read as an object pointer, or a field read past the item).
Each benign file is a plain `pickle.dumps` of a real array that loads back equal in a child.
tests/scan_dtype.rs reads the manifest.
"""
import json, pathlib, pickle, re, subprocess, sys, tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent
PY = sys.executable
manifest = []


def add(kind, name, data, expect, global_, confirm, note=""):
    path = ROOT / kind / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    entry = {"file": f"{kind}/{name}", "class": "dtype-fields", "expect": expect, "global": global_, "note": note}
    entry["confirmed"] = confirm(path)
    manifest.append(entry)
    print(f"{kind}/{name}: {entry['confirmed']}")


def child(path, code):
    with tempfile.TemporaryDirectory() as d:
        return subprocess.run([PY, "-c", code, str(path)], cwd=d, capture_output=True, text=True, timeout=120)


def check_crash(path):
    r = child(path, "import pickle,sys;a=pickle.load(open(sys.argv[1],'rb'));print(repr(a.tolist()))")
    assert r.returncode < 0, (path, r.returncode, r.stdout[-300:], r.stderr[-300:])
    return f"pickle.load then reading the array: the child was killed by signal {-r.returncode}"


def loads_equal(original):
    def run(path):
        r = child(path, "import pickle,sys;a=pickle.load(open(sys.argv[1],'rb'));print(repr(a.tolist()))")
        assert r.returncode == 0, (path, r.stderr[-300:])
        assert r.stdout.strip() == repr(original.tolist()), (r.stdout, original)
        return "pickle.load gives the array back"
    return run


def one(raw, old, new):
    assert raw.count(old) == 1, (old, raw)
    return raw.replace(old, new)


# the innermost field becomes an object dtype (with an object dtype's flags); the structured dtype
# holding it gets the flags numpy gives a structured dtype with an object field (27): that level is
# consistent. The outermost dtype keeps the flags 16 of its numeric original, so numpy copies the raw
# bytes in, and reading the nested field takes 0x4141… for a pointer.
def nested_object_field():
    a = np.array([((0x4141414141414141,), 7)], dtype=[("s", [("a", "<i8")]), ("x", "u1")])
    raw = pickle.dumps(a, protocol=2)
    raw = one(raw, b"X\x02\x00\x00\x00i8", b"X\x02\x00\x00\x00O8")
    old = re.compile(rb"X\x01\x00\x00\x00<(q.)NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t", re.S)
    assert len(old.findall(raw)) == 1, raw
    raw = old.sub(lambda m: b"X\x01\x00\x00\x00|" + m.group(1) + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?t", raw)
    # the middle dtype (V8, alignment 1): the flags 16 of a numeric structured dtype -> 27; the
    # outer one (V9) keeps 16
    return one(raw, b"K\x08K\x01K\x10t", b"K\x08K\x01K\x1bt")


add("malicious", "nested-object-field.pkl", nested_object_field(), "dangerous", "numpy.dtype", check_crash,
    "an object field two levels down; the outer dtype's flags say no objects")


# the same three levels down
def deep_object_field():
    a = np.array([(((0x4141414141414141,),),)], dtype=[("s", [("t", [("a", "<i8")])])])
    raw = pickle.dumps(a, protocol=2)
    raw = one(raw, b"X\x02\x00\x00\x00i8", b"X\x02\x00\x00\x00O8")
    old = re.compile(rb"X\x01\x00\x00\x00<(q.)NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t", re.S)
    raw = old.sub(lambda m: b"X\x01\x00\x00\x00|" + m.group(1) + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?t", raw)
    # three V8 dtypes with flags 16, innermost first: the two inner ones get 27, the outermost keeps 16
    parts = raw.split(b"K\x08K\x01K\x10t")
    assert len(parts) == 4, raw
    return parts[0] + b"K\x08K\x01K\x1bt" + parts[1] + b"K\x08K\x01K\x1bt" + parts[2] + b"K\x08K\x01K\x10t" + parts[3]


add("malicious", "deep-object-field.pkl", deep_object_field(), "dangerous", "numpy.dtype", check_crash,
    "an object field three levels down; the outermost dtype's flags say no objects")


# a subarray field of objects: the field's own dtype (a V16 subarray of O8) has consistent flags,
# the structured dtype holding it keeps flags 0
def subarray_object_field():
    a = np.array([((0x4141414141414141, 0x4141414141414141),)], dtype=[("a", "<i8", (2,))])
    raw = pickle.dumps(a, protocol=2)
    raw = one(raw, b"X\x02\x00\x00\x00i8", b"X\x02\x00\x00\x00O8")
    old = re.compile(rb"X\x01\x00\x00\x00<(q.)NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t", re.S)
    assert len(old.findall(raw)) == 1, raw
    raw = old.sub(lambda m: b"X\x01\x00\x00\x00|" + m.group(1) + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?t", raw)
    # the subarray dtype (V16, alignment 8... numpy writes NN then 16, 8, flags): flags 0 -> 63
    return one(raw, b"NNK\x10K\x08K\x00t", b"NNK\x10K\x08K?t")


add("malicious", "subarray-object-field.pkl", subarray_object_field(), "dangerous", "numpy.dtype", check_crash,
    "a subarray of objects inside a structured dtype whose flags say no objects")


# a numeric field placed 1 MiB past the end of an 8-byte item: numpy takes the offset as given
def field_past_item():
    a = np.zeros(2, dtype=[("a", "<i8")])
    raw = pickle.dumps(a, protocol=2)
    return one(raw, b"K\x00\x86", b"J\x00\x00\x10\x00\x86")


add("malicious", "field-past-item.pkl", field_past_item(), "suspicious", "numpy.dtype", check_crash,
    "a field at offset 1 MiB of an 8-byte item: reading it reads far past the array")


# benign: what numpy itself writes for nested and subarray dtypes, objects included
benign = {
    "nested-object.pkl": np.array([(("x", 1), 2)], dtype=[("s", [("a", "O"), ("b", "<i4")]), ("x", "<i4")]),
    "deep-object.pkl": np.array([((("y",),),)], dtype=[("s", [("t", [("a", "O")])])]),
    "subarray-object.pkl": np.array([(("p", None),)], dtype=[("a", "O", (2,))]),
    "nested-numeric.pkl": np.array([((1.5, 2), 3)], dtype=[("s", [("a", "<f8"), ("b", "<i2", (3,))]), ("x", "u1")]),
    "titled-fields.pkl": np.array([(1, "t")], dtype=[(("title a", "a"), "<i4"), (("title b", "b"), "O")]),
    "aligned-nested.pkl": np.zeros(3, dtype=np.dtype([("s", [("a", "u1"), ("b", "<f8")]), ("c", "u1")], align=True)),
}
for name, arr in benign.items():
    add("benign", name, pickle.dumps(arr, protocol=2), "safe", None, loads_equal(arr))

# benign at protocol 5 (pandas' default): numpy pickles a numeric array as
# numpy._core.numeric._frombuffer(bytearray, dtype, shape, order), which refuses object dtypes
protocol5 = {
    "protocol5-numeric.pkl": np.arange(6, dtype=np.float32).reshape(2, 3),
    "protocol5-structured.pkl": np.array([(1, 2.0)], dtype=[("a", "<i4"), ("b", [("c", "<f8")])]),
}
for name, arr in protocol5.items():
    add("benign", name, pickle.dumps(arr, protocol=5), "safe", None, loads_equal(arr),
        "numpy's protocol-5 reduction: _frombuffer over bytes the pickle carries")

(ROOT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
print(f"{len(manifest)} files")
