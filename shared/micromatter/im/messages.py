"""Interaction Model messages (Matter Core spec 10.6/10.7): TLV codecs for every IM opcode.

Requests decode into small objects whose attribute/command data stay as
memoryview spans of the payload (the TLV element, tag included), decoded
later against the data model's types.  Encoding writes with a
``tlv.TlvWriter``, so the engine can fill a preallocated buffer and stop at
its limit (chunking).  Anything malformed raises ``MalformedMessageError``.
"""

from micromatter import tlv
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


# --- reading helpers ----------------------------------------------------------


def _uint(r, limit, what):
    if r.type != tlv.UINT or r.value > limit:
        raise _bad(what)
    return r.value


def _bool(r, what):
    if r.type != tlv.BOOL:
        raise _bad(what)
    return r.value


def _consume(r):
    """Finish the current element (so ``r.pos`` is past it)."""
    if r.type >= tlv.STRUCT:
        r.enter()
        r.exit()


def _span(r, start):
    """The whole current element (from ``start``) as a memoryview of the payload."""
    _consume(r)
    return memoryview(r.buf)[start : r.pos]


# One reader serves every decode: messages are decoded one at a time, to completion.
_reader = tlv.TlvReader(b"")


def _open(buf):
    r = _reader
    r.reset(buf)
    if not r.next() or r.type != tlv.STRUCT:
        raise _bad("message")
    r.enter()
    return r


def _close(r):
    r.exit()
    if r.next():
        raise _bad("message: trailing data")


def _array(r, item, what):
    """Decode an array (or list) of items with ``item(r)``."""
    if r.type != tlv.ARRAY and r.type != tlv.LIST:
        raise _bad(what)
    out = []
    r.enter()
    while r.next():
        out.append(item(r))
    r.exit()
    return out


def _decode(function, buf):
    try:
        return function(buf)
    except TlvError as e:
        raise MalformedMessageError("bad TLV: " + repr(e))
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise MalformedMessageError("bad message: " + repr(e))


# --- information blocks: decoding ------------------------------------------------


def read_attribute_path(r):
    if r.type != tlv.LIST:
        raise _bad("AttributePathIB")
    p = AttributePath()
    r.enter()
    while r.next():
        tag = r.tag
        if tag == 0:
            _bool(r, "EnableTagCompression")
        elif tag == 1:
            p.node = _uint(r, _MAX_U64, "Node")
        elif tag == 2:
            p.endpoint = _uint(r, _MAX_U16, "Endpoint")
        elif tag == 3:
            p.cluster = _uint(r, _MAX_U32, "Cluster")
        elif tag == 4:
            p.attribute = _uint(r, _MAX_U32, "Attribute")
        elif tag == 5:
            p.list_index = APPEND if r.type == tlv.NULL else _uint(r, _MAX_U16, "ListIndex")
        else:
            raise _bad("AttributePathIB tag")
    r.exit()
    return p


def read_event_path(r):
    if r.type != tlv.LIST:
        raise _bad("EventPathIB")
    p = EventPath()
    r.enter()
    while r.next():
        tag = r.tag
        if tag == 0:
            p.node = _uint(r, _MAX_U64, "Node")
        elif tag == 1:
            p.endpoint = _uint(r, _MAX_U16, "Endpoint")
        elif tag == 2:
            p.cluster = _uint(r, _MAX_U32, "Cluster")
        elif tag == 3:
            p.event = _uint(r, _MAX_U32, "Event")
        elif tag == 4:
            p.urgent = _bool(r, "IsUrgent")
        else:
            raise _bad("EventPathIB tag")
    r.exit()
    return p


def _uints(r, kind, what, limits, required=(), strict=False):
    """A container (``kind``) of unsigned ints under tags 0..len(limits)-1 -> a list indexed by tag (None
    when absent).  Unknown tags are skipped, or rejected when ``strict`` (paths)."""
    if r.type != kind:
        raise _bad(what)
    out = [None] * len(limits)
    r.enter()
    while r.next():
        tag = r.tag
        if isinstance(tag, int) and tag < len(limits):
            out[tag] = _uint(r, limits[tag], what)
        elif strict:
            raise _bad(what + " tag")
        else:
            _consume(r)
    r.exit()
    for tag in required:
        if out[tag] is None:
            raise _bad(what)
    return out


def read_event_filter(r):
    """EventFilterIB -> (node or None, event_min)."""
    node, event_min = _uints(r, tlv.STRUCT, "EventFilterIB", (_MAX_U64, _MAX_U64), (1,))
    return node, event_min


