#!/bin/sh
# The three-node example on one machine (root, Linux): network namespaces sdx-etcd, sdx-n1..3
# and sdx-client on a bridge, documentation addresses only, no route out. One etcd member in
# sdx-etcd, one steerdns node in each sdx-nN. Stop it all with stop.sh.
#   sudo examples/cluster/start.sh
#   sudo ip netns exec sdx-client dig @192.0.2.53 www.example.org
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
run=${STEERDNS_EXAMPLE_DIR:-/tmp/steerdns-cluster-example}
mkdir -p "$run"
ip netns add sdx-sw
ip -n sdx-sw link set lo up
ip -n sdx-sw link add br0 type bridge forward_delay 0
ip -n sdx-sw link set br0 up
i=0
for host in etcd:192.0.2.2 n1:192.0.2.11 n2:192.0.2.12 n3:192.0.2.13 client:192.0.2.100; do
  name=${host%%:*} address=${host#*:} ns=sdx-${host%%:*}
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n sdx-sw link add "p$i" type veth peer name eth0
  ip -n sdx-sw link set eth0 netns "$ns"
  ip -n sdx-sw link set "p$i" master br0 up
  ip -n "$ns" addr add "$address/24" dev eth0
  ip -n "$ns" link set eth0 up
  i=$((i + 1))
  [ "$name" = "${name#n}" ] || ip netns exec "$ns" sysctl -q -w net.ipv4.ip_nonlocal_bind=1
done
ip netns exec sdx-etcd etcd --name a --data-dir "$run/etcd" \
  --listen-client-urls http://192.0.2.2:2379 --advertise-client-urls http://192.0.2.2:2379 \
  --listen-peer-urls http://192.0.2.2:2380 --initial-advertise-peer-urls http://192.0.2.2:2380 \
  --initial-cluster a=http://192.0.2.2:2380 > "$run/etcd.log" 2>&1 &
echo $! > "$run/etcd.pid"
sleep 2
for n in n1 n2 n3; do
  (cd "$here" && STEERDNS_HOOK_LOG="$run/hooks.log" ip netns exec "sdx-$n" \
    node "$repo/bin/steerdns.js" serve --config "$n.yaml" > "$run/$n.log" 2>&1 &
    echo $! > "$run/$n.pid")
done
echo "started; logs in $run; try: ip netns exec sdx-client dig @192.0.2.53 www.example.org"
