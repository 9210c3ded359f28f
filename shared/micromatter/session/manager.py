"""SessionManager: every session of the node in fixed tables, and its resumption records in flash.

The Python counterpart of matter.js's ``SessionManager``, with fixed memory:
the secure table (3 per fabric + 2: one for a CASE responder, one for PASE),
the unsecured table (4) and the resumption records (3 per fabric) are sized
at construction and never grow.  It is sans-I/O: time comes in as ``now_ms``
arguments, nothing is sent; closing a session with ``send_close`` returns the
CloseSession status reports (``OutgoingMessage``) for the transport to send.

Session ids come from ``get_next_available_session_id``, which reserves a
slot (evicting a session if the table is full, or raising
``SessionBusyError``: answer Busy); ``create_secure_session`` then derives the
keys into that slot once the handshake succeeds.
"""

from micromatter import log
from micromatter.compat import const
from micromatter.errors import StorageError
from micromatter.fabric import Fabric
from micromatter.message import SESSION_UNICAST, ProtocolHeader
from micromatter.session.counters import GLOBAL_COUNTER_STEP, PersistedCounter
from micromatter.session.errors import (
    MessageRejectedError,
    SessionArgumentError,
    SessionBusyError,
    UnknownSessionError,
)
from micromatter.session.eviction import eviction_order
from micromatter.session.params import check_parameters
from micromatter.session.received import Received
from micromatter.session.resumption import ResumptionRecords
from micromatter.session.secure import (
    ACTIVE,
    DEFUNCT,
    ESTABLISHING,
    FREE,
    HEADER_LENGTH,
    PENDING_EVICTION,
    TAG_LENGTH,
    SecureSessionTable,
    check_bytes,
    check_callback,
    check_fabric,
    check_int,
    check_node_id,
    derive_session_keys,
    session_parameters,
)
from micromatter.session.slots import Slot
from micromatter.session.table import check_message, check_time
from micromatter.session.unsecure import DEFAULT_CAPACITY, UnsecureSession, UnsecureSessionTable, random_node_id

DEFAULT_MAX_FABRICS = const(5)
PROTECT_NEW_SESSION_MS = const(10000)
COUNTER_SLOT_PREFIX = "gc"
COUNTER_VERSION = const(1)

# CloseSession: a secure channel StatusReport, general code Success, protocol code CloseSession.
SECURE_CHANNEL_PROTOCOL = const(0x0000)
OPCODE_STATUS_REPORT = const(0x40)
GENERAL_SUCCESS = const(0)
CLOSE_SESSION = const(3)
_STATUS_REPORT_LENGTH = const(8)
_TAG = "session"


class OutgoingMessage:
    """A message the core wants sent: ``data`` on the session ``session_id`` (already ended) to the peer
    ``peer_node_id`` of fabric ``fabric_index`` (0 for PASE); ``reliable`` is False for CloseSession."""

    def __init__(self, session_id, peer_session_id, fabric_index, peer_node_id, data, reliable=False):
        self.session_id = session_id
        self.peer_session_id = peer_session_id
        self.fabric_index = fabric_index
        self.peer_node_id = peer_node_id
        self.data = data
        self.reliable = reliable

    def __repr__(self):
        return "<OutgoingMessage session=%d %d bytes>" % (self.session_id, len(self.data))


def _call(callback, session):
    if callback is None:
        return
    try:
        callback(session)
    except Exception as e:  # a callback's failure must not leave the tables half updated
        log.error(_TAG, "callback failed for %r: %r" % (session, e))


