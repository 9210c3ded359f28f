"""Attribute and command definitions: the tables every cluster class declares once.

Instances of a cluster share their class's tables, so a node costs memory for
its values only, never for its schema.
"""

from micromatter.compat import const
from micromatter.im.acl import VIEW, OPERATE
from micromatter.datamodel import types as T

# Attribute flags.
WRITABLE = const(1)
NULLABLE = const(2)
FABRIC_SCOPED = const(4)  # a list of fabric-scoped structs: filtered and written per fabric
TIMED_WRITE = const(8)
PERSIST = const(16)  # stored through the node's storage on every write
FIXED = const(32)  # never changes (no reports needed)

# Command flags.
TIMED = const(1)
FABRIC_COMMAND = const(2)  # needs an accessing fabric (UNSUPPORTED_ACCESS without one)


class Attr:
    """An attribute: id, the cluster instance's Python attribute ``name`` holding its value, type, flags,
    read/write privileges and optional limits (int range, or string/list length range).

    The defaults live on the class and an instance keeps only the values that differ: the node holds ~270
    of these descriptors (Attr, Cmd, types.Field, ...) and on MicroPython every instance attribute costs a
    slot of its dictionary (16 bytes on the x64 unix port)."""

    flags = 0
    read = VIEW
    write = OPERATE
    limits = None

    def __init__(self, id, name, type, flags=0, read=VIEW, write=OPERATE, limits=None):
        self.id = id
        self.name = name
        self.type = type
        if flags:
            self.flags = flags
        if read != VIEW:
            self.read = read
        if write != OPERATE:
            self.write = write
        if limits is not None:
            self.limits = limits

    @property
    def is_list(self):
        return isinstance(self.type, T.List)


class Cmd:
    """A command: id, handler method ``name``, request struct, the response command (id, struct) if any,
    invoke privilege and flags (defaults on the class, as for ``Attr``)."""

    request = T.EMPTY
    response_id = None
    response = None
    invoke = OPERATE
    flags = 0

    def __init__(self, id, name, request=T.EMPTY, response_id=None, response=None, invoke=OPERATE, flags=0):
        self.id = id
        self.name = name
        if request is not T.EMPTY:
            self.request = request
        if response_id is not None:
            self.response_id = response_id
        if response is not None:
            self.response = response
        if invoke != OPERATE:
            self.invoke = invoke
        if flags:
            self.flags = flags


# Event priorities.
DEBUG = const(0)
INFO = const(1)
CRITICAL = const(2)


class Event:
    """An event: id, name, the struct of its fields, priority, read privilege, and whether it is
    fabric-sensitive (then only the fabric it concerns sees it)."""

    def __init__(self, id, name, type=T.EMPTY, priority=INFO, read=VIEW, fabric_sensitive=False):
        self.id = id
        self.name = name
        self.type = type
        self.priority = priority
        self.read = read
        self.fabric_sensitive = fabric_sensitive


# Global attributes (Matter Core spec 7.13): every cluster has them.  EventList was withdrawn in 1.3.
GENERATED_COMMAND_LIST = const(0xFFF8)
ACCEPTED_COMMAND_LIST = const(0xFFF9)
ATTRIBUTE_LIST = const(0xFFFB)
FEATURE_MAP = const(0xFFFC)
CLUSTER_REVISION = const(0xFFFD)

GLOBAL_ATTRIBUTES = (
    Attr(GENERATED_COMMAND_LIST, "generated_command_list", T.List(T.COMMAND_ID), FIXED),
    Attr(ACCEPTED_COMMAND_LIST, "accepted_command_list", T.List(T.COMMAND_ID), FIXED),
    Attr(ATTRIBUTE_LIST, "attribute_list", T.List(T.ATTRIBUTE_ID), FIXED),
    Attr(FEATURE_MAP, "feature_map", T.BITMAP32, FIXED),
    Attr(CLUSTER_REVISION, "cluster_revision", T.UINT16, FIXED),
)
