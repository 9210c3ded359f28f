"""Matter operational certificates (RCAC, ICAC, NOC): the TLV form and its X.509 twin.

Matter sends certificates as compact TLV (Core Specification 6.5) but signs
their X.509 DER TBSCertificate, so a receiver rebuilds the exact DER from the
TLV to check a signature.  ``decode`` reads the TLV strictly (fields in tag
order, sizes and values in range), ``MatterCertificate.tbs_der``/``to_der``
rebuild the DER, ``from_der`` goes the other way and refuses any X.509
certificate whose TLV form would not convert back to the same bytes.
"""

from micromatter.compat import const
from micromatter.certs import der, dn, oids, times, x509
from micromatter.certs.errors import (
    CertificateFormatError,
    CertificateTlvError,
    DerError,
    InvalidAttributeError,
)
from micromatter.crypto import ecdsa
from micromatter.errors import TlvError
from micromatter.tlv import ARRAY, BOOL, BYTES, LIST, STRUCT, UINT, TlvReader, TlvWriter

MAX_TLV_LENGTH = const(400)
MAX_DER_LENGTH = const(600)
KEY_ID_LENGTH = const(20)

# Fields of the certificate structure (context tags, in this order).
_SERIAL = const(1)
_SIG_ALGO = const(2)
_ISSUER = const(3)
_NOT_BEFORE = const(4)
_NOT_AFTER = const(5)
_SUBJECT = const(6)
_PUBKEY_ALGO = const(7)
_CURVE = const(8)
_PUBKEY = const(9)
_EXTENSIONS = const(10)
_SIGNATURE = const(11)

_ECDSA_SHA256 = const(1)
_EC_PUBLIC_KEY = const(1)
_PRIME256V1 = const(1)

# Extensions (context tags in the extensions list).
EXT_BASIC_CONSTRAINTS = const(1)
EXT_KEY_USAGE = const(2)
EXT_EXTENDED_KEY_USAGE = const(3)
EXT_SUBJECT_KEY_ID = const(4)
EXT_AUTHORITY_KEY_ID = const(5)
EXT_FUTURE = const(6)  # any other X.509 extension, kept as its DER

# Key purposes of the extended key usage extension.
KP_SERVER_AUTH = const(1)
KP_CLIENT_AUTH = const(2)
KP_CODE_SIGNING = const(3)
KP_EMAIL_PROTECTION = const(4)
KP_TIME_STAMPING = const(5)
KP_OCSP_SIGNING = const(6)
_PURPOSE_OIDS = (
    None,
    oids.KP_SERVER_AUTH,
    oids.KP_CLIENT_AUTH,
    oids.KP_CODE_SIGNING,
    oids.KP_EMAIL_PROTECTION,
    oids.KP_TIME_STAMPING,
    oids.KP_OCSP_SIGNING,
)

# Certificate types, from the identity attribute of the subject.
TYPE_UNKNOWN = const(0)
TYPE_ROOT = const(1)
TYPE_ICA = const(2)
TYPE_NODE = const(3)
TYPE_FIRMWARE_SIGNING = const(4)

_KNOWN_EXTENSION_OIDS = (
    oids.BASIC_CONSTRAINTS,
    oids.KEY_USAGE,
    oids.EXTENDED_KEY_USAGE,
    oids.SUBJECT_KEY_ID,
    oids.AUTHORITY_KEY_ID,
)


