"""Message counters: outgoing counters, the persisted global counter, and replay windows for incoming ones.

- A secure unicast session's outgoing counter starts at a random value in
  [1, 2**28] and must never roll over: at 0xFFFFFFFF the session is exhausted.
- The global unencrypted counter (unsecured sessions) is persisted ``step``
  values ahead of use, so a reboot starts past every value already sent.
- Incoming: the highest counter seen plus the 32 before it.  A secure session
  accepts counters above the highest (no roll-over), reports repeats as
  duplicates (MRP must still acknowledge them) and rejects counters more than
  32 behind.  Unsecured sessions allow roll-over and accept a counter far
  behind as a restarted peer.  Checking never changes state; ``commit`` is
  called only once the message has authenticated.

The windows of a whole table live in two arrays (no object per session): the
highest counter per entry and a 64-bit ring of "seen" bits indexed by counter
modulo 64, of which the 33 counters highest-32 .. highest are used.  Every
value handled per message stays a small int (no heap use) unless a counter
itself is above 2**30 on a 32-bit board.
"""

from array import array

from micromatter.compat import const
from micromatter.endian import get_le
from micromatter.session.errors import CounterExhaustedError

WINDOW_SIZE = const(32)
MAX_COUNTER = const(0xFFFFFFFF)
INITIAL_MASK = const(0x0FFFFFFF)
GLOBAL_COUNTER_STEP = const(1000)

# Results of ReplayWindows.check
NEW = const(0)
DUPLICATE = const(1)
BEHIND = const(2)

_HALF = const(0x80000000)


def initial_counter(random_bytes):
    """A fresh session counter: random in [1, 2**28]."""
    return (get_le(random_bytes(4), 0, 4) & INITIAL_MASK) + 1


def next_unicast(counters, i):
    """Take the next outgoing counter of entry ``i`` of ``counters`` (an ``array('I')``).

    ``CounterExhaustedError`` once it reached 0xFFFFFFFF: the session must be replaced."""
    value = counters[i]
    if value >= MAX_COUNTER:
        raise CounterExhaustedError("message counter exhausted")
    counters[i] = value + 1
    return value


class ReplayWindows:
    """Reception state for ``count`` peers.  ``rollover``: unencrypted semantics (wrap, far behind = new)."""

    def __init__(self, count, rollover=False):
        self.rollover = rollover
        self._max = array("I", bytes(4 * count))
        self._synced = bytearray(count)
        self._bits = bytearray(8 * count)

    def reset(self, i):
        """Forget entry ``i``: its next message is trusted as the start."""
        self._synced[i] = 0
        self._max[i] = 0
        b = 8 * i
        for k in range(8):
            self._bits[b + k] = 0

    def start(self, i, counter):
        """Synchronize entry ``i`` at ``counter`` (already seen), as after a counter exchange."""
        self.reset(i)
        self._synced[i] = 1
        self._max[i] = counter
        self._set(i, counter)

    def is_synced(self, i):
        return self._synced[i] != 0

    def highest(self, i):
        return self._max[i]

    def _test(self, i, counter):
        b = counter & 63
        return self._bits[8 * i + (b >> 3)] & (1 << (b & 7))

    def _set(self, i, counter):
        b = counter & 63
        self._bits[8 * i + (b >> 3)] |= 1 << (b & 7)

    def _clear(self, i, counter):
        b = counter & 63
        self._bits[8 * i + (b >> 3)] &= ~(1 << (b & 7)) & 0xFF

    def check(self, i, counter):
        """``NEW``, ``DUPLICATE`` or ``BEHIND`` (too old to tell: reject) for ``counter``; changes nothing."""
        if not self._synced[i]:
            return NEW
        top = self._max[i]
        if self.rollover:
            ahead = (counter - top) & MAX_COUNTER
            if ahead == 0:
                return DUPLICATE
            if ahead < _HALF:
                return NEW
            behind = (top - counter) & MAX_COUNTER
            if behind > WINDOW_SIZE:
                return NEW  # far behind: the peer restarted its counter
        else:
            if counter > top:
                return NEW
            if counter == top:
                return DUPLICATE
            if top - counter > WINDOW_SIZE:
                return BEHIND
        return DUPLICATE if self._test(i, counter) else NEW

    def commit(self, i, counter):
        """Record ``counter`` (checked ``NEW``) as received on entry ``i``."""
        if not self._synced[i]:
            self.start(i, counter)
            return
        top = self._max[i]
        if self.rollover:
            ahead = (counter - top) & MAX_COUNTER
            if ahead >= _HALF:
                if ((top - counter) & MAX_COUNTER) > WINDOW_SIZE:
                    self.start(i, counter)
                else:
                    self._set(i, counter)
                return
        else:
            if counter <= top:
                self._set(i, counter)
                return
            ahead = counter - top
        if ahead >= 64:
            b = 8 * i
            for k in range(8):
                self._bits[b + k] = 0
        else:
            c = top
            for _ in range(ahead):
                c = (c + 1) & MAX_COUNTER
                self._clear(i, c)
        self._max[i] = counter
        self._set(i, counter)


class PersistedCounter:
    """The global unencrypted message counter, reserved ``step`` values ahead in a power-safe slot.

    ``slot`` is a ``micromatter.session.slots.Slot``-like object with
    ``read() -> bytes or None`` and ``write(bytes)``.  Each boot costs one
    write, and one more every ``step`` messages."""

    def __init__(self, slot, random_bytes, step=GLOBAL_COUNTER_STEP):
        self._slot = slot
        self._random_bytes = random_bytes
        self.step = step
        self._next = None
        self._limit = 0
        self.writes = 0

    def _reserve(self, limit):
        self._slot.write(bytes(((limit >> (8 * k)) & 0xFF) for k in range(4)))
        self.writes += 1
        self._limit = limit

    def load(self):
        """Start past every value a previous boot could have used (or at a random value the first time)."""
        raw = self._slot.read()
        if raw is not None and len(raw) == 4:
            start = get_le(raw, 0, 4)
        else:
            start = initial_counter(self._random_bytes)
        self._reserve((start + self.step) & MAX_COUNTER)
        self._next = start  # only once the reservation is stored

    def next(self):
        """The next counter value; the reservation in storage always stays ahead of it."""
        if self._next is None:
            self.load()
        value = self._next
        if value == self._limit:
            self._reserve((value + self.step) & MAX_COUNTER)
        self._next = (value + 1) & MAX_COUNTER
        return value

    def peek(self):
        if self._next is None:
            self.load()
        return self._next
