"""Interaction Model messages (Matter Core spec 10.6/10.7): TLV codecs for every IM opcode.

Requests decode into small objects whose attribute/command data stay as
memoryview spans of the payload (the TLV element, tag included), decoded
later against the data model's types; every information block and message
is read by one table-driven reader from its schema (below).  Encoding writes
with a ``tlv.TlvWriter``, so the engine can fill a preallocated buffer and
stop at its limit (chunking).  Anything malformed raises
``MalformedMessageError``.
"""

from micromatter import tlv
from micromatter.tlv import ARRAY, BOOL, LIST, NULL, STRUCT, UINT
from micromatter.compat import const
from micromatter.errors import TlvError
from micromatter.im.paths import AttributePath, CommandPath, EventPath, DataVersionFilter, WHOLE, APPEND
from micromatter.im.status import MalformedMessageError

PROTOCOL_ID = const(0x0001)

STATUS_RESPONSE = const(0x01)
READ_REQUEST = const(0x02)
SUBSCRIBE_REQUEST = const(0x03)
SUBSCRIBE_RESPONSE = const(0x04)
REPORT_DATA = const(0x05)
WRITE_REQUEST = const(0x06)
WRITE_RESPONSE = const(0x07)
INVOKE_REQUEST = const(0x08)
INVOKE_RESPONSE = const(0x09)
TIMED_REQUEST = const(0x0A)

IM_REVISION = const(11)  # Matter 1.3
REVISION_TAG = const(0xFF)

_MAX_U16 = 0xFFFF
_MAX_U32 = 0xFFFFFFFF
_MAX_U64 = 0xFFFFFFFFFFFFFFFF


def _bad(what):
    return MalformedMessageError("malformed " + what)


# --- decoding: one table-driven reader for every structure ----------------------------------
#
# A structure is described once by a schema (``_schema``): its fields are ``(tag, attribute, reader, name)``.
# ``reader`` is an int (an unsigned int up to that value), ``_BOOL``, ``_SPAN`` (the element whole, tag
# included, as a memoryview of the payload: data decoded later against the data model's types), a schema
# (a nested structure, read into a new object made by the schema's ``make`` or, without one, into the same
# object), ``[item]`` (an array of elements read by ``item``, a schema or a function) or a function
# ``reader(r)`` returning the value.  ``attribute`` None reads the member and drops it; ``name`` is what a bad
# or missing member is reported as.  Unknown tags are skipped in structures and rejected in paths (lists).
# Reading allocates only the decoded objects, their lists and the data spans.  The tables are built at import
# (about 7 KB of heap on the x64 unix port; identical fields are shared).

_BOOL = const(-1)
_SPAN = const(-2)
# How ``_read`` takes a field, besides _BOOL and _SPAN (compiled by ``_schema``).
_UINT = const(0)
_CALL = const(1)
_NEW = const(2)
_SAME = const(3)
_ARRAY = const(4)
_MAKE = const(5)  # where a compiled schema keeps its ``make``


def _schema(what, kind, fields, required=(), make=None):
    """A structure's table, compiled once: (what, container type, highest tag, the fields by tag (None for an
    unknown tag) as (attribute, how, reader, name), the bits (1 << tag) of the ``required`` tags, make).
    Identical compiled fields are one object (``_shared_fields``, emptied once the module is loaded)."""
    top = 0
    for field in fields:
        top = max(top, field[0])
    by_tag = [None] * (top + 1)
    mask = 0
    for k in range(len(fields)):
        tag, attribute, reader, name = fields[k]
        if type(reader) is int:
            how = _UINT if reader >= 0 else reader
        elif type(reader) is tuple:
            how = _SAME if reader[_MAKE] is None else _NEW
        elif type(reader) is list:
            how = _ARRAY
            reader = reader[0]
        else:
            how = _CALL
        field = (attribute, how, reader, name)
        by_tag[tag] = _shared_fields.setdefault(field, field)
        if tag in required:
            mask |= 1 << tag
    return what, kind, top, tuple(by_tag), mask, make


