"""Exchanges (Matter Core spec 4.10): the message layer between the sessions and the protocols, sans-I/O.

An exchange is one conversation (a PASE handshake, a Read, an Invoke, a subscription report) on a session,
keyed by (session, exchange id, our role).  ``ExchangeManager`` is the node's whole message layer: the
port's loop hands it every datagram (``on_datagram``) and calls ``on_timer`` when ``next_deadline()`` comes;
both return an ``Output``: the datagrams to send, ``(data, peer_address)`` pairs where ``data`` is bytes or a
memoryview, and the events for the upper layer.  Addresses are opaque to the core (a CPython address
tuple, a MicroPython raw sockaddr): what came in with a datagram is handed back for ``sendto``.

- **Protocols** register a handler (``ProtocolHandler``) by protocol id.  A new exchange is created only for a
  message with the I flag whose protocol has a handler that accepts its opcode (and, on an unsecured
  session, only for handlers that allow it).  As connectedhomeip does, anything else (unknown protocol or
  opcode, a message for no exchange) is answered with a standalone ack if it asked for one and dropped; an
  unknown IM opcode on an IM exchange is the IM handler's to answer (StatusResponse InvalidAction).
- **Reliability** (``micromatter.mrp``): acks are piggybacked on the next message of the exchange, or sent
  standalone after 200 ms, at once for a duplicate (acked again, never delivered twice) and when an exchange
  closes.  Reliable messages are kept (encrypted) in a fixed pool and retransmitted with the spec's backoff;
  after 5 sends the session is marked defunct and a ``DeliveryFailed`` event is emitted.
- **Lifetime**: an exchange stays open until its handler sends a final message (``expect_reply`` False) or
  closes it; it then lingers only until its last reliable message is acknowledged.  A handler that expects a
  reply and gets none within ``timeout_ms``, a session that ends, an MRP failure or a full retransmission
  table (answered Busy) close it and the handler hears ``on_exchange_closed(exchange, reason)``.
- **Unknown sessions**: a message for a secure session id we do not have is answered (by default) with an
  unsecured StatusReport SessionNotFound (general Failure, protocol 0, code 5, no R flag, destination node id
  0, as rs-matter does), so a controller drops its stale session at once after the device rebooted; at most
  ``SESSION_NOT_FOUND_PER_SECOND`` replies a second.  Receiving one marks our sessions to that address
  defunct, ends their exchanges and emits ``PeerSessionNotFound``.
- **Memory**: every table is sized at construction: exchanges, MRP entries (each with its own copy of the
  encrypted message), peer addresses.  Datagrams are decrypted in place in one receive buffer of
  ``MAX_DATAGRAM`` bytes and sealed in one transmit buffer of ``MAX_MESSAGE`` (the IPv6 minimum MTU 1280
  less the IPv6 and UDP headers).

Handlers get ``Exchange`` handles.  A handle is reused for the slot's next exchange: keep one only while it is
open (``generation`` tells a later exchange in the same slot apart).
"""

from array import array

from micromatter import log
from micromatter.compat import const
from micromatter.endian import get_le, put_le
from micromatter.errors import MatterError, MessageError
from micromatter.message import MessageHeader, ProtocolHeader
from micromatter.mrp import NO_ACK, Mrp, RetransmissionTableFullError
from micromatter.mrp import DEFAULT_CAPACITY as DEFAULT_RETRANSMISSIONS
from micromatter.securechannel.opcodes import PROTOCOL_ID as SECURE_CHANNEL, STANDALONE_ACK, STATUS_REPORT
from micromatter.securechannel.status import GENERAL_FAILURE, SESSION_NOT_FOUND
from micromatter.session.errors import MessageRejectedError, UnknownSessionError
from micromatter.session.secure import HEADER_LENGTH as SECURE_HEADER_LENGTH
from micromatter.session.secure import TAG_LENGTH, SecureSession
from micromatter.session.unsecure import HEADER_LENGTH as UNSECURE_HEADER_LENGTH
from micromatter.session.unsecure import UnsecureSession

MAX_DATAGRAM = const(1280)  # the receive buffer: any datagram within the IPv6 minimum MTU
MAX_MESSAGE = const(1232)  # what we send: 1280 less the IPv6 (40) and UDP (8) headers
DEFAULT_EXCHANGES = const(16)
DEFAULT_RESPONSE_TIMEOUT_MS = const(30000)
SESSION_NOT_FOUND_PER_SECOND = const(4)

