"""Matter message header and protocol header (Core Specification 4.4), in caller buffers.

Every datagram starts with the message header (sent in clear, the AAD of the
encryption); the protocol header opens the encrypted part.  Both decoders fill
a reusable object and return the bytes consumed, so the session layer can take
``buf[offset:offset + n]`` as AAD, decrypt the rest in place and decode the
protocol header from the plaintext.  Node ids stay 8-byte little-endian
buffers (wire order, as the nonce wants them): on 32-bit boards an int above
2**30 would be a heap object per message.

Allocation per decode: none, except a memoryview of the extension block when a
message carries MX/SX extensions (rare), and a big int for a counter above
2**30 on 32-bit boards.
"""

from micromatter.compat import const
from micromatter.endian import get_le, put_le
from micromatter.errors import MessageError


class HeaderTruncatedError(MessageError):
    """The buffer ends before the header does."""


class HeaderExtensionLengthError(HeaderTruncatedError):
    """A message or secured extension block claims more bytes than remain."""


class HeaderVersionError(MessageError):
    """A message header version other than 0."""


class HeaderReservedError(MessageError):
    """A reserved flag bit is set, or a reserved value is used (DSIZ 3, session type 2 or 3)."""


class HeaderInconsistentError(MessageError):
    """Flags that contradict the session type (a group message needs a source node id and a group id)."""


class HeaderFieldError(MessageError):
    """A field given to ``encode`` is out of range or of the wrong form."""


class HeaderBufferError(MessageError):
    """The buffer given to ``encode`` is too small."""


# Message flags
FLAG_SOURCE = const(0x04)  # S: source node id present
DSIZ_NONE = const(0)
DSIZ_NODE = const(1)  # 64-bit destination node id
DSIZ_GROUP = const(2)  # 16-bit destination group id
_MSG_RESERVED = const(0x08)

# Security flags
FLAG_PRIVACY = const(0x80)  # P
FLAG_CONTROL = const(0x40)  # C
FLAG_EXTENSIONS = const(0x20)  # MX
_SEC_RESERVED = const(0x1C)
SESSION_UNICAST = const(0)
SESSION_GROUP = const(1)

# Exchange flags
EX_INITIATOR = const(0x01)  # I
EX_ACK = const(0x02)  # A: acknowledged message counter present
EX_RELIABLE = const(0x04)  # R: the sender wants an acknowledgement
EX_EXTENSIONS = const(0x08)  # SX: secured extensions present
EX_VENDOR = const(0x10)  # V: vendor id present
_EX_RESERVED = const(0xE0)

# Start of the privacy-obfuscated fields (message counter onwards), from the header start.
PRIVACY_OFFSET = const(4)

_U32_END = 1 << 32
_U64_END = 1 << 64
_BUFFERS = (bytes, bytearray, memoryview)  # built once: a tuple of builtins in a call would allocate


def _bounds(buf, offset, end, size, what):
    """``end`` (None: the buffer's end) clipped to the buffer, once ``buf[offset:end]`` holds ``size`` bytes."""
    n = len(buf)
    if end is None or end > n:
        end = n
    if offset < 0 or end - offset < size:
        raise HeaderTruncatedError(what + " too short")
    return end


def _copy8(dst, buf, p):
    for i in range(8):
        dst[i] = buf[p + i]


def _check_uint(value, end, name):
    """``value`` must be an int in 0..end-1 (``end``: 1 << the field's bits)."""
    if not isinstance(value, int) or value < 0 or value >= end:
        raise HeaderFieldError(name + " must be an unsigned int below " + hex(end))


def _check_node_id(value, name):
    if isinstance(value, int):
        if value < 0 or value >= _U64_END:
            raise HeaderFieldError(name + " out of range")
    elif not isinstance(value, _BUFFERS) or len(value) != 8:
        raise HeaderFieldError(name + " must be an int or 8 little-endian bytes")


def _put_node_id(buf, p, value):
    if isinstance(value, int):
        put_le(buf, p, value, 8)
    else:
        buf[p : p + 8] = value


def _extension_size(ext):
    """Bytes an extension block takes on the wire (its 2-byte length included)."""
    if len(ext) > 0xFFFF:
        raise HeaderFieldError("extensions longer than 65535 bytes")
    return 2 + len(ext)


def _extension(buf, q, end):
    """Length of the extension block at ``q`` (its 2-byte length field included), checked against ``end``."""
    if end - q < 2:
        raise HeaderTruncatedError("truncated extension length")
    n = buf[q] | (buf[q + 1] << 8)
    if n > end - q - 2:
        raise HeaderExtensionLengthError("extensions past the end")
    return n + 2