_shared_fields = {}


def _consume(r):
    """Finish the current element (so ``r.pos`` is past it)."""
    if r.type >= STRUCT:
        r.enter()
        r.exit()


_setattr = setattr  # a module global: found faster than a builtin, once per member


def _read(r, schema, target):
    """Read the container at ``r`` into ``target``'s attributes by ``schema``; returns ``target``."""
    what, kind, top, by_tag, required, _ = schema
    if r.type != kind:
        raise _bad(what)
    r.enter()
    seen = 0
    while True:
        start = r.pos
        if not r.next():
            break
        tag = r.tag
        field = by_tag[tag] if r.control >> 5 == 1 and tag <= top else None  # context tags only
        if field is None:
            if kind == LIST:
                raise _bad(what + " tag")
            _consume(r)
            continue
        attribute, how, reader, name = field
        seen |= 1 << tag
        if how == _UINT:
            if r.type != UINT or r.value > reader:
                raise _bad(name)
            value = r.value
        elif how == _NEW:
            value = _read(r, reader, reader[_MAKE]())
        elif how == _SPAN:
            if r.type >= STRUCT:
                r.enter()
                r.exit()
            value = memoryview(r.buf)[start : r.pos]
        elif how == _ARRAY:
            value = _array(r, reader, name)
        elif how == _CALL:
            value = reader(r)
        elif how == _SAME:
            _read(r, reader, target)
            continue
        else:
            if r.type != BOOL:
                raise _bad(name)
            value = r.value
        if attribute is not None:
            _setattr(target, attribute, value)
    r.exit()
    if seen & required != required:
        for field in by_tag:
            if field is not None and required & ~seen & (1 << by_tag.index(field)):
                raise _bad(what + ": no " + field[3])
    return target


def _array(r, item, what):
    """An array (or list) whose elements are read by ``item``: a schema (a new object each), or a function."""
    if r.type != ARRAY and r.type != LIST:
        raise _bad(what)
    by_schema = type(item) is tuple
    out = []
    r.enter()
    while r.next():
        out.append(_read(r, item, item[_MAKE]()) if by_schema else item(r))
    r.exit()
    return out


def _choice(what, schema_0, schema_1):
    """A reader of an IB holding exactly one of two structures (tag 0 or tag 1)."""

    def read(r):
        if r.type != STRUCT:
            raise _bad(what)
        out = None
        r.enter()
        while r.next():
            if out is not None:
                raise _bad(what + ": two members")
            if r.tag == 0:
                out = _read(r, schema_0, schema_0[_MAKE]())
            elif r.tag == 1:
                out = _read(r, schema_1, schema_1[_MAKE]())
            else:
                raise _bad(what + " tag")
        r.exit()
        if out is None:
            raise _bad(what + ": empty")
        return out

    return read


# One reader serves every decode: messages are decoded one at a time, to completion.
_reader = tlv.TlvReader(b"")


def _decode(buf, schema, target):
    """The message in ``buf`` (one anonymous structure) read into ``target``; ``MalformedMessageError`` else."""
    r = _reader
    try:
        r.reset(buf)
        if not r.next():
            raise _bad("message")
        _read(r, schema, target)
        if r.next():
            raise _bad("message: trailing data")
    except TlvError as e:
        raise MalformedMessageError("bad TLV: " + repr(e))
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise MalformedMessageError("bad message: " + repr(e))
    return target


class _Fields:
    """The members of the information blocks read as tuples; absent ones are None."""

    node = endpoint = cluster = event_min = status = cluster_status = None


# --- information blocks -------------------------------------------------------------------


class AttributeData:
    """AttributeDataIB.  ``data``: received, a memoryview of the TLV element; to send, a Python value
    written with ``TlvWriter.put`` (or ``encoder(w, tag)`` when given)."""

    def __init__(self, path=None, data=None, data_version=None, encoder=None):
        self.path = path
        self.data = data
        self.data_version = data_version
        self.encoder = encoder

    def value(self):
        return tlv.decode(self.data)


