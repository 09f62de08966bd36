#!/usr/bin/env bash
# A/B (issue 14): server CPU per query on the dgram UDP engine against the batched one (the
# native/udp addon), in one sitting, alternating dgram, batched, dgram, batched ... One worker
# pinned to SERVER_CPU, dnsperf on CLIENT_CPU, static answers (example.test, www A). A second
# part runs each engine at a fixed RATE (dnsperf -Q) and reports its batch size there.
# The batched server logs its datagrams and recvmmsg batches when it stops: batch = their ratio.
# Usage: ROUNDS=3 DURATION=15 RATE=4000 bash bench/udp-engine-ab.sh      (results on stdout)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
RATE=${RATE:-4000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
WORK=$(mktemp -d)
SRV=
trap 'if [ -n "$SRV" ]; then kill "$SRV" 2> /dev/null || true; fi; rm -rf "$WORK"' EXIT
for side in dgram batched; do
  cat > "$WORK/$side.yaml" << Y
listen: ['127.0.0.1:0']
workers: 1
log: { level: info }
dns: { udpEngine: $side, rateLimit: { enabled: false }, cookies: { enabled: false } }
zones:
  - origin: example.test
    file: $HERE/zones/example.test.static.zone
Y
done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# run SIDE LABEL DNSPERF_EXTRA...: one server, a warm-up, one measured dnsperf run.
run() {
  local side=$1 label=$2
  shift 2
  taskset -c "$SERVER_CPU" node --import tsx "$ROOT/src/main.ts" serve --config "$WORK/$side.yaml" > "$WORK/server.log" 2>&1 &
  SRV=$!
  for _ in $(seq 1 300); do grep -q '"msg":"listening"' "$WORK/server.log" && break; sleep 0.1; done
  grep -q "\"udpEngine\":\"$side\"" "$WORK/server.log" || { echo "server does not run $side" >&2; exit 1; }
  PORT=$(grep -o '"udp":\["127.0.0.1:[0-9]*' "$WORK/server.log" | head -1 | sed 's/.*://')
  local opts=(-s 127.0.0.1 -p "$PORT" -d "$HERE/queries/www.txt" -c 8 -q 100 "$@")
  taskset -c "$CLIENT_CPU" dnsperf "${opts[@]}" -l 3 > /dev/null 2>&1 || true
  local t0 t1 comp qps lost us hz batch rss
  t0=$(ticks "$SRV")
  taskset -c "$CLIENT_CPU" dnsperf "${opts[@]}" -l "$DURATION" > "$WORK/dnsperf.txt" 2>&1 || true
  t1=$(ticks "$SRV")
  rss=$(awk '/VmRSS/{printf "%.1f", $2 / 1024}' "/proc/$SRV/status")
  kill "$SRV"
  wait "$SRV" 2> /dev/null || true
  SRV=
  comp=$(awk '/Queries completed:/{print $3}' "$WORK/dnsperf.txt")
  lost=$(awk '/Queries lost:/{print $3}' "$WORK/dnsperf.txt")
  qps=$(awk '/Queries per second:/{print $4}' "$WORK/dnsperf.txt")
  hz=$(getconf CLK_TCK)
  us=$(awk -v a="$t0" -v b="$t1" -v c="$comp" -v hz="$hz" 'BEGIN{printf "%.2f", (b - a) / hz * 1e6 / c}')
  batch=$({ grep '"UDP batches received since start"' "$WORK/server.log" || true; } |
    sed -E 's/.*"batches":([0-9]+).*"datagrams":([0-9]+).*/\2 \1/' |
    awk '{ if ($2 > 0) printf "%.1f", $1 / $2; else print "-" }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$side" "$qps" "$comp" "$lost" "$us" "${batch:--}" "$rss"
}
printf 'run\tengine\tqps\tcompleted\tlost\tcpu_us_per_query\tdatagrams_per_batch\trss_mb\n'
for round in $(seq 1 "$ROUNDS"); do
  for side in dgram batched; do run "$side" "max-$round"; done
done
for side in dgram batched; do run "$side" "rate-$RATE" -Q "$RATE"; done
