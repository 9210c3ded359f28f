"""The interop harness: network namespaces, a device under test and real controllers, driven from Python.

Used by ``tests/interop/conftest.py`` (pytest fixtures) and ``tools/interop_figures.py`` (reference figures).
Everything here drives the shell scripts beside it, which do the privileged work:

- ``netns.sh up|down PREFIX``: a namespace pair PREFIX-dev / PREFIX-ctl joined by one veth pair, nothing else.
- ``in-ns.sh PREFIX dev SECONDS -- CMD``: the device command inside PREFIX-dev, under ``timeout -k``.
- ``chip-ctl.sh HOME PREFIX -- OP ...`` and ``mjs-ctl.sh HOME PREFIX -- OP ...``: one controller operation inside
  PREFIX-ctl. Their stdout carries ``RESULT {json}`` lines (and ``CHIP``, ``WAIT``, ``SUBSCRIBED``, ``REPORT``);
  a device prints ``EVENT {json}`` lines.

Network safety: no process started here runs in the host's network namespace; each is bounded by ``timeout -k``
and by a wait here, and is stopped by PID; the namespaces go away in ``NetnsPair.down`` even after a failure.
"""

import ast
import json
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CHIP_VENV = os.environ.get("INTEROP_CHIP_VENV", os.path.join(REPO, ".venv-chip"))
MJS_DIR = os.path.join(HERE, "mjs")

# The device's addresses in the pair netns.sh makes (they exist only inside it).
DEV_IP4 = "10.77.0.1"
DEV_IP6 = "fd00:77::1"

DEFAULT_PORT = 5540
DEFAULT_PASSCODE = 20202021
DEFAULT_DISCRIMINATOR = 3840

KILL_GRACE_S = 10  # what the scripts give `timeout -k`


class HarnessError(Exception):
    """The harness itself failed (a namespace, a process or an expected line did not appear in time)."""


# ---- availability -----------------------------------------------------------------------------------------------