class AttributeStatus:
    def __init__(self, path=None, status=None, cluster_status=None):
        self.path = path
        self.status = status
        self.cluster_status = cluster_status


class CommandData:
    """CommandDataIB; ``fields`` as in ``AttributeData.data``."""

    def __init__(self, path=None, fields=None, ref=None, encoder=None):
        self.path = path
        self.fields = fields
        self.ref = ref
        self.encoder = encoder

    def value(self):
        return tlv.decode(self.fields)


class CommandStatus:
    def __init__(self, path=None, status=None, cluster_status=None, ref=None):
        self.path = path
        self.status = status
        self.cluster_status = cluster_status
        self.ref = ref


class EventStatus:
    def __init__(self, path=None, status=None, cluster_status=None):
        self.path = path
        self.status = status
        self.cluster_status = cluster_status


class EventData:
    """EventDataIB as received: path, number, priority, timestamps and the data element's span."""

    def __init__(self, path=None, number=None, priority=None, system_time_ms=None, epoch_time_us=None, data=None):
        self.path = path
        self.number = number
        self.priority = priority
        self.system_time_ms = system_time_ms
        self.epoch_time_us = epoch_time_us
        self.data = data

    def value(self):
        return tlv.decode(self.data) if self.data is not None else None


def _list_index(r):
    if r.type == NULL:
        return APPEND
    if r.type != UINT or r.value > _MAX_U16:
        raise _bad("ListIndex")
    return r.value


_ATTRIBUTE_PATH = _schema("AttributePathIB", LIST, (
    (0, None, _BOOL, "EnableTagCompression"),
    (1, "node", _MAX_U64, "Node"),
    (2, "endpoint", _MAX_U16, "Endpoint"),
    (3, "cluster", _MAX_U32, "Cluster"),
    (4, "attribute", _MAX_U32, "Attribute"),
    (5, "list_index", _list_index, "ListIndex"),
), (), AttributePath)
_EVENT_PATH = _schema("EventPathIB", LIST, (
    (0, "node", _MAX_U64, "Node"),
    (1, "endpoint", _MAX_U16, "Endpoint"),
    (2, "cluster", _MAX_U32, "Cluster"),
    (3, "event", _MAX_U32, "Event"),
    (4, "urgent", _BOOL, "IsUrgent"),
), (), EventPath)
_COMMAND_PATH = _schema("CommandPathIB", LIST, (
    (0, "endpoint", _MAX_U16, "Endpoint"),
    (1, "cluster", _MAX_U32, "Cluster"),
    (2, "command", _MAX_U32, "Command"),
), (), CommandPath)
_CLUSTER_PATH = _schema("ClusterPathIB", LIST, (
    (0, "node", _MAX_U64, "Node"),
    (1, "endpoint", _MAX_U16, "Endpoint"),
    (2, "cluster", _MAX_U32, "Cluster"),
), (1, 2))
_EVENT_FILTER = _schema("EventFilterIB", STRUCT, (
    (0, "node", _MAX_U64, "Node"),
    (1, "event_min", _MAX_U64, "EventMin"),
), (1,))
_STATUS = _schema("StatusIB", STRUCT, (
    (0, "status", _MAX_U16, "Status"),
    (1, "cluster_status", _MAX_U16, "ClusterStatus"),
), (0,))
# Without a ``make``, the three above are read into the object of the structure holding them.
_DATA_VERSION_FILTER = _schema("DataVersionFilterIB", STRUCT, (
    (0, None, _CLUSTER_PATH, "Path"),
    (1, "version", _MAX_U32, "DataVersion"),
), (0, 1))
_ATTRIBUTE_DATA = _schema("AttributeDataIB", STRUCT, (
    (0, "data_version", _MAX_U32, "DataVersion"),
    (1, "path", _ATTRIBUTE_PATH, "Path"),
    (2, "data", _SPAN, "Data"),
), (1, 2), AttributeData)
_ATTRIBUTE_STATUS = _schema("AttributeStatusIB", STRUCT, (
    (0, "path", _ATTRIBUTE_PATH, "Path"),
    (1, None, _STATUS, "Status"),
), (0, 1), AttributeStatus)
_EVENT_STATUS = _schema("EventStatusIB", STRUCT, (
    (0, "path", _EVENT_PATH, "Path"),
    (1, None, _STATUS, "Status"),
), (0, 1), EventStatus)
_EVENT_DATA = _schema("EventDataIB", STRUCT, (
    (0, "path", _EVENT_PATH, "Path"),
    (1, "number", _MAX_U64, "EventNumber"),
    (2, "priority", 2, "Priority"),
    (3, "epoch_time_us", _MAX_U64, "EpochTimestamp"),
    (4, "system_time_ms", _MAX_U64, "SystemTimestamp"),
    (7, "data", _SPAN, "Data"),
), (0, 1, 2), EventData)
_COMMAND_DATA = _schema("CommandDataIB", STRUCT, (
    (0, "path", _COMMAND_PATH, "CommandPath"),
    (1, "fields", _SPAN, "CommandFields"),
    (2, "ref", _MAX_U16, "CommandRef"),
), (0,), CommandData)
_COMMAND_STATUS = _schema("CommandStatusIB", STRUCT, (
    (0, "path", _COMMAND_PATH, "CommandPath"),
    (1, None, _STATUS, "Status"),
    (2, "ref", _MAX_U16, "CommandRef"),
), (0, 1), CommandStatus)


