"""The sans-I/O interaction engine: IM requests in, IM responses and subscription reports out.

The exchange layer calls ``on_request(exchange, subject, opcode, payload,
now_ms)`` for every IM message of an exchange and sends back what it
returns: ``None`` or a ``Reply`` (opcode, payload, and whether the exchange
stays open for the peer's next message).  ``poll(now_ms)`` returns the
subscription reports due, each an ``Outgoing`` to send on a new exchange of
its session; the messages the peer sends back on that exchange come in
through ``on_request`` with ``outgoing.exchange`` as the exchange.
``next_deadline()`` says when to poll next.  No session, exchange or socket
is touched here: ``exchange`` is any hashable key of the caller's.

Multi-message interactions (chunked reads, subscription priming and
reports, chunked writes, timed requests) keep a small state per exchange, at
most ``max_interactions`` of them; beyond that a request is answered with
RESOURCE_EXHAUSTED.  Nothing raised by a handler or a malformed payload
escapes: it becomes a status.
"""

from micromatter import log
from micromatter.compat import const
from micromatter.errors import MatterError, TlvError
from micromatter.tlv import TlvWriter, TlvReader, TlvBufferFullError
from micromatter.datamodel import types as T
from micromatter.datamodel import model as M
from micromatter.datamodel import codec
from micromatter.datamodel.node import Context
from micromatter.im import messages as msg
from micromatter.im import status
from micromatter.im.status import StatusError
from micromatter.im.acl import VIEW, GROUP
from micromatter.im.paths import WHOLE, APPEND, resolve_attribute, resolve_cluster, expand_clusters, path_attributes
from micromatter.im.subscriptions import Subscription, choose_max_interval, event_matches

# IPv6 minimum MTU 1280 - IPv6 (40) - UDP (8) = 1232 bytes of Matter message; less the message header
# (at most 24 without extensions), the protocol header (at most 12) and the MIC (16).
DEFAULT_MAX_PAYLOAD = const(1180)
MAX_INTERACTIONS = const(4)
MAX_SUBSCRIPTIONS = const(10)
MAX_PATHS_PER_SUBSCRIPTION = const(10)
MAX_PATHS_PER_INVOKE = const(1)
# How long a multi-message interaction waits for the peer's next message.
RESPONSE_TIMEOUT_MS = const(30000)
# Bytes kept free at the end of a ReportData for its trailer: end of the report array (1),
# MoreChunkedMessages (2), SuppressResponse (2), InteractionModelRevision (3), end of the message (1).
_TRAILER = const(9)

# Lists one write interaction may replace and then append to (their prior data versions are kept).
_MAX_LIST_WRITES = const(4)

_DATA = const(0)
_STATUS = const(1)
_EVENT_STATUS = const(2)
_EVENT_DATA = const(3)


class Reply:
    """A message to send on the exchange the request came on; ``expect_reply``: keep the exchange open."""

    def __init__(self, opcode, payload, expect_reply=False):
        self.opcode = opcode
        self.payload = payload
        self.expect_reply = expect_reply


class Outgoing(Reply):
    """A message that opens a new exchange on ``session`` (subscription reports)."""

    def __init__(self, session, exchange, opcode, payload, expect_reply=True):
        Reply.__init__(self, opcode, payload, expect_reply)
        self.session = session
        self.exchange = exchange


# Report items are tuples: (_DATA, cluster, attr), (_STATUS, (endpoint, cluster, attribute), status),
# (_EVENT_STATUS, event path, status), (_EVENT_DATA, event record, None).


class _Timed:
    def __init__(self, subject, deadline_ms):
        self.subject = subject
        self.deadline_ms = deadline_ms


class _Writing:
    """A chunked write awaiting its next WriteRequest; ``lists`` keeps, per list being written, the data
    version it had before its replace-all (the appends that follow are checked against that one)."""

    def __init__(self, subject, timed, deadline_ms, lists):
        self.subject = subject
        self.timed = timed
        self.deadline_ms = deadline_ms
        self.lists = lists


