#!/usr/bin/env bash
# steerdns benchmark: steerdns side by side with Knot, gdnsd, PowerDNS and a raw-Node
# baseline, on loopback only (127.0.0.1). `npm run bench` runs this script.
#
# Adapted from the team's shared harness (Knot/gdnsd/PowerDNS/Node baselines with dnsperf);
# everything it needs is under bench/. Installs nothing: run `bash bench/install.sh` once
# (as root, Debian). Each server is started by hand in the background, loaded with dnsperf
# and stopped by its PID; nothing else is touched.
#
# Usage:  bash bench/run.sh [VARIANT ...]        (default: $DEFAULT_VARIANTS below)
#         npm run bench -- knot steerdns-static
#
# Three measurements, in one run:
#  1. throughput (pinned: server and all its threads on CPU $SERVER_CPU, dnsperf on CPU
#     $CLIENT_CPU, 1 worker each): dnsperf closed loop, $REPS x $DURATION s per query set,
#     after $WARMUP s of unrecorded load. Records QPS, average latency, and server CPU time
#     (utime+stime from /proc, all threads) per query answered.
#  2. latency at a fixed offered rate ($LAT_QPS qps, www): bench/latency-probe.mjs pinned on
#     the client CPU, $LAT_REPS x $LAT_DURATION s -> p50/p90/p99/p99.9/max and loss. Then
#     one `dnsperf -Q $LAT_QPS -v` run whose per-query lines give the same percentiles as a
#     cross-check from a C client.
#  3. scale (steerdns, and the servers in $SCALE_SERVERS for reference): RSS with a
#     $SCALE_RECORDS-record zone after loading, after $SCALE_DURATION s of dnsperf over
#     random existing names, and after $SCALE_IDLE s idle; time from process start to the
#     first SOA answer for a $LOAD_RECORDS-record zone ($LOAD_REPS times).
#
# Knobs (environment):
#   DURATION=15 REPS=3 WARMUP=3     closed-loop runs per (variant, query set)
#   MODES=pinned                    add "unpinned" for runs with nothing pinned, 2 workers each
#   UNPINNED_REPS=1
#   QSETS="www mix"                 query files bench/queries/<name>.txt
#   DNSPERF_OPTS="-c 8 -q 100"      (closed loop: at most 100 queries outstanding)
#   LAT_QPS=4000 LAT_DURATION=10 LAT_REPS=3 LAT_DNSPERF=1   (LAT_QPS=0 skips the latency part)
#   SCALE=1 SCALE_RECORDS=100000 SCALE_DURATION=10 SCALE_IDLE=10 LOAD_RECORDS=1000000 LOAD_REPS=3
#   LOAD_TIMEOUT=120 SCALE_SERVERS="steerdns knot"           (SCALE=0 skips the scale part)
#   RUN_DIR=/tmp/steerdns-bench     rendered configs, server logs, generated zones
#   OUT=bench/results/<UTC stamp>   results: tables, TSVs, raw tool output (small files)
#   SERVER_CPU=1 CLIENT_CPU=0
#   BUILD_TRIES=3                   `npm run build` attempts (60 s apart) when dist/ is stale
#   STEERDNS_NODE_FLAGS             node options for steerdns (default: those of bin/steerdns.js's
#                                   shebang, --max-semi-space-size=4; "" for none)
#   QUIET_PCT=10 QUIET_WAIT=300     before each measured run, wait (at most QUIET_WAIT s) until
#   QUIET_BUDGET=2400               the two cores together are less than QUIET_PCT % busy; at
#                                   most QUIET_BUDGET s of such waiting in the whole run
#   NOISY_PCT=15 NOISY_RETRIES=2    a run during which more than NOISY_PCT % of a core went to
#                                   neither the server nor the client is recorded in
#                                   discarded.tsv and repeated (at most NOISY_RETRIES times)
# Other people's builds and tests on the same machine disturb the numbers; the two guards
# above keep most of that out, and every row records the share it could not attribute.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
RUN_DIR=${RUN_DIR:-/tmp/steerdns-bench}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$HERE/results/$STAMP}
DURATION=${DURATION:-15}
REPS=${REPS:-3}
UNPINNED_REPS=${UNPINNED_REPS:-1}
WARMUP=${WARMUP:-3}
MODES=${MODES:-pinned}
QSETS=${QSETS:-"www mix"}
DNSPERF_OPTS=${DNSPERF_OPTS:-"-c 8 -q 100"}
LAT_QPS=${LAT_QPS:-4000}
LAT_DURATION=${LAT_DURATION:-10}
LAT_REPS=${LAT_REPS:-3}
LAT_DNSPERF=${LAT_DNSPERF:-1}
SCALE=${SCALE:-1}
SCALE_RECORDS=${SCALE_RECORDS:-100000}
SCALE_DURATION=${SCALE_DURATION:-10}
SCALE_IDLE=${SCALE_IDLE:-10}
LOAD_RECORDS=${LOAD_RECORDS:-1000000}
LOAD_REPS=${LOAD_REPS:-3}
LOAD_TIMEOUT=${LOAD_TIMEOUT:-120}
SCALE_SERVERS=${SCALE_SERVERS:-"steerdns knot"}
SERVER_CPU=${SERVER_CPU:-1}
CLIENT_CPU=${CLIENT_CPU:-0}
HC_PORT=${HC_PORT:-18080}
SCALE_PORT=5312
QUIET_PCT=${QUIET_PCT:-10}
QUIET_WAIT=${QUIET_WAIT:-300}
QUIET_BUDGET=${QUIET_BUDGET:-2400}
NOISY_PCT=${NOISY_PCT:-15}
NOISY_RETRIES=${NOISY_RETRIES:-2}
BUILD_TRIES=${BUILD_TRIES:-3}
export DNSBENCH_NPM_DIR=${DNSBENCH_NPM_DIR:-/tmp/dnsbench-npm}

