"""The object identifiers Matter certificates use, as DER content bytes.

Keeping OIDs as their encoded bytes makes comparisons a bytes equality and
needs no parsing on the device; ``to_text``/``from_text`` are for messages and tests.
"""

from micromatter.certs.errors import DerError

# Algorithms
EC_PUBLIC_KEY = b"\x2a\x86\x48\xce\x3d\x02\x01"  # 1.2.840.10045.2.1
PRIME256V1 = b"\x2a\x86\x48\xce\x3d\x03\x01\x07"  # 1.2.840.10045.3.1.7
ECDSA_WITH_SHA256 = b"\x2a\x86\x48\xce\x3d\x04\x03\x02"  # 1.2.840.10045.4.3.2
SHA256 = b"\x60\x86\x48\x01\x65\x03\x04\x02\x01"  # 2.16.840.1.101.3.4.2.1

# CMS content types
PKCS7_DATA = b"\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01"  # 1.2.840.113549.1.7.1
PKCS7_SIGNED_DATA = b"\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02"  # 1.2.840.113549.1.7.2

# Certificate extensions
SUBJECT_KEY_ID = b"\x55\x1d\x0e"  # 2.5.29.14
KEY_USAGE = b"\x55\x1d\x0f"  # 2.5.29.15
BASIC_CONSTRAINTS = b"\x55\x1d\x13"  # 2.5.29.19
AUTHORITY_KEY_ID = b"\x55\x1d\x23"  # 2.5.29.35
EXTENDED_KEY_USAGE = b"\x55\x1d\x25"  # 2.5.29.37

# Key purposes (id-kp, 1.3.6.1.5.5.7.3.n)
_KP = b"\x2b\x06\x01\x05\x05\x07\x03"
KP_SERVER_AUTH = _KP + b"\x01"
KP_CLIENT_AUTH = _KP + b"\x02"
KP_CODE_SIGNING = _KP + b"\x03"
KP_EMAIL_PROTECTION = _KP + b"\x04"
KP_TIME_STAMPING = _KP + b"\x05"
KP_OCSP_SIGNING = _KP + b"\x09"

# Standard attribute types (2.5.4.n)
COMMON_NAME = b"\x55\x04\x03"
SURNAME = b"\x55\x04\x04"
SERIAL_NUMBER = b"\x55\x04\x05"
COUNTRY_NAME = b"\x55\x04\x06"
LOCALITY_NAME = b"\x55\x04\x07"
STATE_OR_PROVINCE_NAME = b"\x55\x04\x08"
ORGANIZATION_NAME = b"\x55\x04\x0a"
ORGANIZATIONAL_UNIT_NAME = b"\x55\x04\x0b"
TITLE = b"\x55\x04\x0c"
NAME = b"\x55\x04\x29"
GIVEN_NAME = b"\x55\x04\x2a"
INITIALS = b"\x55\x04\x2b"
GENERATION_QUALIFIER = b"\x55\x04\x2c"
DN_QUALIFIER = b"\x55\x04\x2e"
PSEUDONYM = b"\x55\x04\x41"
DOMAIN_COMPONENT = b"\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19"  # 0.9.2342.19200300.100.1.25

# Matter attribute types (1.3.6.1.4.1.37244.1.n operational, .2.n attestation)
_MATTER = b"\x2b\x06\x01\x04\x01\x82\xa2\x7c"
MATTER_NODE_ID = _MATTER + b"\x01\x01"
MATTER_FIRMWARE_SIGNING_ID = _MATTER + b"\x01\x02"
MATTER_ICAC_ID = _MATTER + b"\x01\x03"
MATTER_RCAC_ID = _MATTER + b"\x01\x04"
MATTER_FABRIC_ID = _MATTER + b"\x01\x05"
MATTER_NOC_CAT = _MATTER + b"\x01\x06"
MATTER_VENDOR_ID = _MATTER + b"\x02\x01"
MATTER_PRODUCT_ID = _MATTER + b"\x02\x02"


def to_text(value):
    """Dotted text of OID content bytes."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise DerError("OID content must be bytes")
    arcs = []
    n = 0
    for b in value:
        n = (n << 7) | (b & 0x7F)
        if b < 0x80:
            if not arcs:
                first = 0 if n < 40 else (1 if n < 80 else 2)
                arcs.append(first)
                n -= 40 * first
            arcs.append(n)
            n = 0
    return ".".join(str(a) for a in arcs)


def from_text(text):
    """OID content bytes from dotted text."""
    if not isinstance(text, str):
        raise DerError("OID text must be str")
    try:
        arcs = [int(a) for a in text.split(".")]
    except ValueError:
        raise DerError("bad OID text")
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40) or min(arcs) < 0:
        raise DerError("bad OID text")
    out = []
    for n in [40 * arcs[0] + arcs[1]] + arcs[2:]:
        chunk = [n & 0x7F]
        n >>= 7
        while n:
            chunk.append(0x80 | (n & 0x7F))
            n >>= 7
        chunk.reverse()
        out.extend(chunk)
    return bytes(out)
