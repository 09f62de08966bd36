#!/usr/bin/env bash
# A/B (issue 12): server CPU per query with metrics off against on, in one sitting,
# alternating off, on, off, on ... with a fresh server each (bench/cpu-per-query.sh: one
# worker from source, server and dnsperf pinned to their own CPU). The configurations differ
# only in `metrics: { enabled: false }`. MODE static: the shared static zone (www is a static
# 4-address RRset, answered from the responder's cache); MODE gslb: www.example.test is a
# steered name (8 weighted members, no health checks: the decision and its per-member count
# run on every query).
# Usage: MODE=static ROUNDS=4 DURATION=10 bash bench/metrics-ab.sh      (results on stdout)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
MODE=${MODE:-static}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
WORK=$(mktemp -d)
SRV=""
trap '[ -n "$SRV" ] && kill "$SRV" 2> /dev/null; rm -rf "$WORK"' EXIT
steered() {
  cat << 'S'
zones:
  - origin: example.test
    ttl: 300
    records: |
      @    IN SOA ns1.example.test. hostmaster.example.test. 2024010101 3600 600 604800 300
      @    IN NS  ns1.example.test.
      ns1  IN A   192.0.2.53
services:
  - name: www.example.test
    ttl: 30
    pools:
      - name: web
        members:
S
  for i in 1 2 3 4 5 6 7 8; do
    echo "          - { name: m$i, address: 192.0.2.$i, weight: $i }"
  done
  echo "    policies: [admin, weighted]"
}
for side in off on; do
  {
    echo "listen: ['127.0.0.1:0']"
    echo "workers: 1"
    echo "log: { level: warn }"
    echo "dns: { rateLimit: { enabled: false }, cookies: { enabled: false } }"
    [ "$side" = off ] && echo "metrics: { enabled: false }"
    if [ "$MODE" = gslb ]; then steered; else
      printf 'zones:\n  - origin: example.test\n    file: %s\n' "$HERE/zones/example.test.static.zone"
    fi
  } > "$WORK/$side.yaml"
done
# shellcheck source=bench/cpu-per-query.sh
. "$HERE/cpu-per-query.sh"
printf 'round\tside\tqps\tcompleted\tcpu_us_per_query\n'
for round in $(seq 1 "$ROUNDS"); do
  for side in off on; do
    measure_side "$round" "$side" "$WORK/$side.yaml"
  done
done
