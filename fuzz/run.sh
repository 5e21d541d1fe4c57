#!/usr/bin/env bash
# Run fuzz targets one after another, one process each (the machine is shared), SECONDS each.
# Usage: fuzz/run.sh SECONDS TARGET...   (logs in fuzz/logs/TARGET.log, crashes in fuzz/artifacts/TARGET/)
# -fork=1 keeps a single worker but carries on after a crash, so every target gets its full time.
set -u
cd "$(dirname "$0")"
secs=$1; shift
mkdir -p logs
for t in "$@"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" "corpus/$t" -- \
    -fork=1 -ignore_crashes=1 -rss_limit_mb=2048 -timeout=10 \
    -max_total_time="$secs" -artifact_prefix="artifacts/$t/" -print_final_stats=1 \
    >"logs/$t.log" 2>&1
  echo "$t exit $? at $(date +%T)" >>logs/done.txt
done
