#!/usr/bin/env bash
# Installs every Debian package Cordon needs to build, test and run its lab.
# Idempotent: does nothing when all are present. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # build
  make cmake ninja-build ccache g++ pkg-config git
  # libraries
  libboost-dev libssl-dev libldap-dev libsasl2-dev libsqlite3-dev nlohmann-json3-dev libtomlplusplus-dev
  libcli11-dev libspdlog-dev libfmt-dev libexpected-dev libcurl4-openssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev sqlite3 procps curl openssl
  # fuzzing (make fuzz): clang, and libFuzzer with the sanitizer runtimes
  clang libclang-rt-14-dev
  # the lab: a real Active Directory (Samba AD DC) and its clients
  samba samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind krb5-user ldap-utils
  libsasl2-modules-gssapi-mit
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
