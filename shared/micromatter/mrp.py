"""Message Reliability Protocol (Matter Core spec 4.12): acknowledgements and retransmissions, sans-I/O.

A message sent with the R flag must be acknowledged by the peer: piggybacked (A flag and the counter) on the
next message of the same exchange, or by a standalone ack (secure channel opcode 0x10) when nothing else goes
out within ``STANDALONE_ACK_TIMEOUT_MS``.  Until acknowledged the sender retransmits the same encrypted bytes
(same counter) with exponential backoff; after ``MAX_TRANSMISSIONS`` sends it gives up and the session is
marked defunct by the exchange layer.

Backoff (spec 4.12.2.1), with ``i`` the peer's active interval if the peer was heard from within its active
threshold, else its idle interval, and ``n`` the sends so far minus one (0 for the first transmission)::

    t = i * 1.1 * 1.6 ** max(0, n - 1) * (1 + 0.25 * r)        r uniform in [0, 1)

computed exactly in integers (``r`` in steps of 1/256, one random byte from the port per transmission), so
no float is allocated and the bounds are exact: with the default idle interval 500 ms the five waits lie in
[550, 686], [550, 686], [880, 1099], [1408, 1758], [2252, 2813] ms (7.0 s at most in all).

Everything lives in fixed arrays sized at construction: the pending ack of each exchange slot, and a table
of ``capacity`` retransmission entries, each with its own buffer holding a copy of the encrypted message.
A full table raises ``RetransmissionTableFullError`` (answer Busy); it never grows.  An entry's buffer is
made the first time the entry is used and kept: a node seldom has more than one or two messages awaiting
an ack, so it holds that many buffers rather than ``capacity`` of them (8 x 1232 B on a node).  Who owns
the exchange slots, sessions and sockets is the exchange layer's business (``micromatter.exchange``).
"""

from array import array

from micromatter.compat import const
from micromatter.errors import MatterError

MAX_TRANSMISSIONS = const(5)  # the first send and 4 retransmissions
MAX_RETRANSMISSIONS = const(4)
STANDALONE_ACK_TIMEOUT_MS = const(200)
BACKOFF_THRESHOLD = const(1)
DEFAULT_CAPACITY = const(8)
# Backoff base 1.6 = 16/10, margin 1.1 = 11/10, jitter 0.25 * r/256 = r/1024.
_BASE_NUM = const(16)
_BASE_DEN = const(10)
_MARGIN_NUM = const(11)
_MARGIN_DEN = const(10)
_JITTER_DEN = const(1024)
_RANDOM_POOL = const(32)

NO_ACK = const(-1)  # "no acknowledgement pending" in the per-exchange counters
_FREE = const(-1)


class MrpError(MatterError):
    """Base of reliable-messaging failures."""


class RetransmissionTableFullError(MrpError):
    """Every retransmission entry holds an unacknowledged message: the reliable send is refused (Busy)."""

    status = 4  # secure channel Busy


class MrpArgumentError(MrpError):
    """A size or argument given to the MRP tables is out of range."""


def backoff_ms(interval_ms, send_count, jitter):
    """The wait (ms) after the ``send_count``-th transmission (1 = the first send) of a message to a peer
    whose applicable interval is ``interval_ms``; ``jitter`` is a random byte 0..255 (0.25 * jitter/256)."""
    k = send_count - 1 - BACKOFF_THRESHOLD
    num = interval_ms * _MARGIN_NUM * (_JITTER_DEN + jitter)
    den = _MARGIN_DEN * _JITTER_DEN
    while k > 0:
        num *= _BASE_NUM
        den *= _BASE_DEN
        k -= 1
    return num // den


def interval_ms(session, now_ms):
    """The peer's active interval if it was active within its threshold at ``now_ms``, else its idle one."""
    params = session.parameters
    if session.is_peer_active(now_ms):
        return params.active_interval_ms
    return params.idle_interval_ms


