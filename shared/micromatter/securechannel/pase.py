"""PASE, the commissioning handshake: the device's responder and the commissioner's initiator, sans-I/O.

    initiator (commissioner)                      responder (device)
    PBKDFParamRequest  --------------------------->
                       <---------------------------  PBKDFParamResponse (+ iterations, salt)
    Pake1 (pA = X)     --------------------------->
                       <---------------------------  Pake2 (pB = Y, cB)
    Pake3 (cA)         --------------------------->
                       <---------------------------  StatusReport Success

SPAKE2+ (``micromatter.crypto.spake2p``) runs with Context = SHA-256("CHIP PAKE V1 Commissioning" |
PBKDFParamRequest payload | PBKDFParamResponse payload), the exact bytes sent and received.  Both sides
end with ``Ke``; the session keys are HKDF(Ke, salt empty, "SessionKeys"), which the session core derives.

The machines take message payloads (opcode + TLV bytes) and ``now_ms`` and return an ``Output``: at most
one message to send on the handshake's exchange, and events: ``Established`` (what
``SessionManager.create_secure_session`` needs) or ``Failed``.  Nothing escapes them for bad input: a
malformed, tampered or out-of-order message fails the handshake with a StatusReport InvalidParameter.

The responder follows the SDK's commissioning window: one handshake at a time (another commissioner's
PBKDFParamRequest gets Busy, and so does any while the established PASE session lives), a 60 s deadline
per handshake, and after 20 failed handshakes it refuses PASE (InvalidParameter) until ``open_window``.
"""

from micromatter.compat import const
from micromatter.crypto import spake2p
from micromatter.errors import MatterError, ProtocolError
from micromatter.securechannel import status
from micromatter.securechannel.opcodes import (
    PAKE1,
    PAKE2,
    PAKE3,
    PBKDF_PARAM_REQUEST,
    PBKDF_PARAM_RESPONSE,
    STATUS_REPORT,
    name,
)
from micromatter.securechannel.pase_messages import (
    DEFAULT_PASSCODE_ID,
    RANDOM_LENGTH,
    Pake1,
    Pake2,
    Pake3,
    PaseFieldRangeError,
    PaseMessageError,
    PbkdfParamRequest,
    PbkdfParamResponse,
)
from micromatter.securechannel.status import BUSY, INVALID_PARAMETER, SUCCESS, StatusReport
from micromatter.session.params import SessionParameters

SPAKE_CONTEXT_PREFIX = b"CHIP PAKE V1 Commissioning"

# connectedhomeip's CommissioningWindowManager: 60 s per PASE establishment, and the window closes
# after 20 failed attempts (spec: a commissionee exits commissioning mode after 20 failures).
HANDSHAKE_TIMEOUT_MS = const(60000)
MAX_FAILED_ATTEMPTS = const(20)
BUSY_WAIT_MS = const(500)  # the minimum wait a Busy report asks for (rs-matter's value)

# Responder states.
CLOSED = const(0)  # no commissioning window: PASE refused
LISTENING = const(1)  # waiting for a PBKDFParamRequest
WAIT_PAKE1 = const(2)
WAIT_PAKE3 = const(3)
ESTABLISHED = const(4)  # a PASE session exists: new requests are Busy until session_closed()
LOCKED = const(5)  # too many failed attempts: PASE refused until open_window()

# Initiator states.
IDLE = const(0)
WAIT_RESPONSE = const(1)
WAIT_PAKE2 = const(2)
WAIT_STATUS = const(3)
DONE = const(4)
FAILED = const(5)


class PaseError(ProtocolError):
    """Base of PASE handshake failures (message-level ones are ``PaseMessageError``)."""


class PaseStateError(PaseError):
    """A message that does not fit the handshake's state (out of order, or for no handshake)."""


class PaseTimeoutError(PaseError):
    """The handshake did not finish before its deadline."""


class PasePeerStatusError(PaseError):
    """The peer ended the handshake with a StatusReport (``report``)."""

    def __init__(self, report):
        super().__init__("peer sent %r" % report)
        self.report = report