# The comparison run by default: the static servers, then the GSLB ones (gdnsd weighted,
# PowerDNS LUA pickwrandom with a shared Lua state, steerdns steering www). The others stay
# runnable by name.
DEFAULT_VARIANTS="knot gdnsd-static pdns-static node-raw steerdns-static gdnsd-weighted pdns-wrandom-shared steerdns-gslb"
ALL_VARIANTS="knot gdnsd-static gdnsd-weighted gdnsd-multifo pdns-static pdns-wrandom pdns-wrandom-shared pdns-ifportup pdns-ifportup-shared node-raw node-dnspacket node-dns2 node-raw-cluster2 steerdns-static steerdns-gslb"
VARIANTS=${*:-$DEFAULT_VARIANTS}

CLK_TCK=$(getconf CLK_TCK)

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

for v in $VARIANTS; do
  case " $ALL_VARIANTS " in *" $v "*) ;; *) die "unknown variant '$v' (known: $ALL_VARIANTS)" ;; esac
done
if [[ " $VARIANTS " == *" steerdns-gslb "* ]] && [ ! -f "$HERE/steerdns/gslb.yaml.in" ]; then
  die "steerdns-gslb is not available yet: bench/steerdns/gslb.yaml.in does not exist (see the steerdns-gslb case in run.sh)"
fi
for bin in dnsperf dig taskset knotd gdnsd pdns_server pdns_control node ss timeout; do
  command -v "$bin" > /dev/null || die "$bin not found: run bench/install.sh first"
done
[ "$(nproc)" -gt "$SERVER_CPU" ] && [ "$(nproc)" -gt "$CLIENT_CPU" ] || die "need CPUs $CLIENT_CPU and $SERVER_CPU"

mkdir -p "$OUT" "$RUN_DIR"
TSV=$OUT/results.tsv
LAT_TSV=$OUT/latency.tsv
SCALE_TSV=$OUT/scale.tsv
NOTES=$OUT/notes.txt
ANSWERS=$OUT/answers.txt
printf 'variant\tmode\tqset\trep\tqps\tavg_lat_s\tlat_sd_s\tsent\tcompleted\tlost\tsrv_cpu_pct\tsrv_cpu_us_per_q\tclient_cpu_pct\tcpu0_busy\tcpu1_busy\tother_pct\trss_kb\thwm_kb\toffered_qps\n' > "$TSV"
printf 'variant\tmode\ttool\trep\toffered_qps\tachieved_qps\tsent\treceived\tlost\tp50_ms\tp90_ms\tp99_ms\tp999_ms\tmax_ms\tavg_ms\tsrv_cpu_pct\tsend_lag_max_ms\tlate_sends\tother_pct\n' > "$LAT_TSV"
printf 'server\trecords\tphase\trep\tload_s\tload_cpu_s\trss_kb\thwm_kb\tqps\tsrv_cpu_us_per_q\tlost\n' > "$SCALE_TSV"
: > "$NOTES"
: > "$ANSWERS"

# ---------------------------------------------------------------- process helpers
SNAPSHOT="" # the copy of dist/ that is measured
SRV_PID=""  # the server under test (only one runs at a time)
HC_PID=""  # the health-check target (gdnsd-multifo, pdns-ifportup*, steerdns-gslb)

tree_pids() {
  echo "$1"
  pgrep -P "$1" 2> /dev/null || true
}

stop_pid() { # stop one process we started, by PID; TERM, then KILL after 10 s
  local pid=$1 i kids
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2> /dev/null || {
    wait "$pid" 2> /dev/null || true
    return 0
  }
  kids=$(pgrep -P "$pid" 2> /dev/null || true)
  kill -TERM "$pid" 2> /dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2> /dev/null; then
    log "PID $pid ignored SIGTERM, sending SIGKILL"
    kill -KILL "$pid" 2> /dev/null || true
  fi
  for k in $kids; do kill -0 "$k" 2> /dev/null && kill -KILL "$k" 2> /dev/null || true; done
  wait "$pid" 2> /dev/null || true
}

