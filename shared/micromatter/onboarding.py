"""Matter onboarding payload: the QR-code string and the manual pairing code.

The user types or scans one of these to give a commissioner the device's
setup passcode and discriminator (Matter Core spec, "Onboarding Payload").

QR code: 88 bits, least significant first -- version (3), vendor id (16),
product id (16), commissioning flow (2), discovery capabilities (8),
discriminator (12), passcode (27), padding (4) -- as 11 little-endian bytes,
base-38 encoded in chunks of 3 bytes -> 5 characters (2 -> 4, 1 -> 2) and
prefixed with ``MT:``.  Bytes after the first 11 are optional TLV data; they
are carried as raw ``extra`` bytes, not interpreted.

Manual code: 10 (or 20 with vendor and product id) decimal digits plus a
Verhoeff check digit.  It only has the 4-bit short discriminator (the top 4
bits of the 12-bit one).
"""

from micromatter.compat import const
from micromatter.errors import OnboardingError


class PrefixError(OnboardingError):
    """A QR-code string does not start with ``MT:``."""


class CharacterError(OnboardingError):
    """A character outside the base-38 alphabet, or a non-digit in a manual code."""


class LengthError(OnboardingError):
    """A payload has a length no valid payload has."""


class CheckDigitError(OnboardingError):
    """The Verhoeff check digit of a manual code does not match."""


class FieldRangeError(OnboardingError):
    """A field is out of its range (or a reserved value: version, flow)."""


class PasscodeError(FieldRangeError):
    """A passcode outside 00000001..99999998 or one of the trivial passcodes."""


FLOW_STANDARD = const(0)
FLOW_USER_INTENT = const(1)
FLOW_CUSTOM = const(2)

CAP_SOFT_AP = const(0x01)
CAP_BLE = const(0x02)
CAP_ON_NETWORK = const(0x04)

QR_PREFIX = "MT:"
BASE38_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-."

_QR_BYTES = const(11)
# Trivial passcodes the spec forbids besides the range ends.
_TRIVIAL_PASSCODES = (
    0, 11111111, 22222222, 33333333, 44444444, 55555555, 66666666, 77777777, 88888888, 99999999,
    12345678, 87654321,
)


# --- passcode ---------------------------------------------------------------


def is_valid_passcode(passcode):
    """True for an integer passcode a device may use."""
    return isinstance(passcode, int) and 1 <= passcode <= 99999998 and passcode not in _TRIVIAL_PASSCODES


def check_passcode(passcode):
    """Return ``passcode`` or raise ``PasscodeError``."""
    if not is_valid_passcode(passcode):
        raise PasscodeError("invalid passcode")
    return passcode


def _check_range(name, value, bits):
    if not isinstance(value, int) or value < 0 or value >> bits:
        raise FieldRangeError(name + " out of range")
    return value


# --- Verhoeff check digit -----------------------------------------------------

# Multiplication table of the dihedral group D5, the position permutation and inverses.
_D5 = (
    b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"
    b"\x01\x02\x03\x04\x00\x06\x07\x08\x09\x05"
    b"\x02\x03\x04\x00\x01\x07\x08\x09\x05\x06"
    b"\x03\x04\x00\x01\x02\x08\x09\x05\x06\x07"
    b"\x04\x00\x01\x02\x03\x09\x05\x06\x07\x08"
    b"\x05\x09\x08\x07\x06\x00\x04\x03\x02\x01"
    b"\x06\x05\x09\x08\x07\x01\x00\x04\x03\x02"
    b"\x07\x06\x05\x09\x08\x02\x01\x00\x04\x03"
    b"\x08\x07\x06\x05\x09\x03\x02\x01\x00\x04"
    b"\x09\x08\x07\x06\x05\x04\x03\x02\x01\x00"
)
_PERM = (
    b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"
    b"\x01\x05\x07\x06\x02\x08\x03\x00\x09\x04"
    b"\x05\x08\x00\x03\x07\x09\x06\x01\x04\x02"
    b"\x08\x09\x01\x06\x00\x04\x03\x05\x02\x07"
    b"\x09\x04\x05\x03\x01\x02\x06\x08\x07\x00"
    b"\x04\x02\x08\x06\x05\x07\x03\x09\x00\x01"
    b"\x02\x07\x09\x03\x08\x00\x06\x04\x01\x05"
    b"\x07\x00\x04\x06\x09\x01\x03\x02\x05\x08"
)
_INV = b"\x00\x04\x03\x02\x01\x05\x06\x07\x08\x09"