class PaseArgumentError(PaseError):
    """An argument from the local caller (not the peer) is out of range or of the wrong type."""


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
    """The handshake succeeded.  The session core makes the session with
    ``create_secure_session(local_session_id, None, 0, peer_session_id, shared_secret, salt, is_initiator,
    False, peer_session_parameters=peer_parameters, now_ms=...)``."""

    def __init__(self, peer, is_initiator, local_session_id, peer_session_id, shared_secret, peer_parameters):
        self.peer = peer
        self.is_initiator = is_initiator
        self.local_session_id = local_session_id
        self.peer_session_id = peer_session_id
        self.shared_secret = shared_secret  # Ke, 16 bytes
        self.salt = b""
        self.peer_parameters = peer_parameters  # SessionParameters, or None if the peer sent none

    def __repr__(self):
        return "<Established %s session %d, peer session %d>" % (
            "initiator" if self.is_initiator else "responder", self.local_session_id, self.peer_session_id)


class Failed:
    """The handshake failed: ``error`` says why (an exception instance), ``status`` is the secure-channel
    protocol code sent or received (None after a timeout).  ``window_closed``: this failure reached the
    attempt limit (stop advertising).  ``busy_wait_ms``: the responder was Busy and asked to wait this long."""

    def __init__(self, peer, status_code, error, local_session_id, window_closed=False, busy_wait_ms=None):
        self.peer = peer
        self.status = status_code
        self.error = error
        self.local_session_id = local_session_id
        self.window_closed = window_closed
        self.busy_wait_ms = busy_wait_ms

    def __repr__(self):
        return "<Failed status=%r %s: %s>" % (self.status, type(self.error).__name__, self.error)


def _check_int(value, what, low, high):
    if not isinstance(value, int) or isinstance(value, bool) or value < low or value > high:
        raise PaseArgumentError("%s must be an int %d..%d" % (what, low, high))
    return value


def _check_time(now_ms):
    return _check_int(now_ms, "now_ms", 0, 1 << 62)


