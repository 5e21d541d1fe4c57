"""Writes the numpy fixtures of tests/cli_numpy.rs with real numpy, and expected.json: for every
array tensorscope reads, its dtype, shape, first values (C order, as np.load gives them) and
statistics computed by numpy. Run from this folder: python gen.py (numpy >= 1.17)."""
import io
import json
import struct
import zipfile

import numpy as np

rng = np.random.default_rng(7)
arrays = {
    "f4": rng.standard_normal((2, 3)).astype("<f4"),
    "f2": rng.standard_normal((4,)).astype("<f2"),
    "f8": rng.standard_normal((3, 2)).astype("<f8"),
    "i8": np.array([[-5, 0, 7], [2**40, -(2**40), 3]], dtype="<i8"),
    "u1": np.arange(250, 256, dtype="|u1").reshape(2, 3),
    "b1": np.array([True, False, True, True]),
    "c8": np.array([1 + 2j, -3.5 + 0j, 0 - 1j], dtype="<c8"),
    "i2": np.array([-32768, 0, 32767], dtype="<i2"),
    "u4": np.array([0, 1, 2**32 - 1], dtype="<u4"),
    "fortran": np.asfortranarray(np.arange(12, dtype="<f4").reshape(3, 4)),
    "scalar": np.array(2.5, dtype="<f8"),
    "empty": np.zeros((0, 3), dtype="<f4"),
}
TYPES = {"<f4": "F32", "<f2": "F16", "<f8": "F64", "<i8": "I64", "|u1": "U8", "|b1": "BOOL", "<c8": "C64",
         "<i2": "I16", "<u4": "U32"}


def entry(a):
    flat = a.ravel(order="C")
    e = {"dtype": TYPES[a.dtype.str], "shape": list(a.shape), "numel": int(a.size)}
    if a.dtype.kind == "c":
        e["first"] = [[float(z.real), float(z.imag)] for z in flat[:32]]
        return e
    if a.dtype.kind == "b":
        e["first"] = [bool(x) for x in flat[:32]]
    elif a.dtype.kind in "iu":
        e["first"] = [int(x) for x in flat[:32]]
    else:
        e["first"] = [float(x) for x in flat[:32]]
    if a.size:
        x = flat.astype(np.float64)
        e.update(min=float(x.min()), max=float(x.max()), mean=float(x.mean()), std=float(x.std(ddof=1)) if a.size > 1 else None)
    return e


expected = {}
for name, a in arrays.items():
    np.save(f"{name}.npy", a)
    assert np.load(f"{name}.npy").dtype == a.dtype
    expected[f"{name}.npy"] = {name: entry(a)}

# format versions 2.0 and 3.0 (numpy writes them for headers over 64 KiB or non-latin-1 field names)
for version in [(2, 0), (3, 0)]:
    a = np.arange(6, dtype="<i4").reshape(2, 3) if version == (2, 0) else np.arange(4, dtype="<u2")
    tag = f"v{version[0]}"
    with open(f"{tag}.npy", "wb") as f:
        np.lib.format.write_array(f, a, version=version)
    TYPES[a.dtype.str] = {"<i4": "I32", "<u2": "U16"}[a.dtype.str]
    expected[f"{tag}.npy"] = {tag: entry(a)}

# listed honestly, never decoded or unpickled
np.save("big-endian.npy", np.array([1.0, 2.0], dtype=">f4"))
np.save("object.npy", np.array([1, "two", None], dtype=object), allow_pickle=True)
np.save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i2")]))
np.save("strings.npy", np.array(["ab", "c"]))

# archives: stored (np.savez) and deflated (np.savez_compressed) members
pair = {"weight": rng.standard_normal((3, 4)).astype("<f4"), "bias": np.arange(3, dtype="<i8")}
np.savez("arrays.npz", **pair)
np.savez_compressed("compressed.npz", **pair, **{"layer/w": np.ones((2, 2), dtype="<f2")})
for archive in ["arrays.npz", "compressed.npz"]:
    with np.load(archive) as z:
        expected[archive] = {k: entry(z[k]) for k in z.files}
np.savez("mixed.npz", good=np.arange(3, dtype="<f4"), bad=np.array([{"a": 1}], dtype=object))
expected["mixed.npz"] = {"good": entry(np.arange(3, dtype="<f4"))}

# hostile: cut data, a header length past the end, a shape whose byte size overflows
raw = open("f4.npy", "rb").read()
open("truncated.npy", "wb").write(raw[:-5])
open("header-lies.npy", "wb").write(raw[:8] + struct.pack("<H", 60000) + raw[10:])
d = b"{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }"
d += b" " * (63 - (10 + len(d)) % 64) + b"\n"
open("shape-overflow.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(d)) + d + b"\0" * 16)

with open("expected.json", "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
