"""PASE over real UDP from the reference SDK (CPython): the connectedhomeip Python controller (the C++ stack
of chip-tool, from ``.venv-chip``) commissions the MicroPython port's loop, exchange layer and secure channel
handler (``udp_pase_peer.py responder --pase-only``).

This checks what only a real peer can: our acks are the ones its MRP waits for (every reliable message it
sends is removed from its retransmission table on our ack; Pake1 is acked before our SPAKE2+ runs), our
reports and flags are what it expects, and the PASE session's encryption agrees with it (its encrypted IM
ReadRequest gets our encrypted standalone ack: we have no IM here, so its Commission step then times out).

The device and the controller run in the interop kit's namespace pair (``tests/interop/netns.sh``), each
under a time limit, stopped by PID; the pair is deleted afterwards.  Needs root and the interop kit's CHIP
controller (``make setup-interop``): skipped otherwise.
"""

import json
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INTEROP = os.path.join(ROOT, "tests", "interop")
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
CHIP_PYTHON = os.path.join(ROOT, ".venv-chip", "bin", "python")
DEVICE_IP4 = "10.77.0.1"  # the device side of netns.sh's pair

if os.geteuid() != 0 or shutil.which("ip") is None:
    pytest.skip("needs root and `ip netns` (runs in a network namespace pair)", allow_module_level=True)
if not os.path.exists(CHIP_PYTHON) or not os.path.exists(MICROPYTHON):
    pytest.skip("needs the interop kit's CHIP controller (make setup-interop) and .venv/bin/micropython",
                allow_module_level=True)


def _lines(text, tag):
    return [json.loads(line[len(tag) + 1:]) for line in text.splitlines() if line.startswith(tag + " ")]


def test_the_chip_controller_establishes_pase_with_the_micropython_loop(tmp_path):
    prefix = "mmchip%d" % (os.getpid() % 100000)
    subprocess.run([os.path.join(INTEROP, "netns.sh"), "up", prefix], check=True, capture_output=True, timeout=30)
    device = None
    try:
        device = subprocess.Popen(
            [os.path.join(INTEROP, "in-ns.sh"), prefix, "dev", "60", "--", MICROPYTHON,
             os.path.join("tests", "host", "udp_pase_peer.py"), "responder", "5540", "45", "--pase-only"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ready = device.stdout.readline()
        assert ready.strip() == "READY 5540", ready
        home = str(tmp_path / "chip")
        log = os.path.join(home, "logs", "chip.log")
        chip = subprocess.run(
            [os.path.join(INTEROP, "chip-ctl.sh"), home, prefix, "--", "--log", log, "commission", "--ip", DEVICE_IP4,
             "--port", "5540", "--passcode", "20202021", "--nodeid", "1", "--timeout", "6"],
            cwd=ROOT, capture_output=True, text=True, timeout=120, env=dict(os.environ, INTEROP_LIMIT="90"))
        results = _lines(chip.stdout, "RESULT")
        assert results, chip.stdout + chip.stderr
        r = results[-1]
        assert r["pase"] and not r["pase_failed"] and r["pase_ms"] is not None, r
        out, err = device.communicate(timeout=60)
        (d,) = _lines(out, "RESULT")
        assert d["ok"] and d["runtime"] == "micropython" and d["send_errors"] == 0, out + err
        native = open(log).read()
        assert "Remote device completed SPAKE2+ handshake" in native
        # PBKDFParamRequest, Pake1, Pake3 (and the ReadRequest, if it came before the device stopped): each
        # left the controller's retransmission table on our ack.
        acked = native.count("Rxd Ack; Removing MessageCounter")
        assert acked >= 3, acked
        # ... before its first retransmission timer (>= 330 ms): we answer or ack at once, and ack Pake1
        # before SPAKE2+ runs.  Scheduling is logged "??N ... scheduled", a retransmission "<<N ...".
        resent = [line for line in native.splitlines() if "Msg Retransmission to" in line and "<<" in line]
        assert resent == [], resent
        assert "Failed to Send" not in native
    finally:
        if device is not None and device.poll() is None:
            device.kill()
            device.wait(timeout=10)
        subprocess.run([os.path.join(INTEROP, "netns.sh"), "down", prefix], capture_output=True, timeout=60)
    assert prefix not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