def _payload(payload):
    """A private copy of the message payload (the glue may reuse its receive buffer)."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise PaseArgumentError("payload must be bytes-like")
    return bytes(payload)


def _parameters(value):
    if value is None:
        return SessionParameters()
    if not isinstance(value, SessionParameters):
        raise PaseArgumentError("parameters must be SessionParameters")
    return value


def _check_pbkdf(salt, iterations):
    try:
        spake2p.check_pbkdf_parameters(salt, iterations)
    except MatterError as e:
        raise PaseArgumentError(str(e))
    return bytes(salt)


def _window_values(verifier, salt, iterations):
    if not isinstance(verifier, spake2p.PasscodeVerifier):
        raise PaseArgumentError("verifier must be a spake2p.PasscodeVerifier")
    return (verifier, _check_pbkdf(salt, iterations), iterations)


def _context_hash(crypto, request, response):
    h = crypto.sha256()
    h.update(SPAKE_CONTEXT_PREFIX)
    h.update(request)
    h.update(response)
    return h.digest()


class PaseResponder:
    """The device side.  ``context`` gives ``crypto`` and ``random_bytes`` (a ``Port``).  ``session_ids``
    hands out local session ids: ``allocate(now_ms)`` returns a free id 1..65535 (reserved until used or
    released; a ``MatterError`` with ``status == BUSY`` if the table is full) and ``release(id)`` frees
    one the handshake did not use.  ``verifier`` (a ``spake2p.PasscodeVerifier``), ``salt`` and
    ``iterations`` are the device's own; an enhanced window may bring others (``open_window``).
    ``parameters`` are this node's session parameters (sent in every PBKDFParamResponse)."""

    def __init__(self, context, session_ids, verifier, salt, iterations, parameters=None,
                 timeout_ms=HANDSHAKE_TIMEOUT_MS, max_failures=MAX_FAILED_ATTEMPTS, busy_wait_ms=BUSY_WAIT_MS):
        if getattr(context, "crypto", None) is None or not callable(getattr(context, "random_bytes", None)):
            raise PaseArgumentError("context must provide crypto and random_bytes (a Port)")
        if not callable(getattr(session_ids, "allocate", None)) or not callable(getattr(session_ids, "release", None)):
            raise PaseArgumentError("session_ids must provide allocate(now_ms) and release(session_id)")
        self.crypto = context.crypto
        self._random_bytes = context.random_bytes
        self.session_ids = session_ids
        self._device = _window_values(verifier, salt, iterations)
        self._window = self._device
        self.parameters = _parameters(parameters)
        self.timeout_ms = _check_int(timeout_ms, "timeout_ms", 1, 0x7FFFFFFF)
        self.max_failures = _check_int(max_failures, "max_failures", 1, 0xFFFF)
        self.busy_wait_ms = _check_int(busy_wait_ms, "busy_wait_ms", 0, 0xFFFF)
        self.state = CLOSED
        self.failures = 0
        self._clear()

    def _clear(self):
        self.peer = None
        self.deadline = None
        self.local_session_id = 0
        self.peer_session_id = 0
        self.peer_parameters = None
        self._context = None
        self._spake = None

    # --- commissioning window (called by the commissioning code) ---------------------

    def open_window(self, now_ms, verifier=None, salt=None, iterations=None):
        """Accept PASE: with the device's verifier, or an enhanced window's ``verifier``, ``salt`` and
        ``iterations`` (all three).  Resets the failure count; a handshake in progress is dropped."""
        _check_time(now_ms)
        if verifier is None and salt is None and iterations is None:
            window = self._device
        else:
            window = _window_values(verifier, salt, iterations)
        self._drop()
        self._window = window
        self.failures = 0
        self.state = LISTENING

    def close_window(self):
        """Stop accepting PASE (window timeout, commissioning complete); a handshake in progress is dropped.
        An established PASE session is not touched: it belongs to the session core."""
        self._drop()
        self._window = self._device
        self.state = CLOSED

    def session_closed(self):
        """The PASE session this responder established has ended: listen again if the window is open."""
        if self.state == ESTABLISHED:
            self.state = LISTENING

    def abort(self, peer):
        """The handshake with ``peer`` lost its exchange (MRP gave up, the exchange timed out): drop it now
        rather than at the deadline, so the next commissioner is served instead of answered Busy.  Counted
        like a timeout.  Nothing to send; an ``Output`` with the ``Failed`` event if there was one."""
        out = Output()
        if self.in_progress() and peer == self.peer:
            self._fail(out, PaseStateError("the handshake's exchange closed"), None, False)
        return out

    def _drop(self):
        """Drop the handshake in progress uncounted (the window opened again or closed)."""
        if self.state == WAIT_PAKE1 or self.state == WAIT_PAKE3:
            self._release()
        self._clear()

    def _release(self):
        if self.local_session_id:
            try:
                self.session_ids.release(self.local_session_id)
            except MatterError:  # already gone (evicted): nothing left to free
                pass

    # --- time --------------------------------------------------------------------------

    def in_progress(self):
        return self.state == WAIT_PAKE1 or self.state == WAIT_PAKE3

    def next_deadline(self):
        """When ``on_timer`` must run next (ms), or None."""
        return self.deadline if self.in_progress() else None

    def on_timer(self, now_ms):
        _check_time(now_ms)
        out = Output()
        self._expire(now_ms, out)
        return out

    def _expire(self, now_ms, out):
        if self.in_progress() and now_ms >= self.deadline:
            self._fail(out, PaseTimeoutError("no %s before the deadline" % (
                "Pake1" if self.state == WAIT_PAKE1 else "Pake3")), None, False)

    # --- messages --------------------------------------------------------------------------

    def on_message(self, peer, opcode, payload, now_ms):
        """Handle one secure-channel message from ``peer`` (any token the glue uses to tell commissioners
        apart, e.g. its unsecured session and exchange; compared with ==)."""
        _check_time(now_ms)
        _check_int(opcode, "opcode", 0, 0xFF)
        payload = _payload(payload)
        out = Output()
        self._expire(now_ms, out)
        if self.in_progress() and peer == self.peer:
            self._continue(opcode, payload, out)
        elif opcode == STATUS_REPORT:
            pass  # a report for no handshake of ours: never answer a report with a report
        elif opcode == PBKDF_PARAM_REQUEST and self.state == LISTENING:
            self._start(peer, payload, now_ms, out)
        elif opcode == PBKDF_PARAM_REQUEST and (self.in_progress() or self.state == ESTABLISHED):
            out._report(status.busy(self.busy_wait_ms))
        else:  # window closed or locked, or a PASE message for a handshake we do not have
            out._report(status.secure_channel(INVALID_PARAMETER))
        return out

    def _start(self, peer, payload, now_ms, out):
        self.peer = peer
        try:
            request = PbkdfParamRequest.decode(payload)
            if request.passcode_id != DEFAULT_PASSCODE_ID:
                raise PaseFieldRangeError("only passcode id 0 (the commissioning passcode) is known")
        except MatterError as e:  # counted as a failed attempt, as the SDK does
            self._fail(out, e, INVALID_PARAMETER, True)
            return
        try:
            session_id = self.session_ids.allocate(now_ms)
        except MatterError as e:  # no free session: not an attempt, the peer may retry
            self.peer = None
            if getattr(e, "status", None) == BUSY:
                out._report(status.busy(self.busy_wait_ms))
            else:
                out._report(status.secure_channel(INVALID_PARAMETER))
            return
        _check_int(session_id, "allocated session id", 1, 0xFFFF)
        verifier, salt, iterations = self._window
        if request.has_pbkdf_parameters:
            salt = iterations = None
        response = PbkdfParamResponse(request.initiator_random, self._random_bytes(RANDOM_LENGTH), session_id,
                                      iterations, salt, self.parameters).encode()
        self._context = _context_hash(self.crypto, payload, response)
        self.state = WAIT_PAKE1
        self.deadline = now_ms + self.timeout_ms
        self.local_session_id = session_id
        self.peer_session_id = request.initiator_session_id
        self.peer_parameters = request.initiator_session_params
        out._send(PBKDF_PARAM_RESPONSE, response)

    def _continue(self, opcode, payload, out):
        try:
            if opcode == STATUS_REPORT:
                report = StatusReport.decode(payload)
                self._fail(out, PasePeerStatusError(report), report.protocol_code, False)
            elif opcode == PAKE1 and self.state == WAIT_PAKE1:
                pake1 = Pake1.decode(payload)
                verifier = self._window[0]
                self._spake = spake2p.Verifier(self.crypto, self._context, verifier.w0, verifier.L,
                                               spake2p.random_scalar(self._random_bytes))
                Y, cB = self._spake.respond(pake1.pA)
                self.state = WAIT_PAKE3
                out._send(PAKE2, Pake2(Y, cB).encode())
            elif opcode == PAKE3 and self.state == WAIT_PAKE3:
                ke = self._spake.confirm(Pake3.decode(payload).cA)
                event = Established(self.peer, False, self.local_session_id, self.peer_session_id, ke,
                                    self.peer_parameters)
                self._clear()
                self.state = ESTABLISHED
                out._report(status.secure_channel(SUCCESS))
                out.events.append(event)
            else:
                raise PaseStateError("%s while waiting for %s" % (
                    name(opcode), "Pake1" if self.state == WAIT_PAKE1 else "Pake3"))
        except MatterError as e:  # a status report that does not parse ends the handshake unanswered
            send = opcode != STATUS_REPORT
            self._fail(out, e, INVALID_PARAMETER if send else None, send)

    def _fail(self, out, error, status_code, send):
        """End the handshake: free its session id, count the attempt, lock after the limit."""
        event = Failed(self.peer, status_code, error, self.local_session_id)
        self._release()
        self._clear()
        self.failures += 1
        if self.failures >= self.max_failures:
            self.state = LOCKED
            event.window_closed = True
        else:
            self.state = LISTENING
        if send:
            out._report(status.secure_channel(status_code))
        out.events.append(event)


