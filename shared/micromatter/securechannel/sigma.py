"""The CASE messages as TLV (Matter Core spec, CASE protocol details): encode and strict decode.

Each payload is one anonymous structure with context tags:

- Sigma1: 1 initiatorRandom (32), 2 initiatorSessionId (u16), 3 destinationId (32), 4 initiatorEphPubKey (65),
  5 initiatorSessionParams (optional struct), 6 resumptionID (16) and 7 initiatorResumeMIC (16), both or none;
- Sigma2: 1 responderRandom (32), 2 responderSessionId (u16), 3 responderEphPubKey (65), 4 encrypted2
  (TBEData2 sealed with S2K, MIC appended), 5 responderSessionParams (optional struct);
- Sigma3: 1 encrypted3 (TBEData3 sealed with S3K, MIC appended);
- Sigma2_Resume: 1 resumptionID (16), 2 sigma2ResumeMIC (16), 3 responderSessionID (u16),
  4 responderSessionParams (optional struct);
- TBEData2/3 (the plaintext of encrypted2/3): 1 sender NOC, 2 sender ICAC (optional), 3 signature (64, raw
  r|s), 4 resumptionID (16; Sigma2 only);
- TBSData2/3 (what the sender signs): 1 sender NOC, 2 sender ICAC (optional), 3 sender's ephemeral public key,
  4 receiver's ephemeral public key.

Decoders check presence, type, length and range of every field and raise a ``CaseMessageError`` subclass
(or a ``TlvError`` for broken TLV); tags they do not know are skipped, as the SDK does.  The handshake
hashes the exact bytes sent and received, so callers keep payloads as they are.
"""

from micromatter.compat import const
from micromatter.errors import ProtocolError
from micromatter.securechannel import session_params
from micromatter.session.params import SessionParameters
from micromatter.tlv import BYTES, STRUCT, UINT, TlvDuplicateTagError, TlvReader, TlvTrailingDataError, TlvWriter

RANDOM_LENGTH = const(32)
DESTINATION_ID_LENGTH = const(32)
POINT_LENGTH = const(65)
RESUMPTION_ID_LENGTH = const(16)
MIC_LENGTH = const(16)
SIGNATURE_LENGTH = const(64)
MAX_CERTIFICATE_LENGTH = const(400)  # the TLV certificate ceiling (certs.opcert)
# TBEData: NOC + ICAC + signature + resumption id with their TLV overhead, and the MIC.
MAX_ENCRYPTED_LENGTH = const(2 * MAX_CERTIFICATE_LENGTH + SIGNATURE_LENGTH + RESUMPTION_ID_LENGTH + 32 + MIC_LENGTH)

# Field kinds of the decoding specs.
_BYTES = const(0)
_U16 = const(1)
_PARAMS = const(2)


class CaseMessageError(ProtocolError):
    """A CASE message is malformed: not one structure, or a field missing, of the wrong type or length."""


class CaseFieldRangeError(CaseMessageError):
    """A well-formed field holds a value CASE does not allow (session id 0, a MIC without a resumption id)."""


