"""Our test commissioner over real UDP (CPython): commissions the device at HOST:PORT with PASSCODE, toggles its
light over CASE and reads OnOff back, then prints one ``RESULT {json}`` line.

    python tests/host/board_commissioner.py HOST PORT PASSCODE SECONDS

``UdpRunner`` is the runner ``tests/unit/commissioner.py`` asks for (``now`` and ``run_until``) over one
socket and the wall clock.  Run it inside the network namespace of the device; bounded by SECONDS.
"""

import json
import os
import select
import socket
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _p in ("shared", "cpython", os.path.join("tests", "unit")):
    sys.path.insert(0, os.path.join(ROOT, _p))

from commissioner import MATTER, Commissioner  # noqa: E402
from micromatter import log  # noqa: E402
from micromatter.im import messages as msg  # noqa: E402

ON_OFF = 0x0006


class UdpRunner:
    def __init__(self, controller, sock, seconds):
        self.controller = controller
        self.sock = sock
        self.start = time.monotonic()
        self.end = self.start + seconds

    @property
    def now(self):
        return int((time.monotonic() - self.start) * 1000)

    def _send(self, outs):
        for channel, data, address in outs:
            if channel == MATTER:
                self.sock.sendto(data, address)

    def run_until(self, predicate):
        ctl = self.controller
        self._send(ctl.poll(self.now))
        while not predicate():
            if time.monotonic() > self.end:
                raise AssertionError("not done in time")
            d = ctl.next_deadline()
            wait = 0.1 if d is None else max(0.0, min(0.1, (d - self.now) / 1000))
            if select.select([self.sock], [], [], wait)[0]:
                data, address = self.sock.recvfrom(2048)
                self._send(ctl.on_datagram(data, address, self.now))
            d = ctl.next_deadline()
            if d is not None and d <= self.now:
                self._send(ctl.poll(self.now))


def main(host, port, passcode, seconds):
    log.set_level(log.WARNING)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
    address = (host, port)
    ctl = Commissioner()
    runner = UdpRunner(ctl, sock, seconds)
    result = {"ok": False}
    try:
        r = ctl.commission(runner, address, passcode, 0x77)
        result["steps"] = r.steps
        status = ctl.invoke(runner, r.case, 1, ON_OFF, 2)
        result["toggle"] = status.status if isinstance(status, msg.CommandStatus) else repr(status)
        result["onoff"] = ctl.read(runner, r.case, [(1, ON_OFF, 0)])[(1, ON_OFF, 0)]
        result["elapsed_ms"] = runner.now
        result["ok"] = True
    except Exception as e:  # reported in the RESULT line, the test asserts on it
        result["error"] = "%s: %s" % (type(e).__name__, e)
    print("RESULT " + json.dumps(result), flush=True)
    sock.close()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
