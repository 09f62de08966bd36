#!/bin/sh
# Starts sites A, B and C of examples/sites on loopback (DNS 127.0.0.1:5361-5363, status
# 127.0.0.1:8361-8363); Ctrl-C stops all three. Stop one (kill its PID) to see the others'
# tables drop it at once: curl -s 127.0.0.1:8361/status | jq .sites.tables
cd "$(dirname "$0")/../.." || exit 1
pids=""
for site in a b c; do
  node --import tsx src/main.ts serve --config "examples/sites/$site.yaml" &
  pids="$pids $!"
done
trap 'kill $pids 2>/dev/null' INT TERM EXIT
wait