cleanup() { # only the PIDs we currently own; stopped ones are cleared so a reused PID is never hit
  stop_pid "$SRV_PID"
  SRV_PID=""
  stop_pid "$HC_PID"
  HC_PID=""
  [ -n "$SNAPSHOT" ] && rm -rf "$SNAPSHOT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

proc_ticks() { # utime+stime (clock ticks) summed over the given PIDs, all threads
  local total=0 p s f
  for p in "$@"; do
    s=$(cat "/proc/$p/stat" 2> /dev/null) || continue
    s=${s##*) }
    read -r -a f <<< "$s"
    total=$((total + f[11] + f[12]))
  done
  echo "$total"
}

mem_kb() { # $1 = VmRSS|VmHWM, summed over the given PIDs
  local key=$1 total=0 p v
  shift
  for p in "$@"; do
    v=$(awk -v k="$key:" '$1==k {print $2}' "/proc/$p/status" 2> /dev/null || true)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

children_cpu() { # sets CHILD_CPU to "USER SYS" (e.g. 0m1.2s 0m0.3s) of our waited-for children
  # (bash `times`, 2nd line; it must run in this shell: in a $( ) subshell it reports zero)
  local _ignored
  times > "$RUN_DIR/.times"
  {
    read -r _ignored
    read -r CHILD_CPU
  } < "$RUN_DIR/.times"
}

cpu_snapshot() { awk '/^cpu[0-9]+ /{b=$2+$3+$4+$7+$8+$9; t=b+$5+$6; printf "%s %d %d ", $1, b, t}' /proc/stat; }
cpu_busy() { # $1 before, $2 after, $3 cpu name -> busy %
  awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN{
    n=split(a,x," "); for(i=1;i<=n;i+=3) if(x[i]==c){b0=x[i+1]; t0=x[i+2]}
    n=split(b,y," "); for(i=1;i<=n;i+=3) if(y[i]==c){b1=y[i+1]; t1=y[i+2]}
    if (t1>t0) printf "%.0f", 100*(b1-b0)/(t1-t0); else printf "NA" }'
}

other_pct() { # $1 cpu snapshot before, $2 after, $3 server %, $4 client %: busy % of both cores not theirs
  awk -v a="$(cpu_busy "$1" "$2" cpu0)" -v b="$(cpu_busy "$1" "$2" cpu1)" -v s="$3" -v c="$4" 'BEGIN{printf "%.0f", a + b - s - c}'
}

QUIET_SPENT=0 # seconds spent in wait_quiet so far
wait_quiet() { # until both cores together are < QUIET_PCT % busy over 1 s (our server idle); bounded
  local start=$SECONDS c0 c1 busy warned=0
  [ "$QUIET_SPENT" -lt "$QUIET_BUDGET" ] || return 0
  while :; do
    c0=$(cpu_snapshot)
    sleep 1
    c1=$(cpu_snapshot)
    busy=$(awk -v a="$(cpu_busy "$c0" "$c1" cpu0)" -v b="$(cpu_busy "$c0" "$c1" cpu1)" 'BEGIN{printf "%.0f", a + b}')
    [ "$busy" -lt "$QUIET_PCT" ] && break
    if [ $((SECONDS - start)) -ge "$QUIET_WAIT" ] || [ $((QUIET_SPENT + SECONDS - start)) -ge "$QUIET_BUDGET" ]; then
      log "machine still busy (${busy}% of a core) after waiting $((SECONDS - start)) s: measuring anyway"
      echo "$(date -u +%H:%M:%S) gave up waiting for a quiet machine after $((SECONDS - start)) s (${busy}% busy; total waited $((QUIET_SPENT + SECONDS - start)) s of QUIET_BUDGET=$QUIET_BUDGET): $(ps -eo pcpu,comm --sort=-pcpu | sed -n 2,4p | tr -s ' \n' ' ')" >> "$NOTES"
      break
    fi
    if [ $warned = 0 ]; then
      log "waiting for the machine to be quiet (now ${busy}% of a core busy: $(ps -eo pcpu,comm --sort=-pcpu | sed -n 2,3p | tr -s ' \n' ' '))"
      warned=1
    fi
  done
  QUIET_SPENT=$((QUIET_SPENT + SECONDS - start))
}

port_in_use() { [ -n "$(ss -Hulpn "sport = :$1" 2> /dev/null)" ]; }

wait_ready() { # $1 port, $2 pid, [$3 timeout s]: until the server answers the SOA
  local port=$1 pid=$2 tries=$((${3:-15} * 10)) i
  for i in $(seq 1 "$tries"); do
    kill -0 "$pid" 2> /dev/null || return 1
    # (dig +short prints ";; communications error ..." on stdout, so match the SOA itself)
    if dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 example.test SOA 2> /dev/null | grep -q '^ns1\.example\.test\. '; then return 0; fi
    sleep 0.1
  done
  return 1
}

json_fields() { # $1 JSON file, then keys: prints the values tab-separated (NA if missing)
  node -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(process.argv.slice(2).map((k) => (o[k] ?? "NA")).join("\t"));' "$@"
}

# ---------------------------------------------------------------- steerdns build
STEERDNS_MAIN=""
# Node options the installed command uses: the shebang of bin/steerdns.js
# (`#!/usr/bin/env -S node --max-semi-space-size=4 --expose-gc`), so that what is measured is what
# `steerdns serve` runs. STEERDNS_NODE_FLAGS (space-separated) overrides it; "" runs plain node.
if [ -n "${STEERDNS_NODE_FLAGS+set}" ]; then
  read -r -a STEERDNS_NODE_FLAGS <<< "$STEERDNS_NODE_FLAGS"
else
  read -r -a STEERDNS_NODE_FLAGS <<< "$(sed -n '1s/^#!.*env -S node *//p' "$ROOT/bin/steerdns.js")"
fi
needs_steerdns() {
  [[ " $VARIANTS " == *" steerdns-"* ]] && return 0
  [ "$SCALE" = 1 ] && [[ " $SCALE_SERVERS " == *" steerdns "* ]]
}

build_steerdns() {
  # build if dist is missing or older than any file under src/ (or the build config)
  local stale=0
  if [ ! -f "$ROOT/dist/steerdns.mjs" ]; then
    stale=1
  elif [ -n "$(find "$ROOT/src" "$ROOT/tsconfig.json" "$ROOT/scripts/bundle.mjs" "$ROOT/package.json" -newer "$ROOT/dist/steerdns.mjs" -print -quit)" ]; then
    stale=1
  fi
  if [ $stale = 1 ]; then
    local try
    for try in $(seq 1 "$BUILD_TRIES"); do
      log "building steerdns (npm run build), try $try of $BUILD_TRIES"
      (cd "$ROOT" && npm run build) > "$OUT/build.log" 2>&1 && break
      grep -E 'error TS' "$OUT/build.log" | head -5 >&2
      [ "$try" -lt "$BUILD_TRIES" ] || die "npm run build failed (log: $OUT/build.log)"
      log "build failed (src/ may be mid-edit): trying again in 60 s"
      sleep 60
    done
  else
    log "dist/ is up to date with src/, not rebuilding"
  fi
  # Other people edit src/ and may rebuild dist/ while this runs: measure a snapshot. It
  # stays inside the repository (bench/results/ is gitignored) so that node_modules and
  # package.json ("type": "module") resolve as for dist/; it is removed at exit.
  SNAPSHOT=$HERE/results/.steerdns-dist-$STAMP-$$
  mkdir -p "$HERE/results"
  rm -rf "$SNAPSHOT"
  cp -r "$ROOT/dist" "$SNAPSHOT"
  STEERDNS_MAIN=$SNAPSHOT/steerdns.mjs
  {
    echo "steerdns: $(node "$STEERDNS_MAIN" version 2> /dev/null || echo '?')"
    echo "steerdns git: $(git -C "$ROOT" rev-parse --short HEAD 2> /dev/null || echo '?'), $(git --no-optional-locks -C "$ROOT" status --porcelain -- src 2> /dev/null | wc -l) changed/untracked paths under src/ at build time"
    echo "steerdns src sha256 (all src/**/*.ts): $(cd "$ROOT" && find src -type f -name '*.ts' | sort | xargs sha256sum | sha256sum | cut -c1-16)"
    echo "steerdns node flags: ${STEERDNS_NODE_FLAGS[*]:-(none)}"
    echo "steerdns dist/steerdns.mjs mtime: $(date -u -r "$ROOT/dist/steerdns.mjs" '+%Y-%m-%d %H:%M:%S')"
  } >> "$OUT/env.txt"
}

# ---------------------------------------------------------------- variants
render() { # $1 template, $2 output; substitutes @VARS@
  sed -e "s#@PORT@#$PORT#g; s#@RUNDIR@#$VDIR#g; s#@THREADS@#$THREADS#g; s#@DTHREADS@#1#g; s#@HCPORT@#$HC_PORT#g; s#@CACHETTL@#20#g" "$1" > "$2"
}

prepare_variant() { # $1 variant, $2 mode -> PORT, CMD (array), SETTLE (s to wait after ready)
  local v=$1 mode=$2
  THREADS=1
  [ "$mode" = unpinned ] && THREADS=2
  VDIR=$RUN_DIR/srv/$v-$mode
  rm -rf "$VDIR"
  mkdir -p "$VDIR"
  SETTLE=0
  case "$v" in
    knot)
      PORT=5301
      cp "$HERE/zones/example.test.static.zone" "$VDIR/example.test.zone"
      render "$HERE/knot/knot.conf.in" "$VDIR/knot.conf"
      CMD=(knotd -c "$VDIR/knot.conf")
      ;;
    gdnsd-*)
      PORT=5302
      local kind=${v#gdnsd-}
      mkdir -p "$VDIR/zones"
      render "$HERE/gdnsd/config.$kind.in" "$VDIR/config"
      if [ "$kind" = static ]; then
        cp "$HERE/zones/example.test.static.zone" "$VDIR/zones/example.test"
      else render "$HERE/gdnsd/example.test.$kind.zone" "$VDIR/zones/example.test"; fi
      CMD=(gdnsd -c "$VDIR" start)
      ;;
    pdns-*)
      PORT=5303
      local kind=${v#pdns-} lua=yes
      case "$kind" in *-shared)
        lua=shared
        kind=${kind%-shared}
        ;;
      esac
      render "$HERE/pdns/pdns.conf.in" "$VDIR/pdns.conf"
      sed -i "s/^enable-lua-records=.*/enable-lua-records=$lua/" "$VDIR/pdns.conf"
      render "$HERE/pdns/named.conf.in" "$VDIR/named.conf"
      if [ "$kind" = static ]; then
        cp "$HERE/zones/example.test.static.zone" "$VDIR/example.test.zone"
      else render "$HERE/pdns/example.test.$kind.zone" "$VDIR/example.test.zone"; fi
      [ "$kind" = ifportup ] && SETTLE=7 # let the first health-check round (interval 5 s) complete
      CMD=(pdns_server --config-dir="$VDIR")
      ;;
    node-raw) PORT=5304; CMD=(node "$HERE/node/raw.mjs") ;;
    node-dnspacket) PORT=5305; CMD=(node "$HERE/node/dnspacket.mjs") ;;
    node-dns2) PORT=5306; CMD=(node "$HERE/node/dns2.mjs") ;;
    node-raw-cluster2) PORT=5307; CMD=(env WORKERS=2 node "$HERE/node/cluster.mjs" raw.mjs) ;;
    steerdns-static)
      # the same static zone file as Knot, gdnsd-static and pdns-static
      PORT=5310
      cp "$HERE/zones/example.test.static.zone" "$VDIR/example.test.zone"
      CMD=(node "${STEERDNS_NODE_FLAGS[@]}" "$STEERDNS_MAIN" serve --zone "example.test=$VDIR/example.test.zone"
        --listen "127.0.0.1:$PORT" --workers "$THREADS" --log-level warn)
      ;;
    steerdns-gslb)
      # www.example.test is a steered name (bench/steerdns/gslb.yaml.in, the same service
      # as bench/micro/gslb-config.ts): a weighted pool of 8, up + admin + weighted +
      # persistence, every member TCP-checked each second against hc-target.mjs
      # (127.0.0.11-13:@HCPORT@, all up). The zone is inline in the config. Log level info:
      # nothing is logged per query, but every health transition is (see health_note).
      PORT=5311
      render "$HERE/steerdns/gslb.yaml.in" "$VDIR/steerdns.yaml"
      CMD=(node "${STEERDNS_NODE_FLAGS[@]}" "$STEERDNS_MAIN" serve --config "$VDIR/steerdns.yaml"
        --listen "127.0.0.1:$PORT" --workers "$THREADS" --log-level info)
      ;;
    *) die "unknown variant $v" ;;
  esac
}

