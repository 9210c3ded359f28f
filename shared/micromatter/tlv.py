"""Matter TLV (Core Specification, appendix A): a writer and a zero-copy reader.

Every Matter payload (secure channel, certificates, interaction model) is TLV,
so both directions work in caller buffers: the writer fills a preallocated
``bytearray`` at an offset (or grows its own, for handshakes), the reader walks
``bytes``/``bytearray``/``memoryview`` without copying and decodes integers and
booleans in place.

Tags: ``None`` is anonymous; a plain ``int`` 0..255 is a context tag (the
common case, cheap to compare); a 3-tuple ``(vendor_id, profile, number)`` is a
profile tag: ``(0, 0, n)`` is the Matter common profile, ``(None, None, n)`` the
implicit profile, anything else fully qualified.  The writer picks the shortest
tag form and, unless told a width, the shortest integer width.

Malformed input raises a subclass of ``TlvError``; nothing else escapes the
reader.  After an error a reader or writer is in an unspecified state.
"""

from struct import pack_into, unpack_from

from micromatter.compat import const
from micromatter.endian import get_le, put_le
from micromatter.errors import TlvError

# --- errors ---------------------------------------------------------------


class TlvTruncatedError(TlvError):
    """An element's control byte, tag or value runs past the end of the buffer."""


class TlvLengthError(TlvTruncatedError):
    """A string's length field points past the end of the buffer."""


class TlvElementTypeError(TlvError):
    """A reserved element type (0x19..0x1F)."""


class TlvTagError(TlvError):
    """A tag that is not allowed where it stands, or that cannot be encoded."""


class TlvUnterminatedError(TlvError):
    """The buffer ended inside a container."""


class TlvUnexpectedEndError(TlvError):
    """An end-of-container outside any container."""


class TlvDepthError(TlvError):
    """Containers nested deeper than ``MAX_DEPTH``."""


class TlvUtf8Error(TlvError):
    """A UTF-8 string element that is not valid UTF-8."""


class TlvRangeError(TlvError):
    """A value that does not fit the element type or width asked for."""


class TlvBufferFullError(TlvError):
    """The writer's buffer has no room for the element (nothing of it was written)."""


class TlvDuplicateTagError(TlvError):
    """A structure holds the same tag twice."""


class TlvTrailingDataError(TlvError):
    """Bytes after the single element ``decode`` expects."""


class TlvWrongTypeError(TlvError):
    """The element is not of the type the caller asked for."""


class TlvStateError(TlvError):
    """A call that does not fit the reader's or writer's position (enter on a scalar, exit at top level...)."""


# --- element kinds (what the reader reports in ``type``) -------------------

INT = const(0)
UINT = const(1)
BOOL = const(2)
FLOAT = const(3)
UTF8 = const(4)
BYTES = const(5)
NULL = const(6)
STRUCT = const(7)
ARRAY = const(8)
LIST = const(9)
_END = const(10)
_RESERVED = const(255)
_TOP = const(11)  # the "container" kind of the top level: any tag allowed

# Containers nest at most this deep; deeper input is rejected, so walking is bounded.
MAX_DEPTH = const(16)

# Kind of each element type (low 5 bits of the control byte).
_KINDS = bytes(
    (INT, INT, INT, INT, UINT, UINT, UINT, UINT, BOOL, BOOL, FLOAT, FLOAT, UTF8, UTF8, UTF8, UTF8)
    + (BYTES, BYTES, BYTES, BYTES, NULL, STRUCT, ARRAY, LIST, _END)
    + (_RESERVED,) * 7
)
# Bytes of tag after the control byte, by tag control (high 3 bits).
_TAG_SIZE = b"\x00\x01\x02\x04\x02\x04\x06\x08"

_ET_INT = const(0x00)
_ET_UINT = const(0x04)
_ET_FALSE = const(0x08)
_ET_FLOAT32 = const(0x0A)
_ET_FLOAT64 = const(0x0B)
_ET_UTF8 = const(0x0C)
_ET_BYTES = const(0x10)
_ET_NULL = const(0x14)
_ET_STRUCT = const(0x15)
_ET_ARRAY = const(0x16)
_ET_LIST = const(0x17)
_ET_END = const(0x18)

