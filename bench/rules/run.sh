#!/usr/bin/env bash
# bench/rules/run.sh — rule scaling (issue 7 item 2): startup, reload and match cost with
# 1,000 host rules + 1,000 path rules, then wrk throughput through Switchyard with 1 rule vs
# 2,000 rules in one interleaved run (requests fall through every rule to the default forward,
# the worst case for the rule set). Needs `npm run build` and the macro bench's dependencies.
#   bash bench/rules/run.sh [--reps N] [--duration S]
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$DIR/../.." && pwd)"
node "$DIR/rules-scale.mjs"
peer() { # NAME HOSTS PATHS
  # node flags as the command's own #! line gives them (docs/decisions/0014)
  local flags
  flags=$(sed -n '1s|^#!.*[/ ]node\b||p' "$REPO/dist/src/cli/switchyard.js")
  echo "$1|$4|node $DIR/rules-scale.mjs --write-config \$RUN_DIR/$1.json $2 $3 \$PORT \$BACKENDS && exec node $flags $REPO/dist/src/cli/switchyard.js --config \$RUN_DIR/$1.json"
}
exec bash "$REPO/bench/macro/run.sh" --peers direct --scenarios small \
  --add "$(peer sy-1rule 0 1 19095)" --add "$(peer sy-2000rules 1000 1000 19096)" "$@"
