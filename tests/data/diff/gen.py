"""Fixtures of `tests/cli_diff.rs`: a small fp32 model, its fp16 and bf16 exports as people make them
(`model.half()`, `model.to(torch.bfloat16)`, saved with safetensors), a faulty fp16 export (one
tensor scaled by 1.0015) and a model whose fp16 export overflows. `expected.json` records, per pair, what torch.testing.assert_close says of each tensor
(B against A as the reference, `check_dtype=False`: torch's default tolerance of the pair) with the
differences computed exactly, so the test holds tensorscope's verdict to torch's.

Run with torch and safetensors installed:  python tests/data/diff/gen.py
"""

import json
import math
from fractions import Fraction
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

HERE = Path(__file__).resolve().parent


class Block(torch.nn.Module):
    def __init__(self, d):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(d)
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)
        self.ln2 = torch.nn.LayerNorm(d)
        self.fc1 = torch.nn.Linear(d, 2 * d)
        self.fc2 = torch.nn.Linear(2 * d, d)


class Tiny(torch.nn.Module):
    def __init__(self, vocab=64, d=32, layers=2):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d)
        self.blocks = torch.nn.ModuleList(Block(d) for _ in range(layers))
        self.ln_f = torch.nn.LayerNorm(d)
        self.lm_head = torch.nn.Linear(d, vocab, bias=False)


def save(sd, name):
    save_file({k: v.contiguous() for k, v in sd.items()}, HERE / name, metadata={"format": "pt"})


# smallest normal number: relative differences are measured at or above it (tensorscope's rule)
FLOOR = {torch.float16: 2.0**-14, torch.bfloat16: 2.0**-126, torch.float32: 2.0**-126}


def exact(a, b, floor):
    """max |a-b|, max |a-b|/|a| where |a| >= floor among the elements that differ, and 1 - cos, exactly
    (Fractions), with the fields that are not finite: an element of B that is inf where A is finite
    makes max |a-b| and the mean inf (torch: inf), its relative difference inf, and leaves no cosine
    (torch: nan). Only the fixtures' case (finite A, B finite or inf) is handled."""
    xs = [Fraction(float(v)) for v in a.double().flatten().tolist()]
    ys = [Fraction(float(v)) if math.isfinite(v) else None for v in b.double().flatten().tolist()]
    pairs = [(x, y) for x, y in zip(xs, ys) if y is not None]
    overflow = [x for x, y in zip(xs, ys) if y is None]
    not_finite = {}
    max_abs = float(max((abs(x - y) for x, y in pairs), default=Fraction(0)))
    rel = [abs(x - y) / abs(x) for x, y in pairs if x != y and x != 0 and abs(x) >= Fraction(floor)]
    max_rel = float(max(rel)) if rel else (0.0 if all(x == y for x, y in pairs) and not overflow else None)
    if overflow:
        max_abs = None
        not_finite = {"max_abs_diff": "inf", "mean_abs_diff": "inf"}
        if any(x != 0 and abs(x) >= Fraction(floor) for x in overflow):
            max_rel = None
            not_finite["max_rel_diff"] = "inf"
        return max_abs, max_rel, None, not_finite
    dot = sum(x * y for x, y in pairs)
    na = sum(x * x for x, _ in pairs)
    nb = sum(y * y for _, y in pairs)
    one_minus = None
    if na > 0 and nb > 0:
        s = math.sqrt(na * nb)
        # 1 - dot/s = (s² - dot²) / (s (s + dot)), the numerator exact
        one_minus = float(na * nb - dot * dot) / (s * (s + float(dot)))
    return max_abs, max_rel, one_minus, not_finite


def judge(a_name, b_name):
    a, b = load_file(HERE / a_name), load_file(HERE / b_name)
    rows = {}
    for k in a:
        ta, tb = a[k], b[k]
        try:
            torch.testing.assert_close(tb, ta, check_dtype=False)
            within = True
        except AssertionError:
            within = False
        floor = max(FLOOR[ta.dtype], FLOOR[tb.dtype])
        max_abs, max_rel, one_minus, not_finite = exact(ta, tb, floor)
        rows[k] = {
            "within": within,
            "equal": bool(torch.equal(ta.double(), tb.double())),
            "max_abs_diff": max_abs,
            "max_rel_diff": max_rel,
            "one_minus_cosine": one_minus,
        }
        if not_finite:
            rows[k]["not_finite"] = not_finite
    return {"a": a_name, "b": b_name, "tensors": rows}


def main():
    torch.manual_seed(0)
    m = Tiny()
    with torch.no_grad():
        # trained-looking norms: not all ones and zeros
        for mod in m.modules():
            if isinstance(mod, torch.nn.LayerNorm):
                mod.weight.add_(0.1 * torch.randn_like(mod.weight))
                mod.bias.add_(0.02 * torch.randn_like(mod.bias))
    sd = m.state_dict()
    save(sd, "model.safetensors")
    save({k: v.half() for k, v in sd.items()}, "model.fp16.safetensors")
    save({k: v.to(torch.bfloat16) for k, v in sd.items()}, "model.bf16.safetensors")
    # a faulty export: one tensor scaled by 1.0015 before rounding to fp16, so that its larger
    # values land outside F16's tolerance (1e-3 relative) and its small ones stay within (1e-5 absolute)
    off = {k: v.half() for k, v in sd.items()}
    off["blocks.1.fc1.weight"] = (sd["blocks.1.fc1.weight"] * 1.0015).half()
    save(off, "model.fp16-off.safetensors")
    # a model with a value past F16's largest (65504): its fp16 export holds inf
    big = {"w": torch.randn(16), "scale": torch.tensor([1.0, 70000.0, 1e-8, -3.0])}
    save(big, "big.safetensors")
    save({k: v.half() for k, v in big.items()}, "big.fp16.safetensors")
    pairs = [
        ("model.safetensors", "model.fp16.safetensors"),
        ("model.safetensors", "model.bf16.safetensors"),
        ("model.fp16.safetensors", "model.safetensors"),
        ("model.fp16.safetensors", "model.bf16.safetensors"),
        ("model.safetensors", "model.fp16-off.safetensors"),
        ("big.safetensors", "big.fp16.safetensors"),
    ]
    out = [judge(a, b) for a, b in pairs]
    (HERE / "expected.json").write_text(json.dumps(out, indent=1) + "\n")
    for p in out:
        n = len(p["tensors"])
        w = sum(r["within"] for r in p["tensors"].values())
        print(f"{p['a']} vs {p['b']}: {w}/{n} within torch's tolerance")


if __name__ == "__main__":
    main()
