#!/usr/bin/env bash
# GPU upload check: one prepared run that fits in 8 minutes on a machine lent for a short time.
#
# 1. Here, once (builds a release binary with the GPU backend, strips it into .gpucheck/, and
#    downloads the Vulkan loader packages into .gl/ as /work/.library/device/README.md says):
#
#      scripts/gpu-check.sh --prepare
#
# 2. On the GPU machine, with the `run` tool (the repository root is the working folder):
#
#      command:   bash scripts/gpu-check.sh .gpucheck/tensorscope
#      carry:     [".gl", ".gpucheck"]
#      timeout_s: 540
#
#    It unpacks .gl/*.deb when the machine has no Vulkan loader, points the loader at the NVIDIA
#    driver when one is installed (VK_DRIVER_FILES), else says so and uses whatever adapter exists
#    (lavapipe here), then writes a synthetic pair of SIZE and runs, on the same files:
#      a. `bench --gpu --verbose`, warm: every method, CPU and GPU rows, the ring's ceiling, and
#         where each GPU row's upload time went (fill, map, submit, wait, sync, GPU copy);
#      b. the same, cold (pages dropped before each run);
#      c. the GPU rows again with --upload write-buffer (warm), for comparison;
#      d. torch, if installed and it sees a GPU: host-to-device copies of the same bytes from
#         pageable and pinned memory (the bus's ceiling), torch.load / safetensors to cuda.
#    and writes summary.md and summary.json (plus every report) under $OUT (the run tool's output
#    folder; without OUT, ./gpu-check-out).
#
# Environment: SIZE (2GB), RUNS (3), STEP_TIMEOUT (seconds per step, 110: four steps and the
# write stay under 8 minutes), PYTHON (python3). Each step that runs over is cut short; the
# summary shows what finished.
set -u -o pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--prepare" ]; then
    set -e
    nice -n 19 cargo build --release
    target=${CARGO_TARGET_DIR:-target}
    mkdir -p .gpucheck
    strip -o .gpucheck/tensorscope "$target/release/tensorscope"
    grep -qx '/.gpucheck/' .git/info/exclude 2>/dev/null || echo /.gpucheck/ >>"$(git rev-parse --git-path info/exclude)"
    grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >>"$(git rev-parse --git-path info/exclude)"
    if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
        mkdir -p .gl /tmp/amd64/partial
        o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
        # shellcheck disable=SC2086
        apt-get $o update >/dev/null
        # shellcheck disable=SC2086
        (cd .gl && apt-get $o download libvulkan1)
    fi
    du -sh .gpucheck .gl
    echo "ready: run 'bash scripts/gpu-check.sh .gpucheck/tensorscope' with carry [\".gl\", \".gpucheck\"]"
    exit 0
fi

BIN=${1:-.gpucheck/tensorscope}
SIZE=${SIZE:-2GB}
RUNS=${RUNS:-3}
PY=${PYTHON:-python3}
STEP=${STEP_TIMEOUT:-110}
OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"
if [ ! -x "$BIN" ]; then
    echo "no binary at $BIN: run scripts/gpu-check.sh --prepare first (and carry .gpucheck)" >&2
    exit 2
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LOG="$OUT/log.txt"
exec > >(tee "$LOG") 2>&1

echo "== machine"
uname -srm
nvidia-smi -L 2>/dev/null || echo "(no nvidia-smi)"
nproc
"$BIN" --version

