#!/bin/sh
# Seed 002's chain on loopback, with two ISPs (two unbound resolvers) and two DNS-LBs:
#   client -> unbound isp1 (127.0.53.101) -> DNS-A (127.0.53.1:5300) -> DNS-B (127.0.53.5)
#          -> DNS-LB lb1 (127.0.53.21) -> the site lb1 measured fastest
# Needs root (the DNS-B and DNS-LBs answer on port 53, as referrals carry no port) and
# unbound. Two origins stand in for the sites' web servers: 127.0.53.201:8080 answers at
# once, 127.0.53.202:8080 after 150 ms; lb1 reaches site a through the first, lb2 through
# the second, so ISP 1 gets 192.0.2.1 and ISP 2 gets 192.0.2.2.
#   ./run.sh          runs until Ctrl-C (try the dig lines it prints)
#   ./run.sh --once   prints both ISPs' answers and stops
set -eu
cd "$(dirname "$0")"
here=$(pwd)
repo=$(cd ../.. && pwd)
once=false
[ "${1:-}" = "--once" ] && once=true
if [ "$(id -u)" != 0 ]; then
  echo "run.sh: needs root (port 53 on 127.0.53.x)" >&2
  exit 1
fi
command -v unbound >/dev/null || { echo "run.sh: unbound is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
pids=""
stop() {
  for pid in $pids; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp" "$here/dnsb.state" "$here/dnsb.state.tmp"
}
trap stop EXIT
trap 'exit 130' INT TERM

# Loopback addresses other than 127.0.0.1 need no setup on Linux (all of 127/8 is local).
origin() { # ADDRESS DELAY_MS
  node -e "require('http').createServer((q, r) => setTimeout(() => r.end('x'.repeat(8192)), $2)).listen(8080, '$1')" &
  pids="$pids $!"
}
origin 127.0.53.201 0
origin 127.0.53.202 150

serve() { # NAME
  node --import tsx "$repo/src/main.ts" serve --config "$here/$1.yaml" >"$tmp/$1.log" 2>&1 &
  pids="$pids $!"
}
waitfor() { # WHAT COMMAND...
  what=$1
  shift
  i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || { echo "run.sh: $what not ready after 30 s; logs in $tmp" >&2; trap - EXIT; exit 1; }
    sleep 0.3
  done
}
serve dnsb
waitfor "the DNS-B" dig @127.0.53.5 +time=1 +tries=1 www.example.com SOA
serve dnsa
serve lb1
serve lb2
for lb in 1 2; do
  waitfor "lb$lb" sh -c "dig @127.0.53.2$lb +short +time=1 +tries=1 lb$lb.www.example.com A | grep -q ."
done
waitfor "the DNS-A" dig @127.0.53.1 -p 5300 +time=1 +tries=1 example.com SOA

resolver() { # N
  cat >"$tmp/isp$1.conf" <<CONF
server:
  interface: 127.0.53.10$1
  outgoing-interface: 127.0.53.1$1
  port: 53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$tmp"
  pidfile: "$tmp/isp$1.pid"
  use-syslog: no
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: no
  module-config: "iterator"
  qname-minimisation: no
  do-ip6: no
remote-control:
  control-enable: no
stub-zone:
  name: "example.com"
  stub-addr: 127.0.53.1@5300
CONF
  unbound -d -c "$tmp/isp$1.conf" 2>"$tmp/isp$1.log" &
  pids="$pids $!"
}
resolver 1
resolver 2
for n in 1 2; do waitfor "unbound isp$n" dig @127.0.53.10$n +time=1 +tries=1 example.com SOA; done

# The DNS-LBs measure each site every 3 s: wait until both have measured both.
sleep 8
for n in 1 2; do
  echo "ISP $n (unbound 127.0.53.10$n):"
  dig @127.0.53.10$n +noall +answer www.example.com A | sed 's/^/  /'
done
$once && exit 0
cat <<TEXT

Running; Ctrl-C stops everything. Try:
  dig @127.0.53.101 www.example.com A        # ISP 1: CNAME lb1..., A 192.0.2.1
  dig @127.0.53.102 www.example.com A        # ISP 2: CNAME lb2..., A 192.0.2.2
  dig @127.0.53.5 -b 127.0.53.11 www.example.com A   # the DNS-B's referral for ISP 1
  curl -s 127.0.53.21:8301/status            # lb1: the measured averageMs of each site
  curl -s 127.0.53.5:8305/status             # the DNS-B: map messages accepted, dropped
Logs: $tmp
TEXT
wait
