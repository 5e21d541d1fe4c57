#!/usr/bin/env python3
"""Reference tables for tensorscope's decoders of the 8-bit-and-smaller float kinds.

Run once with ml_dtypes (and torch, used as a cross-check where it has the dtype):
    /tmp/peers/bin/python tests/data/dtypes/make_tables.py
Writes tests/data/dtypes/<SAFETENSORS_NAME>.txt: one line per bit pattern, `0xHH value`, where value is the
float64 repr of what ml_dtypes decodes (`nan`, `inf`, `-inf` spelled out). Sub-byte kinds (F4, F6_*) list the
code in the low bits (16 or 64 lines), as ml_dtypes stores one element per byte.

Also writes packed.txt: packed byte strings of F4 and F6 values in the convention tensorscope documents
(element i occupies bits [i*w, i*w + w) of the little-endian bit stream: F4 low nibble first, F6 four values
in three bytes, first value in the low six bits of the first byte), made by a packer written here
independently of the Rust code.
"""
import math
import os
import random

import ml_dtypes
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

KINDS = [
    ("F8_E4M3", ml_dtypes.float8_e4m3fn, 8, "float8_e4m3fn"),
    ("F8_E5M2", ml_dtypes.float8_e5m2, 8, "float8_e5m2"),
    ("F8_E8M0", ml_dtypes.float8_e8m0fnu, 8, "float8_e8m0fnu"),
    ("F8_E4M3FNUZ", ml_dtypes.float8_e4m3fnuz, 8, "float8_e4m3fnuz"),
    ("F8_E5M2FNUZ", ml_dtypes.float8_e5m2fnuz, 8, "float8_e5m2fnuz"),
    ("F6_E2M3", ml_dtypes.float6_e2m3fn, 6, None),
    ("F6_E3M2", ml_dtypes.float6_e3m2fn, 6, None),
    ("F4", ml_dtypes.float4_e2m1fn, 4, None),
]


def fmt(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return repr(v)


def torch_values(name, codes):
    try:
        import torch
    except ImportError:
        return None
    dt = getattr(torch, name, None)
    if dt is None:
        return None
    return torch.tensor(codes, dtype=torch.uint8).view(dt).to(torch.float64).tolist()


def pack(codes, width):
    """LSB-first bit stream: element i at bits [i*width, (i+1)*width)."""
    nbits = len(codes) * width
    acc = 0
    for i, c in enumerate(codes):
        acc |= (c & ((1 << width) - 1)) << (i * width)
    return acc.to_bytes((nbits + 7) // 8, "little")


def main():
    for name, dt, width, torch_name in KINDS:
        codes = list(range(1 << width))
        values = np.array(codes, dtype=np.uint8).view(dt).astype(np.float64).tolist()
        if torch_name:
            tv = torch_values(torch_name, codes)
            if tv is not None:
                for c, a, b in zip(codes, values, tv):
                    same = (math.isnan(a) and math.isnan(b)) or a == b
                    assert same, f"{name} 0x{c:02x}: ml_dtypes {a} torch {b}"
        with open(os.path.join(HERE, f"{name}.txt"), "w") as f:
            for c, v in zip(codes, values):
                f.write(f"0x{c:02x} {fmt(v)}\n")

    rng = random.Random(5)
    with open(os.path.join(HERE, "packed.txt"), "w") as f:
        f.write("# dtype count packed-bytes-hex codes-hex (element order)\n")
        for name, width in [("F4", 4), ("F6_E2M3", 6), ("F6_E3M2", 6)]:
            for count in [1, 2, 3, 4, 5, 8, 13]:
                codes = [rng.randrange(1 << width) for _ in range(count)]
                f.write(f"{name} {count} {pack(codes, width).hex()} {' '.join(f'{c:02x}' for c in codes)}\n")


if __name__ == "__main__":
    main()
