"""X.509 v3 certificates with ECDSA P-256: parse (strict DER) and build.

This is the profile every Matter certificate follows (operational, attestation,
CD signer): version 3, ecdsa-with-SHA256, an uncompressed P-256 key, names made
of single-attribute RDNs with string values.  ``parse`` keeps the exact bytes
of the signed part and of both names, and decodes the extensions Matter
relies on; anything else is kept raw.  The ``encode_*`` helpers build the same
structures, byte for byte as DER requires.
"""

from micromatter.certs import der, oids, times
from micromatter.certs.errors import CertificateFormatError, DerError
from micromatter.crypto import ecdsa
from micromatter.errors import CryptoError

# Key usage bits (bit n is named bit n of the X.509 KeyUsage BIT STRING, as in Matter TLV).
KU_DIGITAL_SIGNATURE = 0x0001
KU_NON_REPUDIATION = 0x0002
KU_KEY_ENCIPHERMENT = 0x0004
KU_DATA_ENCIPHERMENT = 0x0008
KU_KEY_AGREEMENT = 0x0010
KU_KEY_CERT_SIGN = 0x0020
KU_CRL_SIGN = 0x0040
KU_ENCIPHER_ONLY = 0x0080
KU_DECIPHER_ONLY = 0x0100

# The AlgorithmIdentifier of ecdsa-with-SHA256 (no parameters, RFC 5758).
ECDSA_SHA256 = der.sequence(der.oid(oids.ECDSA_WITH_SHA256))
_EC_P256 = der.sequence(der.oid(oids.EC_PUBLIC_KEY), der.oid(oids.PRIME256V1))
_VERSION_3 = der.explicit(0, der.integer(2))


class Extension:
    """One extension: OID and extnValue content bytes, as found."""

    def __init__(self, oid, critical, value):
        self.oid = oid
        self.critical = critical
        self.value = value

    def encode(self):
        return encode_extension(self.oid, self.critical, self.value)


class Certificate:
    """A parsed certificate.  Fields:

    ``der`` (the whole certificate), ``tbs`` (the signed TBSCertificate element),
    ``serial`` (INTEGER content bytes), ``issuer``/``subject`` (lists of
    ``(oid, string_tag, text)``) and ``issuer_der``/``subject_der`` (their exact
    encodings), ``not_before``/``not_after`` (seconds since the Matter epoch),
    ``public_key`` (65 bytes), ``extensions`` (list of ``Extension`` in order),
    ``is_ca``, ``path_len``, ``key_usage``, ``ext_key_usage`` (list of OIDs),
    ``subject_key_id``, ``authority_key_id`` (None when the extension is
    absent), ``signature`` (the DER ECDSA-Sig-Value) and ``signature_raw`` (``r | s``).
    """

    def attribute(self, oid, name=None):
        """Texts of the attributes with ``oid`` in the subject (or ``name``)."""
        return [text for (o, _, text) in (self.subject if name is None else name) if o == oid]

    def extension(self, oid):
        for e in self.extensions:
            if e.oid == oid:
                return e
        return None


def parse_name(reader):
    """``(attributes, raw)`` of the Name at the reader: one ``(oid, tag, text)`` per RDN."""
    start = reader.pos
    seq = reader.enter(der.SEQUENCE)
    raw = bytes(reader.data[start : reader.pos])
    attrs = []
    while not seq.at_end():
        rdn = seq.enter(der.SET)
        atv = rdn.enter(der.SEQUENCE)
        oid = atv.read_oid()
        tag, text = atv.read_string()
        atv.finish()
        if not rdn.at_end():
            raise CertificateFormatError("multi-valued RDN")
        attrs.append((oid, tag, text))
    return attrs, raw


def parse_public_key_info(reader):
    """The 65-byte uncompressed P-256 key of a SubjectPublicKeyInfo."""
    spki = reader.enter(der.SEQUENCE)
    alg = spki.enter(der.SEQUENCE)
    if alg.read_oid() != oids.EC_PUBLIC_KEY:
        raise CertificateFormatError("public key is not EC")
    if alg.peek() != der.OID or alg.read_oid() != oids.PRIME256V1:
        raise CertificateFormatError("curve is not P-256")
    alg.finish()
    key = spki.read_bytes_bit_string()
    spki.finish()
    if len(key) != 65 or key[0] != 0x04:
        raise CertificateFormatError("public key is not an uncompressed P-256 point")
    return key


