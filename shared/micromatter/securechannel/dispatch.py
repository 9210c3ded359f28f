"""The secure channel protocol (0x0000) on the exchanges: handshakes, session closing, and the slow-crypto ack.

``SecureChannel`` is the node's protocol handler for protocol 0, registered with the ``ExchangeManager``:

- **Responders.** A handshake's first message (PBKDFParamRequest for PASE; Sigma1 for CASE, plugged in
  with ``add_responder``) opens an exchange on an unsecured session; the exchange's ``context`` is the
  handshake's glue, which gets every later message of it (Pake1, Pake3; Sigma3).  ``enable_pase`` plugs
  the ``PaseResponder`` (``micromatter.securechannel.pase``) in; its session ids come from the session core
  (``session_ids``: ``get_next_available_session_id`` / ``remove_session``), so a full table is answered
  Busy with a wait time, as is a second commissioner while a handshake runs.  When a handshake's exchange
  closes (MRP gave up, no reply in time) its glue calls the responder's ``abort`` (PASE and CASE alike), so
  the responder is free at once rather than answering Busy until the handshake's deadline.
- **Established** sessions are created through ``SessionManager.create_secure_session``; the unsecured
  session goes when the handshake's exchange is done (the exchange layer frees unsecured sessions no
  exchange uses, once the last report is acknowledged).  Events: ``PaseEstablished``, ``PaseFailed``.
- **Slow crypto.** SPAKE2+ (Pake1 on the responder; PBKDFParamResponse and Pake2 on the initiator) takes
  long on MicroPython, so the glue sends the standalone ack at once and ``defer``s the work: it runs from
  ``on_timer`` right after the loop sent the ack (``next_deadline`` is 0 meanwhile), and the peer's
  retransmission timer never fires.  CASE (Sigma1, Sigma3) uses the same ``defer``.
- **CloseSession** from the peer (StatusReport, general Success, protocol 0, code CloseSession, on a secure
  session) removes that session and its exchanges: ``PeerClosedSession``.  Other unsolicited reports are
  acknowledged (MRP) and dropped.
- **MsgCounterSyncReq/Rsp** exist only for group keys (spec 4.18: secured with the group key, C flag); this
  node holds no group keys and the session core drops control messages on unicast sessions, so one that
  arrives on a unicast session is not accepted: the exchange layer acknowledges it and drops it.
- **Initiator side.** ``start_pase(peer, passcode, now_ms)`` runs our ``PaseInitiator`` over an exchange of a
  fresh unsecured session (the commissioner's side; tests and the host tool use it); ``start_case(peer,
  fabric, peer_node_id, now_ms)`` does the same with our ``CaseInitiator`` (resuming when a record exists).
- **CASE.** ``enable_case`` plugs the ``CaseResponder`` (``micromatter.securechannel.case``) in; Sigma1 and
  Sigma3 (Sigma2 on the initiator) are acked first and computed from ``on_timer``.  Events:
  ``CaseEstablished`` (``session``, ``is_resumption``), ``CaseFailed``.
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
from micromatter.securechannel.pase import Established, Failed, PaseInitiator
from micromatter.securechannel.status import CLOSE_SESSION, GENERAL_SUCCESS, StatusReport, StatusReportError

MAX_DEFERRED = const(4)  # slow steps waiting for the loop to send their ack first
MAX_INITIATORS = const(2)  # handshakes we initiate at once
BUSY_WAIT_MS = const(500)
_TAG = "securechannel"


class SecureChannelError(ProtocolError):
    """A secure channel operation was refused (too many handshakes, no responder for the opcode...)."""


class PaseEstablished:
    """A PASE session is up: ``session`` (a ``SecureSession``), its ``peer`` address, our role."""

    def __init__(self, session, peer, is_initiator):
        self.session = session
        self.peer = peer
        self.is_initiator = is_initiator

    def __repr__(self):
        return "<PaseEstablished %r>" % self.session


class PaseFailed:
    """A PASE handshake failed: ``status`` (secure channel protocol code sent or received, or None),
    ``error`` (why), ``busy_wait_ms`` (the responder was Busy), ``window_closed`` (attempt limit reached)."""

    def __init__(self, peer, is_initiator, status_code, error, busy_wait_ms=None, window_closed=False):
        self.peer = peer
        self.is_initiator = is_initiator
        self.status = status_code
        self.error = error
        self.busy_wait_ms = busy_wait_ms
        self.window_closed = window_closed

    def __repr__(self):
        return "<PaseFailed status=%r %r>" % (self.status, self.error)


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
        self.add_responder(PBKDF_PARAM_REQUEST, _PaseResponderGlue(self, responder))

    def enable_case(self, responder):
        """Answer CASE with ``responder``, a ``case.CaseResponder`` built on ``self.sessions``."""
        if self.case is not None:
            raise SecureChannelError("CASE is enabled already")
        self.case = responder
        self.add_responder(SIGMA1, _CaseResponderGlue(self, responder))

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

    # --- sessions out of handshakes --------------------------------------------------------------

    def _create_pase_session(self, event, exchange, now_ms, on_closed):
        session = event.create_session(self.sessions, now_ms, close_callback=on_closed)
        self.exchanges.set_peer_address(session, exchange.peer)
        return session

    # --- the initiator side ------------------------------------------------------------------------

    def start_pase(self, peer, passcode, now_ms, parameters=None, pbkdf_parameters=None, peer_parameters=None):
        """Open PASE to the device at ``peer`` with ``passcode``; ``PaseEstablished``/``PaseFailed`` follow
        as events.  ``parameters``: ours (SessionParameters); ``peer_parameters``: the device's MRP
        parameters if known (mDNS), for retransmissions before the handshake tells them.  Returns the
        handshake (``state``, ``session`` once established)."""
        if len(self._initiators) >= MAX_INITIATORS:
            raise SecureChannelError("%d handshakes already in progress" % MAX_INITIATORS)
        sessions = self.sessions
        unsecured = sessions.create_unsecure_session(is_initiator=True, session_parameters=peer_parameters,
                                                     now_ms=now_ms)
        session_id = 0
        try:
            session_id = sessions.get_next_available_session_id(now_ms)
            machine = PaseInitiator(self.context, passcode, session_id, parameters, pbkdf_parameters)
            glue = _PaseInitiatorGlue(self, machine, peer)
            exchange = self.exchanges.open(unsecured, self, now_ms, peer)
            exchange.context = glue
            glue.exchange = exchange
            out = machine.start(now_ms)
            exchange.send(out.opcode, out.payload, now_ms, expect_reply=True, timeout_ms=machine.timeout_ms)
        except Exception:
            if session_id:
                _release(sessions, session_id)
            if unsecured.is_live():
                sessions.remove_unsecure_session(unsecured)
            raise
        self._initiators.append(glue)
        return glue


    def start_case(self, peer, fabric, peer_node_id, now_ms, parameters=None, peer_parameters=None, resume=True):
        """Open CASE to node ``peer_node_id`` of ``fabric`` (a ``Fabric`` with credentials) at ``peer``,
        resuming from its record if there is one (``resume``); ``CaseEstablished``/``CaseFailed`` follow as
        events.  ``peer_parameters``: the node's MRP parameters if known (mDNS).  Returns the handshake."""
        if len(self._initiators) >= MAX_INITIATORS:
            raise SecureChannelError("%d handshakes already in progress" % MAX_INITIATORS)
        sessions = self.sessions
        unsecured = sessions.create_unsecure_session(is_initiator=True, session_parameters=peer_parameters,
                                                     now_ms=now_ms)
        session_id = 0
        try:
            session_id = sessions.get_next_available_session_id(now_ms, fabric, peer_node_id)
            machine = case.CaseInitiator(self.context, sessions, fabric, peer_node_id, session_id, parameters, resume)
            glue = _CaseInitiatorGlue(self, machine, peer)
            exchange = self.exchanges.open(unsecured, self, now_ms, peer)
            exchange.context = glue
            glue.exchange = exchange
            out = machine.start(now_ms)
            exchange.send(out.opcode, out.payload, now_ms, expect_reply=True, timeout_ms=machine.timeout_ms)
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


