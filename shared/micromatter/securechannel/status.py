"""StatusReport messages (Matter Core spec, appendix D) and the secure channel's status codes.

A report is general code (u16) | protocol id (u32: vendor id << 16 | protocol) | protocol code (u16)
| protocol data (the rest), little-endian.  Every handshake ends with one; Busy carries the minimum
time to wait before retrying (u16 ms) as its protocol data.
"""

from micromatter.compat import const
from micromatter.endian import get_le, put_le
from micromatter.errors import ProtocolError
from micromatter.securechannel.opcodes import PROTOCOL_ID

# General codes (protocol-agnostic).
GENERAL_SUCCESS = const(0)
GENERAL_FAILURE = const(1)
GENERAL_BAD_PRECONDITION = const(2)
GENERAL_OUT_OF_RANGE = const(3)
GENERAL_BAD_REQUEST = const(4)
GENERAL_UNSUPPORTED = const(5)
GENERAL_UNEXPECTED = const(6)
GENERAL_RESOURCE_EXHAUSTED = const(7)
GENERAL_BUSY = const(8)
GENERAL_TIMEOUT = const(9)
GENERAL_CONTINUE = const(10)
GENERAL_ABORTED = const(11)
GENERAL_INVALID_ARGUMENT = const(12)
GENERAL_NOT_FOUND = const(13)
GENERAL_ALREADY_EXISTS = const(14)
GENERAL_PERMISSION_DENIED = const(15)
GENERAL_DATA_LOSS = const(16)

# Secure channel protocol codes.
SUCCESS = const(0)
NO_SHARED_TRUST_ROOTS = const(1)
INVALID_PARAMETER = const(2)
CLOSE_SESSION = const(3)
BUSY = const(4)
SESSION_NOT_FOUND = const(5)
GENERAL_FAILURE_CODE = const(0xFFFF)  # no protocol-specific code to give

HEADER_LENGTH = const(8)


class StatusReportError(ProtocolError):
    """A StatusReport shorter than its 8-byte header."""


class StatusReport:
    """One status report: ``general_code``, ``protocol_id`` (u32), ``protocol_code`` and ``data`` (bytes)."""

    def __init__(self, general_code, protocol_id, protocol_code, data=b""):
        for value, top, what in ((general_code, 0xFFFF, "general code"), (protocol_id, 0xFFFFFFFF, "protocol id"),
                                 (protocol_code, 0xFFFF, "protocol code")):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > top:
                raise StatusReportError(what + " out of range")
        self.general_code = general_code
        self.protocol_id = protocol_id
        self.protocol_code = protocol_code
        self.data = bytes(data)

    def encode(self):
        out = bytearray(HEADER_LENGTH + len(self.data))
        put_le(out, 0, self.general_code, 2)
        put_le(out, 2, self.protocol_id, 4)
        put_le(out, 6, self.protocol_code, 2)
        out[HEADER_LENGTH:] = self.data
        return bytes(out)

    @staticmethod
    def decode(payload):
        """The report in ``payload`` (bytes-like); ``StatusReportError`` if it is too short."""
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise StatusReportError("a status report is bytes")
        if len(payload) < HEADER_LENGTH:
            raise StatusReportError("status report shorter than 8 bytes")
        return StatusReport(get_le(payload, 0, 2), get_le(payload, 2, 4), get_le(payload, 6, 2),
                            payload[HEADER_LENGTH:])

    def is_secure_channel(self):
        return self.protocol_id == PROTOCOL_ID

    def is_success(self):
        """A secure-channel Success (general Success, protocol code Success): a handshake finished."""
        return (self.general_code == GENERAL_SUCCESS and self.protocol_id == PROTOCOL_ID
                and self.protocol_code == SUCCESS)

    @property
    def busy_wait_ms(self):
        """The minimum wait of a secure-channel Busy report (ms), or None if this is not one or carries none."""
        if self.protocol_id != PROTOCOL_ID or self.protocol_code != BUSY or len(self.data) != 2:
            return None
        return get_le(self.data, 0, 2)

    @property
    def reliable(self):
        """False for the reports the spec sends without the R flag (CloseSession, Busy, SessionNotFound)."""
        return not (self.protocol_id == PROTOCOL_ID and self.protocol_code in (CLOSE_SESSION, BUSY, SESSION_NOT_FOUND))

    def __eq__(self, other):
        return (
            isinstance(other, StatusReport)
            and self.general_code == other.general_code
            and self.protocol_id == other.protocol_id
            and self.protocol_code == other.protocol_code
            and self.data == other.data
        )

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "StatusReport(general=%d, protocol=0x%08x, code=%d, data=%r)" % (
            self.general_code, self.protocol_id, self.protocol_code, self.data)


def secure_channel(protocol_code, data=b""):
    """The report for a secure-channel protocol code, with the general code the spec pairs with it:
    Success for Success and CloseSession, Busy for Busy, Failure for the rest."""
    if protocol_code == SUCCESS or protocol_code == CLOSE_SESSION:
        general = GENERAL_SUCCESS
    elif protocol_code == BUSY:
        general = GENERAL_BUSY
    else:
        general = GENERAL_FAILURE
    return StatusReport(general, PROTOCOL_ID, protocol_code, data)


def busy(wait_ms):
    """A Busy report asking the peer to wait at least ``wait_ms`` (0..65535) before retrying."""
    if not isinstance(wait_ms, int) or wait_ms < 0 or wait_ms > 0xFFFF:
        raise StatusReportError("busy wait must be 0..65535 ms")
    data = bytearray(2)
    put_le(data, 0, wait_ms, 2)
    return secure_channel(BUSY, data)
