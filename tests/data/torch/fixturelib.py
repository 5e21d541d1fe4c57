"""Shared helpers for make_fixtures.py and make_values.py: manifests, expected values, pickle globals.

Nothing here loads a pickle; `pickle_globals` only disassembles bytes with pickletools.
"""

import hashlib
import io
import json
import math
import pickletools
import zipfile

import numpy as np
import torch

# torch dtype -> safetensors spelling; dtypes not listed here keep their torch name.
SAFETENSORS_NAME = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float8_e4m3fn: "F8_E4M3",
    torch.float8_e5m2: "F8_E5M2",
    torch.float8_e4m3fnuz: "F8_E4M3FNUZ",
    torch.float8_e5m2fnuz: "F8_E5M2FNUZ",
    torch.int8: "I8",
    torch.int16: "I16",
    torch.int32: "I32",
    torch.int64: "I64",
    torch.uint8: "U8",
    torch.bool: "BOOL",
    torch.complex64: "C64",
}
for _name, _st in (
    ("float8_e8m0fnu", "F8_E8M0"),
    ("uint16", "U16"),
    ("uint32", "U32"),
    ("uint64", "U64"),
):
    if hasattr(torch, _name):
        SAFETENSORS_NAME[getattr(torch, _name)] = _st

# torch dtypes that safetensors.torch can write (float4_e2m1fn_x2 is written as F4 with the last dim doubled)
REF_OK = set(SAFETENSORS_NAME) | ({torch.float4_e2m1fn_x2} if hasattr(torch, "float4_e2m1fn_x2") else set())

F4_TABLE = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]


def dtype_name(dt):
    return SAFETENSORS_NAME.get(dt, str(dt).removeprefix("torch."))


def raw_bytes(t):
    """The tensor's contiguous bytes in logical (row-major) order."""
    return t.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def as_tensor(obj):
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(obj))
    return obj


def walk(obj, path=()):
    """Yield ("tensor", path, obj) / ("scalar", path, obj) / ("opaque", path, obj), in pickling order."""
    if isinstance(obj, (torch.Tensor, np.ndarray)):
        yield "tensor", path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk(v, path + (str(k),))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from walk(v, path + (str(i),))
    elif obj is None or isinstance(obj, (bool, int, float, str, bytes)):
        yield "scalar", path, obj
    else:
        yield "opaque", path, obj


def pickled_as(v):
    """The global the pickle names for v: the class for NEWOBJ objects, the callable for __reduce__ payloads."""
    import copyreg

    r = v.__reduce_ex__(2)
    f = r[0]
    if f is copyreg.__newobj__:
        f = r[1][0]
    return f"{f.__module__}.{f.__qualname__}"


def manifest(obj, file, fmt, top=None, extra=None):
    tensors, scalars, opaque = [], {}, {}
    storages = {}
    for kind, path, v in walk(obj):
        name = ".".join(path)
        if kind == "scalar":
            scalars[name] = str(v)
        elif kind == "opaque":
            opaque[name] = pickled_as(v)
        else:
            is_np = isinstance(v, np.ndarray)
            t = as_tensor(v)
            entry = {
                "name": name,
                "dtype": dtype_name(t.dtype),
                "shape": list(t.shape),
                "storage_offset": t.storage_offset(),
                "stride": list(t.stride()),
                "sha256": hashlib.sha256(raw_bytes(t)).hexdigest(),
                "nbytes": t.numel() * t.element_size(),
            }
            if is_np:
                entry["numpy"] = True
            else:
                key = t.untyped_storage()._cdata
                storages.setdefault(key, len(storages))
                entry["storage"] = storages[key]
                entry["storage_nbytes"] = t.untyped_storage().nbytes()
                entry["parameter"] = isinstance(v, torch.nn.Parameter)
                entry["requires_grad"] = bool(v.requires_grad)
            entry["in_ref"] = t.dtype in REF_OK
            tensors.append(entry)
    m = {"file": file, "format": fmt}
    if top is not None:
        m["top"] = top
    m["tensors"] = tensors
    m["scalars"] = scalars
    m["opaque"] = opaque
    if extra:
        m.update(extra)
    return m


def ref_tensors(obj):
    """name -> contiguous clone, for the reference .safetensors file (dtypes it can hold only)."""
    out = {}
    for kind, path, v in walk(obj):
        if kind != "tensor":
            continue
        t = as_tensor(v).detach()
        if t.dtype in REF_OK:
            out[".".join(path)] = t.contiguous().clone()
    return out


# ----------------------------------------------------------------------------------------------
# pickle globals (disassembly only)
# ----------------------------------------------------------------------------------------------


