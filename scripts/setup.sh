#!/usr/bin/env bash
# Installs everything Roomcast's build and tests need on Debian 12. Idempotent.
# Usage: scripts/setup.sh [--fuzz]   (--fuzz adds clang and libFuzzer for scripts/fuzz.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  g++ cmake make ccache pkg-config
  libcaf-dev
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libssl-dev libsqlite3-dev libspdlog-dev libjwt-dev
  libgtest-dev libgmock-dev
)
for arg in "$@"; do
  case "$arg" in
    --fuzz) APT_PACKAGES+=(clang libclang-rt-14-dev) ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

echo "setup: apt-get update"
$SUDO apt-get update -qq
echo "setup: installing ${APT_PACKAGES[*]}"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  "${APT_PACKAGES[@]}" >/dev/null

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs and npm from Debian"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi

# npm packages for the real-client tests (the official phoenix client, ws).
if [ ! -d tests/js/node_modules ] || [ tests/js/package-lock.json -nt tests/js/node_modules ]; then
  echo "setup: npm ci in tests/js"
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
  touch tests/js/node_modules
fi
echo "setup: done"