def read_cluster_path(r):
    """ClusterPathIB -> (node or None, endpoint, cluster)."""
    node, endpoint, cluster = _uints(r, tlv.LIST, "ClusterPathIB", (_MAX_U64, _MAX_U16, _MAX_U32), (1, 2), True)
    return node, endpoint, cluster


def read_data_version_filter(r):
    if r.type != tlv.STRUCT:
        raise _bad("DataVersionFilterIB")
    path = version = None
    r.enter()
    while r.next():
        if r.tag == 0:
            path = read_cluster_path(r)
        elif r.tag == 1:
            version = _uint(r, _MAX_U32, "DataVersion")
        else:
            _consume(r)
    r.exit()
    if path is None or version is None:
        raise _bad("DataVersionFilterIB")
    return DataVersionFilter(path[1], path[2], version, path[0])


def read_status(r):
    """StatusIB -> (status, cluster_status or None)."""
    st, cluster_status = _uints(r, tlv.STRUCT, "StatusIB", (_MAX_U16, _MAX_U16), (0,))
    return st, cluster_status


def read_command_path(r):
    endpoint, cluster, command = _uints(r, tlv.LIST, "CommandPathIB", (_MAX_U16, _MAX_U32, _MAX_U32), (), True)
    return CommandPath(endpoint, cluster, command)


class AttributeData:
    """AttributeDataIB.  ``data``: received, a memoryview of the TLV element; to send, a Python value
    written with ``TlvWriter.put`` (or ``encoder(w, tag)`` when given)."""

    def __init__(self, path, data, data_version=None, encoder=None):
        self.path = path
        self.data = data
        self.data_version = data_version
        self.encoder = encoder

    def value(self):
        return tlv.decode(self.data)


class AttributeStatus:
    def __init__(self, path, status, cluster_status=None):
        self.path = path
        self.status = status
        self.cluster_status = cluster_status


class CommandData:
    """CommandDataIB; ``fields`` as in ``AttributeData.data``."""

    def __init__(self, path, fields, ref=None, encoder=None):
        self.path = path
        self.fields = fields
        self.ref = ref
        self.encoder = encoder

    def value(self):
        return tlv.decode(self.fields)


class CommandStatus:
    def __init__(self, path, status, cluster_status=None, ref=None):
        self.path = path
        self.status = status
        self.cluster_status = cluster_status
        self.ref = ref


class EventStatus:
    def __init__(self, path, status, cluster_status=None):
        self.path = path
        self.status = status
        self.cluster_status = cluster_status


def read_attribute_data(r):
    if r.type != tlv.STRUCT:
        raise _bad("AttributeDataIB")
    path = data = version = None
    r.enter()
    while True:
        start = r.pos
        if not r.next():
            break
        if r.tag == 0:
            version = _uint(r, _MAX_U32, "DataVersion")
        elif r.tag == 1:
            path = read_attribute_path(r)
        elif r.tag == 2:
            data = _span(r, start)
        else:
            _consume(r)
    r.exit()
    if path is None or data is None:
        raise _bad("AttributeDataIB")
    return AttributeData(path, data, version)


def _read_path_status(r, read_path, what):
    if r.type != tlv.STRUCT:
        raise _bad(what)
    path = st = None
    r.enter()
    while r.next():
        if r.tag == 0:
            path = read_path(r)
        elif r.tag == 1:
            st = read_status(r)
        else:
            _consume(r)
    r.exit()
    if path is None or st is None:
        raise _bad(what)
    return path, st


def read_attribute_status(r):
    path, st = _read_path_status(r, read_attribute_path, "AttributeStatusIB")
    return AttributeStatus(path, st[0], st[1])


def _read_choice(r, what, read_0, read_1):
    """An IB holding exactly one of two members (tag 0 or tag 1)."""
    if r.type != tlv.STRUCT:
        raise _bad(what)
    out = None
    r.enter()
    while r.next():
        if out is not None:
            raise _bad(what + ": two members")
        if r.tag == 0:
            out = read_0(r)
        elif r.tag == 1:
            out = read_1(r)
        else:
            raise _bad(what + " tag")
    r.exit()
    if out is None:
        raise _bad(what + ": empty")
    return out


def read_attribute_report(r):
    """AttributeReportIB -> AttributeData or AttributeStatus."""
    return _read_choice(r, "AttributeReportIB", read_attribute_status, read_attribute_data)


