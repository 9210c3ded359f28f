"""ASN.1 DER: a strict reader and a small encoder.

Certificates are signed over their DER bytes, so the reader accepts only
canonical DER (definite minimal lengths, minimal integers, DER booleans and
bit strings, well-formed OIDs, times and strings) and every bad input raises
``DerError``.  Elements are read in order from a ``Reader`` over a byte
string; constructed elements are entered as sub-readers over the same bytes,
and ``raw`` spans let callers keep the exact encoding of a part (the
TBSCertificate that was signed, a Name to compare).
"""

from micromatter.compat import const
from micromatter.certs.errors import DerError
from micromatter.tlv import utf8_valid

# Universal tags (class universal; 0x20 = constructed).
BOOLEAN = const(0x01)
INTEGER = const(0x02)
BIT_STRING = const(0x03)
OCTET_STRING = const(0x04)
NULL = const(0x05)
OID = const(0x06)
UTF8_STRING = const(0x0C)
PRINTABLE_STRING = const(0x13)
IA5_STRING = const(0x16)
UTC_TIME = const(0x17)
GENERALIZED_TIME = const(0x18)
SEQUENCE = const(0x30)
SET = const(0x31)

CONSTRUCTED = const(0x20)
CONTEXT = const(0x80)

# Nothing the certificate code handles comes near this: a bound on hostile lengths.
_MAX_LENGTH = const(0xFFFFFF)


def context_tag(number, constructed=True):
    """The tag byte of ``[number]`` (EXPLICIT tags and constructed IMPLICIT ones are constructed)."""
    return CONTEXT | (CONSTRUCTED if constructed else 0) | number


# --- reading ---------------------------------------------------------------


