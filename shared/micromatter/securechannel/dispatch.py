"""The secure channel protocol (0x0000) on the exchanges: handshakes, session closing, and the slow-crypto ack.

``SecureChannel`` is the node's protocol handler for protocol 0, registered with the ``ExchangeManager``:

- **Responders.** A handshake's first message (PBKDFParamRequest for PASE, ``enable_pase``; Sigma1 for
  CASE, ``enable_case``; any opcode with ``add_responder``) opens an exchange on an unsecured session; the
  exchange's ``context`` is the handshake's glue, which gets every later message of it (Pake1, Pake3;
  Sigma3).  The PASE responder's session ids come from the session core (``session_ids``), so a full table
  is answered Busy with a wait time, as is a second commissioner while a handshake runs.  When a
  handshake's exchange closes (MRP gave up, no reply in time) its glue calls the machine's ``abort``, so a
  responder is free at once rather than answering Busy until the handshake's deadline.
- **Initiators.** ``start_pase(peer, passcode, now_ms)`` and ``start_case(peer, fabric, peer_node_id,
  now_ms)`` run our ``PaseInitiator``/``CaseInitiator`` over an exchange of a fresh unsecured session (the
  commissioner's side: tests and host tools), at most ``MAX_INITIATORS`` at once.
- **One glue** for both handshakes and both roles (``_Glue``): the peer's MRP parameters pace the unsecured
  session, an ``Established`` becomes a session (``Established.create_session``, the peer's address) and a
  ``PaseEstablished``/``CaseEstablished`` event, a ``Failed`` a ``PaseFailed``/``CaseFailed`` (the
  initiator gives back the id it reserved; a responder's machine does that itself), the machine's message
  goes out on the exchange.  A session that cannot be made (its slot evicted meanwhile) fails the handshake
  with Busy: the responder answers Busy instead of Success, the initiator sends nothing.  What differs per
  handshake and role is a ``_Kind`` (names, events, slow opcodes); per role, how the machine is called.
  The unsecured session goes when the handshake's exchange is done (the exchange layer frees unsecured
  sessions no exchange uses, once the last report is acknowledged).
- **Slow crypto** (SPAKE2+ and PBKDF2 for PASE, ECDH and signatures for CASE) takes long on MicroPython, so
  the glue sends the standalone ack at once and ``defer``s the work: it runs from ``on_timer`` right after
  the loop sent the ack (``next_deadline`` is 0 meanwhile), and the peer's retransmission timer never fires.
- **CloseSession** from the peer (StatusReport, general Success, protocol 0, code CloseSession, on a secure
  session) removes that session and its exchanges: ``PeerClosedSession``.  Other unsolicited reports are
  acknowledged (MRP) and dropped.
- **MsgCounterSyncReq/Rsp** exist only for group keys (spec 4.18: secured with the group key, C flag); this
  node holds no group keys and the session core drops control messages on unicast sessions, so one that
  arrives on a unicast session is not accepted: the exchange layer acknowledges it and drops it.
"""

from micromatter import log
from micromatter.compat import const
from micromatter.errors import MatterError, ProtocolError
from micromatter.exchange import REASON_NAMES, ProtocolHandler
from micromatter.securechannel import case, status
from micromatter.securechannel.opcodes import (
    SIGMA1,
    SIGMA2,
    SIGMA3,
    PAKE2,
    PBKDF_PARAM_REQUEST,
    PBKDF_PARAM_RESPONSE,
    PAKE1,
    PROTOCOL_ID,
    STATUS_REPORT,
)
from micromatter.securechannel.handshake import Established, Failed
from micromatter.securechannel.pase import PaseInitiator
from micromatter.securechannel.status import CLOSE_SESSION, GENERAL_SUCCESS, StatusReport, StatusReportError

MAX_DEFERRED = const(4)  # slow steps waiting for the loop to send their ack first
MAX_INITIATORS = const(2)  # handshakes we initiate at once
BUSY_WAIT_MS = const(500)
_TAG = "securechannel"


class SecureChannelError(ProtocolError):
    """A secure channel operation was refused (too many handshakes, no responder for the opcode...)."""


class HandshakeEstablished:
    """A session is up: ``session`` (a ``SecureSession``), its ``peer`` address, our role."""

    def __init__(self, session, peer, is_initiator):
        self.session = session
        self.peer = peer
        self.is_initiator = is_initiator

    def __repr__(self):
        return "<%s %r>" % (type(self).__name__, self.session)


