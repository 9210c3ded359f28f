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

The machines are ``handshake.Responder``/``Initiator``: they take message payloads (opcode + TLV bytes)
and ``now_ms`` and return an ``Output`` (at most one message, and ``Established``/``Failed`` events); a
malformed, tampered or out-of-order message fails the handshake with a StatusReport InvalidParameter.

The responder follows the SDK's commissioning window: one handshake at a time (another commissioner's
PBKDFParamRequest gets Busy, and so does any while the established PASE session lives), a 60 s deadline
per handshake, and after 20 failed handshakes it refuses PASE (InvalidParameter) until ``open_window``.
"""

from micromatter.compat import const
from micromatter.crypto import spake2p
from micromatter.errors import MatterError, ProtocolError
from micromatter.securechannel.handshake import DONE, FAILED, IDLE, WAIT_STATUS  # noqa: F401 (initiator states)
from micromatter.securechannel.handshake import Established, Failed, Initiator, Output, Responder  # noqa: F401 (API)
from micromatter.securechannel.handshake import check_int, check_time, digest
from micromatter.securechannel.opcodes import PAKE1, PAKE2, PAKE3, PBKDF_PARAM_REQUEST, PBKDF_PARAM_RESPONSE
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

# Initiator states (with handshake's IDLE, WAIT_STATUS, DONE, FAILED).
WAIT_RESPONSE = const(4)
WAIT_PAKE2 = const(5)


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


_ERRORS = (PaseStateError, PaseTimeoutError, PasePeerStatusError, PaseArgumentError)  # as the machines name them


class PaseResponder(Responder):
    """The device side.  ``context`` gives ``crypto`` and ``random_bytes`` (a ``Port``).  ``session_ids``
    hands out local session ids: ``allocate(now_ms)`` returns a free id 1..65535 (reserved until used or
    released; a ``MatterError`` with ``status == BUSY`` if the table is full) and ``release(id)`` frees
    one the handshake did not use.  ``verifier`` (a ``spake2p.PasscodeVerifier``), ``salt`` and
    ``iterations`` are the device's own; an enhanced window may bring others (``open_window``).
    ``parameters`` are this node's session parameters (sent in every PBKDFParamResponse)."""

    FIRST = PBKDF_PARAM_REQUEST
    StateError, TimeoutError, PeerStatusError, ArgumentError = _ERRORS

    def __init__(self, context, session_ids, verifier, salt, iterations, parameters=None,
                 timeout_ms=HANDSHAKE_TIMEOUT_MS, max_failures=MAX_FAILED_ATTEMPTS, busy_wait_ms=BUSY_WAIT_MS):
        if not callable(getattr(session_ids, "allocate", None)) or not callable(getattr(session_ids, "release", None)):
            raise PaseArgumentError("session_ids must provide allocate(now_ms) and release(session_id)")
        Responder.__init__(self, context, parameters, timeout_ms, busy_wait_ms)
        self.session_ids = session_ids
        self._device = _window_values(verifier, salt, iterations)
        self._window = self._device
        self.max_failures = check_int(max_failures, "max_failures", 1, 0xFFFF, PaseArgumentError)
        self.state = CLOSED
        self.failures = 0

    def _clear(self):
        Responder._clear(self)
        self._context = None
        self._spake = None

    # --- commissioning window (called by the commissioning code) ---------------------

    def open_window(self, now_ms, verifier=None, salt=None, iterations=None):
        """Accept PASE: with the device's verifier, or an enhanced window's ``verifier``, ``salt`` and
        ``iterations`` (all three).  Resets the failure count; a handshake in progress is dropped."""
        check_time(now_ms, PaseArgumentError)
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

    # --- the handshake (``handshake.Responder`` calls these) -----------------------------------

    def _busy(self):
        return self.in_progress() or self.state == ESTABLISHED

    def _accepting(self):
        return self.state == LISTENING

    def _awaited(self):
        return PAKE1 if self.state == WAIT_PAKE1 else PAKE3

    def _free(self, session_id):
        self.session_ids.release(session_id)

    def _start(self, payload, now_ms, out):
        request = PbkdfParamRequest.decode(payload)  # a malformed request is a failed attempt, as in the SDK
        if request.passcode_id != DEFAULT_PASSCODE_ID:
            raise PaseFieldRangeError("only passcode id 0 (the commissioning passcode) is known")
        if not self._reserve(out, now_ms, self.session_ids.allocate):
            return
        verifier, salt, iterations = self._window
        if request.has_pbkdf_parameters:
            salt = iterations = None
        response = PbkdfParamResponse(request.initiator_random, self._random_bytes(RANDOM_LENGTH),
                                      self.local_session_id, iterations, salt, self.parameters).encode()
        self._context = digest(self.crypto, SPAKE_CONTEXT_PREFIX, payload, response)
        self.state = WAIT_PAKE1
        self.peer_session_id = request.initiator_session_id
        self.peer_parameters = request.initiator_session_params
        out._send(PBKDF_PARAM_RESPONSE, response)

    def _step(self, opcode, payload, now_ms, out):
        if opcode == PAKE1 and self.state == WAIT_PAKE1:
            pake1 = Pake1.decode(payload)
            verifier = self._window[0]
            self._spake = spake2p.Verifier(self.crypto, self._context, verifier.w0, verifier.L,
                                           spake2p.random_scalar(self._random_bytes))
            Y, cB = self._spake.respond(pake1.pA)
            self.state = WAIT_PAKE3
            out._send(PAKE2, Pake2(Y, cB).encode())
        elif opcode == PAKE3 and self.state == WAIT_PAKE3:
            ke = self._spake.confirm(Pake3.decode(payload).cA)
            self._succeed(out, Established(self.peer, False, self.local_session_id, self.peer_session_id, ke,
                                           self.peer_parameters), True)
            self.state = ESTABLISHED
        else:
            return False
        return True

    def _failed(self, event):
        """Every failure counts; the limit locks PASE until the window opens again."""
        self.failures += 1
        if self.failures >= self.max_failures:
            self.state = LOCKED
            event.window_closed = True
        else:
            self.state = LISTENING