def as_bytes(data, error=DerError):
    """``data`` as bytes if it is bytes-like: what reaches the parsers may come from anywhere, and
    anything else is refused with ``error`` rather than a TypeError."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise error("expected bytes, not " + type(data).__name__)
    return bytes(data)


class Reader:
    """Reads consecutive DER elements from ``data[start:end]``."""

    def __init__(self, data, start=0, end=None):
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end

    def at_end(self):
        return self.pos >= self.end

    def peek(self):
        """The tag of the next element, or -1 at the end."""
        if self.pos >= self.end:
            return -1
        return self.data[self.pos]

    def next(self, tag=None):
        """Read the next element header; return ``(tag, content_start, content_end)`` and move past it."""
        data = self.data
        pos = self.pos
        end = self.end
        if pos >= end:
            raise DerError("missing element")
        t = data[pos]
        if t & 0x1F == 0x1F:
            raise DerError("multi-byte tags are not supported")
        if tag is not None and t != tag:
            raise DerError("expected tag 0x%02x, found 0x%02x" % (tag, t))
        pos += 1
        if pos >= end:
            raise DerError("truncated length")
        first = data[pos]
        pos += 1
        if first < 0x80:
            length = first
        else:
            n = first & 0x7F
            if n == 0:
                raise DerError("indefinite length")
            if n > 3:
                raise DerError("length too large")
            if pos + n > end:
                raise DerError("truncated length")
            if data[pos] == 0:
                raise DerError("non-minimal length")
            length = 0
            for i in range(n):
                length = (length << 8) | data[pos + i]
            pos += n
            if length < 0x80:
                raise DerError("non-minimal length")
            if length > _MAX_LENGTH:
                raise DerError("length too large")
        if length > end - pos:
            raise DerError("truncated content")
        self.pos = pos + length
        return t, pos, pos + length

    def read(self, tag):
        """The content bytes of the next element, which must have ``tag``."""
        _, a, b = self.next(tag)
        return bytes(self.data[a:b])

    def read_optional(self, tag):
        """Like ``read`` if the next element has ``tag``, else None (nothing consumed)."""
        if self.peek() != tag:
            return None
        return self.read(tag)

    def raw(self, tag=None):
        """The whole encoding (header and content) of the next element."""
        start = self.pos
        self.next(tag)
        return bytes(self.data[start : self.pos])

    def enter(self, tag=SEQUENCE):
        """A reader over the content of the next element (constructed)."""
        if tag & CONSTRUCTED == 0:
            raise DerError("not a constructed tag")
        _, a, b = self.next(tag)
        return Reader(self.data, a, b)

    def finish(self):
        """Check that every element was read."""
        if self.pos != self.end:
            raise DerError("unexpected trailing data")

    # typed values

    def read_bool(self):
        v = self.read(BOOLEAN)
        if len(v) != 1 or v[0] not in (0x00, 0xFF):
            raise DerError("bad BOOLEAN")
        return v[0] == 0xFF

    def read_integer_bytes(self):
        """The content octets of an INTEGER (two's complement, minimal), checked."""
        v = self.read(INTEGER)
        check_integer(v)
        return v

    def read_int(self):
        """An INTEGER as a Python int (signed)."""
        return int_from_integer(self.read_integer_bytes())

    def read_uint(self, limit):
        """A non-negative INTEGER at most ``limit``."""
        n = self.read_int()
        if n < 0 or n > limit:
            raise DerError("INTEGER out of range")
        return n

    def read_oid(self):
        v = self.read(OID)
        check_oid(v)
        return v

    def read_null(self):
        if len(self.read(NULL)) != 0:
            raise DerError("bad NULL")

    def read_octets(self):
        return self.read(OCTET_STRING)

    def read_bit_string(self):
        """``(unused_bits, bytes)`` of a BIT STRING (unused trailing bits must be zero)."""
        v = self.read(BIT_STRING)
        if len(v) == 0:
            raise DerError("empty BIT STRING")
        unused = v[0]
        if unused > 7 or (unused and len(v) == 1):
            raise DerError("bad BIT STRING padding")
        if unused and v[-1] & ((1 << unused) - 1):
            raise DerError("BIT STRING padding bits set")
        return unused, v[1:]

    def read_bytes_bit_string(self):
        """A BIT STRING holding whole bytes (keys, signatures)."""
        unused, v = self.read_bit_string()
        if unused:
            raise DerError("BIT STRING is not whole bytes")
        return v

    def read_string(self):
        """``(tag, str)`` of a UTF8String, PrintableString or IA5String, each checked."""
        t = self.peek()
        if t not in (UTF8_STRING, PRINTABLE_STRING, IA5_STRING):
            raise DerError("expected a string")
        v = self.read(t)
        return t, decode_string(t, v)

    def read_time(self):
        """A UTCTime or GeneralizedTime as seconds since the Matter epoch (may be negative)."""
        from micromatter.certs import times

        t = self.peek()
        if t not in (UTC_TIME, GENERALIZED_TIME):
            raise DerError("expected a time")
        return times.parse_der(t, self.read(t))


def check_integer(v):
    if len(v) == 0:
        raise DerError("empty INTEGER")
    if len(v) > 1 and ((v[0] == 0 and v[1] < 0x80) or (v[0] == 0xFF and v[1] >= 0x80)):
        raise DerError("non-minimal INTEGER")


def int_from_integer(v):
    n = int.from_bytes(v, "big")
    if v[0] & 0x80:
        n -= 1 << (8 * len(v))
    return n


def check_oid(v):
    if len(v) == 0:
        raise DerError("empty OID")
    if v[-1] & 0x80:
        raise DerError("truncated OID")
    start = True
    for b in v:
        if start and b == 0x80:
            raise DerError("non-minimal OID arc")
        start = b < 0x80


def _printable(c):
    return 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A or 0x30 <= c <= 0x39 or chr(c) in " '()+,-./:=?"


def decode_string(tag, v):
    """Check the character set of a string element and return it as ``str``."""
    if tag == UTF8_STRING:
        if not utf8_valid(v, 0, len(v)):
            raise DerError("bad UTF-8")
    elif tag == PRINTABLE_STRING:
        for c in v:
            if not _printable(c):
                raise DerError("bad PrintableString")
    elif tag == IA5_STRING:
        for c in v:
            if c >= 0x80:
                raise DerError("bad IA5String")
    else:
        raise DerError("unsupported string type")
    return bytes(v).decode()


def check_string(tag, text):
    """Raise ``DerError`` unless ``text`` can be encoded with string ``tag``."""
    decode_string(tag, text.encode())


# --- writing ---------------------------------------------------------------


def encode(tag, content):
    """One element: tag, minimal length, content."""
    n = len(content)
    if n < 0x80:
        head = bytes((tag, n))
    elif n < 0x100:
        head = bytes((tag, 0x81, n))
    elif n < 0x10000:
        head = bytes((tag, 0x82, n >> 8, n & 0xFF))
    elif n <= _MAX_LENGTH:
        head = bytes((tag, 0x83, n >> 16, (n >> 8) & 0xFF, n & 0xFF))
    else:
        raise DerError("content too long")
    return head + content


def sequence(*parts):
    return encode(SEQUENCE, b"".join(parts))


def set_of(*parts):
    """A SET OF: DER orders the encoded members."""
    return encode(SET, b"".join(sorted(parts)))


def integer(n):
    """An INTEGER from a Python int."""
    m = n if n >= 0 else -n - 1
    size = 1
    while m >= 0x80:
        m >>= 8
        size += 1
    if n < 0:
        n += 1 << (8 * size)
    return encode(INTEGER, n.to_bytes(size, "big"))


def integer_from_unsigned(v):
    """An INTEGER whose value is the big-endian unsigned bytes ``v`` (leading zeros dropped)."""
    i = 0
    while i < len(v) - 1 and v[i] == 0:
        i += 1
    v = bytes(v[i:])
    if len(v) == 0:
        v = b"\x00"
    if v[0] & 0x80:
        v = b"\x00" + v
    return encode(INTEGER, v)


def boolean(value):
    return b"\x01\x01\xff" if value else b"\x01\x01\x00"


def null():
    return b"\x05\x00"


def oid(value):
    """An OID element from its content bytes (see ``micromatter.certs.oids``)."""
    return encode(OID, value)


def octet_string(value):
    return encode(OCTET_STRING, value)


def bit_string(value, unused=0):
    return encode(BIT_STRING, bytes((unused,)) + value)


def string(tag, text):
    """A UTF8String, PrintableString or IA5String; the characters are checked."""
    v = text.encode()
    decode_string(tag, v)
    return encode(tag, v)


def explicit(number, content_element):
    """``[number] EXPLICIT`` around one encoded element."""
    return encode(context_tag(number), content_element)
