#!/bin/sh
# Stops what start.sh started (by PID) and deletes its namespaces.
set -u
run=${STEERDNS_EXAMPLE_DIR:-/tmp/steerdns-cluster-example}
for name in n1 n2 n3 etcd; do
  [ -f "$run/$name.pid" ] && kill "$(cat "$run/$name.pid")" 2> /dev/null
  rm -f "$run/$name.pid"
done
sleep 1
for ns in sdx-n1 sdx-n2 sdx-n3 sdx-etcd sdx-client sdx-sw; do ip netns del "$ns" 2> /dev/null; done
rm -rf "$run/etcd"
echo stopped
