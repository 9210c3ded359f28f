"""PASE over real UDP between the two ports' loops (CPython): a MicroPython responder with a CPython
initiator over IPv6, then a CPython responder with a MicroPython initiator over IPv4 into the responder's
dual-stack socket.  Each side then sends one encrypted ECHO over the PASE session and checks the reply
(``udp_pase_peer.py``).

Everything runs inside a network namespace this test creates (loopback only) and deletes afterwards; every
process runs under ``timeout`` and is stopped by PID.  Needs root and ``ip netns``: skipped otherwise.
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


def _command(ns, runtime, *args):
    return ["timeout", "-k", "2", str(SECONDS + 10), "ip", "netns", "exec", ns, RUNTIMES[runtime], SCRIPT] + [
        str(a) for a in args] + [str(SECONDS)]


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


def _run_pair(ns, responder_runtime, initiator_runtime, host, port):
    responder = subprocess.Popen(_command(ns, responder_runtime, "responder", port), cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = responder.stdout.readline()  # bounded: the responder's own limit and `timeout`
        assert ready.strip() == "READY %d" % port, ready + responder.stderr.read()
        start = time.monotonic()
        initiator = subprocess.run(_command(ns, initiator_runtime, "initiator", host, port), cwd=ROOT,
                                   capture_output=True, text=True, timeout=SECONDS + 20)
        elapsed = time.monotonic() - start
        out, err = responder.communicate(timeout=SECONDS + 20)
    finally:
        _stop(responder)
    i = _result(initiator.stdout)
    r = _result(out)
    assert initiator.returncode == 0 and i["ok"], initiator.stdout + initiator.stderr
    assert responder.returncode == 0 and r["ok"], out + err
    assert (i["runtime"], r["runtime"]) == (initiator_runtime, responder_runtime)
    assert i["send_errors"] == 0 and r["send_errors"] == 0
    # PASE (5 messages, 3 standalone acks) and the two ECHOs (2 messages, 2 acks) at least; more only if a
    # loaded machine made MRP retransmit.  Loopback loses nothing: each side got all the other sent.
    assert i["sent"] + r["sent"] >= 16 and i["received"] == r["sent"] and r["received"] == i["sent"]
    return i, r, elapsed


def test_micropython_responder_cpython_initiator_over_ipv6(netns):
    i, r, elapsed = _run_pair(netns, "micropython", "cpython", "::1", 5540)
    assert i["pase_ms"] is not None and elapsed < SECONDS


def test_cpython_responder_micropython_initiator_over_ipv4_dual_stack(netns):
    i, r, elapsed = _run_pair(netns, "cpython", "micropython", "127.0.0.1", 5540)
    assert i["pase_ms"] is not None and elapsed < SECONDS
