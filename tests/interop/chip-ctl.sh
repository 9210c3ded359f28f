#!/bin/bash
# chip-ctl.sh HOME PREFIX -- [GLOBAL-OPTIONS] OPERATION [ARGS]      (operations: see chip_ctl.py --help)
# Runs chip_ctl.py (the CHIP Python controller from .venv-chip) inside network namespace PREFIX-ctl and inside a
# private mount namespace (unshare -m) whose root is a throw-away tmpfs (chroot): every top-level directory of /
# is bind-mounted into it except /tmp and /data, which come from
#   HOME/tmp   -> /tmp    (the wheel writes /tmp/chip_kvs)
#   HOME/data  -> /data   (the wheel writes /data/chip_factory.ini, chip_config.ini, chip_counters.ini)
# so the host's / and /tmp are never written. The repository and HOME stay visible at their usual paths.
# HOME is one controller identity: HOME/controller.json (CA, fabric, nodes), HOME/paa (DER copies of the test
# PAAs, made here), HOME/logs (native CHIP logs). Two processes must not share a HOME at the same time.
# Time limit: INTEROP_LIMIT seconds (default 300), then TERM, KILL 10 s later.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || die "usage: chip-ctl.sh HOME PREFIX -- OPERATION [ARGS]"
H=$(need_dir "$1"); P=$2; shift 2
[ "${1:-}" = "--" ] && shift
check_prefix "$P"
need_ns "$P-ctl"
PY=$CHIP_VENV/bin/python
[ -x "$PY" ] || die "CHIP venv missing: $CHIP_VENV (tests/interop/setup.sh)"

mkdir -p "$H/root" "$H/tmp" "$H/data" "$H/paa" "$H/logs"
# PAA trust store: PEM -> DER (the CHIP controller loads a directory of .der files)
n=0
for pem in "$CRED_DIR"/test-paa-*-cert.pem; do
  [ -f "$pem" ] || continue
  "$PY" -c 'import ssl,sys; open(sys.argv[2],"wb").write(ssl.PEM_cert_to_DER_cert(open(sys.argv[1]).read()))' \
    "$pem" "$H/paa/$(basename "$pem" .pem).der"
  n=$((n + 1))
done
[ $n -gt 0 ] || die "no PAA certificates (test-paa-*-cert.pem) in $CRED_DIR"

# The remapping runs as root inside the new mount namespace; nothing it mounts is visible outside.
INNER='
set -e
HERE=$1; REPO=$2; VENV=$3; H=$4; shift 4
R=$H/root
mount -t tmpfs interop-chip-root "$R"
for e in /*; do
  n=${e#/}
  case $n in tmp|data|lost+found) continue ;; esac
  if [ -L "$e" ]; then ln -s "$(readlink "$e")" "$R/$n"
  elif [ -d "$e" ]; then mkdir "$R/$n"; mount --rbind "$e" "$R/$n"
  fi
done
mkdir "$R/tmp" "$R/data"
mount --bind "$H/tmp" "$R/tmp"
mount --bind "$H/data" "$R/data"
for p in "$REPO" "$VENV" "$H"; do
  case $p in /tmp|/tmp/*|/data|/data/*) mkdir -p "$R$p"; mount --bind "$p" "$R$p" ;; esac
done
exec chroot "$R" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$H" \
  /usr/bin/env PYTHONUNBUFFERED=1 INTEROP_CHIP_HOME="$H" "$VENV/bin/python" "$HERE/chip_ctl.py" "$@"
'
exec timeout -k 10 "${INTEROP_LIMIT:-300}" ip netns exec "$P-ctl" \
  unshare -m --propagation private /bin/bash -c "$INNER" _ "$HERE" "$REPO" "$CHIP_VENV" "$H" "$@"
