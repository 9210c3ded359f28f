#!/bin/bash
# in-ns.sh PREFIX dev|ctl SECONDS -- COMMAND [ARGS]
# Runs COMMAND inside network namespace PREFIX-dev or PREFIX-ctl, under `timeout -k 10 SECONDS` (TERM when the
# time is up, KILL 10 s later). This is how the harness starts a device under test; the process tree is
# timeout -> COMMAND (ip netns exec replaces itself with COMMAND).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ $# -ge 4 ] || die "usage: in-ns.sh PREFIX dev|ctl SECONDS -- COMMAND [ARGS]"
P=$1 side=$2 limit=$3; shift 3
[ "${1:-}" = "--" ] && shift
check_prefix "$P"
[[ $side =~ ^(dev|ctl)$ ]] || die "side must be dev or ctl"
[[ $limit =~ ^[0-9]+$ ]] || die "SECONDS must be a whole number"
need_ns "$P-$side"
exec timeout -k 10 "$limit" ip netns exec "$P-$side" "$@"
