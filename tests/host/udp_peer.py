"""What the UDP peer scripts (``udp_pase_peer.py``, ``udp_case_peer.py``) share, on either runtime.

A ``Peer`` is one node on the port's UDP loop: session core, exchange layer, secure channel handler and an
ECHO protocol (a request answered with b"re:" + its payload, to prove a session carries encrypted messages).
Its stop watch ends the run once the script's scenario is ``done()`` and the last exchanges have finished, or
fails it at its time limit; a delivery failure fails it at once.  The tests read the lines it prints:
``READY <port>``, ``EVENT {json}`` and a last ``RESULT {json}`` (``ok``, ``role``, ``runtime``, ``error``, the
loop's counters and the script's own fields).

Importing this module puts the repository's ``shared`` and the runtime's port on the path (the scripts run from
the repository root).
"""

import sys

MICROPYTHON = sys.implementation.name == "micropython"
if MICROPYTHON:
    sys.path[:] = [p for p in sys.path if p == ".frozen"] + ["shared", "mp", "tests/host"]
else:
    sys.path[:0] = ["shared", "cpython", "tests/host"]

import asyncio  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402

from micromatter import log  # noqa: E402
from micromatter.exchange import DeliveryFailed, ExchangeManager, ProtocolHandler  # noqa: E402
from micromatter.securechannel.dispatch import SecureChannel  # noqa: E402
from micromatter.session.manager import SessionManager  # noqa: E402

if MICROPYTHON:
    from micromatter_mp.loop import UdpLoop  # noqa: E402
    from micromatter_mp.port import Port  # noqa: E402
else:
    from micromatter_cpython.loop import UdpLoop  # noqa: E402
    from micromatter_cpython.port import Port  # noqa: E402

ECHO_PROTOCOL = 0x7E57  # a protocol id no specification uses: the tests' own
ECHO = 0x01
ECHO_REPLY = 0x02
ECHO_TIMEOUT_MS = 10000
RUNTIME = "micropython" if MICROPYTHON else "cpython"
_CHECK_MS = 20  # once done, how often the stop watch looks whether the exchanges have finished


def emit(tag, record):
    say(tag + " " + json.dumps(record))


def say(line):
    print(line)
    flush = getattr(sys.stdout, "flush", None)
    if flush is not None:
        flush()


def address(host, port):
    """The runtime's socket address of ``host`` (IPv6 or IPv4 text) and ``port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if MICROPYTHON:
        return socket.getaddrinfo(host, port, family, socket.SOCK_DGRAM)[0][-1]
    return (host, port, 0, 0) if family == socket.AF_INET6 else (host, port)


class Echo(ProtocolHandler):
    """ECHO is answered with ECHO_REPLY (b"re:" + payload); the peer hears of requests and replies."""

    protocol_id = ECHO_PROTOCOL

    def __init__(self, peer):
        self.peer = peer

    def accepts(self, opcode, secure):
        return opcode == ECHO

    def on_message(self, exchange, protocol_id, opcode, payload, now_ms):
        if opcode == ECHO:
            exchange.send(ECHO_REPLY, b"re:" + bytes(payload), now_ms)
            self.peer.answered(bytes(payload), exchange.session, now_ms)
        else:
            exchange.close(now_ms)
            self.peer.replied(bytes(payload), now_ms)

    def on_exchange_closed(self, exchange, reason):
        self.peer.fail("echo exchange closed: reason %d" % reason)


class Peer:
    """One node on the UDP loop, running its scenario until ``done()`` (the scripts subclass it and give
    ``on_event``, ``done`` and ``fields``).  ``storage`` holds the session core's records."""

    def __init__(self, role, port, storage, seconds):
        self.role = role
        self.port = port
        self.loop = UdpLoop(port.now_ms, self._event)
        self.storage = storage
        self.sessions = SessionManager(port, storage)
        self.exchanges = ExchangeManager(self.sessions, port)
        self.channel = SecureChannel(self.exchanges, self.sessions, port)
        self.echo = Echo(self)
        self.exchanges.register(self.echo)
        self.start = port.now_ms()
        self.deadline = self.start + seconds * 1000
        self.error = None
        self.check_at = None
        self.echo_sent = None
        self.echo_start = None
        self.echo_ms = None
        self.got_answer = False
        self.answered_count = 0
        self.loop.add_timer(self)

    # --- the scenario (subclasses) --------------------------------------------------------------

    def on_event(self, event):
        pass

    def done(self):
        return False

    def fields(self):
        return {}

    # --- ECHO ------------------------------------------------------------------------------------

    def send_echo(self, session, payload, now):
        """An ECHO request on ``session``; ``got_answer`` once the right reply came back."""
        self.echo_sent = payload
        self.echo_start = now
        x = self.exchanges.open(session, self.echo, now)
        x.send(ECHO, payload, now, expect_reply=True, timeout_ms=ECHO_TIMEOUT_MS)
        self.loop.wake()

    def answered(self, payload, session, now):
        self.answered_count += 1
        emit("EVENT", {"event": "echo request", "payload": payload.decode()})

    def replied(self, payload, now):
        emit("EVENT", {"event": "echo reply", "payload": payload.decode()})
        if payload == b"re:" + self.echo_sent:
            self.got_answer = True
            self.echo_ms = now - self.echo_start
        else:
            self.fail("unexpected reply %r" % payload)

    # --- the run ---------------------------------------------------------------------------------

    def _event(self, event):
        if isinstance(event, DeliveryFailed):
            self.fail("delivery failed: %r" % event)
        else:
            self.on_event(event)

    def fail(self, text):
        if self.error is None:
            self.error = text
            self.loop.stop()

    def next_deadline(self):
        """The stop watch, a timer source of the loop: once done, look every few ms until the exchanges
        (the last acks) have finished; give up at the deadline."""
        if self.check_at is None and self.done():
            self.check_at = self.port.now_ms() + _CHECK_MS
        if self.check_at is not None and self.check_at < self.deadline:
            return self.check_at
        return self.deadline

    def on_timer(self, now_ms):
        if self.done() and not self.exchanges.exchanges():
            self.loop.stop()
        elif now_ms >= self.deadline:
            self.fail("timed out" if not self.done() else "exchanges left: %r" % self.exchanges.exchanges())
        elif self.check_at is not None:
            self.check_at = now_ms + _CHECK_MS
        return None

    def result(self):
        record = {"ok": self.error is None and self.done(), "role": self.role, "runtime": RUNTIME,
                  "error": self.error, "echo_ms": self.echo_ms, "echoes": self.answered_count,
                  "sent": self.loop.sent, "received": self.loop.received, "send_errors": self.loop.send_errors}
        record.update(self.fields())
        return record

    async def run(self):
        """Run the loop until the scenario ends; print the RESULT line; True if it went as it should."""
        try:
            await self.loop.run()
        finally:
            self.loop.close()
        record = self.result()
        emit("RESULT", record)
        return record["ok"]


def main(start, argv):
    """The script's entry: ``start(argv)`` builds the ``Peer`` (its loop open); exit status 0 if it went well."""
    log.set_level(log.WARNING)

    async def go():
        return await start(argv).run()

    sys.exit(0 if asyncio.run(go()) else 1)