class Mrp:
    """Acks pending per exchange slot (``exchanges`` of them) and ``capacity`` retransmission entries,
    each with a ``message_size``-byte buffer.  ``random_bytes(n)`` (the port's) draws the jitter."""

    def __init__(self, exchanges, capacity=DEFAULT_CAPACITY, message_size=1232, random_bytes=None):
        for value, name, top in ((exchanges, "exchanges", 4096), (capacity, "capacity", 255),
                                 (message_size, "message_size", 65535)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1 or value > top:
                raise MrpArgumentError(name + " must be an int 1.." + str(top))
        if not callable(random_bytes):
            raise MrpArgumentError("random_bytes must be callable (the port's)")
        self.exchanges = exchanges
        self.capacity = capacity
        self.message_size = message_size
        self._random_bytes = random_bytes
        self._pool = bytearray(_RANDOM_POOL)
        self._pool_pos = _RANDOM_POOL
        # Acknowledgements we owe, per exchange slot.
        self.ack_counter = array("I", bytes(4 * exchanges))
        self.ack_pending = bytearray(exchanges)
        # Times are lists of ints: reading an array('q') item allocates a long int on MicroPython.
        self.ack_deadline = [0] * exchanges
        # Messages we wait to see acknowledged.
        self.exchange = array("h", [_FREE] * capacity)
        self.counter = array("I", bytes(4 * capacity))
        self.sends = bytearray(capacity)
        self.next_ms = [0] * capacity
        self.length = array("H", bytes(2 * capacity))
        self.session = [None] * capacity
        self.peer = [None] * capacity
        # Made on first use (``reserve``), then kept; entries are taken lowest first, so the entries with a
        # buffer are always the first ones.
        self.buffers = [None] * capacity
        self.views = [None] * capacity

    # --- jitter ---------------------------------------------------------------------

    def jitter(self):
        """One random byte from the port, drawn 32 at a time (one allocation per 32 transmissions)."""
        pos = self._pool_pos
        if pos >= _RANDOM_POOL:
            raw = self._random_bytes(_RANDOM_POOL)
            if len(raw) != _RANDOM_POOL:
                raise MrpArgumentError("random_bytes returned the wrong length")
            self._pool[:] = raw
            pos = 0
        self._pool_pos = pos + 1
        return self._pool[pos]

    # --- acknowledgements we owe ----------------------------------------------------------

    def receive(self, e, counter, now_ms):
        """A new reliable message ``counter`` arrived on exchange slot ``e``: its ack is now pending (sent
        piggybacked, or standalone after 200 ms).  Returns the counter of an older ack still pending on
        that exchange, which must be sent standalone now, or ``NO_ACK``."""
        previous = NO_ACK
        if self.ack_pending[e] and self.ack_counter[e] != counter:
            previous = self.ack_counter[e]
        self.ack_counter[e] = counter
        self.ack_pending[e] = 1
        self.ack_deadline[e] = now_ms + STANDALONE_ACK_TIMEOUT_MS
        return previous

    def take(self, e):
        """The pending ack of exchange slot ``e`` for a message about to go out (piggyback), or ``NO_ACK``;
        no longer pending afterwards."""
        if not self.ack_pending[e]:
            return NO_ACK
        self.ack_pending[e] = 0
        return self.ack_counter[e]

    def restore(self, e, counter):
        """Put back an ack taken for a message that could not be sent."""
        if counter != NO_ACK and not self.ack_pending[e]:
            self.ack_counter[e] = counter
            self.ack_pending[e] = 1

    def clear_acks(self, e):
        self.ack_pending[e] = 0

    def ack_due(self, e, now_ms):
        return self.ack_pending[e] and self.ack_deadline[e] <= now_ms

    # --- retransmissions -------------------------------------------------------------------

    def reserve(self):
        """A free retransmission entry (its buffer receives the encrypted message), or
        ``RetransmissionTableFullError``, also when there is no heap left for the entry's first buffer.
        The entry stays free until ``start``."""
        for i in range(self.capacity):
            if self.exchange[i] == _FREE:
                if self.buffers[i] is None:
                    try:
                        buf = bytearray(self.message_size)
                    except MemoryError:
                        raise RetransmissionTableFullError("no heap for retransmission entry %d" % i)
                    self.buffers[i] = buf
                    self.views[i] = memoryview(buf)
                return i
        raise RetransmissionTableFullError("all %d retransmission entries wait for an ack" % self.capacity)

    def start(self, i, e, session, peer, counter, length, now_ms):
        """Entry ``i`` now holds the message ``counter`` (``length`` bytes in ``buffers[i]``), just sent once
        on exchange slot ``e`` of ``session`` to ``peer``."""
        self.exchange[i] = e
        self.counter[i] = counter
        self.length[i] = length
        self.session[i] = session
        self.peer[i] = peer
        self.sends[i] = 1
        self.next_ms[i] = now_ms + backoff_ms(interval_ms(session, now_ms), 1, self.jitter())

    def entry_of(self, e):
        """The entry holding exchange slot ``e``'s unacknowledged message, or -1."""
        for i in range(self.capacity):
            if self.exchange[i] == e:
                return i
        return -1

    def acknowledge(self, e, counter):
        """The peer acknowledged ``counter`` on exchange slot ``e``: the entry is freed.  True if it matched."""
        for i in range(self.capacity):
            if self.exchange[i] == e and self.counter[i] == counter:
                self.release(i)
                return True
        return False

    def release(self, i):
        self.exchange[i] = _FREE
        self.session[i] = None
        self.peer[i] = None
        self.sends[i] = 0

    def release_exchange(self, e):
        """Drop exchange slot ``e``'s entry and pending ack (the exchange was torn down)."""
        i = self.entry_of(e)
        if i >= 0:
            self.release(i)
        self.ack_pending[e] = 0

    def in_use(self):
        n = 0
        for i in range(self.capacity):
            if self.exchange[i] != _FREE:
                n += 1
        return n

    def expired(self, now_ms):
        """The first entry whose wait is over at ``now_ms``, or -1.  The caller either gives up on it
        (``exhausted(i)``: ``release(i)``, session defunct) or resends it and calls ``retransmitted``."""
        for i in range(self.capacity):
            if self.exchange[i] != _FREE and self.next_ms[i] <= now_ms:
                return i
        return -1

    def exhausted(self, i):
        return self.sends[i] >= MAX_TRANSMISSIONS

    def retransmitted(self, i, now_ms):
        """Entry ``i`` was sent again at ``now_ms``: count it and wait the next backoff (the interval is
        chosen again from the peer's activity)."""
        n = self.sends[i] + 1
        self.sends[i] = n
        self.next_ms[i] = now_ms + backoff_ms(interval_ms(self.session[i], now_ms), n, self.jitter())

    # --- time ---------------------------------------------------------------------------------

    def next_deadline(self):
        """The earliest standalone-ack or retransmission time (ms), or None."""
        best = None
        for e in range(self.exchanges):
            if self.ack_pending[e]:
                d = self.ack_deadline[e]
                if best is None or d < best:
                    best = d
        for i in range(self.capacity):
            if self.exchange[i] != _FREE:
                d = self.next_ms[i]
                if best is None or d < best:
                    best = d
        return best
