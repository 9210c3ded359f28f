"""Issuing operational certificates: RCAC, ICAC and NOC from keys and fields.

Our own CASE initiator, the tests and host tools build fabrics with these.
Each returns a signed ``MatterCertificate`` (``.encode()`` for TLV,
``.to_der()`` for X.509) carrying the extensions Matter requires, in the
order the SDKs write them.  Key identifiers are the first 160 bits of
SHA-256 of the public key (RFC 7093, method 1): the port has no SHA-1, and
Matter only needs them 20 bytes long and consistent.
"""

from micromatter.certs import dn, opcert, times, x509
from micromatter.certs.errors import InvalidAttributeError, MissingAttributeError
from micromatter.fabric import MAX_OPERATIONAL_NODE_ID

# Certificates issued without an explicit start are valid from here, a date before any
# device's first commissioning (a device often has no clock to do better).
DEFAULT_NOT_BEFORE = times.from_date(2021, 1, 1)


def key_id(crypto, public_key):
    """The 20-byte subject key identifier of a public key."""
    return crypto.sha256(bytes(public_key)).digest()[:20]


def serial_number(crypto):
    """A random positive 8-byte serial number (first byte 0x40..0x7F: minimal DER, no sign byte)."""
    serial = bytearray(crypto.random_bytes(8))
    serial[0] = (serial[0] & 0x3F) | 0x40
    return bytes(serial)


def sign(crypto, cert, issuer_private_key):
    """Set the signature of ``cert`` with the issuer's key; returns ``cert``."""
    cert.signature = crypto.ecdsa_sign(issuer_private_key, cert.tbs_der())
    return cert


def _ca_extensions(crypto, public_key, authority_key_id, path_len):
    return [
        (opcert.EXT_BASIC_CONSTRAINTS, (True, path_len)),
        (opcert.EXT_KEY_USAGE, x509.KU_KEY_CERT_SIGN | x509.KU_CRL_SIGN),
        (opcert.EXT_SUBJECT_KEY_ID, key_id(crypto, public_key)),
        (opcert.EXT_AUTHORITY_KEY_ID, authority_key_id),
    ]


def _subject(identity_tag, identity, fabric_id, extra):
    subject = [(identity_tag, identity)]
    if fabric_id is not None:
        if fabric_id == 0:
            raise InvalidAttributeError("fabric id 0")
        subject.append((dn.FABRIC_ID, fabric_id))
    return subject + list(extra)


def _make(crypto, signer_key, issuer_subject, subject, public_key, extensions, serial, not_before, not_after):
    cert = opcert.MatterCertificate(
        serial or serial_number(crypto), issuer_subject, not_before, not_after, subject, public_key, extensions
    )
    return sign(crypto, cert, signer_key)


def make_rcac(
    crypto,
    private_key,
    public_key,
    rcac_id,
    fabric_id=None,
    not_before=DEFAULT_NOT_BEFORE,
    not_after=0,
    path_len=None,
    serial=None,
    extra_subject=(),
):
    """A self-signed root.  ``not_after`` 0: no expiration.  ``extra_subject``: more DN attributes."""
    subject = _subject(dn.RCAC_ID, rcac_id, fabric_id, extra_subject)
    extensions = _ca_extensions(crypto, public_key, key_id(crypto, public_key), path_len)
    return _make(crypto, private_key, subject, subject, public_key, extensions, serial, not_before, not_after)


def make_icac(
    crypto,
    issuer,
    issuer_private_key,
    public_key,
    icac_id,
    fabric_id=None,
    not_before=DEFAULT_NOT_BEFORE,
    not_after=0,
    path_len=None,
    serial=None,
    extra_subject=(),
):
    """An intermediate CA signed by ``issuer`` (a root ``MatterCertificate``)."""
    if fabric_id is None:
        fabric_id = issuer.fabric_id
    subject = _subject(dn.ICAC_ID, icac_id, fabric_id, extra_subject)
    extensions = _ca_extensions(crypto, public_key, issuer.subject_key_id, path_len)
    return _make(
        crypto, issuer_private_key, issuer.subject, subject, public_key, extensions, serial, not_before, not_after
    )


def make_noc(
    crypto,
    issuer,
    issuer_private_key,
    public_key,
    node_id,
    fabric_id,
    cats=(),
    not_before=DEFAULT_NOT_BEFORE,
    not_after=0,
    serial=None,
    extra_subject=(),
):
    """A node operational certificate signed by ``issuer`` (the ICAC, or the root when there is none)."""
    if fabric_id is None:
        raise MissingAttributeError("a NOC needs a fabric id")
    if not 1 <= node_id <= MAX_OPERATIONAL_NODE_ID:
        raise InvalidAttributeError("node id outside the operational range")
    cats = list(cats)
    dn.check_cats(cats)
    subject = _subject(dn.NODE_ID, node_id, fabric_id, [(dn.NOC_CAT, cat) for cat in cats] + list(extra_subject))
    extensions = [
        (opcert.EXT_BASIC_CONSTRAINTS, (False, None)),
        (opcert.EXT_KEY_USAGE, x509.KU_DIGITAL_SIGNATURE),
        (opcert.EXT_EXTENDED_KEY_USAGE, [opcert.KP_CLIENT_AUTH, opcert.KP_SERVER_AUTH]),
        (opcert.EXT_SUBJECT_KEY_ID, key_id(crypto, public_key)),
        (opcert.EXT_AUTHORITY_KEY_ID, issuer.subject_key_id),
    ]
    return _make(
        crypto, issuer_private_key, issuer.subject, subject, public_key, extensions, serial, not_before, not_after
    )
