"""The five PASE messages as TLV (Matter Core spec, PASE protocol details): encode and strict decode.

Each payload is one anonymous structure with context tags:

- PBKDFParamRequest: 1 initiatorRandom (32 bytes), 2 initiatorSessionId (u16), 3 passcodeId (u16),
  4 hasPBKDFParameters (bool), 5 initiatorSessionParams (optional struct);
- PBKDFParamResponse: 1 initiatorRandom (echoed), 2 responderRandom (32), 3 responderSessionId (u16),
  4 pbkdf_parameters {1 iterations (u32), 2 salt (16..32 bytes)} (only if the initiator lacks them),
  5 responderSessionParams (optional struct);
- Pake1: 1 pA (65-byte point); Pake2: 1 pB (65), 2 cB (32); Pake3: 1 cA (32).

Decoders check every field's presence, type, length and range and raise a ``PaseMessageError``
subclass (or a ``TlvError`` for broken TLV); tags they do not know are skipped, as the SDK does, so
a later revision's additions pass.  The payloads are kept as received: PASE hashes the exact bytes.
"""

from micromatter.compat import const
from micromatter.crypto.spake2p import (
    CONFIRMATION_LENGTH,
    MAX_ITERATIONS,
    MAX_SALT_LENGTH,
    MIN_ITERATIONS,
    MIN_SALT_LENGTH,
)
from micromatter.errors import ProtocolError
from micromatter.securechannel import session_params
from micromatter.session.params import SessionParameters
from micromatter.tlv import BOOL, BYTES, STRUCT, UINT, TlvDuplicateTagError, TlvReader, TlvTrailingDataError, TlvWriter

RANDOM_LENGTH = const(32)
POINT_LENGTH = const(65)
DEFAULT_PASSCODE_ID = const(0)


class PaseMessageError(ProtocolError):
    """A PASE message is malformed: not one structure, or a field missing, of the wrong type or length."""


class PaseFieldRangeError(PaseMessageError):
    """A well-formed field holds a value PASE does not allow (session id 0, iterations, salt length)."""


# --- decoding helpers -----------------------------------------------------------


class _Typed:
    """A decoded scalar with its TLV kind (so an unsigned 1 and ``True`` stay apart)."""

    def __init__(self, kind, value):
        self.kind = kind
        self.value = value


def _walk(r, name, count, structs):
    """Fields 1..``count`` of the structure ``r`` stands on: a list whose entry t is the value of context
    tag t (bytes, a ``_Typed`` uint/bool, or what ``structs(tag, r)`` makes of a nested structure), None if
    absent.  Other tags are skipped; a repeated tag or an unexpected type raises."""
    out = [None] * (count + 1)
    r.enter(STRUCT)
    while r.next():
        tag = r.tag
        if not isinstance(tag, int) or tag < 1 or tag > count:
            continue
        if out[tag] is not None:
            raise TlvDuplicateTagError(name + ": field %d given twice" % tag)
        kind = r.type
        if kind == BYTES:
            out[tag] = bytes(r.bytes())
        elif kind == UINT or kind == BOOL:
            out[tag] = _Typed(kind, r.value)
        elif kind == STRUCT and structs is not None:
            out[tag] = structs(tag, r)
        else:
            raise PaseMessageError(name + ": field %d has an unexpected type" % tag)
    r.exit()
    return out


def _fields(payload, name, count, structs=None):
    """``_walk`` over the single anonymous structure that must make up ``payload``."""
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise PaseMessageError(name + ": the payload must be bytes-like")
    r = TlvReader(payload)
    if not r.next():
        raise PaseMessageError(name + ": empty payload")
    if r.type != STRUCT or r.tag is not None:
        raise PaseMessageError(name + ": not an anonymous structure")
    out = _walk(r, name, count, structs)
    if r.next():
        raise TlvTrailingDataError(name + ": data after the structure")
    return out


def _bytes(fields, tag, name, low, high):
    value = fields[tag]
    if value is None:
        raise PaseMessageError(name + ": field %d missing" % tag)
    if not isinstance(value, bytes):
        raise PaseMessageError(name + ": field %d must be a byte string" % tag)
    if len(value) < low or len(value) > high:
        raise PaseMessageError(name + ": field %d has length %d" % (tag, len(value)))
    return value


