#!/usr/bin/env python3
"""Check `tensorscope convert` against Python: for every real torch.save fixture, convert it with the
binary, load the output with `safetensors.torch.load_file`, load the input with `torch.load`, and compare
every tensor (dtype, shape, bytes). Then write tests/data/convert/expected.json: the sha256 of every
output file and of every output tensor, which the Rust tests (tests/cli_convert.rs) compare against, so
CI needs no Python.

Run locally (never from the tests), after `cargo build`:
    /tmp/peers/bin/python tests/data/convert/check_with_python.py [path/to/tensorscope]

Files whose pickles the scanner flags (lightning.ckpt, custom-class.pt: suspicious) are converted with
--allow-suspicious and compared with their manifests (made by torch when the fixtures were written),
never loaded with torch.load here. The payload fixtures (pwned-*.pt) must be refused with exit 1 and no
output. Fixtures with complex128/complex32 are converted with --skip-unsupported.
"""

import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import torch
from safetensors import safe_open
from safetensors.torch import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "tensorscope")
UNSUPPORTED = {torch.complex128, torch.complex32}
SUSPICIOUS = {"lightning.ckpt", "custom-class.pt"}
PAYLOADS = {"pwned-exec.pt", "pwned-legacy.pt", "pwned-system.pt"}


def raw(t):
    """The bytes of a tensor's contiguous row-major data."""
    t = t.detach().contiguous().reshape(-1)
    if t.numel() == 0:
        return b""
    return t.view(torch.uint8).numpy().tobytes()


def sha(b):
    return hashlib.sha256(b).hexdigest()


def flatten(obj, prefix, out):
    """Tensors of a loaded object by key path joined with '.' (as the reader names them)."""
    if isinstance(obj, torch.Tensor):
        out[prefix] = obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            flatten(v, f"{prefix}.{i}" if prefix else str(i), out)
    return out


def convert(src, dst, *extra):
    r = subprocess.run([BIN, "convert", src, dst, *extra], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def output_hashes(path):
    with safe_open(path, "pt") as f:
        meta = f.metadata() or {}
    tensors = load_file(path)
    return meta, {n: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "sha256": sha(raw(t))}
                  for n, t in sorted(tensors.items())}


def main():
    fixtures = sorted(glob.glob(os.path.join(ROOT, "tests/data/torch/*.pt"))
                      + glob.glob(os.path.join(ROOT, "tests/data/torch/*.ckpt"))
                      + [os.path.join(ROOT, "samples", n) for n in ("gpt2-tiny.bin", "gpt2-tiny-legacy.bin")])
    expected = {}
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for src in fixtures:
            name = os.path.basename(src)
            rel = os.path.relpath(src, ROOT)
            dst = os.path.join(tmp, name + ".safetensors")
            manifest_path = src + ".manifest.json"
            manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else None
            extra = []
            if name in SUSPICIOUS:
                extra.append("--allow-suspicious")
            if manifest and any(t["dtype"] in ("complex128", "complex32") for t in manifest["tensors"]):
                extra.append("--skip-unsupported")
            code, out, err = convert(src, dst, *extra)
            if name in PAYLOADS:
                ok = code == 1 and not os.path.exists(dst)
                print(f"{'ok ' if ok else 'BAD'} {rel}: refused (exit {code})")
                failures += not ok
                expected[rel] = {"refused": True}
                continue
            if code != 0:
                print(f"BAD {rel}: exit {code}: {err.strip()}")
                failures += 1
                continue
            meta, got = output_hashes(dst)
            aliases = {k: v for k, v in meta.items() if v in got and k not in got}
            # what torch sees
            if manifest is None or (manifest["safe"] and manifest["torch_loads"]):
                try:
                    loaded = torch.load(src, map_location="cpu", weights_only=True)
                except Exception:
                    # protocol 4/5 and numpy fixtures: torch's weights_only loader refuses them; they are
                    # our own fixtures, made safe (the manifest says so and the scanner agrees)
                    loaded = torch.load(src, map_location="cpu", weights_only=False)
                want = flatten(loaded, "", {})
                want = {n: (str(t.dtype).replace("torch.", ""), list(t.shape), sha(raw(t))) for n, t in want.items()
                        if t.dtype not in UNSUPPORTED}
                source = "torch.load"
            else:
                want = {t["name"]: (t["dtype"], t["shape"], t["sha256"]) for t in manifest["tensors"]
                        if t["dtype"] not in ("complex128", "complex32") and not t.get("numpy")}
                source = "manifest"
            st_tensors = load_file(dst)
            bad = []
            for n, (dtype, shape, digest) in want.items():
                # a bare tensor has an empty key path; the reader names it "tensor"
                key = n if n in got else aliases.get(n, "tensor" if n == "" else None)
                if key is None:
                    # numpy arrays whose bytes the pickle re-encodes are left out by the reader
                    bad.append(f"{n} missing")
                    continue
                g = got[key]
                if g["sha256"] != digest:
                    bad.append(f"{n}: bytes differ")
                if source == "torch.load":
                    t = st_tensors[key]
                    ref = flatten(loaded, "", {})[n]
                    if n == "":
                        ref = loaded
                    same_shape = list(t.shape) == list(ref.shape) or (
                        ref.dtype == torch.float4_e2m1fn_x2 and list(t.shape[:-1]) == list(ref.shape[:-1]))
                    if t.dtype != ref.dtype or not same_shape:
                        bad.append(f"{n}: {t.dtype}{list(t.shape)} vs torch {ref.dtype}{list(ref.shape)}")
            extra_names = set(got) - set(want) - set(aliases.values()) - ({"tensor"} if "" in want else set())
            if extra_names:
                bad.append(f"unexpected tensors {sorted(extra_names)}")
            status = "ok " if not bad else "BAD"
            failures += bool(bad)
            print(f"{status} {rel}: {len(got)} tensors, {len(aliases)} aliases, vs {source}"
                  + ("" if not bad else ": " + "; ".join(bad[:5])))
            expected[rel] = {
                "args": extra,
                "file_sha256": sha(open(dst, "rb").read()),
                "metadata": dict(sorted(meta.items())),
                "tensors": got,
            }
    out = os.path.join(ROOT, "tests/data/convert/expected.json")
    if failures:
        print(f"{failures} failure(s); {os.path.relpath(out, ROOT)} left unchanged")
        sys.exit(1)
    with open(out, "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"0 failures; wrote {os.path.relpath(out, ROOT)}")


if __name__ == "__main__":
    main()