def _reader_of(schema, names=None):
    """The public reader of an information block: a new object read by ``schema``, or, given ``names`` (two
    or three), a tuple of those members (read into a ``_Fields``)."""
    if names is None:
        return lambda r: _read(r, schema, schema[_MAKE]())
    first, second, third = names[0], names[1], names[2] if len(names) > 2 else None

    def read(r):
        f = _read(r, schema, _Fields())
        if third is None:
            return getattr(f, first), getattr(f, second)
        return getattr(f, first), getattr(f, second), getattr(f, third)

    return read


# The public readers of the information blocks: each its object (AttributePath, ..., CommandStatus), or a tuple:
# EventFilterIB (node or None, event_min), ClusterPathIB (node or None, endpoint, cluster), StatusIB (status,
# cluster_status or None).
read_attribute_path = _reader_of(_ATTRIBUTE_PATH)
read_event_path = _reader_of(_EVENT_PATH)
read_command_path = _reader_of(_COMMAND_PATH)
read_attribute_data = _reader_of(_ATTRIBUTE_DATA)
read_attribute_status = _reader_of(_ATTRIBUTE_STATUS)
read_event_data = _reader_of(_EVENT_DATA)
read_command_data = _reader_of(_COMMAND_DATA)
read_command_status = _reader_of(_COMMAND_STATUS)
read_event_filter = _reader_of(_EVENT_FILTER, ("node", "event_min"))
read_cluster_path = _reader_of(_CLUSTER_PATH, ("node", "endpoint", "cluster"))
read_status = _reader_of(_STATUS, ("status", "cluster_status"))


def read_data_version_filter(r):
    return _read(r, _DATA_VERSION_FILTER, DataVersionFilter(None, None, None))


# AttributeReportIB -> AttributeData or AttributeStatus; EventReportIB -> EventData or EventStatus;
# InvokeResponseIB -> CommandData or CommandStatus.
read_attribute_report = _choice("AttributeReportIB", _ATTRIBUTE_STATUS, _ATTRIBUTE_DATA)
read_event_report = _choice("EventReportIB", _EVENT_STATUS, _EVENT_DATA)
read_invoke_response = _choice("InvokeResponseIB", _COMMAND_DATA, _COMMAND_STATUS)


# --- information blocks: encoding ------------------------------------------------


