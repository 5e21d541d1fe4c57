#!/usr/bin/env python3
"""GGUF fixtures for tensorscope's tests and the committed sample, written with gguf-py (the `gguf`
PyPI package, the reference implementation), with the values gguf-py's `dequantize` gives.

Run from the repository root:  /tmp/peers/bin/python scripts/make_gguf_fixtures.py

Writes
  tests/data/gguf/every_type.gguf   one tensor per type gguf-py dequantizes (random valid blocks)
  tests/data/gguf/every_type.json   per tensor: type, row-major shape, raw bytes (hex), gguf-py's values
  tests/data/gguf/nan_scales.gguf   a Q8_0 tensor whose blocks 2 and 5 have NaN scales, block 6 +Inf
  tests/data/gguf/unknown_type.gguf a file whose second tensor has type id 99 (unknown)
  tests/data/gguf/big_endian.gguf   a big-endian file (gguf-py can write them; tensorscope refuses them)
  tests/data/gguf/split/tiny-0000N-of-00003.gguf  a 3-shard gguf-split set
  samples/tiny.gguf                 a llama-shaped toy with several quant types and a chat template

Random blocks are made valid by writing sane scales over the random bytes: an f16 (or f32) scale
between 0.001 and 0.1 in magnitude, an E8M0 exponent near 1 for MXFP4, small UE4M3 scales for NVFP4.
"""
import json
import os
import struct

import numpy as np
from gguf import GGMLQuantizationType as T, GGUFWriter, GGUFEndian, quants
from gguf.constants import GGML_QUANT_SIZES

rng = np.random.default_rng(20261129)
OUT = "tests/data/gguf"

# byte offsets of the f16 scales (d, and dmin or m) of each block type
F16_SCALES = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
    T.IQ2_XXS: [0], T.IQ2_XS: [0], T.IQ2_S: [0], T.IQ3_XXS: [0], T.IQ3_S: [0], T.IQ1_S: [0],
    T.IQ4_NL: [0], T.IQ4_XS: [0], T.TQ1_0: [52], T.TQ2_0: [64],
}
DEQUANTIZABLE = list(F16_SCALES) + [T.IQ1_M, T.MXFP4, T.NVFP4]


def scale():
    return np.float16(rng.uniform(0.001, 0.1) * rng.choice([-1, 1]))


def random_blocks(qtype, n_blocks):
    block, size = GGML_QUANT_SIZES[qtype]
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    for b in raw:
        for off in F16_SCALES.get(qtype, []):
            b[off:off + 2] = np.frombuffer(scale().tobytes(), dtype=np.uint8)
        if qtype == T.IQ1_M:
            # the f16 super-scale lives in the top nibbles of the four 16-bit scale words at 48..56
            bits = int(np.frombuffer(scale().tobytes(), dtype=np.uint16)[0])
            words = np.frombuffer(b[48:56].tobytes(), dtype=np.uint16).copy()
            for k in range(4):
                words[k] = (words[k] & 0x0FFF) | (((bits >> (4 * k)) & 0xF) << 12)
            b[48:56] = np.frombuffer(words.tobytes(), dtype=np.uint8)
        if qtype == T.MXFP4:
            b[0] = rng.integers(118, 130)
        if qtype == T.NVFP4:
            b[0:4] = rng.integers(0x20, 0x48, size=4)
    return raw


def shape_for(qtype):
    block, _ = GGML_QUANT_SIZES[qtype]
    # two rows of 256 elements (row-major, as numpy prints it): ne = [256, 2]
    return (2, 256) if block <= 256 else (2, block)


def every_type():
    w = GGUFWriter(f"{OUT}/every_type.gguf", "llama")
    w.add_block_count(1)
    w.add_file_type(15)
    w.add_string("tokenizer.chat_template", "{% for m in messages %}{{ m.content }}{% endfor %}")
    fixtures = []
    for qtype in DEQUANTIZABLE:
        shape = shape_for(qtype)
        block, size = GGML_QUANT_SIZES[qtype]
        n_blocks = shape[0] * shape[1] // block
        raw = random_blocks(qtype, n_blocks).reshape(shape[0], -1)
        values = quants.dequantize(raw, qtype).astype(np.float32)
        assert values.shape == shape, (qtype, values.shape)
        assert np.isfinite(values).all(), qtype
        name = f"t.{qtype.name.lower()}"
        w.add_tensor(name, raw, raw_dtype=qtype)
        fixtures.append({
            "name": name, "type": qtype.name, "shape": list(shape), "hex": raw.tobytes().hex(),
            "values": [float(v) for v in values.reshape(-1)],
            "min": float(values.min()), "max": float(values.max()),
        })
    for name, arr, qtype in [
        ("t.f32", rng.standard_normal((2, 8)).astype(np.float32), T.F32),
        ("t.f16", rng.standard_normal((2, 8)).astype(np.float16), T.F16),
    ]:
        w.add_tensor(name, arr)
        values = arr.astype(np.float32)
        fixtures.append({
            "name": name, "type": qtype.name, "shape": list(arr.shape), "hex": arr.tobytes().hex(),
            "values": [float(v) for v in values.reshape(-1)],
            "min": float(values.min()), "max": float(values.max()),
        })
    bf = rng.standard_normal((2, 8)).astype(np.float32)
    bf_raw = quants.quantize(bf, T.BF16)
    w.add_tensor("t.bf16", bf_raw, raw_dtype=T.BF16)
    values = quants.dequantize(bf_raw, T.BF16)
    fixtures.append({
        "name": "t.bf16", "type": "BF16", "shape": [2, 8], "hex": bf_raw.tobytes().hex(),
        "values": [float(v) for v in values.reshape(-1)],
        "min": float(values.min()), "max": float(values.max()),
    })
    write(w)
    with open(f"{OUT}/every_type.json", "w") as f:
        json.dump(fixtures, f, separators=(",", ":"))
        f.write("\n")


