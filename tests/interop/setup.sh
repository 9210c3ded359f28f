#!/bin/bash
# tests/interop/setup.sh: install what the interop tests need, idempotently, on a fresh Debian machine as root.
#   Debian packages  iproute2 (ip netns), util-linux (unshare), the libraries of the CHIP wheel's native module
#                    (libnl-3, libnl-route-3, GLib), Node.js >= 20.19 if no node is installed
#   .venv-chip/      the CHIP (connectedhomeip) Python controller, pinned in tests/interop/requirements-chip.txt
#   tests/interop/mjs/node_modules   the matter.js controller and reference device (npm ci from package-lock.json)
# A step whose inputs did not change since it last succeeded is skipped (stamp files). Prints a clear message and
# exits non-zero on failure. PYTHON=... picks the interpreter for .venv-chip (default python3).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
PYTHON=${PYTHON:-python3}
VENV=$REPO/.venv-chip
MJS=$HERE/mjs
REQ=$HERE/requirements-chip.txt

fail() {
  echo "interop setup FAILED: $*" >&2
  echo "interop setup: the interop tests cannot run until this is fixed (re-run tests/interop/setup.sh)." >&2
  exit 1
}
say() { echo "interop setup: $*"; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
apt_updated=0
apt_install() {  # apt_install PKG...: install the missing ones (root only)
  local missing=() p
  for p in "$@"; do have_pkg "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || fail "Debian packages missing: ${missing[*]} (run as root, or install them)"
  command -v apt-get >/dev/null || fail "Debian packages missing: ${missing[*]} and no apt-get"
  say "apt-get install ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; then
    [ $apt_updated = 1 ] || { apt-get update -q >/dev/null 2>&1; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
      fail "apt-get install ${missing[*]}"
  fi
}
# first_available PKG...: the first package name apt knows (names differ between Debian releases)
first_available() {
  local p
  for p in "$@"; do have_pkg "$p" && { echo "$p"; return; }; done
  for p in "$@"; do
    [ -n "$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)"')" ] && { echo "$p"; return; }
  done
  echo "$1"
}
stamp_of() { cat "$@" | sha256sum | cut -c1-64; }

# 1. Debian packages ------------------------------------------------------------------------------------------
command -v dpkg-query >/dev/null || fail "not a Debian system (no dpkg-query)"
apt_install iproute2 util-linux coreutils procps libnl-3-200 libnl-route-3-200
if ! ldconfig -p 2>/dev/null | grep -q 'libglib-2.0.so.0 '; then
  apt_install "$(first_available libglib2.0-0t64 libglib2.0-0)"
fi
ip netns list >/dev/null 2>&1 || fail "'ip netns' does not work here"

node_ok() {  # matter.js 0.17.9 needs Node >= 20.19 (or >= 22.13)
  command -v node >/dev/null && command -v npm >/dev/null && node -e '
    const [a, b] = process.versions.node.split(".").map(Number);
    process.exit((a === 20 && b >= 19) || (a === 22 && b >= 13) || a > 22 ? 0 : 1)'
}
if ! node_ok && ! command -v node >/dev/null; then
  apt_install nodejs npm
fi
node_ok || fail "Node.js >= 20.19 (or >= 22.13) with npm is needed for matter.js; found: $(node -v 2>/dev/null || echo none)"

# 2. CHIP controller venv -------------------------------------------------------------------------------------
chip_stamp() { { "$VENV/bin/python" -V 2>&1; cat "$REQ"; } | sha256sum | cut -c1-64; }
chip_ok() {
  [ -x "$VENV/bin/python" ] || return 1
  local so
  so=$("$VENV/bin/python" -c 'import chip, glob, os; print(glob.glob(os.path.join(os.path.dirname(chip.__file__), "_ChipDeviceCtrl*.so"))[0])' 2>/dev/null) || return 1
  ! ldd "$so" | grep -q "not found"
}
if [ -f "$VENV/.interop-stamp" ] && [ "$(cat "$VENV/.interop-stamp")" = "$(chip_stamp)" ] && chip_ok; then
  say "CHIP controller ok (.venv-chip)"
else
  say "installing the CHIP controller into .venv-chip"
  if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -m venv "$VENV" >/dev/null 2>&1; then
      rm -rf "$VENV"
      apt_install python3-venv
      "$PYTHON" -m venv "$VENV" || fail "cannot create .venv-chip with $PYTHON"
    fi
  fi
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ" || fail "pip install -r tests/interop/requirements-chip.txt"
  if ! chip_ok; then
    ldd "$("$VENV/bin/python" -c 'import chip, glob, os; print(glob.glob(os.path.join(os.path.dirname(chip.__file__), "_ChipDeviceCtrl*.so"))[0])' 2>/dev/null)" 2>/dev/null | grep "not found" >&2
    fail "the CHIP wheel's native module cannot load (missing libraries above)"
  fi
  chip_stamp > "$VENV/.interop-stamp"
fi

# 3. matter.js --------------------------------------------------------------------------------------------------
mjs_stamp() { { node -v; cat "$MJS/package.json" "$MJS/package-lock.json"; } | sha256sum | cut -c1-64; }
mjs_ok() {
  (cd "$MJS" && node -e '
    for (const p of ["@matter/main", "@matter/nodejs"]) {
      const v = JSON.parse(require("fs").readFileSync(`node_modules/${p}/package.json`, "utf8")).version;
      if (v !== "0.17.9") process.exit(1);
    }' 2>/dev/null)
}
if [ -f "$MJS/node_modules/.interop-stamp" ] && [ "$(cat "$MJS/node_modules/.interop-stamp")" = "$(mjs_stamp)" ] && mjs_ok; then
  say "matter.js ok (tests/interop/mjs/node_modules)"
else
  say "npm ci in tests/interop/mjs"
  (cd "$MJS" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in tests/interop/mjs"
  mjs_ok || fail "matter.js 0.17.9 not found after npm ci"
  mjs_stamp > "$MJS/node_modules/.interop-stamp"
fi

say "ready: $("$VENV/bin/python" -V 2>&1), home-assistant-chip-core $(grep -o 'chip-core==[0-9.]*' "$REQ" | cut -d= -f3), node $(node -v), @matter/main 0.17.9"
