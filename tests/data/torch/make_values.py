#!/usr/bin/env python3
"""Expected values of every tensor in samples/, as torch loads them: tests/data/torch/values.json.

Run after samples/make_samples.py:  python tests/data/torch/make_values.py
Format: {"<sample path>": {"file": ..., "tensors": {name: {dtype, shape, numel, first, min, max, mean, std,
nan, posinf, neginf, zeros}}}} (see fixturelib.values and /work/notes/values-needs.md).

Pickles are loaded with torch.load(weights_only=True). The malicious samples are never loaded: the one tensor of
samples/malicious.bin is rebuilt from the seed make_samples.py used.
"""

import glob
import os
import sys

import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixturelib import values_doc, write_json  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def main():
    os.chdir(ROOT)
    out = {}
    files = sorted(glob.glob("samples/**/*.safetensors", recursive=True)) + sorted(glob.glob("samples/**/*.bin", recursive=True))
    for f in files:
        if f == "samples/malicious.bin":
            g = torch.Generator().manual_seed(4)  # as make_samples.make_malicious
            obj = {"weight": torch.randn(4, 4, generator=g)}
        elif f.endswith(".safetensors"):
            obj = load_file(f)
        else:
            obj = torch.load(f, weights_only=True)
        out[f] = values_doc(obj, f)
    write_json(os.path.join(HERE, "values.json"), out)
    print(len(out), "files,", sum(len(v["tensors"]) for v in out.values()), "tensors")


if __name__ == "__main__":
    main()
