#!/bin/bash
# mjs-ctl.sh HOME PREFIX -- OPERATION [ARGS]     (operations: see mjs/controller.mjs)
# Runs the matter.js controller (mjs/controller.mjs) inside network namespace PREFIX-ctl. HOME is one controller
# identity: HOME/state (fabric, nodes, resumption records) and HOME/logs. PAA trust store: the test PAAs (PEM).
# stdout: RESULT {json} lines. Time limit: INTEROP_LIMIT seconds (default 300), TERM then KILL 10 s later.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || die "usage: mjs-ctl.sh HOME PREFIX -- OPERATION [ARGS]"
H=$(need_dir "$1"); P=$2; shift 2
[ "${1:-}" = "--" ] && shift
check_prefix "$P"
need_ns "$P-ctl"
need_mjs
LIMIT=${INTEROP_LIMIT:-300}
export INTEROP_HOME=$H INTEROP_PAA_DIR=$CRED_DIR
exec timeout -k 10 "$LIMIT" ip netns exec "$P-ctl" node "$MJS_DIR/controller.mjs" --max-seconds "$LIMIT" "$@"
