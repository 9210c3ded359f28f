"""The ``micromatter`` command: run the light, or wipe its storage.

    micromatter run [--runtime micropython|cpython] [--storage DIR] [--port 5540] [--passcode N]
                    [--discriminator N] [--vendor-id 0xFFF1] [--product-id 0x8000] [--interface NAME]
                    [--mdns on|loopback|off] [--mdns-probe on|off] [--session-not-found on|off]
                    [--heap-stats] [--max-seconds S] [--log-level L] [--credentials DIR | --attestation DIR]
                    [--no-banner]
    micromatter factory-reset [--storage DIR] [--all]

``run`` starts the device (``micromatter_mp.device`` under the unix MicroPython port beside this Python, by
default, or ``micromatter_cpython.device`` in this process).  It prints ``EVENT {json}`` lines on stdout, the
QR code, its ``MT:`` payload and the manual pairing code when the device is not commissioned yet, and one log
line per commissioning and session event on stderr.  A device restarted on the same storage is back on its
fabrics without being commissioned again.  Under MicroPython the device is a child process in its own
session: SIGINT, SIGTERM and SIGHUP become a ``stop`` request on its stdin (the unix port has no signal
handlers; a stop runs ``Node.stop``: CloseSession, mDNS goodbyes, records stored), SIGUSR1 a ``heap`` request,
and the child's exit status is this command's.  If this process dies, the child sees the end of its stdin
and stops too.

``factory-reset`` deletes what the device stored (fabrics, sessions, attributes, ACLs) and keeps the
development attestation material (``att``, the device's identity, like a factory partition) unless ``--all``.
"""

import argparse
import os
import signal
import subprocess
import sys
import time

from micromatter import onboarding

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(PACKAGE_DIR))
STOP_GRACE_S = 15  # after a stop request, how long the MicroPython child gets before SIGKILL
REPEAT_S = 1.0  # a second stop request this long after the first kills the child at once
KEEP_CONTEXTS = ("att",)


def _in_repository():
    return os.path.isdir(os.path.join(REPO, "shared", "micromatter")) and os.path.isdir(os.path.join(REPO, "mp"))


def default_storage():
    """``var/device`` under the repository (git-ignored), else under the current directory."""
    base = REPO if _in_repository() else os.getcwd()
    return os.path.join(base, "var", "device")


def default_credentials():
    path = os.path.join(REPO, "tools", "credentials")
    return path if os.path.isdir(path) else None


def micropython_binary():
    """The unix MicroPython beside this Python (``.venv/bin/micropython``)."""
    return os.path.join(os.path.dirname(sys.executable), "micropython")


def micropython_path():
    """MICROPYPATH for the device: the frozen modules (asyncio), the core and the MicroPython port."""
    return ":".join((".frozen", os.path.join(REPO, "shared"), os.path.join(REPO, "mp")))


def _number(text):
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError("not a number: %r" % text)


def _passcode(text):
    value = _number(text)
    try:
        onboarding.check_passcode(value)
    except onboarding.OnboardingError as e:
        raise argparse.ArgumentTypeError(str(e))
    return value