def unavailable_reason():
    """Why the interop tests cannot run on this machine, or None when they can."""
    if os.geteuid() != 0:
        return "interop tests need root (network namespaces, mount namespaces)"
    for tool in ("ip", "timeout", "unshare", "chroot", "node"):
        if shutil.which(tool) is None:
            return "interop tests need '%s' (tests/interop/setup.sh)" % tool
    try:
        probe = subprocess.run(["ip", "netns", "list"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "'ip netns' does not work here: %s" % e
    if probe.returncode != 0:
        return "'ip netns' does not work here: %s" % probe.stderr.decode(errors="replace").strip()
    if not os.access(os.path.join(CHIP_VENV, "bin", "python"), os.X_OK) or \
            not os.path.exists(os.path.join(CHIP_VENV, ".interop-stamp")):
        return "CHIP controller not installed (.venv-chip): run tools/setup.sh interop"
    if not os.path.exists(os.path.join(MJS_DIR, "node_modules", ".interop-stamp")):
        return "matter.js not installed (tests/interop/mjs/node_modules): run tools/setup.sh interop"
    return None


# ---- output lines -------------------------------------------------------------------------------------------------

def parse_tagged(text, tag):
    """The JSON objects of the ``TAG {json}`` lines in ``text``, in order; other lines are ignored."""
    out = []
    start = tag + " "
    for line in text.splitlines():
        if not line.startswith(start):
            continue
        try:
            obj = json.loads(line[len(start):])
        except ValueError:
            continue
        if isinstance(obj, dict):
            out.append(obj)
    return out


def matches(obj, filters):
    return all(obj.get(k) == v for k, v in filters.items())


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def wait_until(predicate, timeout, interval=0.1, what="condition"):
    """Poll ``predicate()`` until it returns a true value (returned) or ``timeout`` seconds pass (HarnessError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise HarnessError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---- processes ----------------------------------------------------------------------------------------------------

def children(pid):
    out = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                out.extend(int(x) for x in f.read().split())
    except (OSError, ValueError):
        pass
    return out


def descendants(pid, limit=1000):
    """Every process below ``pid`` (breadth first, bounded)."""
    out = []
    todo = children(pid)
    while todo and len(out) < limit:
        p = todo.pop(0)
        out.append(p)
        todo.extend(children(p))
    return out


def status_kb(pid, field):
    """A ``kB`` field of /proc/PID/status (VmHWM, VmRSS, ...), or None."""
    for line in _read("/proc/%d/status" % pid).splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Process:
    """One bounded background command (``timeout -k`` is the first process) with its stdout in a file."""

    def __init__(self, argv, out_path, env=None):
        self.argv = list(argv)
        self.out_path = out_path
        self.err_path = out_path + ".err"
        os.makedirs(os.path.dirname(out_path), exist_ok=True)
        with open(out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.popen = subprocess.Popen(self.argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                          start_new_session=True)
        self.pid = self.popen.pid
        self.started = time.monotonic()

    def text(self):
        return _read(self.out_path)

    def stderr(self):
        return _read(self.err_path)

    def tagged(self, tag, **filters):
        return [o for o in parse_tagged(self.text(), tag) if matches(o, filters)]

    def running(self):
        return self.popen.poll() is None

    def wait_tagged(self, tag, timeout, **filters):
        """The first ``TAG {json}`` line matching ``filters``; HarnessError if the process ends or time runs out."""
        def seen():
            hits = self.tagged(tag, **filters)
            if hits:
                return hits[0]
            if not self.running():
                hits = self.tagged(tag, **filters)  # it may have printed the line just before exiting
                if hits:
                    return hits[0]
                raise HarnessError("%s exited (%s) before printing %s %s; stderr: %s" % (
                    self.describe(), self.popen.returncode, tag, filters, self.stderr()[-800:]))
            return None
        return wait_until(seen, timeout, what="%s %s from %s" % (tag, filters, self.describe()))

    def wait(self, timeout):
        """Wait for the exit (bounded); on time-out stop it and raise HarnessError."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise HarnessError("%s still running after %.0f s; stopped" % (self.describe(), timeout))

    def tree(self):
        """The processes below the ``timeout`` wrapper: the command itself and whatever it started."""
        return descendants(self.pid) if self.running() else []

    def signal_tree(self, sig):
        """Signal every process below the wrapper, the deepest first: a device whose command runs a child (the
        micromatter CLI and its MicroPython process) must not see its parent die first and react to that (the
        child stops cleanly when its stdin closes, which is not a power cut)."""
        for p in reversed(self.tree()):
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass

    def stop(self, sig=signal.SIGTERM, grace=10.0):
        """Signal the command (through ``timeout``, which forwards it); SIGKILL what is left after ``grace`` s."""
        if not self.running():
            return self.popen.returncode
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass
        try:
            return self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            pass
        self.signal_tree(signal.SIGKILL)
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return self.popen.wait(KILL_GRACE_S)

    def describe(self):
        return "pid %d (%s)" % (self.pid, " ".join(os.path.basename(a) if a.startswith("/") else a
                                                     for a in self.argv[:8]))


# ---- namespaces ---------------------------------------------------------------------------------------------------

PREFIX_RE = re.compile(r"^mm(\d+)[a-z]{4}-(dev|ctl)$")


def unique_prefix():
    """A namespace prefix that parallel runs do not share: "mm", the owner's PID, random letters."""
    letters = "".join(random.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(4))
    return "mm%d%s" % (os.getpid(), letters)


def ns_list():
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def sweep_stale():
    """Delete the namespace pairs of harness runs whose process is gone (a run killed before its clean-up).

    Only names this module makes (mm<PID><letters>-dev|ctl) whose PID no longer exists are touched; returns the
    prefixes removed."""
    removed = []
    for name in ns_list():
        m = PREFIX_RE.match(name)
        if m and not alive(int(m.group(1))):
            prefix = name.rsplit("-", 1)[0]
            if prefix not in removed:
                subprocess.run([os.path.join(HERE, "netns.sh"), "down", prefix], capture_output=True, timeout=60)
                removed.append(prefix)
    return removed


class NetnsPair:
    """PREFIX-dev and PREFIX-ctl, joined only to each other (netns.sh). Use as a context manager."""

    def __init__(self, prefix=None):
        self.prefix = prefix or unique_prefix()
        self.dev = self.prefix + "-dev"
        self.ctl = self.prefix + "-ctl"
        self.info = None
        self.dev_ip4 = DEV_IP4
        self.dev_ip6 = DEV_IP6

    def up(self):
        r = subprocess.run([os.path.join(HERE, "netns.sh"), "up", self.prefix], capture_output=True, text=True,
                           timeout=60)
        found = parse_tagged(r.stdout, "NETNS")
        if r.returncode != 0 or not found:
            self.down()
            raise HarnessError("netns.sh up %s failed: %s %s" % (self.prefix, r.stdout[-500:], r.stderr[-500:]))
        self.info = found[-1]
        return self

    def down(self):
        """Stop what is left inside (by PID) and delete both namespaces; True when both are gone."""
        r = subprocess.run([os.path.join(HERE, "netns.sh"), "down", self.prefix], capture_output=True, text=True,
                           timeout=60)
        self.down_output = r.stdout + r.stderr
        left = set(ns_list()) & {self.dev, self.ctl}
        return r.returncode == 0 and not left

    def pids(self, side):
        r = subprocess.run(["ip", "netns", "pids", self.prefix + "-" + side], capture_output=True, text=True,
                           timeout=10)
        return [int(x) for x in r.stdout.split()]

    def run(self, side, argv, timeout=30):
        """A short command inside one namespace (bounded); returns the CompletedProcess."""
        return subprocess.run([os.path.join(HERE, "in-ns.sh"), self.prefix, side, str(int(timeout)), "--"] +
                              list(argv), capture_output=True, text=True, timeout=timeout + KILL_GRACE_S + 5)

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc):
        self.down()
        return False


# ---- devices ------------------------------------------------------------------------------------------------------

class DeviceSpec:
    """How to start one kind of device: ``argv(storage, port, passcode, discriminator, log)`` is the command.
    ``heap``: the device prints an ``EVENT heap`` line when its command's first process gets SIGUSR1."""

    def __init__(self, name, make_argv, check=None, heap=False):
        self.name = name
        self.make_argv = make_argv
        self.check = check
        self.heap = heap

    def variant(self, name, *extra):
        """The same device with ``extra`` arguments at the end of its command."""
        make = self.make_argv
        return DeviceSpec(name, lambda *a: list(make(*a)) + list(extra), self.check, self.heap)

    def argv(self, storage, port, passcode, discriminator, log):
        return [str(a) for a in self.make_argv(storage, port, passcode, discriminator, log)]

    def unavailable_reason(self):
        """Why this device cannot be started here (None when it can)."""
        return self.check() if self.check else None

    def __repr__(self):
        return "DeviceSpec(%s)" % self.name


def micromatter_has_run_command():
    """True once ``micromatter_cpython.cli`` defines a ``run`` command (checked in its source: nothing is run)."""
    path = os.path.join(REPO, "cpython", "micromatter_cpython", "cli.py")
    try:
        with open(path) as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value == "run":
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in ("run", "cmd_run", "run_cmd"):
            return True
    return False


def _micromatter_check():
    if not micromatter_has_run_command():
        return "micromatter device not implemented yet"
    if not os.access(os.path.join(REPO, ".venv", "bin", "micromatter"), os.X_OK):
        return "micromatter is not installed in .venv (make setup)"
    return None


def _reference_check():
    if not os.path.exists(os.path.join(MJS_DIR, "node_modules", "@matter", "main", "package.json")):
        return "matter.js not installed: run tools/setup.sh interop"
    return None


# micromatter's own light under the unix MicroPython port (`micromatter run`).
MICROMATTER_DEVICE = DeviceSpec(
    "micromatter",
    lambda storage, port, passcode, discriminator, log: [
        os.path.join(REPO, ".venv", "bin", "micromatter"), "run", "--runtime", "micropython", "--storage", storage,
        "--port", port, "--passcode", passcode, "--discriminator", discriminator],
    _micromatter_check,
    heap=True,
)

# The same light, the CPython twin (`micromatter run --runtime cpython`).
MICROMATTER_CPYTHON_DEVICE = MICROMATTER_DEVICE.variant("micromatter-cpython", "--runtime", "cpython")

# The matter.js reference OnOff light (mjs/device.mjs).
REFERENCE_DEVICE = DeviceSpec(
    "reference",
    lambda storage, port, passcode, discriminator, log: [
        "node", os.path.join(MJS_DIR, "device.mjs"), "--dev-state", storage, "--dev-port", port,
        "--dev-passcode", passcode, "--dev-discriminator", discriminator, "--dev-log", log],
    _reference_check,
)

DEVICE_SPECS = {s.name: s for s in (MICROMATTER_DEVICE, MICROMATTER_CPYTHON_DEVICE, REFERENCE_DEVICE)}


def device_from_template(template, name="custom"):
    """A DeviceSpec from a command line with {storage} {port} {passcode} {discriminator} {log} placeholders."""
    words = shlex.split(template)

    def make(storage, port, passcode, discriminator, log):
        values = {"storage": storage, "port": port, "passcode": passcode, "discriminator": discriminator, "log": log}
        out = []
        for word in words:  # plain replacement: other braces in the command stay as they are
            for key, value in values.items():
                word = word.replace("{%s}" % key, str(value))
            out.append(word)
        return out
    return DeviceSpec(name, make)


class Device:
    """A device command running inside PREFIX-dev, restartable on the same storage; stdout holds EVENT lines."""

    def __init__(self, netns, spec, rundir, port=DEFAULT_PORT, passcode=DEFAULT_PASSCODE,
                 discriminator=DEFAULT_DISCRIMINATOR, limit=900):
        self.netns = netns
        self.spec = spec
        self.dir = os.path.join(rundir, "device-" + spec.name)
        self.storage = os.path.join(self.dir, "storage")
        self.port = port
        self.passcode = passcode
        self.discriminator = discriminator
        self.limit = limit
        self.proc = None
        self.runs = 0
        self.online = None          # the latest online event
        self.online_s = None        # start -> online, seconds
        self.peak_rss = []          # per stopped run: {"run", "kb", "processes"}
        os.makedirs(self.storage, exist_ok=True)

    def start(self, timeout=60):
        """Start the device and wait for its online event (returned)."""
        if self.proc is not None and self.proc.running():
            raise HarnessError("device already running")
        self.runs += 1
        out = os.path.join(self.dir, "run-%d.out" % self.runs)
        argv = self.spec.argv(self.storage, self.port, self.passcode, self.discriminator,
                              os.path.join(self.dir, "run-%d.log" % self.runs))
        self.proc = Process([os.path.join(HERE, "in-ns.sh"), self.netns.prefix, "dev", str(self.limit), "--"] + argv,
                            out)
        t = time.monotonic()
        try:
            self.online = self.proc.wait_tagged("EVENT", timeout, event="online")
        except HarnessError:
            self.stop()
            raise
        self.online_s = time.monotonic() - t
        return self.online

    def events(self, run=None, **filters):
        text = _read(os.path.join(self.dir, "run-%d.out" % (run or self.runs)))
        return [o for o in parse_tagged(text, "EVENT") if matches(o, filters)]

    def sample_rss(self):
        """Peak RSS (VmHWM, kB) of the device's processes now: their sum, and each process."""
        procs = []
        for p in self.proc.tree() if self.proc else []:
            kb = status_kb(p, "VmHWM")
            if kb is not None:
                procs.append({"pid": p, "comm": _read("/proc/%d/comm" % p).strip(), "kb": kb})
        return {"run": self.runs, "kb": sum(x["kb"] for x in procs), "processes": procs}

    def _record_rss(self):
        sample = self.sample_rss()
        if sample["processes"]:
            self.peak_rss.append(sample)

    def heap(self, timeout=30):
        """Ask the device for its heap figures (SIGUSR1 to its command's first process) and return the ``EVENT
        heap`` line it prints; None for a device that cannot (``DeviceSpec.heap``)."""
        if not self.spec.heap or self.proc is None:
            return None
        tree = self.proc.tree()
        if not tree:
            raise HarnessError("device not running")
        before = len(self.events(event="heap", reason="request"))
        os.kill(tree[0], signal.SIGUSR1)
        return wait_until(lambda: self.events(event="heap", reason="request")[before:], timeout,
                          what="the device's heap event")[0]

    def kill(self, timeout=15):
        """SIGKILL every process of the device at once (a power cut), then reap the wrapper."""
        if self.proc is None:
            return None
        self._record_rss()
        self.proc.signal_tree(signal.SIGKILL)
        rc = self.proc.wait(timeout)
        return rc

    def stop(self, sig=signal.SIGTERM, grace=15.0):
        """A clean stop (SIGTERM through the wrapper, SIGKILL after ``grace`` s)."""
        if self.proc is None:
            return None
        if self.proc.running():
            self._record_rss()
        return self.proc.stop(sig, grace)

    def restart(self, kill=True, timeout=60):
        """Kill (or stop) the device and start it again on the same storage; returns the new online event."""
        if kill:
            self.kill()
        else:
            self.stop()
        return self.start(timeout)


# ---- controllers --------------------------------------------------------------------------------------------------

def to_flags(kwargs):
    """{"nodeid": 1, "expire": True, "fabric_index": None} -> ["--nodeid", "1", "--expire"]."""
    out = []
    for key, value in kwargs.items():
        if value is None or value is False:
            continue
        out.append("--" + key.replace("_", "-"))
        if value is not True:
            out.append(str(value))
    return out


class OpRun:
    """One finished controller process: its RESULT lines, the final one, exit code and wall time."""

    def __init__(self, op, returncode, stdout, stderr, wall_ms, log_dir):
        self.op = op
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.wall_ms = wall_ms
        self.results = parse_tagged(stdout, "RESULT")
        self.log_dir = log_dir
        finals = [r for r in self.results if r.get("op") == op]
        self.final = finals[-1] if finals else {}

    @property
    def ok(self):
        return self.final.get("ok") is True

    def __getitem__(self, key):
        return self.final[key]

    def where(self, **filters):
        return [r for r in self.results if matches(r, filters)]

    def tagged(self, tag, **filters):
        return [o for o in parse_tagged(self.stdout, tag) if matches(o, filters)]

    def explain(self):
        """A short text for assertion messages: the final result and the tail of stderr."""
        return "%s rc=%s final=%s stderr=%s logs=%s" % (self.op, self.returncode, json.dumps(self.final)[:1500],
                                                       self.stderr[-600:], self.log_dir)


class BackgroundOp:
    """A controller operation left running (session-loop, reconnect, subscribe --external)."""

    def __init__(self, controller, op, proc, trigger):
        self.controller = controller
        self.op = op
        self.proc = proc
        self.trigger = trigger

    def wait_tagged(self, tag, timeout, **filters):
        return self.proc.wait_tagged(tag, timeout, **filters)

    def wait_result(self, timeout, **filters):
        return self.proc.wait_tagged("RESULT", timeout, **filters)

    def fire(self, i):
        """Create the trigger file for step ``i`` (session-loop / reconnect wait for TRIGGER.i)."""
        with open("%s.%d" % (self.trigger, i), "w"):
            pass

    def finish(self, timeout):
        rc = self.proc.wait(timeout)
        return OpRun(self.op, rc, self.proc.text(), self.proc.stderr(),
                     round((time.monotonic() - self.proc.started) * 1000), self.controller.logs)

    def stop(self):
        return self.proc.stop()


class Controller:
    """One controller identity (a HOME directory) used through its wrapper script inside PREFIX-ctl."""

    script = None
    loop_op = None      # the operation that keeps one process alive over several reads
    loop_count = None   # its flag for the number of reads
    node_flag = None

    def __init__(self, netns, home, limit=180):
        self.netns = netns
        self.home = home
        self.logs = os.path.join(home, "logs")
        self.limit = limit
        self.count = 0
        os.makedirs(self.logs, exist_ok=True)

    def _argv(self, op, pre, kwargs):
        return [os.path.join(HERE, self.script), self.home, self.netns.prefix, "--"] + list(pre) + [op] + \
            to_flags(kwargs)

    def _env(self, limit):
        env = dict(os.environ)
        env["INTEROP_LIMIT"] = str(int(limit))
        return env

    def run(self, op, pre=(), limit=None, **kwargs):
        """Run one operation to its end (bounded by ``limit`` seconds) and return its OpRun."""
        limit = limit or self.limit
        argv = self._argv(op, pre, kwargs)
        self.count += 1
        proc = Process(argv, os.path.join(self.home, "ops", "%03d-%s.out" % (self.count, op)), self._env(limit))
        rc = proc.wait(limit + KILL_GRACE_S + 10)
        return OpRun(op, rc, proc.text(), proc.stderr(), round((time.monotonic() - proc.started) * 1000), self.logs)

    def start(self, op, pre=(), limit=None, **kwargs):
        """Start one operation in the background; ``trigger`` files live in HOME (visible to the controller)."""
        limit = limit or self.limit
        self.count += 1
        trigger = None
        if kwargs.get("trigger") is True:
            trigger = os.path.join(self.home, "trigger-%03d" % self.count)
            kwargs["trigger"] = trigger
        argv = self._argv(op, pre, kwargs)
        proc = Process(argv, os.path.join(self.home, "ops", "%03d-%s.out" % (self.count, op)), self._env(limit))
        return BackgroundOp(self, op, proc, trigger)

    def read_across_restart(self, device, expire, kill=True, node=None, retries=1, limit=240):
        """One controller process reads, the device restarts (SIGKILL, or SIGTERM with ``kill=False``) on its
        storage, the same process reads again (after expiring its sessions with ``expire``). Returns the OpRun:
        ``where(op="read", read_no=2)`` lists the attempts of the read after the restart."""
        flags = {self.loop_count: 2, "expire": expire, "trigger": True, "retries": retries, self.node_flag: node}
        loop = self.start(self.loop_op, limit=limit, **flags)
        try:
            first = loop.wait_result(90, op="read", read_no=1)
            if first.get("ok") is not True:
                raise HarnessError("read before the restart failed: %s" % json.dumps(first)[:1000])
            device.restart(kill=kill, timeout=90)
            loop.fire(2)
            return loop.finish(limit)
        finally:
            loop.stop()


class ChipController(Controller):
    """The CHIP (connectedhomeip) Python controller: chip-ctl.sh / chip_ctl.py."""

    script = "chip-ctl.sh"
    loop_op = "session-loop"
    loop_count = "reads"
    node_flag = "nodeid"


class MjsController(Controller):
    """The matter.js controller: mjs-ctl.sh / mjs/controller.mjs."""

    script = "mjs-ctl.sh"
    loop_op = "reconnect"
    loop_count = "cycles"
    node_flag = "node_id"
