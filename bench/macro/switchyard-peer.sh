#!/usr/bin/env bash
# switchyard-peer.sh NAME off|file MAIN_JS — the Switchyard peer for the shared harness (--add).
# The harness runs it pinned to the proxy CPU with env PORT, BACKENDS (host:port,host:port),
# WORKERS and RUN_DIR. Writes $RUN_DIR/NAME.yaml, then execs Switchyard (so this PID is the
# root of the process tree whose CPU/RSS the harness samples). Optional env SY_NODE_FLAGS.
set -euo pipefail
name=$1 log_mode=$2 main=$3
: "${PORT:?} ${BACKENDS:?} ${WORKERS:?} ${RUN_DIR:?}"

# shellcheck source=../lib/switchyard-config.sh
. "$(dirname "$0")/../lib/switchyard-config.sh"
access_log=off
[[ $log_mode == file ]] && access_log="$RUN_DIR/logs/$name-access.log"
IFS=',' read -r -a backends <<<"$BACKENDS"
cfg="$RUN_DIR/$name.yaml"
switchyard_bench_config "$cfg" "$PORT" "$WORKERS" "$access_log" "${backends[@]}"

# Node flags as the product's own launcher gives them: the `#!/usr/bin/env -S node ...` line
# of the entry point (the young-generation size, docs/decisions/0014), then SY_NODE_FLAGS.
launcher_flags=$(sed -n '1s|^#!.*[/ ]node\b||p' "$main")

# shellcheck disable=SC2086  # flag lists
exec node $launcher_flags ${SY_NODE_FLAGS:-} "$main" --config "$cfg"
