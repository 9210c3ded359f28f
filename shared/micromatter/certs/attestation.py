"""Device attestation certificates: DAC and PAI (X.509), parsed and issued.

A device proves it is a certified product with its DAC, issued by a PAI,
issued by a PAA the commissioner trusts; vendor id and product id are Matter
attributes of the subjects (1.3.6.1.4.1.37244.2.1/.2, four upper-case hex
digits; older certificates put "Mvid:FFF1 Mpid:8000" in the common name).
For development the device makes its own DAC and PAI from the public test
PAA of vendor 0xFFF1 (``make_pai``, ``make_dac``), on the host
(tools/make_attestation.py) or on first run.
"""

from micromatter.certs import chain, der, dn, oids, times, x509
from micromatter.certs.errors import (
    CertificateFormatError,
    CertificateSignatureError,
    CertificateUsageError,
    InvalidAttributeError,
    IssuerMismatchError,
    MissingAttributeError,
)
from micromatter.crypto import ecdsa
from micromatter.errors import CryptoError

class AttestationCertificate:
    """A parsed PAA, PAI or DAC: ``cert`` (the ``x509.Certificate``), ``vendor_id`` and
    ``product_id`` (None when absent), ``public_key``, ``subject_key_id``, ``authority_key_id``."""

    def __init__(self, cert):
        self.cert = cert
        self.public_key = cert.public_key
        self.subject_key_id = cert.subject_key_id
        self.authority_key_id = cert.authority_key_id
        self.vendor_id = _id_attribute(cert, oids.MATTER_VENDOR_ID, "Mvid:")
        self.product_id = _id_attribute(cert, oids.MATTER_PRODUCT_ID, "Mpid:")


def _id_attribute(cert, oid, legacy_prefix):
    found = [(tag, text) for (o, tag, text) in cert.subject if o == oid]
    if len(found) > 1:
        raise InvalidAttributeError("vendor or product id repeated")
    if found:
        if found[0][0] != der.UTF8_STRING:
            raise InvalidAttributeError("vendor or product id is not a UTF8String")
        return dn.parse_hex(found[0][1], 4)
    for name in cert.attribute(oids.COMMON_NAME):
        i = name.find(legacy_prefix)
        if i >= 0:
            return dn.parse_hex(name[i + 5 : i + 9], 4)
    return None


def parse(data):
    """An ``AttestationCertificate`` from DER (any of PAA, PAI, DAC; checked by ``check_*``)."""
    return AttestationCertificate(x509.parse(data))


def _check_common(a):
    if a.cert.is_ca is None or a.cert.key_usage is None:
        raise CertificateFormatError("basic constraints or key usage missing")
    if a.subject_key_id is None or len(a.subject_key_id) != 20:
        raise CertificateFormatError("subject key id missing or not 20 bytes")
    for e in a.cert.extensions:
        if e.critical and e.oid not in (oids.BASIC_CONSTRAINTS, oids.KEY_USAGE, oids.EXTENDED_KEY_USAGE):
            raise CertificateUsageError("unknown critical extension")


def check_dac(a):
    """The DAC rules: vendor and product id, not a CA, digital signature only."""
    _check_common(a)
    if a.vendor_id is None or a.product_id is None:
        raise MissingAttributeError("DAC without vendor id and product id")
    if a.cert.is_ca:
        raise CertificateUsageError("DAC marked CA")
    if a.cert.key_usage & ~x509.KU_DIGITAL_SIGNATURE or not a.cert.key_usage & x509.KU_DIGITAL_SIGNATURE:
        raise CertificateUsageError("DAC key usage is not digital signature alone")
    if a.authority_key_id is None:
        raise CertificateFormatError("authority key id missing")


def check_pai(a):
    """The PAI rules: vendor id, a CA with path length 0 that signs certificates."""
    _check_common(a)
    if a.vendor_id is None:
        raise MissingAttributeError("PAI without vendor id")
    if not a.cert.is_ca or a.cert.path_len != 0:
        raise CertificateUsageError("PAI is not a CA with path length 0")
    if not a.cert.key_usage & x509.KU_KEY_CERT_SIGN:
        raise CertificateUsageError("PAI may not sign certificates")
    if a.authority_key_id is None:
        raise CertificateFormatError("authority key id missing")


def check_paa(a):
    _check_common(a)
    if not a.cert.is_ca or not a.cert.key_usage & x509.KU_KEY_CERT_SIGN:
        raise CertificateUsageError("PAA is not a CA that signs certificates")
    if a.cert.path_len is not None and a.cert.path_len < 1:
        raise CertificateUsageError("PAA path length forbids a PAI")


def verify_issued(crypto, a, issuer):
    """Check that ``a`` names ``issuer`` (DN and key id) and carries its signature."""
    if a.cert.issuer_der != issuer.cert.subject_der or a.authority_key_id != issuer.subject_key_id:
        raise IssuerMismatchError("certificate not issued by the given issuer")
    try:
        crypto.ecdsa_verify(issuer.public_key, a.cert.tbs, a.cert.signature_raw)
    except CryptoError:
        raise CertificateSignatureError("attestation certificate signature does not verify")


def validate_chain(crypto, dac, pai, paa, now=None):
    """What a commissioner checks of DAC -> PAI -> PAA (each DER or parsed); returns the parsed DAC.

    Vendor ids must agree down the chain, a PAI product id must be the DAC's; ``now``
    (seconds since the Matter epoch) checks every validity period."""
    dac, pai, paa = [x if isinstance(x, AttestationCertificate) else parse(x) for x in (dac, pai, paa)]
    check_dac(dac)
    check_pai(pai)
    check_paa(paa)
    if dac.vendor_id != pai.vendor_id or (paa.vendor_id is not None and paa.vendor_id != pai.vendor_id):
        raise InvalidAttributeError("vendor ids differ along the attestation chain")
    if pai.product_id is not None and pai.product_id != dac.product_id:
        raise InvalidAttributeError("PAI product id is not the DAC's")
    for a in (dac, pai, paa):
        chain.check_validity(a.cert, now)
    verify_issued(crypto, pai, paa)
    verify_issued(crypto, dac, pai)
    return dac