def _use_peer_parameters(exchange, params):
    """The peer's MRP parameters from its handshake message pace our retransmissions on the unsecured session."""
    session = exchange.session
    if params is not None and session is not None and session.is_live() and hasattr(session, "set_parameters"):
        session.set_parameters(params)


def _release(sessions, session_id):
    try:
        sessions.remove_session(session_id)
    except MatterError:  # evicted meanwhile: nothing to free
        pass


class _PaseResponderGlue:
    """Binds the ``PaseResponder`` to its exchanges; the peer token is (unsecured session, exchange id)."""

    def __init__(self, channel, responder):
        self.channel = channel
        self.responder = responder
        self.exchange = None  # the exchange of the handshake in progress
        self.generation = -1
        self.token = None

    def on_message(self, exchange, opcode, payload, now_ms):
        peer = (exchange.session, exchange.exchange_id)
        if opcode == PAKE1:  # SPAKE2+ on our side: ack first, compute right after
            data = bytes(payload)
            self.channel.defer(exchange, lambda now: self._step(exchange, peer, opcode, data, now), now_ms)
            return
        self._step(exchange, peer, opcode, payload, now_ms)

    def _step(self, exchange, peer, opcode, payload, now_ms):
        responder = self.responder
        out = responder.on_message(peer, opcode, payload, now_ms)
        if responder.peer == peer:
            self.exchange = exchange
            self.generation = exchange.generation
            self.token = peer
            _use_peer_parameters(exchange, responder.peer_parameters)
        self._apply(exchange, out, now_ms)

    def _apply(self, exchange, out, now_ms):
        channel = self.channel
        opcode = out.opcode
        payload = out.payload
        reliable = out.reliable
        for event in out.events:
            if isinstance(event, Established):
                try:
                    session = channel._create_pase_session(event, exchange, now_ms, self._session_closed)
                except MatterError as e:  # its slot was evicted meanwhile: the peer may retry
                    log.warning(_TAG, "PASE established but no session: %r" % e)
                    self.responder.session_closed()
                    _release(channel.sessions, event.local_session_id)
                    report = status.busy(channel.busy_wait_ms)
                    opcode, payload, reliable = STATUS_REPORT, report.encode(), False
                    channel.exchanges.emit(PaseFailed(exchange.peer, False, status.BUSY, e))
                    continue
                log.info(_TAG, "PASE session %d established" % session.id)
                channel.exchanges.emit(PaseEstablished(session, exchange.peer, False))
            elif isinstance(event, Failed):
                log.info(_TAG, "PASE failed: %r" % event)
                channel.exchanges.emit(PaseFailed(exchange.peer, False, event.status, event.error,
                                                  event.busy_wait_ms, event.window_closed))
        if not exchange.is_open:
            return
        if opcode is None:
            exchange.close(now_ms)
            return
        final = opcode == STATUS_REPORT
        exchange.send(opcode, payload, now_ms, expect_reply=not final, reliable=reliable,
                      timeout_ms=self.responder.timeout_ms)

    def _session_closed(self, session):
        self.responder.session_closed()
        self.channel.exchanges.session_closed(session)

    def on_exchange_closed(self, exchange, reason):
        if exchange is self.exchange and exchange.generation == self.generation:
            self.exchange = None
            out = self.responder.abort(self.token)
            if out.events:
                log.info(_TAG, "PASE exchange closed: %s" % REASON_NAMES[reason])
                self._failed(out.events, exchange.peer)

    def next_deadline(self):
        return self.responder.next_deadline()

    def on_timer(self, now_ms):
        out = self.responder.on_timer(now_ms)
        exchange = self.exchange
        if out.events and exchange is not None and exchange.generation == self.generation:
            self._apply(exchange, out, now_ms)
        else:
            self._failed(out.events, None)

    def _failed(self, events, peer):
        """The handshake ended without its exchange: only the events are left to hand on."""
        for event in events:
            if isinstance(event, Failed):
                self.channel.exchanges.emit(PaseFailed(peer, False, event.status, event.error, event.busy_wait_ms,
                                                       event.window_closed))


