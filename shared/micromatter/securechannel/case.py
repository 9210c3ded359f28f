"""CASE, the operational handshake, with session resumption: the responder (device) and initiator, sans-I/O.

    initiator                                          responder
    Sigma1 (random, session id, destination id,
            eph key [, resumption id, resume MIC]) --->
                       <---  Sigma2 (random, session id, eph key, encrypted2 [NOC, ICAC, signature,
                             new resumption id])       or Sigma2_Resume (new resumption id, MIC, session id)
    Sigma3 (encrypted3 [NOC, ICAC, signature]) ----->      StatusReport Success (after Sigma2_Resume)
                       <---  StatusReport Success

Keys (Matter Core spec, CASE): the shared secret is ECDH of the ephemeral keys; S2K = HKDF(secret, IPK |
responder random | responder eph key | SHA-256(Sigma1), "Sigma2"); S3K = HKDF(secret, IPK | SHA-256(Sigma1 |
Sigma2), "Sigma3"); the session keys come from the session core with salt IPK | SHA-256(Sigma1 | Sigma2 |
Sigma3).  Each side signs TBSData (its NOC, ICAC, its eph key, the peer's eph key) with its operational key.
The responder finds the fabric whose destination id HMAC(IPK, initiator random | root key | fabric id |
node id) matches, and checks the initiator's NOC (and ICAC) up to that fabric's root.

Resumption: a Sigma1 with a known resumption id and a valid MIC (AES-CCM over nothing, key HKDF(secret,
initiator random | resumption id, "Sigma1_Resume"), nonce "NCASE_SigmaS1") is answered with Sigma2_Resume (a
new id, its MIC under "Sigma2_Resume"/"NCASE_SigmaS2"); the session keys are then HKDF(secret, initiator
random | the Sigma1 resumption id, "SessionResumptionKeys").  An unknown id or a bad MIC falls back to a full
Sigma2, never an error.  Every success leaves a record with a new resumption id in the session core's
flash-backed store: the responder after Sigma3 (full) or the initiator's Success (resumed), the initiator on
the responder's Success (full) or after Sigma2_Resume verified (resumed).

The machines are ``handshake.Responder``/``Initiator``, like PASE's: they take payloads and ``now_ms`` and
return an ``Output`` (at most one message, and ``Established``/``Failed`` events).  The responder runs one
handshake at a time: another Sigma1 meanwhile, or a full session table, is answered Busy with a wait time; a
handshake that stalls for ``timeout_ms`` or loses its exchange is dropped and its reserved session id freed.
Bad input fails the handshake with InvalidParameter (NoSharedTrustRoots when no fabric matches the
destination id); nothing escapes.
"""

from micromatter.certs import chain
from micromatter.compat import const
from micromatter.errors import MatterError, ProtocolError
from micromatter.fabric import Fabric
from micromatter.securechannel import status
from micromatter.securechannel.handshake import DONE, FAILED, IDLE, WAIT_STATUS  # noqa: F401 (initiator states)
from micromatter.securechannel.handshake import Established, Failed, Initiator, Output, Responder  # noqa: F401 (API)
from micromatter.securechannel.handshake import check_int, digest
from micromatter.securechannel.opcodes import SIGMA1, SIGMA2, SIGMA2_RESUME, SIGMA3, STATUS_REPORT
from micromatter.securechannel.sigma import (
    RANDOM_LENGTH,
    RESUMPTION_ID_LENGTH,
    Sigma1,
    Sigma2,
    Sigma2Resume,
    Sigma3,
    TbeData,
    tbs_data,
)
from micromatter.securechannel.status import NO_SHARED_TRUST_ROOTS, SUCCESS
from micromatter.session.resumption import ResumptionRecord

# The SDK waits up to 30 s ("expected high processing time") for each Sigma step of a peer; a stalled
# handshake must not keep the responder answering Busy for longer.
HANDSHAKE_TIMEOUT_MS = const(30000)
BUSY_WAIT_MS = const(500)

SIGMA2_INFO = b"Sigma2"
SIGMA3_INFO = b"Sigma3"
SIGMA1_RESUME_INFO = b"Sigma1_Resume"
SIGMA2_RESUME_INFO = b"Sigma2_Resume"
SIGMA2_NONCE = b"NCASE_Sigma2N"
SIGMA3_NONCE = b"NCASE_Sigma3N"
RESUME1_NONCE = b"NCASE_SigmaS1"
RESUME2_NONCE = b"NCASE_SigmaS2"
KEY_LENGTH = const(16)