class HandshakeFailed:
    """A handshake failed: ``status`` (secure channel protocol code sent or received, or None), ``error``
    (why), ``busy_wait_ms`` (the responder was Busy), ``window_closed`` (PASE: attempt limit reached)."""

    def __init__(self, peer, is_initiator, status_code, error, busy_wait_ms=None, window_closed=False):
        self.peer = peer
        self.is_initiator = is_initiator
        self.status = status_code
        self.error = error
        self.busy_wait_ms = busy_wait_ms
        self.window_closed = window_closed

    def __repr__(self):
        return "<%s status=%r %r>" % (type(self).__name__, self.status, self.error)


class PaseEstablished(HandshakeEstablished):
    """A PASE session is up."""

    PROTOCOL = "PASE"


class PaseFailed(HandshakeFailed):
    """A PASE handshake failed."""


class CaseEstablished(HandshakeEstablished):
    """A CASE session is up (the session has the peer node id, CATs, fabric); ``is_resumption``."""

    PROTOCOL = "CASE"

    def __init__(self, session, peer, is_initiator):
        HandshakeEstablished.__init__(self, session, peer, is_initiator)
        self.is_resumption = session.is_resumption

    def __repr__(self):
        return "<CaseEstablished %s %r>" % ("resumed" if self.is_resumption else "new", self.session)


class CaseFailed(HandshakeFailed):
    """A CASE handshake failed (``window_closed`` is always False)."""


class PeerClosedSession:
    """The peer sent CloseSession: the session ``session_id`` is gone."""

    def __init__(self, session_id, peer):
        self.session_id = session_id
        self.peer = peer

    def __repr__(self):
        return "<PeerClosedSession %d>" % self.session_id


class SessionIds:
    """The ``session_ids`` handshake responders take, backed by the session core: ``allocate`` reserves a
    slot (evicting if needed, ``SessionBusyError`` with status Busy if nothing may go), ``release`` frees an
    unused one."""

    def __init__(self, sessions):
        self.sessions = sessions

    def allocate(self, now_ms):
        return self.sessions.get_next_available_session_id(now_ms)

    def release(self, session_id):
        self.sessions.remove_session(session_id)