def _globals_of_pickle(data):
    found = []
    memo = {}
    strings = []  # recent string pushes (for STACK_GLOBAL)
    last = None
    for op, arg, pos in pickletools.genops(data):
        name = op.name
        if name in ("GLOBAL", "INST"):
            mod, _, attr = arg.partition(" ")
            found.append(f"{mod}.{attr}")
        elif name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING", "SHORT_BINSTRING"):
            strings.append(arg)
            last = arg
            continue
        elif name == "MEMOIZE":
            memo[len(memo)] = last
            continue
        elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[int(arg)] = last
            continue
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            v = memo.get(int(arg))
            if isinstance(v, str):
                strings.append(v)
            last = v
            continue
        elif name == "STACK_GLOBAL":
            found.append(f"{strings[-2]}.{strings[-1]}")
        last = None
    return found


def pickle_globals(path):
    """Sorted distinct 'module.name' of every GLOBAL/STACK_GLOBAL/INST in the file's object pickle(s)."""
    with open(path, "rb") as f:
        data = f.read()
    found = []
    if data[:4] == b"PK\x03\x04":
        z = zipfile.ZipFile(io.BytesIO(data))
        for n in z.namelist():
            if n.endswith(".pkl"):
                found += _globals_of_pickle(z.read(n))
    else:
        f = io.BytesIO(data)
        for _ in range(4):  # magic, protocol, sys_info, objects (legacy) -- or a single plain pickle
            if f.tell() >= len(data):
                break
            start = f.tell()
            ops = list(pickletools.genops(f))
            found += _globals_of_pickle(data[start : f.tell()])
            del ops
    return sorted(set(found))


# ----------------------------------------------------------------------------------------------
# expected values (see /work/notes/values-needs.md)
# ----------------------------------------------------------------------------------------------


def _jnum(x):
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
    return x


def _f4_decode(t):
    """float4_e2m1fn_x2 bytes -> the 2*n E2M1 values, low nibble first (torch cannot convert this dtype)."""
    out = []
    for b in raw_bytes(t):
        for nib in (b & 0xF, b >> 4):
            v = F4_TABLE[nib & 7]
            out.append(-v if nib & 8 else v)
    return torch.tensor(out, dtype=torch.float64)


def values(t):
    t = as_tensor(t).detach()
    info = {"dtype": dtype_name(t.dtype), "shape": list(t.shape), "numel": t.numel()}
    flat = t.contiguous().reshape(-1)
    if t.dtype.is_complex:
        c = flat.to(torch.complex128)
        info["first"] = [[_jnum(z.real), _jnum(z.imag)] for z in c[:16].tolist()]
        for k in ("min", "max", "mean", "std"):
            info[k] = None
        re, im = c.real, c.imag
        info["nan"] = int((torch.isnan(re) | torch.isnan(im)).sum())
        info["posinf"] = info["neginf"] = None
        info["zeros"] = int(((re == 0) & (im == 0)).sum())
        return info
    if t.dtype == torch.bool:
        info["first"] = flat[:16].tolist()
        d = flat.double()
    elif t.dtype.is_floating_point or (hasattr(torch, "float4_e2m1fn_x2") and t.dtype == torch.float4_e2m1fn_x2):
        if hasattr(torch, "float4_e2m1fn_x2") and t.dtype == torch.float4_e2m1fn_x2:
            d = _f4_decode(flat)
            info["note"] = "float4_e2m1fn_x2: two E2M1 values per byte, low nibble first; stats over the 2*numel values"
        else:
            d = flat.to(torch.float64)
        info["first"] = [_jnum(x) for x in d[:16].tolist()]
    else:
        ints = flat.tolist()
        info["first"] = ints[:16]
        d = flat.double()
        fin = ints
        info["min"] = min(fin) if fin else None
        info["max"] = max(fin) if fin else None
    finite = d[torch.isfinite(d)]
    if "min" not in info:
        info["min"] = finite.min().item() if finite.numel() else None
        info["max"] = finite.max().item() if finite.numel() else None
    if t.dtype == torch.bool:
        info["min"], info["max"] = (int(finite.min().item()), int(finite.max().item())) if finite.numel() else (None, None)
    info["mean"] = finite.mean().item() if finite.numel() else None
    info["std"] = finite.std().item() if finite.numel() >= 2 else None
    info["nan"] = int(torch.isnan(d).sum())
    info["posinf"] = int((d == math.inf).sum())
    info["neginf"] = int((d == -math.inf).sum())
    info["zeros"] = int((d == 0).sum())
    return info


def values_doc(obj, file):
    out = {}
    for kind, path, v in walk(obj):
        if kind == "tensor":
            out[".".join(path)] = values(v)
    return {"file": file, "tensors": out}


def write_json(path, obj):
    with open(path, "w") as f:
        f.write(json.dumps(obj, indent=1, allow_nan=False) + "\n")
