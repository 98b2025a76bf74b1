#!/usr/bin/env bash
# Starts three local Roomcast nodes that form one cluster (docs/cluster.md):
# HTTP/WebSocket on 4000-4002, cluster ports 7000-7002, each seeded with all three.
# Prints each node's view of the membership, then waits; Ctrl-C stops all three.
#   examples/cluster/start.sh            # run until Ctrl-C
#   examples/cluster/start.sh --check    # start, check that all three see three members, stop
# Needs build/bin/roomcast (scripts/build.sh build; ROOMCAST_BIN picks another). Ports: BASE_PORT (4000) and
# CLUSTER_BASE_PORT (7000) move them.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${ROOMCAST_BIN:-build/bin/roomcast}
[ -x "$bin" ] || { echo "build first: bash scripts/build.sh build" >&2; exit 1; }
base=${BASE_PORT:-4000}
cluster_base=${CLUSTER_BASE_PORT:-7000}
key=${API_KEY:-example-cluster-key}
seeds="127.0.0.1:$cluster_base,127.0.0.1:$((cluster_base + 1)),127.0.0.1:$((cluster_base + 2))"
logs=$(mktemp -d)
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$logs"
}
trap stop EXIT

for i in 0 1 2; do
  "$bin" --host 127.0.0.1 --port $((base + i)) --cluster-port $((cluster_base + i)) \
    --peers "$seeds" --api-key "$key" --data-dir "$logs/node$i" --log-level warn \
    > "$logs/node$i.out" 2> "$logs/node$i.err" &
  pids+=($!)
done

# GET /api/cluster on node i with bash's /dev/tcp (no curl needed); prints the JSON body.
view() {
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf 'GET /api/cluster HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n' "$key" >&3
  sed -n '/^\r$/,$p' <&3 | tail -n +2
  exec 3<&-
}
members() { view "$1" 2>/dev/null | grep -o '"node"' | wc -l; }

for _ in $(seq 1 100); do  # up to 10 s
  ok=1
  for i in 0 1 2; do [ "$(members $((base + i)))" = 3 ] || ok=0; done
  [ $ok = 1 ] && break
  sleep 0.1
done
for i in 0 1 2; do echo "node $((base + i)): $(view $((base + i)))"; done
if [ $ok != 1 ]; then
  echo "the nodes did not all see three members" >&2
  cat "$logs"/*.err >&2
  exit 1
fi
if [ "${1:-}" = "--check" ]; then echo "cluster of 3: ok"; exit 0; fi
echo "three nodes running; WebSocket on ws://127.0.0.1:$base..$((base + 2))/socket/websocket; Ctrl-C stops them"
wait
