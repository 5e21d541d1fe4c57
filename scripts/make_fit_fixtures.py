#!/usr/bin/env python3
"""Fixtures for `tensorscope fit` (tests/cli_fit.rs): for each architecture a config.json with the
published numbers and a small safetensors file with the real tensor names (tiny shapes where the KV
formula needs only the config), plus a GGUF with the same numbers written by gguf-py.

Run from the repository root:  python scripts/make_fit_fixtures.py   (needs: gguf numpy safetensors)

Writes tests/data/fit/NAME/{config.json,model.safetensors} and tests/data/fit/NAME.gguf for
  llama4      a 4-layer Llama-shaped model with real (small) shapes: weights equal in both formats
  llama4-swa  the same weights as model type gpt_oss, layers 0 and 2 sliding (window 1024) through layer_types
  llama3-8b   Llama-3-8B's config (32 layers, 8 kv heads x 128; 1 GiB of f16 KV at 8,192 tokens)
  qwen2.5-72b Qwen2.5-72B's config (80 layers, GQA 8 x 128, use_sliding_window false)
  gemma3-27b  Gemma-3-27B's config (62 layers, window 1024, every 6th layer global), with a vision tower
  deepseek-v3 DeepSeek-V3's config (61 layers, MLA 512 + 64, 3 dense layers then MoE, an MTP layer 61)
  qwen3-next  Qwen3-Next-80B-A3B's config (48 layers, every 4th full attention, the rest gated delta net)
  bert-base   BERT-base (12 encoder layers: no KV cache)
"""
import json
import os

import numpy as np
from gguf import GGUFWriter
from safetensors.numpy import save_file

OUT = "tests/data/fit"


def z(*shape):
    return np.zeros(shape, dtype=np.float16)


def write(name, config, tensors):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})


