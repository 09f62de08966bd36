#!/usr/bin/env bash
# A/B (issue 8): server CPU per query of a node that runs alone against the same node in a
# cluster (a real etcd on a unix socket, lease renewals, its registration, the election, its
# DNS self-query every second), in one sitting, alternating single, cluster, single, ...
# Usage: ROUNDS=3 DURATION=15 bash bench/cluster-ab.sh      (results on stdout)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
WORK=$(mktemp -d)
SRV=""
ETCD=""
cleanup() {
  [ -n "$SRV" ] && kill "$SRV" 2> /dev/null || true
  [ -n "$ETCD" ] && kill "$ETCD" 2> /dev/null || true
  wait 2> /dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
# etcd on unix sockets in $WORK (the "ports" are file names there: nothing to probe for).
(cd "$WORK" && exec etcd --name a --data-dir "$WORK/etcd" \
  --listen-client-urls unix://localhost:12379 --advertise-client-urls unix://localhost:12379 \
  --listen-peer-urls unix://localhost:12380 --initial-advertise-peer-urls unix://localhost:12380 \
  --initial-cluster a=unix://localhost:12380 > "$WORK/etcd.log" 2>&1) &
ETCD=$!
for _ in $(seq 1 100); do grep -q 'ready to serve client requests' "$WORK/etcd.log" && break; sleep 0.1; done
for side in single cluster; do
  {
    echo "listen: ['127.0.0.1:0']"
    echo "workers: 1"
    echo "log: { level: warn }"
    echo "dns: { rateLimit: { enabled: false } }"
    echo "zones:"
    echo "  - origin: example.test"
    echo "    file: $HERE/zones/example.test.static.zone"
    if [ "$side" = cluster ]; then
      echo "cluster:"
      echo "  node: bench"
      echo "  etcd: { endpoints: ['unix://$WORK/localhost:12379'] }"
    fi
  } > "$WORK/$side.yaml"
done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
printf 'round\tside\tqps\tcompleted\tcpu_us_per_query\n'
for round in $(seq 1 "$ROUNDS"); do
  for side in single cluster; do
    taskset -c "$SERVER_CPU" node --import tsx "$ROOT/src/main.ts" serve --config "$WORK/$side.yaml" > "$WORK/server.log" 2>&1 &
    SRV=$!
    for _ in $(seq 1 300); do grep -q 'listening' "$WORK/server.log" && break; sleep 0.1; done
    PORT=$(grep -o '"udp":\["127.0.0.1:[0-9]*' "$WORK/server.log" | head -1 | sed 's/.*://')
    opts=(-s 127.0.0.1 -p "$PORT" -d "$HERE/queries/www.txt" -c 8 -q 100)
    taskset -c "$CLIENT_CPU" dnsperf "${opts[@]}" -l 3 > /dev/null 2>&1 || true
    t0=$(ticks "$SRV")
    taskset -c "$CLIENT_CPU" dnsperf "${opts[@]}" -l "$DURATION" > "$WORK/dnsperf.txt" 2>&1 || true
    t1=$(ticks "$SRV")
    comp=$(awk '/Queries completed:/{print $3}' "$WORK/dnsperf.txt")
    qps=$(awk '/Queries per second:/{print $4}' "$WORK/dnsperf.txt")
    hz=$(getconf CLK_TCK)
    us=$(awk -v a="$t0" -v b="$t1" -v c="$comp" -v hz="$hz" 'BEGIN{printf "%.2f", (b - a) / hz * 1e6 / c}')
    printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$side" "$qps" "$comp" "$us"
    kill "$SRV"; wait "$SRV" 2> /dev/null || true
    SRV=""
  done
done
