#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz with clang (ASan + UBSan) and runs
# each for a bounded time from its seed corpus. Usage: scripts/fuzz.sh [SECONDS]
# (default 30 per target). A crash exits non-zero; its input is kept in
# build-fuzz/artifacts/ (add it to the target's corpus and a regression test).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
out=build-fuzz
mkdir -p "$out/artifacts"
cxx="clang++ -std=c++20 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined"
inc="-Iframework -Iframework/include"
common=(framework/protocol/codec.cpp framework/net/url.cpp framework/auth/origin.cpp
        framework/auth/token_verifier.cpp framework/actors/topic_pattern.cpp)
objects=()
for source in "${common[@]}"; do  # compiled once, linked into every target
  object="$out/$(basename "$source" .cpp).o"
  $cxx -fsanitize=fuzzer-no-link $inc -c "$source" -o "$object"
  objects+=("$object")
done
for target in text_decoder binary_decoder upgrade token; do
  echo "== fuzz: build $target"
  $cxx -fsanitize=fuzzer $inc "tests/fuzz/$target.cpp" "${objects[@]}" -lboost_json -ljwt \
    -o "$out/$target"
done
for target in text_decoder binary_decoder upgrade token; do
  echo "== fuzz: $target for ${seconds}s"
  work="$out/corpus-$target"
  rm -rf "$work" && mkdir -p "$work" && cp tests/fuzz/corpus/$target/* "$work/"
  rm -f "$out/artifacts/$target-"*
  rc=0
  "$out/$target" "$work" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1 -artifact_prefix="$out/artifacts/$target-" \
    > "$out/$target.log" 2>&1 || rc=$?
  grep -E "^(Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" "$out/$target.log" || true
  if [ "$rc" -ne 0 ]; then
    echo "fuzz: $target failed (exit $rc); input kept in $out/artifacts/, log in $out/$target.log"
    tail -40 "$out/$target.log"
    exit 1
  fi
done
echo "== fuzz: no crash"
