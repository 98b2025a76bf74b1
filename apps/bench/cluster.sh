#!/usr/bin/env bash
# Cross-node fan-out: the fanout scenario against one node, then against three
# nodes of a cluster (members spread evenly, the publisher on a node that does
# not own the topic), in one run, and the ratios. Loopback only; every process
# shares this machine's cores, so the cluster figures include the cost of three
# servers on the same CPUs.
# Usage: apps/bench/cluster.sh [BUILD_DIR] [MEMBERS] [RATE] [SECONDS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(cd "${1:-$here/../../build}" && pwd)/bin"
members=${2:-999}
rate=${3:-100}
seconds=${4:-5}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Starts build/bin/roomcast with ARGS; sets port and node (its cluster name, if any).
start() {
  local log; log="$(mktemp)"
  "$bin/roomcast" --host 127.0.0.1 --port 0 --api-key bench-key --log-level warn --data-dir "$(mktemp -d)" "$@" >"$log" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 1 100); do
    if grep -q "listening on" "$log" && { [ "$#" -eq 0 ] || grep -q "cluster node" "$log"; }; then
      port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$log" | head -1)
      node=$(sed -n 's/^cluster node //p' "$log" | head -1)
      return
    fi
    sleep 0.1
  done
  echo "server did not start: $*" >&2; exit 1
}

metric() { sed -n "s/.*\"$1\":\([0-9.eE+-]*\).*/\1/p" | tail -1; }
latency() { sed -n "s/.*\"latency\":{[^}]*\"$1_ms\":\([0-9.eE+-]*\).*/\1/p" | tail -1; }
bench() { "$bin/roomcast-bench" --scenario fanout -n "$members" --rate "$rate" --duration-s "$seconds" "$@" | tail -1; }

start
single=$(bench --port "$port" --topic echo:cluster-bench)
kill "${pids[0]}"

start --cluster-port 0; p1=$port; n1=$node
start --cluster-port 0 --peers "$n1"; p2=$port; n2=$node
start --cluster-port 0 --peers "$n1"; p3=$port; n3=$node
sleep 1  # the mesh forms within a seed round
# A topic owned by the second or third node: the first connection (the publisher)
# is on node 1, so every push is relayed to the owner and back.
topic=""
for i in $(seq 0 50); do
  owner=$(curl -s -H "Authorization: Bearer bench-key" "http://127.0.0.1:$p1/api/cluster?topic=echo:cb$i" | sed -n 's/.*"owner":"\([^"]*\)".*/\1/p')
  if [ -n "$owner" ] && [ "$owner" != "$n1" ]; then topic="echo:cb$i"; break; fi
done
[ -n "$topic" ] || { echo "no topic owned by another node (is the cluster up?)" >&2; exit 1; }
clustered=$(bench --ports "$p1,$p2,$p3" --topic "$topic")

printf '%-28s %14s %14s %7s\n' "fanout n=$members rate=$rate" "one node" "three nodes" ratio
row() {  # label value-one value-three
  printf '%-28s %14.1f %14.1f %7.2f\n' "$1" "$2" "$3" "$(awk -v a="$3" -v b="$2" 'BEGIN { print b ? a / b : 0 }')"
}
row "deliveries/s" "$(echo "$single" | metric deliveries_per_s)" "$(echo "$clustered" | metric deliveries_per_s)"
for q in p50 p99 p999; do
  row "latency $q (ms)" "$(echo "$single" | latency $q)" "$(echo "$clustered" | latency $q)"
done
echo "one node:    $single"
echo "three nodes: $clustered"