class PaseInitiator:
    """The commissioner side, for one handshake.  ``local_session_id`` is reserved by the caller (the
    session core) beforehand.  ``pbkdf_parameters`` = ``(iterations, salt)`` if already known (then the
    responder does not send them)."""

    def __init__(self, context, passcode, local_session_id, parameters=None, pbkdf_parameters=None,
                 timeout_ms=HANDSHAKE_TIMEOUT_MS):
        if getattr(context, "crypto", None) is None or not callable(getattr(context, "random_bytes", None)):
            raise PaseArgumentError("context must provide crypto and random_bytes (a Port)")
        self.crypto = context.crypto
        self._random_bytes = context.random_bytes
        self.passcode = _check_int(passcode, "passcode", 0, spake2p.MAX_PASSCODE)
        self.local_session_id = _check_int(local_session_id, "local_session_id", 1, 0xFFFF)
        self.parameters = _parameters(parameters)
        if pbkdf_parameters is not None:
            if not isinstance(pbkdf_parameters, tuple) or len(pbkdf_parameters) != 2:
                raise PaseArgumentError("pbkdf_parameters must be (iterations, salt)")
            pbkdf_parameters = (pbkdf_parameters[0], _check_pbkdf(pbkdf_parameters[1], pbkdf_parameters[0]))
        self._pbkdf = pbkdf_parameters
        self.timeout_ms = _check_int(timeout_ms, "timeout_ms", 1, 0x7FFFFFFF)
        self.state = IDLE
        self.deadline = None
        self.peer_session_id = 0
        self.peer_parameters = None
        self._random = None
        self._request = None
        self._spake = None

    def start(self, now_ms):
        """The PBKDFParamRequest that opens the handshake."""
        _check_time(now_ms)
        if self.state != IDLE:
            raise PaseStateError("the handshake was already started")
        self._random = bytes(self._random_bytes(RANDOM_LENGTH))
        self._request = PbkdfParamRequest(self._random, self.local_session_id, DEFAULT_PASSCODE_ID,
                                          self._pbkdf is not None, self.parameters).encode()
        self.state = WAIT_RESPONSE
        self.deadline = now_ms + self.timeout_ms
        out = Output()
        out._send(PBKDF_PARAM_REQUEST, self._request)
        return out

    def next_deadline(self):
        return self.deadline if WAIT_RESPONSE <= self.state <= WAIT_STATUS else None

    def on_timer(self, now_ms):
        _check_time(now_ms)
        out = Output()
        if self.next_deadline() is not None and now_ms >= self.deadline:
            self._fail(out, PaseTimeoutError("the responder did not answer in time"), None, False)
        return out

    def on_message(self, opcode, payload, now_ms):
        """Handle one secure-channel message from the responder (on the handshake's exchange)."""
        _check_int(opcode, "opcode", 0, 0xFF)
        payload = _payload(payload)
        out = self.on_timer(now_ms)
        if self.next_deadline() is None:  # not started, finished, or just timed out: nothing to answer
            return out
        try:
            if opcode == STATUS_REPORT:
                report = StatusReport.decode(payload)
                if self.state == WAIT_STATUS and report.is_success():
                    self.state = DONE
                    out.events.append(Established(None, True, self.local_session_id, self.peer_session_id,
                                                  self._spake.ke, self.peer_parameters))
                else:
                    self._fail(out, PasePeerStatusError(report), report.protocol_code, False, report.busy_wait_ms)
            elif opcode == PBKDF_PARAM_RESPONSE and self.state == WAIT_RESPONSE:
                self._on_response(payload, out)
            elif opcode == PAKE2 and self.state == WAIT_PAKE2:
                pake2 = Pake2.decode(payload)
                cA = self._spake.finish(pake2.pB, pake2.cB)
                self.state = WAIT_STATUS
                out._send(PAKE3, Pake3(cA).encode())
            else:
                raise PaseStateError("unexpected %s" % name(opcode))
        except MatterError as e:  # a status report that does not parse ends the handshake unanswered
            send = opcode != STATUS_REPORT
            self._fail(out, e, INVALID_PARAMETER if send else None, send)
        return out

    def _on_response(self, payload, out):
        response = PbkdfParamResponse.decode(payload)
        if response.initiator_random != self._random:
            raise PaseFieldRangeError("the responder did not echo our random")
        if self._pbkdf is not None:
            iterations, salt = self._pbkdf
        elif response.iterations is None:
            raise PaseMessageError("PBKDFParamResponse: PBKDF parameters missing")
        else:
            iterations, salt = response.iterations, response.salt
        w0, w1 = spake2p.compute_w0_w1(self.crypto, self.passcode, salt, iterations)
        context = _context_hash(self.crypto, self._request, payload)
        self._spake = spake2p.Prover(self.crypto, context, w0, w1, spake2p.random_scalar(self._random_bytes))
        self.peer_session_id = response.responder_session_id
        self.peer_parameters = response.responder_session_params
        self.state = WAIT_PAKE2
        out._send(PAKE1, Pake1(self._spake.X).encode())

    def _fail(self, out, error, status_code, send, busy_wait_ms=None):
        self.state = FAILED
        if send:
            out._report(status.secure_channel(status_code))
        out.events.append(Failed(None, status_code, error, self.local_session_id, False, busy_wait_ms))
