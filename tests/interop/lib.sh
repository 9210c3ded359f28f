# shellcheck shell=bash
# Helpers sourced by the interop scripts (netns.sh, chip-ctl.sh, mjs-ctl.sh, in-ns.sh). Nothing here touches
# the network.

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)      # tests/interop
REPO=$(cd "$HERE/../.." && pwd -P)
CHIP_VENV=${INTEROP_CHIP_VENV:-$REPO/.venv-chip}           # made by setup.sh
MJS_DIR=$HERE/mjs                                          # scripts + node_modules (npm ci by setup.sh)
CRED_DIR=${INTEROP_CREDENTIALS:-$REPO/tools/credentials}   # public Matter test PAAs (PEM)

# Fixed addresses inside one namespace pair. They exist only inside PREFIX-dev / PREFIX-ctl, so parallel
# pairs with different prefixes never see each other.
DEV_IP4=10.77.0.1  CTL_IP4=10.77.0.2  NET4_LEN=24
DEV_IP6=fd00:77::1 CTL_IP6=fd00:77::2 NET6_LEN=64
DEV_IF=veth-dev    CTL_IF=veth-ctl

die() { echo "ERROR: $*" >&2; exit 2; }

check_prefix() {
  [[ ${1:-} =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,23}$ ]] ||
    die "bad PREFIX '${1:-}' (1-24 chars: letters, digits, '_' or '-')"
}

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$1"; }

need_ns() { ns_exists "$1" || die "namespace $1 missing (netns.sh up ${1%-*})"; }

# need_dir DIR: DIR must exist; prints its absolute path.
need_dir() {
  [ -n "${1:-}" ] || die "directory argument missing"
  mkdir -p "$1" && (cd "$1" && pwd -P)
}

need_mjs() {
  [ -f "$MJS_DIR/node_modules/@matter/main/package.json" ] || die "matter.js not installed (tests/interop/setup.sh)"
}