class MatterCertificate:
    """A Matter certificate in its decoded form.

    Fields: ``serial`` (bytes, the DER INTEGER content), ``issuer``/``subject``
    (DNs: lists of ``(tag, value)``, see ``micromatter.certs.dn``),
    ``not_before``/``not_after`` (seconds since the Matter epoch; ``not_after``
    0 means no well-defined expiration), ``public_key`` (65 bytes),
    ``extensions`` (``(kind, value)`` in order: basic constraints
    ``(is_ca, path_len)``, key usage bits, key purposes, key ids, future
    extensions as DER), ``signature`` (raw ``r | s``, None until signed).

    Derived: ``is_ca``, ``path_len``, ``key_usage``, ``key_purposes``,
    ``subject_key_id``, ``authority_key_id`` (None when absent),
    ``critical_future_extension`` (an unknown extension marked critical); ``type``,
    ``node_id``, ``fabric_id``, ``rcac_id``, ``icac_id``,
    ``firmware_signing_id`` (None when absent) and ``cats`` (list) of the subject.
    """

    def __init__(self, serial, issuer, not_before, not_after, subject, public_key, extensions, signature=None):
        self.serial = bytes(serial)
        self.issuer = issuer
        self.not_before = not_before
        self.not_after = not_after
        self.subject = subject
        self.public_key = bytes(public_key)
        self.extensions = extensions
        self.signature = None if signature is None else bytes(signature)
        self._tbs = None
        _check_fields(self)
        self._derive()

    def _derive(self):
        self.is_ca = None
        self.path_len = None
        self.key_usage = None
        self.key_purposes = None
        self.subject_key_id = None
        self.authority_key_id = None
        for kind, value in self.extensions:
            if kind == EXT_BASIC_CONSTRAINTS:
                self.is_ca, self.path_len = value
            elif kind == EXT_KEY_USAGE:
                self.key_usage = value
            elif kind == EXT_EXTENDED_KEY_USAGE:
                self.key_purposes = value
            elif kind == EXT_SUBJECT_KEY_ID:
                self.subject_key_id = value
            elif kind == EXT_AUTHORITY_KEY_ID:
                self.authority_key_id = value
        subject = self.subject
        self.node_id = dn.get_one(subject, dn.NODE_ID)
        self.fabric_id = dn.get_one(subject, dn.FABRIC_ID)
        self.rcac_id = dn.get_one(subject, dn.RCAC_ID)
        self.icac_id = dn.get_one(subject, dn.ICAC_ID)
        self.firmware_signing_id = dn.get_one(subject, dn.FIRMWARE_SIGNING_ID)
        self.cats = dn.values(subject, dn.NOC_CAT)
        found = []
        if self.rcac_id is not None:
            found.append(TYPE_ROOT)
        if self.icac_id is not None:
            found.append(TYPE_ICA)
        if self.node_id is not None:
            found.append(TYPE_NODE)
        if self.firmware_signing_id is not None:
            found.append(TYPE_FIRMWARE_SIGNING)
        if len(found) > 1:
            raise InvalidAttributeError("subject names more than one certificate identity")
        self.type = found[0] if found else TYPE_UNKNOWN

    def tbs_der(self):
        """The X.509 TBSCertificate (DER) that the issuer signs."""
        if self._tbs is None:
            self._tbs = _encode_tbs(self)
        return self._tbs

    def to_der(self):
        """The whole X.509 certificate (DER)."""
        if self.signature is None:
            raise CertificateFormatError("certificate not signed")
        data = x509.encode_certificate(self.tbs_der(), ecdsa.raw_to_der(self.signature))
        if len(data) > MAX_DER_LENGTH:
            raise CertificateFormatError("X.509 form longer than 600 bytes")
        return data

    def encode(self):
        """The Matter TLV form."""
        if self.signature is None:
            raise CertificateFormatError("certificate not signed")
        w = TlvWriter()
        w.start_struct(None)
        w.bytes(_SERIAL, self.serial)
        w.uint(_SIG_ALGO, _ECDSA_SHA256)
        dn.write_tlv(w, _ISSUER, self.issuer)
        w.uint(_NOT_BEFORE, self.not_before)
        w.uint(_NOT_AFTER, self.not_after)
        dn.write_tlv(w, _SUBJECT, self.subject)
        w.uint(_PUBKEY_ALGO, _EC_PUBLIC_KEY)
        w.uint(_CURVE, _PRIME256V1)
        w.bytes(_PUBKEY, self.public_key)
        w.start_list(_EXTENSIONS)
        for kind, value in self.extensions:
            if kind == EXT_BASIC_CONSTRAINTS:
                w.start_struct(kind)
                w.bool(1, value[0])
                if value[1] is not None:
                    w.uint(2, value[1])
                w.end_container()
            elif kind == EXT_KEY_USAGE:
                w.uint(kind, value)
            elif kind == EXT_EXTENDED_KEY_USAGE:
                w.start_array(kind)
                for purpose in value:
                    w.uint(None, purpose)
                w.end_container()
            else:
                w.bytes(kind, value)
        w.end_container()
        w.bytes(_SIGNATURE, self.signature)
        w.end_container()
        data = w.getvalue()
        if len(data) > MAX_TLV_LENGTH:
            raise CertificateFormatError("TLV form longer than 400 bytes")
        return data


