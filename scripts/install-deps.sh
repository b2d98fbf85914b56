#!/usr/bin/env bash
# Installs every Debian package Cordon needs to build, test and run its lab,
# then, from the npm registry, each at the exact versions its package-lock.json
# pins (install scripts off, see each folder's .npmrc): Stoplight Prism
# (tests/support/prism_proxy.h: Okta's own API description enforced between
# the Okta connector and its server in tests) into tools/prism, the web
# console's build tools (TypeScript, esbuild, Preact) into web/,
# playwright-core, which drives Debian's chromium in the console's end-to-end
# tests, into tests/console, and Microsoft's Graph JavaScript client (drives
# the Graph-compatible API in graph_client_test) into tests/graph-client.
# Idempotent: does nothing when all are present. Needs root (or sudo) for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # build
  make cmake ninja-build ccache g++ pkg-config git
  # libraries
  libboost-dev libssl-dev libldap-dev libsasl2-dev libsqlite3-dev nlohmann-json3-dev libtomlplusplus-dev
  libcli11-dev libspdlog-dev libfmt-dev libexpected-dev libcurl4-openssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev sqlite3 procps curl openssl
  # system_ca = true (e.g. for *.okta.com) reads the system CA bundle
  ca-certificates
  # fuzzing (make fuzz): clang, and libFuzzer with the sanitizer runtimes
  clang libclang-rt-14-dev
  # the lab: a real Active Directory (Samba AD DC) and its clients
  samba samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind krb5-user ldap-utils
  libsasl2-modules-gssapi-mit
  # the web console's end-to-end tests (tests/console) drive a real browser
  chromium
)
# Node.js and npm, for Prism and the web console. A node that came from elsewhere (NodeSource's
# nodejs bundles npm and conflicts with Debian's npm package) is kept as it is.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Prism: `npm ci` installs exactly what tools/prism/package-lock.json lists
# (tools/prism/.npmrc turns install scripts off). Skipped when the pinned
# version is already there.
prism_dir=tools/prism
wanted=$(sed -n 's/.*"@stoplight\/prism-cli": *"\([^"]*\)".*/\1/p' "$prism_dir/package.json")
installed=$(sed -n 's/^  "version": *"\([^"]*\)".*/\1/p' \
  "$prism_dir/node_modules/@stoplight/prism-cli/package.json" 2>/dev/null || true)
if [ "$installed" != "$wanted" ] || [ ! -x "$prism_dir/node_modules/.bin/prism" ]; then
  echo "installing: @stoplight/prism-cli $wanted (npm ci in $prism_dir)" >&2
  (cd "$prism_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# The web console (web/, built into the cordon binary), its end-to-end tests
# (tests/console) and Microsoft's Graph JavaScript client (tests/graph-client):
# `npm ci` unless node_modules was installed from this very lock file (a copy
# of it is kept there after each install).
for dir in web tests/console tests/graph-client; do
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.cordon-installed-lock.json" 2>/dev/null; then
    echo "installing: npm packages of $dir (npm ci)" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    cp "$dir/package-lock.json" "$dir/node_modules/.cordon-installed-lock.json"
  fi
done
