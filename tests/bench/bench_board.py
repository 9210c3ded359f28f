"""The heap budget of a board ("Memory is a feature"): the smallest MicroPython heap in which the light boots
and is commissioned, measured under the unix port with ``micropython -X heapsize=N``.

CPython drives: ``tools/provision`` makes a board config and attestation record, the library and the board
package are compiled to .mpy (x64: the bytecode is the one an ESP32 loads), and each try starts
``tests/bench/board_heap_device.py`` (the board's boot path, see there) under a heap of N bytes; our test
commissioner (``tests/unit/commissioner.py``) then runs PASE and the whole commissioning (attestation, CSR,
AddNOC, CASE, CommissioningComplete) and a Toggle over CASE against it on a fake clock.  A bisection over N
finds the smallest heap that gets through (to ``RESOLUTION`` bytes); the figure is checked again at that size.

Figures: ``board_min_heap_mpy`` (code from .mpy, in the heap), ``board_code_heap`` (``gc.mem_alloc`` delta of
importing every module a board imports: bytecode, qstrs, module and class dicts), ``board_min_heap_frozen_est``
(the first minus the second: frozen modules keep their bytecode in flash; their dicts and classes still take
heap, so the true figure lies between this estimate and the .mpy one), the live heap after boot and after
commissioning at the default heap, and the wall time of a commissioning at the smallest heap (collections get
frequent there).  Only on CPython (it starts the MicroPython processes); the unix port is 64-bit, so objects
made of pointers take up to twice what they take on a 32-bit ESP32: the figures are upper bounds for a board.
"""

import json
import os
import sys
import time

import benchlib

if not benchlib.IS_MICROPYTHON:  # the processes are started from CPython; MicroPython only imports this module
    import importlib.machinery
    import importlib.util
    import shutil
    import subprocess
    import tempfile

ROOT = "." if benchlib.IS_MICROPYTHON else os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = ROOT + "/.venv/bin/micropython"
DEVICE = "tests/bench/board_heap_device.py"
PASSCODE = 20202021
DISCRIMINATOR = 3840
DEVICE_NODE_ID = 0x77
LOW, HIGH = 16 * 1024, 1024 * 1024  # the bisection's bounds (the low one must fail, the high one pass)
RESOLUTION = 1024
CONFIRM_RUNS = 3  # the figure reported passes this many tries in a row (keys and ids are random per try)
CONFIRM_STEP = 4096
RUN_TIMEOUT_S = 300
ON_OFF = 0x0006


