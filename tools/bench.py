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


def markdown(path):
    rows = [json.loads(x) for x in open(path) if x.startswith("{")]
    out = ["| name | runtime | value | unit | extra |", "|---|---|---|---|---|"]
    for r in rows:
        extra = ", ".join(
            k + "=" + str(v) for k, v in r.items() if k not in ("name", "runtime", "value", "unit")
        )
        value = r.get("value")
        if isinstance(value, float):
            value = ("%.3g" % value) if abs(value) < 100 else ("%.0f" % value)
        out.append("| %s | %s | %s | %s | %s |" % (r["name"], r["runtime"], value, r.get("unit", ""), extra))
    return "\n".join(out)


def main(argv):
    if "--markdown" in argv:
        print(markdown(os.path.join(ROOT, "build", "bench.jsonl")))
        return
    names = [a for a in argv if not a.startswith("--")]
    lines = []
    lines += run([sys.executable, "tests/bench/run.py"] + names)
    env = dict(os.environ)
    if "--mpy" in argv:
        subprocess.run([sys.executable, "tools/build", "x64"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        env["MICROMATTER_LIB"] = "build/x64"
    lines += run([os.path.join(BIN, "micropython"), "tests/bench/run.py"] + names, env=env)
    os.makedirs(os.path.join(ROOT, "build"), exist_ok=True)
    with open(os.path.join(ROOT, "build", "bench.jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run([sys.executable, "tools/build", "x64", "xtensawin", "rv32imc"], cwd=ROOT)


if __name__ == "__main__":
    main(sys.argv[1:])
