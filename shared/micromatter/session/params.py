"""Session parameters: the MRP intervals and revisions a node announces in PASE/CASE.

Each side tells the other how fast to retransmit to it (idle and active
intervals, active threshold) and which revisions it speaks.  A secure session
keeps the peer's parameters; resumption records store them so a resumed
session needs no new exchange.  Defaults are the specification's.  Their TLV
form in PASE/CASE messages is ``micromatter.securechannel.session_params``.
"""

from micromatter.compat import const
from micromatter.endian import get_le, put_le
from micromatter.session.errors import SessionParameterError

# Matter Core spec, MRP parameters: defaults and the one-hour ceiling on intervals.
IDLE_INTERVAL_MS = const(500)
ACTIVE_INTERVAL_MS = const(300)
ACTIVE_THRESHOLD_MS = const(4000)
MAX_INTERVAL_MS = const(3600000)

# What this stack announces (Matter 1.3) and what a peer that omits a field is assumed to speak.
DATA_MODEL_REVISION = const(17)
INTERACTION_MODEL_REVISION = const(11)
SPECIFICATION_VERSION = const(0x01030000)
MAX_PATHS_PER_INVOKE = const(1)
FALLBACK_DATA_MODEL_REVISION = const(16)
FALLBACK_INTERACTION_MODEL_REVISION = const(10)
FALLBACK_SPECIFICATION_VERSION = const(0)

ENCODED_LENGTH = const(20)


def _check(value, name, low, high):
    if not isinstance(value, int) or isinstance(value, bool):
        raise SessionParameterError(name + " must be an int, not " + type(value).__name__)
    if value < low or value > high:
        raise SessionParameterError(name + " out of range " + str(low) + ".." + str(high) + ": " + str(value))
    return value


class SessionParameters:
    """MRP intervals (ms), active threshold (ms), data model / interaction model revisions, spec version."""

    def __init__(
        self,
        idle_interval_ms=IDLE_INTERVAL_MS,
        active_interval_ms=ACTIVE_INTERVAL_MS,
        active_threshold_ms=ACTIVE_THRESHOLD_MS,
        data_model_revision=DATA_MODEL_REVISION,
        interaction_model_revision=INTERACTION_MODEL_REVISION,
        specification_version=SPECIFICATION_VERSION,
        max_paths_per_invoke=MAX_PATHS_PER_INVOKE,
    ):
        self.idle_interval_ms = _check(idle_interval_ms, "idle_interval_ms", 1, MAX_INTERVAL_MS)
        self.active_interval_ms = _check(active_interval_ms, "active_interval_ms", 1, MAX_INTERVAL_MS)
        self.active_threshold_ms = _check(active_threshold_ms, "active_threshold_ms", 0, 0xFFFF)
        self.data_model_revision = _check(data_model_revision, "data_model_revision", 0, 0xFFFF)
        self.interaction_model_revision = _check(interaction_model_revision, "interaction_model_revision", 0, 0xFFFF)
        self.specification_version = _check(specification_version, "specification_version", 0, 0xFFFFFFFF)
        self.max_paths_per_invoke = _check(max_paths_per_invoke, "max_paths_per_invoke", 1, 0xFFFF)

    def with_intervals(self, idle_interval_ms=None, active_interval_ms=None):
        """A copy with the given MRP intervals replaced (None keeps the current one)."""
        return SessionParameters(
            self.idle_interval_ms if idle_interval_ms is None else idle_interval_ms,
            self.active_interval_ms if active_interval_ms is None else active_interval_ms,
            self.active_threshold_ms,
            self.data_model_revision,
            self.interaction_model_revision,
            self.specification_version,
            self.max_paths_per_invoke,
        )

    def __eq__(self, other):
        return (
            isinstance(other, SessionParameters)
            and self.idle_interval_ms == other.idle_interval_ms
            and self.active_interval_ms == other.active_interval_ms
            and self.active_threshold_ms == other.active_threshold_ms
            and self.data_model_revision == other.data_model_revision
            and self.interaction_model_revision == other.interaction_model_revision
            and self.specification_version == other.specification_version
            and self.max_paths_per_invoke == other.max_paths_per_invoke
        )

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "SessionParameters(idle=%d, active=%d, threshold=%d, dm=%d, im=%d, spec=0x%08x, paths=%d)" % (
            self.idle_interval_ms,
            self.active_interval_ms,
            self.active_threshold_ms,
            self.data_model_revision,
            self.interaction_model_revision,
            self.specification_version,
            self.max_paths_per_invoke,
        )

    # --- the fixed 20-byte form kept in resumption records -----------------

    def encode_into(self, buf, offset):
        put_le(buf, offset, self.idle_interval_ms, 4)
        put_le(buf, offset + 4, self.active_interval_ms, 4)
        put_le(buf, offset + 8, self.active_threshold_ms, 2)
        put_le(buf, offset + 10, self.data_model_revision, 2)
        put_le(buf, offset + 12, self.interaction_model_revision, 2)
        put_le(buf, offset + 14, self.specification_version, 4)
        put_le(buf, offset + 18, self.max_paths_per_invoke, 2)
        return ENCODED_LENGTH

    @staticmethod
    def decode_from(buf, offset):
        """Parameters from ``buf[offset:offset+20]``; ``SessionParameterError`` if a field is out of range."""
        if len(buf) - offset < ENCODED_LENGTH:
            raise SessionParameterError("session parameters truncated")
        return SessionParameters(
            get_le(buf, offset, 4),
            get_le(buf, offset + 4, 4),
            get_le(buf, offset + 8, 2),
            get_le(buf, offset + 10, 2),
            get_le(buf, offset + 12, 2),
            get_le(buf, offset + 14, 4),
            get_le(buf, offset + 18, 2),
        )


DEFAULT = SessionParameters()


def check_parameters(value, name="session_parameters"):
    """``value`` if it is a ``SessionParameters``, ``DEFAULT`` for None, else ``SessionParameterError``."""
    if value is None:
        return DEFAULT
    if not isinstance(value, SessionParameters):
        raise SessionParameterError(name + " must be SessionParameters, not " + type(value).__name__)
    return value
