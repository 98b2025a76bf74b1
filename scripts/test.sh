#!/usr/bin/env bash
# The whole test suite: installs what is needed, builds Release and runs every test,
# then builds with AddressSanitizer + UndefinedBehaviorSanitizer and runs them again,
# then runs each libFuzzer target for a bounded time (FUZZ_SECONDS, default 45).
# Usage: scripts/test.sh [--no-setup] [--release-only]
set -euo pipefail
cd "$(dirname "$0")/.."

setup=1; sanitize=1
for arg in "$@"; do
  case "$arg" in
    --no-setup) setup=0 ;;
    --release-only) sanitize=0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if [ "$setup" = 1 ]; then
  if [ "$sanitize" = 1 ]; then bash scripts/setup.sh --fuzz; else bash scripts/setup.sh; fi
fi

echo "== Release build"
bash scripts/build.sh build
echo "== Release tests"
(cd build && ctest --output-on-failure --timeout 300 -j2)

if [ "$sanitize" = 1 ]; then
  echo "== ASan+UBSan build"
  bash scripts/build.sh build-asan -DROOMCAST_SANITIZE=ON
  echo "== ASan+UBSan tests"
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tests/ubsan.supp"
  export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
  (cd build-asan && ctest --output-on-failure --timeout 600 -j2)
  echo "== Fuzzing (${FUZZ_SECONDS:-45} s per target)"
  bash scripts/fuzz.sh "${FUZZ_SECONDS:-45}"
fi
echo "== all tests passed"