needs_hc() { case "$1" in gdnsd-multifo | pdns-ifportup* | steerdns-gslb) return 0 ;; *) return 1 ;; esac }

tcp_listeners() { ss -Htln "sport = :$1" 2> /dev/null | wc -l; } # TCP listening sockets on port $1

start_hc_target() {
  local i
  [ -n "$HC_PID" ] && return 0
  [ "$(tcp_listeners "$HC_PORT")" -eq 0 ] || die "TCP port $HC_PORT already in use"
  HC_PORT=$HC_PORT taskset -c "$CLIENT_CPU" node "$HERE/node/hc-target.mjs" > "$RUN_DIR/hc-target.log" 2>&1 &
  HC_PID=$!
  # wait until all three addresses listen: a server started earlier would see its members
  # down (refused) and, with rise 2, answer without them for its first few seconds
  for i in $(seq 1 100); do
    kill -0 "$HC_PID" 2> /dev/null || die "hc-target failed: $(cat "$RUN_DIR/hc-target.log")"
    [ "$(tcp_listeners "$HC_PORT")" -ge 3 ] && break
    sleep 0.1
  done
  [ "$(tcp_listeners "$HC_PORT")" -ge 3 ] || die "hc-target is not listening on 127.0.0.11-13:$HC_PORT after 10 s"
  log "health-check target up (pid $HC_PID) on 127.0.0.11-13:$HC_PORT; 127.0.0.14 is down"
}

check_owner() { # the UDP listener on $1 must belong to our server $SRV_PID (or a child)
  local owners p ok=0
  owners=$(ss -Hulpn "sport = :$1")
  for p in $(tree_pids "$SRV_PID"); do case "$owners" in *"pid=$p,"*) ok=1 ;; esac done
  [ $ok = 1 ] || die "port $1 is not served by our server (pid $SRV_PID): $owners"
}

