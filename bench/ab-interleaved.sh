#!/usr/bin/env bash
# A/B at a finer grain than bench/ab.sh: the two builds take turns every 8 seconds, so a
# machine whose speed drifts within minutes (a shared VM) treats both alike.
#
# Usage:  bash bench/ab-interleaved.sh BEFORE_TREE AFTER_TREE static|gslb [ROUNDS]
#   Each tree is a checkout with dist/ built (node scripts/bundle.mjs) and node_modules.
#   static: `serve --zone` on bench/zones/example.test.static.zone; gslb: `serve --config
#   CONFIG` with CONFIG (default /tmp/steerdns-bench/srv/steerdns-gslb-pinned/steerdns.yaml,
#   which bench/run.sh renders) and bench/node/hc-target.mjs started here for its checks.
# Per turn: the server pinned on CPU 1 (port 5399 on 127.0.0.1), 2 s of dnsperf warm-up,
# then 8 s measured with dnsperf pinned on CPU 0 (-c 8 -q 100, www); the server's CPU time
# (utime + stime from /proc) over the queries it answered. Servers are stopped by PID.
set -euo pipefail
BEFORE=${1:?usage: bench/ab-interleaved.sh BEFORE_TREE AFTER_TREE static|gslb [ROUNDS]}
AFTER=${2:?}
MODE=${3:?}
ROUNDS=${4:-6}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONFIG=${CONFIG:-/tmp/steerdns-bench/srv/steerdns-gslb-pinned/steerdns.yaml}
QUERIES=$HERE/queries/www.txt
PORT=5399
HC_PID=""
trap '[ -n "$HC_PID" ] && kill "$HC_PID" 2> /dev/null || true' EXIT
if [ "$MODE" = gslb ]; then
  HC_PORT=18080 taskset -c 0 node "$HERE/node/hc-target.mjs" > /tmp/steerdns-ab-hc.log 2>&1 &
  HC_PID=$!
fi

turn() { # tree label
  local tree=$1 label=$2 args pid a b out n
  if [ "$MODE" = gslb ]; then args=(--config "$CONFIG"); else
    args=(--zone "example.test=$tree/bench/zones/example.test.static.zone")
  fi
  (cd "$tree" && exec taskset -c 1 node --expose-gc --max-semi-space-size=4 dist/steerdns.mjs \
    serve "${args[@]}" --listen "127.0.0.1:$PORT" --workers 1 --log-level warn) > /tmp/steerdns-ab-server.log 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    dig +short +tries=1 +time=1 @127.0.0.1 -p "$PORT" www.example.test A > /dev/null 2>&1 && break
    sleep 0.1
  done
  [ "$MODE" = gslb ] && sleep 4 # the first round of checks
  taskset -c 0 dnsperf -s 127.0.0.1 -p "$PORT" -d "$QUERIES" -l 2 -c 8 -q 100 > /dev/null 2>&1
  a=$(awk '{print $14+$15}' "/proc/$pid/stat")
  out=$(taskset -c 0 dnsperf -s 127.0.0.1 -p "$PORT" -d "$QUERIES" -l 8 -c 8 -q 100 2>&1)
  b=$(awk '{print $14+$15}' "/proc/$pid/stat")
  n=$(echo "$out" | awk '/Queries completed/{print $3}')
  kill "$pid"
  wait "$pid" 2> /dev/null || true
  awk -v l="$label" -v t=$((b - a)) -v n="$n" -v hz="$(getconf CLK_TCK)" \
    'BEGIN{printf "%s\t%.2f\t%d\n", l, t*1e6/hz/n, n}'
}

echo -e "build\tus_per_query\tqueries"
for _ in $(seq 1 "$ROUNDS"); do
  turn "$BEFORE" before
  turn "$AFTER" after
done
