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
SRV=""
trap '[ -n "$SRV" ] && kill "$SRV" 2> /dev/null; rm -rf "$WORK"' EXIT
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
# shellcheck source=bench/cpu-per-query.sh
. "$HERE/cpu-per-query.sh"
printf 'round\tside\tqps\tcompleted\tcpu_us_per_query\n'
for round in $(seq 1 "$ROUNDS"); do
  for side in off on; do
    measure_side "$round" "$side" "$WORK/$side.yaml" -E 10:0123456789abcdef
  done
done
