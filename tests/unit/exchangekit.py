"""Helpers for the exchange, MRP and dispatch tests (both runtimes): nodes wired back to back through a fake
network with a fake clock, a tap on what each node decodes, and an echo protocol."""

from micromatter import log
from micromatter.crypto import spake2p
from micromatter.exchange import ExchangeManager, ProtocolHandler
from micromatter.securechannel.dispatch import SecureChannel
from micromatter.securechannel.pase import PaseResponder
from micromatter.session.manager import SessionManager
from micromatter.storage import MemoryStorage
from sessionkit import Clockless
from support import port

PASSCODE = 20202021
SALT = b"SPAKE2P Key Salt"
ITERATIONS = 1000
ECHO_PROTOCOL = 0x7E57  # a protocol id no specification uses: the tests' own
ECHO = 0x01
ECHO_REPLY = 0x02
_verifier = []


def verifier():
    """The SDK's test verifier (PBKDF2 is slow on MicroPython: computed once)."""
    if not _verifier:
        _verifier.append(spake2p.PasscodeVerifier.from_passcode(port().crypto, PASSCODE, SALT, ITERATIONS))
    return _verifier[0]


class Echo(ProtocolHandler):
    """Protocol ``ECHO_PROTOCOL``: ECHO is answered with ECHO_REPLY carrying b"re:" + payload (or held
    when ``hold`` is set: nothing sent, the exchange stays open); replies are recorded."""

    protocol_id = ECHO_PROTOCOL

    def __init__(self):
        self.requests = []
        self.replies = []
        self.closed = []
        self.hold = False
        self.final_reply = True

    def accepts(self, opcode, secure):
        return opcode == ECHO

    def on_message(self, exchange, protocol_id, opcode, payload, now_ms):
        if opcode == ECHO:
            self.requests.append(bytes(payload))
            if not self.hold:
                exchange.send(ECHO_REPLY, b"re:" + bytes(payload), now_ms, expect_reply=not self.final_reply)
        else:
            self.replies.append((protocol_id, opcode, bytes(payload)))
            exchange.close(now_ms)

    def on_exchange_closed(self, exchange, reason):
        self.closed.append(reason)

    def busy_reply(self):
        return (ECHO_PROTOCOL, 0x7F, b"busy")


class Node:
    """A session manager, exchange manager and secure channel, named ``name`` (its address)."""

    def __init__(self, name, seed, exchanges=None, secure_capacity=None, **kwargs):
        self.name = name
        self.ctx = Clockless(seed)
        skw = {} if secure_capacity is None else {"secure_capacity": secure_capacity}
        self.sessions = SessionManager(self.ctx, MemoryStorage(), **skw)
        if exchanges is not None:
            kwargs["capacity"] = exchanges
        self.exchanges = ExchangeManager(self.sessions, self.ctx, **kwargs)
        self.channel = SecureChannel(self.exchanges, self.sessions, self.ctx)
        self.echo = Echo()
        self.exchanges.register(self.echo)
        self.events = []
        self.pase = None
        self.decoded = None
        self._decode = self.sessions.decode
        self.sessions.decode = self._tap

    def _tap(self, buf, length, now_ms):
        self.decoded = None
        r = self._decode(buf, length, now_ms)
        p = r.protocol
        self.decoded = {
            "session": r.header.session_id, "counter": r.header.counter, "duplicate": r.duplicate,
            "protocol": p.protocol_id, "opcode": p.opcode, "exchange": p.exchange_id, "initiator": p.initiator,
            "reliable": p.reliable, "ack": p.ack_counter,
        }
        return r

    def enable_pase(self, now_ms=0, **kwargs):
        self.pase = PaseResponder(self.ctx, self.channel.session_ids, verifier(), SALT, ITERATIONS, **kwargs)
        self.channel.enable_pase(self.pase)
        self.pase.open_window(now_ms)
        return self.pase

    def of(self, kind):
        return [e for e in self.events if isinstance(e, kind)]


