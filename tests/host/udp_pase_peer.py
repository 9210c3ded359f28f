"""One side of a PASE session over real UDP, on either runtime, for tests/host/test_udp_pase.py.

    micropython tests/host/udp_pase_peer.py responder PORT [SECONDS] [--pase-only]
    python tests/host/udp_pase_peer.py initiator HOST PORT [SECONDS]

Run from the repository root, inside a network namespace (the test makes one).  The responder opens a
commissioning window (passcode 20202021) on PORT with the port's UDP loop; the initiator runs PASE
against HOST:PORT.  Then each side sends one encrypted ECHO over the PASE session and checks the
other's reply, and both exit once their exchanges are done.  Output: ``READY <port>`` once listening,
``EVENT {json}`` lines, and a last ``RESULT {json}`` line (``ok``, ``pase_ms``: from the start of the
handshake (initiator) or of the process (responder), ``echo_ms``: one ECHO round trip, ``runtime``);
exit status 0 only if the scenario completed within SECONDS (default 30).  ``--pase-only``: the responder is
done once PASE is established (for a real controller, which goes on with its own messages).
"""

import sys

MICROPYTHON = sys.implementation.name == "micropython"
if MICROPYTHON:
    sys.path[:] = [p for p in sys.path if p == ".frozen"] + ["shared", "mp"]
else:
    sys.path[:0] = ["shared", "cpython"]

import asyncio  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402

from micromatter import log  # noqa: E402
from micromatter.crypto import spake2p  # noqa: E402
from micromatter.exchange import ExchangeManager, ProtocolHandler, DeliveryFailed  # noqa: E402
from micromatter.securechannel.dispatch import PaseEstablished, PaseFailed, SecureChannel  # noqa: E402
from micromatter.securechannel.pase import PaseResponder  # noqa: E402
from micromatter.session.manager import SessionManager  # noqa: E402
from micromatter.storage import MemoryStorage  # noqa: E402

if MICROPYTHON:
    from micromatter_mp.loop import UdpLoop  # noqa: E402
    from micromatter_mp.port import Port  # noqa: E402
else:
    from micromatter_cpython.loop import UdpLoop  # noqa: E402
    from micromatter_cpython.port import Port  # noqa: E402

PASSCODE = 20202021
SALT = b"SPAKE2P Key Salt"
ITERATIONS = 1000
ECHO_PROTOCOL = 0x7E57
ECHO = 0x01
ECHO_REPLY = 0x02
RUNTIME = "micropython" if MICROPYTHON else "cpython"


def emit(tag, record):
    say(tag + " " + json.dumps(record))


def say(line):
    print(line)
    flush = getattr(sys.stdout, "flush", None)
    if flush is not None:
        flush()


class Echo(ProtocolHandler):
    protocol_id = ECHO_PROTOCOL

    def __init__(self, scenario):
        self.scenario = scenario

    def accepts(self, opcode, secure):
        return opcode == ECHO

    def on_message(self, exchange, protocol_id, opcode, payload, now_ms):
        if opcode == ECHO:
            exchange.send(ECHO_REPLY, b"re:" + bytes(payload), now_ms)
            self.scenario.answered(bytes(payload), now_ms)
        else:
            exchange.close(now_ms)
            self.scenario.replied(bytes(payload), now_ms)

    def on_exchange_closed(self, exchange, reason):
        self.scenario.fail("echo exchange closed: reason %d" % reason)


class Scenario:
    """PASE, then one ECHO each way over the new session; also the loop's stop watch (a timer source)."""

    def __init__(self, role, port, seconds, pase_only=False):
        self.role = role
        self.pase_only = pase_only
        self.port = port
        self.loop = UdpLoop(port.now_ms, self.on_event)
        self.sessions = SessionManager(port, MemoryStorage())
        self.exchanges = ExchangeManager(self.sessions, port)
        self.channel = SecureChannel(self.exchanges, self.sessions, port)
        self.echo = Echo(self)
        self.exchanges.register(self.echo)
        self.start = port.now_ms()
        self.deadline = self.start + seconds * 1000
        self.session = None
        self.pase_ms = None
        self.echo_start = None
        self.echo_ms = None
        self.got_answer = False
        self.got_request = False
        self.error = None
        self.check_at = None
        self.loop.add_timer(self)

    def say(self):
        return b"from the " + (b"device" if self.role == "responder" else b"controller")

    # events from the exchange layer
    def on_event(self, event):
        now = self.port.now_ms()
        if isinstance(event, PaseEstablished):
            self.session = event.session
            self.pase_ms = now - self.start
            emit("EVENT", {"event": "pase", "session": event.session.id, "initiator": event.is_initiator})
            if self.role == "initiator":
                self.send_echo(now)
        elif isinstance(event, PaseFailed):
            self.fail("PASE failed: %r" % event)
        elif isinstance(event, DeliveryFailed):
            self.fail("delivery failed: %r" % event)

    def send_echo(self, now):
        self.echo_start = now
        x = self.exchanges.open(self.session, self.echo, now)
        x.send(ECHO, self.say(), now, expect_reply=True, timeout_ms=10000)
        self.loop.wake()

    def answered(self, payload, now):
        emit("EVENT", {"event": "echo request", "payload": payload.decode()})
        self.got_request = True
        if self.role == "responder" and self.echo_start is None:
            self.send_echo(now)  # now the other way round

    def replied(self, payload, now):
        emit("EVENT", {"event": "echo reply", "payload": payload.decode()})
        if payload == b"re:" + self.say():
            self.got_answer = True
            self.echo_ms = now - self.echo_start
        else:
            self.fail("unexpected reply %r" % payload)

    def fail(self, text):
        if self.error is None:
            self.error = text
            self.loop.stop()

    def done(self):
        if self.pase_only:
            return self.session is not None
        return self.got_answer and self.got_request

    # the stop watch: once done, look every 20 ms until the last acks went out; give up at the deadline
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
                "pase_ms": self.pase_ms, "echo_ms": self.echo_ms, "sent": self.loop.sent,
                "received": self.loop.received, "send_errors": self.loop.send_errors}


def address(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if MICROPYTHON:
        return socket.getaddrinfo(host, port, family, socket.SOCK_DGRAM)[0][-1]
    return (host, port, 0, 0) if family == socket.AF_INET6 else (host, port)


async def main(argv):
    pase_only = "--pase-only" in argv
    argv = [a for a in argv if a != "--pase-only"]
    role = argv[0]
    log.set_level(log.WARNING)
    port = Port()
    if role == "responder":
        listen = int(argv[1])
        seconds = int(argv[2]) if len(argv) > 2 else 30
    else:
        host, peer_port = argv[1], int(argv[2])
        listen = 0
        seconds = int(argv[3]) if len(argv) > 3 else 30
    s = Scenario(role, port, seconds, pase_only)
    s.loop.open_udp(listen, s.exchanges)
    if role == "responder":
        verifier = spake2p.PasscodeVerifier.from_passcode(port.crypto, PASSCODE, SALT, ITERATIONS)
        responder = PaseResponder(port, s.channel.session_ids, verifier, SALT, ITERATIONS)
        s.channel.enable_pase(responder)
        responder.open_window(port.now_ms())
        say("READY %d" % listen)
    else:
        s.channel.start_pase(address(host, peer_port), PASSCODE, port.now_ms())
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
