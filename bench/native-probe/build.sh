#!/usr/bin/env bash
# Builds the native design probe (probe.cc) with the node-gyp that npm ships, against the
# installed Node's headers (no download). Output: bench/native-probe/build/Release/probe.node.
set -euo pipefail
cd "$(dirname "$0")"
node_prefix=$(dirname "$(dirname "$(command -v node)")")
gyp=$(dirname "$(command -v node)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
exec node "$gyp" rebuild --silent --nodedir="$node_prefix"
