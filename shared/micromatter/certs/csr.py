"""PKCS#10 certificate signing requests (RFC 2986) for the commissioning CSRRequest.

The device answers CSRRequest with a CSR for its new operational key, signed
by that key; the commissioner checks the signature and issues a NOC for the
key.  The subject carries nothing the commissioner uses: like the SDK we send
``O=CSR``.  ``parse``/``verify`` are the commissioner's side (and the tests').
"""

from micromatter.certs import der, oids, x509
from micromatter.certs.errors import CertificateFormatError, CertificateSignatureError
from micromatter.crypto import ecdsa
from micromatter.errors import CryptoError

MAX_LENGTH = 1024
_DEFAULT_SUBJECT = ((oids.ORGANIZATION_NAME, der.UTF8_STRING, "CSR"),)


class Csr:
    """A parsed CSR: ``public_key`` (65 bytes), ``subject`` (``(oid, tag, text)`` list),
    ``info`` (the signed CertificationRequestInfo), ``attributes`` (the raw SET content),
    ``signature`` (DER) and ``signature_raw``."""


def make(crypto, private_key, public_key, subject=_DEFAULT_SUBJECT):
    """A DER CSR for ``public_key``, signed with its ``private_key``."""
    info = der.sequence(
        der.integer(0),
        x509.encode_name(subject),
        x509.encode_public_key_info(public_key),
        der.encode(der.context_tag(0), b""),
    )
    signature = ecdsa.raw_to_der(crypto.ecdsa_sign(private_key, info))
    return der.sequence(info, x509.ECDSA_SHA256, der.bit_string(signature))


def parse(data):
    """Parse a DER CSR (strictly); the signature is not checked here (see ``verify``)."""
    data = der.as_bytes(data)
    if len(data) > MAX_LENGTH:
        raise CertificateFormatError("CSR too long")
    top = der.Reader(data)
    req = top.enter(der.SEQUENCE)
    top.finish()
    csr = Csr()
    start = req.pos
    info = req.enter(der.SEQUENCE)
    csr.info = data[start : req.pos]
    if info.read_int() != 0:
        raise CertificateFormatError("CSR version is not 1")
    csr.subject, _ = x509.parse_name(info)
    csr.public_key = x509.parse_public_key_info(info)
    csr.attributes = info.read(der.context_tag(0))
    info.finish()
    csr.signature, csr.signature_raw = x509.read_signature(req)
    req.finish()
    return csr


def verify(crypto, data):
    """Parse a CSR and check that its key signed it; returns the ``Csr``."""
    csr = parse(data)
    try:
        crypto.ecdsa_verify(csr.public_key, csr.info, csr.signature_raw)
    except CryptoError:
        raise CertificateSignatureError("CSR signature does not verify")
    return csr