def _check_fields(cert):
    if not 1 <= len(cert.serial) <= 20:
        raise CertificateFormatError("serial number of 1 to 20 bytes")
    if not (0 <= cert.not_before <= 0xFFFFFFFF and 0 <= cert.not_after <= 0xFFFFFFFF):
        raise CertificateFormatError("validity out of range")
    dn.check(cert.issuer)
    dn.check(cert.subject)
    if len(cert.public_key) != 65 or cert.public_key[0] != 0x04:
        raise CertificateFormatError("public key is not an uncompressed P-256 point")
    if cert.signature is not None and len(cert.signature) != 64:
        raise CertificateFormatError("signature is not 64 bytes")
    if not cert.extensions:
        raise CertificateFormatError("no extensions")
    seen = []
    cert.critical_future_extension = False
    for kind, value in cert.extensions:
        if kind in seen and kind != EXT_FUTURE:
            raise CertificateFormatError("extension repeated")
        seen.append(kind)
        if kind == EXT_BASIC_CONSTRAINTS:
            is_ca, path_len = value
            if path_len is not None and (not is_ca or not 0 <= path_len <= 255):
                raise CertificateFormatError("path length constraint without CA or out of range")
        elif kind == EXT_KEY_USAGE:
            if not 0 < value < 0x200:
                raise CertificateFormatError("key usage out of range")
        elif kind == EXT_EXTENDED_KEY_USAGE:
            if not value:
                raise CertificateFormatError("empty key purposes")
            for purpose in value:
                if not KP_SERVER_AUTH <= purpose <= KP_OCSP_SIGNING or value.count(purpose) > 1:
                    raise CertificateFormatError("unknown or repeated key purpose")
        elif kind == EXT_SUBJECT_KEY_ID or kind == EXT_AUTHORITY_KEY_ID:
            if len(value) != KEY_ID_LENGTH:
                raise CertificateFormatError("key identifier is not 20 bytes")
        elif kind == EXT_FUTURE:
            if _check_future_extension(value):
                cert.critical_future_extension = True
        else:
            raise CertificateFormatError("unknown extension kind")


def _check_future_extension(value):
    """Check that a future extension is a DER Extension of an OID not handled above; return its critical flag."""
    critical = False
    try:
        r = der.Reader(value)
        e = r.enter(der.SEQUENCE)
        r.finish()
        oid = e.read_oid()
        if e.peek() == der.BOOLEAN:
            critical = e.read_bool()
            if not critical:
                raise DerError("DEFAULT FALSE encoded")
        e.read_octets()
        e.finish()
    except DerError:
        raise CertificateFormatError("future extension is not a DER Extension")
    if oid in _KNOWN_EXTENSION_OIDS:
        raise CertificateFormatError("future extension hides a known extension")
    return critical


