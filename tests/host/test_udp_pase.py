"""PASE over real UDP between the two ports' loops (CPython): a MicroPython responder with a CPython
initiator over IPv6, then a CPython responder with a MicroPython initiator over IPv4 into the responder's
dual-stack socket.  Each side then sends one encrypted ECHO over the PASE session and checks the reply
(``udp_pase_peer.py``).  A wrong passcode fails on both sides and the right one pairs afterwards.

Everything runs inside a network namespace this test creates (loopback only) and deletes afterwards; every
process runs under ``timeout`` and is stopped by PID.  Needs root and ``ip netns``: skipped otherwise.
The helpers here (the namespace fixture, ``Responder``, ``run_initiator``) serve the other UDP tests too.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join("tests", "host", "udp_pase_peer.py")
RUNTIMES = {"micropython": os.path.join(ROOT, ".venv", "bin", "micropython"), "cpython": sys.executable}
SECONDS = 30  # each side's own limit; `timeout` kills at SECONDS + 10
PORT = 5540
PASSCODE = 20202021

if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("timeout") is None:
    pytest.skip("needs root, `ip netns` and `timeout` (runs the peers in a network namespace)", allow_module_level=True)
if not os.path.exists(RUNTIMES["micropython"]):
    pytest.skip("needs .venv/bin/micropython (make setup)", allow_module_level=True)


@pytest.fixture
def netns():
    name = "mm-udp-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=10)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True, timeout=10)
        yield name
    finally:
        for pid in subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True,
                                  timeout=10).stdout.split():
            try:
                os.kill(int(pid), 9)
            except (OSError, ValueError):
                pass
        subprocess.run(["ip", "netns", "delete", name], timeout=10)
    assert name not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout


def _command(ns, runtime, script, *args):
    return ["timeout", "-k", "2", str(SECONDS + 10), "ip", "netns", "exec", ns, RUNTIMES[runtime], script] + [
        str(a) for a in args]


def _result(stdout):
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, "no RESULT line in:\n" + stdout
    return json.loads(lines[-1][len("RESULT "):])


def _stop(proc):
    if proc.poll() is None:
        proc.kill()  # `timeout`, by PID; its child dies with the namespace at the latest
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


class Responder:
    """A peer script's responder process in ``ns``, up once it printed ``READY``; ``events`` are the EVENT
    lines printed before that."""

    def __init__(self, ns, runtime, script, *args):
        self.runtime = runtime
        self.proc = subprocess.Popen(_command(ns, runtime, script, "responder", *args), cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        while True:  # bounded: the responder's own limit and `timeout`
            line = self.proc.stdout.readline()
            lines.append(line)
            if not line or line.startswith("READY"):
                break
        if line.strip() != "READY %d" % PORT:
            _stop(self.proc)
            raise AssertionError("".join(lines) + self.proc.stderr.read())
        self.events = [json.loads(x[len("EVENT "):]) for x in lines if x.startswith("EVENT ")]

    def finish(self):
        """Its RESULT once it ended by itself (the scenario done), checked to have gone well."""
        try:
            out, err = self.proc.communicate(timeout=SECONDS + 20)
        finally:
            _stop(self.proc)
        r = _result(out)
        assert self.proc.returncode == 0 and r["ok"], out + err
        assert r["runtime"] == self.runtime and r["send_errors"] == 0
        return r


def run_initiator(ns, runtime, script, *args):
    """A peer script's initiator run to its end; its RESULT, checked to have completed."""
    done = subprocess.run(_command(ns, runtime, script, "initiator", *args), cwd=ROOT, capture_output=True,
                          text=True, timeout=SECONDS + 20)
    i = _result(done.stdout)
    assert done.returncode == 0 and i["ok"], done.stdout + done.stderr
    assert i["runtime"] == runtime and i["send_errors"] == 0
    return i


def _run_pair(ns, responder_runtime, initiator_runtime, host):
    responder = Responder(ns, responder_runtime, SCRIPT, PORT, SECONDS)
    start = time.monotonic()
    i = run_initiator(ns, initiator_runtime, SCRIPT, host, PORT, SECONDS)
    elapsed = time.monotonic() - start
    r = responder.finish()
    assert i["outcome"] == r["outcome"] == "established" and r["failures"] == 0
    # PASE (5 messages, 3 standalone acks) and the two ECHOs (2 messages, 2 acks) at least; more only if a
    # loaded machine made MRP retransmit.  Loopback loses nothing: each side got all the other sent.
    assert i["sent"] + r["sent"] >= 16 and i["received"] == r["sent"] and r["received"] == i["sent"]
    assert i["echo_ms"] is not None and r["echo_ms"] is not None and r["echoes"] == i["echoes"] == 1
    return i, r, elapsed


def test_micropython_responder_cpython_initiator_over_ipv6(netns):
    i, r, elapsed = _run_pair(netns, "micropython", "cpython", "::1")
    assert i["pase_ms"] is not None and elapsed < SECONDS


def test_cpython_responder_micropython_initiator_over_ipv4_dual_stack(netns):
    i, r, elapsed = _run_pair(netns, "cpython", "micropython", "127.0.0.1")
    assert i["pase_ms"] is not None and elapsed < SECONDS


def test_a_wrong_passcode_fails_on_both_sides_then_the_right_one_pairs(netns):
    responder = Responder(netns, "micropython", SCRIPT, PORT, SECONDS, "--failures", 1)
    wrong = run_initiator(netns, "cpython", SCRIPT, "::1", PORT, SECONDS, "--passcode", PASSCODE + 1)
    right = run_initiator(netns, "cpython", SCRIPT, "::1", PORT, SECONDS)
    r = responder.finish()
    # The initiator finds cB wrong and says InvalidParameter; no session, no ECHO.
    assert (wrong["outcome"], wrong["status"], wrong["echo_ms"]) == ("failed", 2, None)
    assert right["outcome"] == r["outcome"] == "established" and right["echo_ms"] is not None
    assert r["failures"] == 1 and r["echoes"] == 1


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
