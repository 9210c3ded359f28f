"""Run the unit tests under the unix MicroPython port.

    micropython tools/mptest.py [--mpy DIR] [-m MODULE_TEXT] [-k TEXT] [TESTDIR]

Imports every ``test_*.py`` in TESTDIR (default tests/unit) and calls each
``test_*`` function (``-m``: only modules whose name contains MODULE_TEXT;
``-k``: only tests whose ``module.function`` contains TEXT).  With ``--mpy DIR`` the library is imported only from the
mpy-cross output in DIR (the ``.py`` sources are taken off the path and the
run fails if a module came from source).  Ends with the line
``N passed, N failed``; exits 1 if anything failed.
"""

import sys
import os
import gc
import time

args = sys.argv[1:]
mpy_dir = None
pattern = None
module_pattern = None
test_dir = "tests/unit"
while args:
    a = args.pop(0)
    if a == "--mpy":
        mpy_dir = args.pop(0)
    elif a == "-m":
        module_pattern = args.pop(0)
    elif a == "-k":
        pattern = args.pop(0)
    else:
        test_dir = a

# Only the repository's own directories, in a known order.
sys.path[:] = [p for p in sys.path if p in (".frozen",)]
if mpy_dir:
    sys.path.insert(0, mpy_dir)
else:
    sys.path.insert(0, "shared")
    sys.path.insert(1, "mp")
sys.path.insert(0, test_dir)

if mpy_dir:
    import micromatter
    import micromatter_mp

    for m in (micromatter, micromatter_mp):
        if not m.__file__.endswith(".mpy"):
            print("mptest: " + m.__name__ + " was imported from " + m.__file__ + ", not from .mpy")
            sys.exit(2)
    print("mptest: library from " + mpy_dir + " (.mpy)")

import support  # noqa: E402

names = sorted(n for n in os.listdir(test_dir) if n.startswith("test_") and n.endswith(".py"))
passed = failed = skipped = 0
failures = []
t_start = time.ticks_ms()
for name in names:
    modname = name[:-3]
    if module_pattern and module_pattern not in modname:
        continue
    try:
        module = __import__(modname)
    except Exception as e:
        failed += 1
        failures.append(modname)
        print("FAIL " + modname + " (import)")
        sys.print_exception(e)
        continue
    tests = sorted(n for n in dir(module) if n.startswith("test_"))
    for tname in tests:
        full = modname + "." + tname
        if pattern and pattern not in full:
            continue
        fn = getattr(module, tname)
        if not callable(fn):
            continue
        t0 = time.ticks_ms()
        try:
            fn()
        except support.Skip as e:
            skipped += 1
            print("SKIP " + full + ": " + str(e))
            continue
        except Exception as e:
            failed += 1
            failures.append(full)
            print("FAIL " + full)
            sys.print_exception(e)
            continue
        passed += 1
        print("ok   " + full + " (" + str(time.ticks_diff(time.ticks_ms(), t0)) + " ms)")
    # Unload the test module so that one long run does not keep every module's data alive.
    del module
    sys.modules.pop(modname, None)
    gc.collect()

print("runtime micropython, " + str(time.ticks_diff(time.ticks_ms(), t_start)) + " ms")
if skipped:
    print(str(skipped) + " skipped")
for f in failures:
    print("failed: " + f)
print(str(passed) + " passed, " + str(failed) + " failed")
sys.exit(1 if failed or not passed else 0)