def _digit_values(digits):
    out = bytearray(len(digits))
    for i in range(len(digits)):
        c = ord(digits[i]) - 48
        if c < 0 or c > 9:
            raise CharacterError("not a decimal digit")
        out[i] = c
    return out


def _verhoeff_fold(values, offset):
    c = 0
    n = len(values)
    for i in range(n):
        c = _D5[c * 10 + _PERM[((i + offset) & 7) * 10 + values[n - 1 - i]]]
    return c


def verhoeff_check_digit(digits):
    """The Verhoeff check digit (a one-character string) for a string of decimal digits."""
    return str(_INV[_verhoeff_fold(_digit_values(digits), 1)])


def verhoeff_valid(digits):
    """True if the last digit of ``digits`` is the Verhoeff check digit of the others."""
    return len(digits) > 1 and _verhoeff_fold(_digit_values(digits), 0) == 0


# --- base-38 ---------------------------------------------------------------


def base38_encode(data):
    """Base-38 text of ``data``: each 3 bytes (little endian) -> 5 characters, 2 -> 4, 1 -> 2."""
    out = []
    i = 0
    n = len(data)
    while i < n:
        take = 3 if n - i >= 3 else n - i
        value = 0
        for k in range(take - 1, -1, -1):
            value = (value << 8) | data[i + k]
        for _ in range((5, 2, 4, 5)[take]):
            out.append(BASE38_ALPHABET[value % 38])
            value //= 38
        i += take
    return "".join(out)


def base38_decode(text):
    """Bytes of base-38 ``text``; ``CharacterError`` / ``LengthError`` on bad input."""
    n = len(text)
    if n % 5 in (1, 3):
        raise LengthError("base-38 length")
    out = bytearray()
    i = 0
    while i < n:
        chars = 5 if n - i >= 5 else n - i
        value = 0
        for k in range(i + chars - 1, i - 1, -1):
            d = BASE38_ALPHABET.find(text[k])
            if d < 0:
                raise CharacterError("not a base-38 character")
            value = value * 38 + d
        nbytes = (0, 0, 1, 0, 2, 3)[chars]
        if value >> (8 * nbytes):
            raise CharacterError("base-38 chunk out of range")
        for _ in range(nbytes):
            out.append(value & 0xFF)
            value >>= 8
        i += chars
    return bytes(out)


# --- the payload -------------------------------------------------------------


class SetupPayload:
    """The onboarding fields.  Built by the device or by ``parse_qr`` / ``parse_manual``.

    ``discriminator`` is the 12-bit value; a payload parsed from a manual code
    has only ``short_discriminator`` (the top 4 bits) and ``discriminator`` None.
    """

    def __init__(
        self,
        passcode,
        discriminator=None,
        vendor_id=0,
        product_id=0,
        flow=FLOW_STANDARD,
        capabilities=CAP_ON_NETWORK,
        short_discriminator=None,
        extra=b"",
    ):
        self.passcode = check_passcode(passcode)
        if discriminator is not None:
            _check_range("discriminator", discriminator, 12)
            if short_discriminator is not None and short_discriminator != discriminator >> 8:
                raise FieldRangeError("short discriminator does not match the discriminator")
            short_discriminator = discriminator >> 8
        elif short_discriminator is None:
            raise FieldRangeError("a discriminator is required")
        self.discriminator = discriminator
        self.short_discriminator = _check_range("short discriminator", short_discriminator, 4)
        self.vendor_id = None if vendor_id is None else _check_range("vendor id", vendor_id, 16)
        self.product_id = None if product_id is None else _check_range("product id", product_id, 16)
        if flow not in (FLOW_STANDARD, FLOW_USER_INTENT, FLOW_CUSTOM):
            raise FieldRangeError("commissioning flow")
        self.flow = flow
        self.capabilities = None if capabilities is None else _check_range("discovery capabilities", capabilities, 8)
        self.extra = bytes(extra)

    def __eq__(self, other):
        return isinstance(other, SetupPayload) and self._fields() == other._fields()

    def _fields(self):
        return (
            self.passcode, self.discriminator, self.short_discriminator, self.vendor_id, self.product_id,
            self.flow, self.capabilities, self.extra,
        )

    def __repr__(self):
        return "SetupPayload(passcode=%d, discriminator=%r, short=%d, vid=%r, pid=%r, flow=%d, cap=%r)" % (
            self.passcode, self.discriminator, self.short_discriminator, self.vendor_id, self.product_id,
            self.flow, self.capabilities,
        )

    def qr_code(self):
        """The ``MT:...`` string (needs the full discriminator, vendor, product and capabilities)."""
        if self.discriminator is None or self.vendor_id is None or self.product_id is None or self.capabilities is None:
            raise FieldRangeError("a QR code needs discriminator, vendor id, product id and capabilities")
        bits = (
            self.vendor_id << 3
            | self.product_id << 19
            | self.flow << 35
            | self.capabilities << 37
            | self.discriminator << 45
            | self.passcode << 57
        )
        data = bytearray(_QR_BYTES)
        for i in range(_QR_BYTES):
            data[i] = bits & 0xFF
            bits >>= 8
        return QR_PREFIX + base38_encode(data + self.extra)

    def manual_code(self, long_form=None):
        """The manual pairing code digits (11, or 21 with vendor and product id).

        The long form is used when the flow is not standard, as the spec requires,
        or when ``long_form`` is true."""
        if long_form is None:
            long_form = self.flow != FLOW_STANDARD
        sd = self.short_discriminator
        digits = "%d%05d%04d" % (
            (4 if long_form else 0) | sd >> 2,
            (sd & 3) << 14 | (self.passcode & 0x3FFF),
            self.passcode >> 14,
        )
        if long_form:
            if self.vendor_id is None or self.product_id is None:
                raise FieldRangeError("the long manual code needs vendor and product id")
            digits += "%05d%05d" % (self.vendor_id, self.product_id)
        return digits + verhoeff_check_digit(digits)