# Why an exchange was closed under its handler (``ProtocolHandler.on_exchange_closed``).
TIMEOUT = const(1)  # the reply it expected did not come in time
DELIVERY_FAILED = const(2)  # MRP gave up: the peer never acknowledged
SESSION_ENDED = const(3)  # the session was removed, evicted or closed by the peer
BUSY = const(4)  # no retransmission entry for its reply: answered Busy
ERROR = const(5)  # its handler raised
SESSION_NOT_FOUND_REASON = const(6)  # the peer said it has no such session any more
REASON_NAMES = ("", "timeout", "delivery failed", "session ended", "busy", "handler error", "session not found")

_FREE = const(0)
_OPEN = const(1)  # the handler owns it
_CLOSING = const(2)  # the handler is done; waiting for the ack of its last reliable message
_NO_DEADLINE = const(-1)
_TAG = "exchange"


class ExchangeError(MatterError):
    """Base of exchange-layer failures."""


class ExchangeArgumentError(ExchangeError):
    """An argument to the exchange layer is of the wrong type or out of range."""


class ExchangeStateError(ExchangeError):
    """The exchange is closed, or its session has ended."""


class ExchangeTableFullError(ExchangeError):
    """Every exchange slot is in use: no new exchange can be opened."""

    status = 4  # Busy


class MessageTooLargeError(ExchangeError):
    """The message would not fit ``MAX_MESSAGE`` bytes (the IPv6 minimum MTU)."""


class Output:
    """What one call of the exchange layer produced: ``messages`` to send, ``(data, peer_address)`` each,
    in order, and ``events``.  Valid until the next ``on_datagram``/``on_timer``/``take_output`` call."""

    def __init__(self):
        self.messages = []
        self.events = []

    def clear(self):
        self.messages.clear()
        self.events.clear()


class DeliveryFailed:
    """MRP sent a message ``MAX_TRANSMISSIONS`` times without an ack: ``session`` (now defunct if secure)
    and the exchange it was on."""

    def __init__(self, session, exchange_id, protocol_id, peer):
        self.session = session
        self.exchange_id = exchange_id
        self.protocol_id = protocol_id
        self.peer = peer

    def __repr__(self):
        return "<DeliveryFailed %r exchange %d>" % (self.session, self.exchange_id)


class PeerSessionNotFound:
    """The peer at ``peer`` answered SessionNotFound: ``sessions`` (ours to it) were marked defunct."""

    def __init__(self, peer, sessions):
        self.peer = peer
        self.sessions = sessions

    def __repr__(self):
        return "<PeerSessionNotFound %r, %d sessions>" % (self.peer, len(self.sessions))


class ProtocolHandler:
    """A protocol's side of the exchanges; subclass and override what is needed.

    ``protocol_id``/``vendor_id`` name the protocol; ``allow_unsecured`` lets it run on unsecured sessions
    (only the secure channel does).  ``accepts(opcode, secure)`` says which opcodes may open an exchange.
    ``on_message(exchange, protocol_id, opcode, payload, now_ms)`` gets every message of its exchanges
    (``payload`` is a memoryview valid during the call) and answers with ``exchange.send(...)`` or
    ``exchange.close(...)``; doing neither keeps the exchange open (the ack goes out after 200 ms).
    ``busy_reply()`` is ``(protocol_id, opcode, payload)`` sent unreliably when the retransmission table is
    full, or None.  ``next_deadline()``/``on_timer(now_ms)`` give registered handlers timers."""

    protocol_id = 0
    vendor_id = 0
    allow_unsecured = False

    def accepts(self, opcode, secure):
        return True

    def on_message(self, exchange, protocol_id, opcode, payload, now_ms):
        exchange.close(now_ms)

    def on_exchange_closed(self, exchange, reason):
        pass

    def busy_reply(self):
        return None

    def next_deadline(self):
        return None

    def on_timer(self, now_ms):
        pass