class _PaseInitiatorGlue:
    """Our ``PaseInitiator`` on its exchange: ``state`` is the machine's, ``session`` the result."""

    def __init__(self, channel, machine, peer):
        self.channel = channel
        self.machine = machine
        self.peer = peer
        self.exchange = None
        self.session = None
        self.done = False

    @property
    def state(self):
        return self.machine.state

    def on_message(self, exchange, opcode, payload, now_ms):
        if opcode == PBKDF_PARAM_RESPONSE or opcode == PAKE2:  # PBKDF2 and SPAKE2+: ack first
            data = bytes(payload)
            self.channel.defer(exchange, lambda now: self._step(exchange, opcode, data, now), now_ms)
            return
        self._step(exchange, opcode, payload, now_ms)

    def _step(self, exchange, opcode, payload, now_ms):
        out = self.machine.on_message(opcode, payload, now_ms)
        _use_peer_parameters(exchange, self.machine.peer_parameters)
        self._apply(exchange, out, now_ms)

    def _apply(self, exchange, out, now_ms):
        channel = self.channel
        for event in out.events:
            if isinstance(event, Established):
                try:
                    self.session = channel._create_pase_session(event, exchange, now_ms,
                                                                channel.exchanges.session_closed)
                except MatterError as e:
                    self._failed(PaseFailed(self.peer, True, None, e))
                    continue
                self._finish()
                channel.exchanges.emit(PaseEstablished(self.session, self.peer, True))
            elif isinstance(event, Failed):
                self._failed(PaseFailed(self.peer, True, event.status, event.error, event.busy_wait_ms))
        if exchange is None or not exchange.is_open:
            return
        if out.opcode is None:
            exchange.close(now_ms)
            return
        final = out.opcode == STATUS_REPORT
        exchange.send(out.opcode, out.payload, now_ms, expect_reply=not final, reliable=out.reliable,
                      timeout_ms=self.machine.timeout_ms)

    def _finish(self):
        self.done = True
        if self in self.channel._initiators:
            self.channel._initiators.remove(self)

    def _failed(self, event):
        if self.done:
            return
        self._finish()
        _release(self.channel.sessions, self.machine.local_session_id)
        log.info(_TAG, "PASE (initiator) failed: %r" % event)
        self.channel.exchanges.emit(event)

    def on_exchange_closed(self, exchange, reason):
        if not self.done:
            self._failed(PaseFailed(self.peer, True, None, SecureChannelError(
                "the handshake's exchange closed: " + REASON_NAMES[reason])))

    def next_deadline(self):
        return None if self.done else self.machine.next_deadline()

    def on_timer(self, now_ms):
        out = self.machine.on_timer(now_ms)
        exchange = self.exchange
        self._apply(exchange if exchange is not None and exchange.context is self else None, out, now_ms)


