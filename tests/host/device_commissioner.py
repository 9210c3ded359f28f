#!/usr/bin/env python3
"""Our own controller (``tests/unit/commissioner.py``) against the ``micromatter run`` device over real UDP.

    device_commissioner.py RUNTIME STORAGE SECONDS

Run it inside a network namespace (``test_device_udp.py`` makes a loopback-only one): it starts the device
(``micromatter run --runtime RUNTIME --mdns loopback``) as its own child, commissions it (PASE, attestation
against the public test PAAs, CSR, NOC, CASE, CommissioningComplete), toggles the light, stops the device with
SIGTERM (the CLI turns it into a clean stop: CloseSession reaches us), starts it again on the same storage
(commissioned, CASE resumes, the light kept its state and its UniqueID), then factory-resets it (a new
UniqueID, read over PASE). Every wait is bounded by
SECONDS. Prints one ``RESULT {json}`` line with what it saw; exits 0 if it got to the end.
"""

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _p in ("shared", "cpython", os.path.join("tests", "unit")):
    sys.path.insert(0, os.path.join(ROOT, _p))

from commissioner import ON_OFF, PASSCODE, Commissioner  # noqa: E402
from micromatter.securechannel.dispatch import CaseEstablished, PeerClosedSession  # noqa: E402

MICROMATTER = os.path.join(ROOT, ".venv", "bin", "micromatter")
DEVICE = ("::1", 5540, 0, 0)
NODE_ID = 0x77
UNIQUE_ID = (0, 0x0028, 0x12)  # Basic Information's UniqueID


class UdpRunner:
    """The runner ``Commissioner``'s blocking helpers take: ``now`` and ``run_until``, over one UDP socket."""

    def __init__(self, controller, limit_s):
        self.controller = controller
        self.limit_s = limit_s
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.sock.bind(("::1", 0))
        self.start = time.monotonic()

    @property
    def now(self):
        return int((time.monotonic() - self.start) * 1000)

    def _send(self, outs):
        for channel, data, address in outs:
            if channel == "matter":
                self.sock.sendto(data, address)

    def run_until(self, predicate, limit_s=None):
        end = time.monotonic() + (limit_s or self.limit_s)
        c = self.controller
        self._send(c.poll(self.now))
        while not predicate():
            if time.monotonic() > end:
                raise TimeoutError("no progress in %s s" % (limit_s or self.limit_s))
            d = c.next_deadline()
            wait = 0.2 if d is None else max(0.0, min(0.2, (d - self.now) / 1000))
            if select.select([self.sock], [], [], wait)[0]:
                data, peer = self.sock.recvfrom(2048)
                self._send(c.on_datagram(data, peer, self.now))
            d = c.next_deadline()
            if d is not None and d <= self.now:
                self._send(c.poll(self.now))

    def run_for(self, seconds):
        end = time.monotonic() + seconds
        self.run_until(lambda: time.monotonic() >= end, seconds + 1)


class DeviceProcess:
    """``micromatter run`` as a child; its EVENT lines (stderr, the log, goes to STORAGE.log)."""

    def __init__(self, runtime, storage, seconds):
        argv = [MICROMATTER, "run", "--runtime", runtime, "--storage", storage, "--mdns", "loopback",
                "--no-banner", "--max-seconds", str(seconds)]
        self.log = open(storage + ".log", "a")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, bufsize=0)
        self.events = []
        self.buffer = b""
        self.seconds = seconds

    def _read(self, timeout):
        """Parse what stdout has (waiting up to ``timeout`` s); False at its end."""
        if not select.select([self.proc.stdout], [], [], timeout)[0]:
            return True
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        for line in lines:
            if line.startswith(b"EVENT "):
                self.events.append(json.loads(line[6:]))
        return bool(chunk)

    def wait_event(self, kind):
        end = time.monotonic() + self.seconds
        while True:
            for e in self.events:
                if e["event"] == kind:
                    return e
            if time.monotonic() > end or not self._read(0.5):
                raise TimeoutError("no %s event (exit status %s)" % (kind, self.proc.poll()))

    def stop(self):
        """SIGTERM (a clean stop through the CLI); the exit status, every EVENT line read."""
        self.proc.send_signal(signal.SIGTERM)
        end = time.monotonic() + self.seconds
        while self._read(0.5) and time.monotonic() < end:
            pass
        rc = self.proc.wait(self.seconds)
        self.log.close()
        return rc


def main():
    runtime, storage, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    r = {"runtime": runtime, "ok": False}
    ctl = Commissioner()
    runner = UdpRunner(ctl, seconds)
    dev = DeviceProcess(runtime, storage, seconds)
    try:
        online = dev.wait_event("online")
        r["first_online"] = {k: online[k] for k in ("commissioned", "fabrics", "qr_code", "manual_code")}
        t = time.monotonic()
        result = ctl.commission(runner, DEVICE, PASSCODE, NODE_ID)
        r["commission_ms"] = round((time.monotonic() - t) * 1000)
        r["steps"] = result.steps
        r["attestation_vendor"] = result.attestation.vendor_id if result.attestation else None
        r["fabric_index"] = result.fabric_index
        r["unique_ids"] = [result.basic["unique_id"]]
        case = result.case
        before = ctl.read(runner, case, [(1, ON_OFF, 0)])[(1, ON_OFF, 0)]
        ctl.invoke(runner, case, 1, ON_OFF, 2)  # Toggle
        r["onoff"] = [before, ctl.read(runner, case, [(1, ON_OFF, 0)])[(1, ON_OFF, 0)]]
        r["device_events"] = [e["event"] for e in dev.events]
        dev.wait_event("commissioned")
        mark = len(ctl.events)
        r["stop_rc"] = dev.stop()
        r["stopped_event"] = any(e["event"] == "stopped" for e in dev.events)
        runner.run_for(0.5)
        r["close_session_seen"] = any(isinstance(e, PeerClosedSession) for e in ctl.events[mark:])

        dev = DeviceProcess(runtime, storage, seconds)
        online = dev.wait_event("online")
        r["second_online"] = {k: online[k] for k in ("commissioned", "fabrics")}
        mark = len(ctl.events)
        case = ctl.case(runner, DEVICE, NODE_ID)
        est = [e for e in ctl.events[mark:] if isinstance(e, CaseEstablished)]
        r["second_case_resumed"] = bool(est) and est[-1].is_resumption
        r["onoff_after_restart"] = ctl.read(runner, case, [(1, ON_OFF, 0)])[(1, ON_OFF, 0)]
        r["unique_ids"].append(ctl.read(runner, case, [UNIQUE_ID])[UNIQUE_ID])
        r["second_stop_rc"] = dev.stop()

        reset = subprocess.run([MICROMATTER, "factory-reset", "--storage", storage], capture_output=True, text=True,
                               timeout=seconds)
        r["reset_rc"] = reset.returncode
        dev = DeviceProcess(runtime, storage, seconds)
        online = dev.wait_event("online")
        r["after_reset_online"] = {k: online[k] for k in ("commissioned", "fabrics")}
        pase = ctl.pase(runner, DEVICE, PASSCODE)
        r["unique_ids"].append(ctl.read(runner, pase, [UNIQUE_ID])[UNIQUE_ID])
        r["third_stop_rc"] = dev.stop()
        r["ok"] = True
    except Exception as e:  # reported in the RESULT line for the test's assertion message
        r["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        if dev.proc.poll() is None:
            dev.proc.kill()
            dev.proc.wait(10)
    print("RESULT " + json.dumps(r), flush=True)
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
