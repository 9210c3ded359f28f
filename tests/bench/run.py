"""Run benchmark modules in this runtime; one JSON line per figure.

    python tests/bench/run.py [NAME ...]        (CPython)
    micropython tests/bench/run.py [NAME ...]   (unix port; run from the repository root)
"""

import sys
import os
import json

_here = "tests/bench"
if sys.implementation.name == "micropython":
    sys.path[:] = [p for p in sys.path if p == ".frozen"]
    for p in (os.getenv("MICROMATTER_LIB") or "shared:mp").split(":"):
        sys.path.append(p)
    sys.path.append("tests/unit")
    sys.path.append(_here)
else:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    _here = os.path.join(root, "tests", "bench")
    for p in ("shared", "cpython", "tests/unit", "tests/bench"):
        sys.path.insert(0, os.path.join(root, p))

import benchlib  # noqa: E402


def main(names):
    modules = sorted(n[:-3] for n in os.listdir(_here) if n.startswith("bench_") and n.endswith(".py"))
    if names:
        modules = [m for m in modules if m in names or m[6:] in names]
    for modname in modules:
        module = __import__(modname)

        def emit(name, value, unit, **extra):
            if value is None:
                return  # a figure this runtime cannot measure (heap figures need gc.mem_alloc: MicroPython)
            record = {"name": name, "runtime": benchlib.RUNTIME, "value": value, "unit": unit}
            record.update(extra)
            print(json.dumps(record))

        try:
            module.run(emit)
        except Exception as e:  # report and go on with the other modules
            print(json.dumps({"name": modname, "runtime": benchlib.RUNTIME, "error": repr(e)}))


main(sys.argv[1:])
