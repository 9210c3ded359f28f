"""The skeleton PASE and CASE share: a step's ``Output``, the ``Established``/``Failed`` outcomes, the checks
of the local caller's arguments, and the ``Responder``/``Initiator`` bases.

Both handshakes run on one exchange of an unsecured session and are sans-I/O: a call takes a payload
(opcode + TLV bytes) and ``now_ms`` and returns an ``Output``.  A ``Responder`` serves one handshake at a
time: another peer's opening message is answered Busy, a handshake ends at its deadline or as soon as
``abort`` says its exchange closed, and the session id it reserved is released whenever it ends without a
session.  Bad input from the peer fails the handshake with a StatusReport InvalidParameter (a report is
never answered with a report); nothing escapes.  The local caller's mistakes raise the protocol's
``ArgumentError``: each protocol names its error classes on its subclasses, so callers see
``PaseStateError`` or ``CaseStateError`` as before.
"""

from micromatter.compat import const
from micromatter.errors import MatterError
from micromatter.securechannel import status
from micromatter.securechannel.opcodes import STATUS_REPORT, name
from micromatter.securechannel.status import BUSY, INVALID_PARAMETER, SUCCESS, StatusReport
from micromatter.session.params import SessionParameters

# Initiator states every handshake has; a protocol numbers its own waits from 4.
IDLE = const(0)
DONE = const(1)
FAILED = const(2)
WAIT_STATUS = const(3)  # our last message is out; the responder's StatusReport ends the handshake


class Output:
    """What one call asks of the glue: send ``payload`` with ``opcode`` on the handshake's exchange (None:
    send nothing; ``reliable`` False for Busy), then handle ``events`` (``Established``/``Failed``)."""

    def __init__(self):
        self.opcode = None
        self.payload = None
        self.reliable = True
        self.events = []

    def _send(self, opcode, payload, reliable=True):
        self.opcode = opcode
        self.payload = payload
        self.reliable = reliable

    def _report(self, report):
        self._send(STATUS_REPORT, report.encode(), report.reliable)

    def __repr__(self):
        sent = "nothing" if self.opcode is None else "%s (%d bytes)" % (name(self.opcode), len(self.payload))
        return "<Output %s, events %r>" % (sent, self.events)


class Established:
    """The handshake succeeded: what ``SessionManager.create_secure_session`` needs (``create_session``
    passes it on).  PASE has no fabric, peer node id 0, no CATs and an empty salt; ``resumption_id`` (CASE)
    is the one the new record holds."""

    def __init__(self, peer, is_initiator, local_session_id, peer_session_id, shared_secret, peer_parameters,
                 fabric=None, peer_node_id=0, peer_cats=(), salt=b"", is_resumption=False, resumption_id=None):
        self.peer = peer
        self.is_initiator = is_initiator
        self.local_session_id = local_session_id
        self.peer_session_id = peer_session_id
        self.shared_secret = shared_secret
        self.peer_parameters = peer_parameters  # SessionParameters, or None if the peer sent none
        self.fabric = fabric
        self.peer_node_id = peer_node_id
        self.peer_cats = peer_cats
        self.salt = salt
        self.is_resumption = is_resumption
        self.resumption_id = resumption_id

    def create_session(self, sessions, now_ms, close_callback=None, subscription_changed_callback=None):
        """Make the secure session in ``sessions`` (the ``SessionManager``) and return it."""
        return sessions.create_secure_session(
            self.local_session_id, self.fabric, self.peer_node_id, self.peer_session_id, self.shared_secret,
            self.salt, self.is_initiator, self.is_resumption, close_callback=close_callback,
            subscription_changed_callback=subscription_changed_callback, peer_session_parameters=self.peer_parameters,
            peer_cats=self.peer_cats, now_ms=now_ms)

    def __repr__(self):
        return "<Established %s%s session %d, peer 0x%x session %d>" % (
            "initiator" if self.is_initiator else "responder", " resumed" if self.is_resumption else "",
            self.local_session_id, self.peer_node_id, self.peer_session_id)


class Failed:
    """The handshake failed: ``error`` says why (an exception instance), ``status`` is the secure-channel
    protocol code sent or received (None after a timeout or an abort); ``busy_wait_ms`` when the responder
    was Busy; ``window_closed`` (PASE) when this failure reached the attempt limit (stop advertising)."""

    def __init__(self, peer, status_code, error, local_session_id, busy_wait_ms=None, window_closed=False):
        self.peer = peer
        self.status = status_code
        self.error = error
        self.local_session_id = local_session_id
        self.busy_wait_ms = busy_wait_ms
        self.window_closed = window_closed

    def __repr__(self):
        return "<Failed status=%r %s: %s>" % (self.status, type(self.error).__name__, self.error)


# --- the local caller's arguments (``error``: the protocol's ArgumentError) ------------------------------


def check_int(value, what, low, high, error):
    if not isinstance(value, int) or isinstance(value, bool) or value < low or value > high:
        raise error("%s must be an int %d..%d" % (what, low, high))
    return value