def gguf(name, arch, kvs, tensors):
    w = GGUFWriter(os.path.join(OUT, name + ".gguf"), arch)
    for key, kind, value in kvs:
        getattr(w, "add_" + kind)(key.replace("{arch}", arch), value)
    for n, t in tensors.items():
        w.add_tensor(n, t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def llama_st(layers, h, heads, kv, hd, inter, vocab, shape=None):
    s = shape or (lambda *d: d)
    t = {"model.embed_tokens.weight": z(*s(vocab, h)), "model.norm.weight": z(*s(h)), "lm_head.weight": z(*s(vocab, h))}
    for i in range(layers):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = z(*s(h))
        t[p + "self_attn.q_proj.weight"] = z(*s(heads * hd, h))
        t[p + "self_attn.k_proj.weight"] = z(*s(kv * hd, h))
        t[p + "self_attn.v_proj.weight"] = z(*s(kv * hd, h))
        t[p + "self_attn.o_proj.weight"] = z(*s(h, heads * hd))
        t[p + "post_attention_layernorm.weight"] = z(*s(h))
        t[p + "mlp.gate_proj.weight"] = z(*s(inter, h))
        t[p + "mlp.up_proj.weight"] = z(*s(inter, h))
        t[p + "mlp.down_proj.weight"] = z(*s(h, inter))
    return t


def llama_gguf(layers, h, heads, kv, hd, inter, vocab, shape=None):
    s = shape or (lambda *d: d)
    t = {"token_embd.weight": z(*s(vocab, h))}
    for i in range(layers):
        p = f"blk.{i}."
        t[p + "attn_norm.weight"] = z(*s(h))
        t[p + "attn_q.weight"] = z(*s(heads * hd, h))
        t[p + "attn_k.weight"] = z(*s(kv * hd, h))
        t[p + "attn_v.weight"] = z(*s(kv * hd, h))
        t[p + "attn_output.weight"] = z(*s(h, heads * hd))
        t[p + "ffn_norm.weight"] = z(*s(h))
        t[p + "ffn_gate.weight"] = z(*s(inter, h))
        t[p + "ffn_up.weight"] = z(*s(inter, h))
        t[p + "ffn_down.weight"] = z(*s(h, inter))
    t["output_norm.weight"] = z(*s(h))
    t["output.weight"] = z(*s(vocab, h))
    return t


def tiny(*d):
    return (2,) * min(len(d), 2)


def llama_kvs(layers, h, heads, kv, hd, inter, ctx):
    return [
        ("{arch}.block_count", "uint32", layers),
        ("{arch}.embedding_length", "uint32", h),
        ("{arch}.attention.head_count", "uint32", heads),
        ("{arch}.attention.head_count_kv", "uint32", kv),
        ("{arch}.attention.key_length", "uint32", hd),
        ("{arch}.attention.value_length", "uint32", hd),
        ("{arch}.feed_forward_length", "uint32", inter),
        ("{arch}.context_length", "uint32", ctx),
    ]


def main():
    # 4-layer Llama: real shapes, the same bytes in both formats
    cfg = dict(architectures=["LlamaForCausalLM"], model_type="llama", num_hidden_layers=4, hidden_size=64,
               num_attention_heads=4, num_key_value_heads=2, head_dim=16, intermediate_size=128, vocab_size=128,
               max_position_embeddings=8192, torch_dtype="float16")
    st = llama_st(4, 64, 4, 2, 16, 128, 128)
    write("llama4", cfg, st)
    # sliding layers under a model type whose window llama.cpp applies: gpt-oss (llama.cpp's openai-moe,
    # every other layer sliding); llama.cpp's llama graph keeps the full context whatever config.json says
    write("llama4-swa", dict(cfg, architectures=["GptOssForCausalLM"], model_type="gpt_oss", sliding_window=1024,
                             layer_types=["sliding_attention", "full_attention", "sliding_attention", "full_attention"]), st)
    gguf("llama4", "llama", llama_kvs(4, 64, 4, 2, 16, 128, 8192) + [("{arch}.vocab_size", "uint32", 128)],
         llama_gguf(4, 64, 4, 2, 16, 128, 128))

    # Llama-3-8B
    cfg = dict(architectures=["LlamaForCausalLM"], model_type="llama", num_hidden_layers=32, hidden_size=4096,
               num_attention_heads=32, num_key_value_heads=8, intermediate_size=14336, vocab_size=128256,
               max_position_embeddings=8192, rope_theta=500000.0, torch_dtype="bfloat16")
    write("llama3-8b", cfg, llama_st(32, 4096, 32, 8, 128, 14336, 128256, tiny))
    gguf("llama3-8b", "llama", llama_kvs(32, 4096, 32, 8, 128, 14336, 8192),
         llama_gguf(32, 4096, 32, 8, 128, 14336, 128256, tiny))

    # Qwen2.5-72B
    cfg = dict(architectures=["Qwen2ForCausalLM"], model_type="qwen2", num_hidden_layers=80, hidden_size=8192,
               num_attention_heads=64, num_key_value_heads=8, intermediate_size=29568, vocab_size=152064,
               max_position_embeddings=32768, sliding_window=131072, use_sliding_window=False, max_window_layers=70,
               torch_dtype="bfloat16")
    write("qwen2.5-72b", cfg, llama_st(80, 8192, 64, 8, 128, 29568, 152064, tiny))
    gguf("qwen2.5-72b", "qwen2", llama_kvs(80, 8192, 64, 8, 128, 29568, 32768),
         llama_gguf(80, 8192, 64, 8, 128, 29568, 152064, tiny))

    # Gemma-3-27B (multimodal config: the language model in text_config)
    text = dict(model_type="gemma3_text", num_hidden_layers=62, hidden_size=5376, num_attention_heads=32,
                num_key_value_heads=16, head_dim=128, intermediate_size=21504, vocab_size=262208,
                max_position_embeddings=131072, sliding_window=1024, sliding_window_pattern=6)
    cfg = dict(architectures=["Gemma3ForConditionalGeneration"], model_type="gemma3", text_config=text,
               vision_config=dict(model_type="siglip_vision_model", num_hidden_layers=2))
    st = {("language_model." + k): v for k, v in llama_st(62, 5376, 32, 16, 128, 21504, 262208, tiny).items()}
    for i in range(2):
        st[f"vision_tower.vision_model.encoder.layers.{i}.mlp.fc1.weight"] = z(2, 2)
    write("gemma3-27b", cfg, st)
    gguf("gemma3-27b", "gemma3", llama_kvs(62, 5376, 32, 16, 128, 21504, 131072)
         + [("{arch}.attention.sliding_window", "uint32", 1024)],
         llama_gguf(62, 5376, 32, 16, 128, 21504, 262208, tiny))

    # DeepSeek-V3: MLA, 3 dense layers, then 4 (of 256) routed experts per layer here, an MTP layer 61
    cfg = dict(architectures=["DeepseekV3ForCausalLM"], model_type="deepseek_v3", num_hidden_layers=61,
               hidden_size=7168, num_attention_heads=128, num_key_value_heads=128, intermediate_size=18432,
               moe_intermediate_size=2048, n_routed_experts=256, n_shared_experts=1, num_experts_per_tok=8,
               first_k_dense_replace=3, kv_lora_rank=512, q_lora_rank=1536, qk_rope_head_dim=64,
               qk_nope_head_dim=128, v_head_dim=128, vocab_size=129280, max_position_embeddings=163840,
               num_nextn_predict_layers=1, torch_dtype="bfloat16")
    st = {"model.embed_tokens.weight": z(4, 4), "model.norm.weight": z(4), "lm_head.weight": z(4, 4)}
    gg = {"token_embd.weight": z(4, 4), "output_norm.weight": z(4), "output.weight": z(4, 4)}
    for i in range(62):
        p, g = f"model.layers.{i}.", f"blk.{i}."
        st[p + "self_attn.kv_a_proj_with_mqa.weight"] = z(4, 4)
        st[p + "self_attn.o_proj.weight"] = z(4, 4)
        if i < 61:
            gg[g + "attn_kv_a_mqa.weight"] = z(4, 4)
            gg[g + "attn_output.weight"] = z(4, 4)
        if i < 3:
            st[p + "mlp.up_proj.weight"] = z(4, 4)
            if i < 61:
                gg[g + "ffn_up.weight"] = z(4, 4)
        else:
            st[p + "mlp.shared_experts.up_proj.weight"] = z(4, 4)
            for e in range(4):
                for proj in ("gate_proj", "up_proj", "down_proj"):
                    st[p + f"mlp.experts.{e}.{proj}.weight"] = z(8, 8)
            if i < 61:
                gg[g + "ffn_up_shexp.weight"] = z(4, 4)
                for proj in ("gate", "up", "down"):
                    gg[g + f"ffn_{proj}_exps.weight"] = z(4, 8, 8)
    write("deepseek-v3", cfg, st)
    gguf("deepseek-v3", "deepseek2", [
        ("{arch}.block_count", "uint32", 61), ("{arch}.embedding_length", "uint32", 7168),
        ("{arch}.attention.head_count", "uint32", 128), ("{arch}.attention.head_count_kv", "uint32", 128),
        ("{arch}.attention.kv_lora_rank", "uint32", 512), ("{arch}.rope.dimension_count", "uint32", 64),
        ("{arch}.feed_forward_length", "uint32", 18432), ("{arch}.context_length", "uint32", 163840),
        ("{arch}.expert_count", "uint32", 256), ("{arch}.leading_dense_block_count", "uint32", 3),
    ], gg)

    # Qwen3-Next-80B-A3B: every 4th layer full attention (2 kv heads x 256), the others gated delta net
    cfg = dict(architectures=["Qwen3NextForCausalLM"], model_type="qwen3_next", num_hidden_layers=48,
               hidden_size=2048, num_attention_heads=16, num_key_value_heads=2, head_dim=256,
               intermediate_size=5120, vocab_size=151936, max_position_embeddings=262144,
               full_attention_interval=4, linear_num_key_heads=16, linear_num_value_heads=32,
               linear_key_head_dim=128, linear_value_head_dim=128, linear_conv_kernel_dim=4,
               num_experts=512, torch_dtype="bfloat16")
    write("qwen3-next", cfg, llama_st(48, 2048, 16, 2, 256, 5120, 151936, tiny))
    gguf("qwen3-next", "qwen3next", llama_kvs(48, 2048, 16, 2, 256, 5120, 262144) + [
        ("{arch}.full_attention_interval", "uint32", 4), ("{arch}.ssm.conv_kernel", "uint32", 4),
        ("{arch}.ssm.state_size", "uint32", 128), ("{arch}.ssm.group_count", "uint32", 16),
        ("{arch}.ssm.time_step_rank", "uint32", 32), ("{arch}.ssm.inner_size", "uint32", 4096),
    ], llama_gguf(48, 2048, 16, 2, 256, 5120, 151936, tiny))

    # BERT-base: an encoder
    cfg = dict(architectures=["BertForMaskedLM"], model_type="bert", num_hidden_layers=12, hidden_size=768,
               num_attention_heads=12, intermediate_size=3072, vocab_size=30522, max_position_embeddings=512)
    st = {"bert.embeddings.word_embeddings.weight": z(2, 2)}
    gg = {"token_embd.weight": z(2, 2)}
    for i in range(12):
        st[f"bert.encoder.layer.{i}.attention.self.query.weight"] = z(2, 2)
        gg[f"blk.{i}.attn_q.weight"] = z(2, 2)
    write("bert-base", cfg, st)
    gguf("bert-base", "bert", [
        ("{arch}.block_count", "uint32", 12), ("{arch}.embedding_length", "uint32", 768),
        ("{arch}.attention.head_count", "uint32", 12), ("{arch}.feed_forward_length", "uint32", 3072),
        ("{arch}.context_length", "uint32", 512), ("{arch}.attention.causal", "bool", False),
    ], gg)


if __name__ == "__main__":
    main()
