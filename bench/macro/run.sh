#!/usr/bin/env bash
# bench/macro/run.sh — `npm run bench`: Switchyard vs direct / nginx / HAProxy on loopback.
#
# Thin wrapper around the company harness (../shared/bench/run-peers.sh, next to this repo):
# that harness starts the backends, pins the processes, interleaves the runs, samples CPU/RSS and
# prints the median tables. This script only
#   * registers the Switchyard peers (`--add`, see switchyard-peer.sh),
#   * skips peers whose binary is missing (with a note) instead of failing,
#   * moves the harness to its own port range (19001-19099; the shared harness uses 180xx),
#   * writes results to bench/results/<timestamp>/ and bounds the whole run in time.
# See docs/benchmark.md.
#
#   npm run bench                                  # 5 peers x 3 scenarios x 3 reps x (2 s + 10 s) ~ 10 min
#   npm run bench -- --quick                       # 1 rep, 3 s per cell
#   bash bench/macro/run.sh --peers direct,nginx,switchyard --scenarios small --reps 1 --duration 3
set -euo pipefail

MACRO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$MACRO_DIR/../.." && pwd)"
SHARED_BENCH="${SHARED_BENCH:-$REPO/../shared/bench}"   # override with env SHARED_BENCH=/path/to/bench

PEERS="direct,nginx,haproxy,switchyard,switchyard-log"
SCENARIOS="small,16k,post64k"
REPS=3 DURATION=10 WARMUP=2 WORKERS=1
OUT="" NODE_FLAGS=""
PASS=()   # options handed to run-peers.sh unchanged

usage() {
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF

Options (defaults in brackets):
  --peers LIST       [$PEERS]
                     also: caddy, and the shared harness's node-* peers (need 'npm ci' there)
  --scenarios LIST   small,16k,post64k [$SCENARIOS]
  --reps N [$REPS]   --duration S [$DURATION]   --warmup S [$WARMUP]
  --quick            same as --reps 1 --duration 3 (later flags still override)
  --workers N        Switchyard settings.workers, nginx worker_processes, HAProxy nbthread [$WORKERS]
  --out DIR          results directory [bench/results/<timestamp>]
  --node-flags F     extra node flags for Switchyard (and the shared node peers), e.g.
                     '--cpu-prof --cpu-prof-dir=/abs/dir'
  Passed through to the shared harness: --conns N, --threads N, --proxy-cpus LIST,
  --load-cpus LIST, --max-foreign PCT, --add 'NAME|PORT|CMD', --ready 'NAME|CMD', --keep-up.
Env: SHARED_BENCH (harness location) [$SHARED_BENCH]
     SWITCHYARD_MAIN (Switchyard entry point) [dist/src/cli/switchyard.js]
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --peers) PEERS="$2"; shift 2;;
    --scenarios) SCENARIOS="$2"; shift 2;;
    --reps) REPS="$2"; shift 2;;
    --duration) DURATION="$2"; shift 2;;
    --warmup) WARMUP="$2"; shift 2;;
    --quick) REPS=1; DURATION=3; shift;;
    --workers) WORKERS="$2"; shift 2;;
    --out) OUT="$2"; shift 2;;
    --node-flags) NODE_FLAGS="$2"; shift 2;;
    --conns|--threads|--proxy-cpus|--load-cpus|--max-foreign|--add|--ready) PASS+=("$1" "$2"); shift 2;;
    --keep-up) PASS+=("$1"); shift;;
    -h|--help) usage; exit 0;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2;;
  esac
done
for v in REPS DURATION WARMUP WORKERS; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "--${v,,} must be a whole number (got '${!v}')" >&2; exit 2; }
done

note() { printf '[bench] %s\n' "$*" >&2; }
die() { note "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- the shared harness
if [[ ! -f "$SHARED_BENCH/run-peers.sh" ]]; then
  cat >&2 <<EOF
[bench] The company benchmark harness was not found at:
[bench]     $SHARED_BENCH
[bench] 'npm run bench' delegates to its run-peers.sh (backends, pinning, interleaving, medians).
[bench] Clone the shared repository next to this one (CI does: <dir>/main and <dir>/shared/bench),
[bench] or point SHARED_BENCH at it:  SHARED_BENCH=/path/to/shared/bench npm run bench
EOF
  exit 1
fi
SHARED_BENCH="$(cd "$SHARED_BENCH" && pwd)"

# ---------------------------------------------------------------- required tools
for t in wrk nginx taskset setsid curl timeout node; do
  command -v "$t" >/dev/null || die "missing '$t' (wrk and nginx: run bench/macro/install-deps.sh)"
done

# ---------------------------------------------------------------- peers: skip what is not installed
SY_MAIN="${SWITCHYARD_MAIN:-$REPO/dist/src/cli/switchyard.js}"   # env override: compare another build
BASE=() SY=() SKIPPED=()
IFS=',' read -r -a want <<<"$PEERS"
for p in "${want[@]}"; do
  case "$p" in
    '') ;;
    haproxy|caddy)
      if command -v "$p" >/dev/null; then BASE+=("$p"); else SKIPPED+=("$p (binary '$p' not installed)"); fi;;
    node-*)
      if [[ -d "$SHARED_BENCH/node_modules/undici" ]]; then BASE+=("$p")
      else SKIPPED+=("$p (needs 'npm ci' in $SHARED_BENCH)"); fi;;
    switchyard|switchyard-log)
      if [[ -f "$SY_MAIN" ]]; then SY+=("$p"); SY_MAIN="$(realpath "$SY_MAIN")"; else SKIPPED+=("$p (${SY_MAIN#"$REPO"/} not built: npm run build)"); fi;;
    *) BASE+=("$p");;    # direct, nginx, unknown names: the harness validates them
  esac
