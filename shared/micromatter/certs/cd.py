"""Certification Declarations: TLV content in a CMS SignedData envelope (Core Specification 6.3).

The CD says which vendor and products a certification covers; the device
hands it over in the Attestation Response and the commissioner checks its
signature (a CSA key, or for development the public test key with subject
key id 62FA8233...) and that the DAC's vendor and product are in it.  The
envelope is the fixed form the SDKs write: SignedData v3, SHA-256, the
content as ``id-data``, one SignerInfo naming the signer by subject key id,
no signed attributes, an ECDSA signature over the TLV content itself.
"""

from micromatter.compat import const
from micromatter.certs import der, oids, x509
from micromatter.certs.errors import CertificateSignatureError, CertificationDeclarationError, DerError
from micromatter.crypto import ecdsa
from micromatter.errors import CryptoError, TlvError
from micromatter.tlv import ARRAY, BYTES, STRUCT, UINT, UTF8, TlvReader, TlvWriter

# Subject key id of the public test CD-signing key (Matter Core Specification, Appendix F).
TEST_SIGNING_KEY_ID = b"\x62\xfa\x82\x33\x59\xac\xfa\xa9\x96\x3e\x1c\xfa\x14\x0a\xdd\xf5\x04\xf3\x71\x60"

CERTIFICATION_DEVELOPMENT = const(0)  # development and test
CERTIFICATION_PROVISIONAL = const(1)
CERTIFICATION_OFFICIAL = const(2)

MAX_LENGTH = const(600)
MAX_PRODUCT_IDS = const(100)
MAX_AUTHORIZED_PAAS = const(10)
CERTIFICATE_ID_LENGTH = const(19)

_SHA256 = der.sequence(der.oid(oids.SHA256))


class CertificationElements:
    """The content of a CD: ``format_version``, ``vendor_id``, ``product_ids`` (list),
    ``device_type_id``, ``certificate_id`` (19 characters), ``security_level``,
    ``security_information``, ``version_number``, ``certification_type``,
    ``dac_origin_vendor_id`` and ``dac_origin_product_id`` (both or neither, None when
    absent), ``authorized_paa_key_ids`` (list of 20-byte key ids, None when absent)."""

    def __init__(
        self,
        vendor_id,
        product_ids,
        device_type_id,
        certificate_id,
        security_level=0,
        security_information=0,
        version_number=1,
        certification_type=CERTIFICATION_DEVELOPMENT,
        dac_origin_vendor_id=None,
        dac_origin_product_id=None,
        authorized_paa_key_ids=None,
        format_version=1,
    ):
        self.format_version = format_version
        self.vendor_id = vendor_id
        self.product_ids = list(product_ids)
        self.device_type_id = device_type_id
        self.certificate_id = certificate_id
        self.security_level = security_level
        self.security_information = security_information
        self.version_number = version_number
        self.certification_type = certification_type
        self.dac_origin_vendor_id = dac_origin_vendor_id
        self.dac_origin_product_id = dac_origin_product_id
        self.authorized_paa_key_ids = None if authorized_paa_key_ids is None else list(authorized_paa_key_ids)
        self.check()

    def check(self):
        def bad(what):
            raise CertificationDeclarationError(what)

        if self.format_version != 1:
            bad("unknown format version")
        for value, limit in (
            (self.vendor_id, 0xFFFF),
            (self.device_type_id, 0xFFFFFFFF),
            (self.security_level, 0xFF),
            (self.security_information, 0xFFFF),
            (self.version_number, 0xFFFF),
        ):
            if not isinstance(value, int) or not 0 <= value <= limit:
                bad("value out of range")
        if not 1 <= len(self.product_ids) <= MAX_PRODUCT_IDS:
            bad("1 to 100 product ids")
        for pid in self.product_ids:
            if not isinstance(pid, int) or not 0 <= pid <= 0xFFFF:
                bad("product id out of range")
        if not isinstance(self.certificate_id, str) or len(self.certificate_id.encode()) != CERTIFICATE_ID_LENGTH:
            bad("certificate id is not 19 characters")
        if not CERTIFICATION_DEVELOPMENT <= self.certification_type <= CERTIFICATION_OFFICIAL:
            bad("unknown certification type")
        if (self.dac_origin_vendor_id is None) != (self.dac_origin_product_id is None):
            bad("DAC origin vendor id and product id come together")
        if self.dac_origin_vendor_id is not None:
            if not (0 <= self.dac_origin_vendor_id <= 0xFFFF and 0 <= self.dac_origin_product_id <= 0xFFFF):
                bad("DAC origin out of range")
        if self.authorized_paa_key_ids is not None:
            if not 1 <= len(self.authorized_paa_key_ids) <= MAX_AUTHORIZED_PAAS:
                bad("1 to 10 authorized PAAs")
            for key_id in self.authorized_paa_key_ids:
                if len(key_id) != 20:
                    bad("authorized PAA key id is not 20 bytes")

    def encode(self):
        """The TLV content."""
        w = TlvWriter()
        w.start_struct(None)
        w.uint(0, self.format_version)
        w.uint(1, self.vendor_id)
        w.start_array(2)
        for pid in self.product_ids:
            w.uint(None, pid)
        w.end_container()
        w.uint(3, self.device_type_id)
        w.str(4, self.certificate_id)
        w.uint(5, self.security_level)
        w.uint(6, self.security_information)
        w.uint(7, self.version_number)
        w.uint(8, self.certification_type)
        if self.dac_origin_vendor_id is not None:
            w.uint(9, self.dac_origin_vendor_id)
            w.uint(10, self.dac_origin_product_id)
        if self.authorized_paa_key_ids is not None:
            w.start_array(11)
            for key_id in self.authorized_paa_key_ids:
                w.bytes(None, key_id)
            w.end_container()
        w.end_container()
        return w.getvalue()

    def covers(self, vendor_id, product_id):
        """True if a DAC of ``vendor_id``/``product_id`` is covered (DAC origin when present)."""
        if self.dac_origin_vendor_id is not None:
            return self.dac_origin_vendor_id == vendor_id and self.dac_origin_product_id == product_id
        return self.vendor_id == vendor_id and product_id in self.product_ids


