#!/usr/bin/env python3
"""Generate the committed sample checkpoints in samples/.

Run from anywhere:  python samples/make_samples.py
Needs torch and safetensors (see samples/README.md for the versions used).
Everything is seeded, and torch.save / safetensors write the same bytes on every run
with the versions listed in the README.

The malicious sample is written with the standard pickle module and is NEVER loaded.
"""

import hashlib
import json
import os
import pickle
import shutil
from collections import OrderedDict

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def out(*parts):
    path = os.path.join(HERE, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def write_json(path, obj, sort_keys=False):
    with open(path, "w") as f:
        f.write(json.dumps(obj, indent=2, sort_keys=sort_keys) + "\n")


# ---------------------------------------------------------------------------------------------
# GPT-2-shaped model
# ---------------------------------------------------------------------------------------------


def gpt2_state(seed, n_layer, n_embd, vocab, n_positions):
    """A GPT-2 state dict with GPT2Model's names (wte.weight, h.0.attn.c_attn.weight, ...).

    GPT-2 uses Conv1D, so the projection weights are [in, out]: c_attn.weight is [n_embd, 3*n_embd].
    """
    g = torch.Generator().manual_seed(seed)

    def w(*shape, std=0.02):
        return torch.randn(*shape, generator=g) * std

    sd = OrderedDict()
    sd["wte.weight"] = w(vocab, n_embd)
    sd["wpe.weight"] = w(n_positions, n_embd, std=0.01)
    for i in range(n_layer):
        p = f"h.{i}."
        sd[p + "ln_1.weight"] = 1.0 + w(n_embd, std=0.05)
        sd[p + "ln_1.bias"] = w(n_embd, std=0.05)
        sd[p + "attn.c_attn.weight"] = w(n_embd, 3 * n_embd)
        sd[p + "attn.c_attn.bias"] = w(3 * n_embd, std=0.05)
        sd[p + "attn.c_proj.weight"] = w(n_embd, n_embd)
        sd[p + "attn.c_proj.bias"] = w(n_embd, std=0.05)
        sd[p + "ln_2.weight"] = 1.0 + w(n_embd, std=0.05)
        sd[p + "ln_2.bias"] = w(n_embd, std=0.05)
        sd[p + "mlp.c_fc.weight"] = w(n_embd, 4 * n_embd)
        sd[p + "mlp.c_fc.bias"] = w(4 * n_embd, std=0.05)
        sd[p + "mlp.c_proj.weight"] = w(4 * n_embd, n_embd)
        sd[p + "mlp.c_proj.bias"] = w(n_embd, std=0.05)
    sd["ln_f.weight"] = 1.0 + w(n_embd, std=0.05)
    sd["ln_f.bias"] = w(n_embd, std=0.05)
    return sd


def gpt2_config(n_layer, n_embd, vocab, n_positions):
    return {
        "activation_function": "gelu_new",
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1,
        "bos_token_id": vocab - 1,
        "embd_pdrop": 0.1,
        "eos_token_id": vocab - 1,
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2",
        "n_ctx": n_positions,
        "n_embd": n_embd,
        "n_head": 4,
        "n_inner": None,
        "n_layer": n_layer,
        "n_positions": n_positions,
        "resid_pdrop": 0.1,
        "torch_dtype": "float32",
        "transformers_version": "4.44.0",
        "vocab_size": vocab,
    }


GPT2 = dict(n_layer=2, n_embd=64, vocab=1000, n_positions=128)


def make_gpt2():
    sd = gpt2_state(seed=2, **GPT2)
    save_file(sd, out("gpt2-tiny.safetensors"), metadata={"format": "pt"})

    # transformers' GPT2LMHeadModel ties lm_head.weight to wte.weight; torch.save of its state dict
    # writes the storage once and refers to it under both names. safetensors cannot hold aliases,
    # so the .safetensors file has no lm_head.weight (exactly like the real gpt2 model.safetensors).
    tied = OrderedDict(sd)
    tied["lm_head.weight"] = tied["wte.weight"]
    torch.save(tied, out("gpt2-tiny.bin"))
    torch.save(tied, out("gpt2-tiny-legacy.bin"), _use_new_zipfile_serialization=False)
    return sd


def make_sharded(sd):
    """Two shards + index, written the way transformers' save_pretrained writes them."""
    names = list(sd)
    half = len(names) // 2
    shards = [names[:half], names[half:]]
    weight_map = {}
    total = 0
    for i, part in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file({n: sd[n] for n in part}, out("sharded", fname), metadata={"format": "pt"})
        for n in part:
            weight_map[n] = fname
            total += sd[n].numel() * sd[n].element_size()
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    # transformers: json.dumps(index, indent=2, sort_keys=True) + "\n"
    write_json(out("sharded", "model.safetensors.index.json"), index, sort_keys=True)
    write_json(out("sharded", "config.json"), gpt2_config(**GPT2))


def make_sharded_bin():
    """A sharded pickle checkpoint: pytorch_model-0000N-of-00002.bin + pytorch_model.bin.index.json
    (what transformers wrote before safetensors became the default). Uses the small GPT-2 of the hub sample."""
    small = dict(n_layer=1, n_embd=32, vocab=256, n_positions=64)
    sd = gpt2_state(seed=5, **small)
    names = list(sd)
    shards = [names[: len(names) // 2], names[len(names) // 2 :]]
    weight_map = {}
    total = 0
    for i, part in enumerate(shards):
        fname = f"pytorch_model-{i + 1:05d}-of-{len(shards):05d}.bin"
        torch.save(OrderedDict((n, sd[n]) for n in part), out("sharded-bin", fname))
        for n in part:
            weight_map[n] = fname
            total += sd[n].numel() * sd[n].element_size()
    write_json(out("sharded-bin", "pytorch_model.bin.index.json"),
               {"metadata": {"total_size": total}, "weight_map": weight_map}, sort_keys=True)
    write_json(out("sharded-bin", "config.json"), gpt2_config(**small))


def make_plain_folder():
    """A folder of unrelated .safetensors files with no index (e.g. an adapter next to extra embeddings)."""
    g = torch.Generator().manual_seed(6)
    save_file(
        {"lora_A.weight": torch.randn(4, 64, generator=g) * 0.01, "lora_B.weight": torch.zeros(64, 4)},
        out("plain-folder", "adapter_model.safetensors"),
        metadata={"format": "pt"},
    )
    save_file(
        {"emb_params": (torch.randn(2, 32, generator=g) * 0.1).to(torch.bfloat16)},
        out("plain-folder", "embeddings.safetensors"),
        metadata={"format": "pt"},
    )


# ---------------------------------------------------------------------------------------------
# diffusers-shaped pipeline
# ---------------------------------------------------------------------------------------------


class Gen:
    def __init__(self, seed):
        self.g = torch.Generator().manual_seed(seed)
        self.sd = OrderedDict()

    def w(self, name, *shape, std=0.05):
        self.sd[name] = torch.randn(*shape, generator=self.g) * std

    def norm(self, prefix, n):
        self.sd[prefix + ".weight"] = 1.0 + torch.randn(n, generator=self.g) * 0.02
        self.sd[prefix + ".bias"] = torch.randn(n, generator=self.g) * 0.02

    def lin(self, prefix, out_f, in_f, bias=True):
        self.w(prefix + ".weight", out_f, in_f)
        if bias:
            self.w(prefix + ".bias", out_f, std=0.01)

    def conv(self, prefix, out_c, in_c, k):
        self.w(prefix + ".weight", out_c, in_c, k, k)
        self.w(prefix + ".bias", out_c, std=0.01)

    def resnet(self, prefix, in_c, out_c, temb=None):
        self.norm(prefix + ".norm1", in_c)
        self.conv(prefix + ".conv1", out_c, in_c, 3)
        if temb:
            self.lin(prefix + ".time_emb_proj", out_c, temb)
        self.norm(prefix + ".norm2", out_c)
        self.conv(prefix + ".conv2", out_c, out_c, 3)
        if in_c != out_c:
            self.conv(prefix + ".conv_shortcut", out_c, in_c, 1)


def unet_state():
    c, t, x = 8, 32, 32  # channels, time embedding dim, cross-attention dim
    g = Gen(10)
    g.conv("conv_in", c, 4, 3)
    g.lin("time_embedding.linear_1", t, c)
    g.lin("time_embedding.linear_2", t, t)

    def transformer(prefix):
        g.norm(prefix + ".norm", c)
        g.conv(prefix + ".proj_in", c, c, 1)
        b = prefix + ".transformer_blocks.0"
        g.norm(b + ".norm1", c)
        for a, kv in (("attn1", c), ("attn2", x)):
            g.lin(f"{b}.{a}.to_q", c, c, bias=False)
            g.lin(f"{b}.{a}.to_k", c, kv, bias=False)
            g.lin(f"{b}.{a}.to_v", c, kv, bias=False)
            g.lin(f"{b}.{a}.to_out.0", c, c)
            if a == "attn1":
                g.norm(b + ".norm2", c)
        g.norm(b + ".norm3", c)
        g.lin(b + ".ff.net.0.proj", 8 * c, c)
        g.lin(b + ".ff.net.2", c, 4 * c)
        g.conv(prefix + ".proj_out", c, c, 1)

    g.resnet("down_blocks.0.resnets.0", c, c, t)
    transformer("down_blocks.0.attentions.0")
    g.conv("down_blocks.0.downsamplers.0.conv", c, c, 3)
    g.resnet("mid_block.resnets.0", c, c, t)
    transformer("mid_block.attentions.0")
    g.resnet("mid_block.resnets.1", c, c, t)
    g.resnet("up_blocks.0.resnets.0", 2 * c, c, t)
    transformer("up_blocks.0.attentions.0")
    g.conv("up_blocks.0.upsamplers.0.conv", c, c, 3)
    g.norm("conv_norm_out", c)
    g.conv("conv_out", 4, c, 3)
    return g.sd


def vae_state():
    c = 8
    g = Gen(11)
    g.conv("encoder.conv_in", c, 3, 3)
    g.resnet("encoder.down_blocks.0.resnets.0", c, c)
    g.conv("encoder.down_blocks.0.downsamplers.0.conv", c, c, 3)
    g.resnet("encoder.mid_block.resnets.0", c, c)
    g.norm("encoder.mid_block.attentions.0.group_norm", c)
    for p in ("to_q", "to_k", "to_v", "to_out.0"):
        g.lin(f"encoder.mid_block.attentions.0.{p}", c, c)
    g.resnet("encoder.mid_block.resnets.1", c, c)
    g.norm("encoder.conv_norm_out", c)
    g.conv("encoder.conv_out", 8, c, 3)  # 2 * latent channels
    g.conv("quant_conv", 8, 8, 1)
    g.conv("post_quant_conv", 4, 4, 1)
    g.conv("decoder.conv_in", c, 4, 3)
    g.resnet("decoder.mid_block.resnets.0", c, c)
    g.resnet("decoder.up_blocks.0.resnets.0", c, c)
    g.conv("decoder.up_blocks.0.upsamplers.0.conv", c, c, 3)
    g.norm("decoder.conv_norm_out", c)
    g.conv("decoder.conv_out", 3, c, 3)
    return g.sd


CLIP_VOCAB = 64
CLIP_POS = 77


def clip_state():
    h, f = 32, 64
    g = Gen(12)
    g.w("text_model.embeddings.token_embedding.weight", CLIP_VOCAB, h, std=0.02)
    g.w("text_model.embeddings.position_embedding.weight", CLIP_POS, h, std=0.01)
    # older transformers saved this buffer: an int64 tensor in the checkpoint
    g.sd["text_model.embeddings.position_ids"] = torch.arange(CLIP_POS).unsqueeze(0)
    for i in range(2):
        p = f"text_model.encoder.layers.{i}"
        for proj in ("k_proj", "v_proj", "q_proj", "out_proj"):
            g.lin(f"{p}.self_attn.{proj}", h, h)
        g.norm(p + ".layer_norm1", h)
        g.lin(p + ".mlp.fc1", f, h)
        g.lin(p + ".mlp.fc2", h, f)
        g.norm(p + ".layer_norm2", h)
    g.norm("text_model.final_layer_norm", h)
    return g.sd


def half_of(sd):
    return OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in sd.items())


def make_diffusers():
    root = "diffusers-tiny"
    write_json(
        out(root, "model_index.json"),
        {
            "_class_name": "StableDiffusionPipeline",
            "_diffusers_version": "0.30.0",
            "scheduler": ["diffusers", "PNDMScheduler"],
            "text_encoder": ["transformers", "CLIPTextModel"],
            "tokenizer": ["transformers", "CLIPTokenizer"],
            "unet": ["diffusers", "UNet2DConditionModel"],
            "vae": ["diffusers", "AutoencoderKL"],
        },
    )
    for comp, sd, fname in (
        ("unet", unet_state(), "diffusion_pytorch_model"),
        ("vae", vae_state(), "diffusion_pytorch_model"),
        ("text_encoder", clip_state(), "model"),
    ):
        save_file(sd, out(root, comp, fname + ".safetensors"), metadata={"format": "pt"})
        save_file(half_of(sd), out(root, comp, fname + ".fp16.safetensors"), metadata={"format": "pt"})

    write_json(
        out(root, "unet", "config.json"),
        {
            "_class_name": "UNet2DConditionModel",
            "_diffusers_version": "0.30.0",
            "attention_head_dim": 2,
            "block_out_channels": [8],
            "cross_attention_dim": 32,
            "down_block_types": ["CrossAttnDownBlock2D"],
            "in_channels": 4,
            "layers_per_block": 1,
            "norm_num_groups": 4,
            "out_channels": 4,
            "sample_size": 8,
            "up_block_types": ["CrossAttnUpBlock2D"],
        },
    )
    write_json(
        out(root, "vae", "config.json"),
        {
            "_class_name": "AutoencoderKL",
            "_diffusers_version": "0.30.0",
            "block_out_channels": [8],
            "down_block_types": ["DownEncoderBlock2D"],
            "in_channels": 3,
            "latent_channels": 4,
            "layers_per_block": 1,
            "norm_num_groups": 4,
            "out_channels": 3,
            "sample_size": 16,
            "up_block_types": ["UpDecoderBlock2D"],
        },
    )
    write_json(
        out(root, "text_encoder", "config.json"),
        {
            "architectures": ["CLIPTextModel"],
            "hidden_act": "quick_gelu",
            "hidden_size": 32,
            "intermediate_size": 64,
            "layer_norm_eps": 1e-05,
            "max_position_embeddings": CLIP_POS,
            "model_type": "clip_text_model",
            "num_attention_heads": 4,
            "num_hidden_layers": 2,
            "torch_dtype": "float32",
            "transformers_version": "4.44.0",
            "vocab_size": CLIP_VOCAB,
        },
    )
    # a tiny byte-level BPE tokenizer: 60 single-character tokens + merges, plus the two specials
    chars = [c for c in "abcdefghijklmnopqrstuvwxyz"] + [c + "</w>" for c in "abcdefghijklmnopqrstuvwxyz"]
    merges = ["t h", "th e</w>", "a n", "i n", "o n</w>", "e r"]
    vocab = {}
    for tok in chars + [m.replace(" ", "") for m in merges]:
        vocab.setdefault(tok, len(vocab))
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    with open(out(root, "tokenizer", "vocab.json"), "w") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(out(root, "tokenizer", "merges.txt"), "w") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    write_json(
        out(root, "tokenizer", "tokenizer_config.json"),
        {
            "bos_token": "<|startoftext|>",
            "eos_token": "<|endoftext|>",
            "model_max_length": CLIP_POS,
            "pad_token": "<|endoftext|>",
            "tokenizer_class": "CLIPTokenizer",
            "unk_token": "<|endoftext|>",
        },
    )
    write_json(
        out(root, "scheduler", "scheduler_config.json"),
        {
            "_class_name": "PNDMScheduler",
            "_diffusers_version": "0.30.0",
            "beta_end": 0.012,
            "beta_schedule": "scaled_linear",
            "beta_start": 0.00085,
            "num_train_timesteps": 1000,
            "set_alpha_to_one": False,
            "skip_prk_steps": True,
            "steps_offset": 1,
            "trained_betas": None,
        },
    )


# ---------------------------------------------------------------------------------------------
# Hugging Face cache layout
# ---------------------------------------------------------------------------------------------


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def make_hub():
    """models--tiny--gpt2 as huggingface_hub lays it out: blobs named by their etag
    (git blob sha1 for small files, sha256 for LFS files), snapshots/<rev>/ holding
    relative symlinks into blobs/, refs/main holding the revision (no newline)."""
    root = os.path.join(HERE, "hub", "models--tiny--gpt2")
    if os.path.exists(root):
        shutil.rmtree(root)
    small = dict(n_layer=1, n_embd=32, vocab=256, n_positions=64)
    sd = gpt2_state(seed=3, **small)
    os.makedirs(os.path.join(HERE, "hub"), exist_ok=True)
    tmp = os.path.join(HERE, "hub", "model.safetensors.tmp")
    save_file(sd, tmp, metadata={"format": "pt"})
    with open(tmp, "rb") as f:
        model = f.read()
    os.remove(tmp)
    config = (json.dumps(gpt2_config(**small), indent=2) + "\n").encode()
    files = {
        "config.json": (config, git_blob_sha1(config)),
        "model.safetensors": (model, hashlib.sha256(model).hexdigest()),
    }
    # a fixed, made-up commit hash
    rev = hashlib.sha1(b"tensorscope sample revision").hexdigest()
    os.makedirs(os.path.join(root, "blobs"))
    os.makedirs(os.path.join(root, "refs"))
    snap = os.path.join(root, "snapshots", rev)
    os.makedirs(snap)
    with open(os.path.join(root, "refs", "main"), "w") as f:
        f.write(rev)
    for name, (data, etag) in files.items():
        with open(os.path.join(root, "blobs", etag), "wb") as f:
            f.write(data)
        os.symlink(os.path.join("..", "..", "blobs", etag), os.path.join(snap, name))
    return rev


# ---------------------------------------------------------------------------------------------
# malicious samples (written, never loaded)
# ---------------------------------------------------------------------------------------------

PAYLOAD_LINE = "tensorscope sample payload: this ran"


class PrintPayload:
    def __reduce__(self):
        return (print, (PAYLOAD_LINE,))


class EchoPayload:
    def __reduce__(self):
        return (os.system, ("echo " + PAYLOAD_LINE,))


def make_malicious():
    # plain pickle: unpickling calls builtins.print(...)
    with open(out("malicious.pkl"), "wb") as f:
        pickle.dump({"weight": [0.0, 1.0], "payload": PrintPayload()}, f, protocol=2)
    # a real torch.save zip whose data.pkl calls posix.system("echo ...") next to a real tensor
    g = torch.Generator().manual_seed(4)
    torch.save({"weight": torch.randn(4, 4, generator=g), "payload": EchoPayload()}, out("malicious.bin"))


def make_mixed_folder():
    """A folder with checkpoints of two formats and no index: a safe adapter next to a malicious pickle.

    Every file must be listed and scanned; the verdict over the folder is the worst (dangerous)."""
    g = torch.Generator().manual_seed(7)
    save_file(
        {"lora_A.weight": torch.randn(4, 16, generator=g) * 0.01, "lora_B.weight": torch.zeros(16, 4)},
        out("mixed-folder", "adapter.safetensors"),
        metadata={"format": "pt"},
    )
    torch.save(
        {"extra.weight": torch.randn(2, 2, generator=g), "payload": EchoPayload()},
        out("mixed-folder", "extra.bin"),
    )
    write_json(out("mixed-folder", "adapter_config.json"), {"r": 4, "target_modules": ["c_attn"]})


def main():
    sd = make_gpt2()
    make_sharded(sd)
    make_sharded_bin()
    make_plain_folder()
    make_diffusers()
    rev = make_hub()
    make_malicious()
    make_mixed_folder()
    print("samples written; hub revision", rev)


if __name__ == "__main__":
    main()
