#!/usr/bin/env bash
# Instructions per query with metrics off and on (issue 12), counted by valgrind (cachegrind,
# no cache simulation): noise-free where timings on a shared machine are not. For each side
# and kind, bench/micro/metrics-instructions.ts runs at LOW and HIGH query counts; the
# difference in instructions over the difference in queries is the cost of one query through
# the responder (no sockets: the kernel's and libuv's part of a query is not in it).
# Usage: LOW=50000 HIGH=250000 bash bench/metrics-instructions.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
LOW=${LOW:-50000}
HIGH=${HIGH:-250000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
instructions() { # side kind count
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
    node --import tsx "$HERE/micro/metrics-instructions.ts" "$1" "$2" "$3" 2> "$WORK/vg.txt" > /dev/null
  grep -o 'I *refs: *[0-9,]*' "$WORK/vg.txt" | tr -d ', ' | sed 's/.*:\(.*\)/\1/;s/Irefs//'
}
printf 'kind\tside\tinstructions_per_query\n'
cd "$ROOT"
for kind in static steered; do
  for side in off on; do
    a=$(instructions "$side" "$kind" "$LOW")
    b=$(instructions "$side" "$kind" "$HIGH")
    awk -v k="$kind" -v s="$side" -v a="$a" -v b="$b" -v l="$LOW" -v h="$HIGH" \
      'BEGIN{printf "%s\t%s\t%.0f\n", k, s, (b - a) / (h - l)}'
  done
done