_U64_END = 1 << 64
_I64_MIN = -(1 << 63)
_I64_END = 1 << 63
_BUFFERS = (bytes, bytearray, memoryview)
_SEQUENCES = (list, tuple)


def common_tag(number):
    """A tag in the Matter common profile."""
    return (0, 0, number)


def implicit_tag(number):
    """A tag in the implicit profile (the profile the context implies)."""
    return (None, None, number)


def profile_tag(vendor_id, profile, number):
    """A fully qualified tag."""
    return (vendor_id, profile, number)


def utf8_valid(buf, start, end):
    """True if ``buf[start:end]`` is well-formed UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF).

    Both runtimes get the same answer (MicroPython's decoder alone accepts overlongs and surrogates)."""
    i = start
    while i < end:
        c = buf[i]
        i += 1
        if c < 0x80:
            continue
        if c < 0xC2 or c > 0xF4:
            return False
        n = 1 if c < 0xE0 else 2 if c < 0xF0 else 3
        if i + n > end:
            return False
        lo = 0x80
        hi = 0xBF
        if c == 0xE0:
            lo = 0xA0
        elif c == 0xED:
            hi = 0x9F
        elif c == 0xF0:
            lo = 0x90
        elif c == 0xF4:
            hi = 0x8F
        c = buf[i]
        if c < lo or c > hi:
            return False
        k = i + 1
        i += n
        while k < i:
            if buf[k] & 0xC0 != 0x80:
                return False
            k += 1
    return True


def _profile_tag(buf, p, tag_control):
    if tag_control == 2:
        return (0, 0, buf[p] | (buf[p + 1] << 8))
    if tag_control == 3:
        return (0, 0, get_le(buf, p, 4))
    if tag_control == 4:
        return (None, None, buf[p] | (buf[p + 1] << 8))
    if tag_control == 5:
        return (None, None, get_le(buf, p, 4))
    return (get_le(buf, p, 2), get_le(buf, p + 2, 2), get_le(buf, p + 4, 2 if tag_control == 6 else 4))


# --- reader ---------------------------------------------------------------