# --- issuing ---------------------------------------------------------------


def _subject(common_name, vendor_id, product_id):
    attrs = []
    if common_name:
        attrs.append((oids.COMMON_NAME, der.UTF8_STRING, common_name))
    if not 0 <= vendor_id <= 0xFFFF:
        raise InvalidAttributeError("vendor id out of range")
    attrs.append((oids.MATTER_VENDOR_ID, der.UTF8_STRING, "%04X" % vendor_id))
    if product_id is not None:
        if not 0 <= product_id <= 0xFFFF:
            raise InvalidAttributeError("product id out of range")
        attrs.append((oids.MATTER_PRODUCT_ID, der.UTF8_STRING, "%04X" % product_id))
    return x509.encode_name(attrs)


def _issue(crypto, issuer, issuer_private_key, subject_der, public_key, ca, key_usage, serial, not_before, not_after):
    # Issuing is for tools and development devices: a board with provisioned attestation never loads it.
    from micromatter.certs import issue

    extensions = [
        x509.encode_extension(oids.BASIC_CONSTRAINTS, True, x509.basic_constraints_value(ca, 0 if ca else None)),
        x509.encode_extension(oids.KEY_USAGE, True, x509.key_usage_value(key_usage)),
        x509.encode_extension(oids.SUBJECT_KEY_ID, False, x509.subject_key_id_value(issue.key_id(crypto, public_key))),
        x509.encode_extension(oids.AUTHORITY_KEY_ID, False, x509.authority_key_id_value(issuer.subject_key_id)),
    ]
    tbs = x509.encode_tbs(
        serial or issue.serial_number(crypto),
        issuer.cert.subject_der,
        issuer.cert.not_before if not_before is None else not_before,
        times.NO_EXPIRY_SECONDS if not_after is None else not_after,
        subject_der,
        public_key,
        extensions,
    )
    signature = ecdsa.raw_to_der(crypto.ecdsa_sign(issuer_private_key, tbs))
    return x509.encode_certificate(tbs, signature)


def make_pai(
    crypto,
    paa,
    paa_private_key,
    public_key,
    vendor_id,
    product_id=None,
    common_name="Matter Test PAI",
    serial=None,
    not_before=None,
    not_after=None,
):
    """A PAI (DER) for ``vendor_id`` (and optionally one product) signed by the PAA (DER or parsed).

    Validity defaults to the PAA's notBefore until no expiration, so the chain holds
    whatever the device's clock says."""
    if not isinstance(paa, AttestationCertificate):
        paa = parse(paa)
    if paa.vendor_id is not None and paa.vendor_id != vendor_id:
        raise InvalidAttributeError("PAA of another vendor")
    subject = _subject(common_name, vendor_id, product_id)
    return _issue(
        crypto,
        paa,
        paa_private_key,
        subject,
        public_key,
        True,
        x509.KU_KEY_CERT_SIGN | x509.KU_CRL_SIGN,
        serial,
        not_before,
        not_after,
    )


def make_dac(
    crypto,
    pai,
    pai_private_key,
    public_key,
    vendor_id,
    product_id,
    common_name="Matter Test DAC",
    serial=None,
    not_before=None,
    not_after=None,
):
    """A DAC (DER) for the device key ``public_key`` signed by the PAI (DER or parsed)."""
    if not isinstance(pai, AttestationCertificate):
        pai = parse(pai)
    if pai.vendor_id != vendor_id or (pai.product_id is not None and pai.product_id != product_id):
        raise InvalidAttributeError("PAI of another vendor or product")
    subject = _subject(common_name, vendor_id, product_id)
    return _issue(
        crypto,
        pai,
        pai_private_key,
        subject,
        public_key,
        False,
        x509.KU_DIGITAL_SIGNATURE,
        serial,
        not_before,
        not_after,
    )


class DeviceCredentials:
    """Development attestation material: ``dac``, ``pai``, ``cd`` (DER) and the DAC key pair
    ``dac_private_key``/``dac_public_key``."""


def make_device_credentials(
    crypto,
    paa,
    paa_private_key,
    cd_private_key,
    vendor_id,
    product_id,
    device_type_id,
    certificate_id="ZIG20142ZB330003-24",
    version_number=1,
    cd_key_id=None,
):
    """A fresh DAC key, a PAI and a DAC under the test PAA, and a test CD for one product.

    This is what tools/make_attestation.py writes and what a development device makes on
    its first run: the PAI key is thrown away, the DAC key must be kept with the DAC."""
    from micromatter.certs import cd

    pai_private, pai_public = crypto.p256_generate()
    dac_private, dac_public = crypto.p256_generate()
    out = DeviceCredentials()
    out.pai = make_pai(crypto, paa, paa_private_key, pai_public, vendor_id)
    out.dac = make_dac(crypto, out.pai, pai_private, dac_public, vendor_id, product_id)
    out.dac_private_key = dac_private
    out.dac_public_key = dac_public
    elements = cd.CertificationElements(
        vendor_id, [product_id], device_type_id, certificate_id, version_number=version_number
    )
    out.cd = cd.sign(crypto, elements, cd_private_key, cd_key_id or cd.TEST_SIGNING_KEY_ID)
    return out