class MessageHeader:
    """The clear-text message header.

    Fields: ``session_id``, ``session_type`` (``SESSION_UNICAST``/``SESSION_GROUP``),
    ``privacy``, ``control``, ``counter``, ``source_node_id`` and
    ``dest_node_id`` (None or 8 bytes little-endian; ``encode`` also takes an
    int), ``dest_group_id`` (None or int), ``extensions`` (None or the bytes of
    the message extensions block, without its length).

    After ``decode`` the node ids are this object's own buffers, overwritten by
    the next decode: copy them (``bytes(h.source_node_id)``) to keep them.  With
    ``privacy`` set the counter and node/group ids are still obfuscated:
    de-obfuscate ``obfuscated_length()`` bytes at ``offset + PRIVACY_OFFSET``
    in place and decode again.
    """

    def __init__(self):
        self._source = bytearray(8)
        self._dest = bytearray(8)
        self.clear()

    def clear(self):
        self.session_id = 0
        self.session_type = SESSION_UNICAST
        self.privacy = False
        self.control = False
        self.counter = 0
        self.source_node_id = None
        self.dest_node_id = None
        self.dest_group_id = None
        self.extensions = None

    def security_flags(self):
        """The security flags byte (also the first byte of the AES-CCM nonce)."""
        return (
            (FLAG_PRIVACY if self.privacy else 0)
            | (FLAG_CONTROL if self.control else 0)
            | (FLAG_EXTENSIONS if self.extensions is not None else 0)
            | self.session_type
        )

    def obfuscated_length(self):
        """Bytes covered by privacy obfuscation: counter, source node id, destination."""
        n = 12 if self.source_node_id is not None else 4
        if self.dest_node_id is not None:
            return n + 8
        return n + 2 if self.dest_group_id is not None else n

    def length(self):
        """Encoded length in bytes (``HeaderFieldError`` if the extensions cannot be encoded)."""
        n = self.obfuscated_length() + 4
        return n if self.extensions is None else n + _extension_size(self.extensions)

    def decode(self, buf, offset=0, end=None):
        """Fill this header from ``buf[offset:end]``; return the number of bytes it takes."""
        end = _bounds(buf, offset, end, 8, "message header")
        p = offset
        flags = buf[p]
        if flags & 0xF0:
            raise HeaderVersionError("message header version " + str(flags >> 4))
        if flags & _MSG_RESERVED:
            raise HeaderReservedError("reserved message flag set")
        dsiz = flags & 3
        if dsiz == 3:
            raise HeaderReservedError("reserved destination size (DSIZ 3)")
        security = buf[p + 3]
        if security & _SEC_RESERVED:
            raise HeaderReservedError("reserved security flag set")
        session_type = security & 3
        if session_type > SESSION_GROUP:
            raise HeaderReservedError("reserved session type")
        has_source = flags & FLAG_SOURCE
        if session_type == SESSION_GROUP:
            if not has_source:
                raise HeaderInconsistentError("group message without a source node id")
            if dsiz != DSIZ_GROUP:
                raise HeaderInconsistentError("group message without a group id")
        elif dsiz == DSIZ_GROUP:
            raise HeaderInconsistentError("unicast message with a group id")
        q = p + (16 if has_source else 8)
        dest = q
        if dsiz == DSIZ_NODE:
            q += 8
        elif dsiz == DSIZ_GROUP:
            q += 2
        if q > end:
            raise HeaderTruncatedError("message header too short")
        ext = _extension(buf, q, end) if security & FLAG_EXTENSIONS else 0
        # Everything checked: fill the fields.
        self.session_id = buf[p + 1] | (buf[p + 2] << 8)
        self.session_type = session_type
        self.privacy = security & FLAG_PRIVACY != 0
        self.control = security & FLAG_CONTROL != 0
        self.counter = get_le(buf, p + 4, 4)
        if has_source:
            _copy8(self._source, buf, p + 8)
            self.source_node_id = self._source
        else:
            self.source_node_id = None
        self.dest_node_id = None
        self.dest_group_id = None
        if dsiz == DSIZ_NODE:
            _copy8(self._dest, buf, dest)
            self.dest_node_id = self._dest
        elif dsiz == DSIZ_GROUP:
            self.dest_group_id = buf[dest] | (buf[dest + 1] << 8)
        self.extensions = memoryview(buf)[q + 2 : q + ext] if ext else None
        return q + ext - p

    def encode(self, buf, offset=0):
        """Write this header into ``buf`` at ``offset``; return the number of bytes written."""
        _check_uint(self.session_id, 0x10000, "session_id")
        _check_uint(self.counter, _U32_END, "counter")
        source = self.source_node_id
        dest = self.dest_node_id
        group = self.dest_group_id
        session_type = self.session_type
        if session_type != SESSION_UNICAST and session_type != SESSION_GROUP:
            raise HeaderFieldError("session_type must be unicast or group")
        if source is not None:
            _check_node_id(source, "source_node_id")
        if dest is not None:
            _check_node_id(dest, "dest_node_id")
            if group is not None:
                raise HeaderInconsistentError("both a destination node id and a group id")
        if group is not None:
            _check_uint(group, 0x10000, "dest_group_id")
        if session_type == SESSION_GROUP:
            if source is None or group is None:
                raise HeaderInconsistentError("a group message needs a source node id and a group id")
        elif group is not None:
            raise HeaderInconsistentError("unicast message with a group id")
        n = self.length()
        if offset < 0 or offset + n > len(buf):
            raise HeaderBufferError("no room for the message header")
        p = offset
        flags = DSIZ_NODE if dest is not None else DSIZ_GROUP if group is not None else DSIZ_NONE
        if source is not None:
            flags |= FLAG_SOURCE
        buf[p] = flags
        buf[p + 1] = self.session_id & 0xFF
        buf[p + 2] = self.session_id >> 8
        buf[p + 3] = self.security_flags()
        put_le(buf, p + 4, self.counter, 4)
        q = p + 8
        if source is not None:
            _put_node_id(buf, q, source)
            q += 8
        if dest is not None:
            _put_node_id(buf, q, dest)
            q += 8
        elif group is not None:
            buf[q] = group & 0xFF
            buf[q + 1] = group >> 8
            q += 2
        if self.extensions is not None:
            q = _put_extension(buf, q, self.extensions)
        return q - p


