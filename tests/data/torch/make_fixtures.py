#!/usr/bin/env python3
"""Generate the torch.save fixtures in tests/data/torch/ for the pickle reader's tests.

Run: python tests/data/torch/make_fixtures.py   (torch + safetensors + numpy; versions in README.md)

For each fixture X it writes X (a real torch.save file), X.manifest.json (what torch sees: names, dtypes, shapes,
storage offsets, strides, sha256 of the contiguous bytes, scalars, pickle globals), X.values.json (expected
values for `show`) and X.ref.safetensors (the same tensors, contiguous, where safetensors can hold them).

Safe fixtures are re-loaded with torch.load(weights_only=True) to check the manifest against what torch
reads back. The unsafe fixtures (lightning.ckpt, custom-class.pt, pwned-*.pt) are NEVER loaded: their manifests
come from the objects in memory before saving.
"""

import argparse
import io
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixturelib import manifest, pickle_globals, ref_tensors, values_doc, write_json  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
G = torch.Generator().manual_seed(1234)


def randn(*shape):
    return torch.randn(*shape, generator=G)


def path(name):
    return os.path.join(HERE, name)


# ----------------------------------------------------------------------------------------------
# objects
# ----------------------------------------------------------------------------------------------

FLOATS = [0.0, -0.0, 1.0, -1.5, 0.1, 448.0, 65504.0, 1e-3, float("nan"), float("inf"), float("-inf"), 3.14159,
          -2.0, 0.5, 1e-6, 240.0]


def float_tensor(dt):
    return torch.tensor(FLOATS, dtype=torch.float32).reshape(4, 4).to(dt)


def typed_dtypes():
    """dtypes that have a legacy typed storage class (torch.FloatStorage, ...): saved with _rebuild_tensor_v2."""
    d = OrderedDict()
    for name in ("float64", "float32", "float16", "bfloat16"):
        d[name] = float_tensor(getattr(torch, name))
    d["int8"] = torch.tensor([-128, -1, 0, 1, 127, 42], dtype=torch.int8)
    d["int16"] = torch.tensor([-32768, -1, 0, 1, 32767, 1000], dtype=torch.int16)
    d["int32"] = torch.tensor([-(2**31), -1, 0, 1, 2**31 - 1, 100000], dtype=torch.int32)
    d["int64"] = torch.tensor([-(2**63), -1, 0, 1, 2**63 - 1, 2**40], dtype=torch.int64)
    d["uint8"] = torch.tensor([0, 1, 127, 128, 255, 42], dtype=torch.uint8)
    d["bool"] = torch.tensor([[True, False, True], [False, False, True]])
    d["complex64"] = torch.tensor([1 + 2j, -3.5 - 0.25j, complex("nan"), complex(float("inf"), -1), 0j],
                                  dtype=torch.complex64)
    d["complex128"] = torch.tensor([1 + 2j, -3.5 - 0.25j, 1e300 + 1e-300j, 0j], dtype=torch.complex128)
    return d


def untyped_dtypes():
    """dtypes without a typed storage class: torch >= 2.x saves them with _rebuild_tensor_v3 over an
    UntypedStorage and appends the dtype global."""
    d = OrderedDict()
    for name in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz"):
        d[name] = float_tensor(getattr(torch, name))
    if hasattr(torch, "float8_e8m0fnu"):
        d["float8_e8m0fnu"] = torch.tensor([1.0, 2.0, 0.5, 0.25, 1024.0, 2.0**-127, 2.0**127, float("nan")]).to(
            torch.float8_e8m0fnu
        )
    for name, top in (("uint16", 2**16 - 1), ("uint32", 2**32 - 1), ("uint64", 2**64 - 1)):
        if hasattr(torch, name):
            d[name] = torch.tensor([0, 1, 2**7, top], dtype=getattr(torch, name))
    if hasattr(torch, "complex32"):
        d["complex32"] = torch.tensor([1 + 2j, -0.5 + 0.25j], dtype=torch.complex64).to(torch.complex32)
    if hasattr(torch, "float4_e2m1fn_x2"):
        d["float4_e2m1fn_x2"] = torch.tensor([0x10, 0x32, 0x54, 0x76, 0x98, 0xBA, 0xDC, 0xFE], dtype=torch.uint8).view(
            torch.float4_e2m1fn_x2
        ).reshape(2, 4)
    return d


