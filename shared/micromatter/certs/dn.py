"""Matter distinguished names: the TLV attribute list and its X.509 Name form.

A Matter DN is a TLV list of at most 5 attributes, each a context tag and a
value.  Tags 1-16 are the X.520 string attributes (UTF8String in X.509; with
0x80 added, PrintableString; domain-component is an IA5String), tags 17-22
the Matter identifiers, unsigned integers in TLV and fixed-width upper-case
hex UTF8Strings in X.509 (16 digits, 8 for a CASE Authenticated Tag).  Here a
DN is a list of ``(tag, value)`` pairs in order: ``int`` values for the Matter
identifiers, ``str`` for the rest.
"""

from micromatter.compat import const
from micromatter.certs import der, oids
from micromatter.certs.errors import CatError, CertificateFormatError, DerError, InvalidAttributeError
from micromatter.tlv import LIST, UINT, UTF8

COMMON_NAME = const(1)
SURNAME = const(2)
SERIAL_NUMBER = const(3)
COUNTRY_NAME = const(4)
LOCALITY_NAME = const(5)
STATE_OR_PROVINCE_NAME = const(6)
ORGANIZATION_NAME = const(7)
ORGANIZATIONAL_UNIT_NAME = const(8)
TITLE = const(9)
NAME = const(10)
GIVEN_NAME = const(11)
INITIALS = const(12)
GENERATION_QUALIFIER = const(13)
DN_QUALIFIER = const(14)
PSEUDONYM = const(15)
DOMAIN_COMPONENT = const(16)
NODE_ID = const(17)
FIRMWARE_SIGNING_ID = const(18)
ICAC_ID = const(19)
RCAC_ID = const(20)
FABRIC_ID = const(21)
NOC_CAT = const(22)
PRINTABLE = const(0x80)  # added to tags 1-15: the value is a PrintableString

MAX_ATTRIBUTES = const(5)
MAX_CATS = const(3)

# OID of each tag 1..22 (index 0 unused).
_OIDS = (
    None,
    oids.COMMON_NAME,
    oids.SURNAME,
    oids.SERIAL_NUMBER,
    oids.COUNTRY_NAME,
    oids.LOCALITY_NAME,
    oids.STATE_OR_PROVINCE_NAME,
    oids.ORGANIZATION_NAME,
    oids.ORGANIZATIONAL_UNIT_NAME,
    oids.TITLE,
    oids.NAME,
    oids.GIVEN_NAME,
    oids.INITIALS,
    oids.GENERATION_QUALIFIER,
    oids.DN_QUALIFIER,
    oids.PSEUDONYM,
    oids.DOMAIN_COMPONENT,
    oids.MATTER_NODE_ID,
    oids.MATTER_FIRMWARE_SIGNING_ID,
    oids.MATTER_ICAC_ID,
    oids.MATTER_RCAC_ID,
    oids.MATTER_FABRIC_ID,
    oids.MATTER_NOC_CAT,
)

_HEX = "0123456789ABCDEF"


def _base(tag):
    return tag & 0x7F if tag & PRINTABLE else tag


def _string_tag(tag):
    if tag & PRINTABLE:
        return der.PRINTABLE_STRING
    if tag == DOMAIN_COMPONENT:
        return der.IA5_STRING
    return der.UTF8_STRING


def _check_tag(tag):
    if not (1 <= tag <= NOC_CAT or (tag & PRINTABLE and 1 <= tag & 0x7F <= PSEUDONYM)):
        raise CertificateFormatError("unknown DN attribute tag")


def check(attrs):
    """Check a DN: 1..5 known attributes with values of the right type and range."""
    if not 1 <= len(attrs) <= MAX_ATTRIBUTES:
        _too_many(attrs)
    for tag, value in attrs:
        _check_tag(tag)
        if tag >= NODE_ID and tag <= NOC_CAT:
            if not isinstance(value, int) or value < 0 or value >= (1 << (32 if tag == NOC_CAT else 64)):
                raise InvalidAttributeError("Matter identifier out of range")
        else:
            if not isinstance(value, str):
                raise InvalidAttributeError("DN string attribute is not a string")
            try:
                der.check_string(_string_tag(tag), value)
            except DerError:
                raise InvalidAttributeError("DN string has characters its type does not allow")