def _ranged(low, high, name):
    def parse(text):
        value = _number(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError("%s must be %d..%d" % (name, low, high))
        return value
    return parse


def parser():
    p = argparse.ArgumentParser(prog="micromatter", description="micromatter: a Matter light for MicroPython "
                                "and CPython")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run the light")
    r.add_argument("--runtime", choices=("micropython", "cpython"), default="micropython")
    r.add_argument("--storage", default=None, help="storage directory (default: var/device in the repository)")
    r.add_argument("--port", type=_ranged(1, 65535, "port"), default=5540)
    r.add_argument("--passcode", type=_passcode, default=20202021)
    r.add_argument("--discriminator", type=_ranged(0, 0xFFF, "discriminator"), default=3840)
    r.add_argument("--vendor-id", type=_ranged(0, 0xFFFE, "vendor id"), default=0xFFF1)
    r.add_argument("--product-id", type=_ranged(0, 0xFFFF, "product id"), default=0x8000)
    r.add_argument("--interface", help="network interface (default: the first one up other than lo)")
    r.add_argument("--mdns", choices=("on", "loopback", "off"), default="on",
                   help="mDNS on the interface, only on lo (nothing leaves the host), or none")
    r.add_argument("--credentials", default=None, help="test PAA and CD-signing keys (default: tools/credentials)")
    r.add_argument("--attestation", default=None, help="provisioned attestation files (make_attestation.py)")
    r.add_argument("--mdns-probe", choices=("on", "off"), default="off",
                   help="probe mDNS names before announcing them (default off, as connectedhomeip)")
    r.add_argument("--session-not-found", choices=("on", "off"), default="on",
                   help="answer messages on unknown sessions with SessionNotFound")
    r.add_argument("--heap-stats", action="store_true", help="track heap peaks (EVENT heap at stop, on SIGUSR1)")
    r.add_argument("--max-seconds", type=_ranged(0, 10 ** 7, "max-seconds"), default=0)
    r.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    r.add_argument("--no-banner", action="store_true", help="do not draw the QR code")
    f = sub.add_parser("factory-reset", help="delete what the device stored")
    f.add_argument("--storage", default=None, help="storage directory (default: var/device in the repository)")
    f.add_argument("--all", action="store_true", help="also delete the attestation material (the DAC)")
    return p


def device_args(a):
    """The device entry point's arguments for the parsed ``run`` options."""
    out = ["--storage", a.storage, "--port", str(a.port), "--passcode", str(a.passcode),
           "--discriminator", str(a.discriminator), "--vendor-id", str(a.vendor_id),
           "--product-id", str(a.product_id), "--mdns", a.mdns, "--log-level", a.log_level,
           "--session-not-found", a.session_not_found, "--mdns-probe", a.mdns_probe]
    if a.interface:
        out += ["--interface", a.interface]
    credentials = a.credentials or default_credentials()
    if a.attestation:
        out += ["--attestation", a.attestation]
    elif credentials:
        out += ["--credentials", credentials]
    if a.heap_stats:
        out.append("--heap-stats")
    if a.max_seconds:
        out += ["--max-seconds", str(a.max_seconds)]
    if a.no_banner:
        out.append("--no-banner")
    return out


class Child:
    """The MicroPython device process: stop and heap requests go to its stdin."""

    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env, start_new_session=True)
        self.stopping = 0  # the monotonic time of the first stop request

    def _send(self, line):
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass

    def request_stop(self, *_):
        now = time.monotonic()
        if self.stopping:
            # asked again: do not wait any longer, unless it is the same request twice (`timeout` sends its
            # SIGTERM to this process and to its process group, so one stop can arrive as two signals)
            if now - self.stopping >= REPEAT_S:
                self.kill()
            return
        self.stopping = now
        self._send("stop")
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def request_heap(self, *_):
        if not self.stopping:
            self._send("heap")

    def kill(self):
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass

    def wait(self):
        """The child's exit status; once a stop was requested it gets ``STOP_GRACE_S`` seconds, then SIGKILL."""
        deadline = None
        while True:
            try:
                return self.proc.wait(1.0)
            except subprocess.TimeoutExpired:
                pass
            if not self.stopping:
                continue
            if deadline is None:
                deadline = time.monotonic() + STOP_GRACE_S
            elif time.monotonic() > deadline:
                sys.stderr.write("micromatter: the device did not stop in %d s: killed\n" % STOP_GRACE_S)
                self.kill()


def run_micropython(a):
    binary = micropython_binary()
    if not os.access(binary, os.X_OK):
        sys.stderr.write("micromatter: no MicroPython at %s (make setup)\n" % binary)
        return 2
    env = dict(os.environ)
    env["MICROPYPATH"] = micropython_path()
    child = Child([binary, "-m", "micromatter_mp.device", "--control-stdin"] + device_args(a), env)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, child.request_stop)
    signal.signal(signal.SIGUSR1, child.request_heap)
    rc = child.wait()
    return 128 - rc if rc < 0 else rc


def run_cpython(a):
    from micromatter_cpython import device

    return device.main(device_args(a))


def _remove_tree(path, counts, keep=()):
    """Delete one storage context directory: its keys, temporary files and sub-contexts (except those named in
    ``keep``); anything else stays and is listed in ``counts["kept"]``."""
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if os.path.isdir(full) and not os.path.islink(full) and name.endswith(".d"):
            if name[:-2] in keep:
                continue
            _remove_tree(full, counts)
            try:
                os.rmdir(full)
            except OSError:
                pass
        elif os.path.isfile(full) and ("." not in name or name.endswith(".tmp")):
            os.remove(full)
            counts["files"] += 1
        else:
            counts["kept"].append(full)


def factory_reset(storage, everything=False):
    """Delete the device's stored state in ``storage``; returns ``{"files": n, "kept": [paths]}``."""
    counts = {"files": 0, "kept": []}
    if os.path.isdir(storage):
        _remove_tree(storage, counts, () if everything else KEEP_CONTEXTS)
    return counts


def main(argv=None):
    a = parser().parse_args(argv)
    if a.storage is None:
        a.storage = default_storage()
    a.storage = os.path.abspath(a.storage)
    if a.command == "factory-reset":
        counts = factory_reset(a.storage, a.all)
        print("micromatter: factory reset of %s: %d file(s) deleted%s" % (
            a.storage, counts["files"], "" if a.all else " (attestation material kept; --all deletes it)"))
        for path in counts["kept"]:
            print("micromatter: not a storage file, left alone: %s" % path)
        return 0
    os.makedirs(a.storage, exist_ok=True)
    sys.stdout.flush()
    if a.runtime == "micropython":
        return run_micropython(a)
    return run_cpython(a)


if __name__ == "__main__":
    sys.exit(main())