class SecureChannel(ProtocolHandler):
    """Protocol 0 for a node: ``exchanges`` (the ``ExchangeManager``, which this registers with),
    ``sessions`` (the ``SessionManager``), ``context`` (the port: ``crypto``, ``random_bytes``)."""

    protocol_id = PROTOCOL_ID
    allow_unsecured = True

    def __init__(self, exchanges, sessions, context, busy_wait_ms=BUSY_WAIT_MS):
        self.exchanges = exchanges
        self.sessions = sessions
        self.context = context
        self.busy_wait_ms = busy_wait_ms
        self.session_ids = SessionIds(sessions)
        self.pase = None
        self.case = None
        self._responders = {}  # first opcode of a handshake -> its glue
        self._glues = []  # the same glues, for the timers
        self._deferred = []  # (exchange, generation, step)
        self._initiators = []
        exchanges.register(self)

    # --- plugging handshakes in ------------------------------------------------------------

    def add_responder(self, opcode, glue):
        """Route exchanges opened by ``opcode`` (on an unsecured session) to ``glue``, an object with
        ``on_message(exchange, opcode, payload, now_ms)``, ``on_exchange_closed(exchange, reason)``,
        ``next_deadline()`` and ``on_timer(now_ms)``: Sigma1 for the CASE responder."""
        if opcode in self._responders:
            raise SecureChannelError("opcode 0x%02x has a responder already" % opcode)
        self._responders[opcode] = glue
        self._glues.append(glue)

    def enable_pase(self, responder):
        """Answer PASE with ``responder``, a ``PaseResponder`` built on ``self.session_ids``."""
        if self.pase is not None:
            raise SecureChannelError("PASE is enabled already")
        self.pase = responder
        self.add_responder(PBKDF_PARAM_REQUEST, _ResponderGlue(self, responder, _PASE_RESPONDER))

    def enable_case(self, responder):
        """Answer CASE with ``responder``, a ``case.CaseResponder`` built on ``self.sessions``."""
        if self.case is not None:
            raise SecureChannelError("CASE is enabled already")
        self.case = responder
        self.add_responder(SIGMA1, _ResponderGlue(self, responder, _CASE_RESPONDER))

    # --- the exchange layer's calls ------------------------------------------------------------

    def accepts(self, opcode, secure):
        if opcode == STATUS_REPORT:
            return secure  # CloseSession and other unsolicited reports of a secure session
        return not secure and opcode in self._responders

    def on_message(self, exchange, protocol_id, opcode, payload, now_ms):
        glue = exchange.context
        if glue is None:
            glue = self._responders.get(opcode) if opcode != STATUS_REPORT else None
            if glue is None:
                self._unsolicited_report(exchange, opcode, payload, now_ms)
                return
            exchange.context = glue
        if protocol_id != PROTOCOL_ID:
            log.warning(_TAG, "protocol 0x%04x message on a handshake exchange" % protocol_id)
            exchange.close(now_ms)
            return
        glue.on_message(exchange, opcode, payload, now_ms)

    def on_exchange_closed(self, exchange, reason):
        glue = exchange.context
        if glue is not None:
            glue.on_exchange_closed(exchange, reason)

    def busy_reply(self):
        return (PROTOCOL_ID, STATUS_REPORT, status.busy(self.busy_wait_ms).encode())

    def _unsolicited_report(self, exchange, opcode, payload, now_ms):
        session = exchange.session
        peer = exchange.peer
        exchange.close(now_ms)
        if opcode != STATUS_REPORT:
            return
        try:
            report = StatusReport.decode(payload)
        except StatusReportError:
            return
        if report.general_code != GENERAL_SUCCESS or report.protocol_id != PROTOCOL_ID \
                or report.protocol_code != CLOSE_SESSION:
            log.info(_TAG, "unsolicited %r ignored" % report)
            return
        if not session.is_live():
            return
        session_id = session.id
        self.exchanges.session_closed(session)
        try:
            self.sessions.remove_session(session_id)
        except MatterError as e:
            log.warning(_TAG, "CloseSession for %d: %r" % (session_id, e))
            return
        log.info(_TAG, "peer closed session %d" % session_id)
        self.exchanges.emit(PeerClosedSession(session_id, peer))

    # --- slow steps ----------------------------------------------------------------------------

    def defer(self, exchange, step, now_ms):
        """Acknowledge the message just received now, and run ``step(now_ms)`` from the next ``on_timer``
        (due at once) if ``exchange`` is still open then.  Beyond ``MAX_DEFERRED`` steps run at once."""
        exchange.send_ack(now_ms)
        if len(self._deferred) >= MAX_DEFERRED:
            step(now_ms)
            return
        self._deferred.append((exchange, exchange.generation, step))

    def next_deadline(self):
        if self._deferred:
            return 0
        best = None
        for glue in self._glues:
            best = _earliest(best, glue.next_deadline())
        for glue in self._initiators:
            best = _earliest(best, glue.next_deadline())
        return best

    def on_timer(self, now_ms):
        work = self._deferred
        self._deferred = []
        for exchange, generation, step in work:
            if exchange.generation == generation and exchange.is_open:
                try:
                    step(now_ms)
                except Exception as e:  # the handshake's bug: its exchange goes, the node stays
                    log.error(_TAG, "deferred step failed: %r" % e)
                    if exchange.generation == generation and exchange.is_open:
                        exchange.close(now_ms)
        for glue in self._glues + self._initiators:
            d = glue.next_deadline()
            if d is not None and d <= now_ms:
                glue.on_timer(now_ms)

    # --- the initiator side ------------------------------------------------------------------------

    def start_pase(self, peer, passcode, now_ms, parameters=None, pbkdf_parameters=None, peer_parameters=None):
        """Open PASE to the device at ``peer`` with ``passcode``; ``PaseEstablished``/``PaseFailed`` follow
        as events.  ``parameters``: ours (SessionParameters); ``peer_parameters``: the device's MRP
        parameters if known (mDNS), for retransmissions before the handshake tells them.  Returns the
        handshake (``state``, ``session`` once established)."""
        return self._start(peer, now_ms, peer_parameters, (), _PASE_INITIATOR, lambda session_id: PaseInitiator(
            self.context, passcode, session_id, parameters, pbkdf_parameters))

    def start_case(self, peer, fabric, peer_node_id, now_ms, parameters=None, peer_parameters=None, resume=True):
        """Open CASE to node ``peer_node_id`` of ``fabric`` (a ``Fabric`` with credentials) at ``peer``,
        resuming from its record if there is one (``resume``); ``CaseEstablished``/``CaseFailed`` follow as
        events.  ``peer_parameters``: the node's MRP parameters if known (mDNS).  Returns the handshake."""
        return self._start(peer, now_ms, peer_parameters, (fabric, peer_node_id), _CASE_INITIATOR,
                           lambda session_id: case.CaseInitiator(self.context, self.sessions, fabric, peer_node_id,
                                                                 session_id, parameters, resume))

    def _start(self, peer, now_ms, peer_parameters, eviction_hint, kind, make):
        """Our initiator ``make(local_session_id)`` over an exchange of a fresh unsecured session; everything
        it reserved is given back if it cannot start."""
        if len(self._initiators) >= MAX_INITIATORS:
            raise SecureChannelError("%d handshakes already in progress" % MAX_INITIATORS)
        sessions = self.sessions
        unsecured = sessions.create_unsecure_session(is_initiator=True, session_parameters=peer_parameters,
                                                     now_ms=now_ms)
        session_id = 0
        try:
            session_id = sessions.get_next_available_session_id(now_ms, *eviction_hint)
            glue = _InitiatorGlue(self, make(session_id), kind, peer)
            exchange = self.exchanges.open(unsecured, self, now_ms, peer)
            exchange.context = glue
            glue.bind(exchange)
            out = glue.machine.start(now_ms)
            exchange.send(out.opcode, out.payload, now_ms, expect_reply=True, timeout_ms=glue.machine.timeout_ms)
        except Exception:
            if session_id:
                _release(sessions, session_id)
            if unsecured.is_live():
                sessions.remove_unsecure_session(unsecured)
            raise
        self._initiators.append(glue)
        return glue