done
for s in "${SKIPPED[@]+"${SKIPPED[@]}"}"; do note "skipping peer $s"; done
[[ ${#BASE[@]} -gt 0 ]] || die "no reference peer left (need at least one of direct, nginx, haproxy)"

# Switchyard peers: ports 19090 (+1 per peer), config generated per run by switchyard-peer.sh.
ADDS=()
sy_port=19090
for p in "${SY[@]+"${SY[@]}"}"; do
  log_mode=off; [[ $p == switchyard-log ]] && log_mode=file
  cmd="exec bash $(printf '%q' "$MACRO_DIR/switchyard-peer.sh") $p $log_mode $(printf '%q' "$SY_MAIN")"
  [[ -n "$NODE_FLAGS" ]] && cmd="SY_NODE_FLAGS=$(printf '%q' "$NODE_FLAGS") $cmd"
  ADDS+=(--add "$p|$sy_port|$cmd")
  sy_port=$((sy_port + 1))
done

# ---------------------------------------------------------------- results dir + harness copy
[[ -n "$OUT" ]] || OUT="$REPO/bench/results/$(date +%Y%m%d-%H%M%S)"
[[ -e "$OUT" ]] && die "results directory already exists: $OUT"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

# run-peers.sh hard-codes its ports (backends 18001/18002, peers 18081-18089). Run a copy of it
# with every 180xx port shifted to 190xx, so this benchmark never collides with someone running
# the shared harness itself; conf/, wrk/, lib/ and peers/ still come from $SHARED_BENCH.
HARNESS="$OUT/run-peers.sh"
sed -E -e 's|^BENCH_DIR=.*$|BENCH_DIR="${SWITCHYARD_SHARED_BENCH:?}"|' \
       -e 's/\b180([0-9]{2})\b/190\1/g' "$SHARED_BENCH/run-peers.sh" > "$HARNESS"
if [[ $(grep -c '^BENCH_DIR="${SWITCHYARD_SHARED_BENCH:?}"$' "$HARNESS") != 1 ]] \
   || ! grep -q '^B1_PORT=19001\b' "$HARNESS" || ! grep -q '^B2_PORT=19002\b' "$HARNESS" \
   || ! grep -q '^PORT\[nginx\]=19081;' "$HARNESS" || ! grep -q '^PORT\[haproxy\]=19082;' "$HARNESS" \
   || grep -qE '\b180[0-9]{2}\b' "$HARNESS"; then
  die "$SHARED_BENCH/run-peers.sh changed shape (BENCH_DIR / port lines); update the port patch in bench/macro/run.sh"
fi
export SWITCHYARD_SHARED_BENCH="$SHARED_BENCH"

# ---------------------------------------------------------------- run, bounded in time
IFS=',' read -r -a scen <<<"$SCENARIOS"
npeers=$(( ${#BASE[@]} + ${#SY[@]} ))
# worst case: every run redone 3x (harness retries runs disturbed by other processes)
budget=$(( 120 + REPS * ${#scen[@]} * npeers * 3 * (WARMUP + DURATION + 8) ))
for a in "${PASS[@]+"${PASS[@]}"}"; do [[ $a == --keep-up ]] && budget=$((7 * 24 * 3600)); done
note "harness: $SHARED_BENCH (ports 190xx)   results: $OUT"
note "peers: ${BASE[*]} ${SY[*]}   time limit: ${budget}s"

( cd "$REPO" && git describe --always --dirty 2>/dev/null || echo unknown ) > "$OUT/switchyard-rev.txt"
args=(--peers "$(IFS=,; echo "${BASE[*]}")" --scenarios "$SCENARIOS" --reps "$REPS"
      --duration "$DURATION" --warmup "$WARMUP" --workers "$WORKERS" --out "$OUT")
[[ -n "$NODE_FLAGS" ]] && args+=(--node-flags "$NODE_FLAGS")

# --foreground keeps the harness in the terminal's process group (Ctrl-C reaches it directly);
# on timeout it gets SIGTERM, and its own trap stops every process it started.
rc=0
timeout --foreground -k 60 "$budget" bash "$HARNESS" "${args[@]}" "${ADDS[@]+"${ADDS[@]}"}" \
  "${PASS[@]+"${PASS[@]}"}" || rc=$?
[[ $rc == 124 ]] && note "ERROR: time limit of ${budget}s reached; the run was stopped"

# The switchyard-log access log reaches ~1 GB in a default run: keep a sample, not the bulk.
for f in "$OUT"/run/logs/*-access.log; do
  [[ -f $f ]] || continue
  n=$(wc -l < "$f"); head -n 1000 "$f" > "$f.head" && mv "$f.head" "$f"
  note "$(basename "$f"): $n lines written during the run; kept the first 1000"
done
if [[ -f "$OUT/summary.md" ]]; then
  {
    echo
    echo "switchyard revision: $(cat "$OUT/switchyard-rev.txt")"
    for s in "${SKIPPED[@]+"${SKIPPED[@]}"}"; do echo "skipped peer: $s"; done
  } | tee -a "$OUT/summary.md"
fi
exit $rc