def _read_event_status(r):
    path, st = _read_path_status(r, read_event_path, "EventStatusIB")
    return EventStatus(path, st[0], st[1])


def read_event_report(r):
    """EventReportIB -> EventStatus or EventData."""
    return _read_choice(r, "EventReportIB", _read_event_status, read_event_data)


def read_command_data(r):
    if r.type != tlv.STRUCT:
        raise _bad("CommandDataIB")
    path = fields = ref = None
    r.enter()
    while True:
        start = r.pos
        if not r.next():
            break
        if r.tag == 0:
            path = read_command_path(r)
        elif r.tag == 1:
            fields = _span(r, start)
        elif r.tag == 2:
            ref = _uint(r, _MAX_U16, "CommandRef")
        else:
            _consume(r)
    r.exit()
    if path is None:
        raise _bad("CommandDataIB: no path")
    return CommandData(path, fields, ref)


def read_command_status(r):
    if r.type != tlv.STRUCT:
        raise _bad("CommandStatusIB")
    path = st = ref = None
    r.enter()
    while r.next():
        if r.tag == 0:
            path = read_command_path(r)
        elif r.tag == 1:
            st = read_status(r)
        elif r.tag == 2:
            ref = _uint(r, _MAX_U16, "CommandRef")
        else:
            _consume(r)
    r.exit()
    if path is None or st is None:
        raise _bad("CommandStatusIB")
    return CommandStatus(path, st[0], st[1], ref)


def read_invoke_response(r):
    """InvokeResponseIB -> CommandData or CommandStatus."""
    return _read_choice(r, "InvokeResponseIB", read_command_data, read_command_status)


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


def _field0(buf, what):
    """The mandatory unsigned field under tag 0 of a one-field message (other members are skipped)."""
    r = _open(buf)
    value = None
    while r.next():
        if r.tag == 0:
            value = _uint(r, _MAX_U16, what)
        else:
            _consume(r)
    _close(r)
    if value is None:
        raise _bad(what)
    return value


def _status_response(buf):
    return StatusResponse(_field0(buf, "StatusResponse"))


def decode_status_response(buf):
    return _decode(_status_response, buf)


class TimedRequest:
    def __init__(self, timeout_ms):
        self.timeout_ms = timeout_ms

    def encode(self, w=None):
        w = _writer(w)
        w.uint(0, self.timeout_ms)
        return _finish(w)


def _timed_request(buf):
    return TimedRequest(_field0(buf, "TimedRequest"))


def decode_timed_request(buf):
    return _decode(_timed_request, buf)


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
            w.start_array(base)
            for p in self.attribute_paths:
                _write_path(w, None, p)
            w.end_container()
        if self.event_paths:
            w.start_array(base + 1)
            for p in self.event_paths:
                write_event_path(w, None, p)
            w.end_container()
        if self.event_filters:
            w.start_array(base + 2)
            for node, event_min in self.event_filters:
                w.start_struct(None)
                if node is not None:
                    w.uint(0, node)
                w.uint(1, event_min)
                w.end_container()
            w.end_container()

    def _encode_filters(self, w, fabric_tag, filters_tag):
        w.bool(fabric_tag, self.fabric_filtered)
        if self.data_version_filters:
            w.start_array(filters_tag)
            for f in self.data_version_filters:
                w.start_struct(None)
                w.start_list(0)
                if f.node is not None:
                    w.uint(0, f.node)
                w.uint(1, f.endpoint)
                w.uint(2, f.cluster)
                w.end_container()
                w.uint(1, f.version)
                w.end_container()
            w.end_container()

    def encode(self, w=None):
        w = _writer(w)
        self._encode_body(w, 0)
        self._encode_filters(w, 3, 4)
        return _finish(w)

    def _member(self, r, tag, base, fabric_tag, filters_tag):
        """Decode one member of a read or subscribe request; False if the tag is not a read member."""
        if tag == base:
            self.attribute_paths = _array(r, read_attribute_path, "AttributeRequests")
        elif tag == base + 1:
            self.event_paths = _array(r, read_event_path, "EventRequests")
        elif tag == base + 2:
            self.event_filters = _array(r, read_event_filter, "EventFilters")
        elif tag == fabric_tag:
            self.fabric_filtered = _bool(r, "IsFabricFiltered")
        elif tag == filters_tag:
            self.data_version_filters = _array(r, read_data_version_filter, "DataVersionFilters")
        else:
            return False
        return True


