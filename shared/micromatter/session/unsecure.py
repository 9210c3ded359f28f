"""Unsecured sessions (session id 0): where PASE and CASE handshakes run, one per initiator.

A handshake initiator picks a random ephemeral node id and sends it as the
source node id; the responder answers to it as destination node id.  The
table holds a few such sessions (4 by default) and reuses the least recently
used one when a new initiator shows up.  Messages are not encrypted; they
carry the node's global unencrypted counter (persisted ahead, see
``counters.PersistedCounter``), and incoming counters go through a replay
window that allows roll-over and treats a counter far behind as a restarted
peer.  The header is always 16 bytes (8 + one node id).
"""

from array import array

from micromatter.compat import const
from micromatter.fabric import MAX_OPERATIONAL_NODE_ID
from micromatter.message import SESSION_UNICAST, MessageHeader
from micromatter.session.counters import NEW, ReplayWindows
from micromatter.session.errors import MessageRejectedError, SessionArgumentError, SessionStateError
from micromatter.session.params import check_parameters
from micromatter.session.secure import check_buffer, check_time

HEADER_LENGTH = const(16)
DEFAULT_CAPACITY = const(4)


def random_node_id(random_bytes):
    """A random ephemeral node id in the operational range."""
    while True:
        raw = random_bytes(8)
        value = 0
        for k in range(7, -1, -1):
            value = (value << 8) | raw[k]
        if 0 < value <= MAX_OPERATIONAL_NODE_ID:
            return value


class UnsecureSessionTable:
    """``capacity`` unsecured sessions keyed by the initiator's ephemeral node id."""

    def __init__(self, capacity, counter, received):
        if not isinstance(capacity, int) or capacity < 1 or capacity > 255:
            raise SessionArgumentError("unsecured session capacity must be 1..255")
        self.capacity = capacity
        self.counter = counter
        self.received = received
        zeros = [0] * capacity
        self.used = bytearray(capacity)
        self.initiator = bytearray(capacity)
        self.generation = array("H", zeros)
        self.node_id = [0] * capacity
        self.node_ids = bytearray(8 * capacity)  # the ephemeral node id, LE: compared without allocating
        # Lists, not array("q"): reading an array("q") item allocates on MicroPython.
        self.timestamp = list(zeros)
        self.active_timestamp = list(zeros)
        self.last_tx = array("I", zeros)
        self.params = [None] * capacity
        self.handles = [None] * capacity
        self.rx = ReplayWindows(capacity, rollover=True)
        self._tx_header = MessageHeader()

    def find(self, node_id_le, as_initiator):
        """The slot whose ephemeral id equals the 8 bytes ``node_id_le`` and whose role matches, or -1."""
        ids = self.node_ids
        for i in range(self.capacity):
            if self.used[i] and self.initiator[i] == as_initiator:
                b = 8 * i
                k = 0
                while k < 8 and ids[b + k] == node_id_le[k]:
                    k += 1
                if k == 8:
                    return i
        return -1

    def find_int(self, node_id):
        for i in range(self.capacity):
            if self.used[i] and self.node_id[i] == node_id:
                return i
        return -1

    def take(self):
        """A free slot, or the least recently used one (its session ends)."""
        best = -1
        for i in range(self.capacity):
            if not self.used[i]:
                return i
            if best < 0 or self.timestamp[i] < self.timestamp[best]:
                best = i
        self.free(best)
        return best

    def open_slot(self, i, node_id, is_initiator, params, now_ms):
        self.used[i] = 1
        self.initiator[i] = 1 if is_initiator else 0
        self.node_id[i] = node_id
        b = 8 * i
        for k in range(8):
            self.node_ids[b + k] = (node_id >> (8 * k)) & 0xFF
        self.timestamp[i] = now_ms
        self.active_timestamp[i] = now_ms
        self.last_tx[i] = 0
        self.params[i] = params
        self.rx.reset(i)
        handle = UnsecureSession(self, i)
        self.handles[i] = handle
        return handle

    def free(self, i):
        self.used[i] = 0
        self.generation[i] = (self.generation[i] + 1) & 0xFFFF
        self.node_id[i] = 0
        self.params[i] = None
        self.handles[i] = None
        self.rx.reset(i)

    def open(self, i, buf, header_length, length, now_ms):
        """Check the unencrypted message in ``buf[:length]`` (header decoded) for slot ``i``."""
        received = self.received
        h = received.header
        if h.session_id != 0 or h.session_type != SESSION_UNICAST or h.privacy or h.control:
            raise MessageRejectedError("not an unsecured unicast message")
        counter = h.counter
        rx = self.rx
        verdict = rx.check(i, counter)
        if verdict == NEW:
            rx.commit(i, counter)
        self.timestamp[i] = now_ms
        self.active_timestamp[i] = now_ms
        n = received.protocol.decode(buf, header_length, length)
        received.session = self.handles[i]
        received.duplicate = verdict != NEW
        received.payload_start = header_length + n
        received.payload_end = length
        return received

    def seal(self, i, buf, end, now_ms):
        check_buffer(buf)
        check_time(now_ms)
        if not isinstance(end, int) or end < HEADER_LENGTH or end > len(buf):
            raise SessionArgumentError("payload end must leave room for the 16-byte header")
        h = self._tx_header
        h.session_id = 0
        if self.initiator[i]:
            h.source_node_id = self.node_id[i]
            h.dest_node_id = None
        else:
            h.source_node_id = None
            h.dest_node_id = self.node_id[i]
        counter = self.counter.next()
        h.counter = counter
        h.encode(buf, 0)
        self.last_tx[i] = counter
        self.timestamp[i] = now_ms
        return end