def _put_extension(buf, q, ext):
    n = len(ext)
    buf[q] = n & 0xFF
    buf[q + 1] = n >> 8
    q += 2
    buf[q : q + n] = ext
    return q + n


class ProtocolHeader:
    """The protocol (exchange) header at the start of the decrypted payload.

    Fields: ``initiator`` (I), ``reliable`` (R), ``ack_counter`` (None or the
    acknowledged counter: A), ``vendor_id`` (None for the common vendor, or V's
    vendor id), ``protocol_id``, ``opcode``, ``exchange_id``, ``extensions``
    (None or the secured extensions bytes, without their length: SX).
    """

    def __init__(self):
        self.clear()

    def clear(self):
        self.initiator = False
        self.reliable = False
        self.ack_counter = None
        self.vendor_id = None
        self.protocol_id = 0
        self.opcode = 0
        self.exchange_id = 0
        self.extensions = None

    def exchange_flags(self):
        return (
            (EX_INITIATOR if self.initiator else 0)
            | (EX_ACK if self.ack_counter is not None else 0)
            | (EX_RELIABLE if self.reliable else 0)
            | (EX_EXTENSIONS if self.extensions is not None else 0)
            | (EX_VENDOR if self.vendor_id is not None else 0)
        )

    def length(self):
        """Encoded length in bytes (``HeaderFieldError`` if the extensions cannot be encoded)."""
        n = 6
        if self.vendor_id is not None:
            n += 2
        if self.ack_counter is not None:
            n += 4
        return n if self.extensions is None else n + _extension_size(self.extensions)

    def decode(self, buf, offset=0, end=None):
        """Fill this header from ``buf[offset:end]``; return the number of bytes it takes."""
        end = _bounds(buf, offset, end, 6, "protocol header")
        p = offset
        flags = buf[p]
        if flags & _EX_RESERVED:
            raise HeaderReservedError("reserved exchange flag set")
        q = p + 4
        vendor = q
        if flags & EX_VENDOR:
            q += 2
        protocol = q
        q += 2
        ack = q
        if flags & EX_ACK:
            q += 4
        if q > end:
            raise HeaderTruncatedError("protocol header too short")
        ext = _extension(buf, q, end) if flags & EX_EXTENSIONS else 0
        self.initiator = flags & EX_INITIATOR != 0
        self.reliable = flags & EX_RELIABLE != 0
        self.opcode = buf[p + 1]
        self.exchange_id = buf[p + 2] | (buf[p + 3] << 8)
        self.vendor_id = buf[vendor] | (buf[vendor + 1] << 8) if flags & EX_VENDOR else None
        self.protocol_id = buf[protocol] | (buf[protocol + 1] << 8)
        self.ack_counter = get_le(buf, ack, 4) if flags & EX_ACK else None
        self.extensions = memoryview(buf)[q + 2 : q + ext] if ext else None
        return q + ext - p

    def encode(self, buf, offset=0):
        """Write this header into ``buf`` at ``offset``; return the number of bytes written."""
        _check_uint(self.exchange_id, 0x10000, "exchange_id")
        _check_uint(self.protocol_id, 0x10000, "protocol_id")
        if not isinstance(self.opcode, int) or self.opcode < 0 or self.opcode > 0xFF:
            raise HeaderFieldError("opcode must be an unsigned 8-bit int")
        vendor = self.vendor_id
        if vendor is not None:
            _check_uint(vendor, 0x10000, "vendor_id")
        ack = self.ack_counter
        if ack is not None:
            _check_uint(ack, _U32_END, "ack_counter")
        n = self.length()
        if offset < 0 or offset + n > len(buf):
            raise HeaderBufferError("no room for the protocol header")
        p = offset
        buf[p] = self.exchange_flags()
        buf[p + 1] = self.opcode
        buf[p + 2] = self.exchange_id & 0xFF
        buf[p + 3] = self.exchange_id >> 8
        q = p + 4
        if vendor is not None:
            buf[q] = vendor & 0xFF
            buf[q + 1] = vendor >> 8
            q += 2
        buf[q] = self.protocol_id & 0xFF
        buf[q + 1] = self.protocol_id >> 8
        q += 2
        if ack is not None:
            put_le(buf, q, ack, 4)
            q += 4
        if self.extensions is not None:
            q = _put_extension(buf, q, self.extensions)
        return q - p