class TlvReader:
    """Walks TLV in place.

    ``next()`` steps to the next element of the current container and sets
    ``tag``, ``type`` (a kind: ``INT``, ``UINT``, ``BOOL``, ``FLOAT``,
    ``UTF8``, ``BYTES``, ``NULL``, ``STRUCT``, ``ARRAY``, ``LIST``) and
    ``value`` (ints, bools and floats decoded; ``None`` otherwise).  For
    strings ``length`` is set and ``bytes()``/``str()``/``view()`` give the
    content.  A container is entered with ``enter()``; if it is not, the next
    ``next()`` skips it whole.  ``exit()`` skips the rest of the current
    container.  Only the memoryview returned by ``bytes()``/``view()``,
    profile tags, floats and big ints allocate.
    """

    def __init__(self, buf, start=0, end=None):
        self._kinds = [_TOP] * (MAX_DEPTH + 1)
        self._starts = [0] * (MAX_DEPTH + 1)
        self.buf = None
        self.reset(buf, start, end)

    def reset(self, buf, start=0, end=None):
        """Walk ``buf[start:end]`` from its beginning (reuses this reader: no allocation for the same buffer)."""
        if buf is not self.buf:
            self.buf = buf
            self._mv = memoryview(buf)
        n = len(buf)
        if end is None or end > n:
            end = n
        if start < 0 or start > end:
            raise TlvStateError("bad start")
        self.start = start
        self.end = end
        self.pos = start
        self.depth = 0
        self._open = False  # current element is a container not entered
        self._done = False  # at the end of the current container
        self.tag = None
        self.type = None
        self.value = None
        self.control = 0
        self.length = 0
        self.vstart = 0

    def next(self):
        """Step to the next element of the current container; False at its end (or the end of the data)."""
        if self._open:
            self._skip()
        elif self._done:
            return False
        depth = self.depth
        if self.pos >= self.end:
            if depth:
                raise TlvUnterminatedError("container not closed")
            self._done = True
            return False
        kind = self._read(self._kinds[depth])
        if kind == _END:
            if not depth:
                raise TlvUnexpectedEndError("end of container at top level")
            self._done = True
            return False
        self._open = kind >= STRUCT
        return True

    def enter(self, kind=None):
        """Enter the current container (optionally checking it is a ``STRUCT``, ``ARRAY`` or ``LIST``)."""
        if not self._open:
            raise TlvStateError("not on a container")
        if kind is not None and kind != self.type:
            raise TlvWrongTypeError("unexpected container type")
        depth = self.depth + 1
        if depth > MAX_DEPTH:
            raise TlvDepthError("nesting too deep")
        self._kinds[depth] = self.type
        self._starts[depth] = self.pos
        self.depth = depth
        self._open = False
        self._done = False

    def exit(self):
        """Skip what is left of the current container and step out of it."""
        if not self.depth:
            raise TlvStateError("not in a container")
        while self.next():
            pass
        self.depth -= 1
        self._done = False

    def find(self, tag):
        """Position on the element with ``tag`` in the current container, searching from its start.

        False (and positioned at the container's end) if there is none."""
        depth = self.depth
        self.pos = self._starts[depth] if depth else self.start
        self._open = False
        self._done = False
        while self.next():
            if self.tag == tag:
                return True
        return False

    # -- typed access to the current element --

    def int(self):
        if self.type != INT:
            raise TlvWrongTypeError("not a signed integer")
        return self.value

    def uint(self):
        if self.type != UINT:
            raise TlvWrongTypeError("not an unsigned integer")
        return self.value

    def bool(self):
        if self.type != BOOL:
            raise TlvWrongTypeError("not a boolean")
        return self.value

    def float(self):
        if self.type != FLOAT:
            raise TlvWrongTypeError("not a float")
        return self.value

    def bytes(self):
        """A memoryview of the byte string (valid while the buffer is)."""
        if self.type != BYTES:
            raise TlvWrongTypeError("not a byte string")
        return self._mv[self.vstart : self.vstart + self.length]

    def str(self):
        """The UTF-8 string, validated and decoded (allocates)."""
        if self.type != UTF8:
            raise TlvWrongTypeError("not a UTF-8 string")
        start = self.vstart
        end = start + self.length
        if not utf8_valid(self.buf, start, end):
            raise TlvUtf8Error("invalid UTF-8")
        return str(self._mv[start:end], "utf-8")

    def view(self):
        """A memoryview of the raw content of a string of either kind (no validation)."""
        if self.type != BYTES and self.type != UTF8:
            raise TlvWrongTypeError("not a string")
        return self._mv[self.vstart : self.vstart + self.length]

    def width(self):
        """Encoded width in bytes of the current int or float value, or of a string's length field."""
        return 1 << (self.control & 3)

    # -- internals --

    def _skip(self):
        """Move past the current (not entered) container, checking everything in it."""
        base = self.depth
        level = base + 1
        if level > MAX_DEPTH:
            raise TlvDepthError("nesting too deep")
        kinds = self._kinds
        kinds[level] = self.type
        while True:
            kind = self._read(kinds[level])
            if kind == _END:
                level -= 1
                if level == base:
                    break
            elif kind >= STRUCT:
                level += 1
                if level > MAX_DEPTH:
                    raise TlvDepthError("nesting too deep")
                kinds[level] = kind
        self._open = False

    def _read(self, parent):
        """Parse the element at ``pos`` inside a container of kind ``parent``; return its kind."""
        buf = self.buf
        p = self.pos
        end = self.end
        if p >= end:
            raise TlvUnterminatedError("container not closed")
        c = buf[p]
        kind = _KINDS[c & 0x1F]
        if kind == _RESERVED:
            raise TlvElementTypeError("reserved element type")
        tag_control = c >> 5
        p += 1
        if kind == _END:
            if tag_control:
                raise TlvTagError("end of container with a tag")
            self.pos = p
            return kind
        if tag_control == 1:
            if p >= end:
                raise TlvTruncatedError("truncated tag")
            if parent == ARRAY:
                raise TlvTagError("tagged element in an array")
            tag = buf[p]
            p += 1
        elif tag_control == 0:
            if parent == STRUCT:
                raise TlvTagError("anonymous element in a structure")
            tag = None
        else:
            if parent == ARRAY:
                raise TlvTagError("tagged element in an array")
            n = _TAG_SIZE[tag_control]
            if p + n > end:
                raise TlvTruncatedError("truncated tag")
            tag = _profile_tag(buf, p, tag_control)
            p += n
        value = None
        if kind <= UINT:
            n = 1 << (c & 3)
            if p + n > end:
                raise TlvTruncatedError("truncated integer")
            if n == 1:
                value = buf[p]
                if kind == INT and value > 0x7F:
                    value -= 0x100
            else:
                value = get_le(buf, p, n)
                if kind == INT and buf[p + n - 1] & 0x80:
                    value -= 1 << (n << 3)
            p += n
        elif kind == BOOL:
            value = c & 1 == 1
        elif kind == UTF8 or kind == BYTES:
            n = 1 << (c & 3)
            if p + n > end:
                raise TlvTruncatedError("truncated length")
            length = buf[p] if n == 1 else get_le(buf, p, n)
            p += n
            if length > end - p:
                raise TlvLengthError("string past the end")
            self.vstart = p
            self.length = length
            p += length
        elif kind == FLOAT:
            if c & 1:
                if p + 8 > end:
                    raise TlvTruncatedError("truncated float")
                value = unpack_from("<d", buf, p)[0]
                p += 8
            else:
                if p + 4 > end:
                    raise TlvTruncatedError("truncated float")
                value = unpack_from("<f", buf, p)[0]
                p += 4
        self.tag = tag
        self.type = kind
        self.value = value
        self.control = c
        self.pos = p
        return kind


