#!/usr/bin/env bash
# Side-by-side timing of `tensorscope verify` (OMS key method, one file) and `sha256sum` on the same
# file, warm page cache, runs interleaved so both see the same machine load. Prints wall time and CPU
# time (user + sys) per run, then median / min / max of each.
#
#   scripts/bench_verify.sh [TENSORSCOPE] [SIZE_MB] [RUNS]
set -euo pipefail
TS=$(realpath "${1:-target/release/tensorscope}")
MB=${2:-500}
RUNS=${3:-7}
KEYS=$(realpath "$(dirname "$0")/../tests/data/verify/keys")
dir=${BENCH_DIR:-$(mktemp -d)}
f=$dir/big.bin
[ -f "$f" ] && [ "$(stat -c %s "$f")" = $((MB * 1000000)) ] || head -c $((MB * 1000000)) /dev/urandom > "$f"
"$TS" sign "$f" --private-key "$KEYS/p256.key" --signature "$dir/big.sig" > /dev/null
cat "$f" > /dev/null   # warm the page cache
TIMEFORMAT='%R %U %S'
declare -a ts_wall ts_cpu ss_wall ss_cpu
for i in $(seq "$RUNS"); do
  t=$( { time "$TS" verify "$f" --public-key "$KEYS/p256.pub" --signature "$dir/big.sig" > /dev/null; } 2>&1 )
  read -r w u s <<< "$t"; ts_wall+=("$w"); ts_cpu+=("$(echo "$u + $s" | bc)")
  t=$( { time sha256sum "$f" > /dev/null; } 2>&1 )
  read -r w u s <<< "$t"; ss_wall+=("$w"); ss_cpu+=("$(echo "$u + $s" | bc)")
  echo "run $i: verify wall ${ts_wall[-1]} s cpu ${ts_cpu[-1]} s | sha256sum wall ${ss_wall[-1]} s cpu ${ss_cpu[-1]} s"
done
stats() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "median %.2f s (min %.2f, max %.2f) over %d runs", a[int((NR+1)/2)], a[1], a[NR], NR}'; }
echo "file: $MB MB ($f)   machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "tensorscope verify  wall: $(stats "${ts_wall[@]}")   cpu: $(stats "${ts_cpu[@]}")"
echo "sha256sum           wall: $(stats "${ss_wall[@]}")   cpu: $(stats "${ss_cpu[@]}")"
echo "sha256sum: $(sha256sum --version | head -1)"
