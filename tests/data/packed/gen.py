"""Write the packed-quantization fixtures of tests/cli_counting.rs (python3 tests/data/packed/gen.py).

Standard library only: each fixture is a folder with the `config.json` and `model.safetensors` a real
quantizer writes, with the tensor names, dtypes and shapes those libraries use for one 4-bit linear layer
(in_features 512, out_features 256, so 131,072 weights) and a small unquantized embedding. Values are
zeros except where the format stores facts (compressed-tensors `weight_shape`, the bitsandbytes quant state);
only names, dtypes and shapes are counted.

- gptq/      AutoGPTQ / GPTQModel: qweight I32 [in*bits/32, out], qzeros I32 [in/group, out*bits/32],
             scales F16 [in/group, out], g_idx I32 [in]; quantization_config {quant_method: gptq, bits 4, group_size 128}
- awq/       AutoAWQ (GEMM): qweight I32 [in, out*bits/32], qzeros I32 [in/group, out*bits/32], scales F16 [in/group, out]
- compressed/ llm-compressor pack-quantized: weight_packed I32 [out, in*bits/32], weight_scale BF16 [out, in/group],
             weight_shape I64 [2] = [out, in]
- mlx/       mlx-lm: weight U32 [out, in*bits/32], scales and biases F16 [out, in/group]; "quantization": {group_size 64, bits 4}
- gptq3/, mlx6/ the same layer at 3 and 6 bits, which pack across 32-bit words
- mxfp4/     gpt-oss: experts gate_up_proj_blocks U8 [experts, out, in/32, 16], gate_up_proj_scales U8 [experts, out, in/32]
- bnb4/      bitsandbytes nf4 with double quantization: weight U8 [n/2, 1], weight.absmax U8 [n/64],
             weight.nested_absmax F32 [n/64/256], weight.nested_quant_map F32 [256], weight.quant_map F32 [16],
             weight.quant_state.bitsandbytes__nf4 U8 (a JSON blob)
- index-mismatch/ a sharded index whose metadata total_size and total_parameters disagree with its shard
"""

import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = {"F32": 4, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "I64": 8, "U8": 1}


def safetensors(path, tensors):
    """tensors: list of (name, dtype, shape, bytes or None for zeros)."""
    header, blobs, off = {}, [], 0
    for name, dtype, shape, data in tensors:
        n = 1
        for d in shape:
            n *= d
        size = n * SIZES[dtype]
        if data is None:
            data = bytes(size)
        assert len(data) == size, name
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + size]}
        blobs.append(data)
        off += size
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def folder(name, config, tensors):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    safetensors(os.path.join(d, "model.safetensors"), tensors)


IN, OUT, GROUP = 512, 256, 128
L = "model.layers.0.self_attn.q_proj"
EMBED = ("model.embed_tokens.weight", "F16", [32, IN], None)