class _Reporting:
    """A read, a subscription priming or a subscription report, sent in chunks."""

    def __init__(self, subject, items, fabric_filtered, subscription, deadline_ms, priming=False):
        self.subject = subject
        self.items = items
        self.fabric_filtered = fabric_filtered
        self.subscription = subscription
        self.deadline_ms = deadline_ms
        self.priming = priming
        self.pending = None
        self.list_start = -1  # >= 0: ``pending`` is a list being sent item by item from this index
        self.finished = False  # the last chunk went out

    def next_item(self):
        item = self.pending
        if item is not None:
            self.pending = None
            return item
        for item in self.items:
            return item
        return None


class Engine:
    def __init__(self, node, acl, max_payload=DEFAULT_MAX_PAYLOAD, max_interactions=MAX_INTERACTIONS,
                 max_subscriptions=MAX_SUBSCRIPTIONS, max_paths_per_subscription=MAX_PATHS_PER_SUBSCRIPTION,
                 max_paths_per_invoke=MAX_PATHS_PER_INVOKE, random_u32=None, max_interval_preference_s=None):
        self.node = node
        self.acl = acl
        self.max_payload = max_payload
        self.max_interactions = max_interactions
        self.max_subscriptions = max_subscriptions
        self.max_paths_per_subscription = max_paths_per_subscription
        self.max_paths_per_invoke = max_paths_per_invoke
        self.max_interval_preference_s = max_interval_preference_s
        self._random_u32 = random_u32
        self._next_id = random_u32() if random_u32 is not None else 1
        self._buf = bytearray(max_payload)
        self._writer = TlvWriter(self._buf)
        self._reader = TlvReader(b"")
        self._states = {}  # exchange -> _Timed / _Writing / _Reporting
        self.subscriptions = []
        node.listeners.append(self._on_change)
        node.events.listeners.append(self._on_event)

    # --- the entry points ---------------------------------------------------------

    def on_request(self, exchange, subject, opcode, payload, now_ms):
        """Handle one IM message of ``exchange``; returns a ``Reply`` or None (nothing to send)."""
        before = self._states.get(exchange)
        try:
            return self._dispatch(exchange, subject, opcode, payload, now_ms)
        except MatterError as e:
            log.warning("im", "bad request: " + repr(e))
            code = e.status if isinstance(e, StatusError) else status.INVALID_ACTION
        except Exception as e:  # a handler bug must not take the node down
            log.error("im", "request failed: " + repr(e))
            code = status.FAILURE
        self._states.pop(exchange, None)
        if isinstance(before, _Reporting) and before.subscription is not None:
            self._remove_subscription(before.subscription)
        return self._status_reply(code)

    def on_exchange_closed(self, exchange):
        """The exchange ended without the reply awaited (MRP gave up, or the peer closed it)."""
        state = self._states.pop(exchange, None)
        if isinstance(state, _Reporting) and state.subscription is not None:
            self._remove_subscription(state.subscription)

    def on_session_removed(self, session):
        """A session is gone: its subscriptions and interactions go with it."""
        for sub in list(self.subscriptions):
            if sub.subject.session is session:
                self._remove_subscription(sub)
        for key in list(self._states):
            if self._states[key].subject.session is session:
                del self._states[key]

    def remove_fabric(self, fabric_index):
        """A fabric was removed: drop its subscriptions."""
        for sub in list(self.subscriptions):
            if sub.subject.fabric_index == fabric_index:
                self._remove_subscription(sub)

    def next_deadline(self):
        """The time (ms) ``poll`` should next be called at, or None."""
        best = self.node.next_deadline()
        for sub in self.subscriptions:
            d = sub.deadline()
            if d is not None and (best is None or d < best):
                best = d
        for state in self._states.values():
            d = state.deadline_ms
            if best is None or d < best:
                best = d
        return best

    def poll(self, now_ms):
        """Run the node's timers, expire stale interactions and return the subscription reports due."""
        try:
            self.node.poll(now_ms)
        except Exception as e:
            log.error("im", "timer failed: " + repr(e))
        for key in list(self._states):
            state = self._states[key]
            if now_ms >= state.deadline_ms:
                self.on_exchange_closed(key)
        out = []
        for sub in list(self.subscriptions):
            d = sub.deadline()
            if d is None or now_ms < d:
                continue
            try:
                outgoing = self._report(sub, now_ms)
            except Exception as e:
                log.error("im", "report failed: " + repr(e))
                self._remove_subscription(sub)
                continue
            if outgoing is not None:
                out.append(outgoing)
        return out

    # --- dispatch ------------------------------------------------------------------

    def _dispatch(self, exchange, subject, opcode, payload, now_ms):
        if subject.auth_mode == GROUP:
            # Groupcast Write/Invoke need the Groups cluster's membership, which this node does not have;
            # everything else is not allowed over a group session.  Group messages are never answered.
            return None
        state = self._states.pop(exchange, None)
        if state is not None:
            if isinstance(state, _Reporting):
                return self._continue_report(exchange, state, opcode, payload, now_ms)
            if isinstance(state, _Timed):
                if opcode != msg.WRITE_REQUEST and opcode != msg.INVOKE_REQUEST:
                    return self._status_reply(status.INVALID_ACTION)
                if now_ms > state.deadline_ms:
                    return self._status_reply(status.TIMEOUT)
                if opcode == msg.WRITE_REQUEST:
                    return self._write(exchange, subject, payload, now_ms, True)
                return self._invoke(subject, payload, now_ms, True)
            if isinstance(state, _Writing):
                if opcode != msg.WRITE_REQUEST:
                    return self._status_reply(status.INVALID_ACTION)
                return self._write(exchange, subject, payload, now_ms, state.timed, state.lists)
        if opcode == msg.READ_REQUEST:
            return self._read(exchange, subject, payload, now_ms)
        if opcode == msg.SUBSCRIBE_REQUEST:
            return self._subscribe(exchange, subject, payload, now_ms)
        if opcode == msg.WRITE_REQUEST:
            return self._write(exchange, subject, payload, now_ms, False)
        if opcode == msg.INVOKE_REQUEST:
            return self._invoke(subject, payload, now_ms, False)
        if opcode == msg.TIMED_REQUEST:
            return self._timed(exchange, subject, payload, now_ms)
        return self._status_reply(status.INVALID_ACTION)

    def _status_reply(self, code, expect_reply=False):
        return Reply(msg.STATUS_RESPONSE, msg.StatusResponse(code).encode(self._fresh_writer()), expect_reply)

    def _fresh_writer(self, reserve=0):
        w = self._writer
        w.rewind(w.start, 0)
        w.end = self.max_payload - reserve
        return w

    def _room_for_state(self):
        return len(self._states) < self.max_interactions

    # --- timed requests --------------------------------------------------------------

    def _timed(self, exchange, subject, payload, now_ms):
        req = msg.decode_timed_request(payload)
        if not self._room_for_state():
            return self._status_reply(status.RESOURCE_EXHAUSTED)
        self._states[exchange] = _Timed(subject, now_ms + req.timeout_ms)
        return self._status_reply(status.SUCCESS, True)

    # --- read and subscribe ------------------------------------------------------------

    def _read(self, exchange, subject, payload, now_ms):
        req = msg.decode_read_request(payload)
        if not req.attribute_paths and not req.event_paths:
            return self._status_reply(status.INVALID_ACTION)
        items = self._read_items(subject, req.attribute_paths, req.event_paths, req.data_version_filters,
                                 _event_min(req))
        state = _Reporting(subject, items, req.fabric_filtered, None, now_ms + RESPONSE_TIMEOUT_MS)
        payload, more = self._chunk(state, now_ms, False)
        if not more:
            return Reply(msg.REPORT_DATA, payload, False)
        if not self._room_for_state():
            return self._status_reply(status.RESOURCE_EXHAUSTED)
        self._states[exchange] = state
        return Reply(msg.REPORT_DATA, payload, True)

    def _subscribe(self, exchange, subject, payload, now_ms):
        req = msg.decode_subscribe_request(payload)
        if not req.attribute_paths and not req.event_paths:
            return self._status_reply(status.INVALID_ACTION)
        if req.min_interval_floor > req.max_interval_ceiling:
            return self._status_reply(status.INVALID_ACTION)
        if not req.keep_subscriptions:
            for sub in list(self.subscriptions):
                if sub.subject.same_peer(subject):
                    self._remove_subscription(sub)
        if len(req.attribute_paths) + len(req.event_paths) > self.max_paths_per_subscription:
            return self._status_reply(status.RESOURCE_EXHAUSTED)
        if len(self.subscriptions) >= self.max_subscriptions or not self._room_for_state():
            return self._status_reply(status.RESOURCE_EXHAUSTED)
        max_interval = choose_max_interval(
            req.min_interval_floor, req.max_interval_ceiling, self.max_interval_preference_s
        )
        sub = Subscription(
            self._new_subscription_id(),
            subject,
            req.attribute_paths,
            req.event_paths,
            req.fabric_filtered,
            req.min_interval_floor,
            max_interval,
        )
        sub.event_next = self.node.events.next_number
        items = self._read_items(subject, req.attribute_paths, req.event_paths, req.data_version_filters,
                                 _event_min(req))
        state = _Reporting(subject, items, req.fabric_filtered, sub, now_ms + RESPONSE_TIMEOUT_MS, True)
        payload, more = self._chunk(state, now_ms, True)
        self.subscriptions.append(sub)  # inactive until primed, but collecting changes from now on
        self._states[exchange] = state
        return Reply(msg.REPORT_DATA, payload, True)

    def _new_subscription_id(self):
        """A random id (counting up without ``random_u32``), stepped past the ids in use: at most that many
        steps, however the random source behaves."""
        if self._random_u32 is not None:
            candidate = self._random_u32() & 0xFFFFFFFF
        else:
            candidate = (self._next_id + 1) & 0xFFFFFFFF
        for _ in range(len(self.subscriptions) + 1):
            for sub in self.subscriptions:
                if sub.id == candidate:
                    break
            else:
                break
            candidate = (candidate + 1) & 0xFFFFFFFF
        self._next_id = candidate
        return candidate

    def _remove_subscription(self, sub):
        if sub in self.subscriptions:
            self.subscriptions.remove(sub)
        sub.active = False

    def _continue_report(self, exchange, state, opcode, payload, now_ms):
        """The peer's StatusResponse to a chunk: send the next one, or finish the interaction."""
        sub = state.subscription
        if opcode != msg.STATUS_RESPONSE:
            if sub is not None:
                self._remove_subscription(sub)
            return self._status_reply(status.INVALID_ACTION)
        code = msg.decode_status_response(payload).status
        if code != status.SUCCESS:
            if sub is not None:
                self._remove_subscription(sub)
            return None
        if state.finished:
            if state.priming:
                sub.active = True
                sub.last_report_ms = now_ms
                return Reply(msg.SUBSCRIBE_RESPONSE, msg.SubscribeResponse(sub.id, sub.max_interval_s).encode(
                    self._fresh_writer()), False)
            if sub is not None:
                sub.in_flight = None
            return None
        state.deadline_ms = now_ms + RESPONSE_TIMEOUT_MS
        payload, more = self._chunk(state, now_ms, sub is not None)
        expect = more or sub is not None
        if expect:
            self._states[exchange] = state
        return Reply(msg.REPORT_DATA, payload, expect)

    def _report(self, sub, now_ms):
        """The report a subscription is due (changes, or an empty keep-alive)."""
        event_min = None
        changes = []
        if now_ms >= sub.last_report_ms + sub.min_interval_s * 1000:
            changes = sub.take_changes()
            if sub.events_dirty:
                event_min = sub.event_next
                sub.event_next = self.node.events.next_number
                sub.events_dirty = False
        if changes is None:
            items = self._read_items(sub.subject, sub.attribute_paths, (), ())
        else:
            items = self._change_items(sub, changes)
        if event_min is not None:
            items = _chain(items, self._event_items(sub.subject, sub.event_paths, event_min))
        state = _Reporting(sub.subject, items, sub.fabric_filtered, sub, now_ms + RESPONSE_TIMEOUT_MS)
        payload, more = self._chunk(state, now_ms, True)
        key = state  # the exchange key the caller uses for the reply on the new exchange
        sub.in_flight = key
        sub.last_report_ms = now_ms
        self._states[key] = state
        return Outgoing(sub.subject.session, key, msg.REPORT_DATA, payload, True)

    # --- what a report holds ---------------------------------------------------------

    def _version_filtered(self, cluster, filters):
        for f in filters:
            if f.endpoint == cluster.endpoint.id and f.cluster == cluster.ID and f.version == cluster.data_version:
                return True
        return False

    def _may_read(self, subject, cluster, attr):
        return self.acl.check(subject, cluster.endpoint.id, cluster.ID, attr.read, cluster.endpoint.device_type_ids)

    def _may_read_event(self, subject, record):
        endpoint = self.node.endpoint(record.endpoint_id)
        if record.event.fabric_sensitive and record.fabric_index != subject.fabric_index:
            return False
        return self.acl.check(subject, record.endpoint_id, record.cluster_id, record.event.read,
                              endpoint.device_type_ids if endpoint is not None else ())

    def _event_items(self, subject, event_paths, event_min):
        """The logged events at or after ``event_min`` under the paths that ``subject`` may read."""
        for record in list(self.node.events.records):
            if record.number < event_min:
                continue
            for p in event_paths:
                if event_matches(p, record):
                    break
            else:
                continue
            if self._may_read_event(subject, record):
                yield (_EVENT_DATA, record, None)

    def _read_items(self, subject, paths, event_paths, filters, event_min=0):
        """Expand request paths into report items, in request order (a generator: chunks resume it)."""
        node = self.node
        for p in paths:
            if p.is_concrete():
                try:
                    cluster, attr = resolve_attribute(node, p)
                except StatusError as e:
                    yield (_STATUS, (p.endpoint, p.cluster, p.attribute), e.status)
                    continue
                if self._version_filtered(cluster, filters):
                    continue
                if not self._may_read(subject, cluster, attr):
                    yield (_STATUS, (p.endpoint, p.cluster, p.attribute), status.UNSUPPORTED_ACCESS)
                    continue
                yield (_DATA, cluster, attr)
            else:
                for cluster in expand_clusters(node, p):
                    attrs = path_attributes(cluster, p)
                    if not attrs or self._version_filtered(cluster, filters):
                        continue
                    for attr in attrs:
                        if self._may_read(subject, cluster, attr):
                            yield (_DATA, cluster, attr)
        for p in event_paths:
            if not p.is_concrete():
                continue
            try:
                cluster = resolve_cluster(node, p.endpoint, p.cluster)
                event = cluster.event(p.event)
                if event is None:
                    raise StatusError(status.UNSUPPORTED_EVENT)
                if not self.acl.check(subject, p.endpoint, p.cluster, event.read, cluster.endpoint.device_type_ids):
                    raise StatusError(status.UNSUPPORTED_ACCESS)
            except StatusError as e:
                yield (_EVENT_STATUS, p, e.status)
        if event_paths:
            for item in self._event_items(subject, event_paths, event_min):
                yield item

    def _change_items(self, sub, changes):
        node = self.node
        for endpoint_id, cluster_id, attr_id in changes:
            cluster = node.cluster(endpoint_id, cluster_id)
            if cluster is None:
                continue
            for attr in cluster.attributes():
                if attr_id is not None and attr.id != attr_id:
                    continue
                if attr_id is None:
                    for p in sub.attribute_paths:
                        if p.matches(endpoint_id, cluster_id, attr.id):
                            break
                    else:
                        continue
                if self._may_read(sub.subject, cluster, attr):
                    yield (_DATA, cluster, attr)

    # --- chunked ReportData encoding ------------------------------------------------------

    def _chunk(self, state, now_ms, needs_status):
        """Encode the next ReportData of ``state`` into the payload buffer; returns (bytes, more)."""
        w = self._fresh_writer(_TRAILER)
        w.start_struct(None)
        sub = state.subscription
        if sub is not None:
            w.uint(0, sub.id)
        ctx = Context(self.node, state.subject, now_ms, state.fabric_filtered)
        array = None  # tag of the report array open now (1: attributes, 2: events)
        count = 0
        more = False
        while True:
            item = state.next_item()
            if item is None:
                break
            if state.list_start < 0:  # not a list already being sent item by item
                pos, depth, open_array = w.pos, w.depth, array
                try:
                    array = self._encode_item(w, item, ctx, array, count)
                    count += 1
                    continue
                except TlvBufferFullError:
                    w.rewind(pos, depth)
                    array = open_array
                if count:
                    state.pending = item  # the next chunk starts with it
                    more = True
                    break
                if item[0] != _DATA or not item[2].is_list:
                    # Not even this fits an empty message: drop the path rather than loop forever.
                    log.error("im", "report item larger than a message")
                    continue
            array = self._split_list(w, state, item, ctx, array)
            if state.list_start >= 0:
                state.pending = item
                more = True
                break
            count += 1
        w.end = self.max_payload
        if array is not None:
            w.end_container()
        if more:
            w.bool(3, True)
        elif not needs_status:
            w.bool(4, True)  # SuppressResponse: the last chunk of a read needs no StatusResponse
        msg.write_revision(w)
        w.end_container()
        state.finished = not more
        return w.getvalue(), more

    def _open_array(self, w, array, tag):
        if array != tag:
            if array is not None:
                w.end_container()
            w.start_array(tag)
        return tag

    def _encode_item(self, w, item, ctx, array, count):
        kind = item[0]
        if kind == _EVENT_STATUS:
            array = self._open_array(w, array, 2)
            msg.write_event_status(w, None, item[1], item[2])
            return array
        if kind == _EVENT_DATA:
            array = self._open_array(w, array, 2)
            record = item[1]
            msg.write_event_data(w, None, record.endpoint_id, record.cluster_id, record.event.id, record.number,
                                 record.event.priority, record.time_ms)
            codec.encode_struct(w, 7, record.event.type, record.fields)
            w.end_container()
            w.end_container()
            return array
        array = self._open_array(w, array, 1)
        if kind == _STATUS:
            ep, cl, at = item[1]
            w.start_struct(None)
            msg.write_attribute_status(w, 0, ep, cl, at, item[2])
            w.end_container()
            return array
        cluster, attr = item[1], item[2]
        try:
            value = self._read_value(cluster, attr, ctx)
        except Exception as e:  # one attribute failing must not fail the whole report
            if isinstance(e, StatusError):
                code, cluster_code = e.status, e.cluster_status
            else:
                log.error("im", "read failed: " + repr(e))
                code, cluster_code = status.FAILURE, None
            w.start_struct(None)
            msg.write_attribute_status(w, 0, cluster.endpoint.id, cluster.ID, attr.id, code, cluster_code)
            w.end_container()
            return array
        self._write_data_ib(w, cluster, attr, value, ctx, WHOLE)
        return array

    def _read_value(self, cluster, attr, ctx):
        value = cluster.read(attr, ctx)
        if attr.flags & M.FABRIC_SCOPED and ctx.fabric_filtered:
            fabric = ctx.subject.fabric_index
            value = [e for e in value if e.get(T.FABRIC_INDEX_TAG) == fabric]
        return value

    def _write_data_ib(self, w, cluster, attr, value, ctx, list_index):
        """An AttributeReportIB carrying data (the whole value, or one list item when appending)."""
        w.start_struct(None)
        w.start_struct(1)
        w.uint(0, cluster.data_version)
        msg.write_attribute_path(w, 1, cluster.endpoint.id, cluster.ID, attr.id, list_index)
        t = attr.type
        if list_index is APPEND:
            self._write_list_item(w, 2, t.element, value, attr, ctx)
        elif attr.flags & M.FABRIC_SCOPED:
            w.start_array(2)
            for item in value:
                self._write_list_item(w, None, t.element, item, attr, ctx)
            w.end_container()
        else:
            codec.encode(w, 2, t, value)
        w.end_container()
        w.end_container()

    def _write_list_item(self, w, tag, element, item, attr, ctx):
        hide = False
        if attr.flags & M.FABRIC_SCOPED:
            hide = item.get(T.FABRIC_INDEX_TAG) != ctx.subject.fabric_index
        codec.encode(w, tag, element, item, hide)

    def _split_list(self, w, state, item, ctx, array):
        """Send a list too long for one message as an empty list followed by one append per item;
        ``state.list_start`` is the next item to send, -1 once the list is done."""
        cluster, attr = item[1], item[2]
        value = self._read_value(cluster, attr, ctx)
        start = state.list_start
        array = self._open_array(w, array, 1)
        if start < 0:
            self._write_data_ib(w, cluster, attr, [], ctx, WHOLE)
            start = 0
        for i in range(start, len(value)):
            pos, depth = w.pos, w.depth
            try:
                self._write_data_ib(w, cluster, attr, value[i], ctx, APPEND)
            except TlvBufferFullError:
                w.rewind(pos, depth)
                if i == start and state.list_start >= 0:
                    log.error("im", "list item larger than a message")
                    continue
                state.list_start = i
                return array
        state.list_start = -1
        return array

    # --- write -----------------------------------------------------------------------

    def _write(self, exchange, subject, payload, now_ms, timed, lists=None):
        req = msg.decode_write_request(payload)
        if req.timed_request != timed:
            return self._status_reply(status.TIMED_REQUEST_MISMATCH)
        ctx = Context(self.node, subject, now_ms, True, timed)
        if lists is None:
            lists = []
        results = []
        for d in req.write_requests:
            code, cluster_code = self._write_one(d, ctx, lists)
            results.append(msg.AttributeStatus(d.path, code, cluster_code))
        if req.more_chunks:
            if not self._room_for_state():
                return self._status_reply(status.RESOURCE_EXHAUSTED)
            self._states[exchange] = _Writing(subject, timed, now_ms + RESPONSE_TIMEOUT_MS, lists)
        if req.suppress_response:
            return None
        return Reply(msg.WRITE_RESPONSE, msg.WriteResponse(results).encode(self._fresh_writer()), req.more_chunks)

    def _write_one(self, d, ctx, lists):
        p = d.path
        subject = ctx.subject
        if not p.is_concrete():
            return status.INVALID_ACTION, None
        try:
            cluster, attr = resolve_attribute(self.node, p)
            endpoint = cluster.endpoint
            writable = attr.flags & M.WRITABLE
            if not self.acl.check(subject, endpoint.id, cluster.ID, attr.write if writable else VIEW,
                                  endpoint.device_type_ids):
                return status.UNSUPPORTED_ACCESS, None
            if not writable:
                return status.UNSUPPORTED_WRITE, None
            if attr.flags & M.TIMED_WRITE and not ctx.timed:
                return status.NEEDS_TIMED_INTERACTION, None
            fabric_scoped = attr.flags & M.FABRIC_SCOPED
            if fabric_scoped and subject.fabric_index == 0:
                return status.UNSUPPORTED_ACCESS, None
            version = cluster.data_version
            if p.list_index is APPEND:
                for key, before in lists:
                    if key[0] is cluster and key[1] is attr:
                        version = before  # an append continuing this request's replace-all
            if d.data_version is not None and d.data_version != version:
                return status.DATA_VERSION_MISMATCH, None
            if p.list_index == WHOLE:
                value = self._decode(d.data, attr.type, status.CONSTRAINT_ERROR, attr.flags & M.NULLABLE, attr.limits)
                if fabric_scoped:
                    for e in value:
                        e[T.FABRIC_INDEX_TAG] = subject.fabric_index
                cluster.write(attr, value, ctx)
                if attr.is_list and len(lists) < _MAX_LIST_WRITES:
                    lists.append(((cluster, attr), version))
            elif p.list_index is APPEND and attr.is_list:
                value = self._decode(d.data, attr.type.element, status.CONSTRAINT_ERROR)
                if fabric_scoped:
                    value[T.FABRIC_INDEX_TAG] = subject.fabric_index
                cluster.append(attr, value, ctx)
            else:
                return status.INVALID_ACTION, None  # only whole lists and appends are defined
        except StatusError as e:
            return e.status, e.cluster_status
        return status.SUCCESS, None

    def _decode(self, data, t, bad, nullable=False, limits=None):
        """Decode a request's data element against a type; malformed or mistyped data is ``bad``
        (CONSTRAINT_ERROR for writes, INVALID_COMMAND for commands), out-of-range values CONSTRAINT_ERROR."""
        r = self._reader
        try:
            r.reset(data)
            if not r.next():
                raise StatusError(bad)
            return codec.decode(r, t, nullable, limits)
        except TlvError:
            raise StatusError(bad)
        except StatusError as e:
            if e.status == status.INVALID_DATA_TYPE:
                raise StatusError(bad)
            raise

    # --- invoke ------------------------------------------------------------------------

    def _invoke(self, subject, payload, now_ms, timed):
        req = msg.decode_invoke_request(payload)
        if req.timed_request != timed:
            return self._status_reply(status.TIMED_REQUEST_MISMATCH)
        n = len(req.invoke_requests)
        if n == 0 or n > self.max_paths_per_invoke:
            return self._status_reply(status.INVALID_ACTION)
        for c in req.invoke_requests:
            if not c.path.is_concrete():
                return self._status_reply(status.INVALID_ACTION)
        ctx = Context(self.node, subject, now_ms, True, timed)
        w = self._fresh_writer()
        w.start_struct(None)
        w.bool(0, False)
        w.start_array(1)
        for c in req.invoke_requests:
            self._invoke_one(w, c, ctx)
        w.end_container()
        msg.write_revision(w)
        w.end_container()
        if req.suppress_response:
            return None
        return Reply(msg.INVOKE_RESPONSE, w.getvalue(), False)

    def _invoke_one(self, w, c, ctx):
        p = c.path
        subject = ctx.subject
        try:
            cluster = resolve_cluster(self.node, p.endpoint, p.cluster)
            cmd = cluster.command(p.command)
            if cmd is None:
                raise StatusError(status.UNSUPPORTED_COMMAND)
            endpoint = cluster.endpoint
            if not self.acl.check(subject, endpoint.id, cluster.ID, cmd.invoke, endpoint.device_type_ids):
                raise StatusError(status.UNSUPPORTED_ACCESS)
            if cmd.flags & M.TIMED and not ctx.timed:
                raise StatusError(status.NEEDS_TIMED_INTERACTION)
            if cmd.flags & M.FABRIC_COMMAND and subject.fabric_index == 0:
                raise StatusError(status.UNSUPPORTED_ACCESS)
            fields = self._decode_fields(c.fields, cmd.request)
            result = cluster.invoke(cmd, fields, ctx)
        except StatusError as e:
            self._command_status(w, p, e.status, e.cluster_status, c.ref)
            return
        if result is None or cmd.response_id is None:
            self._command_status(w, p, status.SUCCESS, None, c.ref)
            return
        pos, depth = w.pos, w.depth
        try:
            w.start_struct(None)
            w.start_struct(0)
            msg.write_command_path(w, 0, p.endpoint, p.cluster, cmd.response_id)
            codec.encode_struct(w, 1, cmd.response, result)
            if c.ref is not None:
                w.uint(2, c.ref)
            w.end_container()
            w.end_container()
        except TlvBufferFullError:
            w.rewind(pos, depth)
            self._command_status(w, p, status.RESOURCE_EXHAUSTED, None, c.ref)

    def _command_status(self, w, p, code, cluster_code, ref):
        w.start_struct(None)
        msg.write_command_status(w, 1, p.endpoint, p.cluster, p.command, code, cluster_code, ref)
        w.end_container()

    def _decode_fields(self, data, request):
        if data is None:
            for f in request.fields:
                if not f.flags & T.OPTIONAL:
                    raise StatusError(status.INVALID_COMMAND)
            return {}
        return self._decode(data, request, status.INVALID_COMMAND)

    # --- change notification -------------------------------------------------------------

    def _on_change(self, endpoint_id, cluster_id, attr_id):
        for sub in self.subscriptions:
            sub.mark(endpoint_id, cluster_id, attr_id)

    def _on_event(self, record):
        for sub in self.subscriptions:
            if sub.event_paths and sub.wants_event(record):
                sub.events_dirty = True


def _event_min(req):
    """The lowest event number a request wants (its EventFilters' highest EventMin)."""
    low = 0
    for node, event_min in req.event_filters:
        if event_min > low:
            low = event_min
    return low


def _chain(first, second):
    for item in first:
        yield item
    for item in second:
        yield item