def _read_request(buf):
    r = _open(buf)
    m = ReadRequest()
    while r.next():
        if not m._member(r, r.tag, 0, 3, 4):
            _consume(r)
    _close(r)
    return m


def decode_read_request(buf):
    return _decode(_read_request, buf)


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


def _subscribe_request(buf):
    r = _open(buf)
    m = SubscribeRequest()
    floor = ceiling = None
    while r.next():
        tag = r.tag
        if tag == 0:
            m.keep_subscriptions = _bool(r, "KeepSubscriptions")
        elif tag == 1:
            floor = _uint(r, _MAX_U16, "MinIntervalFloor")
        elif tag == 2:
            ceiling = _uint(r, _MAX_U16, "MaxIntervalCeiling")
        elif not m._member(r, tag, 3, 7, 8):
            _consume(r)
    _close(r)
    if floor is None or ceiling is None:
        raise _bad("SubscribeRequest: intervals are required")
    m.min_interval_floor = floor
    m.max_interval_ceiling = ceiling
    return m


def decode_subscribe_request(buf):
    return _decode(_subscribe_request, buf)


class SubscribeResponse:
    def __init__(self, subscription_id, max_interval):
        self.subscription_id = subscription_id
        self.max_interval = max_interval

    def encode(self, w=None):
        w = _writer(w)
        w.uint(0, self.subscription_id)
        w.uint(2, self.max_interval)
        return _finish(w)


def _subscribe_response(buf):
    r = _open(buf)
    sid = interval = None
    while r.next():
        if r.tag == 0:
            sid = _uint(r, _MAX_U32, "SubscriptionId")
        elif r.tag == 2:
            interval = _uint(r, _MAX_U16, "MaxInterval")
        else:
            _consume(r)
    _close(r)
    if sid is None or interval is None:
        raise _bad("SubscribeResponse")
    return SubscribeResponse(sid, interval)


def decode_subscribe_response(buf):
    return _decode(_subscribe_response, buf)


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
            w.start_array(1)
            for rep in self.attribute_reports:
                w.start_struct(None)
                if isinstance(rep, AttributeStatus):
                    _write_attribute_status_ib(w, 0, rep)
                else:
                    _write_attribute_data(w, 1, rep)
                w.end_container()
            w.end_container()
        if self.event_reports:
            w.start_array(2)
            for rep in self.event_reports:
                if isinstance(rep, EventData):
                    p = rep.path
                    write_event_data(w, None, p.endpoint, p.cluster, p.event, rep.number, rep.priority,
                                     rep.system_time_ms)
                    _write_data(w, 7, rep.data, None)
                    w.end_container()
                    w.end_container()
                else:
                    write_event_status(w, None, rep.path, rep.status, rep.cluster_status)
            w.end_container()
        if self.more_chunks:
            w.bool(3, True)
        if self.suppress_response:
            w.bool(4, True)
        return _finish(w)


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


class EventData:
    """EventDataIB as received: path, number, priority, timestamps and the data element's span."""

    def __init__(self, path, number, priority, system_time_ms=None, epoch_time_us=None, data=None):
        self.path = path
        self.number = number
        self.priority = priority
        self.system_time_ms = system_time_ms
        self.epoch_time_us = epoch_time_us
        self.data = data

    def value(self):
        return tlv.decode(self.data) if self.data is not None else None


def read_event_data(r):
    if r.type != tlv.STRUCT:
        raise _bad("EventDataIB")
    path = number = priority = system = epoch = data = None
    r.enter()
    while True:
        start = r.pos
        if not r.next():
            break
        tag = r.tag
        if tag == 0:
            path = read_event_path(r)
        elif tag == 1:
            number = _uint(r, _MAX_U64, "EventNumber")
        elif tag == 2:
            priority = _uint(r, 2, "Priority")
        elif tag == 3:
            epoch = _uint(r, _MAX_U64, "EpochTimestamp")
        elif tag == 4:
            system = _uint(r, _MAX_U64, "SystemTimestamp")
        elif tag == 7:
            data = _span(r, start)
        else:
            _consume(r)
    r.exit()
    if path is None or number is None or priority is None:
        raise _bad("EventDataIB")
    return EventData(path, number, priority, system, epoch, data)


