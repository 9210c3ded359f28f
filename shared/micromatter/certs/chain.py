"""Operational certificate chains: RCAC -> [ICAC] -> NOC, checked up to the fabric's trusted root.

CASE (both sides) and the Operational Credentials cluster (AddNOC, UpdateNOC)
call ``validate_chain`` with the peer's or the new NOC and ICAC and the
fabric's root; it returns the ``NodeIdentity`` they need or raises the
specific ``CertificateError`` of the first rule broken.  ``validate_rcac``
checks a root before it is trusted (AddTrustedRootCertificate).

The root given is the trust anchor: its own signature is checked by
``validate_rcac``, not again on every handshake.
"""

from micromatter.certs import dn, opcert, x509
from micromatter.certs.errors import (
    CertificateFormatError,
    CertificateSignatureError,
    CertificateUsageError,
    ExpiredError,
    FabricMismatchError,
    InvalidAttributeError,
    IssuerMismatchError,
    MissingAttributeError,
    NotSelfSignedError,
    NotYetValidError,
)
from micromatter.errors import CryptoError
from micromatter.fabric import MAX_OPERATIONAL_NODE_ID

class NodeIdentity:
    """What a validated chain proves: ``node_id``, ``fabric_id``, ``cats`` (list of
    CASE Authenticated Tags), ``public_key`` and ``subject_key_id`` of the NOC,
    ``root_public_key``, and the decoded ``noc``, ``icac`` (or None), ``rcac``."""

    def __init__(self, noc, icac, rcac):
        self.noc = noc
        self.icac = icac
        self.rcac = rcac
        self.node_id = noc.node_id
        self.fabric_id = noc.fabric_id
        self.cats = noc.cats
        self.public_key = noc.public_key
        self.subject_key_id = noc.subject_key_id
        self.root_public_key = rcac.public_key


def _decoded(cert, optional=False):
    if isinstance(cert, opcert.MatterCertificate) or (cert is None and optional):
        return cert
    return opcert.decode(cert)


def verify_signature(crypto, cert, public_key):
    """Check that ``cert`` (a ``MatterCertificate``) was signed by the key ``public_key``."""
    try:
        crypto.ecdsa_verify(public_key, cert.tbs_der(), cert.signature)
    except CryptoError:
        raise CertificateSignatureError("certificate signature does not verify")


def check_validity(cert, now=None, last_known_good=None):
    """Check the validity period against ``now`` (seconds since the Matter epoch), or only the
    expiry against ``last_known_good`` (a time known to be in the past); nothing if both are None."""
    t = now if now is not None else last_known_good
    if t is None:
        return
    if cert.not_after and t > cert.not_after:
        raise ExpiredError("certificate expired")
    if now is not None and now < cert.not_before:
        raise NotYetValidError("certificate not yet valid")


def _check_common(cert):
    if cert.critical_future_extension:
        raise CertificateUsageError("unknown critical extension")
    if cert.is_ca is None:
        raise CertificateFormatError("basic constraints extension missing")
    if cert.key_usage is None:
        raise CertificateFormatError("key usage extension missing")
    if cert.subject_key_id is None:
        raise CertificateFormatError("subject key identifier missing")
    if cert.authority_key_id is None:
        raise CertificateFormatError("authority key identifier missing")


def _check_ca(cert, what):
    _check_common(cert)
    if not cert.is_ca:
        raise CertificateUsageError(what + " is not a CA")
    if not cert.key_usage & x509.KU_KEY_CERT_SIGN:
        raise CertificateUsageError(what + " may not sign certificates")
    if cert.fabric_id == 0:
        raise InvalidAttributeError("fabric id 0")


def _check_issued_by(cert, issuer, what):
    if cert.issuer != issuer.subject:
        raise IssuerMismatchError(what + " issuer is not the given certificate")
    if cert.authority_key_id != issuer.subject_key_id:
        raise IssuerMismatchError(what + " authority key id is not the issuer's key id")


def _check_fabric(cert, issuer, what):
    if issuer.fabric_id is not None and cert.fabric_id is not None and cert.fabric_id != issuer.fabric_id:
        raise FabricMismatchError(what + " is on another fabric than its issuer")


def validate_rcac(crypto, rcac, now=None, last_known_good=None):
    """Check a root certificate (TLV bytes or ``MatterCertificate``) before trusting it; return it decoded."""
    rcac = _decoded(rcac)
    if rcac.type != opcert.TYPE_ROOT:
        raise MissingAttributeError("root certificate without an rcac id")
    _check_ca(rcac, "root")
    if rcac.issuer != rcac.subject:
        raise NotSelfSignedError("root certificate is not self-issued")
    if rcac.authority_key_id != rcac.subject_key_id:
        raise NotSelfSignedError("root authority key id is not its own key id")
    check_validity(rcac, now, last_known_good)
    verify_signature(crypto, rcac, rcac.public_key)
    return rcac


def validate_chain(crypto, noc, icac, rcac, now=None, last_known_good=None):
    """Validate NOC (and ICAC, or None) up to the trusted root ``rcac``.

    Certificates are TLV bytes or ``MatterCertificate``.  Returns a ``NodeIdentity``."""
    noc = _decoded(noc)
    icac = _decoded(icac, True)
    rcac = _decoded(rcac)

    # The root: a CA of the root type (its signature was checked when it was trusted).
    if rcac.type != opcert.TYPE_ROOT:
        raise MissingAttributeError("root certificate without an rcac id")
    _check_ca(rcac, "root")
    check_validity(rcac, now, last_known_good)

    issuer = rcac
    if icac is not None:
        if icac.type != opcert.TYPE_ICA:
            raise MissingAttributeError("intermediate certificate without an icac id")
        _check_ca(icac, "ICAC")
        _check_issued_by(icac, rcac, "ICAC")
        _check_fabric(icac, rcac, "ICAC")
        if rcac.path_len is not None and rcac.path_len < 1:
            raise CertificateUsageError("root path length forbids an intermediate")
        check_validity(icac, now, last_known_good)
        issuer = icac

    # The NOC: a leaf naming a node of a fabric, for CASE.
    if noc.node_id is None:
        raise MissingAttributeError("NOC without a node id")
    _check_common(noc)
    if noc.is_ca:
        raise CertificateUsageError("NOC marked CA")
    if not noc.key_usage & x509.KU_DIGITAL_SIGNATURE or noc.key_usage & (x509.KU_KEY_CERT_SIGN | x509.KU_CRL_SIGN):
        raise CertificateUsageError("NOC key usage is not digital signature")
    purposes = noc.key_purposes or ()
    if opcert.KP_CLIENT_AUTH not in purposes or opcert.KP_SERVER_AUTH not in purposes:
        raise CertificateUsageError("NOC lacks the client and server authentication purposes")
    if not 1 <= noc.node_id <= MAX_OPERATIONAL_NODE_ID:
        raise InvalidAttributeError("NOC node id outside the operational range")
    if noc.fabric_id is None:
        raise MissingAttributeError("NOC without a fabric id")
    if noc.fabric_id == 0:
        raise InvalidAttributeError("fabric id 0")
    dn.check_cats(noc.cats)
    _check_issued_by(noc, issuer, "NOC")
    _check_fabric(noc, issuer, "NOC")
    _check_fabric(noc, rcac, "NOC")
    check_validity(noc, now, last_known_good)

    # Signatures last: they cost the most.
    if icac is not None:
        verify_signature(crypto, icac, rcac.public_key)
    verify_signature(crypto, noc, issuer.public_key)
    return NodeIdentity(noc, icac, rcac)
