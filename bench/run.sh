#!/usr/bin/env bash
# Runs the benchmarks: the API under a bad-token flood, the identity
# inventory at 100,000 people and the store micro-benchmarks, then, against
# the lab, the bulk disable of 1,000 lab users through Cordon versus
# ldapmodify -f on the same DC, and the bulk
# suspend of 1,000 Okta users through Cordon versus the official Okta
# Node.js SDK under the emulator's lifecycle limit, and the revocation of
# 2,000 Entra ID users' sessions with and without $batch under Graph's throttle.
set -euo pipefail
BUILD=${1:-build}
LAB_DIR=${LAB_DIR:-$PWD/$BUILD/lab}
HERE=$(cd "$(dirname "$0")" && pwd)
"$BUILD/bench/auth_flood_bench" "${FLOOD_REQUESTS:-2000}" "${FLOODERS:-4}"
"$BUILD/bench/inventory_bench" "${IDENTITIES:-100000}" "${SAMPLES:-2000}"
(cd "$HERE/okta-sdk" && npm ci --no-audit --no-fund --silent)
"$BUILD/src/cli/cordon" lab up --dir "$LAB_DIR"
trap '"$BUILD/src/cli/cordon" lab down --dir "$LAB_DIR" >/dev/null 2>&1 || true' EXIT
"$BUILD/bench/store_benchmark" --benchmark_min_time=0.2
"$BUILD/bench/bulk_disable_bench" "$LAB_DIR" "${ROUNDS:-3}"
OKTA_SDK_DIR="$HERE/okta-sdk" "$BUILD/bench/okta_suspend_bench" "$LAB_DIR" "${ROUNDS:-3}"
"$BUILD/bench/entra_revoke_bench" "$LAB_DIR" "${ROUNDS:-3}"