def _report_data(buf):
    r = _open(buf)
    m = ReportData()
    while r.next():
        tag = r.tag
        if tag == 0:
            m.subscription_id = _uint(r, _MAX_U32, "SubscriptionId")
        elif tag == 1:
            m.attribute_reports = _array(r, read_attribute_report, "AttributeReports")
        elif tag == 2:
            m.event_reports = _array(r, read_event_report, "EventReports")
        elif tag == 3:
            m.more_chunks = _bool(r, "MoreChunkedMessages")
        elif tag == 4:
            m.suppress_response = _bool(r, "SuppressResponse")
        else:
            _consume(r)
    _close(r)
    return m


def decode_report_data(buf):
    return _decode(_report_data, buf)


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
        w.start_array(2)
        for d in self.write_requests:
            _write_attribute_data(w, None, d)
        w.end_container()
        if self.more_chunks:
            w.bool(3, True)
        return _finish(w)


def _write_request(buf):
    r = _open(buf)
    m = WriteRequest()
    seen = False
    while r.next():
        tag = r.tag
        if tag == 0:
            m.suppress_response = _bool(r, "SuppressResponse")
        elif tag == 1:
            m.timed_request = _bool(r, "TimedRequest")
        elif tag == 2:
            m.write_requests = _array(r, read_attribute_data, "WriteRequests")
            seen = True
        elif tag == 3:
            m.more_chunks = _bool(r, "MoreChunkedMessages")
        else:
            _consume(r)
    _close(r)
    if not seen:
        raise _bad("WriteRequest: no WriteRequests")
    return m


def decode_write_request(buf):
    return _decode(_write_request, buf)


class WriteResponse:
    def __init__(self, statuses=None):
        self.statuses = statuses or []

    def encode(self, w=None):
        w = _writer(w)
        w.start_array(0)
        for s in self.statuses:
            _write_attribute_status_ib(w, None, s)
        w.end_container()
        return _finish(w)


def _write_response(buf):
    r = _open(buf)
    m = WriteResponse()
    while r.next():
        if r.tag == 0:
            m.statuses = _array(r, read_attribute_status, "WriteResponses")
        else:
            _consume(r)
    _close(r)
    return m


def decode_write_response(buf):
    return _decode(_write_response, buf)


class InvokeRequest:
    def __init__(self, invoke_requests=None, timed_request=False, suppress_response=False):
        self.invoke_requests = invoke_requests or []
        self.timed_request = timed_request
        self.suppress_response = suppress_response

    def encode(self, w=None):
        w = _writer(w)
        w.bool(0, self.suppress_response)
        w.bool(1, self.timed_request)
        w.start_array(2)
        for c in self.invoke_requests:
            _write_command_data(w, None, c)
        w.end_container()
        return _finish(w)


def _invoke_request(buf):
    r = _open(buf)
    m = InvokeRequest()
    seen = False
    while r.next():
        tag = r.tag
        if tag == 0:
            m.suppress_response = _bool(r, "SuppressResponse")
        elif tag == 1:
            m.timed_request = _bool(r, "TimedRequest")
        elif tag == 2:
            m.invoke_requests = _array(r, read_command_data, "InvokeRequests")
            seen = True
        else:
            _consume(r)
    _close(r)
    if not seen:
        raise _bad("InvokeRequest: no InvokeRequests")
    return m


def decode_invoke_request(buf):
    return _decode(_invoke_request, buf)


class InvokeResponse:
    """InvokeResponseMessage; ``responses`` holds CommandData / CommandStatus."""

    def __init__(self, responses=None, suppress_response=False, more_chunks=False):
        self.responses = responses or []
        self.suppress_response = suppress_response
        self.more_chunks = more_chunks

    def encode(self, w=None):
        w = _writer(w)
        w.bool(0, self.suppress_response)
        w.start_array(1)
        for rep in self.responses:
            w.start_struct(None)
            if isinstance(rep, CommandStatus):
                p = rep.path
                write_command_status(w, 1, p.endpoint, p.cluster, p.command, rep.status, rep.cluster_status, rep.ref)
            else:
                _write_command_data(w, 0, rep)
            w.end_container()
        w.end_container()
        if self.more_chunks:
            w.bool(2, True)
        return _finish(w)


def _invoke_response(buf):
    r = _open(buf)
    m = InvokeResponse()
    while r.next():
        tag = r.tag
        if tag == 0:
            m.suppress_response = _bool(r, "SuppressResponse")
        elif tag == 1:
            m.responses = _array(r, read_invoke_response, "InvokeResponses")
        elif tag == 2:
            m.more_chunks = _bool(r, "MoreChunkedMessages")
        else:
            _consume(r)
    _close(r)
    return m


def decode_invoke_response(buf):
    return _decode(_invoke_response, buf)