# --- CASE ------------------------------------------------------------------------------------------------


class CaseEstablished:
    """A CASE session is up: ``session`` (a ``SecureSession``: peer node id, CATs, fabric), its ``peer``
    address, our role and whether it was resumed."""

    def __init__(self, session, peer, is_initiator):
        self.session = session
        self.peer = peer
        self.is_initiator = is_initiator
        self.is_resumption = session.is_resumption

    def __repr__(self):
        return "<CaseEstablished %s %r>" % ("resumed" if self.is_resumption else "new", self.session)


class CaseFailed:
    """A CASE handshake failed: ``status`` (secure channel protocol code sent or received, or None),
    ``error`` (why), ``busy_wait_ms`` (the responder was Busy)."""

    def __init__(self, peer, is_initiator, status_code, error, busy_wait_ms=None):
        self.peer = peer
        self.is_initiator = is_initiator
        self.status = status_code
        self.error = error
        self.busy_wait_ms = busy_wait_ms

    def __repr__(self):
        return "<CaseFailed status=%r %r>" % (self.status, self.error)


def _apply_case(channel, exchange, out, now_ms, timeout_ms, is_initiator, peer):
    """Turn a CASE machine's output into sessions, events and the message on ``exchange`` (None: the exchange
    is gone, only events).  Returns the session made, if any."""
    opcode, payload, reliable = out.opcode, out.payload, out.reliable
    made = None
    for event in out.events:
        if isinstance(event, case.Established):
            try:
                made = event.create_session(channel.sessions, now_ms, close_callback=channel.exchanges.session_closed)
                channel.exchanges.set_peer_address(made, peer)
            except MatterError as e:  # its slot was evicted meanwhile: no Success for a session we lack
                log.warning(_TAG, "CASE established but no session: %r" % e)
                _release(channel.sessions, event.local_session_id)
                if opcode == STATUS_REPORT:
                    opcode, payload, reliable = None, None, True
                    if not is_initiator:
                        opcode, payload, reliable = STATUS_REPORT, status.busy(channel.busy_wait_ms).encode(), False
                channel.exchanges.emit(CaseFailed(peer, is_initiator, status.BUSY, e))
                continue
            log.info(_TAG, "CASE session %d %s" % (made.id, "resumed" if event.is_resumption else "established"))
            channel.exchanges.emit(CaseEstablished(made, peer, is_initiator))
        elif isinstance(event, case.Failed):
            if is_initiator:
                _release(channel.sessions, event.local_session_id)
            log.info(_TAG, "CASE failed: %r" % event)
            channel.exchanges.emit(CaseFailed(peer, is_initiator, event.status, event.error, event.busy_wait_ms))
    if exchange is None or not exchange.is_open:
        return made
    if opcode is None:
        exchange.close(now_ms)
    else:
        exchange.send(opcode, payload, now_ms, expect_reply=opcode != STATUS_REPORT, reliable=reliable,
                      timeout_ms=timeout_ms)
    return made


