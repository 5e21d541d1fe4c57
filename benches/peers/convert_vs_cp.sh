#!/usr/bin/env bash
# Time `tensorscope convert` (verification included) against `cp` of the same file, side by side.
#
#   benches/peers/convert_vs_cp.sh [INPUT.bin] [RUNS] [TENSORSCOPE]
#
# Defaults: /tmp/ck/model.bin (a ~500 MB GPT-2 torch.save file), 5 runs, target/release/tensorscope.
# Each run, alternating: `cp IN OUT`, `cp IN OUT && sync OUT` (convert fsyncs its output, cp does not),
# and `tensorscope convert IN OUT.safetensors` (write + fsync + reopen + byte-for-byte verification).
# The input stays in the page cache for all three (it is read once before timing). Outputs are written
# beside each other in a scratch folder on the same filesystem and removed between runs.
# Prints the median and min of each, the ratio convert / cp, and convert's peak RSS.
#
# Measured 2026-11-26 on the shared 2-core build box (AMD EPYC, ext4, other builds running: load 3-4),
# /tmp/ck/model.bin = GPT-2 124M torch.save zip, 497,793,443 bytes, 148 F32 tensors, release build,
# 11 runs each, three separate invocations of this script:
#   cp median 0.269 / 0.274 / 0.253 s   cp+sync 0.468 / 0.468 / 0.445 s   convert 0.486 / 0.515 / 0.541 s
#   ratio convert/cp 1.81 / 1.88 / 2.14   convert/(cp+sync) 1.04 / 1.10 / 1.22   convert peak RSS 11 MB
# (convert = scan + read + write + read-back verification + fsync; cp does none of the last three.)
# The ratio moves with the box's load: cp is one in-kernel copy, convert copies through user space and
# reads every chunk back, so it loses more when the cores are contended.
set -euo pipefail
IN=${1:-/tmp/ck/model.bin}
RUNS=${2:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TS=${3:-${CARGO_TARGET_DIR:-$ROOT/target}/release/tensorscope}
[ -x "$TS" ] || { echo "build first: cargo build --release ($TS missing)" >&2; exit 2; }
OUT=$(mktemp -d "${TMPDIR:-/tmp}/convert-vs-cp.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

cat "$IN" > /dev/null   # warm the page cache for every contender
now() { date +%s.%N; }
declare -a CP CPS CONV
# `sync` (untimed) before each timed command, so none pays for the previous one's dirty pages
for i in $(seq "$RUNS"); do
  sync; t0=$(now); cp "$IN" "$OUT/cp.bin"; t1=$(now)
  CP+=("$(echo "$t1 - $t0" | bc -l)"); rm -f "$OUT/cp.bin"
  sync; t0=$(now); cp "$IN" "$OUT/cp.bin" && sync "$OUT/cp.bin"; t1=$(now)
  CPS+=("$(echo "$t1 - $t0" | bc -l)"); rm -f "$OUT/cp.bin"
  sync; t0=$(now); "$TS" convert "$IN" "$OUT/model.safetensors" > "$OUT/log"; t1=$(now)
  CONV+=("$(echo "$t1 - $t0" | bc -l)"); rm -f "$OUT/model.safetensors"
done
stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "median %.3f s  min %.3f s", a[int((NR+1)/2)], a[1]}'; }
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
SIZE=$(stat -c %s "$IN")
echo "input: $IN ($SIZE bytes), $RUNS runs each, $(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cp               : $(stats "${CP[@]}")"
echo "cp + sync        : $(stats "${CPS[@]}")"
echo "tensorscope convert (write + fsync + verify): $(stats "${CONV[@]}")"
tail -2 "$OUT/log" | sed 's/^/  /'
printf 'ratio convert / cp        : %.2f\n' "$(echo "$(med "${CONV[@]}") / $(med "${CP[@]}")" | bc -l)"
printf 'ratio convert / (cp+sync) : %.2f\n' "$(echo "$(med "${CONV[@]}") / $(med "${CPS[@]}")" | bc -l)"
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f 'convert peak RSS: %M kB' "$TS" convert "$IN" "$OUT/model.safetensors" > /dev/null
fi