def _encode_extension(kind, value):
    if kind == EXT_BASIC_CONSTRAINTS:
        return x509.encode_extension(oids.BASIC_CONSTRAINTS, True, x509.basic_constraints_value(value[0], value[1]))
    if kind == EXT_KEY_USAGE:
        return x509.encode_extension(oids.KEY_USAGE, True, x509.key_usage_value(value))
    if kind == EXT_EXTENDED_KEY_USAGE:
        return x509.encode_extension(
            oids.EXTENDED_KEY_USAGE, True, x509.extended_key_usage_value([_PURPOSE_OIDS[p] for p in value])
        )
    if kind == EXT_SUBJECT_KEY_ID:
        return x509.encode_extension(oids.SUBJECT_KEY_ID, False, x509.subject_key_id_value(value))
    if kind == EXT_AUTHORITY_KEY_ID:
        return x509.encode_extension(oids.AUTHORITY_KEY_ID, False, x509.authority_key_id_value(value))
    return value


def _encode_tbs(cert):
    return x509.encode_tbs(
        cert.serial,
        dn.encode_x509(cert.issuer),
        cert.not_before,
        cert.not_after if cert.not_after else times.NO_EXPIRY_SECONDS,
        dn.encode_x509(cert.subject),
        cert.public_key,
        [_encode_extension(kind, value) for kind, value in cert.extensions],
    )


# --- TLV decoding ----------------------------------------------------------


def _field(r, tag, kind):
    if not r.next():
        raise CertificateTlvError("certificate field %d missing" % tag)
    if r.tag != tag:
        raise CertificateTlvError("unexpected certificate field (expected %d)" % tag)
    if r.type != kind:
        raise CertificateTlvError("certificate field %d has the wrong type" % tag)


def _uint(r, tag, limit):
    _field(r, tag, UINT)
    if r.value > limit:
        raise CertificateFormatError("certificate field %d out of range" % tag)
    return r.value


def _read_extensions(r):
    r.enter()
    extensions = []
    while r.next():
        kind = r.tag
        if kind == EXT_BASIC_CONSTRAINTS:
            if r.type != STRUCT:
                raise CertificateTlvError("basic constraints is not a structure")
            r.enter()
            _field(r, 1, BOOL)
            is_ca = r.value
            path_len = None
            if r.next():
                if r.tag != 2 or r.type != UINT:
                    raise CertificateTlvError("unexpected basic constraints field")
                if r.value > 255:
                    raise CertificateFormatError("path length out of range")
                path_len = r.value
                if r.next():
                    raise CertificateTlvError("unexpected basic constraints field")
            r.exit()
            value = (is_ca, path_len)
        elif kind == EXT_KEY_USAGE:
            if r.type != UINT:
                raise CertificateTlvError("key usage is not an unsigned integer")
            value = r.value
        elif kind == EXT_EXTENDED_KEY_USAGE:
            if r.type != ARRAY:
                raise CertificateTlvError("extended key usage is not an array")
            r.enter()
            value = []
            while r.next():
                if r.type != UINT:
                    raise CertificateTlvError("key purpose is not an unsigned integer")
                value.append(r.value)
                if len(value) > KP_OCSP_SIGNING:
                    raise CertificateFormatError("too many key purposes")
            r.exit()
        elif kind in (EXT_SUBJECT_KEY_ID, EXT_AUTHORITY_KEY_ID, EXT_FUTURE):
            if r.type != BYTES:
                raise CertificateTlvError("extension is not a byte string")
            value = bytes(r.view())
        else:
            raise CertificateTlvError("unknown extension tag")
        extensions.append((kind, value))
    r.exit()
    return extensions


