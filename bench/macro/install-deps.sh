#!/usr/bin/env bash
# Install what `npm run bench` needs (Debian/Ubuntu): wrk (load), nginx (backends + peer),
# HAProxy (peer), curl (readiness checks). Nothing is enabled as a service by the benchmark;
# it starts its own processes. Caddy is optional: apt-get install -y caddy.
set -euo pipefail
SUDO=""; [[ $(id -u) == 0 ]] || SUDO=sudo
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y wrk nginx-light haproxy curl