class PaseInitiator(Initiator):
    """The commissioner side, for one handshake.  ``local_session_id`` is reserved by the caller (the
    session core) beforehand.  ``pbkdf_parameters`` = ``(iterations, salt)`` if already known (then the
    responder does not send them)."""

    StateError, TimeoutError, PeerStatusError, ArgumentError = _ERRORS

    def __init__(self, context, passcode, local_session_id, parameters=None, pbkdf_parameters=None,
                 timeout_ms=HANDSHAKE_TIMEOUT_MS):
        Initiator.__init__(self, context, local_session_id, parameters, timeout_ms)
        self.passcode = check_int(passcode, "passcode", 0, spake2p.MAX_PASSCODE, PaseArgumentError)
        if pbkdf_parameters is not None:
            if not isinstance(pbkdf_parameters, tuple) or len(pbkdf_parameters) != 2:
                raise PaseArgumentError("pbkdf_parameters must be (iterations, salt)")
            pbkdf_parameters = (pbkdf_parameters[0], _check_pbkdf(pbkdf_parameters[1], pbkdf_parameters[0]))
        self._pbkdf = pbkdf_parameters
        self._random = None
        self._request = None
        self._spake = None

    def _first(self, now_ms, out):
        self._random = bytes(self._random_bytes(RANDOM_LENGTH))
        self._request = PbkdfParamRequest(self._random, self.local_session_id, DEFAULT_PASSCODE_ID,
                                          self._pbkdf is not None, self.parameters).encode()
        self.state = WAIT_RESPONSE
        out._send(PBKDF_PARAM_REQUEST, self._request)

    def _step(self, opcode, payload, now_ms, out):
        if opcode == PBKDF_PARAM_RESPONSE and self.state == WAIT_RESPONSE:
            self._on_response(payload, out)
        elif opcode == PAKE2 and self.state == WAIT_PAKE2:
            pake2 = Pake2.decode(payload)
            cA = self._spake.finish(pake2.pB, pake2.cB)
            self.state = WAIT_STATUS
            out._send(PAKE3, Pake3(cA).encode())
        else:
            return False
        return True

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
        context = digest(self.crypto, SPAKE_CONTEXT_PREFIX, self._request, payload)
        self._spake = spake2p.Prover(self.crypto, context, w0, w1, spake2p.random_scalar(self._random_bytes))
        self.peer_session_id = response.responder_session_id
        self.peer_parameters = response.responder_session_params
        self.state = WAIT_PAKE2
        out._send(PAKE1, Pake1(self._spake.X).encode())

    def _established(self, out):
        self._succeed(out, Established(None, True, self.local_session_id, self.peer_session_id, self._spake.ke,
                                       self.peer_parameters))

    def _forget(self):
        self._spake = None