def write(w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def nan_scales():
    w = GGUFWriter(f"{OUT}/nan_scales.gguf", "llama")
    raw = random_blocks(T.Q8_0, 8)
    # codes all nonzero so that an infinite scale gives infinities, never NaN (inf * 0)
    raw[:, 2:] = np.where(raw[:, 2:] == 0, 1, raw[:, 2:])
    for b in (2, 5):
        raw[b, 0:2] = np.frombuffer(np.float16(np.nan).tobytes(), dtype=np.uint8)
    raw[6, 0:2] = np.frombuffer(np.float16(np.inf).tobytes(), dtype=np.uint8)
    w.add_tensor("broken.weight", raw.reshape(4, -1), raw_dtype=T.Q8_0)
    write(w)
    values = quants.dequantize(raw.reshape(4, -1), T.Q8_0)
    print("nan_scales: nan", int(np.isnan(values).sum()), "posinf", int(np.isposinf(values).sum()),
          "neginf", int(np.isneginf(values).sum()))


def tensor_info_offsets(path):
    """(name, offset of its type field) of every tensor info, by reading the header."""
    data = open(path, "rb").read()
    pos = 4 + 4
    n_t, n_kv = struct.unpack_from("<QQ", data, pos)
    pos += 16

    def string(p):
        (n,) = struct.unpack_from("<Q", data, p)
        return data[p + 8:p + 8 + n], p + 8 + n

    def value(t, p):
        fixed = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
        if t in fixed:
            return p + fixed[t]
        if t == 8:
            return string(p)[1]
        et, n = struct.unpack_from("<IQ", data, p)
        p += 12
        for _ in range(n):
            p = value(et, p)
        return p

    for _ in range(n_kv):
        _, pos = string(pos)
        (t,) = struct.unpack_from("<I", data, pos)
        pos = value(t, pos + 4)
    out = []
    for _ in range(n_t):
        name, pos = string(pos)
        (nd,) = struct.unpack_from("<I", data, pos)
        pos += 4 + 8 * nd
        out.append((name.decode(), pos))
        pos += 4 + 8
    return out


def unknown_type():
    path = f"{OUT}/unknown_type.gguf"
    w = GGUFWriter(path, "llama")
    w.add_tensor("a", np.arange(8, dtype=np.float32))
    w.add_tensor("mystery", np.zeros(64, dtype=np.uint8), raw_dtype=T.I8)
    w.add_tensor("c", np.arange(4, dtype=np.float32))
    write(w)
    data = bytearray(open(path, "rb").read())
    (_, at), = [x for x in tensor_info_offsets(path) if x[0] == "mystery"]
    struct.pack_into("<I", data, at, 99)
    open(path, "wb").write(bytes(data))


def big_endian():
    w = GGUFWriter(f"{OUT}/big_endian.gguf", "llama", endianess=GGUFEndian.BIG)
    w.add_tensor("a", np.arange(8, dtype=np.float32))
    write(w)


def split():
    os.makedirs(f"{OUT}/split", exist_ok=True)
    w = GGUFWriter(f"{OUT}/split/tiny.gguf", "llama", split_max_tensors=2)
    for i in range(5):
        w.add_tensor(f"blk.{i}.w", np.full((2, 32), i, dtype=np.float32))
    write(w)


CHATML = (
    "{%- set ns = namespace(system=false) -%}"
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def sample():
    w = GGUFWriter("samples/tiny.gguf", "llama")
    w.add_name("tiny")
    w.add_block_count(2)
    w.add_context_length(128)
    w.add_embedding_length(256)
    w.add_feed_forward_length(512)
    w.add_head_count(4)
    w.add_file_type(15)
    vocab = ["<unk>", "<s>", "</s>"] + [f"tok{i}" for i in range(61)]
    w.add_tokenizer_model("llama")
    w.add_token_list(vocab)
    w.add_token_scores([0.0] * len(vocab))
    w.add_chat_template(CHATML)
    emb = rng.standard_normal((64, 256)).astype(np.float32) * 0.02
    w.add_tensor("token_embd.weight", quants.quantize(emb, T.Q8_0), raw_dtype=T.Q8_0)
    kinds = [(T.Q4_K, T.Q6_K, T.IQ4_NL), (T.Q5_K, T.Q2_K, T.MXFP4)]
    for i, (q, ffn, down) in enumerate(kinds):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(256, dtype=np.float32))
        w.add_tensor(f"blk.{i}.attn_q.weight", random_blocks(q, 256).reshape(256, -1), raw_dtype=q)
        w.add_tensor(f"blk.{i}.ffn_up.weight", random_blocks(ffn, 512).reshape(512, -1), raw_dtype=ffn)
        blocks = 512 // GGML_QUANT_SIZES[down][0] * 256
        w.add_tensor(f"blk.{i}.ffn_down.weight", random_blocks(down, blocks).reshape(256, -1), raw_dtype=down)
    w.add_tensor("output_norm.weight", np.ones(256, dtype=np.float32))
    w.add_tensor("output.weight", quants.quantize(emb, T.Q8_0), raw_dtype=T.Q8_0)
    write(w)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    every_type()
    nan_scales()
    unknown_type()
    big_endian()
    split()
    sample()
