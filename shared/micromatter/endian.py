"""Little-endian unsigned integers read from and written into caller buffers.

Matter puts every multi-byte integer on the wire little-endian.  These loops
work on ``bytes``, ``bytearray`` and ``memoryview`` at an offset and allocate
nothing for values that fit a small int (below 2**30 on 32-bit boards), unlike
``int.from_bytes(buf[a:b], ...)`` which copies a slice first.  Callers check
bounds: an index past the end raises ``IndexError`` here.
"""


def get_le(buf, offset, width):
    """The unsigned integer in ``buf[offset:offset + width]``."""
    value = 0
    i = offset + width
    while i > offset:
        i -= 1
        value = (value << 8) | buf[i]
    return value


def put_le(buf, offset, value, width):
    """Write the low ``width`` bytes of ``value`` (two's complement if negative) at ``offset``."""
    end = offset + width
    while offset < end:
        buf[offset] = value & 0xFF
        value >>= 8
        offset += 1
