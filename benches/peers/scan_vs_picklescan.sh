#!/usr/bin/env bash
# Whole-process `tensorscope scan` against `picklescan` on the same torch.save file, side by side.
#
#   benches/peers/scan_vs_picklescan.sh [FILE]      (default /tmp/ck/model.bin, a real ~500 MB torch.save)
#
# Needs: picklescan (pip install picklescan; PICKLESCAN overrides the command), hyperfine when installed
# (otherwise a plain loop of RUNS runs each). Builds tensorscope in release mode first.
#
# Measured 2026-11-26 on the shared 2-core dev box (load ~4), /tmp/ck/model.bin (497.8 MB, torch.save zip),
# hyperfine -N, 30 runs: tensorscope scan 3.9 ms ± 2.8 (min 2.0), picklescan 1.0.5 124.5 ms ± 28.7 (min 104.5):
# 31.8x faster (hyperfine's summary); an earlier run: 4.1 ms vs 112.8 ms, 27.4x.
set -euo pipefail
FILE=${1:-/tmp/ck/model.bin}
RUNS=${RUNS:-20}
PICKLESCAN=${PICKLESCAN:-$(command -v picklescan || echo /tmp/peers/bin/picklescan)}
cd "$(dirname "$0")/../.."
cargo build --release --quiet --no-default-features
BIN=${CARGO_TARGET_DIR:-target}/release/tensorscope
[ -f "$FILE" ] || { echo "no $FILE: pass a torch.save file" >&2; exit 2; }
echo "file: $FILE ($(stat -c %s "$FILE") bytes)"
"$BIN" scan "$FILE" | tail -1
"$PICKLESCAN" -p "$FILE" | grep -i "dangerous\|infected" || true
if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 3 --runs "$RUNS" -i "$BIN scan $FILE" "$PICKLESCAN -p $FILE"
else
    for cmd in "$BIN scan $FILE" "$PICKLESCAN -p $FILE"; do
        start=$(date +%s.%N)
        for _ in $(seq "$RUNS"); do $cmd >/dev/null || true; done
        end=$(date +%s.%N)
        echo "$cmd: $(echo "($end - $start) / $RUNS * 1000" | bc -l | cut -c1-7) ms per run"
    done
fi
