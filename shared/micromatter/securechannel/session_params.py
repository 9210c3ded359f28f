"""The session-parameter TLV struct that PASE and CASE messages carry, to and from ``SessionParameters``.

Tags (Matter Core spec, session parameters): 1 idle interval (u32 ms), 2 active interval (u32 ms),
3 active threshold (u16 ms), 4 data model revision (u16), 5 interaction model revision (u16),
6 specification version (u32), 7 max paths per invoke (u16); 8 (supported transports) and 9 (max TCP
message size) and any later tag are skipped.  Every field is optional: an omitted interval is the
spec default, an omitted revision the oldest one a peer can speak (``session.params`` FALLBACK_*).
The session core owns the values (``micromatter.session.params``); this module is only their TLV form.
"""

from micromatter.compat import const
from micromatter.errors import MatterError, ProtocolError
from micromatter.session.params import (
    ACTIVE_INTERVAL_MS,
    ACTIVE_THRESHOLD_MS,
    FALLBACK_DATA_MODEL_REVISION,
    FALLBACK_INTERACTION_MODEL_REVISION,
    FALLBACK_SPECIFICATION_VERSION,
    IDLE_INTERVAL_MS,
    SessionParameters,
)
from micromatter.tlv import STRUCT, UINT, TlvDuplicateTagError

TAG_IDLE_INTERVAL = const(1)
TAG_ACTIVE_INTERVAL = const(2)
TAG_ACTIVE_THRESHOLD = const(3)
TAG_DATA_MODEL_REVISION = const(4)
TAG_INTERACTION_MODEL_REVISION = const(5)
TAG_SPECIFICATION_VERSION = const(6)
TAG_MAX_PATHS_PER_INVOKE = const(7)

# Wire width of each known tag (index = tag): u32, u32, u16, u16, u16, u32, u16.
_MAX = (0, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFF)


class SessionParametersError(ProtocolError):
    """A session-parameter struct holds a field of the wrong type, twice, or out of its range."""


def encode(writer, tag, params):
    """Write ``params`` (a ``SessionParameters``) as the struct ``tag`` with a ``tlv.TlvWriter``."""
    writer.start_struct(tag)
    writer.uint(TAG_IDLE_INTERVAL, params.idle_interval_ms)
    writer.uint(TAG_ACTIVE_INTERVAL, params.active_interval_ms)
    writer.uint(TAG_ACTIVE_THRESHOLD, params.active_threshold_ms)
    writer.uint(TAG_DATA_MODEL_REVISION, params.data_model_revision)
    writer.uint(TAG_INTERACTION_MODEL_REVISION, params.interaction_model_revision)
    writer.uint(TAG_SPECIFICATION_VERSION, params.specification_version)
    writer.uint(TAG_MAX_PATHS_PER_INVOKE, params.max_paths_per_invoke)
    writer.end_container()


def decode(reader):
    """The ``SessionParameters`` of the struct ``reader`` (a ``tlv.TlvReader``) stands on; leaves the
    reader after it.  ``SessionParametersError`` for a bad field; ``TlvError`` for malformed TLV."""
    if reader.type != STRUCT:
        raise SessionParametersError("session parameters must be a structure")
    values = [None, IDLE_INTERVAL_MS, ACTIVE_INTERVAL_MS, ACTIVE_THRESHOLD_MS, FALLBACK_DATA_MODEL_REVISION,
              FALLBACK_INTERACTION_MODEL_REVISION, FALLBACK_SPECIFICATION_VERSION, 1]
    seen = 0
    reader.enter(STRUCT)
    while reader.next():
        tag = reader.tag
        if not isinstance(tag, int) or tag < TAG_IDLE_INTERVAL or tag > TAG_MAX_PATHS_PER_INVOKE:
            continue  # a later revision's field (or a profile tag): skipped
        if seen & (1 << tag):
            raise TlvDuplicateTagError("session parameter %d given twice" % tag)
        seen |= 1 << tag
        if reader.type != UINT:
            raise SessionParametersError("session parameter %d must be an unsigned integer" % tag)
        if reader.value > _MAX[tag]:
            raise SessionParametersError("session parameter %d too wide" % tag)
        values[tag] = reader.value
    reader.exit()
    try:
        return SessionParameters(values[1], values[2], values[3], values[4], values[5], values[6], values[7])
    except MatterError as e:  # an interval of 0 or above an hour, no paths per invoke
        raise SessionParametersError(str(e))