def _decode(data):
    r = TlvReader(data)
    if not r.next() or r.type != STRUCT or r.tag is not None:
        raise CertificateTlvError("not an anonymous TLV structure")
    r.enter()
    _field(r, _SERIAL, BYTES)
    serial = bytes(r.view())
    if _uint(r, _SIG_ALGO, 0xFF) != _ECDSA_SHA256:
        raise CertificateFormatError("signature algorithm is not ecdsa-with-SHA256")
    _field(r, _ISSUER, LIST)
    issuer = dn.read_tlv(r)
    not_before = _uint(r, _NOT_BEFORE, 0xFFFFFFFF)
    not_after = _uint(r, _NOT_AFTER, 0xFFFFFFFF)
    _field(r, _SUBJECT, LIST)
    subject = dn.read_tlv(r)
    if _uint(r, _PUBKEY_ALGO, 0xFF) != _EC_PUBLIC_KEY:
        raise CertificateFormatError("public key algorithm is not EC")
    if _uint(r, _CURVE, 0xFF) != _PRIME256V1:
        raise CertificateFormatError("curve is not P-256")
    _field(r, _PUBKEY, BYTES)
    public_key = bytes(r.view())
    _field(r, _EXTENSIONS, LIST)
    extensions = _read_extensions(r)
    _field(r, _SIGNATURE, BYTES)
    signature = bytes(r.view())
    if r.next():
        raise CertificateTlvError("unexpected field after the signature")
    r.exit()
    if r.next():
        raise CertificateTlvError("data after the certificate")
    return MatterCertificate(serial, issuer, not_before, not_after, subject, public_key, extensions, signature)


def decode(data):
    """A ``MatterCertificate`` from its TLV form; ``CertificateTlvError``/``CertificateFormatError``
    (or a DN error) if it is malformed."""
    data = der.as_bytes(data, CertificateTlvError)
    if len(data) > MAX_TLV_LENGTH:
        raise CertificateFormatError("TLV certificate longer than 400 bytes")
    if len(data) == 0:
        raise CertificateTlvError("empty certificate")
    try:
        return _decode(data)
    except TlvError as e:
        raise CertificateTlvError("bad TLV: " + str(e))


# --- from X.509 ------------------------------------------------------------


def from_der(data):
    """A ``MatterCertificate`` from an X.509 certificate, which must be exactly the DER form of one."""
    data = der.as_bytes(data)
    if len(data) > MAX_DER_LENGTH:
        raise CertificateFormatError("X.509 certificate longer than 600 bytes")
    c = x509.parse(data)
    if c.not_after == times.NO_EXPIRY_SECONDS:
        not_after = 0
    elif 0 < c.not_after <= 0xFFFFFFFF:
        not_after = c.not_after
    else:
        raise CertificateFormatError("notAfter has no Matter TLV form")
    if not 0 <= c.not_before <= 0xFFFFFFFF:
        raise CertificateFormatError("notBefore has no Matter TLV form")
    extensions = []
    for e in c.extensions:
        if e.oid == oids.BASIC_CONSTRAINTS:
            extensions.append((EXT_BASIC_CONSTRAINTS, (c.is_ca, c.path_len)))
        elif e.oid == oids.KEY_USAGE:
            extensions.append((EXT_KEY_USAGE, c.key_usage))
        elif e.oid == oids.EXTENDED_KEY_USAGE:
            purposes = []
            for p in c.ext_key_usage:
                if p not in _PURPOSE_OIDS:
                    raise CertificateFormatError("key purpose has no Matter TLV form")
                purposes.append(_PURPOSE_OIDS.index(p))
            extensions.append((EXT_EXTENDED_KEY_USAGE, purposes))
        elif e.oid == oids.SUBJECT_KEY_ID:
            extensions.append((EXT_SUBJECT_KEY_ID, c.subject_key_id))
        elif e.oid == oids.AUTHORITY_KEY_ID:
            extensions.append((EXT_AUTHORITY_KEY_ID, c.authority_key_id))
        else:
            extensions.append((EXT_FUTURE, e.encode()))
    issuer = dn.from_x509(c.issuer)
    subject = dn.from_x509(c.subject)
    cert = MatterCertificate(
        c.serial, issuer, c.not_before, not_after, subject, c.public_key, extensions, c.signature_raw
    )
    if cert.to_der() != data:
        raise CertificateFormatError("X.509 certificate has no exact Matter TLV form")
    return cert


def tlv_to_der(data):
    """X.509 DER of a TLV certificate."""
    return decode(data).to_der()


def der_to_tlv(data):
    """TLV form of an X.509 DER certificate."""
    return from_der(data).encode()