def _typed(fields, tag, name, kind):
    value = fields[tag]
    if value is None:
        raise PaseMessageError(name + ": field %d missing" % tag)
    if not isinstance(value, _Typed) or value.kind != kind:
        raise PaseMessageError(name + ": field %d has the wrong type" % tag)
    return value.value


def _uint(fields, tag, name, high):
    value = _typed(fields, tag, name, UINT)
    if value > high:
        raise PaseFieldRangeError(name + ": field %d out of range" % tag)
    return value


def _session_id(fields, tag, name):
    sid = _uint(fields, tag, name, 0xFFFF)
    if sid == 0:
        raise PaseFieldRangeError(name + ": session id 0 is the unsecured session")
    return sid


class _Pbkdf:
    def __init__(self, iterations, salt):
        self.iterations = iterations
        self.salt = salt


def _request_structs(tag, r):
    if tag != 5:
        raise PaseMessageError("PBKDFParamRequest: field %d must not be a structure" % tag)
    return session_params.decode(r)


def _response_structs(tag, r):
    if tag == 5:
        return session_params.decode(r)
    if tag != 4:
        raise PaseMessageError("PBKDFParamResponse: field %d must not be a structure" % tag)
    name = "pbkdf_parameters"
    f = _walk(r, name, 2, None)
    return _Pbkdf(_uint(f, 1, name, 0xFFFFFFFF), _bytes(f, 2, name, 0, 0xFFFF))  # ranges: the constructor


def _optional(fields, tag, name, cls):
    value = fields[tag]
    if value is not None and not isinstance(value, cls):
        raise PaseMessageError(name + ": field %d must be a structure" % tag)
    return value


def _check_random(value, name):
    if not isinstance(value, (bytes, bytearray)) or len(value) != RANDOM_LENGTH:
        raise PaseMessageError(name + " must be 32 bytes")
    return bytes(value)


def _check_session_id(value, name):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1 or value > 0xFFFF:
        raise PaseFieldRangeError(name + " must be 1..65535")
    return value


def _check_params(value):
    if value is not None and not isinstance(value, SessionParameters):
        raise PaseMessageError("session parameters must be SessionParameters or None")
    return value


# --- messages -------------------------------------------------------------------------


class PbkdfParamRequest:
    """PBKDFParamRequest: the initiator's random, its session id, passcode id and whether it knows the
    PBKDF parameters; ``initiator_session_params`` is a ``SessionParameters`` or None."""

    def __init__(self, initiator_random, initiator_session_id, passcode_id=DEFAULT_PASSCODE_ID,
                 has_pbkdf_parameters=False, initiator_session_params=None):
        self.initiator_random = _check_random(initiator_random, "initiator_random")
        self.initiator_session_id = _check_session_id(initiator_session_id, "initiator_session_id")
        if not isinstance(passcode_id, int) or passcode_id < 0 or passcode_id > 0xFFFF:
            raise PaseFieldRangeError("passcode id must be 0..65535")
        self.passcode_id = passcode_id
        self.has_pbkdf_parameters = bool(has_pbkdf_parameters)
        self.initiator_session_params = _check_params(initiator_session_params)

    def encode(self):
        w = TlvWriter()
        w.start_struct(None)
        w.bytes(1, self.initiator_random)
        w.uint(2, self.initiator_session_id)
        w.uint(3, self.passcode_id)
        w.bool(4, self.has_pbkdf_parameters)
        if self.initiator_session_params is not None:
            session_params.encode(w, 5, self.initiator_session_params)
        w.end_container()
        return w.getvalue()

    @staticmethod
    def decode(payload):
        name = "PBKDFParamRequest"
        f = _fields(payload, name, 5, _request_structs)
        return PbkdfParamRequest(
            _bytes(f, 1, name, RANDOM_LENGTH, RANDOM_LENGTH),
            _session_id(f, 2, name),
            _uint(f, 3, name, 0xFFFF),
            _typed(f, 4, name, BOOL),
            _optional(f, 5, name, SessionParameters),
        )