def parse_signature_algorithm(reader):
    alg = reader.raw(der.SEQUENCE)
    if alg != ECDSA_SHA256:
        raise CertificateFormatError("signature algorithm is not ecdsa-with-SHA256")


def read_signature(reader):
    """The ecdsa-with-SHA256 AlgorithmIdentifier and BIT STRING that end a signed structure:
    ``(der_signature, raw_signature)``."""
    parse_signature_algorithm(reader)
    signature = reader.read_bytes_bit_string()
    try:
        return signature, ecdsa.der_to_raw(signature)
    except CryptoError:
        raise CertificateFormatError("bad ECDSA signature value")


def key_usage_from_bits(unused, v):
    """The key usage int of a KeyUsage BIT STRING (checked canonical)."""
    bits = 0
    for i in range(len(v) * 8 - unused):
        if v[i >> 3] & (0x80 >> (i & 7)):
            bits |= 1 << i
    if bits == 0 or key_usage_value(bits) != der.bit_string(v, unused):
        raise DerError("non-canonical KeyUsage")
    return bits


def _parse_extensions(cert, reader):
    outer = reader.enter(der.context_tag(3))
    seq = outer.enter(der.SEQUENCE)
    outer.finish()
    if seq.at_end():
        raise DerError("empty extensions")
    seen = []
    while not seq.at_end():
        e = seq.enter(der.SEQUENCE)
        oid = e.read_oid()
        critical = False
        if e.peek() == der.BOOLEAN:
            critical = e.read_bool()
            if not critical:
                raise DerError("DEFAULT FALSE encoded")
        value = e.read_octets()
        e.finish()
        if oid in seen:
            raise CertificateFormatError("duplicate extension")
        seen.append(oid)
        cert.extensions.append(Extension(oid, critical, value))
        v = der.Reader(value)
        if oid == oids.BASIC_CONSTRAINTS:
            bc = v.enter(der.SEQUENCE)
            cert.is_ca = False
            if bc.peek() == der.BOOLEAN:
                cert.is_ca = bc.read_bool()
                if not cert.is_ca:
                    raise DerError("DEFAULT FALSE encoded")
            if bc.peek() == der.INTEGER:
                n = bc.read_int()
                if not 0 <= n <= 255:
                    raise CertificateFormatError("path length out of range")
                cert.path_len = n
            bc.finish()
        elif oid == oids.KEY_USAGE:
            unused, bits = v.read_bit_string()
            cert.key_usage = key_usage_from_bits(unused, bits)
        elif oid == oids.EXTENDED_KEY_USAGE:
            eku = v.enter(der.SEQUENCE)
            cert.ext_key_usage = []
            while not eku.at_end():
                cert.ext_key_usage.append(eku.read_oid())
            if not cert.ext_key_usage:
                raise DerError("empty ExtendedKeyUsage")
        elif oid == oids.SUBJECT_KEY_ID:
            cert.subject_key_id = v.read_octets()
        elif oid == oids.AUTHORITY_KEY_ID:
            akid = v.enter(der.SEQUENCE)
            cert.authority_key_id = akid.read_optional(der.context_tag(0, False))
            if cert.authority_key_id is None:
                raise CertificateFormatError("authority key id without a key identifier")
            cert.authority_key_extra = not akid.at_end()
            while not akid.at_end():
                akid.next()
        else:
            continue
        v.finish()


