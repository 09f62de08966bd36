#!/bin/sh
# The local balancer pair of seed 004 on one machine (root, Linux, keepalived, conntrackd,
# conntrack, nft, python3): namespaces sdl-client, sdl-router, sdl-b1, sdl-b2, sdl-s1..3 and
# a bridge in sdl-sw, documentation addresses only, no route out. Stop it all with stop.sh.
#   sudo examples/local-lb/start.sh
#   sudo ip netns exec sdl-client curl -s http://203.0.113.10/     (s1, s2 or s3)
#   sudo node bin/steerdns.js status --config examples/local-lb/b1.yaml
#   sudo sh -c 'kill -9 $(cat /tmp/steerdns-lb-example/b1.pid /tmp/steerdns-lb-example/b1/*.pid)'
#     (steerdns, keepalived and conntrackd of b1: b2 takes over, the curl loop goes on)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
run=/tmp/steerdns-lb-example
# The command: the installed one (npm run build), or e.g. STEERDNS="node --import tsx $repo/src/main.ts".
steerdns=${STEERDNS:-node $repo/bin/steerdns.js}
mkdir -p "$run"
ip netns add sdl-sw
ip -n sdl-sw link set lo up
ip -n sdl-sw link add br0 type bridge forward_delay 0
ip -n sdl-sw link set br0 up
i=0
for host in router:192.0.2.1 b1:192.0.2.11 b2:192.0.2.12 s1:192.0.2.21 s2:192.0.2.22 s3:192.0.2.23; do
  name=${host%%:*} address=${host#*:} ns=sdl-${host%%:*}
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n sdl-sw link add "p$i" type veth peer name eth0
  ip -n sdl-sw link set eth0 netns "$ns"
  ip -n sdl-sw link set "p$i" master br0 up
  ip -n "$ns" addr add "$address/24" dev eth0
  ip -n "$ns" link set eth0 up
  i=$((i + 1))
done
# The client reaches the router on a link of its own; the router sends the cluster address
# to the floating address (the seed's firewall).
ip netns add sdl-client
ip -n sdl-client link set lo up
ip -n sdl-client link add eth0 type veth peer name eth1 netns sdl-router
ip -n sdl-client addr add 198.51.100.2/24 dev eth0
ip -n sdl-client link set eth0 up
ip -n sdl-client route add default via 198.51.100.1
ip -n sdl-router addr add 198.51.100.1/24 dev eth1
ip -n sdl-router link set eth1 up
ip netns exec sdl-router sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.accept_redirects=0
ip -n sdl-router route add 203.0.113.10/32 via 192.0.2.10
# Each server holds the cluster address on lo, answers no ARP for it, replies to the router.
for s in s1 s2 s3; do
  ip -n "sdl-$s" addr add 203.0.113.10/32 dev lo
  ip -n "sdl-$s" route add default via 192.0.2.1
  ip netns exec "sdl-$s" sysctl -q -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
  mkdir -p "$run/$s"
  echo "$s" > "$run/$s/index.html"
  (cd "$run/$s" && ip netns exec "sdl-$s" python3 -m http.server 80 --bind 0.0.0.0 > "$run/$s.log" 2>&1 &
    echo $! > "$run/$s.pid")
done
for b in b1 b2; do
  (cd "$here" && ip netns exec "sdl-$b" $steerdns lb --config "$b.yaml" > "$run/$b.log" 2>&1 &
    echo $! > "$run/$b.pid")
  sleep 1
done
echo "started; logs and states.log in $run; try: ip netns exec sdl-client curl -s http://203.0.113.10/"