class SessionManager:
    """All sessions of a node.  ``context`` provides ``crypto`` and ``random_bytes(n)`` (a ``Port``);
    ``storage`` is the ``Storage`` context that holds resumption records and the global counter."""

    def __init__(
        self,
        context,
        storage,
        max_fabrics=DEFAULT_MAX_FABRICS,
        secure_capacity=None,
        unsecure_capacity=DEFAULT_CAPACITY,
        record_capacity=None,
        parameters=None,
        protect_new_session_ms=PROTECT_NEW_SESSION_MS,
        counter_step=GLOBAL_COUNTER_STEP,
    ):
        if getattr(context, "crypto", None) is None or not callable(getattr(context, "random_bytes", None)):
            raise SessionArgumentError("context must provide crypto and random_bytes (a Port)")
        if storage is None or not callable(getattr(storage, "get", None)) or not callable(getattr(storage, "set", None)):
            raise SessionArgumentError("storage must be a micromatter.storage.Storage")
        check_int(max_fabrics, "max_fabrics", 1, 254)
        if secure_capacity is None:
            secure_capacity = 3 * max_fabrics + 2
        if record_capacity is None:
            record_capacity = 3 * max_fabrics
        check_int(secure_capacity, "secure_capacity", 1, 4096)
        check_int(unsecure_capacity, "unsecure_capacity", 1, 255)
        check_int(record_capacity, "record_capacity", 1, 999)
        check_int(protect_new_session_ms, "protect_new_session_ms", 0, 0x7FFFFFFF)
        check_int(counter_step, "counter_step", 1, 0x7FFFFFFF)
        self.context = context
        self.storage = storage
        self.crypto = context.crypto
        self.random_bytes = context.random_bytes
        self.max_fabrics = max_fabrics
        self.protect_new_session_ms = protect_new_session_ms
        self.parameters = check_parameters(parameters, "parameters")
        self.received = Received()
        self.secure = SecureSessionTable(secure_capacity, self.crypto, self.random_bytes, self.received)
        self.counter = PersistedCounter(Slot(storage, COUNTER_SLOT_PREFIX, COUNTER_VERSION), self.random_bytes, counter_step)
        self.unsecure = UnsecureSessionTable(unsecure_capacity, self.counter, self.received)
        self.records = ResumptionRecords(storage, record_capacity)
        high_bits = 16 - self.secure.id_bits
        self._high_mask = (1 << high_bits) - 1
        raw = self.random_bytes(2)
        self._next_high = (raw[0] | (raw[1] << 8)) & self._high_mask
        self._close_header = ProtocolHeader()

    @property
    def secure_capacity(self):
        return self.secure.capacity

    @property
    def unsecure_capacity(self):
        return self.unsecure.capacity

    @property
    def record_capacity(self):
        return self.records.capacity

    # --- storage ------------------------------------------------------------------

    def init_from_storage(self, fabrics):
        """Restore the resumption records of the fabrics in ``fabrics`` (others are dropped) and move the
        global unencrypted counter past every value a previous boot may have used.  The records restored."""
        if isinstance(fabrics, Fabric) or not isinstance(fabrics, (list, tuple)):
            raise SessionArgumentError("fabrics must be a list of Fabric")
        n = self.records.load(fabrics)
        try:
            self.counter.load()
        except StorageError as e:  # retried on the first unsecured message, which fails until storage works
            log.error(_TAG, "cannot reserve the global message counter: %s" % e)
        if n:
            log.info(_TAG, "restored %d resumption records" % n)
        return n

    # --- secure sessions -----------------------------------------------------------

    def get_next_available_session_id(self, now_ms, fabric=None, peer_node_id=None):
        """Reserve a slot for a handshake about to run and return its new local session id.

        ``fabric``/``peer_node_id`` (when known) are the eviction hint.  Evicts a
        session if the table is full; ``SessionBusyError`` if none may be evicted."""
        check_time(now_ms)
        check_fabric(fabric)
        if peer_node_id is not None:
            check_node_id(peer_node_id, "peer_node_id")
        t = self.secure
        slot = -1
        for i in range(t.capacity):
            if t.state[i] == FREE:
                slot = i
                break
        if slot < 0:
            slot = self._evict(None if fabric is None else fabric.fabric_index, peer_node_id, now_ms)
        session_id = 0
        while session_id == 0:
            high = self._next_high
            self._next_high = (high + 1) & self._high_mask
            session_id = (high << t.id_bits) | slot
        t.reserve(slot, session_id, 0 if fabric is None else fabric.fabric_index, now_ms)
        return session_id

    def _evict(self, hint_fabric_index, hint_node_id, now_ms):
        t = self.secure
        for i in eviction_order(t, hint_fabric_index, hint_node_id, now_ms, self.protect_new_session_ms):
            handle = t.handles[i]
            log.info(_TAG, "evicting %r" % (handle if handle is not None else "establishing session %d" % t.local_id[i]))
            if t.holds[i]:
                t.state[i] = PENDING_EVICTION
                _call(t.close_callback[i], handle)
                continue
            _call(t.close_callback[i], handle)
            t.free(i)
            return i
        raise SessionBusyError("secure session table full and nothing may be evicted")

    def create_secure_session(
        self,
        session_id,
        fabric,
        peer_node_id,
        peer_session_id,
        shared_secret,
        salt,
        is_initiator,
        is_resumption,
        idle_retransmission_timeout_ms=None,
        active_retransmission_timeout_ms=None,
        close_callback=None,
        subscription_changed_callback=None,
        peer_session_parameters=None,
        peer_cats=(),
        now_ms=None,
    ):
        """Derive the session keys and make ``session_id`` (from ``get_next_available_session_id``) active.

        ``fabric`` is None for PASE (with ``peer_node_id`` 0).  ``close_callback(session)``
        runs when the session ends (removed, evicted, closed); ``subscription_changed_callback(session)``
        when its subscription count changes.  ``now_ms`` is required."""
        check_time(now_ms)
        check_int(session_id, "session_id", 1, 0xFFFF)
        check_fabric(fabric)
        check_node_id(peer_node_id, "peer_node_id")
        check_int(peer_session_id, "peer_session_id", 1, 0xFFFF)
        check_bytes(shared_secret, "shared_secret", 1, 64)
        check_bytes(salt, "salt", 0, 128)
        if not isinstance(is_initiator, bool) or not isinstance(is_resumption, bool):
            raise SessionArgumentError("is_initiator and is_resumption must be bools")
        if idle_retransmission_timeout_ms is not None:
            check_int(idle_retransmission_timeout_ms, "idle_retransmission_timeout_ms", 1, 3600000)
        if active_retransmission_timeout_ms is not None:
            check_int(active_retransmission_timeout_ms, "active_retransmission_timeout_ms", 1, 3600000)
        check_callback(close_callback, "close_callback")
        check_callback(subscription_changed_callback, "subscription_changed_callback")
        params = session_parameters(peer_session_parameters, idle_retransmission_timeout_ms, active_retransmission_timeout_ms)
        if not isinstance(peer_cats, (tuple, list)) or len(peer_cats) > 3:
            raise SessionArgumentError("peer_cats must be a list of at most 3 CATs")
        for c in peer_cats:
            check_int(c, "CAT", 1, 0xFFFFFFFF)
        if fabric is None and peer_node_id != 0:
            raise SessionArgumentError("a session without a fabric (PASE) has peer node id 0")
        t = self.secure
        i = session_id & t.mask
        if i >= t.capacity:
            raise UnknownSessionError("session id %d was not handed out by get_next_available_session_id" % session_id)
        state = t.state[i]
        if state != FREE and not (state == ESTABLISHING and t.local_id[i] == session_id):
            raise SessionArgumentError("session id %d is in use or was not reserved" % session_id)
        keys = derive_session_keys(self.crypto, shared_secret, salt, is_resumption)
        t.local_id[i] = session_id
        session = t.activate(
            i, fabric, peer_node_id, peer_session_id, keys, is_initiator, is_resumption, params, tuple(peer_cats),
            close_callback, subscription_changed_callback, now_ms,
        )
        log.debug(_TAG, "opened %r" % session)
        return session

    def get_session(self, session_id):
        """The secure session with local id ``session_id`` (active or defunct), or None."""
        check_int(session_id, "session_id", 0, 0xFFFF)
        t = self.secure
        i = t.slot_of(session_id)
        if i < 0 or (t.state[i] != ACTIVE and t.state[i] != DEFUNCT):
            return None
        return t.handles[i]

    def _sessions(self):
        t = self.secure
        return [t.handles[i] for i in range(t.capacity) if t.state[i] == ACTIVE or t.state[i] == DEFUNCT]

    def sessions(self):
        """The usable secure sessions (active or defunct)."""
        return self._sessions()

    def get_session_for_node(self, fabric, node_id):
        """The most recently used session to ``node_id`` on ``fabric`` (active preferred), or None."""
        if not isinstance(fabric, Fabric):
            raise SessionArgumentError("fabric must be a micromatter.fabric.Fabric")
        check_node_id(node_id)
        t = self.secure
        best = -1
        for i in range(t.capacity):
            s = t.state[i]
            if (s == ACTIVE or s == DEFUNCT) and t.fabric_index[i] == fabric.fabric_index and t.peer_node_id[i] == node_id:
                if best < 0 or (s == ACTIVE) > (t.state[best] == ACTIVE) or (
                    (s == ACTIVE) == (t.state[best] == ACTIVE) and t.timestamp[i] > t.timestamp[best]
                ):
                    best = i
        return None if best < 0 else t.handles[best]

    def get_pase_session(self):
        """The PASE session (no fabric, peer node id 0), or None."""
        for s in self._sessions():
            if s.is_pase:
                return s
        return None

    def _end(self, i, send_close):
        """End slot ``i``: the CloseSession message if asked and possible, close callback, free."""
        t = self.secure
        handle = t.handles[i]
        message = None
        if send_close and handle is not None and (t.state[i] == ACTIVE or t.state[i] == DEFUNCT):
            message = self._close_message(i)
        if t.state[i] != PENDING_EVICTION:  # its close callback already ran when it was chosen
            _call(t.close_callback[i], handle)
        t.free(i)
        return message

    def _close_message(self, i):
        t = self.secure
        buf = bytearray(HEADER_LENGTH + 6 + _STATUS_REPORT_LENGTH + TAG_LENGTH)
        p = self._close_header
        p.initiator = True
        p.reliable = False
        p.ack_counter = None
        p.vendor_id = None
        p.extensions = None
        p.opcode = OPCODE_STATUS_REPORT
        p.protocol_id = SECURE_CHANNEL_PROTOCOL
        raw = self.random_bytes(2)
        p.exchange_id = raw[0] | (raw[1] << 8)
        q = HEADER_LENGTH + p.encode(buf, HEADER_LENGTH)
        # general code (2) | protocol id (4: vendor 0, secure channel) | protocol code (2), little-endian
        buf[q] = GENERAL_SUCCESS
        buf[q + 1] = 0
        for k in range(4):
            buf[q + 2 + k] = 0
        buf[q + 6] = CLOSE_SESSION
        buf[q + 7] = 0
        try:
            n = t.seal(i, buf, q + _STATUS_REPORT_LENGTH, t.timestamp[i])
        except Exception as e:  # an exhausted counter: the session ends without a goodbye
            log.warning(_TAG, "no CloseSession for session %d: %r" % (t.local_id[i], e))
            return None
        return OutgoingMessage(t.local_id[i], t.peer_id[i], t.fabric_index[i], t.peer_node_id[i], bytes(buf[:n]))

    def remove_session(self, session_id, send_close=False):
        """End the session ``session_id`` (any state).  Returns its CloseSession ``OutgoingMessage`` when
        ``send_close`` is set, else None; ``UnknownSessionError`` if there is no such session."""
        check_int(session_id, "session_id", 0, 0xFFFF)
        i = self.secure.slot_of(session_id)
        if i < 0:
            raise UnknownSessionError("no session %d" % session_id)
        log.debug(_TAG, "removing session %d" % session_id)
        return self._end(i, send_close)

    def _remove_where(self, predicate, send_close):
        t = self.secure
        messages = []
        for i in range(t.capacity):
            if t.state[i] != FREE and predicate(i):
                m = self._end(i, send_close)
                if m is not None:
                    messages.append(m)
        return messages

    def remove_all_sessions_for_node(self, node_id, send_close=False, fabric=None):
        """End every session to peer ``node_id`` (on ``fabric`` if given); the CloseSession messages to send."""
        check_node_id(node_id)
        check_fabric(fabric)
        t = self.secure
        index = None if fabric is None else fabric.fabric_index
        return self._remove_where(
            lambda i: t.state[i] != ESTABLISHING
            and t.peer_node_id[i] == node_id
            and (index is None or t.fabric_index[i] == index),
            send_close,
        )

    def remove_fabric(self, fabric, send_close=False):
        """A fabric was removed: end its sessions and drop its resumption records.  The messages to send."""
        if not isinstance(fabric, Fabric):
            raise SessionArgumentError("fabric must be a micromatter.fabric.Fabric")
        t = self.secure
        index = fabric.fabric_index
        messages = self._remove_where(lambda i: t.fabric_index[i] == index, send_close)
        n = self.records.remove_fabric(index)
        log.info(_TAG, "fabric %d removed: %d sessions, %d records" % (index, len(messages), n))
        return messages

    # --- unsecured sessions ---------------------------------------------------------------

    def create_unsecure_session(self, initiator_node_id=None, is_initiator=False, session_parameters=None, now_ms=None):
        """An unsecured session for a handshake.  As initiator, ``initiator_node_id`` None picks a random
        ephemeral id; as responder it is the peer's.  Reuses the least recently used slot when full."""
        check_time(now_ms)
        if not isinstance(is_initiator, bool):
            raise SessionArgumentError("is_initiator must be a bool")
        params = check_parameters(session_parameters)
        t = self.unsecure
        if initiator_node_id is None:
            if not is_initiator:
                raise SessionArgumentError("a responder's unsecured session needs the initiator's node id")
            initiator_node_id = random_node_id(self.random_bytes)
            while t.find_int(initiator_node_id) >= 0:
                initiator_node_id = random_node_id(self.random_bytes)
        else:
            check_int(initiator_node_id, "initiator_node_id", 1, 0xFFFFFFFFFFFFFFFF)
            if t.find_int(initiator_node_id) >= 0:
                raise SessionArgumentError("an unsecured session with that node id exists")
        return t.open_slot(t.take(), initiator_node_id, is_initiator, params, now_ms)

    def get_unsecure_session(self, initiator_node_id=None):
        """The unsecured session of that ephemeral node id (None: the most recently used one), or None."""
        t = self.unsecure
        if initiator_node_id is None:
            best = -1
            for i in range(t.capacity):
                if t.state[i] and (best < 0 or t.timestamp[i] > t.timestamp[best]):
                    best = i
            return None if best < 0 else t.handles[best]
        check_int(initiator_node_id, "initiator_node_id", 0, 0xFFFFFFFFFFFFFFFF)
        i = t.find_int(initiator_node_id)
        return None if i < 0 else t.handles[i]

    def remove_unsecure_session(self, session):
        """End an unsecured session (its handshake finished or failed)."""
        if not isinstance(session, UnsecureSession):
            raise SessionArgumentError("remove_unsecure_session needs an UnsecureSession")
        t = self.unsecure
        if session._t is not t or not session.is_live():
            return False
        t.free(session._i)
        return True

    # --- messages ---------------------------------------------------------------------------

    def decode(self, buf, length, now_ms):
        """Decode the datagram in ``buf[:length]`` (decrypted in place): header, session lookup, decrypt,
        replay check, commit.  Returns the manager's ``Received`` (overwritten by the next call).

        An unsecured message from a new initiator opens an unsecured session.  Raises
        ``UnknownSessionError`` (no such session: the caller may answer SessionNotFound),
        ``MessageError``, ``AuthenticationError``, ``MessageRejectedError``, ``ReplayError``."""
        check_message(buf, length, now_ms)
        h = self.received.header
        n = h.decode(buf, 0, length)
        if h.session_type != SESSION_UNICAST:
            raise MessageRejectedError("group messages are not supported")
        session_id = h.session_id
        if session_id == 0:
            t = self.unsecure
            if h.source_node_id is not None:
                i = t.find(h.source_node_id, 0)
                if i < 0:
                    node_id = 0
                    src = h.source_node_id
                    for k in range(7, -1, -1):
                        node_id = (node_id << 8) | src[k]
                    if node_id == 0:
                        raise MessageRejectedError("unsecured message from node id 0")
                    i = t.take()
                    t.open_slot(i, node_id, False, self.parameters, now_ms)
            elif h.dest_node_id is not None:
                i = t.find(h.dest_node_id, 1)
                if i < 0:
                    raise UnknownSessionError("no unsecured session for that destination")
            else:
                raise MessageRejectedError("unsecured message without node ids")
            return t.open(i, buf, n, length, now_ms)
        t = self.secure
        i = t.slot_of(session_id)
        if i < 0:
            raise UnknownSessionError("no session %d" % session_id)
        return t.open(i, buf, n, length, now_ms)

    # --- resumption records ---------------------------------------------------------------------

    def save_resumption_record(self, record):
        """Keep ``record`` and write its slot (one bounded write); False if the write failed (kept in memory)."""
        return self.records.save(record)

    def find_resumption_record_by_id(self, resumption_id):
        return self.records.find_by_id(resumption_id)

    def find_resumption_record_by_node_id(self, node_id, fabric=None):
        check_node_id(node_id)
        check_fabric(fabric)
        return self.records.find_by_node(node_id, None if fabric is None else fabric.fabric_index)

    def remove_resumption_record(self, peer_node_id, fabric=None):
        """Drop the records of ``peer_node_id`` (on ``fabric`` if given); the number dropped."""
        check_node_id(peer_node_id, "peer_node_id")
        check_fabric(fabric)
        return self.records.remove(peer_node_id, None if fabric is None else fabric.fabric_index)

    def store_resumption_records(self):
        """Write every record whose last save failed; the number still unsaved."""
        return self.records.store_all()

    def update_fabric_for_resumption_records(self, fabric):
        """The fabric object changed (UpdateNOC, label): records now point at ``fabric``; the number updated."""
        if not isinstance(fabric, Fabric):
            raise SessionArgumentError("fabric must be a micromatter.fabric.Fabric")
        return self.records.update_fabric(fabric)

    def resumption_records(self):
        return self.records.records()

    # --- information and shutdown ------------------------------------------------------------------

    def get_active_session_information(self, now_ms):
        """One dict per CASE session (PASE excluded), as matter.js lists them."""
        check_time(now_ms)
        info = []
        for s in self._sessions():
            if s.is_pase:
                continue
            f = s.fabric
            info.append(
                {
                    "name": s.name,
                    "node_id": s.node_id,
                    "peer_node_id": s.peer_node_id,
                    "fabric": None if f is None else f.external_information(),
                    "is_peer_active": s.is_peer_active(now_ms),
                    "secure": True,
                    "state": s.state_name,
                    "last_interaction_timestamp": s.timestamp,
                    "last_active_timestamp": s.active_timestamp,
                    "number_of_active_subscriptions": s.subscription_count,
                }
            )
        return info

    def close(self):
        """Store the records still unsaved, then end every session (close callbacks run, nothing is sent)."""
        try:
            self.records.store_all()
        except StorageError as e:
            log.error(_TAG, "cannot store records on close: %s" % e)
        t = self.secure
        for i in range(t.capacity):
            if t.state[i] != FREE:
                self._end(i, False)
        u = self.unsecure
        for i in range(u.capacity):
            if u.state[i]:
                u.free(i)
