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

from micromatter.compat import const
from micromatter.fabric import MAX_OPERATIONAL_NODE_ID
from micromatter.message import SESSION_UNICAST
from micromatter.session.counters import NEW
from micromatter.session.errors import MessageRejectedError, SessionArgumentError
from micromatter.session.params import check_parameters
from micromatter.session.table import SessionHandle, SessionTable, check_message

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


class UnsecureSessionTable(SessionTable):
    """``capacity`` unsecured sessions keyed by the initiator's ephemeral node id (``state`` 1 when in use)."""

    def __init__(self, capacity, counter, received):
        if not isinstance(capacity, int) or capacity < 1 or capacity > 255:
            raise SessionArgumentError("unsecured session capacity must be 1..255")
        SessionTable.__init__(self, capacity, received, rollover=True)
        self.counter = counter
        self.initiator = bytearray(capacity)
        self.node_id = [0] * capacity
        self.node_ids = bytearray(8 * capacity)  # the ephemeral node id, LE: compared without allocating

    def find(self, node_id_le, as_initiator):
        """The slot whose ephemeral id equals the 8 bytes ``node_id_le`` and whose role matches, or -1."""
        ids = self.node_ids
        for i in range(self.capacity):
            if self.state[i] and self.initiator[i] == as_initiator:
                b = 8 * i
                k = 0
                while k < 8 and ids[b + k] == node_id_le[k]:
                    k += 1
                if k == 8:
                    return i
        return -1

    def find_int(self, node_id):
        for i in range(self.capacity):
            if self.state[i] and self.node_id[i] == node_id:
                return i
        return -1

    def take(self):
        """A free slot, or the least recently used one (its session ends)."""
        best = -1
        for i in range(self.capacity):
            if not self.state[i]:
                return i
            if best < 0 or self.timestamp[i] < self.timestamp[best]:
                best = i
        self.free(best)
        return best

    def open_slot(self, i, node_id, is_initiator, params, now_ms):
        self.state[i] = 1
        self.initiator[i] = 1 if is_initiator else 0
        self.node_id[i] = node_id
        b = 8 * i
        for k in range(8):
            self.node_ids[b + k] = (node_id >> (8 * k)) & 0xFF
        return self.start(i, UnsecureSession, params, now_ms)

    def free(self, i):
        SessionTable.free(self, i)
        self.node_id[i] = 0

    def receive(self, i, buf, length, now_ms):
        """Decode the header of the message in ``buf[:length]``, which must be slot ``i``'s, and open it."""
        h = self.received.header
        n = h.decode(buf, 0, length)
        if self.initiator[i]:
            ok = h.source_node_id is None and h.dest_node_id is not None and self.find(h.dest_node_id, 1) == i
        else:
            ok = h.source_node_id is not None and self.find(h.source_node_id, 0) == i
        if not ok:
            raise MessageRejectedError("message for another unsecured session")
        return self.open(i, buf, n, length, now_ms)

    def open(self, i, buf, header_length, length, now_ms):
        """Check the unencrypted message in ``buf[:length]`` (header decoded) for slot ``i``."""
        h = self.received.header
        if h.session_id != 0 or h.session_type != SESSION_UNICAST or h.privacy or h.control:
            raise MessageRejectedError("not an unsecured unicast message")
        counter = h.counter
        rx = self.rx
        verdict = rx.check(i, counter)
        if verdict == NEW:
            rx.commit(i, counter)
        self.timestamp[i] = now_ms
        self.active_timestamp[i] = now_ms
        return self.received.fill(self.handles[i], buf, header_length, length, verdict != NEW)

    def seal(self, i, buf, end, now_ms):
        """Write the 16-byte header before the protocol header and payload in ``buf[16:end]``; the length."""
        check_message(buf, end, now_ms, HEADER_LENGTH)  # room for the header
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


class UnsecureSession(SessionHandle):
    """A handle on one unsecured session (session id 0) of an ``UnsecureSessionTable``; ``encode`` writes
    the 16-byte header before the protocol header and payload in ``buf[16:end]``."""

    id = 0
    is_secure = False

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

    def set_parameters(self, params):
        """The peer's MRP parameters (from its mDNS record or handshake) for retransmissions."""
        self._t.params[self._slot()] = check_parameters(params, "params")

    def __repr__(self):
        if not self.is_live():
            return "<UnsecureSession ended>"
        return "<UnsecureSession %s>" % self.name
