#!/bin/sh
# Stops what start.sh started, by PID (each balancer hands over and removes its engines,
# nft table and ip rules on SIGTERM; whatever a killed one left is killed by its pid files),
# then deletes the namespaces.
set -u
run=/tmp/steerdns-lb-example
for name in b1 b2 s1 s2 s3; do
  [ -f "$run/$name.pid" ] && kill "$(cat "$run/$name.pid")" 2> /dev/null
  rm -f "$run/$name.pid"
done
sleep 2
for b in b1 b2; do
  for f in keepalived.pid vrrp.pid checkers.pid conntrackd.pid; do
    pid=$(cat "$run/$b/$f" 2> /dev/null) || continue
    # Only if that PID still runs the engine (a pid file can outlive its process).
    case "$(cat "/proc/$pid/comm" 2> /dev/null)" in keepalived | conntrackd) kill -9 "$pid" ;; esac
  done
done
for ns in sdl-client sdl-router sdl-b1 sdl-b2 sdl-s1 sdl-s2 sdl-s3 sdl-sw; do ip netns del "$ns" 2> /dev/null; done
echo stopped