def write_attribute_path(w, tag, endpoint, cluster, attribute, list_index=WHOLE, node=None):
    w.start_list(tag)
    if node is not None:
        w.uint(1, node)
    if endpoint is not None:
        w.uint(2, endpoint)
    if cluster is not None:
        w.uint(3, cluster)
    if attribute is not None:
        w.uint(4, attribute)
    if list_index is None:
        w.null(5)
    elif list_index != WHOLE:
        w.uint(5, list_index)
    w.end_container()


def _write_path(w, tag, p):
    write_attribute_path(w, tag, p.endpoint, p.cluster, p.attribute, p.list_index, p.node)


def write_event_path(w, tag, p):
    w.start_list(tag)
    if p.node is not None:
        w.uint(0, p.node)
    if p.endpoint is not None:
        w.uint(1, p.endpoint)
    if p.cluster is not None:
        w.uint(2, p.cluster)
    if p.event is not None:
        w.uint(3, p.event)
    if p.urgent is not None:
        w.bool(4, p.urgent)
    w.end_container()


def write_command_path(w, tag, endpoint, cluster, command):
    w.start_list(tag)
    if endpoint is not None:
        w.uint(0, endpoint)
    if cluster is not None:
        w.uint(1, cluster)
    if command is not None:
        w.uint(2, command)
    w.end_container()


def write_status(w, tag, status, cluster_status=None):
    w.start_struct(tag)
    w.uint(0, status)
    if cluster_status is not None:
        w.uint(1, cluster_status)
    w.end_container()


def write_attribute_status(w, tag, endpoint, cluster, attribute, status, cluster_status=None, list_index=WHOLE):
    w.start_struct(tag)
    write_attribute_path(w, 0, endpoint, cluster, attribute, list_index)
    write_status(w, 1, status, cluster_status)
    w.end_container()


def write_command_status(w, tag, endpoint, cluster, command, status, cluster_status=None, ref=None):
    w.start_struct(tag)
    write_command_path(w, 0, endpoint, cluster, command)
    write_status(w, 1, status, cluster_status)
    if ref is not None:
        w.uint(2, ref)
    w.end_container()


def _write_data(w, tag, data, encoder):
    if encoder is not None:
        encoder(w, tag)
    else:
        w.put(tag, data)


def _write_attribute_data(w, tag, d):
    w.start_struct(tag)
    if d.data_version is not None:
        w.uint(0, d.data_version)
    _write_path(w, 1, d.path)
    _write_data(w, 2, d.data, d.encoder)
    w.end_container()


def _write_attribute_status_ib(w, tag, s):
    w.start_struct(tag)
    _write_path(w, 0, s.path)
    write_status(w, 1, s.status, s.cluster_status)
    w.end_container()


def _write_command_data(w, tag, c):
    w.start_struct(tag)
    p = c.path
    write_command_path(w, 0, p.endpoint, p.cluster, p.command)
    if c.fields is not None or c.encoder is not None:
        _write_data(w, 1, c.fields, c.encoder)
    if c.ref is not None:
        w.uint(2, c.ref)
    w.end_container()


def _write_event_filter(w, tag, f):
    node, event_min = f
    w.start_struct(tag)
    if node is not None:
        w.uint(0, node)
    w.uint(1, event_min)
    w.end_container()


def _write_data_version_filter(w, tag, f):
    w.start_struct(tag)
    w.start_list(0)
    if f.node is not None:
        w.uint(0, f.node)
    w.uint(1, f.endpoint)
    w.uint(2, f.cluster)
    w.end_container()
    w.uint(1, f.version)
    w.end_container()


def _write_array(w, tag, items, write_item):
    """An array of ``items``, each written by ``write_item(w, None, item)``."""
    w.start_array(tag)
    for item in items:
        write_item(w, None, item)
    w.end_container()


def write_revision(w):
    w.uint(REVISION_TAG, IM_REVISION)


def _finish(w):
    write_revision(w)
    w.end_container()
    return w.getvalue()


def _writer(w):
    if w is None:
        w = tlv.TlvWriter()
    w.start_struct(None)
    return w


# --- messages ---------------------------------------------------------------------