pin_all() { # re-pin every thread of every process: Knot pins its UDP workers itself
  local p
  for p in $(tree_pids "$SRV_PID"); do taskset -apc "$SERVER_CPU" "$p" > /dev/null; done
}

start_server() { # $1 variant, $2 mode
  local v=$1 mode=$2
  prepare_variant "$v" "$mode"
  port_in_use "$PORT" && die "port $PORT already in use before starting $v"
  if [ "$mode" = pinned ]; then
    PORT=$PORT taskset -c "$SERVER_CPU" "${CMD[@]}" > "$VDIR/server.log" 2>&1 &
  else
    PORT=$PORT "${CMD[@]}" > "$VDIR/server.log" 2>&1 &
  fi
  SRV_PID=$!
  if ! wait_ready "$PORT" "$SRV_PID"; then
    tail -20 "$VDIR/server.log" >&2
    die "$v did not come up on 127.0.0.1:$PORT"
  fi
  check_owner "$PORT"
  [ "$mode" = pinned ] && pin_all
  if [ "$SETTLE" -gt 0 ]; then
    dig +short -p "$PORT" @127.0.0.1 www.example.test A > /dev/null || true
    sleep "$SETTLE"
  fi
  log "started $v ($mode) pid $SRV_PID on 127.0.0.1:$PORT, rss $(mem_kb VmRSS $(tree_pids "$SRV_PID")) kB"
}

record_answers() { # what the server answers: the shapes the benchmark relies on, and www x40
  local v=$1 mode=$2 q i
  {
    echo "== $v ($mode)"
    for q in "www.example.test A" "example.test SOA" "nx-does-not-exist.example.test A" "www.example.test AAAA" "www.example.org A"; do
      # shellcheck disable=SC2086
      printf '%-36s %s\n' "$q" "$(dig +norec +noedns -p "$PORT" @127.0.0.1 $q | awk '
        /->>HEADER<<-/ { sub(/,$/, "", $6); st=$6 }
        /^;; flags:/ {
          if (match($0, /ANSWER: [0-9]+, AUTHORITY: [0-9]+/)) c=substr($0, RSTART, RLENGTH)
          sub(/^;; flags: /, ""); sub(/;.*/, ""); fl=$0
        }
        /MSG SIZE/ { sz=$NF }
        END { printf "%s flags=[%s] %s size=%s", st, fl, c, sz }')"
    done
    echo "www.example.test A, 40 queries (distinct answers):"
    for i in $(seq 1 40); do
      dig +short +norec -p "$PORT" @127.0.0.1 www.example.test A | tr '\n' ' '
      echo
    done | sort | uniq -c | sort -rn | head -8
  } >> "$ANSWERS"
}

affinity_note() {
  local v=$1 mode=$2 p t aff
  for p in $(tree_pids "$SRV_PID"); do
    aff=""
    for t in /proc/"$p"/task/*; do aff+="$(tr ' ' '_' < "$t/comm" 2> /dev/null):$(taskset -pc "${t##*/}" 2> /dev/null | awk -F': ' '{print $2}') "; done
    echo "$v $mode pid $p threads(name:cpus)= ${aff% }" >> "$NOTES"
  done
}