# Responder states.
LISTENING = const(0)
WAIT_SIGMA3 = const(1)
WAIT_RESUME_STATUS = const(2)  # Sigma2_Resume sent; the session is made on the initiator's Success

# Initiator states (with handshake's IDLE, WAIT_STATUS, DONE, FAILED).
WAIT_SIGMA2 = const(4)  # Sigma2 or Sigma2_Resume


class CaseError(ProtocolError):
    """Base of CASE handshake failures (message-level ones are ``sigma.CaseMessageError``)."""


class CaseStateError(CaseError):
    """A message that does not fit the handshake's state (out of order, or for no handshake)."""


class CaseTimeoutError(CaseError):
    """The handshake did not finish before its deadline."""


class CaseNoFabricError(CaseError):
    """The destination id of a Sigma1 matches none of our fabrics (answered NoSharedTrustRoots)."""


class CaseIdentityError(CaseError):
    """The peer's NOC is valid but names another node or fabric than the handshake is for."""


class CasePeerStatusError(CaseError):
    """The peer ended the handshake with a StatusReport (``report``)."""

    def __init__(self, report):
        super().__init__("peer sent %r" % report)
        self.report = report


class CaseArgumentError(CaseError):
    """An argument from the local caller (not the peer) is out of range or of the wrong type."""


_ERRORS = (CaseStateError, CaseTimeoutError, CasePeerStatusError, CaseArgumentError)  # as the machines name them


# --- derivations (Matter Core spec, CASE) --------------------------------------------------------------


def _u64_le(value):
    return bytes(((value >> (8 * i)) & 0xFF) for i in range(8))


def destination_id(crypto, ipk, initiator_random, root_public_key, fabric_id, node_id):
    """HMAC-SHA256(IPK, initiator random | root public key | fabric id (u64 LE) | node id (u64 LE))."""
    return crypto.hmac_sha256(ipk, bytes(initiator_random) + bytes(root_public_key) + _u64_le(fabric_id)
                              + _u64_le(node_id))


def resume_mic(crypto, shared_secret, initiator_random, resumption_id, info, nonce):
    """A resumption MIC: AES-CCM over nothing under HKDF(secret, random | resumption id, ``info``)."""
    key = crypto.hkdf_sha256(shared_secret, bytes(initiator_random) + bytes(resumption_id), info, KEY_LENGTH)
    return crypto.aes_ccm(key).encrypt(nonce, b"", b"")


def _check_resume_mic(crypto, shared_secret, initiator_random, resumption_id, info, nonce, mic):
    """AuthenticationError unless ``mic`` is the resumption MIC (the cipher compares the tag)."""
    key = crypto.hkdf_sha256(shared_secret, bytes(initiator_random) + bytes(resumption_id), info, KEY_LENGTH)
    crypto.aes_ccm(key).decrypt(nonce, b"", mic)


def _sigma_key(crypto, shared_secret, salt, info):
    return crypto.aes_ccm(crypto.hkdf_sha256(shared_secret, salt, info, KEY_LENGTH))


def _check_sessions(sessions, names):
    for n in names:
        if not callable(getattr(sessions, n, None)):
            raise CaseArgumentError("sessions must provide " + n + " (a SessionManager)")


def _check_clock(certificate_time):
    if certificate_time is not None and not callable(certificate_time):
        raise CaseArgumentError("certificate_time must be callable")
    return certificate_time


def _validate_peer(crypto, fabric, tbe, eph_keys, certificate_time):
    """The peer's ``NodeIdentity`` from its TBEData: chain up to ``fabric``'s root, same fabric, TBSData
    signature over (its NOC, ICAC, ``eph_keys`` = its eph key then ours)."""
    now = certificate_time() if certificate_time is not None else None
    identity = chain.validate_chain(crypto, tbe.noc, tbe.icac, fabric.credentials.rcac, last_known_good=now)
    if identity.fabric_id != fabric.fabric_id:
        raise CaseIdentityError("the peer's NOC is for fabric 0x%x" % identity.fabric_id)
    crypto.ecdsa_verify(identity.public_key, tbs_data(tbe.noc, tbe.icac, eph_keys[0], eph_keys[1]), tbe.signature)
    return identity


def _sign_tbe(crypto, creds, sender_eph, receiver_eph, resumption_id):
    """Our TBEData (NOC, ICAC, signature over the TBSData, resumption id for Sigma2) as bytes."""
    signature = crypto.ecdsa_sign(creds.private_key, tbs_data(creds.noc, creds.icac, sender_eph, receiver_eph))
    return TbeData(creds.noc, creds.icac, signature, resumption_id).encode()


