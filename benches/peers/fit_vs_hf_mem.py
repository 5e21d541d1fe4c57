"""Side by side: `tensorscope fit`'s KV cache against hf-mem's (the `hf-mem` PyPI package, 0.5.6) on the
same configs: the fixtures of scripts/make_fit_fixtures.py (published configs of real models).

usage: python benches/peers/fit_vs_hf_mem.py [TENSORSCOPE] [CTX]
  TENSORSCOPE  the binary (default target/debug/tensorscope)
  CTX          tokens of context (default 8192)

hf-mem reads the Hub; its KV formulas are called here directly on the local configs and GGUF metadata
(`compute_safetensors_kv_cache_size`, `compute_gguf_kv_cache_size`), f16 / F16 cache, batch 1.
Prints one row per model and format with both figures, their ratio and why they differ. Exit status 1
when the published reference (Llama-3-8B, 8,192 tokens, f16: 1 GiB) is not met by tensorscope."""
import json
import subprocess
import sys

from gguf import GGUFReader
from hf_mem.gguf.kv_cache import compute_gguf_kv_cache_size
from hf_mem.safetensors.kv_cache import compute_safetensors_kv_cache_size

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/debug/tensorscope"
CTX = int(sys.argv[2]) if len(sys.argv) > 2 else 8192
D = "tests/data/fit"

WHY = {
    "llama3-8b": "same formula (GQA)",
    "qwen2.5-72b": "same formula (GQA)",
    "gemma3-27b": "hf-mem counts the 52 sliding layers at the full context (vLLM's hybrid page reservation, "
    "an upper bound); they cache min(ctx, 1024) tokens, what llama.cpp allocates. GGUF: hf-mem takes "
    "head_dim = 5376/32 = 168, the file says key_length 128, and ignores the window",
    "deepseek-v3": "MLA caches kv_lora_rank + qk_rope_head_dim = 576 values per token and layer; hf-mem "
    "counts 2 x 128 kv heads x head_dim as for MHA",
    "qwen3-next": "36 of 48 layers are gated delta net with a fixed state (2.2 MB each); hf-mem counts "
    "every layer as full attention",
}


def fit(path):
    out = subprocess.run([BIN, "fit", path, "--ctx", str(CTX), "--device", "80GB", "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["kv_cache_bytes"]


def hf_mem_safetensors(name):
    cfg = json.load(open(f"{D}/{name}/config.json"))
    cfg = cfg.get("text_config", cfg) if "num_hidden_layers" not in cfg else cfg
    return compute_safetensors_kv_cache_size(cfg, "F16", CTX, 1)


def hf_mem_gguf(name):
    r = GGUFReader(f"{D}/{name}.gguf")
    meta = {}
    for f in r.fields.values():
        for end in ["block_count", "head_count_kv", "head_count", "embedding_length", "context_length"]:
            if f.name.endswith("." + end) and f.name.count(".") <= 2:
                meta[end] = int(f.parts[f.data[0]][0])
    meta["context_length"] = CTX
    return compute_gguf_kv_cache_size(meta, "F16", 1)


def main():
    bad = 0
    print(f"KV cache at {CTX} tokens, f16, batch 1\n")
    print(f"| model | format | tensorscope fit | hf-mem | hf-mem / fit | why |")
    print(f"|---|---|---:|---:|---:|---|")
    for name, why in WHY.items():
        for fmt, ours, theirs in [
            ("safetensors", lambda: fit(f"{D}/{name}"), lambda: hf_mem_safetensors(name)),
            ("GGUF", lambda: fit(f"{D}/{name}.gguf"), lambda: hf_mem_gguf(name)),
        ]:
            a = ours()
            try:
                b = theirs()
                ratio = f"{b / a:.2f}" if a else "-"
                b = f"{b:,}"
            except Exception as e:  # hf-mem refuses or fails on some configs
                b, ratio = f"error ({type(e).__name__})", "-"
            print(f"| {name} | {fmt} | {a:,} | {b} | {ratio} | {why} |")
            if name == "llama3-8b" and CTX == 8192 and a != 1 << 30:
                bad = 1
    sys.exit(bad)


if __name__ == "__main__":
    main()