def _earliest(best, d):
    if d is not None and (best is None or d < best):
        return d
    return best


def _release(sessions, session_id):
    try:
        sessions.remove_session(session_id)
    except MatterError:  # evicted meanwhile: nothing to free
        pass


class _Kind:
    """What tells the glue of one handshake and role apart: its name in the log, its events and the opcodes
    whose step is slow crypto (acknowledged first, computed from the next ``on_timer``)."""

    def __init__(self, established, failed, slow):
        self.name = established.PROTOCOL
        self.established = established
        self.failed = failed
        self.slow = slow


_PASE_RESPONDER = _Kind(PaseEstablished, PaseFailed, (PAKE1,))  # SPAKE2+
_PASE_INITIATOR = _Kind(PaseEstablished, PaseFailed, (PBKDF_PARAM_RESPONSE, PAKE2))  # PBKDF2, SPAKE2+
_CASE_RESPONDER = _Kind(CaseEstablished, CaseFailed, (SIGMA1, SIGMA3))  # ECDH, chain, signatures
_CASE_INITIATOR = _Kind(CaseEstablished, CaseFailed, (SIGMA2,))


class _Glue:
    """A handshake machine on its exchange: the slow steps deferred, its outputs turned into sessions,
    events and the message sent.  ``exchange``/``generation``: the exchange of the handshake in progress;
    ``session``: the last session made."""

    is_initiator = False

    def __init__(self, channel, machine, kind):
        self.channel = channel
        self.machine = machine
        self.kind = kind
        self.exchange = None
        self.generation = -1
        self.session = None

    def bind(self, exchange):
        self.exchange = exchange
        self.generation = exchange.generation

    def _current(self):
        """The handshake's exchange if it is still open, else None."""
        exchange = self.exchange
        if exchange is not None and exchange.generation == self.generation and exchange.is_open:
            return exchange
        return None

    def on_message(self, exchange, opcode, payload, now_ms):
        if opcode in self.kind.slow:
            data = bytes(payload)
            self.channel.defer(exchange, lambda now: self._step(exchange, opcode, data, now), now_ms)
            return
        self._step(exchange, opcode, payload, now_ms)

    def next_deadline(self):
        return self.machine.next_deadline()

    def on_timer(self, now_ms):
        out = self.machine.on_timer(now_ms)
        if out.events:  # the deadline passed: the handshake failed
            self._apply(self._current(), out, now_ms)

    def _peer_parameters(self, exchange):
        """The peer's MRP parameters from its handshake message pace our retransmissions on the unsecured
        session."""
        params = self.machine.peer_parameters
        session = exchange.session
        if params is not None and session is not None and session.is_live() and hasattr(session, "set_parameters"):
            session.set_parameters(params)

    def _session_closed(self, session):
        self.machine.session_closed()
        self.channel.exchanges.session_closed(session)

    def _apply(self, exchange, out, now_ms):
        """Turn the machine's output into sessions, events and the message on ``exchange`` (closed or None:
        only the events)."""
        channel = self.channel
        peer = self._peer(exchange)
        kind = self.kind
        opcode, payload, reliable = out.opcode, out.payload, out.reliable
        for event in out.events:
            self._ended()
            if isinstance(event, Established):
                try:
                    session = event.create_session(channel.sessions, now_ms, close_callback=self._session_closed)
                    channel.exchanges.set_peer_address(session, exchange.peer)
                except MatterError as e:  # its slot was evicted meanwhile: no Success for a session we lack
                    log.warning(_TAG, "%s established but no session: %r" % (kind.name, e))
                    self.machine.session_closed()
                    _release(channel.sessions, event.local_session_id)
                    if opcode == STATUS_REPORT:  # the responder says Busy instead; the initiator nothing
                        opcode, payload, reliable = None, None, True
                        if not self.is_initiator:
                            opcode, payload, reliable = STATUS_REPORT, status.busy(channel.busy_wait_ms).encode(), False
                    channel.exchanges.emit(kind.failed(peer, self.is_initiator, status.BUSY, e))
                    continue
                self.session = session
                log.info(_TAG, "%s session %d %s" % (kind.name, session.id,
                                                     "resumed" if event.is_resumption else "established"))
                channel.exchanges.emit(kind.established(session, peer, self.is_initiator))
            elif isinstance(event, Failed):
                if self.is_initiator:  # a responder gives back the id it reserved itself
                    _release(channel.sessions, event.local_session_id)
                log.info(_TAG, "%s failed: %r" % (kind.name, event))
                channel.exchanges.emit(kind.failed(peer, self.is_initiator, event.status, event.error,
                                                   event.busy_wait_ms, event.window_closed))
        if exchange is None or not exchange.is_open:
            return
        if opcode is None:
            exchange.close(now_ms)
        else:
            exchange.send(opcode, payload, now_ms, expect_reply=opcode != STATUS_REPORT, reliable=reliable,
                          timeout_ms=self.machine.timeout_ms)