def _next(r, tag, kind):
    if not r.next() or r.tag != tag or r.type != kind:
        raise CertificationDeclarationError("CD field %d missing, out of order or of the wrong type" % tag)


def _uint(r, tag, limit):
    _next(r, tag, UINT)
    if r.value > limit:
        raise CertificationDeclarationError("CD field %d out of range" % tag)
    return r.value


def _decode(data):
    r = TlvReader(data)
    if not r.next() or r.type != STRUCT or r.tag is not None:
        raise CertificationDeclarationError("CD content is not an anonymous structure")
    r.enter()
    fields = {}
    fields["format_version"] = _uint(r, 0, 0xFF)
    fields["vendor_id"] = _uint(r, 1, 0xFFFF)
    _next(r, 2, ARRAY)
    r.enter()
    pids = []
    while r.next():
        if r.type != UINT or r.value > 0xFFFF or len(pids) >= MAX_PRODUCT_IDS:
            raise CertificationDeclarationError("bad product id array")
        pids.append(r.value)
    r.exit()
    fields["product_ids"] = pids
    fields["device_type_id"] = _uint(r, 3, 0xFFFFFFFF)
    _next(r, 4, UTF8)
    fields["certificate_id"] = r.str()
    fields["security_level"] = _uint(r, 5, 0xFF)
    fields["security_information"] = _uint(r, 6, 0xFFFF)
    fields["version_number"] = _uint(r, 7, 0xFFFF)
    fields["certification_type"] = _uint(r, 8, 0xFF)
    more = r.next()
    if more and r.tag == 9:
        if r.type != UINT or r.value > 0xFFFF:
            raise CertificationDeclarationError("bad DAC origin vendor id")
        fields["dac_origin_vendor_id"] = r.value
        fields["dac_origin_product_id"] = _uint(r, 10, 0xFFFF)
        more = r.next()
    if more and r.tag == 11:
        if r.type != ARRAY:
            raise CertificationDeclarationError("bad authorized PAA list")
        r.enter()
        key_ids = []
        while r.next():
            if r.type != BYTES or len(key_ids) >= MAX_AUTHORIZED_PAAS:
                raise CertificationDeclarationError("bad authorized PAA list")
            key_ids.append(bytes(r.view()))
        r.exit()
        fields["authorized_paa_key_ids"] = key_ids
        more = r.next()
    if more:
        raise CertificationDeclarationError("unexpected CD field")
    r.exit()
    if r.next():
        raise CertificationDeclarationError("data after the CD content")
    return CertificationElements(**fields)


