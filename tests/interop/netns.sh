#!/bin/bash
# netns.sh up|down|status PREFIX
#   up:     create network namespaces PREFIX-dev and PREFIX-ctl joined only to each other by one veth pair. The
#           pair is created inside PREFIX-ctl with its peer placed directly into PREFIX-dev, so no interface ever
#           exists in the host namespace. Device side .1 / ::1, controller side .2 / ::2 (private IPv4, ULA IPv6),
#           IPv6 link-local, lo up, a 224.0.0.0/4 route on the veth (IPv4 mDNS), no default route: traffic can
#           only go between the two namespaces.
#   down:   stop (by PID: TERM, then KILL after 5 s) any process still inside PREFIX-dev / PREFIX-ctl, then delete
#           exactly those two namespaces. Never touches anything else.
#   status: both namespaces' addresses and the processes inside them.
# Prints one machine-readable line: NETNS {"prefix":...,"dev":{...},"ctl":{...}}
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cmd=${1:-}; P=${2:-}
[[ $cmd =~ ^(up|down|status)$ ]] || die "usage: netns.sh up|down|status PREFIX"
check_prefix "$P"
DEV=$P-dev; CTL=$P-ctl

print_json() {
  local ll_dev ll_ctl
  ll_dev=$(ip -n "$DEV" -6 -o addr show dev "$DEV_IF" scope link 2>/dev/null | awk '{print $4}' | cut -d/ -f1)
  ll_ctl=$(ip -n "$CTL" -6 -o addr show dev "$CTL_IF" scope link 2>/dev/null | awk '{print $4}' | cut -d/ -f1)
  printf 'NETNS {"prefix":"%s","dev":{"ns":"%s","if":"%s","ipv4":"%s","ipv6":"%s","ipv6_ll":"%s"},"ctl":{"ns":"%s","if":"%s","ipv4":"%s","ipv6":"%s","ipv6_ll":"%s"}}\n' \
    "$P" "$DEV" "$DEV_IF" "$DEV_IP4" "$DEV_IP6" "$ll_dev" "$CTL" "$CTL_IF" "$CTL_IP4" "$CTL_IP6" "$ll_ctl"
}

stop_pids_in() {  # stop_pids_in NS: TERM, wait <= 5 s, KILL; only processes inside that namespace
  local ns=$1 pids p i
  pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
  [ -n "${pids// /}" ] || return 0
  for p in $pids; do
    echo "netns: stopping pid $p in $ns: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | cut -c1-100)"
    kill -TERM "$p" 2>/dev/null || true
  done
  for i in $(seq 1 25); do
    pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
    [ -n "${pids// /}" ] || return 0
    sleep 0.2
  done
  for p in $pids; do echo "netns: pid $p still alive, SIGKILL"; kill -KILL "$p" 2>/dev/null || true; done
  for i in $(seq 1 10); do
    [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && return 0
    sleep 0.1
  done
}

case $cmd in
up)
  for ns in "$DEV" "$CTL"; do ns_exists "$ns" && die "namespace $ns already exists (netns.sh down $P)"; done
  trap 'echo "netns: setup failed, removing $DEV $CTL" >&2; ip netns del "$DEV" 2>/dev/null; ip netns del "$CTL" 2>/dev/null' ERR
  ip netns add "$DEV"
  ip netns add "$CTL"
  ip -n "$CTL" link add "$CTL_IF" type veth peer name "$DEV_IF" netns "$DEV"
  for side in dev ctl; do
    if [ $side = dev ]; then ns=$DEV; ifc=$DEV_IF; a4=$DEV_IP4; a6=$DEV_IP6; else ns=$CTL; ifc=$CTL_IF; a4=$CTL_IP4; a6=$CTL_IP6; fi
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.accept_dad=0"   # link-local usable at once
    ip -n "$ns" addr add "$a4/$NET4_LEN" dev "$ifc"
    ip -n "$ns" -6 addr add "$a6/$NET6_LEN" dev "$ifc" nodad
    ip -n "$ns" link set "$ifc" up
    ip -n "$ns" route add 224.0.0.0/4 dev "$ifc"          # IPv4 multicast (mDNS 224.0.0.251)
    [ -z "$(ip -n "$ns" route show default; ip -n "$ns" -6 route show default)" ] ||
      { echo "netns: $ns has a default route" >&2; false; }   # never a way out
  done
  # bounded wait: link-local addresses present and not tentative on both sides
  for i in $(seq 1 50); do
    ok=1
    for ns in "$DEV" "$CTL"; do
      ip -n "$ns" -6 addr show scope link | grep -q "inet6 fe80" || ok=0
      ! ip -n "$ns" -6 addr show | grep -q tentative || ok=0
    done
    [ $ok = 1 ] && break
    sleep 0.1
  done
  trap - ERR
  for ns in "$DEV" "$CTL"; do echo "$ns: $(ip -n "$ns" -br addr show | grep -v '^lo ' | tr -s ' ')"; done
  print_json
  ;;
down)
  rc=0
  for ns in "$DEV" "$CTL"; do
    if ns_exists "$ns"; then
      stop_pids_in "$ns"
      if ip netns del "$ns"; then echo "netns: deleted $ns"; else rc=1; fi
    fi
  done
  exit $rc
  ;;
status)
  for ns in "$DEV" "$CTL"; do
    if ns_exists "$ns"; then
      echo "$ns: $(ip -n "$ns" -br addr show | grep -v '^lo ' | tr -s ' ')"
      echo "$ns pids: $(ip netns pids "$ns" | tr '\n' ' ')"
    else
      echo "$ns: absent"
    fi
  done
  ns_exists "$DEV" && ns_exists "$CTL" && print_json
  ;;
esac
exit 0
