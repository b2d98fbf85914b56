#!/usr/bin/env bash
# Runs every libFuzzer harness of fuzz/ for SECONDS each (default 60), starting
# from its seed corpus in fuzz/corpus/<harness>/, JOBS harnesses at a time
# (default: one per core; each harness is single-threaded). The corpus is
# copied to a scratch folder first, so the run never changes the tree. Any
# crash, leak, sanitizer report or broken invariant fails the run; the input
# that caused it is kept in BUILD/fuzz-findings/ to reproduce with
# `BUILD/fuzz/<harness> FILE`.
set -euo pipefail
BUILD=${1:-build-asan}
SECONDS_EACH=${2:-60}
JOBS=${3:-$(nproc)}
cd "$(dirname "$0")/.."
findings="$BUILD/fuzz-findings"
mkdir -p "$findings"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

run_one() {
  local harness=$1
  local binary="$BUILD/fuzz/$harness"
  mkdir -p "$scratch/$harness/corpus" "$scratch/$harness/tmp"
  cp -R "fuzz/corpus/$harness/." "$scratch/$harness/corpus/"
  # TMPDIR: what a harness keeps in temp files (the API harness's store) goes with the scratch folder.
  # -rss_limit_mb: the API harness keeps one SQLite store for the whole run.
  if TMPDIR="$scratch/$harness/tmp" "$binary" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$findings/$harness-" "$scratch/$harness/corpus" \
      >"$scratch/$harness.log" 2>&1; then
    echo ok >"$scratch/$harness.status"
  else
    echo failed >"$scratch/$harness.status"
  fi
}

harnesses=()
for corpus in fuzz/corpus/*/; do
  harness=$(basename "$corpus")
  if [ ! -x "$BUILD/fuzz/$harness" ]; then
    echo "fuzz: $BUILD/fuzz/$harness is missing (build the 'fuzzers' target)" >&2
    exit 2
  fi
  harnesses+=("$harness")
done

echo "fuzz: ${harnesses[*]}: ${SECONDS_EACH}s each, $JOBS at a time"
for harness in "${harnesses[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  run_one "$harness" &
done
wait

failed=()
for harness in "${harnesses[@]}"; do
  if [ "$(cat "$scratch/$harness.status" 2>/dev/null)" = ok ]; then
    echo "fuzz: $harness: $(ls "fuzz/corpus/$harness" | wc -l) seeds," \
      "$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$harness.log") runs," \
      "$(sed -n 's/^stat::new_units_added: *//p' "$scratch/$harness.log") new inputs, no finding"
  else
    echo "fuzz: $harness FAILED:" >&2
    tail -n 60 "$scratch/$harness.log" >&2
    failed+=("$harness")
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $findings)" >&2
  exit 1
fi
echo "fuzz: every harness ran ${SECONDS_EACH}s without a finding"
