"""Certificate failure kinds.

Every way a certificate, a CSR or an attestation element can be rejected has
its own subclass of ``micromatter.errors.CertificateError``, so that CASE,
the Operational Credentials cluster and the tests can tell a malformed
certificate from a valid one that does not chain, and report the right status.
"""

from micromatter.errors import CertificateError


class DerError(CertificateError):
    """Malformed ASN.1 DER (bad length, non-minimal encoding, trailing bytes...)."""


class CertificateFormatError(CertificateError):
    """Well-formed encoding, but not a certificate of the profile we accept
    (unsupported algorithm or curve, missing or duplicated extension, bad sizes,
    a form that cannot be converted between TLV and DER without loss)."""


class CertificateTlvError(CertificateFormatError):
    """A Matter TLV certificate (or certification declaration) that does not decode."""


class DistinguishedNameError(CertificateError):
    """A subject or issuer breaks the Matter DN rules."""


class MissingAttributeError(DistinguishedNameError):
    """A required DN attribute is absent (node id, fabric id, rcac id, vendor id...)."""


class InvalidAttributeError(DistinguishedNameError):
    """A DN attribute has a bad value, type or count (node id out of range, two fabric ids...)."""


class CatError(DistinguishedNameError):
    """CASE Authenticated Tags break the rules (more than 3, version 0, one identifier twice)."""


class CertificateSignatureError(CertificateError):
    """A certificate, CSR or CMS signature does not verify."""


class IssuerMismatchError(CertificateError):
    """The issuer named by a certificate (DN or authority key id) is not the given one."""


class NotSelfSignedError(IssuerMismatchError):
    """A root certificate whose issuer is not itself."""


class FabricMismatchError(CertificateError):
    """A NOC, ICAC and RCAC that name different fabric ids."""


class CertificateUsageError(CertificateError):
    """A certificate used for what it may not do: a NOC marked CA, a CA without
    keyCertSign, a missing key purpose, a path length constraint exceeded, an
    unknown critical extension."""


class ValidityError(CertificateError):
    """The time given is outside the certificate's validity period."""


class ExpiredError(ValidityError):
    """After notAfter."""


class NotYetValidError(ValidityError):
    """Before notBefore."""


class CertificationDeclarationError(CertificateFormatError):
    """A certification declaration (CMS envelope or TLV content) that is malformed or out of range."""