def _save_record(sessions, event):
    """The peer's record with the new resumption id (replacing its previous one), written to flash."""
    sessions.save_resumption_record(ResumptionRecord(
        event.fabric, event.peer_node_id, event.resumption_id, event.shared_secret, event.peer_parameters,
        event.peer_cats))


class CaseResponder(Responder):
    """The device side.  ``context`` gives ``crypto`` and ``random_bytes`` (a ``Port``); ``sessions`` is
    the ``SessionManager`` (session ids, resumption records); ``fabrics`` any iterable of ``Fabric``s,
    read at each Sigma1 (those with ``credentials`` take part); ``parameters`` are ours (sent in Sigma2 and
    Sigma2_Resume).  ``certificate_time()``, if given, returns the Matter-epoch seconds known to have
    passed (or None): peer certificates that expired before it are refused."""

    FIRST = SIGMA1
    StateError, TimeoutError, PeerStatusError, ArgumentError = _ERRORS

    def __init__(self, context, sessions, fabrics, parameters=None, timeout_ms=HANDSHAKE_TIMEOUT_MS,
                 busy_wait_ms=BUSY_WAIT_MS, certificate_time=None):
        _check_sessions(sessions, ("get_next_available_session_id", "remove_session",
                                   "find_resumption_record_by_id", "save_resumption_record"))
        Responder.__init__(self, context, parameters, timeout_ms, busy_wait_ms)
        self.sessions = sessions
        self.fabrics = fabrics
        self.certificate_time = _check_clock(certificate_time)

    def _clear(self):
        Responder._clear(self)
        self.state = LISTENING
        self.fabric = None
        self._secret = None
        self._ipk = None
        self._sigma1 = None
        self._sigma2 = None
        self._eph_keys = None  # (initiator's, ours)
        self._random = None  # the initiator's
        self._resumption_id = None  # the new one
        self._record = None  # the record being resumed
        self._old_resumption_id = None

    def _awaited(self):
        return SIGMA3 if self.state == WAIT_SIGMA3 else STATUS_REPORT

    def _free(self, session_id):
        self.sessions.remove_session(session_id)

    def _start(self, payload, now_ms, out):
        sigma1 = Sigma1.decode(payload)
        record = self._resumable(sigma1)
        if record is not None:
            fabric, peer_node_id = self._live_fabric(record.fabric), record.peer_node_id
        else:
            fabric, peer_node_id = self._find_fabric(sigma1), None
            if fabric is None:
                self._fail(out, CaseNoFabricError("no fabric matches the destination id"), NO_SHARED_TRUST_ROOTS, True)
                return
        if not self._reserve(out, now_ms, self.sessions.get_next_available_session_id, fabric, peer_node_id):
            return
        self.peer_session_id = sigma1.initiator_session_id
        self.peer_parameters = sigma1.initiator_session_params
        self.fabric = fabric
        self._random = sigma1.initiator_random
        self._resumption_id = bytes(self._random_bytes(RESUMPTION_ID_LENGTH))
        if record is not None:
            self._send_sigma2_resume(sigma1, record, out)
        else:
            self._send_sigma2(sigma1, payload, out)  # an initiator eph key off the curve fails here

    def _resumable(self, sigma1):
        """The record a resumption Sigma1 names, if its fabric is still ours and the MIC verifies."""
        if not sigma1.resumption_requested:
            return None
        record = self.sessions.find_resumption_record_by_id(sigma1.resumption_id)
        if record is None or self._live_fabric(record.fabric) is None:
            return None
        try:
            _check_resume_mic(self.crypto, record.shared_secret, sigma1.initiator_random, sigma1.resumption_id,
                              SIGMA1_RESUME_INFO, RESUME1_NONCE, sigma1.initiator_resume_mic)
        except MatterError:  # a bad MIC: a full handshake, as the SDK does
            return None
        return record

    def _live_fabric(self, fabric):
        """Our current object for ``fabric`` (same index and fabric id), or None if it was removed."""
        for f in self.fabrics:
            if isinstance(f, Fabric) and f.matches(fabric):
                return f
        return None

    def _find_fabric(self, sigma1):
        for f in self.fabrics:
            if not isinstance(f, Fabric) or f.credentials is None or f.operational_ipk is None:
                continue
            expected = destination_id(self.crypto, f.operational_ipk, sigma1.initiator_random, f.root_public_key,
                                      f.fabric_id, f.node_id)
            if expected == sigma1.destination_id:
                return f
        return None

    def _send_sigma2_resume(self, sigma1, record, out):
        self._record = record
        self._old_resumption_id = sigma1.resumption_id
        mic = resume_mic(self.crypto, record.shared_secret, self._random, self._resumption_id, SIGMA2_RESUME_INFO,
                         RESUME2_NONCE)
        self.state = WAIT_RESUME_STATUS
        out._send(SIGMA2_RESUME, Sigma2Resume(self._resumption_id, mic, self.local_session_id,
                                              self.parameters).encode())

    def _send_sigma2(self, sigma1, payload, out):
        crypto = self.crypto
        creds = self.fabric.credentials
        private, public = crypto.p256_generate()
        public = bytes(public)
        self._secret = bytes(crypto.ecdh(private, sigma1.initiator_eph_pub_key))
        self._ipk = self.fabric.operational_ipk
        self._eph_keys = (sigma1.initiator_eph_pub_key, public)
        random = bytes(self._random_bytes(RANDOM_LENGTH))
        tbe = _sign_tbe(crypto, creds, public, sigma1.initiator_eph_pub_key, self._resumption_id)
        salt = self._ipk + random + public + digest(crypto, payload)
        encrypted = _sigma_key(crypto, self._secret, salt, SIGMA2_INFO).encrypt(SIGMA2_NONCE, b"", tbe)
        sigma2 = Sigma2(random, self.local_session_id, public, encrypted, self.parameters).encode()
        self._sigma1 = payload
        self._sigma2 = sigma2
        self.state = WAIT_SIGMA3
        out._send(SIGMA2, sigma2)

    def _step(self, opcode, payload, now_ms, out):
        if opcode != SIGMA3 or self.state != WAIT_SIGMA3:
            return False
        crypto = self.crypto
        sigma3 = Sigma3.decode(payload)
        key = _sigma_key(crypto, self._secret, self._ipk + digest(crypto, self._sigma1, self._sigma2), SIGMA3_INFO)
        tbe = TbeData.decode(key.decrypt(SIGMA3_NONCE, b"", sigma3.encrypted3), False)
        identity = _validate_peer(crypto, self.fabric, tbe, self._eph_keys, self.certificate_time)
        salt = self._ipk + digest(crypto, self._sigma1, self._sigma2, payload)
        self._finish(out, identity.node_id, tuple(identity.cats), self._secret, salt, False, self.peer_parameters)
        return True

    def _peer_succeeded(self, out):
        """The initiator's Success to our Sigma2_Resume: the resumed session is up."""
        if self.state != WAIT_RESUME_STATUS:
            return False
        record = self._record
        self._finish(out, record.peer_node_id, record.peer_cats, record.shared_secret,
                     self._random + self._old_resumption_id, True, self.peer_parameters or record.session_parameters)
        return True

    def _finish(self, out, peer_node_id, peer_cats, secret, salt, is_resumption, peer_parameters):
        """Save the peer's record and end with ``Established`` (a full handshake also answers Success)."""
        event = Established(self.peer, False, self.local_session_id, self.peer_session_id, secret, peer_parameters,
                            self.fabric, peer_node_id, peer_cats, salt, is_resumption, self._resumption_id)
        _save_record(self.sessions, event)
        self._succeed(out, event, not is_resumption)