def _too_many(attrs):
    if len(values(attrs, NOC_CAT)) > MAX_CATS:
        raise CatError("more than 3 CASE Authenticated Tags")
    raise InvalidAttributeError("a DN holds 1 to 5 attributes")


def to_x509(attrs):
    """``(oid, string_tag, text)`` attributes for ``x509.encode_name``."""
    out = []
    for tag, value in attrs:
        base = _base(tag)
        if NODE_ID <= base <= NOC_CAT:
            text = ("%08X" if base == NOC_CAT else "%016X") % value
            out.append((_OIDS[base], der.UTF8_STRING, text))
        else:
            out.append((_OIDS[base], _string_tag(tag), value))
    return out


def parse_hex(text, digits):
    """The value of a fixed-width upper-case hex string (Matter identifiers in X.509)."""
    if len(text) != digits:
        raise InvalidAttributeError("identifier of the wrong length")
    n = 0
    for c in text:
        i = _HEX.find(c)
        if i < 0:
            raise InvalidAttributeError("identifier is not upper-case hex")
        n = (n << 4) | i
    return n


def from_x509(attrs):
    """A Matter DN from X.509 ``(oid, string_tag, text)`` attributes; ``CertificateFormatError`` if it has none."""
    out = []
    for oid, string_tag, text in attrs:
        try:
            base = _OIDS.index(oid)
        except ValueError:
            raise CertificateFormatError("DN attribute has no Matter TLV form")
        if base >= NODE_ID:
            if string_tag != der.UTF8_STRING:
                raise InvalidAttributeError("Matter identifier is not a UTF8String")
            out.append((base, parse_hex(text, 8 if base == NOC_CAT else 16)))
        elif string_tag == der.PRINTABLE_STRING and base != DOMAIN_COMPONENT:
            out.append((base | PRINTABLE, text))
        elif string_tag == (der.IA5_STRING if base == DOMAIN_COMPONENT else der.UTF8_STRING):
            out.append((base, text))
        else:
            raise CertificateFormatError("DN attribute string type has no Matter TLV form")
    check(out)
    return out


def encode_x509(attrs):
    """The X.509 Name of a Matter DN (DER)."""
    from micromatter.certs import x509

    return x509.encode_name(to_x509(attrs))


def write_tlv(writer, tag, attrs):
    """Write the DN as a TLV list with ``tag``."""
    writer.start_list(tag)
    for attr_tag, value in attrs:
        if NODE_ID <= attr_tag <= NOC_CAT:
            writer.uint(attr_tag, value)
        else:
            writer.str(attr_tag, value)
    writer.end_container()


def read_tlv(reader):
    """The DN of the TLV list the reader is on (entered and left here)."""
    if reader.type != LIST:
        raise CertificateFormatError("DN is not a TLV list")
    reader.enter()
    attrs = []
    while reader.next():
        tag = reader.tag
        if not isinstance(tag, int):
            raise CertificateFormatError("DN attribute without a context tag")
        _check_tag(tag)
        if NODE_ID <= tag <= NOC_CAT:
            if reader.type != UINT:
                raise CertificateFormatError("Matter identifier is not an unsigned integer")
            value = reader.value
        else:
            if reader.type != UTF8:
                raise CertificateFormatError("DN string attribute is not a UTF-8 string")
            value = reader.str()
        attrs.append((tag, value))
        if len(attrs) > MAX_ATTRIBUTES:
            _too_many(attrs)
    reader.exit()
    check(attrs)
    return attrs


def values(attrs, tag):
    return [v for (t, v) in attrs if t == tag]


def get_one(attrs, tag):
    """The value of the single attribute ``tag``, None if absent; ``InvalidAttributeError`` if repeated."""
    found = values(attrs, tag)
    if len(found) > 1:
        raise InvalidAttributeError("DN attribute repeated")
    return found[0] if found else None


def check_cats(cats):
    """CASE Authenticated Tags: at most 3, version (low 16 bits) non-zero, each identifier once."""
    if len(cats) > MAX_CATS:
        raise CatError("more than 3 CASE Authenticated Tags")
    ids = []
    for cat in cats:
        if cat & 0xFFFF == 0:
            raise CatError("CASE Authenticated Tag with version 0")
        if cat >> 16 in ids:
            raise CatError("CASE Authenticated Tag identifier repeated")
        ids.append(cat >> 16)