class _ResponderGlue(_Glue):
    """Binds a handshake responder (``PaseResponder``, ``CaseResponder``) to every exchange its opening
    message opens; the peer token is (unsecured session, exchange id)."""

    def _step(self, exchange, opcode, payload, now_ms):
        token = (exchange.session, exchange.exchange_id)
        out = self.machine.on_message(token, opcode, payload, now_ms)
        if self.machine.peer == token:
            self.bind(exchange)
            self._peer_parameters(exchange)
        self._apply(exchange, out, now_ms)

    def _peer(self, exchange):
        return None if exchange is None else exchange.peer

    def _ended(self):
        pass

    def on_exchange_closed(self, exchange, reason):
        if exchange is self.exchange and exchange.generation == self.generation:
            self.exchange = None
            out = self.machine.abort((exchange.session, exchange.exchange_id))
            if out.events:
                log.info(_TAG, "%s exchange closed: %s" % (self.kind.name, REASON_NAMES[reason]))
                self._apply(exchange, out, 0)


class _InitiatorGlue(_Glue):
    """Our initiator on its exchange, for one handshake: ``state`` is the machine's, ``session`` the result."""

    is_initiator = True

    def __init__(self, channel, machine, kind, peer):
        _Glue.__init__(self, channel, machine, kind)
        self.peer = peer
        self.done = False

    @property
    def state(self):
        return self.machine.state

    def _step(self, exchange, opcode, payload, now_ms):
        out = self.machine.on_message(opcode, payload, now_ms)
        self._peer_parameters(exchange)
        self._apply(exchange, out, now_ms)

    def _peer(self, exchange):
        return self.peer

    def _ended(self):
        if not self.done:
            self.done = True
            if self in self.channel._initiators:
                self.channel._initiators.remove(self)

    def on_exchange_closed(self, exchange, reason):
        if not self.done:
            self._apply(exchange, self.machine.abort(), 0)

    def next_deadline(self):
        return None if self.done else self.machine.next_deadline()