run_dnsperf() { # $1 variant $2 mode $3 qset(file) $4 rep-label $5 duration $6 offered qps (0 = closed loop) [$7 tsv] [$8 extra dnsperf args]
  local v=$1 mode=$2 qfile=$3 rep=$4 dur=$5 qps_limit=$6 tsv=${7:-$TSV} more=${8:-}
  local qset
  qset=$(basename "$qfile" .txt)
  local f="$OUT/raw/dnsperf-$v-$mode-$qset-$rep.txt"
  local pids
  pids=$(tree_pids "$SRV_PID")
  local t0 t1 c0 c1 k0 k1 wall0 wall1 extra=() pre=()
  [ "$qps_limit" -gt 0 ] && extra=(-Q "$qps_limit")
  [ "$mode" = pinned ] && pre=(taskset -c "$CLIENT_CPU")
  # shellcheck disable=SC2206
  [ -n "$more" ] && extra+=($more)
  c0=$(cpu_snapshot)
  t0=$(proc_ticks $pids)
  children_cpu
  k0=$CHILD_CPU
  wall0=$EPOCHREALTIME
  # shellcheck disable=SC2086
  timeout $((dur + 30)) "${pre[@]}" dnsperf -s 127.0.0.1 -p "$PORT" -d "$qfile" -l "$dur" $DNSPERF_OPTS "${extra[@]}" > "$f" 2>&1 || true
  wall1=$EPOCHREALTIME
  children_cpu
  k1=$CHILD_CPU
  t1=$(proc_ticks $pids)
  c1=$(cpu_snapshot)
  local qps lat sd sent comp lost srvcpu cpu_us clicpu
  qps=$(awk '/Queries per second:/{print $4}' "$f")
  lat=$(awk '/Average Latency \(s\):/{print $4}' "$f")
  sd=$(awk '/Latency StdDev \(s\):/{print $4}' "$f")
  sent=$(awk '/Queries sent:/{print $3}' "$f")
  comp=$(awk '/Queries completed:/{print $3}' "$f")
  lost=$(awk '/Queries lost:/{print $3}' "$f")
  srvcpu=$(awk -v a="$t0" -v b="$t1" -v w0="$wall0" -v w1="$wall1" -v hz="$CLK_TCK" 'BEGIN{printf "%.0f", 100*(b-a)/hz/(w1-w0)}')
  clicpu=$(awk -v a="$k0" -v b="$k1" -v w0="$wall0" -v w1="$wall1" '
    function sec(t,  n, i, x, s) { n = split(t, x, " "); s = 0; for (i = 1; i <= n; i++) { split(x[i], m, "m"); sub("s", "", m[2]); s += m[1] * 60 + m[2] } return s }
    BEGIN { printf "%.0f", 100 * (sec(b) - sec(a)) / (w1 - w0) }')
  cpu_us=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" -v n="${comp:-0}" 'BEGIN{ if (n>0) printf "%.2f", (b-a)*1e6/hz/n; else printf "NA" }')
  [ -n "$qps" ] || {
    log "dnsperf produced no result for $v $mode $qset $rep:"
    tail -5 "$f" >&2
    qps=NA
  }
  LAST_OTHER=$(other_pct "$c0" "$c1" "$srvcpu" "$clicpu")
  LAST_ROW=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' \
    "$v" "$mode" "$qset" "$rep" "$qps" "${lat:-NA}" "${sd:-NA}" "${sent:-NA}" "${comp:-NA}" "${lost:-NA}" \
    "$srvcpu" "$cpu_us" "$clicpu" "$(cpu_busy "$c0" "$c1" cpu0)" "$(cpu_busy "$c0" "$c1" cpu1)" "$LAST_OTHER" \
    "$(mem_kb VmRSS $pids)" "$(mem_kb VmHWM $pids)" "$qps_limit")
  LAST_QPS=$qps LAST_CPU_US=$cpu_us LAST_LOST=${lost:-NA} LAST_FILE=$f LAST_SRVCPU=$srvcpu LAST_SENT=${sent:-NA}
  log "$v $mode $qset $rep: ${qps} qps, avg latency ${lat:-NA} s, lost ${lost:-NA}, server cpu ${srvcpu}% = ${cpu_us} us/query, unattributed ${LAST_OTHER}%"
}

noisy() { # $1 = unattributed %, $2 = attempt: true if the run should be repeated
  [ "$1" != NA ] && [ "$1" -gt "$NOISY_PCT" ] && [ "$2" -lt "$NOISY_RETRIES" ]
}

measure_dnsperf() { # run_dnsperf's arguments; waits for a quiet machine, repeats a disturbed run
  local tsv=${7:-$TSV} attempt
  for attempt in $(seq 0 "$NOISY_RETRIES"); do
    wait_quiet
    run_dnsperf "$@"
    noisy "$LAST_OTHER" "$attempt" || break
    log "  ${LAST_OTHER}% of a core went to other work during that run: discarded, repeating"
    echo "$LAST_ROW" >> "$OUT/discarded.tsv"
  done
  echo "$LAST_ROW" >> "$tsv"
}

run_latency() { # $1 variant $2 mode: the fixed-rate probe (LAT_REPS times), then dnsperf -Q -v
  local v=$1 mode=$2 r j pids t0 t1 w0 w1 c0 c1 k0 k1 srvcpu clicpu other attempt row
  pids=$(tree_pids "$SRV_PID")
  for r in $(seq 1 "$LAT_REPS"); do
    for attempt in $(seq 0 "$NOISY_RETRIES"); do
      wait_quiet
      j="$OUT/raw/latency-$v-$mode-probe-$r.json"
      c0=$(cpu_snapshot)
      t0=$(proc_ticks $pids)
      children_cpu
      k0=$CHILD_CPU
      w0=$EPOCHREALTIME
      timeout $((LAT_DURATION + 60)) taskset -c "$CLIENT_CPU" node "$HERE/latency-probe.mjs" --port "$PORT" \
        --qps "$LAT_QPS" --duration "$LAT_DURATION" --qname www.example.test --json "$j" > /dev/null ||
        die "latency-probe failed against $v"
      w1=$EPOCHREALTIME
      children_cpu
      k1=$CHILD_CPU
      t1=$(proc_ticks $pids)
      c1=$(cpu_snapshot)
      srvcpu=$(awk -v a="$t0" -v b="$t1" -v w0="$w0" -v w1="$w1" -v hz="$CLK_TCK" 'BEGIN{printf "%.0f", 100*(b-a)/hz/(w1-w0)}')
      clicpu=$(awk -v a="$k0" -v b="$k1" -v w0="$w0" -v w1="$w1" '
        function sec(t,  n, i, x, s) { n = split(t, x, " "); s = 0; for (i = 1; i <= n; i++) { split(x[i], m, "m"); sub("s", "", m[2]); s += m[1] * 60 + m[2] } return s }
        BEGIN { printf "%.0f", 100 * (sec(b) - sec(a)) / (w1 - w0) }')
      other=$(other_pct "$c0" "$c1" "$srvcpu" "$clicpu")
      row=$(printf '%s\t%s\tprobe\t%s\t%s\t%s\t%s\t%s' "$v" "$mode" "$r" \
        "$(json_fields "$j" offered_qps achieved_send_qps sent received lost p50_ms p90_ms p99_ms p999_ms max_ms avg_ms)" \
        "$srvcpu" "$(json_fields "$j" send_lag_max_ms sends_late_over_1ms)" "$other")
      log "$v latency probe $r: $(json_fields "$j" p50_ms p99_ms max_ms lost | awk -F'\t' '{printf "p50 %s ms, p99 %s ms, max %s ms, lost %s", $1, $2, $3, $4}'), server cpu ${srvcpu}%, unattributed ${other}%"
      noisy "$other" "$attempt" || break
      log "  ${other}% of a core went to other work during that run: discarded, repeating"
      echo "$row" >> "$OUT/discarded-latency.tsv"
    done
    echo "$row" >> "$LAT_TSV"
  done
  if [ "$LAT_DNSPERF" = 1 ]; then
    measure_dnsperf "$v" "$mode" "$HERE/queries/www.txt" "lat-v" "$LAT_DURATION" "$LAT_QPS" "$OUT/raw/latency-dnsperf-rows.tsv" "-v"
    j="$OUT/raw/latency-$v-$mode-dnsperf.json"
    node "$HERE/latency-probe.mjs" --from-dnsperf "$LAST_FILE" --json "$j" > /dev/null || die "cannot parse $LAST_FILE"
    printf '%s\t%s\tdnsperf-v\t1\t%s\t%s\t%s\t%s\t%s\t%s\t%s\tNA\tNA\t%s\n' "$v" "$mode" "$LAT_QPS" \
      "$(printf '%.0f' "$LAST_QPS" 2> /dev/null || echo NA)" "$LAST_SENT" "$(json_fields "$j" received)" "$LAST_LOST" \
      "$(json_fields "$j" p50_ms p90_ms p99_ms p999_ms max_ms avg_ms)" "$LAST_SRVCPU" "$LAST_OTHER" >> "$LAT_TSV"
    gzip -f "$LAST_FILE" # one line per query: keep it, compressed
  fi
}

health_note() { # steerdns-gslb: the health transitions and all-down answers in its log
  [ "$1" = steerdns-gslb ] || return 0
  local f=$VDIR/server.log
  echo "$1 $2 health: $(grep -c '"to":"up"' "$f") transitions to up, $(grep -c '"to":"down"' "$f") to down, $(grep -c 'fail-open' "$f") all-down (fail-open) warnings, checks at ready: $(grep -o '"checks":[0-9]*' "$f" | head -1 | cut -d: -f2)" >> "$NOTES"
}

pdns_counters() {
  case "$1" in pdns-*) ;; *) return 0 ;; esac
  local k out=""
  for k in udp-queries packetcache-hit packetcache-miss servfail-packets; do
    out+="$k=$(pdns_control --socket-dir="$VDIR" show "$k" 2> /dev/null || echo NA) "
  done
  echo "$1 $2 pdns counters: $out" >> "$NOTES"
}