class Exchange:
    """The handle of an exchange slot.  ``context`` is the handler's own field (None when opened)."""

    def __init__(self, manager, slot):
        self._m = manager
        self._i = slot
        self.context = None

    # Read-only views of the slot's entries in the manager's tables (its struct of arrays).
    session = property(lambda self: self._m._session[self._i])
    exchange_id = property(lambda self: self._m._xid[self._i])
    is_initiator = property(lambda self: self._m._initiator[self._i] == 1)
    protocol_id = property(lambda self: self._m._protocol[self._i])
    peer = property(lambda self: self._m._peer[self._i])
    generation = property(lambda self: self._m._gen[self._i])
    is_open = property(lambda self: self._m._state[self._i] == _OPEN)

    def send(self, opcode, payload, now_ms, expect_reply=False, reliable=True, protocol_id=None, timeout_ms=None):
        """Send ``opcode`` with ``payload`` (bytes-like or None) on this exchange, piggybacking a pending ack.
        ``expect_reply``: keep the exchange open for the peer's answer (closed with ``TIMEOUT`` after
        ``timeout_ms``); otherwise this is the exchange's last message.  ``protocol_id`` defaults to the
        exchange's (a StatusReport on any exchange is the secure channel's).  Raises
        ``RetransmissionTableFullError``, ``MessageTooLargeError``, ``ExchangeStateError``."""
        self._m._send(self._i, opcode, payload, now_ms, expect_reply, reliable, protocol_id, timeout_ms)

    def send_ack(self, now_ms):
        """Send the pending acknowledgement now as a standalone ack (before slow work, so the peer does
        not retransmit).  False if none was pending."""
        _check_time(now_ms)
        return self._m._flush_ack(self._i, now_ms)

    def close(self, now_ms):
        """The handler is done: a pending ack goes out at once; no more messages are delivered."""
        _check_time(now_ms)
        self._m._close(self._i, now_ms, 0)

    def __repr__(self):
        m = self._m
        i = self._i
        if m._state[i] == _FREE:
            return "<Exchange free>"
        return "<Exchange %d%s on %r>" % (m._xid[i], "i" if m._initiator[i] else "r", m._session[i])


def _secure(session):
    return isinstance(session, SecureSession)


def _check_time(now_ms):
    if not isinstance(now_ms, int) or isinstance(now_ms, bool) or now_ms < 0:
        raise ExchangeArgumentError("now_ms must be a non-negative int")


def _check_data(data, what):
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ExchangeArgumentError(what + " must be bytes-like")


