"""EC P-256 key files: SEC1 ECPrivateKey (RFC 5915), PKCS#8, SubjectPublicKeyInfo.

The public test PAA and CD-signing keys come as SEC1 "EC PRIVATE KEY" PEM;
``tools/make_attestation.py`` writes the DAC key the same way.  Keys in the
core are raw: a 32-byte private scalar and a 65-byte uncompressed point.
"""

from micromatter.certs import der, oids, pem, x509
from micromatter.certs.errors import CertificateFormatError

_P256 = der.sequence(der.oid(oids.EC_PUBLIC_KEY), der.oid(oids.PRIME256V1))


def parse_private_key(data):
    """``(private32, public65 or None)`` of a SEC1 ECPrivateKey or a PKCS#8 PrivateKeyInfo (DER)."""
    r = der.Reader(der.as_bytes(data))
    seq = r.enter(der.SEQUENCE)
    r.finish()
    version = seq.read_int()
    if version == 0:  # PKCS#8: the algorithm, then the SEC1 key in an OCTET STRING
        if seq.raw(der.SEQUENCE) != _P256:
            raise CertificateFormatError("not a P-256 key")
        inner = seq.read_octets()
        while not seq.at_end():  # attributes, public key: not needed
            seq.next()
        return parse_private_key(inner)
    if version != 1:
        raise CertificateFormatError("unsupported private key version")
    private = seq.read_octets()
    if len(private) != 32:
        raise CertificateFormatError("private key is not 32 bytes")
    public = None
    if seq.peek() == der.context_tag(0):
        params = seq.enter(der.context_tag(0))
        if params.read_oid() != oids.PRIME256V1:
            raise CertificateFormatError("not a P-256 key")
        params.finish()
    if seq.peek() == der.context_tag(1):
        pub = seq.enter(der.context_tag(1))
        public = pub.read_bytes_bit_string()
        pub.finish()
        if len(public) != 65 or public[0] != 4:
            raise CertificateFormatError("public key is not an uncompressed P-256 point")
    seq.finish()
    return private, public


def encode_private_key(private, public):
    """SEC1 ECPrivateKey DER with the curve and the public key (what OpenSSL writes)."""
    if len(private) != 32 or len(public) != 65:
        raise CertificateFormatError("bad key sizes")
    return der.sequence(
        der.integer(1),
        der.octet_string(private),
        der.explicit(0, der.oid(oids.PRIME256V1)),
        der.explicit(1, der.bit_string(public)),
    )


def parse_private_key_pem(text):
    """``(private32, public65 or None)`` from "EC PRIVATE KEY" or "PRIVATE KEY" PEM."""
    for label, data in pem.decode_all(text):
        if label in ("EC PRIVATE KEY", "PRIVATE KEY"):
            return parse_private_key(data)
    raise CertificateFormatError("no private key in PEM")


def encode_private_key_pem(private, public):
    return pem.encode("EC PRIVATE KEY", encode_private_key(private, public))


def parse_public_key(data):
    """The 65-byte point of a SubjectPublicKeyInfo (DER)."""
    r = der.Reader(der.as_bytes(data))
    key = x509.parse_public_key_info(r)
    r.finish()
    return key


def encode_public_key(public):
    return x509.encode_public_key_info(public)
