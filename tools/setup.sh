#!/bin/sh
# Set up what the project needs, idempotently, on a fresh Debian machine (Python 3.11, Node 20).
#   tools/setup.sh venv       .venv with the pinned requirements and micromatter itself (editable)
#   tools/setup.sh system     Debian packages the interop tests need (only as root, only if missing)
#   tools/setup.sh interop    system + the real controllers (CHIP controller venv, matter.js) for tests/interop
set -eu
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

venv() {
    if [ ! -x .venv/bin/python ]; then
        if ! "$PYTHON" -m venv .venv 2>/dev/null; then
            rm -rf .venv
            apt_install python3-venv
            "$PYTHON" -m venv .venv
        fi
    fi
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    .venv/bin/python -m pip install -q -r requirements.txt
    .venv/bin/python -m pip install -q --no-deps -e .
    echo "setup: .venv ready ($(.venv/bin/micropython -c 'import sys; print(sys.implementation.name, sys.version)' 2>/dev/null))"
}

apt_install() {
    # Installs the named Debian packages that are missing.  Needs root and apt-get.
    missing=""
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        echo "setup: missing Debian packages:$missing (install them as root)" >&2
        return 1
    fi
    echo "setup: apt-get install$missing"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null 2>&1 || {
        apt-get update -q >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null
    }
}

system() {
    apt_install iproute2 libnl-3-200 libnl-route-3-200 procps
}

interop() {
    system || echo "setup: interop tests will skip: system packages missing" >&2
    tests/interop/setup.sh
}

case "${1:-venv}" in
    venv) venv ;;
    system) system ;;
    interop) interop ;;
    *) echo "usage: tools/setup.sh venv|system|interop" >&2; exit 2 ;;
esac