class StatusResponse:
    def __init__(self, status):
        self.status = status

    def encode(self, w=None):
        w = _writer(w)
        w.uint(0, self.status)
        return _finish(w)


_STATUS_RESPONSE = _schema("StatusResponse", STRUCT, ((0, "status", _MAX_U16, "Status"),), (0,))


def decode_status_response(buf):
    return _decode(buf, _STATUS_RESPONSE, StatusResponse(None))


class TimedRequest:
    def __init__(self, timeout_ms):
        self.timeout_ms = timeout_ms

    def encode(self, w=None):
        w = _writer(w)
        w.uint(0, self.timeout_ms)
        return _finish(w)


_TIMED_REQUEST = _schema("TimedRequest", STRUCT, ((0, "timeout_ms", _MAX_U16, "Timeout"),), (0,))


def decode_timed_request(buf):
    return _decode(buf, _TIMED_REQUEST, TimedRequest(None))


class ReadRequest:
    """ReadRequestMessage; also the read part of a subscription."""

    def __init__(self, attribute_paths=None, event_paths=None, event_filters=None, fabric_filtered=True,
                 data_version_filters=None):
        self.attribute_paths = attribute_paths or []
        self.event_paths = event_paths or []
        self.event_filters = event_filters or []
        self.fabric_filtered = fabric_filtered
        self.data_version_filters = data_version_filters or []

    def _encode_body(self, w, base):
        if self.attribute_paths:
            _write_array(w, base, self.attribute_paths, _write_path)
        if self.event_paths:
            _write_array(w, base + 1, self.event_paths, write_event_path)
        if self.event_filters:
            _write_array(w, base + 2, self.event_filters, _write_event_filter)

    def _encode_filters(self, w, fabric_tag, filters_tag):
        w.bool(fabric_tag, self.fabric_filtered)
        if self.data_version_filters:
            _write_array(w, filters_tag, self.data_version_filters, _write_data_version_filter)

    def encode(self, w=None):
        w = _writer(w)
        self._encode_body(w, 0)
        self._encode_filters(w, 3, 4)
        return _finish(w)


_READ_REQUEST = _schema("ReadRequest", STRUCT, (
    (0, "attribute_paths", [_ATTRIBUTE_PATH], "AttributeRequests"),
    (1, "event_paths", [_EVENT_PATH], "EventRequests"),
    (2, "event_filters", [read_event_filter], "EventFilters"),
    (3, "fabric_filtered", _BOOL, "IsFabricFiltered"),
    (4, "data_version_filters", [read_data_version_filter], "DataVersionFilters"),
))


def decode_read_request(buf):
    return _decode(buf, _READ_REQUEST, ReadRequest())


class SubscribeRequest(ReadRequest):
    def __init__(self, min_interval_floor=0, max_interval_ceiling=0, attribute_paths=None, event_paths=None,
                 event_filters=None, fabric_filtered=True, data_version_filters=None, keep_subscriptions=False):
        ReadRequest.__init__(self, attribute_paths, event_paths, event_filters, fabric_filtered, data_version_filters)
        self.min_interval_floor = min_interval_floor
        self.max_interval_ceiling = max_interval_ceiling
        self.keep_subscriptions = keep_subscriptions

    def encode(self, w=None):
        w = _writer(w)
        w.bool(0, self.keep_subscriptions)
        w.uint(1, self.min_interval_floor)
        w.uint(2, self.max_interval_ceiling)
        self._encode_body(w, 3)
        self._encode_filters(w, 7, 8)
        return _finish(w)


_SUBSCRIBE_REQUEST = _schema("SubscribeRequest", STRUCT, (
    (0, "keep_subscriptions", _BOOL, "KeepSubscriptions"),
    (1, "min_interval_floor", _MAX_U16, "MinIntervalFloor"),
    (2, "max_interval_ceiling", _MAX_U16, "MaxIntervalCeiling"),
    (3, "attribute_paths", [_ATTRIBUTE_PATH], "AttributeRequests"),
    (4, "event_paths", [_EVENT_PATH], "EventRequests"),
    (5, "event_filters", [read_event_filter], "EventFilters"),
    (7, "fabric_filtered", _BOOL, "IsFabricFiltered"),
    (8, "data_version_filters", [read_data_version_filter], "DataVersionFilters"),
), (1, 2))


