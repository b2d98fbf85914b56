#!/usr/bin/env bash
# Runs every libFuzzer harness of fuzz/ for SECONDS each (default 60), starting
# from its seed corpus in fuzz/corpus/<harness>/. The corpus is copied to a
# scratch folder first, so the run never changes the tree. Any crash, leak,
# sanitizer report or broken invariant fails the run; the input that caused it
# is kept in BUILD/fuzz-findings/ to reproduce with `BUILD/fuzz/<harness> FILE`.
set -euo pipefail
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-60}
cd "$(dirname "$0")/.."
findings="$BUILD/fuzz-findings"
mkdir -p "$findings"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

failed=()
for corpus in fuzz/corpus/*/; do
  harness=$(basename "$corpus")
  binary="$BUILD/fuzz/$harness"
  if [ ! -x "$binary" ]; then
    echo "fuzz: $binary is missing (build the 'fuzzers' target)" >&2
    exit 2
  fi
  mkdir -p "$scratch/$harness"
  cp -R "$corpus". "$scratch/$harness/"
  echo "fuzz: $harness for ${SECONDS_EACH}s from $(ls "$corpus" | wc -l) seeds"
  # TMPDIR: what a harness keeps in temp files (the API harness's store) goes with the scratch folder.
  # -rss_limit_mb: the API harness keeps one SQLite store for the whole run.
  if ! TMPDIR="$scratch" "$binary" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$findings/$harness-" "$scratch/$harness" >"$scratch/$harness.log" 2>&1; then
    tail -n 60 "$scratch/$harness.log" >&2
    failed+=("$harness")
  else
    grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$scratch/$harness.log" | sed "s/^/  /"
  fi
done
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (inputs in $findings)" >&2
  exit 1
fi
echo "fuzz: every harness ran ${SECONDS_EACH}s without a finding"