def float8_all():
    d = OrderedDict()
    bits = torch.arange(256, dtype=torch.uint8)
    for name in ("float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu",
                 "float4_e2m1fn_x2"):
        if hasattr(torch, name):
            d[name] = bits.clone().view(getattr(torch, name))
    return d


def tied():
    w = randn(8, 4)
    other = randn(3)
    return OrderedDict(
        [("encoder.embed.weight", w), ("decoder.embed.weight", w), ("lm_head.weight", w), ("other", other)]
    )


def views():
    base = torch.arange(48, dtype=torch.float32).reshape(6, 8)
    big = torch.arange(100, dtype=torch.int64)
    hb = randn(4, 6).to(torch.bfloat16)
    tall = randn(16, 4)
    return OrderedDict(
        [
            ("base", base),
            ("rows", base[2:4]),  # storage_offset 16, contiguous
            ("column", base[:, 3]),  # offset 3, stride [8]
            ("transposed", base.t()),  # stride [1, 8]
            ("block", base[1:5, 2:6]),  # offset 10, stride [8, 1], not contiguous
            ("every_other", base[::2, ::3]),  # stride [16, 3]
            ("tail", base.view(-1)[40:]),  # offset 40
            ("slice_only", big[10:14]),  # the rest of `big` is never named, but torch saves the whole storage
            ("bf16_t_slice", hb.t()[1:4]),  # bf16, transposed then sliced: offset 1, stride [1, 6]
            ("expanded", randn(1, 3).expand(4, 3)),  # stride [0, 1]
            ("tall_t", tall.t()),  # a transpose whose base is not saved under any name
        ]
    )


def training_checkpoint():
    torch.manual_seed(7)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(5, 4)
    model(x).pow(2).mean().backward()
    opt.step()
    return {
        "state_dict": model.state_dict(),
        "epoch": 7,
        "optimizer": opt.state_dict(),
        "hyper": "x",
        "best_loss": 0.125,
        "lr_history": [0.1, 0.05],
        "done": False,
        "note": None,
    }, model, opt


def params():
    return OrderedDict(
        [
            ("param_grad", torch.nn.Parameter(randn(2, 3))),
            ("param_frozen", torch.nn.Parameter(randn(3), requires_grad=False)),
            ("leaf_requires_grad", randn(2).requires_grad_(True)),
            ("scalar_f32", torch.tensor(3.5)),
            ("scalar_i64", torch.tensor(7)),
            ("scalar_bool", torch.tensor(True)),
            ("empty", torch.empty(0)),
            ("empty_rows", torch.zeros(0, 4)),
            ("empty_middle", torch.zeros(3, 0, 2, dtype=torch.float16)),
        ]
    )


def small_model():
    return OrderedDict([("layer.weight", randn(3, 4)), ("layer.bias", randn(3))])


# ----------------------------------------------------------------------------------------------
# unsafe objects (never loaded back)
# ----------------------------------------------------------------------------------------------


class TrainConfig:
    """A user class: pickles as __main__.TrainConfig (NEWOBJ + BUILD)."""

    def __init__(self):
        self.lr = 0.01
        self.layers = [4, 3, 2]
        self.name = "tiny"


class SystemPayload:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


class ExecPayload:
    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


# ----------------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------------

INDEX = []