def decode_content(data):
    """``CertificationElements`` from the TLV content."""
    data = der.as_bytes(data, CertificationDeclarationError)
    try:
        return _decode(data)
    except TlvError as e:
        raise CertificationDeclarationError("bad TLV: " + str(e))


# --- the CMS envelope ------------------------------------------------------


def encode_envelope(content, signer_key_id, signature):
    """The CMS SignedData (DER) around ``content`` with a DER ECDSA ``signature``."""
    signer_info = der.sequence(
        der.integer(3),
        der.encode(der.context_tag(0, False), signer_key_id),
        _SHA256,
        x509.ECDSA_SHA256,
        der.octet_string(signature),
    )
    signed_data = der.sequence(
        der.integer(3),
        der.set_of(_SHA256),
        der.sequence(der.oid(oids.PKCS7_DATA), der.explicit(0, der.octet_string(content))),
        der.set_of(signer_info),
    )
    return der.sequence(der.oid(oids.PKCS7_SIGNED_DATA), der.explicit(0, signed_data))


def sign(crypto, content, signer_private_key, signer_key_id=TEST_SIGNING_KEY_ID):
    """Sign TLV ``content`` (bytes, or ``CertificationElements``); returns the CD (DER)."""
    if isinstance(content, CertificationElements):
        content = content.encode()
    signature = ecdsa.raw_to_der(crypto.ecdsa_sign(signer_private_key, content))
    return encode_envelope(content, signer_key_id, signature)


class SignedDeclaration:
    """A parsed CD envelope: ``content`` (TLV bytes), ``signer_key_id``, ``signature_raw``."""


def parse(data):
    """Parse the CMS envelope strictly (the form ``encode_envelope`` writes); no signature check."""
    data = der.as_bytes(data, CertificationDeclarationError)
    if len(data) > MAX_LENGTH:
        raise CertificationDeclarationError("CD longer than 600 bytes")
    try:
        return _parse(data)
    except DerError as e:
        raise CertificationDeclarationError("malformed CMS envelope: " + str(e))


def _parse(data):
    top = der.Reader(data)
    info = top.enter(der.SEQUENCE)
    top.finish()
    if info.read_oid() != oids.PKCS7_SIGNED_DATA:
        raise CertificationDeclarationError("not a CMS SignedData")
    outer = info.enter(der.context_tag(0))
    info.finish()
    sd = outer.enter(der.SEQUENCE)
    outer.finish()
    if sd.read_int() != 3:
        raise CertificationDeclarationError("SignedData version is not 3")
    digests = sd.enter(der.SET)
    if digests.raw(der.SEQUENCE) != _SHA256:
        raise CertificationDeclarationError("digest algorithm is not SHA-256")
    digests.finish()
    encap = sd.enter(der.SEQUENCE)
    if encap.read_oid() != oids.PKCS7_DATA:
        raise CertificationDeclarationError("content type is not id-data")
    wrapped = encap.enter(der.context_tag(0))
    encap.finish()
    out = SignedDeclaration()
    out.content = wrapped.read_octets()
    wrapped.finish()
    if sd.peek() != der.SET:
        raise CertificationDeclarationError("certificates or CRLs in a CD")
    signers = sd.enter(der.SET)
    sd.finish()
    si = signers.enter(der.SEQUENCE)
    signers.finish()
    if si.read_int() != 3:
        raise CertificationDeclarationError("SignerInfo version is not 3")
    out.signer_key_id = si.read(der.context_tag(0, False))
    if si.raw(der.SEQUENCE) != _SHA256:
        raise CertificationDeclarationError("digest algorithm is not SHA-256")
    if si.raw(der.SEQUENCE) != x509.ECDSA_SHA256:
        raise CertificationDeclarationError("signature algorithm is not ecdsa-with-SHA256")
    signature = si.read_octets()
    si.finish()
    try:
        out.signature_raw = ecdsa.der_to_raw(signature)
    except CryptoError:
        raise CertificationDeclarationError("bad ECDSA signature value")
    return out


def verify(crypto, data, signer_public_key, signer_key_id=None):
    """Check a CD's signature with the signer's key (and key id if given); returns the ``CertificationElements``."""
    signed = parse(data)
    if signer_key_id is not None and signed.signer_key_id != signer_key_id:
        raise CertificateSignatureError("CD signed by another key")
    try:
        crypto.ecdsa_verify(signer_public_key, signed.content, signed.signature_raw)
    except CryptoError:
        raise CertificateSignatureError("CD signature does not verify")
    return decode_content(signed.content)
