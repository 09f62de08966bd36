# Sourced by the A/B scripts (protection-ab.sh, cluster-ab.sh): one measurement of server CPU
# per query. Needs HERE, ROOT, WORK, SERVER_CPU, CLIENT_CPU and DURATION set; sets SRV to
# the server's PID while it runs (for the caller's cleanup).
#   measure_side ROUND SIDE CONFIG [DNSPERF_OPTION...]
# starts the server on CONFIG pinned to SERVER_CPU, warms up for 3 s, runs dnsperf on
# CLIENT_CPU for DURATION s, and prints ROUND SIDE qps completed cpu_us_per_query (tab
# separated) from the server's /proc ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
measure_side() {
  local round=$1 side=$2 config=$3
  shift 3
  taskset -c "$SERVER_CPU" node --import tsx "$ROOT/src/main.ts" serve --config "$config" > "$WORK/server.log" 2>&1 &
  SRV=$!
  for _ in $(seq 1 300); do grep -q 'listening' "$WORK/server.log" && break; sleep 0.1; done
  local port
  port=$(grep -o '"udp":\["127.0.0.1:[0-9]*' "$WORK/server.log" | head -1 | sed 's/.*://')
  local opts=(-s 127.0.0.1 -p "$port" -d "$HERE/queries/www.txt" -c 8 -q 100 "$@")
  taskset -c "$CLIENT_CPU" dnsperf "${opts[@]}" -l 3 > /dev/null 2>&1 || true
  local t0 t1 comp qps us
  t0=$(ticks "$SRV")
  taskset -c "$CLIENT_CPU" dnsperf "${opts[@]}" -l "$DURATION" > "$WORK/dnsperf.txt" 2>&1 || true
  t1=$(ticks "$SRV")
  comp=$(awk '/Queries completed:/{print $3}' "$WORK/dnsperf.txt")
  qps=$(awk '/Queries per second:/{print $4}' "$WORK/dnsperf.txt")
  us=$(awk -v a="$t0" -v b="$t1" -v c="$comp" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b - a) / hz * 1e6 / c}')
  printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$side" "$qps" "$comp" "$us"
  kill "$SRV"
  wait "$SRV" 2> /dev/null || true
  SRV=""
}
