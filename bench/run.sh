#!/usr/bin/env bash
# Runs the benchmarks: the API under a bad-token flood and the store
# micro-benchmarks, then the bulk disable of 1,000 lab users through Cordon
# versus ldapmodify -f on the same DC.
set -euo pipefail
BUILD=${1:-build}
LAB_DIR=${LAB_DIR:-$PWD/$BUILD/lab}
"$BUILD/bench/auth_flood_bench" "${FLOOD_REQUESTS:-2000}" "${FLOODERS:-4}"
"$BUILD/src/cli/cordon" lab up --dir "$LAB_DIR"
trap '"$BUILD/src/cli/cordon" lab down --dir "$LAB_DIR" >/dev/null 2>&1 || true' EXIT
"$BUILD/bench/store_benchmark" --benchmark_min_time=0.2
"$BUILD/bench/bulk_disable_bench" "$LAB_DIR" "${ROUNDS:-3}"
