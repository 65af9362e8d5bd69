#!/usr/bin/env bash
# bench/ab/run.sh — A/B two (or more) Switchyard builds on one scenario, alternating.
#
# The benchmark (`npm run bench`) compares Switchyard with nginx and HAProxy; this script answers
# "did my change help?". On this shared 2-vCPU VM the same build's CPU per request drifts by 10-20 %
# over minutes, so builds are alternated (A B A B ...) with a fresh Switchyard process per run,
# the same nginx backends as the benchmark (rendered from ../shared/bench/conf) on CPU 1, the
# proxy pinned to CPU 0, wrk `-t1 -c50`: 2 s warm-up, then a measured run. Each line gives req/s,
# CPU µs per request (utime+stime of the process ÷ requests), p99 and RSS at the end. Trust a
# difference only when it holds in every round.
#
#   bash bench/ab/run.sh --scenario small --rounds 3 --duration 5 A=dist-base/src/cli/switchyard.js B=dist/src/cli/switchyard.js
#   bash bench/ab/run.sh --scenario post64k --log A=dist-base/src/cli/switchyard.js B=dist/src/cli/switchyard.js
#
# A build is NAME=ENTRY (an entry point whose directory has node_modules above it); the node flags
# are read from the entry point's `#!` line, as bench/macro/switchyard-peer.sh does.
# Extra node flags for one build: NAME=ENTRY@'--flag --flag'.
# A process that has already served other traffic (as in the benchmark, where one process runs
# every scenario in turn): `--preload 'PATH:SECONDS,PATH:SECONDS'` runs wrk on those paths
# (`/`, `/16k`) before the warm-up of every run.
# Rule scaling (issue 7 item 2): `--rules NAME=N` gives build NAME a config with N exact-host and
# N path-prefix rules that every request falls through (bench/rules/rules-scale.mjs writes it).
set -euo pipefail

AB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$AB_DIR/../.." && pwd)"
SHARED_BENCH="${SHARED_BENCH:-$REPO/../shared/bench}"
SCENARIO=small ROUNDS=2 DURATION=5 WARMUP=2 LOG=off PRELOAD=
BUILDS=()
declare -A RULES=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --scenario) SCENARIO="$2"; shift 2;;
    --rounds) ROUNDS="$2"; shift 2;;
    --duration) DURATION="$2"; shift 2;;
    --warmup) WARMUP="$2"; shift 2;;
    --log) LOG=on; shift;;
    --preload) PRELOAD="$2"; shift 2;;
    --rules) RULES[${2%%=*}]=${2#*=}; shift 2;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *=*) BUILDS+=("$1"); shift;;
    *) echo "unknown argument: $1" >&2; exit 2;;
  esac
done
[[ ${#BUILDS[@]} -ge 1 ]] || { echo "give at least one build: NAME=ENTRY" >&2; exit 2; }
for t in wrk nginx taskset curl node; do command -v "$t" >/dev/null || { echo "missing $t (bash bench/macro/install-deps.sh)" >&2; exit 1; }; done
case "$SCENARIO" in
  small) URLPATH=/ BODY=0;;
  16k) URLPATH=/16k BODY=0;;
  post64k) URLPATH=/post BODY=65536;;
  *) echo "--scenario: small, 16k or post64k" >&2; exit 2;;
esac

