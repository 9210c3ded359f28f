#!/bin/sh
# Run test stages; `all` runs every stage even after a failure and exits non-zero if any failed.
#   cpython  unit tests under CPython (pytest)
#   mp       the same unit tests under the unix MicroPython port, from the .py sources
#   mpy      the same again, the library compiled by mpy-cross to .mpy (x64)
#   host     CPython-only tests: fuzzing, cross-runtime checks, file storage
#   interop  real controllers against the device, in network namespaces (needs root)
set -u
cd "$(dirname "$0")/.."
BIN=.venv/bin
# The unit tests run in one MicroPython process; board-sized heaps are measured by the benchmarks instead.
MP_HEAP=${MP_HEAP:-8M}

stage() {
    case "$1" in
        cpython) $BIN/python -m pytest tests/unit ;;
        mp) $BIN/micropython -X heapsize=$MP_HEAP tools/mptest.py tests/unit ;;
        mpy) $BIN/python tools/build x64 >/dev/null && $BIN/micropython -X heapsize=$MP_HEAP tools/mptest.py --mpy build/x64 tests/unit ;;
        host) $BIN/python -m pytest tests/host ;;
        interop) $BIN/python -m pytest -p no:randomly tests/interop ;;
        *) echo "unknown stage $1"; return 2 ;;
    esac
}

if [ "${1:-all}" = all ]; then
    set -- cpython mp mpy host interop
fi
failed=""
for s in "$@"; do
    echo "=== test stage: $s"
    stage "$s" || failed="$failed $s"
done
if [ -n "$failed" ]; then
    echo "=== FAILED stages:$failed"
    exit 1
fi
echo "=== all stages passed: $*"