def emit(name, obj, saver, fmt, top=None, safe=True, torch_loads=True, untrusted=(), notes=None, full_load=False):
    """Save obj with saver(path), then write the manifest, values and reference files."""
    p = path(name)
    saver(p)
    extra = {"globals": pickle_globals(p), "safe": safe, "torch_loads": torch_loads}
    if untrusted:
        extra["untrusted_globals"] = list(untrusted)
        missing = [g for g in untrusted if g not in extra["globals"]]
        assert not missing, (name, missing, extra["globals"])
    if notes:
        extra["notes"] = notes
    m = manifest(obj, name, fmt, top, extra)
    refs = ref_tensors(obj)
    if refs:
        # one metadata key only: safetensors serialises metadata from a HashMap, several keys come out in random order
        save_file(refs, p + ".ref.safetensors", metadata={"format": "pt"})
        m["ref"] = name + ".ref.safetensors"
    if safe and torch_loads:
        # full_load: torch's weights_only unpickler refuses this file (numpy arrays; protocol 5's FRAME opcode),
        # and the file is our own, payload-free, so a full load is harmless here.
        loaded = torch.load(p, weights_only=not full_load)
        again = manifest(loaded, name, fmt, top, extra)
        if refs:
            again["ref"] = m["ref"]
        assert again == m, f"{name}: manifest after torch.load differs"
    write_json(p + ".manifest.json", m)
    write_json(p + ".values.json", values_doc(obj, "tests/data/torch/" + name))
    INDEX.append((name, fmt, top, safe))


def zip_saver(obj, **kw):
    return lambda p: torch.save(obj, p, **kw)


def legacy_saver(obj):
    return lambda p: torch.save(obj, p, _use_new_zipfile_serialization=False)


def stem(name):
    return name.rsplit(".", 1)[0]