def format_manual_code(code):
    """Digits grouped for display: 4-3-4 (the long form 4-3-4-4-3-3)."""
    groups = (4, 3, 4, 4, 3, 3)
    out = []
    i = 0
    for g in groups:
        if i >= len(code):
            break
        out.append(code[i:i + g])
        i += g
    return "-".join(out)


def parse_qr(text):
    """A ``SetupPayload`` from an ``MT:`` string."""
    if not isinstance(text, str) or not text.startswith(QR_PREFIX):
        raise PrefixError("a QR payload starts with MT:")
    data = base38_decode(text[len(QR_PREFIX):])
    if len(data) < _QR_BYTES:
        raise LengthError("QR payload shorter than 88 bits")
    bits = 0
    for i in range(_QR_BYTES - 1, -1, -1):
        bits = (bits << 8) | data[i]
    if bits & 7:
        raise FieldRangeError("unsupported payload version")
    flow = (bits >> 35) & 3
    if flow == 3:
        raise FieldRangeError("reserved commissioning flow")
    return SetupPayload(
        (bits >> 57) & 0x7FFFFFF,
        discriminator=(bits >> 45) & 0xFFF,
        vendor_id=(bits >> 3) & 0xFFFF,
        product_id=(bits >> 19) & 0xFFFF,
        flow=flow,
        capabilities=(bits >> 37) & 0xFF,
        extra=data[_QR_BYTES:],
    )


def parse_manual(text):
    """A ``SetupPayload`` from a manual code (dashes and spaces are ignored).

    The result has ``short_discriminator`` only; vendor and product id are
    None unless the code is the 21-digit form (whose flow is reported as custom)."""
    if not isinstance(text, str):
        raise CharacterError("a manual code is text")
    digits = text.replace("-", "").replace(" ", "")
    if len(digits) not in (11, 21):
        raise LengthError("a manual code has 11 or 21 digits")
    if not verhoeff_valid(digits):  # also rejects non-digits
        raise CheckDigitError("check digit mismatch")
    first = ord(digits[0]) - 48
    if first > 7:
        raise FieldRangeError("unsupported manual code version")
    long_form = bool(first & 4)
    if long_form != (len(digits) == 21):
        raise LengthError("the vendor/product flag does not match the length")
    chunk2 = int(digits[1:6])
    chunk3 = int(digits[6:10])
    if chunk2 > 0xFFFF or chunk3 > 0x1FFF:
        raise FieldRangeError("manual code chunk out of range")
    vendor_id = product_id = None
    if long_form:
        vendor_id = int(digits[10:15])
        product_id = int(digits[15:20])
        if vendor_id > 0xFFFF or product_id > 0xFFFF:
            raise FieldRangeError("vendor or product id out of range")
    return SetupPayload(
        chunk3 << 14 | (chunk2 & 0x3FFF),
        vendor_id=vendor_id,
        product_id=product_id,
        flow=FLOW_CUSTOM if long_form else FLOW_STANDARD,
        capabilities=None,
        short_discriminator=(first & 3) << 2 | chunk2 >> 14,
    )


def parse(text):
    """A ``SetupPayload`` from either form (QR when it starts with ``MT:``)."""
    if isinstance(text, str) and text.startswith(QR_PREFIX):
        return parse_qr(text)
    return parse_manual(text)