def check_time(now_ms, error):
    return check_int(now_ms, "now_ms", 0, 1 << 62, error)


def check_parameters(value, error):
    if value is None:
        return SessionParameters()
    if not isinstance(value, SessionParameters):
        raise error("parameters must be SessionParameters")
    return value


def digest(crypto, *parts):
    """SHA-256 of the parts one after the other (the PASE context, the CASE transcripts)."""
    h = crypto.sha256()
    for part in parts:
        h.update(part)
    return h.digest()


class _Machine:
    """What both roles hold: the port's crypto and randomness, our session parameters, the timeout."""

    StateError = TimeoutError = PeerStatusError = ArgumentError = None

    def __init__(self, context, parameters, timeout_ms):
        if getattr(context, "crypto", None) is None or not callable(getattr(context, "random_bytes", None)):
            raise self.ArgumentError("context must provide crypto and random_bytes (a Port)")
        self.crypto = context.crypto
        self._random_bytes = context.random_bytes
        self.parameters = check_parameters(parameters, self.ArgumentError)
        self.timeout_ms = check_int(timeout_ms, "timeout_ms", 1, 0x7FFFFFFF, self.ArgumentError)
        self.deadline = None  # set while a handshake is in progress
        self.peer_session_id = 0
        self.peer_parameters = None

    def next_deadline(self):
        """When ``on_timer`` must run next (ms), or None."""
        return self.deadline

    def session_closed(self):
        """The session this machine's handshake established has ended (the PASE responder listens again)."""

    def _checked(self, opcode, payload, now_ms):
        """The arguments of ``on_message`` checked; a private copy of the payload (the glue may reuse its
        receive buffer)."""
        check_time(now_ms, self.ArgumentError)
        check_int(opcode, "opcode", 0, 0xFF, self.ArgumentError)
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise self.ArgumentError("payload must be bytes-like")
        return bytes(payload)


class Responder(_Machine):
    """The device side, one handshake at a time.  A protocol gives ``FIRST`` (the opcode that opens a
    handshake), its error classes and: ``_start(payload, now_ms, out)`` (the opening message from
    ``self.peer``; it reserves a session id with ``_reserve``), ``_step(opcode, payload, now_ms, out)`` (a
    later message; False if it does not fit the state), ``_awaited()`` (the opcode waited for); and if it
    differs from a handshake in progress, ``_busy()`` (answer another opening Busy), ``_accepting()``,
    ``_peer_succeeded(out)`` (a Success report from the peer: True if that completes the handshake) and
    ``_failed(event)`` (after a failure); ``_free(session_id)`` gives back an id it reserved."""

    FIRST = None

    def __init__(self, context, parameters, timeout_ms, busy_wait_ms):
        _Machine.__init__(self, context, parameters, timeout_ms)
        self.busy_wait_ms = check_int(busy_wait_ms, "busy_wait_ms", 0, 0xFFFF, self.ArgumentError)
        self._clear()

    def _clear(self):
        self.peer = None
        self.deadline = None
        self.local_session_id = 0
        self.peer_session_id = 0
        self.peer_parameters = None

    def in_progress(self):
        return self.deadline is not None

    def _busy(self):
        return self.in_progress()

    def _accepting(self):
        return True

    def _peer_succeeded(self, out):
        return False

    def _failed(self, event):
        pass

    def on_timer(self, now_ms):
        check_time(now_ms, self.ArgumentError)
        out = Output()
        if self.in_progress() and now_ms >= self.deadline:
            self._fail(out, self.TimeoutError("no %s before the deadline" % name(self._awaited())), None, False)
        return out

    def abort(self, peer):
        """The handshake with ``peer`` lost its exchange (MRP gave up, the exchange timed out): drop it now
        rather than at its deadline, so the next initiator is served instead of answered Busy.  Nothing to
        send; an ``Output`` with the ``Failed`` event if there was a handshake."""
        out = Output()
        if self.in_progress() and peer == self.peer:
            self._fail(out, self.StateError("the handshake's exchange closed"), None, False)
        return out

    def on_message(self, peer, opcode, payload, now_ms):
        """Handle one secure-channel message from ``peer`` (any token the glue uses to tell initiators
        apart, e.g. its unsecured session and exchange; compared with ==)."""
        payload = self._checked(opcode, payload, now_ms)
        out = self.on_timer(now_ms)  # a deadline passed: that handshake ends before this message counts
        ours = self.in_progress() and peer == self.peer
        if not ours:
            if opcode == STATUS_REPORT:  # a report for no handshake of ours: never answer a report
                return out
            if opcode == self.FIRST and self._busy():
                out._report(status.busy(self.busy_wait_ms))
                return out
            if opcode != self.FIRST or not self._accepting():  # or a later message for no handshake
                out._report(status.secure_channel(INVALID_PARAMETER))
                return out
            self.peer = peer
        try:
            if not ours:
                self._start(payload, now_ms, out)
            elif opcode == STATUS_REPORT:
                report = StatusReport.decode(payload)
                if not (report.is_success() and self._peer_succeeded(out)):
                    self._fail(out, self.PeerStatusError(report), report.protocol_code, False)
            elif not self._step(opcode, payload, now_ms, out):
                raise self.StateError("%s while waiting for %s" % (name(opcode), name(self._awaited())))
        except MatterError as e:  # a report that does not parse ends the handshake unanswered
            send = opcode != STATUS_REPORT
            self._fail(out, e, INVALID_PARAMETER if send else None, send)
        return out

    def _reserve(self, out, now_ms, allocate, *args):
        """Reserve the handshake's session id with ``allocate(now_ms, *args)`` and start its deadline.
        False, with the refusal in ``out``, when the session core has no room: not a failed handshake, the
        peer may retry (Busy if the core says so, InvalidParameter otherwise)."""
        try:
            session_id = allocate(now_ms, *args)
        except MatterError as e:
            self.peer = None
            busy = getattr(e, "status", None) == BUSY
            out._report(status.busy(self.busy_wait_ms) if busy else status.secure_channel(INVALID_PARAMETER))
            return False
        self.local_session_id = check_int(session_id, "allocated session id", 1, 0xFFFF, self.ArgumentError)
        self.deadline = now_ms + self.timeout_ms
        return True

    def _drop(self):
        """End the handshake in progress quietly, its session id released."""
        if self.local_session_id:
            try:
                self._free(self.local_session_id)
            except MatterError:  # evicted meanwhile: nothing left to free
                pass
        self._clear()

    def _succeed(self, out, event, report):
        """The handshake is done: ``event`` out (after Success if ``report``); its session id is the session's."""
        self._clear()
        if report:
            out._report(status.secure_channel(SUCCESS))
        out.events.append(event)

    def _fail(self, out, error, status_code, send):
        """End the handshake with ``Failed``; answer ``status_code`` if ``send``."""
        event = Failed(self.peer, status_code, error, self.local_session_id)
        self._drop()
        self._failed(event)
        if send:
            out._report(status.secure_channel(status_code))
        out.events.append(event)


