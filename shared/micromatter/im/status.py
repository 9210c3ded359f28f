"""Interaction Model status codes (Matter Core spec 8.10) and the exception that carries one.

Handlers raise ``StatusError`` to answer a path with a status instead of data;
the engine turns it into an AttributeStatusIB / CommandStatusIB.
"""

from micromatter.compat import const
from micromatter.errors import ProtocolError

SUCCESS = const(0x00)
FAILURE = const(0x01)
INVALID_SUBSCRIPTION = const(0x7D)
UNSUPPORTED_ACCESS = const(0x7E)
UNSUPPORTED_ENDPOINT = const(0x7F)
INVALID_ACTION = const(0x80)
UNSUPPORTED_COMMAND = const(0x81)
INVALID_COMMAND = const(0x85)
UNSUPPORTED_ATTRIBUTE = const(0x86)
CONSTRAINT_ERROR = const(0x87)
UNSUPPORTED_WRITE = const(0x88)
RESOURCE_EXHAUSTED = const(0x89)
NOT_FOUND = const(0x8B)
UNREPORTABLE_ATTRIBUTE = const(0x8C)
INVALID_DATA_TYPE = const(0x8D)
UNSUPPORTED_READ = const(0x8F)
DATA_VERSION_MISMATCH = const(0x92)
TIMEOUT = const(0x94)
BUSY = const(0x9C)
ACCESS_RESTRICTED = const(0x9D)
UNSUPPORTED_CLUSTER = const(0xC3)
NO_UPSTREAM_SUBSCRIPTION = const(0xC5)
NEEDS_TIMED_INTERACTION = const(0xC6)
UNSUPPORTED_EVENT = const(0xC7)
PATHS_EXHAUSTED = const(0xC8)
TIMED_REQUEST_MISMATCH = const(0xC9)
FAILSAFE_REQUIRED = const(0xCA)
INVALID_IN_STATE = const(0xCB)
NO_COMMAND_RESPONSE = const(0xCC)
DYNAMIC_CONSTRAINT_ERROR = const(0xCF)
ALREADY_EXISTS = const(0xD0)
INVALID_TRANSPORT_TYPE = const(0xD1)


class StatusError(ProtocolError):
    """A request (or one path of it) is answered with ``status`` (and an optional cluster-specific status)."""

    def __init__(self, status, cluster_status=None, message=""):
        super().__init__(message or ("IM status 0x%02x" % status))
        self.status = status
        self.cluster_status = cluster_status


class MalformedMessageError(ProtocolError):
    """An IM message does not follow its TLV schema (answered with INVALID_ACTION)."""