class CaseInitiator(Initiator):
    """The controller side, for one handshake to ``peer_node_id`` on ``fabric`` (a ``Fabric`` with
    ``credentials``).  ``local_session_id`` is reserved by the caller (``sessions``, the
    ``SessionManager``, which also holds the resumption records).  ``resume``: try the peer's record if
    there is one."""

    StateError, TimeoutError, PeerStatusError, ArgumentError = _ERRORS

    def __init__(self, context, sessions, fabric, peer_node_id, local_session_id, parameters=None, resume=True,
                 timeout_ms=HANDSHAKE_TIMEOUT_MS, certificate_time=None):
        Initiator.__init__(self, context, local_session_id, parameters, timeout_ms)
        _check_sessions(sessions, ("find_resumption_record_by_node_id", "save_resumption_record"))
        if not isinstance(fabric, Fabric) or fabric.credentials is None or fabric.operational_ipk is None:
            raise CaseArgumentError("fabric must be a Fabric with operational credentials and IPK")
        self.sessions = sessions
        self.fabric = fabric
        self.peer_node_id = check_int(peer_node_id, "peer_node_id", 1, 0xFFFFFFEFFFFFFFFF, CaseArgumentError)
        self.resume = bool(resume)
        self.certificate_time = _check_clock(certificate_time)
        self.record = None  # the record offered for resumption
        self._random = None
        self._private = None
        self._public = None
        self._sigma1 = None
        self._secret = None
        self._salt = None
        self._resumption_id = None
        self._peer_cats = ()

    def _first(self, now_ms, out):
        """Sigma1, asking for resumption if a record is there."""
        crypto = self.crypto
        f = self.fabric
        self._random = bytes(self._random_bytes(RANDOM_LENGTH))
        private, public = crypto.p256_generate()
        self._private = private
        self._public = bytes(public)
        rid = mic = None
        if self.resume:
            self.record = self.sessions.find_resumption_record_by_node_id(self.peer_node_id, f)
            if self.record is not None:
                rid = self.record.resumption_id
                mic = resume_mic(crypto, self.record.shared_secret, self._random, rid, SIGMA1_RESUME_INFO,
                                 RESUME1_NONCE)
        dest = destination_id(crypto, f.operational_ipk, self._random, f.root_public_key, f.fabric_id,
                              self.peer_node_id)
        self._sigma1 = Sigma1(self._random, self.local_session_id, dest, self._public, self.parameters, rid,
                              mic).encode()
        self.state = WAIT_SIGMA2
        out._send(SIGMA1, self._sigma1)

    def _step(self, opcode, payload, now_ms, out):
        if opcode == SIGMA2 and self.state == WAIT_SIGMA2:
            self._on_sigma2(payload, out)
            self.deadline = now_ms + self.timeout_ms
        elif opcode == SIGMA2_RESUME and self.state == WAIT_SIGMA2 and self.record is not None:
            self._on_sigma2_resume(payload, out)
        else:
            return False
        return True

    def _on_sigma2(self, payload, out):
        crypto = self.crypto
        f = self.fabric
        creds = f.credentials
        sigma2 = Sigma2.decode(payload)
        secret = bytes(crypto.ecdh(self._private, sigma2.responder_eph_pub_key))
        ipk = f.operational_ipk
        salt = ipk + sigma2.responder_random + sigma2.responder_eph_pub_key + digest(crypto, self._sigma1)
        key = _sigma_key(crypto, secret, salt, SIGMA2_INFO)
        tbe = TbeData.decode(key.decrypt(SIGMA2_NONCE, b"", sigma2.encrypted2), True)
        identity = _validate_peer(crypto, f, tbe, (sigma2.responder_eph_pub_key, self._public), self.certificate_time)
        if identity.node_id != self.peer_node_id:
            raise CaseIdentityError("the responder is node 0x%x, not 0x%x" % (identity.node_id, self.peer_node_id))
        tbe3 = _sign_tbe(crypto, creds, self._public, sigma2.responder_eph_pub_key, None)
        key3 = _sigma_key(crypto, secret, ipk + digest(crypto, self._sigma1, payload), SIGMA3_INFO)
        sigma3 = Sigma3(key3.encrypt(SIGMA3_NONCE, b"", tbe3)).encode()
        self._secret = secret
        self._salt = ipk + digest(crypto, self._sigma1, payload, sigma3)
        self._resumption_id = tbe.resumption_id
        self._peer_cats = tuple(identity.cats)
        self.peer_session_id = sigma2.responder_session_id
        self.peer_parameters = sigma2.responder_session_params
        self.record = None
        self.state = WAIT_STATUS
        out._send(SIGMA3, sigma3)

    def _on_sigma2_resume(self, payload, out):
        record = self.record
        resume = Sigma2Resume.decode(payload)
        _check_resume_mic(self.crypto, record.shared_secret, self._random, resume.resumption_id, SIGMA2_RESUME_INFO,
                          RESUME2_NONCE, resume.sigma2_resume_mic)
        self._secret = record.shared_secret
        self._salt = self._random + record.resumption_id
        self._resumption_id = resume.resumption_id
        self._peer_cats = record.peer_cats
        self.peer_session_id = resume.responder_session_id
        self.peer_parameters = resume.responder_session_params or record.session_parameters
        out._report(status.secure_channel(SUCCESS))
        self._established(out, True)

    def _established(self, out, is_resumption=False):
        """The responder's Success (full), or Sigma2_Resume verified (resumed): save the record, done."""
        event = Established(None, True, self.local_session_id, self.peer_session_id, self._secret,
                            self.peer_parameters, self.fabric, self.peer_node_id, self._peer_cats, self._salt,
                            is_resumption, self._resumption_id)
        _save_record(self.sessions, event)
        self._succeed(out, event)

    def _forget(self):
        self._private = None