folder("gptq", {"model_type": "llama", "quantization_config": {
    "bits": 4, "group_size": GROUP, "desc_act": False, "sym": True, "quant_method": "gptq",
    "checkpoint_format": "gptq"}}, [
    EMBED,
    (L + ".qweight", "I32", [IN * 4 // 32, OUT], None),
    (L + ".qzeros", "I32", [IN // GROUP, OUT * 4 // 32], None),
    (L + ".scales", "F16", [IN // GROUP, OUT], None),
    (L + ".g_idx", "I32", [IN], None),
    (L + ".bias", "F16", [OUT], None),
])

folder("awq", {"model_type": "llama", "quantization_config": {
    "quant_method": "awq", "bits": 4, "group_size": GROUP, "zero_point": True, "version": "gemm"}}, [
    EMBED,
    (L + ".qweight", "I32", [IN, OUT * 4 // 32], None),
    (L + ".qzeros", "I32", [IN // GROUP, OUT * 4 // 32], None),
    (L + ".scales", "F16", [IN // GROUP, OUT], None),
])

folder("compressed", {"model_type": "llama", "quantization_config": {
    "quant_method": "compressed-tensors", "format": "pack-quantized", "quantization_status": "compressed",
    "config_groups": {"group_0": {"targets": ["Linear"], "weights": {
        "num_bits": 4, "type": "int", "symmetric": True, "strategy": "group", "group_size": GROUP}}},
    "ignore": ["lm_head"]}}, [
    ("model.embed_tokens.weight", "BF16", [32, IN], None),
    (L + ".weight_packed", "I32", [OUT, IN * 4 // 32], None),
    (L + ".weight_scale", "BF16", [OUT, IN // GROUP], None),
    (L + ".weight_shape", "I64", [2], struct.pack("<2q", OUT, IN)),
])

folder("mlx", {"model_type": "llama", "quantization": {"group_size": 64, "bits": 4},
               "quantization_config": {"group_size": 64, "bits": 4}}, [
    EMBED,
    ("model.norm.weight", "F16", [IN], None),
    (L + ".weight", "U32", [OUT, IN * 4 // 32], None),
    (L + ".scales", "F16", [OUT, IN // 64], None),
    (L + ".biases", "F16", [OUT, IN // 64], None),
])

# 3 and 6 bits do not divide a 32-bit word: the bits run on across words (32/3 weights a word)
folder("gptq3", {"model_type": "llama", "quantization_config": {
    "bits": 3, "group_size": GROUP, "desc_act": False, "sym": True, "quant_method": "gptq"}}, [
    (L + ".qweight", "I32", [IN * 3 // 32, OUT], None),
    (L + ".qzeros", "I32", [IN // GROUP, OUT * 3 // 32], None),
    (L + ".scales", "F16", [IN // GROUP, OUT], None),
    (L + ".g_idx", "I32", [IN], None),
])

folder("mlx6", {"model_type": "llama", "quantization": {"group_size": 64, "bits": 6}}, [
    (L + ".weight", "U32", [OUT, IN * 6 // 32], None),
    (L + ".scales", "F16", [OUT, IN // 64], None),
    (L + ".biases", "F16", [OUT, IN // 64], None),
])

E = "model.layers.0.mlp.experts"
folder("mxfp4", {"model_type": "gpt_oss", "quantization_config": {
    "quant_method": "mxfp4", "modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
                                                        "model.embed_tokens", "lm_head"]}}, [
    ("model.layers.0.mlp.router.weight", "BF16", [2, IN], None),
    (E + ".gate_up_proj_blocks", "U8", [2, 128, IN // 32, 16], None),
    (E + ".gate_up_proj_scales", "U8", [2, 128, IN // 32], None),
    (E + ".gate_up_proj_bias", "BF16", [2, 128], None),
])

N = IN * OUT
state = json.dumps({"quant_type": "nf4", "blocksize": 64, "dtype": "float16", "shape": [OUT, IN],
                    "nested_blocksize": 256, "nested_offset": 0.0}).encode()
W = L + ".weight"
folder("bnb4", {"model_type": "llama", "quantization_config": {
    "quant_method": "bitsandbytes", "load_in_4bit": True, "load_in_8bit": False,
    "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True, "bnb_4bit_compute_dtype": "float16"}}, [
    EMBED,
    (W, "U8", [N // 2, 1], None),
    (W + ".absmax", "U8", [N // 64], None),
    (W + ".nested_absmax", "F32", [N // 64 // 256], None),
    (W + ".nested_quant_map", "F32", [256], None),
    (W + ".quant_map", "F32", [16], None),
    (W + ".quant_state.bitsandbytes__nf4", "U8", [len(state)], state),
])

d = os.path.join(HERE, "index-mismatch")
os.makedirs(d, exist_ok=True)
safetensors(os.path.join(d, "model-00001-of-00001.safetensors"), [("w", "F32", [4, 4], None)])
with open(os.path.join(d, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": 999, "total_parameters": 100},
               "weight_map": {"w": "model-00001-of-00001.safetensors"}}, f, indent=2, sort_keys=True)
    f.write("\n")