echo "== Vulkan"
if ! ldconfig -p | grep -q libvulkan.so.1; then
    if ls .gl/*.deb >/dev/null 2>&1; then
        for f in .gl/*.deb; do dpkg -x "$f" /; done
        ldconfig
        echo "unpacked the carried Vulkan loader (.gl)"
    else
        echo "no Vulkan loader and none carried (.gl): GPU rows will fail"
    fi
fi
DRIVER="unknown"
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
    /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -e "$icd" ]; then
        export VK_DRIVER_FILES=$icd
        [ -e /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ] &&
            export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
        DRIVER="nvidia ($icd)"
        break
    fi
done
if [ "$DRIVER" = unknown ]; then
    DRIVER="no NVIDIA Vulkan driver found: whatever adapter wgpu finds (lavapipe is a CPU driver)"
fi
echo "driver: $DRIVER"

METHODS=(--method safetensors-mmap --method safetensors-read --method pickle-eager --method pickle-mmap)
step() { # name, then the command; cut short after STEP seconds
    local name=$1 start
    shift
    echo "== $name"
    start=$(date +%s)
    timeout "$STEP" "$@" || echo "$name: failed or cut short (exit $?)"
    echo "($name took $(($(date +%s) - start)) s)"
}
step "ring, warm" "$BIN" bench --synthetic "$SIZE" --keep "$WORK" --no-twin --gpu --runs "$RUNS" "${METHODS[@]}" \
    --verbose --report "$OUT/ring-warm.json" --report "$OUT/ring-warm.md"
if [ -e "$WORK/model.safetensors" ]; then
    FILES=("$WORK/model.safetensors" "$WORK/model.bin")
    step "ring, cold" "$BIN" bench "${FILES[@]}" --no-twin --gpu --cold --runs "$RUNS" "${METHODS[@]}" \
        --verbose --report "$OUT/ring-cold.json" --report "$OUT/ring-cold.md"
    step "write-buffer, warm" "$BIN" bench "${FILES[@]}" --no-twin --gpu --upload write-buffer --runs "$RUNS" \
        --method safetensors-mmap --method pickle-eager --report "$OUT/write-buffer.json"
else
    echo "the synthetic pair was not written: no cold or write-buffer step"
fi

echo "== torch host-to-device copies of the same bytes"
if ! "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "torch is not installed or sees no GPU: no torch ceiling"
elif [ -e "$WORK/model.safetensors" ]; then
    PYTHONUNBUFFERED=1 timeout "$STEP" "$PY" - "$WORK" "$RUNS" "$OUT/torch.json" <<'EOF' || echo "torch part failed: $?"
import json, os, statistics, sys, time
work, runs, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
import torch
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
st = os.path.join(work, "model.safetensors")
timed("torch_load_cuda", lambda: torch.load(os.path.join(work, "model.bin"), map_location="cuda", weights_only=True))
try:
    from safetensors.torch import load_file
    timed("safetensors_load_file_cuda", lambda: load_file(st, device="cuda"))
except ImportError as e:
    res["safetensors_error"] = repr(e)
save()
EOF
fi

echo "== summary"
"$PY" - "$OUT" "$DRIVER" <<'EOF' || echo "summary failed: $?"
import json, os, sys
d, driver = sys.argv[1], sys.argv[2]
def load(name):
    p = os.path.join(d, name)
    try:
        return json.load(open(p)) if os.path.exists(p) else None
    except ValueError:
        return None
torch = load("torch.json") or {}
pinned = torch.get("h2d_pinned")
pinned_gbps = torch["bytes"] / pinned["median_s"] / 1e9 if pinned else None
summary = {"driver": driver, "torch": torch, "reports": {}}
md = ["# GPU check", "", f"Driver: {driver}", ""]
for name in ("ring-warm.json", "ring-cold.json", "write-buffer.json"):
    r = load(name)
    if not r:
        md.append(f"- {name}: missing (the step failed or ran out of time)")
        continue
    adapters = ", ".join(f"{g['name']} ({g['backend']}, {g['device_type']})" for g in r["system"].get("gpu", []))
    rows = []
    for x in r["results"]:
        if x["device"] != "gpu":
            continue
        row = {k: x.get(k) for k in ("method", "cache", "upload", "median_s", "min_s", "max_s", "gbps",
                                     "ceiling", "percent_of_ceiling", "gpu_split")}
        if pinned_gbps and x.get("gbps"):
            row["percent_of_torch_pinned"] = x["gbps"] / pinned_gbps * 100
        rows.append(row)
    summary["reports"][name] = {"adapters": adapters, "headline": r.get("headline", []),
                                "ceilings": r.get("ceilings", []), "gpu_rows": rows}
    md += [f"## {name}", "", f"Adapter: {adapters}", ""]
    md += [f"- {h}" for h in r.get("headline", [])]
    md += ["", "| row | cache | median | GB/s | of ring ceiling | of torch pinned | upload split |",
           "|---|---|---|---|---|---|---|"]
    for x in rows:
        s = x.get("gpu_split")
        split = (f"fill {s['fill_s']*1e3:.0f} ms, submit {s['submit_s']*1e3:.0f} ms, wait {s['wait_s']*1e3:.0f} ms, "
                 f"sync {s['sync_s']*1e3:.0f} ms, GPU copy {s['copy_s']*1e3:.0f} ms ({s['copy_from']})") if s else "-"
        pct = f"{x['percent_of_ceiling']:.0f}%" if x.get("percent_of_ceiling") is not None else "-"
        tp = f"{x['percent_of_torch_pinned']:.0f}%" if x.get("percent_of_torch_pinned") is not None else "-"
        gbps = f"{x['gbps']:.2f}" if x.get("gbps") is not None else "-"
        md.append(f"| {x['method']} ({x.get('upload')}) | {x['cache']} | {x['median_s']*1e3:.1f} ms | {gbps} | {pct} | {tp} | {split} |")
    md += [""] + [f"- ceiling {c['name']}: {c['gbps']:.2f} GB/s ({c['what']})" for c in r.get("ceilings", [])] + [""]
md += ["## torch", ""]
if not torch:
    md.append("torch was not run (not installed, or no GPU it can see).")
for k in ("h2d_pageable", "h2d_pinned", "torch_load_cuda", "safetensors_load_file_cuda"):
    v = torch.get(k)
    if v:
        md.append(f"- {k}: median {v['median_s']*1e3:.1f} ms, {torch['bytes']/v['median_s']/1e9:.2f} GB/s")
json.dump(summary, open(os.path.join(d, "summary.json"), "w"), indent=1)
open(os.path.join(d, "summary.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
EOF
echo "wrote $OUT/summary.md and $OUT/summary.json"