class Initiator(_Machine):
    """The controller side, for one handshake; ``local_session_id`` is reserved by the caller beforehand.
    A protocol gives its error classes and: ``_first(now_ms, out)`` (the opening message; it sets the
    state), ``_step(opcode, payload, now_ms, out)`` (False if the opcode does not fit the state),
    ``_established(out)`` (the responder's Success arrived in ``WAIT_STATUS``) and ``_forget()`` (drop the
    handshake's secrets when it ends)."""

    def __init__(self, context, local_session_id, parameters, timeout_ms):
        _Machine.__init__(self, context, parameters, timeout_ms)
        self.local_session_id = check_int(local_session_id, "local_session_id", 1, 0xFFFF, self.ArgumentError)
        self.state = IDLE

    def start(self, now_ms):
        """The message that opens the handshake."""
        check_time(now_ms, self.ArgumentError)
        if self.state != IDLE:
            raise self.StateError("the handshake was already started")
        out = Output()
        self._first(now_ms, out)
        self.deadline = now_ms + self.timeout_ms
        return out

    def on_timer(self, now_ms):
        check_time(now_ms, self.ArgumentError)
        out = Output()
        if self.deadline is not None and now_ms >= self.deadline:
            self._fail(out, self.TimeoutError("the responder did not answer in time"), None, False)
        return out

    def abort(self):
        """The handshake's exchange closed under it: fail (nothing to send)."""
        out = Output()
        if self.deadline is not None:
            self._fail(out, self.StateError("the handshake's exchange closed"), None, False)
        return out

    def on_message(self, opcode, payload, now_ms):
        """Handle one secure-channel message from the responder (on the handshake's exchange)."""
        payload = self._checked(opcode, payload, now_ms)
        out = self.on_timer(now_ms)
        if self.deadline is None:  # not started, finished, or just timed out: nothing to answer
            return out
        try:
            if opcode == STATUS_REPORT:
                report = StatusReport.decode(payload)
                if self.state == WAIT_STATUS and report.is_success():
                    self._established(out)
                else:
                    self._fail(out, self.PeerStatusError(report), report.protocol_code, False, report.busy_wait_ms)
            elif not self._step(opcode, payload, now_ms, out):
                raise self.StateError("unexpected %s" % name(opcode))
        except MatterError as e:  # a report that does not parse ends the handshake unanswered
            send = opcode != STATUS_REPORT
            self._fail(out, e, INVALID_PARAMETER if send else None, send)
        return out

    def _succeed(self, out, event):
        self.state = DONE
        self.deadline = None
        self._forget()
        out.events.append(event)

    def _fail(self, out, error, status_code, send, busy_wait_ms=None):
        self.state = FAILED
        self.deadline = None
        self._forget()
        if send:
            out._report(status.secure_channel(status_code))
        out.events.append(Failed(None, status_code, error, self.local_session_id, busy_wait_ms))