# --- decoded containers ---------------------------------------------------


class Struct:
    """A decoded TLV structure: members in wire order, looked up by tag; a tag appears once."""

    def __init__(self, members=()):
        self._tags = []
        self._values = {}
        for tag, value in members:
            self.add(tag, value)

    def add(self, tag, value):
        if tag in self._values:
            raise TlvDuplicateTagError("duplicate tag in a structure")
        self._tags.append(tag)
        self._values[tag] = value

    def __getitem__(self, tag):
        return self._values[tag]

    def get(self, tag, default=None):
        return self._values.get(tag, default)

    def __contains__(self, tag):
        return tag in self._values

    def __len__(self):
        return len(self._tags)

    def __iter__(self):
        return iter(self._tags)

    def keys(self):
        return list(self._tags)

    def items(self):
        return [(tag, self._values[tag]) for tag in self._tags]

    def __eq__(self, other):
        """Equal to any mapping with the same tags and values (order aside, as dicts compare)."""
        if not hasattr(other, "items") or len(other) != len(self._tags):
            return False
        for tag, value in other.items():
            if tag not in self._values or self._values[tag] != value:
                return False
        return True

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "Struct(" + repr(self.items()) + ")"


class List(list):
    """A decoded TLV list: ``(tag, value)`` pairs in wire order (tags may repeat or be ``None``)."""


# --- writer ---------------------------------------------------------------


def _min_width(value):
    """Smallest of 1/2/4/8 bytes holding ``value`` (an unsigned magnitude)."""
    if value < 0x100:
        return 1
    if value < 0x10000:
        return 2
    if value < 0x100000000:
        return 4
    return 8


