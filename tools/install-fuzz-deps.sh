#!/usr/bin/env bash
# Installs what `make fuzz` needs beyond tools/install-deps.sh: clang 14 and its runtime
# libraries (libFuzzer, ASan, UBSan). Idempotent; Debian 12 package names.
set -euo pipefail

packages=(clang-14 libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -q '^installed$' || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

echo "install-fuzz-deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-fuzz-deps: done" >&2
