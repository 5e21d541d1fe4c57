#!/usr/bin/env bash
# GPU upload check on a machine with a real GPU (it needs only a Vulkan driver; torch is optional).
#
#   scripts/gpu-check.sh [TENSORSCOPE_BINARY]
#
# Without a binary it builds one (cargo build --release). It writes a synthetic pair of SIZE
# (default 2GB) once, then runs, side by side on the same files:
#   1. tensorscope bench --gpu (ring upload, the default): every load uploaded, the ring's own
#      ceiling measured in the same run;
#   2. the same GPU rows with --upload write-buffer, for comparison;
#   3. torch: host-to-device copies of the same number of bytes from pageable and pinned memory,
#      and torch.load(map_location="cuda") / safetensors load_file(device="cuda") of the same pair;
# then prints a short summary (medians of RUNS runs). Environment: SIZE (2GB), RUNS (5),
# OUT (folder for the reports; default a temporary folder), PYTHON (python3), STEP_TIMEOUT
# (seconds each of the three steps may take, default 240; a step that runs over is cut short and
# the summary shows what finished).
set -u -o pipefail

BIN=${1:-}
SIZE=${SIZE:-2GB}
RUNS=${RUNS:-5}
PY=${PYTHON:-python3}
STEP=${STEP_TIMEOUT:-240}
if [ -z "$BIN" ]; then
    cargo build --release || exit 1
    BIN=target/release/tensorscope
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
REPORTS=${OUT:-$WORK}
mkdir -p "$REPORTS"

echo "== machine"
uname -srm
nvidia-smi -L 2>/dev/null || echo "(no nvidia-smi)"
"$BIN" --version

echo "== tensorscope bench --gpu (ring)"
METHODS=(--method safetensors-mmap --method safetensors-read --method safetensors-pread
         --method pickle-eager --method pickle-mmap)
start=$(date +%s)
timeout "$STEP" "$BIN" bench --synthetic "$SIZE" --keep "$WORK" --gpu --runs "$RUNS" "${METHODS[@]}" \
    --report "$REPORTS/ring.json" --report "$REPORTS/ring.md" || echo "bench --gpu (ring) failed: $?"
echo "(took $(( $(date +%s) - start )) s)"

echo "== tensorscope bench --gpu --upload write-buffer (GPU rows to compare)"
start=$(date +%s)
timeout "$STEP" "$BIN" bench "$WORK/model.safetensors" "$WORK/model.bin" --gpu --upload write-buffer --runs "$RUNS" \
    --method safetensors-mmap --method pickle-eager \
    --report "$REPORTS/write-buffer.json" || echo "bench --gpu (write-buffer) failed: $?"
echo "(took $(( $(date +%s) - start )) s)"

echo "== torch host-to-device copies of the same bytes"
PYTHONUNBUFFERED=1 timeout "$STEP" "$PY" - "$WORK" "$RUNS" "$REPORTS/torch.json" <<'EOF' || echo "torch part failed: $?"
import json, os, statistics, sys, time
work, runs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
import torch
assert torch.cuda.is_available(), "torch sees no GPU"
n = os.path.getsize(os.path.join(work, "model.safetensors"))
res = {"bytes": n, "device": torch.cuda.get_device_name(0), "torch": torch.__version__}
def save():
    json.dump(res, open(out, "w"), indent=1)
def timed(name, f):
    """Median of RUNS runs after a warm-up, synchronised; an error is recorded, not raised."""
    try:
        f()
        t = []
        for _ in range(runs):
            torch.cuda.synchronize(); a = time.perf_counter(); f(); torch.cuda.synchronize()
            t.append(time.perf_counter() - a)
        v = res[name] = {"median_s": statistics.median(t), "min_s": min(t), "max_s": max(t)}
        print(f"{name:28} median {v['median_s']*1e3:9.1f} ms  ({v['min_s']*1e3:.1f}-{v['max_s']*1e3:.1f})  {n/v['median_s']/1e9:6.2f} GB/s")
    except Exception as e:  # noqa: BLE001
        res[name + "_error"] = repr(e)
        print(f"{name}: failed: {e!r}")
    save()
dst = torch.empty(n, dtype=torch.uint8, device="cuda")
pageable = torch.full((n,), 7, dtype=torch.uint8)
timed("h2d_pageable", lambda: dst.copy_(pageable))
pinned = torch.empty(n, dtype=torch.uint8, pin_memory=True); pinned.fill_(7)
timed("h2d_pinned", lambda: dst.copy_(pinned))
del pinned, pageable, dst
bin_path = os.path.join(work, "model.bin")
st = os.path.join(work, "model.safetensors")
timed("torch_load_cuda", lambda: torch.load(bin_path, map_location="cuda", weights_only=True))
timed("torch_load_then_cuda", lambda: {k: v.cuda() for k, v in torch.load(bin_path, weights_only=True).items()})
try:
    from safetensors.torch import load_file
    timed("safetensors_load_file_cuda", lambda: load_file(st, device="cuda"))
except ImportError as e:
    res["safetensors_error"] = repr(e)
save()
EOF

echo "== summary"
"$PY" - "$REPORTS" <<'EOF' || true
import json, os, sys
d = sys.argv[1]
def load(name):
    p = os.path.join(d, name)
    return json.load(open(p)) if os.path.exists(p) else None
torch = load("torch.json") or {}
for name in ("ring.json", "write-buffer.json"):
    r = load(name)
    if not r:
        print(f"{name}: missing"); continue
    for h in r.get("headline", []):
        print(f"[{name}] {h}")
    for c in r.get("ceilings", []):
        print(f"[{name}] ceiling {c['name']:18} {c['gbps']:7.2f} GB/s  {c['what']}")
    for x in r["results"]:
        if x["device"] != "gpu":
            continue
        pct = x.get("percent_of_ceiling")
        pct = f"{pct:5.0f}% of {x.get('ceiling')}" if pct is not None else ""
        line = f"[{name}] {x['method']:22} {x.get('upload') or '':12} median {x['median_s']*1e3:9.1f} ms  {x['gbps']:6.2f} GB/s  {pct}"
        pg = torch.get("h2d_pageable")
        if pg:
            line += f"  = {x['gbps'] / (torch['bytes']/pg['median_s']/1e9) * 100:.0f}% of torch pageable H2D"
        print(line)
    for c in r.get("caveats", []):
        if "GPU" in c or "gpu" in c:
            print(f"[{name}] note: {c}")
for k in ("h2d_pageable", "h2d_pinned", "torch_load_cuda", "torch_load_then_cuda", "safetensors_load_file_cuda"):
    v = torch.get(k)
    if v:
        print(f"[torch] {k:28} median {v['median_s']*1e3:9.1f} ms  {torch['bytes']/v['median_s']/1e9:6.2f} GB/s")
EOF