class ExchangeManager:
    """The message layer of a node.  ``sessions`` is the ``SessionManager``; ``context`` gives
    ``random_bytes`` (the port).  ``capacity`` exchanges, ``retransmissions`` MRP entries;
    ``session_not_found``: answer messages for unknown secure sessions (see the module docstring)."""

    def __init__(self, sessions, context, capacity=DEFAULT_EXCHANGES, retransmissions=DEFAULT_RETRANSMISSIONS,
                 session_not_found=True, response_timeout_ms=DEFAULT_RESPONSE_TIMEOUT_MS):
        if not callable(getattr(sessions, "decode", None)) or not isinstance(
                getattr(sessions, "secure_capacity", None), int):
            raise ExchangeArgumentError("sessions must be a SessionManager")
        if not callable(getattr(context, "random_bytes", None)):
            raise ExchangeArgumentError("context must provide random_bytes (a Port)")
        for value, name, top in ((capacity, "capacity", 255), (response_timeout_ms, "response_timeout_ms", 3600000)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1 or value > top:
                raise ExchangeArgumentError(name + " must be an int 1.." + str(top))
        self.sessions = sessions
        self.capacity = capacity
        self.session_not_found = bool(session_not_found)
        self.response_timeout_ms = response_timeout_ms
        self._random_bytes = context.random_bytes
        self.mrp = Mrp(capacity, retransmissions, MAX_MESSAGE, context.random_bytes)
        zeros = [0] * capacity
        self._state = bytearray(capacity)
        self._initiator = bytearray(capacity)
        self._xid = array("H", zeros)
        self._protocol = array("H", zeros)
        self._vendor = array("H", zeros)
        self._gen = array("H", zeros)
        self._deadline = [_NO_DEADLINE] * capacity  # a list: array('q') items allocate when read (MicroPython)
        self._session = [None] * capacity
        self._handler = [None] * capacity
        self._peer = [None] * capacity
        self._handles = [Exchange(self, i) for i in range(capacity)]
        # Where each session's peer was last heard from (secure and unsecured sessions).
        n = sessions.secure_capacity + sessions.unsecure_capacity
        self._addr_session = [None] * n
        self._addr_peer = [None] * n
        self._addr_next = 0
        self._handlers = {}
        self._timers = []
        self.rx = bytearray(MAX_DATAGRAM)
        self._rx_view = memoryview(self.rx)
        self.tx = bytearray(MAX_MESSAGE)
        self._tx_view = memoryview(self.tx)
        self._tx_entry = -1  # index in the output of the message still held in ``tx``
        self._tx_header = ProtocolHeader()
        self._rx_protocol = ProtocolHeader()
        self._snf_header = MessageHeader()
        self._snf_window = -1000
        self._snf_count = 0
        self._out = Output()
        self._spare = Output()
        raw = context.random_bytes(2)
        self._next_xid = raw[0] | (raw[1] << 8)
        self._now = 0

    # --- registration and events ------------------------------------------------------------

    def register(self, handler):
        """Route new exchanges of ``handler.protocol_id`` (and ``vendor_id``) to ``handler``; its timers
        are run by ``on_timer``."""
        key = self._key(getattr(handler, "vendor_id", 0), getattr(handler, "protocol_id", None))
        if key is None or not callable(getattr(handler, "on_message", None)):
            raise ExchangeArgumentError("handler needs a protocol_id (0..65535) and on_message")
        if key in self._handlers:
            raise ExchangeArgumentError("a handler for protocol 0x%04x is registered already" % handler.protocol_id)
        self._handlers[key] = handler
        self._timers.append(handler)

    @staticmethod
    def _key(vendor_id, protocol_id):
        if not isinstance(protocol_id, int) or protocol_id < 0 or protocol_id > 0xFFFF:
            return None
        if not vendor_id:
            return protocol_id
        return (vendor_id << 16) | protocol_id

    def emit(self, event):
        """Hand ``event`` to the upper layer with the next output."""
        self._out.events.append(event)

    def take_output(self):
        """What was produced outside ``on_datagram``/``on_timer`` (sends from the application)."""
        return self._flush()

    def _flush(self):
        out = self._out
        self._out = self._spare
        self._spare = out
        self._out.clear()
        self._tx_entry = -1
        return out

    # --- peer addresses --------------------------------------------------------------------

    def peer_address(self, session):
        """Where ``session``'s peer was last heard from (or was set), or None."""
        s = self._addr_session
        for k in range(len(s)):
            if s[k] is session:
                return self._addr_peer[k]
        return None

    def set_peer_address(self, session, peer):
        s = self._addr_session
        for k in range(len(s)):
            if s[k] is session:
                self._addr_peer[k] = peer
                return
        free = -1
        for k in range(len(s)):
            o = s[k]
            if o is None or not o.is_live():
                free = k
                break
        if free < 0:  # more live sessions than the tables hold: cannot happen, but never grow
            free = self._addr_next
            self._addr_next = (free + 1) % len(s)
        s[free] = session
        self._addr_peer[free] = peer

    # --- datagrams in ------------------------------------------------------------------------

    def on_datagram(self, data, length, peer, now_ms):
        """One datagram from ``peer`` (``data[:length]``; ``data`` may be ``rx`` itself, filled by the
        loop's ``recvfrom_into``).  Returns the ``Output``."""
        _check_time(now_ms)
        _check_data(data, "a datagram")
        if not isinstance(length, int) or isinstance(length, bool) or length < 0 or length > len(data):
            raise ExchangeArgumentError("length outside the datagram")
        self._now = now_ms
        if length > MAX_DATAGRAM:
            log.warning(_TAG, "dropped a %d-byte datagram" % length)
            return self._flush()
        rx = self.rx
        if data is not rx:
            if length == len(data):
                rx[0:length] = data
            else:
                rx[0:length] = memoryview(data)[0:length]
        try:
            r = self.sessions.decode(rx, length, now_ms)
        except UnknownSessionError:
            self._unknown_session(length, peer, now_ms)
            return self._flush()
        except MessageRejectedError as e:
            if self.sessions.received.header.session_id == 0:
                self._unknown_session(length, peer, now_ms)
            else:
                log.info(_TAG, "dropped: %r" % e)
            return self._flush()
        except MatterError as e:  # malformed, not authentic, replayed
            log.info(_TAG, "dropped: %r" % e)
            return self._flush()
        self._receive(r, peer, now_ms)
        return self._flush()

    def _receive(self, r, peer, now_ms):
        session = r.session
        p = r.protocol
        self.set_peer_address(session, peer)
        ours = 0 if p.initiator else 1  # our role on the exchange the message belongs to
        xid = p.exchange_id
        counter = r.header.counter
        reliable = p.reliable
        protocol_id = p.protocol_id
        opcode = p.opcode
        standalone = protocol_id == SECURE_CHANNEL and opcode == STANDALONE_ACK and p.vendor_id is None
        e = self._find(session, xid, ours)
        if r.duplicate:  # acked again (the peer missed our ack), never delivered twice
            if reliable:
                self._send_standalone(session, peer, xid, ours, counter, now_ms)
                if e >= 0 and self.mrp.ack_pending[e] and self.mrp.ack_counter[e] == counter:
                    self.mrp.clear_acks(e)  # that ack just went out
            return
        if e >= 0:
            if p.ack_counter is not None:
                self.mrp.acknowledge(e, p.ack_counter)
            if reliable:
                previous = self.mrp.receive(e, counter, now_ms)
                if previous != NO_ACK:
                    self._send_standalone(session, peer, xid, ours, previous, now_ms)
            self._peer[e] = peer
            if standalone or self._state[e] != _OPEN:
                if self._state[e] == _CLOSING:
                    self._flush_ack(e, now_ms)
                    self._maybe_free(e)
                return
            self._deliver(e, protocol_id, opcode, r.payload_start, r.payload_end, now_ms)
            return
        secure = _secure(session)
        handler = None
        if p.initiator and not standalone:
            handler = self._handlers.get(self._key(p.vendor_id, protocol_id))
            if handler is not None and (not (secure or handler.allow_unsecured) or not handler.accepts(opcode, secure)):
                handler = None
        if handler is None:  # not for a new exchange: ack it if asked to, and drop it
            if reliable:
                self._send_standalone(session, peer, xid, ours, counter, now_ms)
            self._drop_unused(session)
            return
        e = self._allocate(session, xid, 0, handler, peer, now_ms)
        if e < 0:
            # The session core has taken the message's counter already, so a retransmission would only be
            # acked as a duplicate: answer the protocol's Busy now (or, without one, drop it unacked).
            log.warning(_TAG, "exchange table full: opcode 0x%02x answered Busy" % opcode)
            self._busy_without_exchange(handler, session, peer, xid, counter if reliable else NO_ACK, now_ms)
            self._drop_unused(session)
            return
        if reliable:
            self.mrp.receive(e, counter, now_ms)
        self._deliver(e, protocol_id, opcode, r.payload_start, r.payload_end, now_ms)

    def _deliver(self, e, protocol_id, opcode, start, end, now_ms):
        handler = self._handler[e]
        exchange = self._handles[e]
        gen = self._gen[e]
        self._deadline[e] = now_ms + self.response_timeout_ms  # bounds a handler that neither answers nor closes
        try:
            handler.on_message(exchange, protocol_id, opcode, self._rx_view[start:end], now_ms)
        except RetransmissionTableFullError:
            if self._gen[e] == gen and self._state[e] == _OPEN:
                self._busy(e, now_ms)
        except Exception as err:  # a handler's failure (or bug) closes its exchange, never the node
            log.error(_TAG, "handler failed on opcode 0x%02x: %r" % (opcode, err))
            if self._gen[e] == gen and self._state[e] == _OPEN:
                self._close(e, now_ms, ERROR)

    def _busy(self, e, now_ms):
        """No retransmission entry for the handler's reply: answer its protocol's Busy, unreliably."""
        reply = None
        try:
            reply = self._handler[e].busy_reply()
        except Exception as err:
            log.error(_TAG, "busy_reply failed: %r" % err)
        log.warning(_TAG, "retransmission table full: exchange %d answered Busy" % self._xid[e])
        self._state[e] = _CLOSING
        self._notify(e, BUSY)
        if reply is not None:
            try:
                self._transmit(e, reply[1], reply[2], now_ms, False, False, reply[0], 0, 0)
            except MatterError as err:
                log.warning(_TAG, "no Busy reply: %r" % err)
        self._flush_ack(e, now_ms)
        self._maybe_free(e)

    def _busy_without_exchange(self, handler, session, peer, xid, ack, now_ms):
        try:
            reply = handler.busy_reply()
            if reply is None:
                return
            n = self._seal(session, xid, 0, 0, reply[0], reply[1], reply[2], False, ack, now_ms)
        except Exception as err:
            log.warning(_TAG, "no Busy reply: %r" % err)
            return
        self._tx_entry = len(self._out.messages)
        self._out.messages.append((self._tx_view[0:n], peer))

    # --- exchange slots ---------------------------------------------------------------------------

    def _find(self, session, xid, ours):
        state = self._state
        ids = self._xid
        for e in range(self.capacity):
            if state[e] and ids[e] == xid and self._session[e] is session and self._initiator[e] == ours:
                return e
        return -1

    def _allocate(self, session, xid, ours, handler, peer, now_ms):
        for e in range(self.capacity):
            if self._state[e] == _FREE:
                self._state[e] = _OPEN
                self._xid[e] = xid
                self._initiator[e] = ours
                self._protocol[e] = handler.protocol_id
                self._vendor[e] = getattr(handler, "vendor_id", 0) or 0
                self._session[e] = session
                self._handler[e] = handler
                self._peer[e] = peer
                self._deadline[e] = now_ms + self.response_timeout_ms
                self._handles[e].context = None
                return e
        return -1

    def _in_use(self, session):
        for e in range(self.capacity):
            if self._state[e] and self._session[e] is session:
                return True
        return False

    def _drop_unused(self, session):
        """Unsecured sessions exist for handshakes only: one no exchange uses is freed."""
        if isinstance(session, UnsecureSession) and session.is_live() and not self._in_use(session):
            self.sessions.remove_unsecure_session(session)

    def _free(self, e):
        session = self._session[e]
        self.mrp.release_exchange(e)
        self._state[e] = _FREE
        self._gen[e] = (self._gen[e] + 1) & 0xFFFF
        self._session[e] = None
        self._handler[e] = None
        self._peer[e] = None
        self._deadline[e] = _NO_DEADLINE
        self._handles[e].context = None
        if session is not None:
            self._drop_unused(session)

    def _maybe_free(self, e):
        if self._state[e] == _CLOSING and not self.mrp.ack_pending[e] and self.mrp.entry_of(e) < 0:
            self._free(e)

    def _close(self, e, now_ms, reason):
        """Close an open exchange: a pending ack goes out at once.  ``reason`` 0: its handler closed it;
        otherwise it closes under the handler, which is told why (before the slot is freed)."""
        if self._state[e] != _OPEN:
            return
        self._flush_ack(e, now_ms)
        self._state[e] = _CLOSING
        self._deadline[e] = _NO_DEADLINE
        if reason:
            self._notify(e, reason)
        self._maybe_free(e)

    def _notify(self, e, reason):
        handler = self._handler[e]
        if handler is None:
            return
        try:
            handler.on_exchange_closed(self._handles[e], reason)
        except Exception as err:
            log.error(_TAG, "on_exchange_closed failed: %r" % err)

    def _teardown(self, e, reason):
        """The exchange's session is gone: drop it at once (nothing can be sent or acked on it)."""
        if self._state[e] == _OPEN:
            self._state[e] = _CLOSING
            self._notify(e, reason)
        if self._state[e] != _FREE:
            self._free(e)

    def session_closed(self, session):
        """``session`` ended (removed, evicted, closed): its exchanges go.  Pass it (or call it from) the
        session's ``close_callback``; a session found ended later is noticed by ``on_timer`` anyway."""
        for e in range(self.capacity):
            if self._state[e] and self._session[e] is session:
                self._teardown(e, SESSION_ENDED)

    def exchanges(self):
        """The handles of the exchanges in use (open or closing)."""
        return [self._handles[e] for e in range(self.capacity) if self._state[e]]

    # --- the initiator side ---------------------------------------------------------------------

    def open(self, session, handler, now_ms, peer=None):
        """A new exchange we initiate on ``session``; the peer's replies go to ``handler.on_message``.
        ``peer`` defaults to where the session's peer was last heard from."""
        _check_time(now_ms)
        if not isinstance(session, (SecureSession, UnsecureSession)) or not session.is_live():
            raise ExchangeStateError("open needs a live session")
        if self._key(getattr(handler, "vendor_id", 0), getattr(handler, "protocol_id", None)) is None:
            raise ExchangeArgumentError("handler needs a protocol_id (0..65535)")
        if peer is None:
            peer = self.peer_address(session)
            if peer is None:
                raise ExchangeArgumentError("no known address for the session's peer")
        xid = self._next_xid
        for _ in range(self.capacity + 1):  # at most capacity ids can be in use
            xid = (xid + 1) & 0xFFFF
            if self._find(session, xid, 1) < 0:
                break
        self._next_xid = xid
        e = self._allocate(session, xid, 1, handler, peer, now_ms)
        if e < 0:
            raise ExchangeTableFullError("all %d exchanges in use" % self.capacity)
        self.set_peer_address(session, peer)
        return self._handles[e]

    # --- datagrams out ----------------------------------------------------------------------------

    def _send(self, e, opcode, payload, now_ms, expect_reply, reliable, protocol_id, timeout_ms):
        _check_time(now_ms)
        if self._state[e] != _OPEN:
            raise ExchangeStateError("the exchange is closed")
        if not self._session[e].is_live():
            self._teardown(e, SESSION_ENDED)
            raise ExchangeStateError("the exchange's session has ended")
        if protocol_id is None:
            protocol_id = self._protocol[e]
            vendor = self._vendor[e]
        else:
            vendor = 0
        if payload is not None:
            _check_data(payload, "payload")
        if timeout_ms is None:
            timeout_ms = self.response_timeout_ms
        elif not isinstance(timeout_ms, int) or isinstance(timeout_ms, bool) or timeout_ms < 1:
            raise ExchangeArgumentError("timeout_ms must be a positive int")
        self._transmit(e, opcode, payload, now_ms, expect_reply, reliable, protocol_id, vendor, timeout_ms)

    def _transmit(self, e, opcode, payload, now_ms, expect_reply, reliable, protocol_id, vendor, timeout_ms):
        session = self._session[e]
        mrp = self.mrp
        entry = mrp.reserve() if reliable else -1
        ack = mrp.take(e)
        try:
            n = self._seal(session, self._xid[e], self._initiator[e], vendor, protocol_id, opcode, payload, reliable,
                           ack, now_ms)
        except Exception:
            mrp.restore(e, ack)
            raise
        peer = self._peer[e]
        if reliable:
            mrp.buffers[entry][:] = self.tx
            mrp.start(entry, e, session, peer, session.last_message_counter, n, now_ms)
            self._out.messages.append((mrp.views[entry][0:n], peer))
            self._tx_entry = -1  # tx was copied: free again
        else:
            self._tx_entry = len(self._out.messages)
            self._out.messages.append((self._tx_view[0:n], peer))
        if expect_reply:
            self._deadline[e] = now_ms + timeout_ms
        else:
            self._state[e] = _CLOSING
            self._deadline[e] = _NO_DEADLINE
            self._maybe_free(e)

    def _seal(self, session, xid, ours, vendor, protocol_id, opcode, payload, reliable, ack, now_ms):
        """Protocol header and payload into ``tx``, sealed by the session; the message length."""
        self._release_tx()
        secure = _secure(session)
        header = SECURE_HEADER_LENGTH if secure else UNSECURE_HEADER_LENGTH
        p = self._tx_header
        p.initiator = ours == 1
        p.reliable = reliable
        p.ack_counter = None if ack == NO_ACK else ack
        p.vendor_id = vendor if vendor else None
        p.protocol_id = protocol_id
        p.opcode = opcode
        p.exchange_id = xid
        p.extensions = None
        buf = self.tx
        n = header + p.encode(buf, header)
        end = n
        if payload is not None:
            end = n + len(payload)
            if end > MAX_MESSAGE - (TAG_LENGTH if secure else 0):
                raise MessageTooLargeError("%d-byte payload does not fit a message" % len(payload))
            buf[n:end] = payload
        return session.encode(buf, end, now_ms)

    def _release_tx(self):
        """An unreliable message still waiting in ``tx`` is copied out before ``tx`` is reused (rare)."""
        k = self._tx_entry
        if k >= 0:
            data, peer = self._out.messages[k]
            self._out.messages[k] = (bytes(data), peer)
            self._tx_entry = -1

    def _send_standalone(self, session, peer, xid, ours, counter, now_ms):
        """A standalone ack of ``counter`` on exchange ``xid`` (no exchange slot needed)."""
        if not session.is_live():
            return
        try:
            n = self._seal(session, xid, ours, 0, SECURE_CHANNEL, STANDALONE_ACK, None, False, counter, now_ms)
        except MatterError as e:  # an exhausted counter: the peer will retransmit and the session be replaced
            log.warning(_TAG, "no standalone ack: %r" % e)
            return
        self._tx_entry = len(self._out.messages)
        self._out.messages.append((self._tx_view[0:n], peer))

    def _flush_ack(self, e, now_ms):
        counter = self.mrp.take(e)
        if counter == NO_ACK:
            return False
        self._send_standalone(self._session[e], self._peer[e], self._xid[e], self._initiator[e], counter, now_ms)
        return True

    # --- unknown sessions -------------------------------------------------------------------------

    def _unknown_session(self, length, peer, now_ms):
        h = self.sessions.received.header
        if h.session_id != 0:
            if self.session_not_found:
                self._send_session_not_found(peer, now_ms)
            return
        if h.source_node_id is None:  # from a responder: is it a SessionNotFound for us?
            self._check_session_not_found(h.length(), length, peer, now_ms)

    def _send_session_not_found(self, peer, now_ms):
        if now_ms - self._snf_window >= 1000:
            self._snf_window = now_ms
            self._snf_count = 0
        if self._snf_count >= SESSION_NOT_FOUND_PER_SECOND:
            return
        self._snf_count += 1
        self._release_tx()
        buf = self.tx
        h = self._snf_header
        h.clear()
        try:
            h.counter = self.sessions.counter.next()
        except MatterError as e:
            log.warning(_TAG, "no SessionNotFound: %r" % e)
            return
        h.dest_node_id = 0
        n = h.encode(buf, 0)
        p = self._tx_header
        p.initiator = False
        p.reliable = False
        p.ack_counter = None
        p.vendor_id = None
        p.protocol_id = SECURE_CHANNEL
        p.opcode = STATUS_REPORT
        p.exchange_id = 0
        p.extensions = None
        n += p.encode(buf, n)
        put_le(buf, n, GENERAL_FAILURE, 2)
        put_le(buf, n + 2, SECURE_CHANNEL, 4)
        put_le(buf, n + 6, SESSION_NOT_FOUND, 2)
        n += 8
        self._tx_entry = len(self._out.messages)
        self._out.messages.append((self._tx_view[0:n], peer))
        log.info(_TAG, "message for an unknown session: answered SessionNotFound")

    def _check_session_not_found(self, header_length, length, peer, now_ms):
        p = self._rx_protocol
        rx = self.rx
        try:
            n = p.decode(rx, header_length, length)
        except MessageError:
            return
        q = header_length + n
        if (p.protocol_id != SECURE_CHANNEL or p.vendor_id is not None or p.opcode != STATUS_REPORT
                or length - q < 8):
            return
        if get_le(rx, q + 2, 4) != SECURE_CHANNEL or get_le(rx, q + 6, 2) != SESSION_NOT_FOUND:
            return
        lost = []
        s = self._addr_session
        for k in range(len(s)):
            session = s[k]
            if self._addr_peer[k] == peer and _secure(session) and session.is_live():
                session.mark_defunct()
                lost.append(session)
                for e in range(self.capacity):
                    if self._state[e] and self._session[e] is session:
                        self._teardown(e, SESSION_NOT_FOUND_REASON)
        log.info(_TAG, "peer %r has no session for us: %d marked defunct" % (peer, len(lost)))
        self.emit(PeerSessionNotFound(peer, lost))

    # --- time ---------------------------------------------------------------------------------

    def next_deadline(self):
        """When ``on_timer`` must run next (ms; 0 if output is waiting), or None."""
        if self._out.messages or self._out.events:
            return 0
        best = self.mrp.next_deadline()
        for e in range(self.capacity):
            if self._state[e] == _OPEN:
                d = self._deadline[e]
                if d != _NO_DEADLINE and (best is None or d < best):
                    best = d
        for h in self._timers:
            try:
                d = h.next_deadline()
            except Exception as err:
                log.error(_TAG, "next_deadline failed: %r" % err)
                continue
            if d is not None and (best is None or d < best):
                best = d
        return best

    def on_timer(self, now_ms):
        """Standalone acks, retransmissions, response timeouts and handler timers due at ``now_ms``."""
        _check_time(now_ms)
        self._now = now_ms
        mrp = self.mrp
        for e in range(self.capacity):
            if self._state[e] == _FREE:
                continue
            session = self._session[e]
            if not session.is_live():
                self._teardown(e, SESSION_ENDED)
                continue
            if mrp.ack_due(e, now_ms):
                self._flush_ack(e, now_ms)
                self._maybe_free(e)
        i = mrp.expired(now_ms)
        while i >= 0:
            e = mrp.exchange[i]
            session = mrp.session[i]
            if mrp.exhausted(i) or not session.is_live():
                peer = mrp.peer[i]
                sends = mrp.sends[i]
                mrp.release(i)
                if session.is_live():
                    if _secure(session):
                        session.mark_defunct()
                    log.warning(_TAG, "no ack after %d sends on %r" % (sends, session))
                    self.emit(DeliveryFailed(session, self._xid[e], self._protocol[e], peer))
                if self._state[e] == _OPEN:
                    self._close(e, now_ms, DELIVERY_FAILED)
                else:
                    self._maybe_free(e)
            else:
                self._out.messages.append((mrp.views[i][0:mrp.length[i]], mrp.peer[i]))
                mrp.retransmitted(i, now_ms)
            i = mrp.expired(now_ms)
        for e in range(self.capacity):
            if self._state[e] == _OPEN and self._deadline[e] != _NO_DEADLINE and self._deadline[e] <= now_ms:
                log.info(_TAG, "exchange %d timed out" % self._xid[e])
                self._close(e, now_ms, TIMEOUT)
        for h in self._timers:
            try:
                d = h.next_deadline()
                if d is not None and d <= now_ms:
                    h.on_timer(now_ms)
            except Exception as err:
                log.error(_TAG, "timer failed: %r" % err)
        return self._flush()