class Wire:
    """A fake network between nodes (addressed by name) and the fake clock they share.

    Every datagram is logged (``sent``: dicts with time, src, dst, length and what the receiver decoded);
    ``drop(entry)`` decides losses; ``run`` delivers, then advances the clock to the next deadline."""

    def __init__(self, *nodes):
        self.nodes = {}
        for n in nodes:
            self.nodes[n.name] = n
        self.now = 0
        self.queue = []
        self.sent = []
        self.drop = None

    def collect(self, node, out):
        for data, peer in out.messages:
            self.queue.append((node.name, peer, bytes(data), self.now))
        node.events.extend(out.events)

    def take(self, node):
        self.collect(node, node.exchanges.take_output())

    def deliver(self):
        """Deliver everything queued (and what the deliveries produce)."""
        count = 0
        while self.queue:
            count += 1
            assert count < 1000, "datagram storm"
            src, dst, data, _ = self.queue.pop(0)
            entry = {"t": self.now, "src": src, "dst": dst, "length": len(data), "data": data, "decoded": None,
                     "dropped": False}
            self.sent.append(entry)
            if self.drop is not None and self.drop(entry):
                entry["dropped"] = True
                continue
            node = self.nodes.get(dst)
            if node is None:
                continue
            self.collect(node, node.exchanges.on_datagram(data, len(data), src, self.now))
            entry["decoded"] = node.decoded

    def next_deadline(self):
        best = None
        for n in self.nodes.values():
            d = n.exchanges.next_deadline()
            if d is not None and (best is None or d < best):
                best = d
        return best

    def tick(self, now_ms):
        """Advance the clock to ``now_ms`` and run every node's due timers."""
        assert now_ms >= self.now
        self.now = now_ms
        for n in self.nodes.values():
            d = n.exchanges.next_deadline()
            if d is not None and d <= now_ms:
                self.collect(n, n.exchanges.on_timer(now_ms))

    def run(self, until=None, steps=500):
        """Deliver and follow deadlines until nothing is left (or the clock would pass ``until``)."""
        for _ in range(steps):
            self.deliver()
            d = self.next_deadline()
            if d is None or (until is not None and d > until):
                if until is not None and until > self.now:
                    self.now = until
                return
            self.tick(max(self.now, d))
        raise AssertionError("wire did not settle")

    def between(self, src, dst):
        return [e for e in self.sent if e["src"] == src and e["dst"] == dst]


def secure_pair(a, b, now_ms=0, secret=None):
    """PASE-style sessions between nodes ``a`` (initiator) and ``b`` built straight through the session
    cores (no handshake), with each side's peer address known.  Returns (a's session, b's session)."""
    secret = secret or bytes(range(16))
    a_id = a.sessions.get_next_available_session_id(now_ms)
    b_id = b.sessions.get_next_available_session_id(now_ms)
    sa = a.sessions.create_secure_session(a_id, None, 0, b_id, secret, b"", True, False,
                                          close_callback=a.exchanges.session_closed, now_ms=now_ms)
    sb = b.sessions.create_secure_session(b_id, None, 0, a_id, secret, b"", False, False,
                                          close_callback=b.exchanges.session_closed, now_ms=now_ms)
    a.exchanges.set_peer_address(sa, b.name)
    b.exchanges.set_peer_address(sb, a.name)
    return sa, sb


def ask(wire, node, session, payload=b"ping", handler=None, expect_reply=True):
    """Open an exchange from ``node`` on ``session`` and send ECHO; returns the exchange."""
    handler = handler or node.echo
    x = node.exchanges.open(session, handler, wire.now)
    x.send(ECHO, payload, wire.now, expect_reply=expect_reply)
    wire.take(node)
    return x


def quiet():
    """Silence the log for a test; returns the captured lines (restore with ``loud``)."""
    lines = []
    log.set_sink(lines.append)
    return lines


def loud():
    log.set_sink(None)
