#!/usr/bin/env bash
# Runs the raw echo and broadcast scenarios against Roomcast's example servers and
# against the Node `ws` peer (peer/ws-server.mjs), side by side in one run, with the
# same client (roomcast-bench), and prints the ratios.
# Usage: apps/bench/compare.sh [BUILD_DIR]   (needs node and npm; loopback only)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(cd "${1:-$here/../../build}" && pwd)/bin"
[ -d "$here/peer/node_modules/ws" ] || (cd "$here/peer" && npm install --no-audit --no-fund --loglevel=error >/dev/null)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# start VAR COMMAND...: starts a server, waits for its "listening on" line and sets
# VAR to its port. Not in a $(...) subshell: the pid must reach `pids` for cleanup.
start() {
  local var=$1; shift
  local log; log="$(mktemp)"
  "$@" >"$log" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 1 100); do
    if grep -q "listening on" "$log"; then
      printf -v "$var" '%s' "$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$log" | head -1)"
      return
    fi
    sleep 0.1
  done
  echo "server did not start: $*" >&2; exit 1
}

start rc_echo "$bin/example-echo" --port 0
start rc_bcast "$bin/example-broadcast" --port 0
start node_echo node "$here/peer/ws-server.mjs" echo 0
start node_bcast node "$here/peer/ws-server.mjs" broadcast 0

metric() { sed -n "s/.*\"$1\":\([0-9.eE+-]*\).*/\1/p" | tail -1; }
run() { "$bin/roomcast-bench" "$@" | tail -1; }

printf '%-34s %14s %14s %7s\n' scenario roomcast node-ws ratio
compare() {  # name metric bench-args...
  local name=$1 key=$2; shift 2
  local a b
  a=$(run --port "$rc_port" "$@" | metric "$key")
  b=$(run --port "$node_port" "$@" | metric "$key")
  printf '%-34s %14.0f %14.0f %7.2f\n' "$name" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')"
}
rc_port=$rc_echo node_port=$node_echo
compare "echo n=100 (msg/s)" messages_per_s --scenario echo -n 100 --duration-s 5
rc_port=$rc_bcast node_port=$node_bcast
compare "broadcast n=100 (deliveries/s)" deliveries_per_s --scenario broadcast -n 100 --rounds 200
compare "broadcast n=1000 (deliveries/s)" deliveries_per_s --scenario broadcast -n 1000 --rounds 5
