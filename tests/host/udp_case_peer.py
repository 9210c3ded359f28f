"""One side of CASE over real UDP, on either runtime, for tests/host/test_udp_case.py.

    micropython tests/host/udp_case_peer.py responder PORT CREDS STORE HANDSHAKES ECHOES [SECONDS]
    python tests/host/udp_case_peer.py initiator HOST PORT CREDS STORE MODE [SECONDS]

Run from the repository root, inside a network namespace (the test makes one).  ``CREDS`` is a directory of
certificate and key files the test wrote (``rcac``, ``icac``, ``dev_noc``, ``dev_key``, ``ctl_noc``,
``ctl_key``, ``epoch``, and ``other_*`` from a second root); ``STORE`` a storage directory kept across runs
(resumption records).  The responder serves CASE on PORT until HANDSHAKES handshakes ended (established or
failed) and ECHOES echo requests were answered.  The initiator runs one CASE handshake in ``MODE``:
``normal`` (resuming if it holds a record), ``full`` (no resumption), ``bad-mic`` (its record's secret is
spoiled first, so the MIC does not verify), ``wrong-fabric`` (a fabric of another root),
``untrusted-root`` (the device's fabric, but a NOC from another root); once established it sends one
encrypted ECHO and checks the reply.  Output: ``READY <port>``, ``EVENT {json}`` lines, a last ``RESULT
{json}`` line (``ok``, ``outcome``: "new", "resumed" or "failed", ``status``, ``case_ms``, ``runtime``, the
loop's counters); exit status 0 only if the run completed within SECONDS (default 30).
"""

import sys

MICROPYTHON = sys.implementation.name == "micropython"
if MICROPYTHON:
    sys.path[:] = [p for p in sys.path if p == ".frozen"] + ["shared", "mp", "tests/host"]
else:
    sys.path[:0] = ["shared", "cpython", "tests/host"]

import asyncio  # noqa: E402

from micromatter import log  # noqa: E402
from micromatter.exchange import DeliveryFailed, ExchangeManager  # noqa: E402
from micromatter.fabric import Fabric  # noqa: E402
from micromatter.securechannel.case import CaseResponder  # noqa: E402
from micromatter.securechannel.dispatch import CaseEstablished, CaseFailed, SecureChannel  # noqa: E402
from micromatter.session.manager import SessionManager  # noqa: E402
from udp_pase_peer import ECHO, RUNTIME, Echo, Port, UdpLoop, address, emit, say  # noqa: E402

DEVICE = 0x1111
CONTROLLER = 0x2222


def read(creds, name):
    with open(creds + "/" + name, "rb") as f:
        return f.read()


def fabric(port, creds, who, mode="normal"):
    """Fabric index 1 from the test's files: ``who`` is "dev" or "ctl"."""
    rcac, icac, noc, key = read(creds, "rcac"), read(creds, "icac"), read(creds, who + "_noc"), read(creds, who + "_key")
    if mode == "wrong-fabric":
        rcac, icac, noc, key = (read(creds, "other_rcac"), read(creds, "other_icac"), read(creds, "other_noc"),
                                read(creds, "other_key"))
    elif mode == "untrusted-root":  # the device's root and IPK (the destination id matches), another root's NOC
        icac, noc, key = read(creds, "other_icac"), read(creds, "other_noc"), read(creds, "other_key")
    return Fabric.from_credentials(port.crypto, 1, noc, icac, rcac, key, read(creds, "epoch"))