def decode_subscribe_request(buf):
    return _decode(buf, _SUBSCRIBE_REQUEST, SubscribeRequest())


class SubscribeResponse:
    def __init__(self, subscription_id, max_interval):
        self.subscription_id = subscription_id
        self.max_interval = max_interval

    def encode(self, w=None):
        w = _writer(w)
        w.uint(0, self.subscription_id)
        w.uint(2, self.max_interval)
        return _finish(w)


_SUBSCRIBE_RESPONSE = _schema("SubscribeResponse", STRUCT, (
    (0, "subscription_id", _MAX_U32, "SubscriptionId"),
    (2, "max_interval", _MAX_U16, "MaxInterval"),
), (0, 2))


def decode_subscribe_response(buf):
    return _decode(buf, _SUBSCRIBE_RESPONSE, SubscribeResponse(None, None))


class ReportData:
    """ReportDataMessage; ``attribute_reports`` holds AttributeData / AttributeStatus, ``event_reports``
    EventData / EventStatus."""

    def __init__(self, attribute_reports=None, event_reports=None, subscription_id=None, more_chunks=False,
                 suppress_response=False):
        self.attribute_reports = attribute_reports or []
        self.event_reports = event_reports or []
        self.subscription_id = subscription_id
        self.more_chunks = more_chunks
        self.suppress_response = suppress_response

    def encode(self, w=None):
        w = _writer(w)
        if self.subscription_id is not None:
            w.uint(0, self.subscription_id)
        if self.attribute_reports:
            _write_array(w, 1, self.attribute_reports, _write_attribute_report)
        if self.event_reports:
            _write_array(w, 2, self.event_reports, _write_event_report)
        if self.more_chunks:
            w.bool(3, True)
        if self.suppress_response:
            w.bool(4, True)
        return _finish(w)


def _write_attribute_report(w, tag, rep):
    w.start_struct(tag)
    if isinstance(rep, AttributeStatus):
        _write_attribute_status_ib(w, 0, rep)
    else:
        _write_attribute_data(w, 1, rep)
    w.end_container()


def _write_event_report(w, tag, rep):
    if isinstance(rep, EventData):
        p = rep.path
        write_event_data(w, tag, p.endpoint, p.cluster, p.event, rep.number, rep.priority, rep.system_time_ms)
        _write_data(w, 7, rep.data, None)
        w.end_container()
        w.end_container()
    else:
        write_event_status(w, tag, rep.path, rep.status, rep.cluster_status)


def write_event_status(w, tag, path, status, cluster_status=None):
    """An EventReportIB carrying an EventStatusIB."""
    w.start_struct(tag)
    w.start_struct(0)
    write_event_path(w, 0, path)
    write_status(w, 1, status, cluster_status)
    w.end_container()
    w.end_container()


def write_event_data(w, tag, endpoint, cluster, event, number, priority, system_time_ms):
    """Open an EventReportIB and its EventDataIB up to the Data field; the caller writes the data under tag 7
    and closes both containers."""
    w.start_struct(tag)
    w.start_struct(1)
    w.start_list(0)
    w.uint(1, endpoint)
    w.uint(2, cluster)
    w.uint(3, event)
    w.end_container()
    w.uint(1, number)
    w.uint(2, priority)
    w.uint(4, system_time_ms)


_REPORT_DATA = _schema("ReportData", STRUCT, (
    (0, "subscription_id", _MAX_U32, "SubscriptionId"),
    (1, "attribute_reports", [read_attribute_report], "AttributeReports"),
    (2, "event_reports", [read_event_report], "EventReports"),
    (3, "more_chunks", _BOOL, "MoreChunkedMessages"),
    (4, "suppress_response", _BOOL, "SuppressResponse"),
))