def _decode(payload, name, spec):
    """The fields of the single anonymous structure in ``payload``: a list indexed by tag (None if absent).

    ``spec`` is a tuple of ``(tag, kind, min_length, max_length, required)``; unknown tags are skipped."""
    top = 0
    for field in spec:
        if field[0] > top:
            top = field[0]
    out = [None] * (top + 1)
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise CaseMessageError(name + ": the payload must be bytes-like")
    r = TlvReader(payload)
    if not r.next():
        raise CaseMessageError(name + ": empty payload")
    if r.type != STRUCT or r.tag is not None:
        raise CaseMessageError(name + ": not an anonymous structure")
    r.enter(STRUCT)
    while r.next():
        tag = r.tag
        field = None
        if isinstance(tag, int):
            for f in spec:
                if f[0] == tag:
                    field = f
                    break
        if field is None:
            continue
        if out[tag] is not None:
            raise TlvDuplicateTagError(name + ": field %d given twice" % tag)
        kind = field[1]
        if kind == _BYTES:
            if r.type != BYTES:
                raise CaseMessageError(name + ": field %d must be a byte string" % tag)
            if r.length < field[2] or r.length > field[3]:
                raise CaseMessageError(name + ": field %d has length %d" % (tag, r.length))
            out[tag] = bytes(r.bytes())
        elif kind == _U16:
            if r.type != UINT:
                raise CaseMessageError(name + ": field %d must be an unsigned integer" % tag)
            if r.value > 0xFFFF:
                raise CaseFieldRangeError(name + ": field %d out of range" % tag)
            out[tag] = r.value
        else:
            out[tag] = session_params.decode(r)  # raises for a non-structure
    r.exit()
    if r.next():
        raise TlvTrailingDataError(name + ": data after the structure")
    for field in spec:
        if field[4] and out[field[0]] is None:
            raise CaseMessageError(name + ": field %d missing" % field[0])
    return out


def _check_bytes(value, name, low, high):
    if not isinstance(value, (bytes, bytearray, memoryview)) or not low <= len(value) <= high:
        raise CaseMessageError("%s must be %d..%d bytes" % (name, low, high))
    return bytes(value)


def _check_point(value, name):
    value = _check_bytes(value, name, POINT_LENGTH, POINT_LENGTH)
    if value[0] != 4:
        raise CaseFieldRangeError(name + " must be an uncompressed point (0x04 ...)")
    return value


def _check_session_id(value, name):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1 or value > 0xFFFF:
        raise CaseFieldRangeError(name + " must be 1..65535 (0 is the unsecured session)")
    return value


def _check_params(value):
    if value is not None and not isinstance(value, SessionParameters):
        raise CaseMessageError("session parameters must be SessionParameters or None")
    return value


def _optional_bytes(value, name, low, high):
    return None if value is None else _check_bytes(value, name, low, high)


def _writer():
    w = TlvWriter()
    w.start_struct(None)
    return w


def _done(w):
    w.end_container()
    return w.getvalue()


class Sigma1:
    """Sigma1: the initiator's random, session id, destination id and ephemeral key; optional session
    parameters; ``resumption_id`` and ``initiator_resume_mic`` (both or neither) ask for resumption."""

    _SPEC = (
        (1, _BYTES, RANDOM_LENGTH, RANDOM_LENGTH, True),
        (2, _U16, 0, 0, True),
        (3, _BYTES, DESTINATION_ID_LENGTH, DESTINATION_ID_LENGTH, True),
        (4, _BYTES, POINT_LENGTH, POINT_LENGTH, True),
        (5, _PARAMS, 0, 0, False),
        (6, _BYTES, RESUMPTION_ID_LENGTH, RESUMPTION_ID_LENGTH, False),
        (7, _BYTES, MIC_LENGTH, MIC_LENGTH, False),
    )

    def __init__(self, initiator_random, initiator_session_id, destination_id, initiator_eph_pub_key,
                 initiator_session_params=None, resumption_id=None, initiator_resume_mic=None):
        self.initiator_random = _check_bytes(initiator_random, "initiator_random", RANDOM_LENGTH, RANDOM_LENGTH)
        self.initiator_session_id = _check_session_id(initiator_session_id, "initiator_session_id")
        self.destination_id = _check_bytes(destination_id, "destination_id", DESTINATION_ID_LENGTH,
                                           DESTINATION_ID_LENGTH)
        self.initiator_eph_pub_key = _check_point(initiator_eph_pub_key, "initiator_eph_pub_key")
        self.initiator_session_params = _check_params(initiator_session_params)
        if (resumption_id is None) != (initiator_resume_mic is None):
            raise CaseFieldRangeError("Sigma1: resumption id and resume MIC come together or not at all")
        self.resumption_id = _optional_bytes(resumption_id, "resumption_id", RESUMPTION_ID_LENGTH,
                                             RESUMPTION_ID_LENGTH)
        self.initiator_resume_mic = _optional_bytes(initiator_resume_mic, "initiator_resume_mic", MIC_LENGTH,
                                                    MIC_LENGTH)

    @property
    def resumption_requested(self):
        return self.resumption_id is not None

    def encode(self):
        w = _writer()
        w.bytes(1, self.initiator_random)
        w.uint(2, self.initiator_session_id)
        w.bytes(3, self.destination_id)
        w.bytes(4, self.initiator_eph_pub_key)
        if self.initiator_session_params is not None:
            session_params.encode(w, 5, self.initiator_session_params)
        if self.resumption_id is not None:
            w.bytes(6, self.resumption_id)
            w.bytes(7, self.initiator_resume_mic)
        return _done(w)

    @staticmethod
    def decode(payload):
        f = _decode(payload, "Sigma1", Sigma1._SPEC)
        return Sigma1(f[1], f[2], f[3], f[4], f[5], f[6], f[7])