# ---------------------------------------------------------------- scale: big zones
start_scale_server() { # $1 server $2 zone file $3 label -> SRV_PID; prints nothing; sets LOAD_S
  local s=$1 zf=$2 label=$3 t0 ready
  VDIR=$RUN_DIR/srv/scale-$s-$label
  rm -rf "$VDIR"
  mkdir -p "$VDIR"
  PORT=$SCALE_PORT THREADS=1
  case "$s" in
    steerdns) CMD=(node "${STEERDNS_NODE_FLAGS[@]}" "$STEERDNS_MAIN" serve --zone "example.test=$zf" --listen "127.0.0.1:$PORT" --workers 1 --log-level warn) ;;
    knot)
      ln -s "$zf" "$VDIR/example.test.zone"
      render "$HERE/knot/knot.conf.in" "$VDIR/knot.conf"
      CMD=(knotd -c "$VDIR/knot.conf")
      ;;
    *) die "scale: unknown server $s (steerdns or knot)" ;;
  esac
  port_in_use "$PORT" && die "port $PORT already in use before starting $s ($label)"
  wait_quiet
  t0=${EPOCHREALTIME/./}
  taskset -c "$SERVER_CPU" "${CMD[@]}" > "$VDIR/server.log" 2>&1 &
  SRV_PID=$!
  if ! ready=$(taskset -c "$CLIENT_CPU" node "$HERE/wait-ready.mjs" --port "$PORT" --timeout "$LOAD_TIMEOUT" --pid "$SRV_PID"); then
    tail -20 "$VDIR/server.log" >&2
    die "$s did not answer the SOA of the $label zone within $LOAD_TIMEOUT s"
  fi
  LOAD_S=$(awk -v a="$t0" -v b="$ready" 'BEGIN{printf "%.3f", (b-a)/1e6}')
  # CPU time the server used until then (if much less than LOAD_S, it was kept waiting)
  LOAD_CPU_S=$(awk -v t="$(proc_ticks $(tree_pids "$SRV_PID"))" -v hz="$CLK_TCK" 'BEGIN{printf "%.2f", t/hz}')
  check_owner "$PORT"
  pin_all
}

check_name() { # $1 name: must be NOERROR with an A record
  local st
  st=$(dig +norec +noedns +time=2 +tries=1 -p "$PORT" @127.0.0.1 "$1" A | awk '/->>HEADER<<-/ { sub(/,$/, "", $6); print $6 }')
  [ "$st" = NOERROR ] || die "scale: $1 answered '${st:-nothing}', expected NOERROR"
}

run_scale() {
  local sdir=$RUN_DIR/scale s r rss hwm
  mkdir -p "$sdir"
  local z1=$sdir/example.test.$SCALE_RECORDS.zone q1=$sdir/random-$SCALE_RECORDS.txt z2=$sdir/example.test.$LOAD_RECORDS.zone
  log "scale: generating zones ($SCALE_RECORDS and $LOAD_RECORDS A records)"
  node "$HERE/gen-zone.mjs" --records "$SCALE_RECORDS" --out "$z1" --queries "$q1" --query-count 200000 2> /dev/null
  node "$HERE/gen-zone.mjs" --records "$LOAD_RECORDS" --out "$z2" 2> /dev/null
  echo "scale zones: $(wc -l < "$z1") lines / $(du -h "$z1" | cut -f1), $(wc -l < "$z2") lines / $(du -h "$z2" | cut -f1)" >> "$NOTES"
  for s in $SCALE_SERVERS; do
    # RSS with SCALE_RECORDS records: after loading, then after dnsperf over random names
    start_scale_server "$s" "$z1" "$SCALE_RECORDS"
    sleep 2
    rss=$(mem_kb VmRSS $(tree_pids "$SRV_PID"))
    hwm=$(mem_kb VmHWM $(tree_pids "$SRV_PID"))
    printf '%s\t%s\tloaded\t1\t%s\t%s\t%s\t%s\tNA\tNA\tNA\n' "$s" "$SCALE_RECORDS" "$LOAD_S" "$LOAD_CPU_S" "$rss" "$hwm" >> "$SCALE_TSV"
    log "scale $s $SCALE_RECORDS records: answered after $LOAD_S s (server CPU $LOAD_CPU_S s), rss $rss kB (peak $hwm kB)"
    check_name "h1.example.test"
    check_name "h$SCALE_RECORDS.example.test"
    measure_dnsperf "scale-$s" pinned "$q1" "$SCALE_RECORDS" "$SCALE_DURATION" 0 "$OUT/raw/scale-dnsperf-rows.tsv"
    rss=$(mem_kb VmRSS $(tree_pids "$SRV_PID"))
    hwm=$(mem_kb VmHWM $(tree_pids "$SRV_PID"))
    printf '%s\t%s\tafter-dnsperf\t1\tNA\tNA\t%s\t%s\t%s\t%s\t%s\n' "$s" "$SCALE_RECORDS" "$rss" "$hwm" "$LAST_QPS" "$LAST_CPU_US" "$LAST_LOST" >> "$SCALE_TSV"
    log "scale $s $SCALE_RECORDS records after dnsperf: rss $rss kB (peak $hwm kB)"
    # and once more after some idle time: how much of that was garbage not yet collected
    sleep "$SCALE_IDLE"
    rss=$(mem_kb VmRSS $(tree_pids "$SRV_PID"))
    hwm=$(mem_kb VmHWM $(tree_pids "$SRV_PID"))
    printf '%s\t%s\tidle\t1\tNA\tNA\t%s\t%s\tNA\tNA\tNA\n' "$s" "$SCALE_RECORDS" "$rss" "$hwm" >> "$SCALE_TSV"
    log "scale $s $SCALE_RECORDS records after ${SCALE_IDLE} s idle: rss $rss kB"
    stop_pid "$SRV_PID"
    SRV_PID=""
    # load time of LOAD_RECORDS records: process start -> first SOA answer
    for r in $(seq 1 "$LOAD_REPS"); do
      start_scale_server "$s" "$z2" "$LOAD_RECORDS"
      check_name "h$LOAD_RECORDS.example.test"
      rss=$(mem_kb VmRSS $(tree_pids "$SRV_PID"))
      hwm=$(mem_kb VmHWM $(tree_pids "$SRV_PID"))
      printf '%s\t%s\tloaded\t%s\t%s\t%s\t%s\t%s\tNA\tNA\tNA\n' "$s" "$LOAD_RECORDS" "$r" "$LOAD_S" "$LOAD_CPU_S" "$rss" "$hwm" >> "$SCALE_TSV"
      log "scale $s $LOAD_RECORDS records, run $r: answered after $LOAD_S s (server CPU $LOAD_CPU_S s), rss $rss kB (peak $hwm kB)"
      stop_pid "$SRV_PID"
      SRV_PID=""
    done
  done
}