RUN="$(mktemp -d /tmp/switchyard-ab.XXXXXX)"
B1_PORT=19401 B2_PORT=19402 SY_PORT=19490
BACKEND_PID="" SY_PID=""
cleanup() {
  [[ -n "$SY_PID" ]] && kill "$SY_PID" 2>/dev/null || true
  [[ -n "$BACKEND_PID" ]] && kill "$BACKEND_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  # AB_KEEP_LOGS=DIR keeps each run's Switchyard output (e.g. with NAME=ENTRY@'--trace-gc').
  [[ -n "${AB_KEEP_LOGS:-}" ]] && mkdir -p "$AB_KEEP_LOGS" && cp "$RUN"/logs/* "$AB_KEEP_LOGS"/ 2>/dev/null
  rm -rf "$RUN"
}
trap cleanup EXIT
for p in $B1_PORT $B2_PORT $SY_PORT; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "port $p is in use" >&2; exit 1; fi
done

# Backends: the benchmark's nginx configuration, on CPU 1.
mkdir -p "$RUN/tmp" "$RUN/www" "$RUN/logs"
head -c 16384 /dev/urandom | base64 -w 0 | head -c 16384 > "$RUN/www/16k"
sed -e "s#@RUN@#$RUN#g" -e "s#@WORKERS@#1#g" -e "s#@B1_PORT@#$B1_PORT#g" -e "s#@B2_PORT@#$B2_PORT#g" -e "s#@PORT@##g" \
  "$SHARED_BENCH/conf/backends.nginx.conf" > "$RUN/backends.nginx.conf"
taskset -c 1 nginx -e "$RUN/logs/backends.stderr" -p "$RUN" -c "$RUN/backends.nginx.conf" &
BACKEND_PID=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$B1_PORT/" >/dev/null && break; sleep 0.1; done

# shellcheck source=../lib/switchyard-config.sh
. "$REPO/bench/lib/switchyard-config.sh"
access_log=off
[[ $LOG == on ]] && access_log="$RUN/access.log"
switchyard_bench_config "$RUN/switchyard.yaml" "$SY_PORT" 1 "$access_log" "127.0.0.1:$B1_PORT" "127.0.0.1:$B2_PORT"

url="http://127.0.0.1:$SY_PORT$URLPATH"
lua="$SHARED_BENCH/wrk/bench.lua"
printf '%-10s %5s %9s %10s %8s %7s\n' build round req/s 'µs/req' 'p99 ms' 'RSS MB'
for round in $(seq "$ROUNDS"); do
  for b in "${BUILDS[@]}"; do
    name=${b%%=*} spec=${b#*=}
    entry=${spec%%@*} extra=""
    [[ $spec == *@* ]] && extra=${spec#*@}
    launcher=$(sed -n '1s|^#!.*[/ ]node\b||p' "$entry")
    config="$RUN/switchyard.yaml"
    if [[ -n "${RULES[$name]:-}" ]]; then
      config="$RUN/$name.json"
      node "$REPO/bench/rules/rules-scale.mjs" --write-config "$config" "${RULES[$name]}" "${RULES[$name]}" "$SY_PORT" "127.0.0.1:$B1_PORT,127.0.0.1:$B2_PORT"
    fi
    # shellcheck disable=SC2086  # flag lists
    taskset -c 0 node $launcher $extra "$entry" --config "$config" >> "$RUN/logs/$name.log" 2>&1 &
    SY_PID=$!
    for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$SY_PORT/" && break; sleep 0.1; done
    for pre in ${PRELOAD//,/ }; do
      taskset -c 1 wrk -t1 -c50 -d"${pre##*:}s" -s "$lua" "http://127.0.0.1:$SY_PORT${pre%%:*}" >/dev/null
    done
    WRK_BODY_BYTES=$BODY taskset -c 1 wrk -t1 -c50 -d"${WARMUP}s" -s "$lua" "$url" >/dev/null
    t0=$(awk '{ print $14 + $15 }' "/proc/$SY_PID/stat")
    out=$(WRK_BODY_BYTES=$BODY taskset -c 1 wrk -t1 -c50 -d"${DURATION}s" -s "$lua" "$url")
    t1=$(awk '{ print $14 + $15 }' "/proc/$SY_PID/stat")
    rss=$(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$SY_PID/status")
    kill "$SY_PID"; wait "$SY_PID" 2>/dev/null || true; SY_PID=""
    reqs=$(sed -n 's/.*"requests":\([0-9]*\).*/\1/p' <<<"$out")
    p99=$(sed -n 's/.*"lat_p99_us":\([0-9]*\).*/\1/p' <<<"$out")
    tick=$(getconf CLK_TCK)
    awk -v n="$name" -v r="$round" -v q="$reqs" -v s="$DURATION" -v c=$((t1 - t0)) -v hz="$tick" -v p="$p99" -v m="$rss" \
      'BEGIN { printf "%-10s %5d %9.0f %10.1f %8.2f %7d\n", n, r, q / s, c * 1e6 / hz / q, p / 1000, m }'
    rm -f "$RUN/access.log"
  done
done
