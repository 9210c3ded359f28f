"""Measuring helpers for benchmark modules, on both runtimes.

A benchmark module ``tests/bench/bench_*.py`` defines ``run(emit)`` and calls
``emit(name, value, unit, **extra)`` per figure; ``tools/bench.py`` adds the
runtime and prints one JSON object per line.  Times come from
``time.ticks_us`` on MicroPython and ``time.perf_counter_ns`` on CPython; heap
figures from ``gc.mem_alloc()`` deltas with the collector paused (MicroPython)
or ``tracemalloc`` (CPython).
"""

import gc
import sys
import time

IS_MICROPYTHON = sys.implementation.name == "micropython"
RUNTIME = "micropython" if IS_MICROPYTHON else "cpython"

if IS_MICROPYTHON:

    def _now_us():
        return time.ticks_us()

    def _diff_us(end, start):
        return time.ticks_diff(end, start)

else:

    def _now_us():
        return time.perf_counter_ns() // 1000

    def _diff_us(end, start):
        return end - start


def time_per_op_us(function, n, warmup=3):
    """Mean wall time of ``function()`` in microseconds over ``n`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        function()
    gc.collect()
    start = _now_us()
    for _ in range(n):
        function()
    return _diff_us(_now_us(), start) / n


def alloc_per_op_bytes(function, n, warmup=3):
    """Heap bytes allocated per call of ``function()`` after warm-up.

    MicroPython: ``gc.mem_alloc()`` delta with the collector disabled, so
    nothing is freed while counting.  CPython: the tracemalloc peak above the
    start (a different measure: Python objects are always allocated there)."""
    for _ in range(warmup):
        function()
    gc.collect()
    if IS_MICROPYTHON:
        gc.disable()
        try:
            before = gc.mem_alloc()
            for _ in range(n):
                function()
            after = gc.mem_alloc()
        finally:
            gc.enable()
        return (after - before) / n
    import tracemalloc

    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(n):
            function()
        current = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return max(0, current - base) / n


def heap_used():
    """Bytes in use on the heap now (after a collection)."""
    gc.collect()
    if IS_MICROPYTHON:
        return gc.mem_alloc()
    import tracemalloc

    return tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else None


def heap_of(build):
    """Heap bytes held by what ``build()`` returns (collected before and after; MicroPython ``gc.mem_alloc``,
    CPython tracemalloc)."""
    gc.collect()
    if IS_MICROPYTHON:
        before = gc.mem_alloc()
        kept = build()
        gc.collect()
        used = gc.mem_alloc() - before
    else:
        import tracemalloc

        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    del kept
    return used