# ---------------------------------------------------------------- main
mkdir -p "$OUT/raw"
{
  echo "date_utc: $(date -u '+%Y-%m-%d %H:%M:%S')"
  echo "host: $(hostname)"
  echo "nproc: $(nproc)"
  echo "cpu: $(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
  echo "kernel: $(uname -r)"
  echo "os: Debian $(cat /etc/debian_version)"
  echo "mem: $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
  echo "node: $(node --version)"
  echo "dnsperf: $(dnsperf -h 2>&1 | awk '/^Version/{print $2}')"
  echo "knotd: $(knotd --version 2>&1 | head -1)"
  echo "gdnsd: $(dpkg-query -W -f '${Version}' gdnsd)"
  echo "pdns_server: $(dpkg-query -W -f '${Version}' pdns-server) (backend-bind $(dpkg-query -W -f '${Version}' pdns-backend-bind))"
  echo "dig: $(dig -v 2>&1 | head -1)"
  echo "variants: $VARIANTS"
  echo "params: MODES='$MODES' DURATION=$DURATION REPS=$REPS UNPINNED_REPS=$UNPINNED_REPS WARMUP=$WARMUP QSETS='$QSETS' DNSPERF_OPTS='$DNSPERF_OPTS' LAT_QPS=$LAT_QPS LAT_DURATION=$LAT_DURATION LAT_REPS=$LAT_REPS LAT_DNSPERF=$LAT_DNSPERF SCALE=$SCALE SCALE_RECORDS=$SCALE_RECORDS SCALE_DURATION=$SCALE_DURATION SCALE_IDLE=$SCALE_IDLE LOAD_RECORDS=$LOAD_RECORDS LOAD_REPS=$LOAD_REPS SCALE_SERVERS='$SCALE_SERVERS' SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU"
} > "$OUT/env.txt"
needs_steerdns && build_steerdns
cat "$OUT/env.txt" >&2
{
  echo "loadavg at start: $(cat /proc/loadavg)"
  echo "busiest processes at start:"
  ps -eo pid,pcpu,rss,comm --sort=-pcpu | head -6
} >> "$NOTES"

for mode in $MODES; do
  for v in $VARIANTS; do
    if [ "$v" = node-raw-cluster2 ] && [ "$mode" = pinned ]; then
      log "skip $v in pinned mode (2 workers on one core says nothing new)"
      continue
    fi
    needs_hc "$v" && start_hc_target
    start_server "$v" "$mode"
    record_answers "$v" "$mode"
    reps=$REPS
    [ "$mode" = unpinned ] && reps=$UNPINNED_REPS
    for qset in $QSETS; do
      # warm-up (JIT, caches, health state); not recorded
      pre=()
      [ "$mode" = pinned ] && pre=(taskset -c "$CLIENT_CPU")
      # shellcheck disable=SC2086
      timeout $((WARMUP + 30)) "${pre[@]}" dnsperf -s 127.0.0.1 -p "$PORT" -d "$HERE/queries/$qset.txt" -l "$WARMUP" $DNSPERF_OPTS > /dev/null 2>&1 || true
      for r in $(seq 1 "$reps"); do measure_dnsperf "$v" "$mode" "$HERE/queries/$qset.txt" "$r" "$DURATION" 0; done
    done
    if [ "$mode" = pinned ] && [ "$LAT_QPS" -gt 0 ]; then run_latency "$v" "$mode"; fi
    affinity_note "$v" "$mode"
    pdns_counters "$v" "$mode"
    health_note "$v" "$mode"
    echo "$v $mode server log (last lines): $(tail -3 "$VDIR/server.log" | tr '\n' ' ' | cut -c1-400)" >> "$NOTES"
    stop_pid "$SRV_PID"
    SRV_PID=""
    port_in_use "$PORT" && die "port $PORT still in use after stopping $v"
  done
done
if [ -n "$HC_PID" ]; then
  stop_pid "$HC_PID"
  HC_PID=""
fi

if [ "$SCALE" = 1 ]; then run_scale; fi

{
  echo "waited for a quiet machine: $QUIET_SPENT s in all (QUIET_BUDGET=$QUIET_BUDGET); discarded disturbed runs: $(cat "$OUT"/discarded*.tsv 2> /dev/null | wc -l)"
  echo "loadavg at end: $(cat /proc/loadavg)"
  echo "busiest processes at end:"
  ps -eo pid,pcpu,rss,comm --sort=-pcpu | head -6
} >> "$NOTES"
node "$HERE/summarize.mjs" "$OUT" | tee "$OUT/table.md"
log "results: $OUT (table.md, results.tsv, latency.tsv, scale.tsv, answers.txt, notes.txt, env.txt, raw/)"