class _CaseResponderGlue:
    """Binds the ``CaseResponder`` to its exchanges; the peer token is (unsecured session, exchange id).
    Sigma1 and Sigma3 (ECDH, signatures) are acknowledged first and computed right after."""

    def __init__(self, channel, responder):
        self.channel = channel
        self.responder = responder
        self.exchange = None  # the exchange of the handshake in progress
        self.generation = -1
        self.token = None

    def on_message(self, exchange, opcode, payload, now_ms):
        token = (exchange.session, exchange.exchange_id)
        if opcode == SIGMA1 or opcode == SIGMA3:
            data = bytes(payload)
            self.channel.defer(exchange, lambda now: self._step(exchange, token, opcode, data, now), now_ms)
            return
        self._step(exchange, token, opcode, payload, now_ms)

    def _step(self, exchange, token, opcode, payload, now_ms):
        out = self.responder.on_message(token, opcode, payload, now_ms)
        if self.responder.peer == token:
            self.exchange = exchange
            self.generation = exchange.generation
            self.token = token
        _apply_case(self.channel, exchange, out, now_ms, self.responder.timeout_ms, False, exchange.peer)

    def on_exchange_closed(self, exchange, reason):
        if exchange is self.exchange and exchange.generation == self.generation:
            self.exchange = None
            out = self.responder.abort(self.token)
            if out.events:
                log.info(_TAG, "CASE exchange closed: %s" % REASON_NAMES[reason])
                _apply_case(self.channel, None, out, 0, 0, False, exchange.peer)

    def next_deadline(self):
        return self.responder.next_deadline()

    def on_timer(self, now_ms):
        out = self.responder.on_timer(now_ms)
        exchange = self.exchange
        if exchange is not None and exchange.generation == self.generation and exchange.is_open:
            _apply_case(self.channel, exchange, out, now_ms, 0, False, exchange.peer)
        else:
            _apply_case(self.channel, None, out, now_ms, 0, False, None)


class _CaseInitiatorGlue:
    """Our ``CaseInitiator`` on its exchange: ``state`` is the machine's, ``session`` the result.  Sigma2
    (ECDH, chain, signatures) is acknowledged first and computed right after."""

    def __init__(self, channel, machine, peer):
        self.channel = channel
        self.machine = machine
        self.peer = peer
        self.exchange = None
        self.session = None
        self.done = False

    @property
    def state(self):
        return self.machine.state

    def on_message(self, exchange, opcode, payload, now_ms):
        if opcode == SIGMA2:
            data = bytes(payload)
            self.channel.defer(exchange, lambda now: self._apply(exchange, self.machine.on_message(
                opcode, data, now), now), now_ms)
            return
        self._apply(exchange, self.machine.on_message(opcode, payload, now_ms), now_ms)

    def _apply(self, exchange, out, now_ms):
        if out.events and not self.done:
            self.done = True
            if self in self.channel._initiators:
                self.channel._initiators.remove(self)
        made = _apply_case(self.channel, exchange, out, now_ms, self.machine.timeout_ms, True, self.peer)
        if made is not None:
            self.session = made

    def on_exchange_closed(self, exchange, reason):
        if not self.done:
            self._apply(None, self.machine.abort(), 0)

    def next_deadline(self):
        return None if self.done else self.machine.next_deadline()

    def on_timer(self, now_ms):
        exchange = self.exchange
        self._apply(exchange if exchange is not None and exchange.context is self else None,
                    self.machine.on_timer(now_ms), now_ms)