class TlvWriter:
    """Writes TLV into ``buf[offset:end]`` (a caller's preallocated bytearray) or, with no buffer, into its own growing one.

    Each element is written whole or not at all: on ``TlvBufferFullError``
    ``pos`` is unchanged, so a caller can close what it has (``rewind`` to a
    saved ``pos``/``depth`` first if needed) and send the rest later.
    """

    def __init__(self, buf=None, offset=0, end=None):
        self._kinds = [_TOP] * (MAX_DEPTH + 1)
        self.reset(buf, offset, end)

    def reset(self, buf=None, offset=0, end=None):
        """Start over in ``buf[offset:end]`` (or a new growing buffer): reusing a writer allocates nothing."""
        self._grows = buf is None
        if buf is None:
            buf = bytearray(64)
            offset = 0
        n = len(buf)
        if end is None or end > n:
            end = n
        if offset < 0 or offset > end:
            raise TlvStateError("bad offset")
        self.buf = buf
        self.start = offset
        self.pos = offset
        self.end = end
        self.depth = 0

    def getvalue(self):
        """The bytes written so far (all containers must be closed); copied once, through a view (slicing the
        bytearray would copy them twice)."""
        if self.depth:
            raise TlvStateError("container still open")
        return bytes(memoryview(self.buf)[self.start : self.pos])

    def rewind(self, pos, depth):
        """Go back to a ``pos``/``depth`` saved earlier from this writer, dropping what came after."""
        if pos < self.start or pos > self.pos or depth < 0 or depth > self.depth:
            raise TlvStateError("bad rewind")
        self.pos = pos
        self.depth = depth

    # -- typed elements --

    def int(self, tag, value, width=0):
        """A signed integer, in ``width`` bytes (1, 2, 4, 8) or the fewest that hold it."""
        if value < _I64_MIN or value >= _I64_END:
            raise TlvRangeError("signed integer out of range")
        magnitude = (-value - 1) << 1 if value < 0 else value << 1
        n = _min_width(magnitude)
        if width:
            n = self._width(n, width)
        p = self._element(tag, _ET_INT | _WIDTH_CODE[n], n)
        put_le(self.buf, p, value, n)

    def uint(self, tag, value, width=0):
        """An unsigned integer, in ``width`` bytes (1, 2, 4, 8) or the fewest that hold it."""
        if value < 0 or value >= _U64_END:
            raise TlvRangeError("unsigned integer out of range")
        n = _min_width(value)
        if width:
            n = self._width(n, width)
        p = self._element(tag, _ET_UINT | _WIDTH_CODE[n], n)
        put_le(self.buf, p, value, n)

    def bool(self, tag, value):
        self._element(tag, _ET_FALSE | (1 if value else 0), 0)

    def null(self, tag):
        self._element(tag, _ET_NULL, 0)

    def float32(self, tag, value):
        p = self._element(tag, _ET_FLOAT32, 4)
        pack_into("<f", self.buf, p, value)

    def float64(self, tag, value):
        p = self._element(tag, _ET_FLOAT64, 8)
        pack_into("<d", self.buf, p, value)

    def bytes(self, tag, data):
        """A byte string (any bytes-like ``data``)."""
        self._string(tag, _ET_BYTES, data)

    def str(self, tag, text):
        """A UTF-8 string: a ``str``, or bytes already in UTF-8 (checked)."""
        if isinstance(text, str):
            text = text.encode()
        elif not utf8_valid(text, 0, len(text)):
            raise TlvUtf8Error("invalid UTF-8")
        self._string(tag, _ET_UTF8, text)

    def start_struct(self, tag):
        self._start(tag, _ET_STRUCT, STRUCT)

    def start_array(self, tag):
        self._start(tag, _ET_ARRAY, ARRAY)

    def start_list(self, tag):
        self._start(tag, _ET_LIST, LIST)

    def end_container(self):
        if not self.depth:
            raise TlvStateError("no open container")
        p = self._room(1)
        self.buf[p] = _ET_END
        self.pos = p + 1
        self.depth -= 1

    def put(self, tag, value):
        """Write a Python value: None, bool, int (unsigned if >= 0, else signed), float (64-bit),
        str, bytes-like, a mapping (structure, in its order), ``List`` of (tag, value), list/tuple (array)."""
        if value is None:
            self.null(tag)
        elif value is True or value is False:
            self.bool(tag, value)
        elif isinstance(value, int):
            if value < 0:
                self.int(tag, value)
            else:
                self.uint(tag, value)
        elif isinstance(value, float):
            self.float64(tag, value)
        elif isinstance(value, str):
            self.str(tag, value)
        elif isinstance(value, _BUFFERS):
            self.bytes(tag, value)
        elif isinstance(value, List):
            self.start_list(tag)
            for member_tag, member in value:
                self.put(member_tag, member)
            self.end_container()
        elif isinstance(value, _SEQUENCES):
            self.start_array(tag)
            for member in value:
                self.put(None, member)
            self.end_container()
        elif hasattr(value, "items"):
            self.start_struct(tag)
            for member_tag, member in value.items():
                self.put(member_tag, member)
            self.end_container()
        else:
            raise TlvRangeError("no TLV type for " + type(value).__name__)

    # -- internals --

    def _width(self, needed, width):
        if width != 1 and width != 2 and width != 4 and width != 8:
            raise TlvRangeError("width must be 1, 2, 4 or 8")
        if width < needed:
            raise TlvRangeError("value does not fit the width")
        return width

    def _string(self, tag, element_type, data):
        length = len(data)
        n = _min_width(length)
        p = self._element(tag, element_type | _WIDTH_CODE[n], n + length)
        buf = self.buf
        put_le(buf, p, length, n)
        p += n
        buf[p : p + length] = data

    def _start(self, tag, element_type, kind):
        depth = self.depth + 1
        if depth > MAX_DEPTH:
            raise TlvDepthError("nesting too deep")
        self._element(tag, element_type, 0)
        self._kinds[depth] = kind
        self.depth = depth

    def _room(self, n):
        p = self.pos
        if p + n > self.end:
            if not self._grows:
                raise TlvBufferFullError("no room in the buffer")
            grow = max(len(self.buf), p + n - self.end)
            self.buf.extend(bytearray(grow))
            self.end = len(self.buf)
        return p

    def _element(self, tag, element_type, size):
        """Write control byte and tag for an element with ``size`` bytes of value; return where the value goes."""
        parent = self._kinds[self.depth]
        if tag is None:
            if parent == STRUCT:
                raise TlvTagError("anonymous element in a structure")
            p = self._room(1 + size)
            self.buf[p] = element_type
            self.pos = p + 1 + size
            return p + 1
        if parent == ARRAY:
            raise TlvTagError("tagged element in an array")
        if isinstance(tag, int):
            if tag < 0 or tag > 0xFF:
                raise TlvTagError("context tag out of range")
            p = self._room(2 + size)
            buf = self.buf
            buf[p] = 0x20 | element_type
            buf[p + 1] = tag
            self.pos = p + 2 + size
            return p + 2
        if not isinstance(tag, tuple) or len(tag) != 3:
            raise TlvTagError("tag must be None, an int or a (vendor, profile, number) tuple")
        vendor, profile, number = tag
        if not isinstance(number, int) or number < 0 or number > 0xFFFFFFFF:
            raise TlvTagError("tag number out of range")
        long_number = number > 0xFFFF
        if vendor is None and profile is None:
            control = 0xA0 if long_number else 0x80
        elif vendor == 0 and profile == 0:
            control = 0x60 if long_number else 0x40
        elif (
            isinstance(vendor, int)
            and isinstance(profile, int)
            and 0 <= vendor <= 0xFFFF
            and 0 <= profile <= 0xFFFF
        ):
            control = 0xE0 if long_number else 0xC0
        else:
            raise TlvTagError("bad profile tag")
        tag_size = _TAG_SIZE[control >> 5]
        p = self._room(1 + tag_size + size)
        buf = self.buf
        buf[p] = control | element_type
        q = p + 1
        if control >= 0xC0:
            put_le(buf, q, vendor, 2)
            put_le(buf, q + 2, profile, 2)
            q += 4
        put_le(buf, q, number, 4 if long_number else 2)
        self.pos = p + 1 + tag_size + size
        return p + 1 + tag_size


