"""Data types of attributes and command fields, as small shared descriptors.

Scalars are small ints; structures and lists are ``Struct`` / ``List``
objects built once at import time in the cluster modules.  Values in Python:
bool, int, float, str, bytes, None (null), a dict {context tag: value} for a
structure and a list for a list.  ``micromatter.datamodel.codec`` encodes and
decodes them through ``micromatter.tlv``.
"""

from micromatter.compat import const

BOOL = const(1)
UINT8 = const(2)
UINT16 = const(3)
UINT32 = const(4)
UINT64 = const(5)
INT8 = const(6)
INT16 = const(7)
INT32 = const(8)
INT64 = const(9)
FLOAT = const(10)
DOUBLE = const(11)
UTF8 = const(12)
OCTETS = const(13)
ANY = const(14)  # undecoded: passed through as the codec's raw element

# Aliases the cluster tables read better with.
ENUM8 = UINT8
ENUM16 = UINT16
BITMAP8 = UINT8
BITMAP16 = UINT16
BITMAP32 = UINT32
FABRIC_INDEX = UINT8
ENDPOINT_NO = UINT16
CLUSTER_ID = UINT32
ATTRIBUTE_ID = UINT32
COMMAND_ID = UINT32
DEVTYPE_ID = UINT32
VENDOR_ID = UINT16
NODE_ID = UINT64
GROUP_ID = UINT16
EPOCH_US = UINT64

# Ranges of the integer types: (min, max).
INT_RANGES = {
    UINT8: (0, 0xFF),
    UINT16: (0, 0xFFFF),
    UINT32: (0, 0xFFFFFFFF),
    UINT64: (0, 0xFFFFFFFFFFFFFFFF),
    INT8: (-0x80, 0x7F),
    INT16: (-0x8000, 0x7FFF),
    INT32: (-0x80000000, 0x7FFFFFFF),
    INT64: (-0x8000000000000000, 0x7FFFFFFFFFFFFFFF),
}

# Field flags.
OPTIONAL = const(1)
NULLABLE = const(2)
SENSITIVE = const(4)  # fabric-sensitive: hidden from other fabrics in unfiltered reads

FABRIC_INDEX_TAG = const(254)


class Field:
    """One context-tagged member of a structure; ``limits`` is (min, max) of an int or of a string's length.
    Defaults on the class (see ``model.Attr``)."""

    flags = 0
    limits = None

    def __init__(self, tag, type, flags=0, limits=None):
        self.tag = tag
        self.type = type
        if flags:
            self.flags = flags
        if limits is not None:
            self.limits = limits


class Struct:
    """A structure type; ``fabric_scoped`` adds the FabricIndex field (tag 254)."""

    def __init__(self, fields, fabric_scoped=False):
        if fabric_scoped:
            fields = tuple(fields) + (Field(FABRIC_INDEX_TAG, FABRIC_INDEX),)
        self.fields = tuple(fields)
        self.fabric_scoped = fabric_scoped


class List:
    """A list (TLV array) of ``element`` values, at most ``max_items`` long when given."""

    def __init__(self, element, max_items=None):
        self.element = element
        self.max_items = max_items


EMPTY = Struct(())