def decode_report_data(buf):
    return _decode(buf, _REPORT_DATA, ReportData())


class WriteRequest:
    def __init__(self, write_requests=None, timed_request=False, suppress_response=False, more_chunks=False):
        self.write_requests = write_requests or []
        self.timed_request = timed_request
        self.suppress_response = suppress_response
        self.more_chunks = more_chunks

    def encode(self, w=None):
        w = _writer(w)
        if self.suppress_response:
            w.bool(0, True)
        w.bool(1, self.timed_request)
        _write_array(w, 2, self.write_requests, _write_attribute_data)
        if self.more_chunks:
            w.bool(3, True)
        return _finish(w)


_WRITE_REQUEST = _schema("WriteRequest", STRUCT, (
    (0, "suppress_response", _BOOL, "SuppressResponse"),
    (1, "timed_request", _BOOL, "TimedRequest"),
    (2, "write_requests", [_ATTRIBUTE_DATA], "WriteRequests"),
    (3, "more_chunks", _BOOL, "MoreChunkedMessages"),
), (2,))


def decode_write_request(buf):
    return _decode(buf, _WRITE_REQUEST, WriteRequest())


class WriteResponse:
    def __init__(self, statuses=None):
        self.statuses = statuses or []

    def encode(self, w=None):
        w = _writer(w)
        _write_array(w, 0, self.statuses, _write_attribute_status_ib)
        return _finish(w)


_WRITE_RESPONSE = _schema("WriteResponse", STRUCT, (
    (0, "statuses", [_ATTRIBUTE_STATUS], "WriteResponses"),
))


def decode_write_response(buf):
    return _decode(buf, _WRITE_RESPONSE, WriteResponse())


class InvokeRequest:
    def __init__(self, invoke_requests=None, timed_request=False, suppress_response=False):
        self.invoke_requests = invoke_requests or []
        self.timed_request = timed_request
        self.suppress_response = suppress_response

    def encode(self, w=None):
        w = _writer(w)
        w.bool(0, self.suppress_response)
        w.bool(1, self.timed_request)
        _write_array(w, 2, self.invoke_requests, _write_command_data)
        return _finish(w)


_INVOKE_REQUEST = _schema("InvokeRequest", STRUCT, (
    (0, "suppress_response", _BOOL, "SuppressResponse"),
    (1, "timed_request", _BOOL, "TimedRequest"),
    (2, "invoke_requests", [_COMMAND_DATA], "InvokeRequests"),
), (2,))


def decode_invoke_request(buf):
    return _decode(buf, _INVOKE_REQUEST, InvokeRequest())


class InvokeResponse:
    """InvokeResponseMessage; ``responses`` holds CommandData / CommandStatus."""

    def __init__(self, responses=None, suppress_response=False, more_chunks=False):
        self.responses = responses or []
        self.suppress_response = suppress_response
        self.more_chunks = more_chunks

    def encode(self, w=None):
        w = _writer(w)
        w.bool(0, self.suppress_response)
        _write_array(w, 1, self.responses, _write_invoke_response)
        if self.more_chunks:
            w.bool(2, True)
        return _finish(w)


_INVOKE_RESPONSE = _schema("InvokeResponse", STRUCT, (
    (0, "suppress_response", _BOOL, "SuppressResponse"),
    (1, "responses", [read_invoke_response], "InvokeResponses"),
    (2, "more_chunks", _BOOL, "MoreChunkedMessages"),
))


def _write_invoke_response(w, tag, rep):
    w.start_struct(tag)
    if isinstance(rep, CommandStatus):
        p = rep.path
        write_command_status(w, 1, p.endpoint, p.cluster, p.command, rep.status, rep.cluster_status, rep.ref)
    else:
        _write_command_data(w, 0, rep)
    w.end_container()


def decode_invoke_response(buf):
    return _decode(buf, _INVOKE_RESPONSE, InvokeResponse())

_shared_fields.clear()  # every schema is built: the index of shared fields is no longer needed