class Scenario:
    """CASE handshakes, ECHOs over the sessions they make, and the loop's stop watch (a timer source)."""

    def __init__(self, role, port, store, seconds, handshakes=1, echoes=0):
        self.role = role
        self.port = port
        self.loop = UdpLoop(port.now_ms, self.on_event)
        self.storage = port.open_storage(store)
        self.sessions = SessionManager(port, self.storage)
        self.exchanges = ExchangeManager(self.sessions, port)
        self.channel = SecureChannel(self.exchanges, self.sessions, port)
        self.echo = Echo(self)
        self.exchanges.register(self.echo)
        self.start = port.now_ms()
        self.deadline = self.start + seconds * 1000
        self.handshakes = handshakes
        self.echoes = echoes
        self.ended = 0
        self.answered_count = 0
        self.outcome = None
        self.status = None
        self.case_ms = None
        self.echo_start = None
        self.got_answer = False
        self.error = None
        self.check_at = None
        self.loop.add_timer(self)

    def on_event(self, event):
        now = self.port.now_ms()
        if isinstance(event, CaseEstablished):
            self.ended += 1
            self.outcome = "resumed" if event.is_resumption else "new"
            self.case_ms = now - self.start
            s = event.session
            emit("EVENT", {"event": "case", "outcome": self.outcome, "session": s.id, "peer": s.peer_node_id,
                           "cats": list(s.peer_cats), "initiator": event.is_initiator})
            if self.role == "initiator":
                self.echo_start = now
                x = self.exchanges.open(s, self.echo, now)
                x.send(ECHO, b"over CASE", now, expect_reply=True, timeout_ms=10000)
                self.loop.wake()
        elif isinstance(event, CaseFailed):
            self.ended += 1
            self.outcome = "failed"
            self.status = event.status
            emit("EVENT", {"event": "case failed", "status": event.status, "error": repr(event.error)})
        elif isinstance(event, DeliveryFailed):
            self.fail("delivery failed: %r" % event)

    # the Echo handler's calls
    def answered(self, payload, now):
        self.answered_count += 1

    def replied(self, payload, now):
        if payload == b"re:over CASE":
            self.got_answer = True
            emit("EVENT", {"event": "echo reply", "ms": now - self.echo_start})
        else:
            self.fail("unexpected reply %r" % payload)

    def fail(self, text):
        if self.error is None:
            self.error = text
            self.loop.stop()

    def done(self):
        if self.role == "responder":
            return self.ended >= self.handshakes and self.answered_count >= self.echoes
        return self.outcome == "failed" or self.got_answer

    def next_deadline(self):
        if self.check_at is None and self.done():
            self.check_at = self.port.now_ms() + 20
        if self.check_at is not None and self.check_at < self.deadline:
            return self.check_at
        return self.deadline

    def on_timer(self, now_ms):
        if self.done() and not self.exchanges.exchanges():
            self.loop.stop()
        elif now_ms >= self.deadline:
            self.fail("timed out" if not self.done() else "exchanges left: %r" % self.exchanges.exchanges())
        elif self.check_at is not None:
            self.check_at = now_ms + 20
        return None

    def result(self):
        return {"ok": self.error is None and self.done(), "role": self.role, "runtime": RUNTIME, "error": self.error,
                "outcome": self.outcome, "status": self.status, "case_ms": self.case_ms, "handshakes": self.ended,
                "echoes": self.answered_count, "records": len(self.sessions.resumption_records()),
                "sent": self.loop.sent, "received": self.loop.received, "send_errors": self.loop.send_errors}


async def main(argv):
    role = argv[0]
    log.set_level(log.WARNING)
    port = Port()
    if role == "responder":
        listen, creds, store = int(argv[1]), argv[2], argv[3]
        s = Scenario(role, port, store, int(argv[6]) if len(argv) > 6 else 30, int(argv[4]), int(argv[5]))
        f = fabric(port, creds, "dev")
        restored = s.sessions.init_from_storage([f])
        s.channel.enable_case(CaseResponder(port, s.sessions, [f]))
        s.loop.open_udp(listen, s.exchanges)
        emit("EVENT", {"event": "restored", "records": restored})
        say("READY %d" % listen)
    else:
        host, peer_port, creds, store, mode = argv[1], int(argv[2]), argv[3], argv[4], argv[5]
        s = Scenario(role, port, store, int(argv[6]) if len(argv) > 6 else 30)
        f = fabric(port, creds, "ctl", mode)
        s.sessions.init_from_storage([f])
        if mode == "bad-mic":
            for record in s.sessions.resumption_records():
                record.shared_secret = bytes(32)
        s.loop.open_udp(0, s.exchanges)
        s.start = port.now_ms()
        s.channel.start_case(address(host, peer_port), f, DEVICE, s.start, resume=mode != "full")
    try:
        await s.loop.run()
    finally:
        s.loop.close()
    record = s.result()
    emit("RESULT", record)
    return record["ok"]


if __name__ == "__main__":
    ok = asyncio.run(main(sys.argv[1:]))
    sys.exit(0 if ok else 1)