def parse(data):
    """Parse a DER certificate.  Raises ``DerError`` or ``CertificateFormatError``."""
    data = der.as_bytes(data)
    cert = Certificate()
    cert.der = data
    cert.extensions = []
    cert.is_ca = None
    cert.path_len = None
    cert.key_usage = None
    cert.ext_key_usage = None
    cert.subject_key_id = None
    cert.authority_key_id = None
    cert.authority_key_extra = False
    top = der.Reader(data)
    c = top.enter(der.SEQUENCE)
    top.finish()
    start = c.pos
    t = c.enter(der.SEQUENCE)
    cert.tbs = data[start : c.pos]
    if t.peek() != der.context_tag(0):
        raise CertificateFormatError("not an X.509 v3 certificate")
    version = t.enter(der.context_tag(0))
    if version.read_int() != 2:
        raise CertificateFormatError("not an X.509 v3 certificate")
    version.finish()
    cert.serial = t.read_integer_bytes()
    if cert.serial[0] & 0x80 or len(cert.serial) > 21 or (len(cert.serial) == 21 and cert.serial[0]):
        raise CertificateFormatError("serial number negative or longer than 20 octets")
    parse_signature_algorithm(t)
    cert.issuer, cert.issuer_der = parse_name(t)
    validity = t.enter(der.SEQUENCE)
    cert.not_before = validity.read_time()
    cert.not_after = validity.read_time()
    validity.finish()
    cert.subject, cert.subject_der = parse_name(t)
    cert.public_key = parse_public_key_info(t)
    if t.peek() in (der.context_tag(1, False), der.context_tag(2, False), der.context_tag(1), der.context_tag(2)):
        raise CertificateFormatError("unique identifiers are not supported")
    if not t.at_end():
        _parse_extensions(cert, t)
    t.finish()
    cert.signature, cert.signature_raw = read_signature(c)
    c.finish()
    return cert


# --- building --------------------------------------------------------------


def encode_name(attrs):
    """A Name from ``(oid, string_tag, text)`` tuples, one RDN each, in order."""
    return der.sequence(*[der.set_of(der.sequence(der.oid(o), der.string(t, text))) for (o, t, text) in attrs])


def encode_public_key_info(public_key):
    if len(public_key) != 65 or public_key[0] != 0x04:
        raise CertificateFormatError("public key is not an uncompressed P-256 point")
    return der.sequence(_EC_P256, der.bit_string(bytes(public_key)))


def encode_extension(oid, critical, value):
    if critical:
        return der.sequence(der.oid(oid), der.boolean(True), der.octet_string(value))
    return der.sequence(der.oid(oid), der.octet_string(value))


def basic_constraints_value(is_ca, path_len=None):
    parts = []
    if is_ca:
        parts.append(der.boolean(True))
    if path_len is not None:
        parts.append(der.integer(path_len))
    return der.sequence(*parts)


def key_usage_value(bits):
    """The KeyUsage BIT STRING element (named bits: trailing zero bits dropped)."""
    if not 0 < bits < 0x200:
        raise CertificateFormatError("bad key usage")
    count = 0
    while bits >> count:
        count += 1
    size = (count + 7) // 8
    v = bytearray(size)
    for i in range(count):
        if bits & (1 << i):
            v[i >> 3] |= 0x80 >> (i & 7)
    return der.bit_string(bytes(v), size * 8 - count)


def extended_key_usage_value(purposes):
    return der.sequence(*[der.oid(p) for p in purposes])


def subject_key_id_value(key_id):
    return der.octet_string(key_id)


def authority_key_id_value(key_id):
    return der.sequence(der.encode(der.context_tag(0, False), key_id))


def encode_tbs(serial, issuer_der, not_before, not_after, subject_der, public_key, extensions):
    """A TBSCertificate.  ``serial`` is the INTEGER content, written as given (Matter TLV carries
    it verbatim); ``extensions`` are encoded Extension elements."""
    if not serial:
        raise CertificateFormatError("empty serial number")
    parts = [
        _VERSION_3,
        der.encode(der.INTEGER, serial),
        ECDSA_SHA256,
        issuer_der,
        der.sequence(times.encode_der(not_before), times.encode_der(not_after)),
        subject_der,
        encode_public_key_info(public_key),
    ]
    if extensions:
        parts.append(der.explicit(3, der.sequence(*extensions)))
    return der.sequence(*parts)


def encode_certificate(tbs, signature):
    """The certificate from its TBSCertificate and DER ECDSA signature."""
    return der.sequence(tbs, ECDSA_SHA256, der.bit_string(signature))