# Low 2 bits of the element type for a 1/2/4/8-byte value or length.
_WIDTH_CODE = b"\x00\x00\x01\x00\x02\x00\x00\x00\x03"


# --- conveniences (allocate freely: handshakes and tests) -----------------


def encode(value, tag=None):
    """The TLV bytes of one Python value (see ``TlvWriter.put``)."""
    w = TlvWriter()
    w.put(tag, value)
    return w.getvalue()


def decode(buf, start=0, end=None):
    """The Python value of the single element in ``buf[start:end]``.

    Structures become ``Struct``, arrays ``list``, lists ``List`` of (tag, value),
    byte strings ``bytes``, UTF-8 strings ``str``."""
    r = TlvReader(buf, start, end)
    if not r.next():
        raise TlvTruncatedError("no element")
    value = _value(r)
    if r.next():
        raise TlvTrailingDataError("data after the element")
    return value


def _value(r):
    kind = r.type
    if kind < UTF8 or kind == NULL:
        return r.value
    if kind == UTF8:
        return r.str()
    if kind == BYTES:
        return bytes(r.view())
    r.enter()
    if kind == STRUCT:
        out = Struct()
        while r.next():
            tag = r.tag
            out.add(tag, _value(r))
    elif kind == LIST:
        out = List()
        while r.next():
            tag = r.tag
            out.append((tag, _value(r)))
    else:
        out = []
        while r.next():
            out.append(_value(r))
    r.exit()
    return out
