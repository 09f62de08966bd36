#!/usr/bin/env bash
# A/B (issue 13): server CPU per query with rate limiting and cookies off against on, in one
# sitting, alternating off, on, off, on ... Both sides get the same packets: every query carries
# a client cookie (dnsperf -E 10:HEX); "on" meters every response (nothing exempt, a rate so high
# that nothing is dropped) and answers each cookie with a fresh server cookie (one SipHash).
# Usage: ROUNDS=3 DURATION=15 bash bench/protection-ab.sh      (results on stdout)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
WORK=$(mktemp -d)
trap 'kill "$SRV" 2> /dev/null || true; rm -rf "$WORK"' EXIT
zone() {
  cat << 'Z'
zones:
  - origin: example.test
    file: ZONE
Z
}
for side in off on; do
  {
    echo "listen: ['127.0.0.1:0']"
    echo "workers: 1"
    echo "log: { level: warn }"
    if [ "$side" = off ]; then
      echo "dns: { rateLimit: { enabled: false }, cookies: { enabled: false } }"
    else
      echo "dns: { rateLimit: { responsesPerSecond: 1000000, window: 60, exempt: [] }, cookies: { enabled: true } }"
    fi
    zone | sed "s#ZONE#$HERE/zones/example.test.static.zone#"
  } > "$WORK/$side.yaml"
done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
printf 'round\tside\tqps\tcompleted\tcpu_us_per_query\n'
for round in $(seq 1 "$ROUNDS"); do
  for side in off on; do
    taskset -c "$SERVER_CPU" node --import tsx "$ROOT/src/main.ts" serve --config "$WORK/$side.yaml" > "$WORK/server.log" 2>&1 &
    SRV=$!
    for _ in $(seq 1 300); do grep -q '"listening"\|listening' "$WORK/server.log" && break; sleep 0.1; done
    PORT=$(grep -o '"udp":\["127.0.0.1:[0-9]*' "$WORK/server.log" | head -1 | sed 's/.*://')
    opts=(-s 127.0.0.1 -p "$PORT" -d "$HERE/queries/www.txt" -c 8 -q 100 -E 10:0123456789abcdef)
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
  done
done