class UnsecureSession:
    """A handle on one unsecured session (session id 0) of an ``UnsecureSessionTable``."""

    id = 0
    is_secure = False

    def __init__(self, table, index):
        self._t = table
        self._i = index
        self._gen = table.generation[index]

    def _slot(self):
        t = self._t
        if t.generation[self._i] != self._gen or not t.used[self._i]:
            raise SessionStateError("unsecured session has ended")
        return self._i

    def is_live(self):
        return self._t.generation[self._i] == self._gen and self._t.used[self._i] != 0

    def decode(self, buf, length, now_ms):
        """Decode and check the unencrypted message in ``buf[:length]``; the manager's ``Received``."""
        i = self._slot()
        t = self._t
        check_buffer(buf)
        check_time(now_ms)
        if not isinstance(length, int) or length < 0 or length > len(buf):
            raise SessionArgumentError("length outside the buffer")
        h = t.received.header
        n = h.decode(buf, 0, length)
        if t.initiator[i]:
            ok = h.source_node_id is None and h.dest_node_id is not None and t.find(h.dest_node_id, 1) == i
        else:
            ok = h.source_node_id is not None and t.find(h.source_node_id, 0) == i
        if not ok:
            raise MessageRejectedError("message for another unsecured session")
        return t.open(i, buf, n, length, now_ms)

    def encode(self, buf, end, now_ms):
        """Write the 16-byte header before the protocol header and payload in ``buf[16:end]``; the length."""
        return self._t.seal(self._slot(), buf, end, now_ms)

    @property
    def ephemeral_node_id(self):
        """The initiator's ephemeral node id (ours if we initiated)."""
        return self._t.node_id[self._slot()]

    @property
    def is_initiator(self):
        return bool(self._t.initiator[self._slot()])

    @property
    def peer_node_id(self):
        """The peer's (ephemeral) node id, 0 if the peer is the responder."""
        i = self._slot()
        return 0 if self._t.initiator[i] else self._t.node_id[i]

    @property
    def name(self):
        return "unsecure/%x" % self.ephemeral_node_id

    @property
    def parameters(self):
        return self._t.params[self._slot()]

    def set_parameters(self, params):
        """The peer's MRP parameters (from its mDNS record or handshake) for retransmissions."""
        self._t.params[self._slot()] = check_parameters(params, "params")

    @property
    def timestamp(self):
        return self._t.timestamp[self._slot()]

    @property
    def active_timestamp(self):
        return self._t.active_timestamp[self._slot()]

    @property
    def last_message_counter(self):
        return self._t.last_tx[self._slot()]

    def is_peer_active(self, now_ms):
        check_time(now_ms)
        i = self._slot()
        return now_ms - self._t.active_timestamp[i] < self._t.params[i].active_threshold_ms

    def __repr__(self):
        if not self.is_live():
            return "<UnsecureSession ended>"
        return "<UnsecureSession %s>" % self.name