def main():
    global G
    ap = argparse.ArgumentParser()
    ap.parse_args()
    G = torch.Generator().manual_seed(1234)

    # dtypes
    d = typed_dtypes()
    d.update(untyped_dtypes())
    emit("dtypes.pt", d, zip_saver(d), "pytorch-zip", "dtypes")
    d = typed_dtypes()
    emit("dtypes-legacy.pt", d, legacy_saver(d), "pytorch-legacy")
    d = OrderedDict([("bfloat16", float_tensor(torch.bfloat16)), ("float8_e4m3fn", float_tensor(torch.float8_e4m3fn)),
                     ("uint16", torch.tensor([1, 2, 65535], dtype=torch.uint16))])
    emit("dtypes-untyped-legacy.pt", d, legacy_saver(d), "pytorch-legacy", torch_loads=False,
         notes="torch 2.15 writes this but its own torch.load fails on it (UntypedStorage has no attribute dtype): "
               "legacy save of dtypes without a typed storage class. The bytes are all there.")
    d = float8_all()
    emit("float8-all.pt", d, zip_saver(d), "pytorch-zip", "float8-all",
         notes="all 256 bit patterns of each 8-bit float kind (byte i = element i), and of float4_e2m1fn_x2 "
               "(256 bytes = 512 E2M1 values)")

    # aliasing and views
    for leg in (False, True):
        sfx = "-legacy" if leg else ""
        fmt = "pytorch-legacy" if leg else "pytorch-zip"
        for base, make in (("tied", tied), ("views", views), ("params", params)):
            obj = make()
            name = f"{base}{sfx}.pt"
            emit(name, obj, legacy_saver(obj) if leg else zip_saver(obj), fmt, None if leg else stem(name))
        ck, _, _ = training_checkpoint()
        name = f"checkpoint{sfx}.pt"
        emit(name, ck, legacy_saver(ck) if leg else zip_saver(ck), fmt, None if leg else stem(name))

    # archive names and pickle protocols
    m = small_model()

    def to_stream(p):
        buf = io.BytesIO()
        torch.save(m, buf)
        with open(p, "wb") as f:
            f.write(buf.getvalue())

    emit("stream.pt", m, to_stream, "pytorch-zip", "archive", notes="saved to a BytesIO: top folder is 'archive'")

    def renamed(p):
        tmp = path("my_model_v2.pt")
        torch.save(m, tmp)
        os.replace(tmp, p)

    emit("renamed.pt", m, renamed, "pytorch-zip", "my_model_v2",
         notes="saved as my_model_v2.pt and renamed: the top folder no longer matches the file name")
    for proto in (4, 5):
        emit(f"protocol{proto}.pt", m, zip_saver(m, pickle_protocol=proto), "pytorch-zip", f"protocol{proto}",
             notes=f"torch.save(..., pickle_protocol={proto})", full_load=True)

    nd = OrderedDict([("weight", randn(2, 3)), ("np_f32", np.arange(6, dtype=np.float32).reshape(2, 3)),
                      ("np_i64", np.array([[1, -2], [3, 2**40]], dtype=np.int64)),
                      ("np_f16_t", np.arange(6, dtype=np.float16).reshape(2, 3).T)])
    emit("numpy.pt", nd, zip_saver(nd), "pytorch-zip", "numpy",
         notes="numpy arrays inside a checkpoint: numpy._core.multiarray._reconstruct + ndarray BUILD state "
               "(numpy 2.x spells the module numpy._core; numpy 1.x wrote numpy.core). np_f16_t is a transposed "
               "(Fortran-ordered) array: pickled as F-order bytes with a fortran flag in the BUILD state.",
         full_load=True)
    lst = [randn(2), randn(3), {"x": randn(1)}]
    emit("list-root.pt", lst, zip_saver(lst), "pytorch-zip", "list-root", notes="the root object is a list")
    bare = randn(2, 2)
    emit("bare-tensor.pt", bare, zip_saver(bare), "pytorch-zip", "bare-tensor",
         notes="the root object is a tensor: its key path is empty, so its manifest name is ''")

    # unsafe: never loaded back
    ck, model, opt = training_checkpoint()
    light = {
        "epoch": 3,
        "global_step": 120,
        "pytorch-lightning_version": "2.4.0",
        "state_dict": OrderedDict(("model." + k, v) for k, v in model.state_dict().items()),
        "loops": {"fit_loop": {"epoch_progress": {"total": {"ready": 4, "completed": 3}}}},
        "callbacks": {},
        "optimizer_states": [opt.state_dict()],
        "lr_schedulers": [],
        "hparams_name": "hparams",
        "hyper_parameters": argparse.Namespace(lr=0.001, hidden=3, name="tiny"),
    }
    emit("lightning.ckpt", light, zip_saver(light), "pytorch-zip", "lightning", safe=False,
         untrusted=["argparse.Namespace"],
         notes="Lightning-style checkpoint; hyper_parameters is an argparse.Namespace (NEWOBJ + BUILD)")
    cc = OrderedDict([("weight", randn(2, 2)), ("config", TrainConfig()), ("bias", randn(2))])
    emit("custom-class.pt", cc, zip_saver(cc), "pytorch-zip", "custom-class", safe=False,
         untrusted=["__main__.TrainConfig"], notes="a pickled instance of a class defined in make_fixtures.py")
    pw = OrderedDict([("weight", randn(2, 2)), ("meta", SystemPayload("touch /tmp/tensorscope-pwned-system"))])
    emit("pwned-system.pt", pw, zip_saver(pw), "pytorch-zip", "pwned-system", safe=False,
         untrusted=["posix.system"],
         notes="data.pkl calls os.system('touch /tmp/tensorscope-pwned-system') when unpickled")
    pw = OrderedDict([("weight", randn(2, 2)), ("meta", SystemPayload("touch /tmp/tensorscope-pwned-legacy"))])
    emit("pwned-legacy.pt", pw, legacy_saver(pw), "pytorch-legacy", safe=False, untrusted=["posix.system"],
         notes="legacy format; the object pickle calls os.system('touch /tmp/tensorscope-pwned-legacy')")
    pw = OrderedDict([("weight", randn(2, 2)),
                      ("meta", ExecPayload("open('/tmp/tensorscope-pwned-exec', 'w').close()"))])
    emit("pwned-exec.pt", pw, zip_saver(pw, pickle_protocol=4), "pytorch-zip", "pwned-exec", safe=False,
         untrusted=["builtins.exec"],
         notes="protocol 4 (STACK_GLOBAL); calls exec(\"open('/tmp/tensorscope-pwned-exec', 'w').close()\")")

    for name, fmt, top, safe in INDEX:
        print(f"{name:28} {fmt:15} top={top!s:14} safe={safe}")


if __name__ == "__main__":
    main()