class Sigma2:
    """Sigma2: the responder's random, session id and ephemeral key, ``encrypted2`` (sealed TBEData2 and
    its MIC) and optional session parameters."""

    _SPEC = (
        (1, _BYTES, RANDOM_LENGTH, RANDOM_LENGTH, True),
        (2, _U16, 0, 0, True),
        (3, _BYTES, POINT_LENGTH, POINT_LENGTH, True),
        (4, _BYTES, MIC_LENGTH + 1, MAX_ENCRYPTED_LENGTH, True),
        (5, _PARAMS, 0, 0, False),
    )

    def __init__(self, responder_random, responder_session_id, responder_eph_pub_key, encrypted2,
                 responder_session_params=None):
        self.responder_random = _check_bytes(responder_random, "responder_random", RANDOM_LENGTH, RANDOM_LENGTH)
        self.responder_session_id = _check_session_id(responder_session_id, "responder_session_id")
        self.responder_eph_pub_key = _check_point(responder_eph_pub_key, "responder_eph_pub_key")
        self.encrypted2 = _check_bytes(encrypted2, "encrypted2", MIC_LENGTH + 1, MAX_ENCRYPTED_LENGTH)
        self.responder_session_params = _check_params(responder_session_params)

    def encode(self):
        w = _writer()
        w.bytes(1, self.responder_random)
        w.uint(2, self.responder_session_id)
        w.bytes(3, self.responder_eph_pub_key)
        w.bytes(4, self.encrypted2)
        if self.responder_session_params is not None:
            session_params.encode(w, 5, self.responder_session_params)
        return _done(w)

    @staticmethod
    def decode(payload):
        f = _decode(payload, "Sigma2", Sigma2._SPEC)
        return Sigma2(f[1], f[2], f[3], f[4], f[5])


class Sigma3:
    """Sigma3: ``encrypted3``, the sealed TBEData3 and its MIC."""

    _SPEC = ((1, _BYTES, MIC_LENGTH + 1, MAX_ENCRYPTED_LENGTH, True),)

    def __init__(self, encrypted3):
        self.encrypted3 = _check_bytes(encrypted3, "encrypted3", MIC_LENGTH + 1, MAX_ENCRYPTED_LENGTH)

    def encode(self):
        w = _writer()
        w.bytes(1, self.encrypted3)
        return _done(w)

    @staticmethod
    def decode(payload):
        return Sigma3(_decode(payload, "Sigma3", Sigma3._SPEC)[1])


