#!/usr/bin/env python3
"""`make bench`: run every benchmark module under CPython and under the unix MicroPython port.

Prints one JSON object per line ({"name", "runtime", "value", "unit", ...}),
also saved to build/bench.jsonl.  ``--markdown`` renders that file as the table
kept in docs/BENCHMARKS.md.  ``--mpy`` runs the MicroPython side from
build/x64 .mpy files.
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)


def run(cmd, env=None):
    lines = []
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
    for line in proc.stdout:
        line = line.strip()
        if line.startswith("{"):
            print(line, flush=True)
            lines.append(line)
        elif line:
            sys.stderr.write(line + "\n")
    proc.wait()
    return lines


_NOT_PARAMS = ("name", "runtime", "value", "unit", "note")


def _value(value):
    if isinstance(value, float):
        return ("%.3g" % value) if abs(value) < 100 else ("%.0f" % value)
    return "" if value is None else str(value)


def markdown(path):
    """The figures side by side: one row per figure (name and its parameters), a column per runtime."""
    rows = {}
    for line in open(path):
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if "error" in r:
            continue
        params = ", ".join(k + "=" + str(r[k]) for k in sorted(r)  # sorted: MicroPython's dicts keep no order
                           if k not in _NOT_PARAMS and len(str(r[k])) <= 32)  # long texts are diagnostics
        row = rows.setdefault((r["name"], params), {"unit": r.get("unit", ""), "note": r.get("note", "")})
        row[r["runtime"]] = r.get("value")
    out = ["| figure | parameters | CPython | MicroPython | unit |", "|---|---|---|---|---|"]
    for (name, params), row in rows.items():
        out.append("| %s | %s | %s | %s | %s |" % (name, params, _value(row.get("cpython")),
                                                 _value(row.get("micropython")), row["unit"]))
    return "\n".join(out)


def _modules():
    here = os.path.join(ROOT, "tests", "bench")
    return sorted(n[:-3] for n in os.listdir(here) if n.startswith("bench_") and n.endswith(".py"))


def main(argv):
    if "--markdown" in argv:
        print(markdown(os.path.join(ROOT, "build", "bench.jsonl")))
        return
    names = [a for a in argv if not a.startswith("--")]
    modules = [m for m in _modules() if not names or m in names or m[6:] in names]
    env = dict(os.environ)
    if "--mpy" in argv:
        subprocess.run([sys.executable, "tools/build", "x64"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        env["MICROMATTER_LIB"] = "build/x64"
    lines = []
    # One process per module and runtime: a module's timings and heap figures do not depend on the heap (and
    # the caches) the modules before it left behind.
    for module in modules:
        lines += run([sys.executable, "tests/bench/run.py", module])
    for module in modules:
        lines += run([os.path.join(BIN, "micropython"), "tests/bench/run.py", module], env=env)
    os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
    lines += run([sys.executable, "tools/build", "x64", "xtensawin", "rv32imc"])
    with open(os.path.join(ROOT, "build", "bench.jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