class PbkdfParamResponse:
    """PBKDFParamResponse: both randoms, the responder's session id, ``iterations``/``salt`` (both None
    when the initiator said it has them) and ``responder_session_params`` (``SessionParameters`` or None)."""

    def __init__(self, initiator_random, responder_random, responder_session_id, iterations=None, salt=None,
                 responder_session_params=None):
        self.initiator_random = _check_random(initiator_random, "initiator_random")
        self.responder_random = _check_random(responder_random, "responder_random")
        self.responder_session_id = _check_session_id(responder_session_id, "responder_session_id")
        if (iterations is None) != (salt is None):
            raise PaseMessageError("iterations and salt come together")
        if iterations is not None:
            if not isinstance(iterations, int) or iterations < MIN_ITERATIONS or iterations > MAX_ITERATIONS:
                raise PaseFieldRangeError("PBKDF iterations must be 1000..100000")
            if not isinstance(salt, (bytes, bytearray)) or not MIN_SALT_LENGTH <= len(salt) <= MAX_SALT_LENGTH:
                raise PaseFieldRangeError("PBKDF salt must be 16..32 bytes")
            salt = bytes(salt)
        self.iterations = iterations
        self.salt = salt
        self.responder_session_params = _check_params(responder_session_params)

    def encode(self):
        w = TlvWriter()
        w.start_struct(None)
        w.bytes(1, self.initiator_random)
        w.bytes(2, self.responder_random)
        w.uint(3, self.responder_session_id)
        if self.iterations is not None:
            w.start_struct(4)
            w.uint(1, self.iterations)
            w.bytes(2, self.salt)
            w.end_container()
        if self.responder_session_params is not None:
            session_params.encode(w, 5, self.responder_session_params)
        w.end_container()
        return w.getvalue()

    @staticmethod
    def decode(payload):
        name = "PBKDFParamResponse"
        f = _fields(payload, name, 5, _response_structs)
        pbkdf = _optional(f, 4, name, _Pbkdf)
        return PbkdfParamResponse(
            _bytes(f, 1, name, RANDOM_LENGTH, RANDOM_LENGTH),
            _bytes(f, 2, name, RANDOM_LENGTH, RANDOM_LENGTH),
            _session_id(f, 3, name),
            None if pbkdf is None else pbkdf.iterations,
            None if pbkdf is None else pbkdf.salt,
            _optional(f, 5, name, SessionParameters),
        )


def _encode_bytes(*values):
    """An anonymous structure of byte strings under context tags 1, 2, ... (the Pake messages)."""
    w = TlvWriter()
    w.start_struct(None)
    for i in range(len(values)):
        w.bytes(i + 1, values[i])
    w.end_container()
    return w.getvalue()


def _check_point(value, name):
    if not isinstance(value, (bytes, bytearray)) or len(value) != POINT_LENGTH or value[0] != 4:
        raise PaseMessageError(name + " must be a 65-byte uncompressed point")
    return bytes(value)


def _check_mac(value, name):
    if not isinstance(value, (bytes, bytearray)) or len(value) != CONFIRMATION_LENGTH:
        raise PaseMessageError(name + " must be 32 bytes")
    return bytes(value)


class Pake1:
    """Pake1: the prover's share ``pA`` (X)."""

    def __init__(self, pA):
        self.pA = _check_point(pA, "pA")

    def encode(self):
        return _encode_bytes(self.pA)

    @staticmethod
    def decode(payload):
        return Pake1(_bytes(_fields(payload, "Pake1", 1), 1, "Pake1", POINT_LENGTH, POINT_LENGTH))


class Pake2:
    """Pake2: the verifier's share ``pB`` (Y) and its confirmation ``cB``."""

    def __init__(self, pB, cB):
        self.pB = _check_point(pB, "pB")
        self.cB = _check_mac(cB, "cB")

    def encode(self):
        return _encode_bytes(self.pB, self.cB)

    @staticmethod
    def decode(payload):
        f = _fields(payload, "Pake2", 2)
        return Pake2(_bytes(f, 1, "Pake2", POINT_LENGTH, POINT_LENGTH),
                     _bytes(f, 2, "Pake2", CONFIRMATION_LENGTH, CONFIRMATION_LENGTH))


class Pake3:
    """Pake3: the prover's confirmation ``cA``."""

    def __init__(self, cA):
        self.cA = _check_mac(cA, "cA")

    def encode(self):
        return _encode_bytes(self.cA)

    @staticmethod
    def decode(payload):
        return Pake3(_bytes(_fields(payload, "Pake3", 1), 1, "Pake3", CONFIRMATION_LENGTH, CONFIRMATION_LENGTH))
