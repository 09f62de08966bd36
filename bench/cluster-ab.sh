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
# shellcheck source=bench/cpu-per-query.sh
. "$HERE/cpu-per-query.sh"
printf 'round\tside\tqps\tcompleted\tcpu_us_per_query\n'
for round in $(seq 1 "$ROUNDS"); do
  for side in single cluster; do
    measure_side "$round" "$side" "$WORK/$side.yaml"
  done
done