class Sigma2Resume:
    """Sigma2_Resume: the new ``resumption_id``, ``sigma2_resume_mic``, the responder's session id and
    optional session parameters."""

    _SPEC = (
        (1, _BYTES, RESUMPTION_ID_LENGTH, RESUMPTION_ID_LENGTH, True),
        (2, _BYTES, MIC_LENGTH, MIC_LENGTH, True),
        (3, _U16, 0, 0, True),
        (4, _PARAMS, 0, 0, False),
    )

    def __init__(self, resumption_id, sigma2_resume_mic, responder_session_id, responder_session_params=None):
        self.resumption_id = _check_bytes(resumption_id, "resumption_id", RESUMPTION_ID_LENGTH, RESUMPTION_ID_LENGTH)
        self.sigma2_resume_mic = _check_bytes(sigma2_resume_mic, "sigma2_resume_mic", MIC_LENGTH, MIC_LENGTH)
        self.responder_session_id = _check_session_id(responder_session_id, "responder_session_id")
        self.responder_session_params = _check_params(responder_session_params)

    def encode(self):
        w = _writer()
        w.bytes(1, self.resumption_id)
        w.bytes(2, self.sigma2_resume_mic)
        w.uint(3, self.responder_session_id)
        if self.responder_session_params is not None:
            session_params.encode(w, 4, self.responder_session_params)
        return _done(w)

    @staticmethod
    def decode(payload):
        f = _decode(payload, "Sigma2_Resume", Sigma2Resume._SPEC)
        return Sigma2Resume(f[1], f[2], f[3], f[4])


class TbeData:
    """The encrypted part of Sigma2 (``resumption_id`` present) and Sigma3 (None): the sender's ``noc``,
    ``icac`` (or None) as TLV certificates and its ``signature`` (64 bytes, raw r|s) over the TBSData."""

    _SPEC = (
        (1, _BYTES, 1, MAX_CERTIFICATE_LENGTH, True),
        (2, _BYTES, 1, MAX_CERTIFICATE_LENGTH, False),
        (3, _BYTES, SIGNATURE_LENGTH, SIGNATURE_LENGTH, True),
        (4, _BYTES, RESUMPTION_ID_LENGTH, RESUMPTION_ID_LENGTH, False),
    )

    def __init__(self, noc, icac, signature, resumption_id=None):
        self.noc = _check_bytes(noc, "noc", 1, MAX_CERTIFICATE_LENGTH)
        self.icac = _optional_bytes(icac, "icac", 1, MAX_CERTIFICATE_LENGTH)
        self.signature = _check_bytes(signature, "signature", SIGNATURE_LENGTH, SIGNATURE_LENGTH)
        self.resumption_id = _optional_bytes(resumption_id, "resumption_id", RESUMPTION_ID_LENGTH,
                                             RESUMPTION_ID_LENGTH)

    def encode(self):
        w = _writer()
        w.bytes(1, self.noc)
        if self.icac is not None:
            w.bytes(2, self.icac)
        w.bytes(3, self.signature)
        if self.resumption_id is not None:
            w.bytes(4, self.resumption_id)
        return _done(w)

    @staticmethod
    def decode(payload, sigma2):
        """TBEData2 (``sigma2`` True: the resumption id is required) or TBEData3 (it must be absent)."""
        name = "TBEData2" if sigma2 else "TBEData3"
        f = _decode(payload, name, TbeData._SPEC)
        if sigma2 and f[4] is None:
            raise CaseMessageError(name + ": resumption id missing")
        if not sigma2 and f[4] is not None:
            raise CaseFieldRangeError(name + ": a resumption id has no place here")
        return TbeData(f[1], f[2], f[3], f[4])


def tbs_data(noc, icac, sender_eph_pub_key, receiver_eph_pub_key):
    """The TBSData2/3 bytes the sender signs: its NOC, ICAC (or None), its ephemeral key, the receiver's."""
    w = _writer()
    w.bytes(1, noc)
    if icac is not None:
        w.bytes(2, icac)
    w.bytes(3, sender_eph_pub_key)
    w.bytes(4, receiver_eph_pub_key)
    return _done(w)
