#!/usr/bin/env bash
# CPU per request split into user and kernel time, Switchyard beside nginx, under the benchmark's
# load (wrk -t1 -c50 on CPU 1 against the proxy pinned to CPU 0, the same nginx backends as
# `npm run bench`). Answers "is the gap to nginx our code or the kernel's work?".
#
#   bash bench/profile/cpu-split.sh [--rounds N] [--duration S] [--post BYTES] [--log] [ENTRY]
#
# ENTRY: the Switchyard entry point (default dist/src/cli/switchyard.js; node flags are read from
# its #! line). --post sends POSTs with a body of BYTES; --log writes the access log to a file.
# Prints one line per peer per round: req/s, user, sys and total µs per request, read from
# /proc/PID/stat of the proxy's process tree before and after the measured run.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
SHARED_BENCH="${SHARED_BENCH:-$REPO/../shared/bench}"
ROUNDS=2; DURATION=5; POST=0; LOG=off; ENTRY="$REPO/dist/src/cli/switchyard.js"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2;;
    --duration) DURATION="$2"; shift 2;;
    --post) POST="$2"; shift 2;;
    --log) LOG=on; shift;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) ENTRY="$1"; shift;;
  esac
done
PORT=19590; B1=19591; B2=19592
RUN=$(mktemp -d /tmp/sy-cpu-split.XXXX)
mkdir -p "$RUN/tmp" "$RUN/www" "$RUN/logs"
head -c 16384 /dev/urandom | base64 -w 0 | head -c 16384 > "$RUN/www/16k"
render() { sed -e "s#@RUN@#$RUN#g" -e "s#@WORKERS@#1#g" -e "s#@B1_PORT@#$B1#g" -e "s#@B2_PORT@#$B2#g" -e "s#@PORT@#$2#g" "$1"; }
BP=""; SP=""
cleanup() {
  [ -n "$SP" ] && kill "$SP" 2>/dev/null && wait "$SP" 2>/dev/null
  [ -n "$BP" ] && kill "$BP" 2>/dev/null && wait "$BP" 2>/dev/null
  rm -rf "$RUN"
}
trap cleanup EXIT
render "$SHARED_BENCH/conf/backends.nginx.conf" "" > "$RUN/backends.nginx.conf"
taskset -c 1 nginx -e "$RUN/logs/backends.stderr" -p "$RUN" -c "$RUN/backends.nginx.conf" & BP=$!
# shellcheck source=../lib/switchyard-config.sh
. "$REPO/bench/lib/switchyard-config.sh"
switchyard_bench_config "$RUN/sy.yaml" "$PORT" 1 "$([ "$LOG" = on ] && echo "$RUN/access.log" || echo off)" "127.0.0.1:$B1" "127.0.0.1:$B2"
render "$SHARED_BENCH/conf/nginx-proxy.conf" "$PORT" > "$RUN/nginx-proxy.conf"
lua="$SHARED_BENCH/wrk/bench.lua"
export WRK_BODY_BYTES="$POST"

ticks() {  # user and system clock ticks of $SP and its children
  local u=0 s=0 a b
  for p in $SP $(pgrep -P "$SP" || true); do
    read -r a b < <(awk '{print $14, $15}' "/proc/$p/stat") || continue
    u=$((u + a)); s=$((s + b))
  done
  echo "$u $s"
}

measure() {  # NAME: the proxy is $SP, listening on $PORT
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
  taskset -c 1 wrk -t1 -c50 -d2s -s "$lua" "http://127.0.0.1:$PORT/" > /dev/null
  local u0 s0 u1 s1
  read -r u0 s0 < <(ticks)
  taskset -c 1 wrk -t1 -c50 -d"${DURATION}s" -s "$lua" "http://127.0.0.1:$PORT/" > "$RUN/wrk.out"
  read -r u1 s1 < <(ticks)
  local req rps
  req=$(sed -n 's/.*"requests":\([0-9]*\).*/\1/p' "$RUN/wrk.out")
  rps=$(sed -n 's/.*"rps":\([0-9.]*\).*/\1/p' "$RUN/wrk.out")
  awk -v n="$1" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v r="$req" -v hz="$(getconf CLK_TCK)" -v rps="$rps" \
    'BEGIN { printf "%-10s %9.0f req/s   user %5.1f   sys %5.1f   total %5.1f µs/req\n", n, rps, u/hz*1e6/r, s/hz*1e6/r, (u+s)/hz*1e6/r }'
}

launcher=$(sed -n '1s|^#!.*[/ ]node\b||p' "$ENTRY")
for round in $(seq "$ROUNDS"); do
  taskset -c 0 nginx -e "$RUN/logs/np.stderr" -p "$RUN" -c "$RUN/nginx-proxy.conf" & SP=$!
  measure nginx
  kill "$SP"; wait "$SP" 2>/dev/null || true; SP=""
  # shellcheck disable=SC2086
  taskset -c 0 node $launcher "$ENTRY" --config "$RUN/sy.yaml" > "$RUN/logs/sy.log" 2>&1 & SP=$!
  measure switchyard
  kill "$SP"; wait "$SP" 2>/dev/null || true; SP=""
done
