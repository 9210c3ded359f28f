#!/bin/bash
# tools/run-device.sh [micromatter run options]      (what `make run` runs)
# Runs the micromatter light so that its Matter and mDNS traffic never reaches the host's networks:
#   as root:  in a network namespace pair made for this run (tests/interop/netns.sh: PREFIX-dev and PREFIX-ctl
#             joined only by a veth pair with private/ULA addresses, no default route). The device runs in
#             PREFIX-dev; controllers run in PREFIX-ctl. Ctrl-C stops the device cleanly (CloseSession, mDNS
#             goodbyes, records stored) and deletes both namespaces.
#   otherwise: in the host namespace with the Matter port bound to loopback and mDNS only on lo
#             (`--mdns loopback`): controllers on this host can reach it, nothing leaves it.
# The device runs at most RUN_DEVICE_LIMIT seconds (default 86400).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd -P)
REPO=$(dirname "$HERE")
INTEROP=$REPO/tests/interop
MM=$REPO/.venv/bin/micromatter
LIMIT=${RUN_DEVICE_LIMIT:-86400}
[ -x "$MM" ] || { echo "run-device: $MM missing (make setup)" >&2; exit 2; }
[[ $LIMIT =~ ^[0-9]+$ ]] || { echo "run-device: RUN_DEVICE_LIMIT must be a whole number" >&2; exit 2; }
# shellcheck source=../tests/interop/lib.sh
. "$INTEROP/lib.sh"

port=5540 passcode=20202021
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case ${args[i]} in
    --port) port=${args[i + 1]:-$port} ;;
    --port=*) port=${args[i]#--port=} ;;
    --passcode) passcode=${args[i + 1]:-$passcode} ;;
    --passcode=*) passcode=${args[i]#--passcode=} ;;
  esac
done

if [ "$(id -u)" != 0 ] || ! ip netns list >/dev/null 2>&1; then
  cat <<EOF
run-device: not root (or no network namespaces): the device runs in this host's namespace with Matter on
  loopback only (127.0.0.1 / ::1 port $port) and mDNS only on lo: nothing is sent beyond this host.
  Run 'make run' as root for a device in its own network namespace, reachable by controllers in a second one.
EOF
  exec timeout -k 10 "$LIMIT" "$MM" run "$@" --mdns loopback
fi

P=mmrun$$
cleanup() {
  "$INTEROP/netns.sh" down "$P" >/dev/null 2>&1 || echo "run-device: could not delete $P-dev / $P-ctl" >&2
  echo "run-device: namespaces $P-dev and $P-ctl deleted"
}
"$INTEROP/netns.sh" up "$P" >/dev/null
trap cleanup EXIT
cat <<EOF
run-device: network namespaces $P-dev (the device) and $P-ctl (for controllers), joined only to each other.
  The device: $DEV_IP4 and $DEV_IP6 (and its link-local address) on $DEV_IF, UDP port $port, mDNS on that link.
  Controllers run in $P-ctl, for example:
    ip netns exec $P-ctl chip-tool pairing onnetwork 1 $passcode
    tests/interop/chip-ctl.sh var/ctl $P -- commission --ip $DEV_IP4 --port $port --passcode $passcode --nodeid 1
    tests/interop/chip-ctl.sh var/ctl $P -- toggle --nodeid 1
  Ctrl-C stops the device and deletes both namespaces.
EOF
"$INTEROP/in-ns.sh" "$P" dev "$LIMIT" -- "$MM" run "$@" &
dev=$!
stop() { kill -TERM "$dev" 2>/dev/null || true; }  # timeout forwards it; the CLI turns it into a clean stop
trap stop INT TERM HUP
rc=0
while :; do  # a trapped signal interrupts `wait`: wait again until the device has exited
  wait "$dev" && rc=0 || rc=$?
  kill -0 "$dev" 2>/dev/null || break
done
exit "$rc"