def _tool(name):
    path = os.path.join(ROOT, "tools", name)
    loader = importlib.machinery.SourceFileLoader("mm_" + name, path)
    spec = importlib.util.spec_from_file_location("mm_" + name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class DeviceDied(Exception):
    """The device process ended or reported a fatal error (a MemoryError, mostly)."""


class RemoteNode:
    """A ``Node``-shaped proxy (for ``Wire``) of the device process: every call is one command line, the
    answer its output lines.  ``heap`` collects the ``h`` figures, ``log`` the warnings and errors."""

    def __init__(self, heapsize, files, lib, board, trace=False):
        args = [MICROPYTHON, "-X", "heapsize=%d" % heapsize, DEVICE, "--lib", lib, "--board", board,
                "--config", files["config"], "--att", files["att"], "--storage", files["storage"],
                "--trace", "1" if trace else "0"]
        self.proc = subprocess.Popen(["timeout", "-k", "5", str(RUN_TIMEOUT_S)] + args, cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.address = "dev"
        self.heap = {}
        self.log = []
        self.events = []
        self.deadline = None
        self.allocations = []  # (bytes one call allocated, its command) with ``trace``
        self._command = None
        self._read_until("h")  # "imported"

    def _read_until(self, kind):
        """Lines up to the first one of ``kind``; outputs and events on the way are kept."""
        outs = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise DeviceDied("the device exited (%s)" % self._stderr_tail())
            line = line.decode().rstrip("\n")
            tag, _, rest = line.partition(" ")
            if tag == "x":
                raise DeviceDied(rest)
            if tag == "h":
                figures = json.loads(rest)
                self.heap[figures["tag"]] = figures
            elif tag == "o":
                channel, address, length = rest.split(" ")
                data = self.proc.stdout.read(int(length))
                if len(data) != int(length):
                    raise DeviceDied("the device exited inside a datagram (%s)" % self._stderr_tail())
                outs.append((channel, data, "multicast" if address == "*" else address))
            elif tag == "e":
                self.events.append(json.loads(rest))
            elif tag == "t":
                self.allocations.append((int(rest), self._command))
            elif tag == "l":
                self.log.append(rest)
            elif tag == "n":
                self.deadline = None if rest == "-" else int(rest)
            if tag == kind:
                return outs

    def _stderr_tail(self):
        try:
            self.proc.wait(5)
            return (self.proc.stderr.read() or b"").decode().strip().splitlines()[-1:] or "no output"
        except (subprocess.TimeoutExpired, ValueError):
            return "no output"

    def _send(self, line, payload=b""):
        self.proc.stdin.write(line.encode() + b"\n" + payload)
        self.proc.stdin.flush()

    def _call(self, line, payload=b""):
        self._command = line[:80]
        try:
            self._send(line, payload)
        except (BrokenPipeError, ValueError):
            raise DeviceDied("the device exited")
        return self._read_until("n")

    def start(self, now_ms):
        return self._call("s %d" % now_ms)

    def on_datagram(self, data, source, now_ms):
        data = bytes(data)
        return self._call("d %d %s %d" % (now_ms, source, len(data)), data)

    def on_mdns(self, data, source, now_ms):
        return []

    def poll(self, now_ms):
        return self._call("p %d" % now_ms)

    def next_deadline(self):
        return self.deadline

    def figures(self, tag):
        self._send("h %s" % tag)
        self._read_until("h")
        return self.heap[tag]

    def close(self):
        try:
            self._send("q")
        except (BrokenPipeError, ValueError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Setup:
    """The provisioned files and the compiled code every try uses."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mm-board-")
        provision = _tool("provision")
        facts = provision.provision(self.dir, "bench", "", PASSCODE, DISCRIMINATOR, 0xFFF1, 0x8000, 0x0100, None,
                                    False, "/mm", 5540, None, 1000, None, True,
                                    os.path.join(ROOT, "tools", "credentials"), None)
        self.config = facts["config"]
        self.att = facts["attestation"]
        subprocess.run([sys.executable, os.path.join("tools", "build"), "x64"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        self.board = os.path.join(self.dir, "board")
        _tool("deploy").compile_board("x64", self.board)
        self.lib = os.path.join("build", "x64")
        self.mpy_bytes = _tree_bytes(os.path.join(ROOT, self.lib)) + _tree_bytes(self.board)
        self.count = 0

    def files(self):
        """A fresh storage directory and attestation file per try (the board installs and removes it)."""
        self.count += 1
        storage = os.path.join(self.dir, "storage%d" % self.count)
        att = os.path.join(self.dir, "att%d" % self.count)
        shutil.copyfile(self.att, att)
        return {"config": self.config, "att": att, "storage": storage}

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def _tree_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, names in os.walk(path) for f in names
               if f.endswith(".mpy"))


def attempt(setup, heapsize):
    """One boot + commissioning + Toggle under ``heapsize``: (ok, RemoteNode, detail, seconds)."""
    from commissioner import Commissioner, Wire
    from micromatter.im import messages as msg
    from micromatter.im import status

    start = time.monotonic()
    remote = None
    try:
        remote = RemoteNode(heapsize, setup.files(), setup.lib, setup.board)
        w = Wire()
        w.add(remote, "dev")
        w.take("dev", remote.start(0))
        remote.figures("booted")
        ctl = Commissioner()
        w.add(ctl)
        result = ctl.commission(w, "dev", PASSCODE, DEVICE_NODE_ID)
        r = ctl.invoke(w, result.case, 1, ON_OFF, 2)
        if not isinstance(r, msg.CommandStatus) or r.status != status.SUCCESS:
            raise AssertionError("Toggle answered %r" % (r,))
        remote.figures("commissioned")
        if [e for e in remote.events if e.get("event") == "commissioned"] == []:
            raise AssertionError("no commissioned event")
        return True, remote, "ok", time.monotonic() - start
    except Exception as e:  # every way a try can fail is a failed try
        detail = "%s: %s" % (type(e).__name__, e)
        if remote is not None and remote.log:
            detail += " | " + remote.log[-1]
        return False, remote, detail, time.monotonic() - start
    finally:
        if remote is not None:
            remote.close()


def smallest_heap(setup, low=LOW, high=HIGH, resolution=RESOLUTION):
    """Bisection: the smallest heap (to ``resolution``) that passes, with the tries made [(size, ok, detail)]."""
    tries = []
    ok, _, detail, _ = attempt(setup, high)
    tries.append((high, ok, detail))
    if not ok:
        raise AssertionError("the light does not even run in %d bytes: %s" % (high, detail))
    while high - low > resolution:
        mid = (low + high) // 2 // resolution * resolution
        if mid <= low:
            mid = low + resolution
        ok, _, detail, _ = attempt(setup, mid)
        tries.append((mid, ok, detail))
        if ok:
            high = mid
        else:
            low = mid
    return high, tries


def confirmed(setup, size, steps=32):
    """The smallest heap from ``size`` up (by ``CONFIRM_STEP``) that passes ``CONFIRM_RUNS`` tries in a row: a
    try's memory varies a little with its random keys and ids.  Returns (size, seconds of the last try)."""
    for _ in range(steps):
        for _ in range(CONFIRM_RUNS):
            ok, _, detail, seconds = attempt(setup, size)
            if not ok:
                break
        else:
            return size, seconds
        size += CONFIRM_STEP
    raise AssertionError("no heap up to %d bytes passes %d tries in a row" % (size, CONFIRM_RUNS))


def run(emit):
    if benchlib.IS_MICROPYTHON:
        return  # this bench starts MicroPython processes from CPython
    from micromatter import log

    level = log.level
    log.set_level(log.WARNING)
    setup = Setup()

    def emit_micropython(name, value, unit, **extra):
        extra["runtime"] = "micropython"  # measured in the unix port processes this CPython bench starts
        emit(name, value, unit, **extra)

    try:
        _run(emit_micropython, setup)
    finally:
        setup.close()
        log.set_level(level)


def traced_allocations(setup, heapsize=64 * 1024 * 1024):
    """Bytes each device call allocates (garbage included: the collector is off during the call), largest
    first, over a commissioning: how hard the collector works, not what stays."""
    from commissioner import Commissioner, Wire

    remote = RemoteNode(heapsize, setup.files(), setup.lib, setup.board, trace=True)
    try:
        w = Wire()
        w.add(remote, "dev")
        w.take("dev", remote.start(0))
        ctl = Commissioner()
        w.add(ctl)
        ctl.commission(w, "dev", PASSCODE, DEVICE_NODE_ID)
    finally:
        remote.close()
    return sorted(remote.allocations, reverse=True)


def _run(emit, setup):
    ok, remote, detail, seconds = attempt(setup, 2 * 1024 * 1024)
    if not ok:
        raise AssertionError("commissioning failed at the unix port's default heap: " + detail)
    code = remote.heap["imported"]["code"]
    emit("board_code_heap", code, "B", modules=remote.heap["imported"]["modules"], mpy_bytes=setup.mpy_bytes,
         missing=len(remote.heap["imported"]["missing"]),
         note="gc.mem_alloc delta of importing the board's modules from .mpy (x64 unix port)")
    emit("board_heap_booted", remote.heap["booted"]["alloc"], "B",
         note="live heap after boot (node started, window open), code included")
    emit("board_heap_commissioned", remote.heap["commissioned"]["alloc"], "B",
         note="live heap after commissioning and a Toggle over CASE, code included")
    bisected, tries = smallest_heap(setup)
    smallest, seconds = confirmed(setup, bisected)
    below = [t for t in tries if not t[1]]
    emit("board_min_heap_mpy", smallest, "B", bisected=bisected, resolution=RESOLUTION, tries=len(tries),
         confirmed_runs=CONFIRM_RUNS, failure_below=(below[-1][2][:160] if below else None),
         note="smallest -X heapsize for boot + PASE + commissioning + Toggle, library from .mpy (x64 unix port)")
    emit("board_min_heap_frozen_est", smallest - code, "B",
         note="board_min_heap_mpy minus board_code_heap: frozen modules keep bytecode in flash (an estimate: "
              "module and class dicts stay in the heap)")
    emit("board_commissioning_wall_at_min_heap", round(seconds, 2), "s", heapsize=smallest,
         note="whole try (process start, imports, boot, commissioning) at the smallest heap, x64")
    allocations = traced_allocations(setup)
    emit("board_call_alloc_max", allocations[0][0], "B", command=allocations[0][1][:12],
         total=sum(a for a, _ in allocations), calls=len(allocations),
         note="most bytes one device call allocated during a commissioning, garbage included (x64)")
