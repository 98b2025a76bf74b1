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
  chromium fonts-liberation
  curl  # apps/bench/cluster.sh asks the nodes who owns its topic
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

# npm packages: the real-client tests (phoenix, ws), the demo pages' bundles
# (phoenix, esbuild) and the browser tests (playwright-core driving Debian's
# chromium: no browser download).
for dir in tests/js apps tests/browser; do
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    echo "setup: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules"
  fi
done
echo "setup: done"
