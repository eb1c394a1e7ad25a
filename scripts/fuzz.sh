#!/usr/bin/env bash
# Runs every cargo-fuzz target for a fixed time and prints one line per target with the
# executions and crashes; exits 1 when any target found a crash.
#   scripts/fuzz.sh SECONDS [--release]
# cargo-fuzz needs nightly flags: RUSTC_BOOTSTRAP=1 lets this machine's stable toolchain take
# them, and `-s none` drops the sanitizer (its runtime is not installed everywhere).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-10}
profile=(--dev)
[ "${2:-}" = "--release" ] && profile=()
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
cargo fuzz build -s none "${profile[@]}"
targets=$(cargo fuzz list)
failed=0
passed=0
for t in $targets; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log=$(mktemp)
  if cargo fuzz run -s none "${profile[@]}" "$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 \
      >"$log" 2>&1; then
    runs=$(grep -Eo 'Done [0-9]+ runs' "$log" | grep -Eo '[0-9]+' || echo "?")
    echo "fuzz $t: $runs executions in ${seconds}s, 0 crashes"
    passed=$((passed + 1))
  else
    echo "fuzz $t: CRASH (see fuzz/artifacts/$t):"
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -5
    failed=$((failed + 1))
  fi
  rm -f "$log"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
