#!/usr/bin/env bash
# bench/stress/run.sh — the hardening figures (README "Security"): 2,000 slowloris connections
# closed within the head timeout + 1 s while a probe keeps 100 % success, and 10,000 idle
# keep-alive client connections within 250 MB RSS. Raises the soft open-files limit first (the
# hard limit must allow it). Needs `npm run build`.
#
#   bash bench/stress/run.sh                 # both
#   bash bench/stress/run.sh slowloris       # one of them; extra arguments go to the script
#   bash bench/stress/run.sh idle --connections 20000 --max-mb 500
set -euo pipefail
cd "$(dirname "$0")/../.."
hard=$(ulimit -Hn)
want=20000
if [ "$hard" != "unlimited" ] && [ "$hard" -lt "$want" ]; then want=$hard; fi
ulimit -Sn "$want"
echo "open files: soft $(ulimit -Sn), hard $(ulimit -Hn)"
which=${1:-all}
[ $# -gt 0 ] && shift
status=0
if [ "$which" = all ] || [ "$which" = slowloris ]; then
  echo "== slowloris"
  node bench/stress/slowloris.mjs "$@" || status=1
fi
if [ "$which" = all ] || [ "$which" = idle ]; then
  echo "== idle keep-alive connections"
  node bench/stress/idle-connections.mjs "$@" || status=1
fi
exit $status
