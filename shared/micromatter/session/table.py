"""What the secure and the unsecured session tables share: the per-slot arrays, the end of receiving and
sending a message, and the handle on a slot.

Both tables are structs of arrays sized once; slot ``i`` holds a session while ``state[i]`` is not 0.  A
``SessionHandle`` names a slot and the generation the slot was in when the session opened, so a handle kept
after its session ended raises ``SessionStateError`` instead of reaching the slot's next session.
"""

from array import array

from micromatter.message import MessageHeader
from micromatter.session.counters import ReplayWindows
from micromatter.session.errors import SessionArgumentError, SessionStateError


def check_time(now_ms):
    if not isinstance(now_ms, int) or isinstance(now_ms, bool) or now_ms < 0:
        raise SessionArgumentError("now_ms must be a non-negative int")
    return now_ms


def check_message(buf, end, now_ms, low=0, room=0):
    """The arguments of a message call: ``buf`` a bytearray or memoryview (messages are decrypted and
    encrypted in place), ``end`` an int in ``low..len(buf) - room``, ``now_ms`` a time."""
    kind = type(buf)  # not isinstance(buf, (a, b)): the tuple would be allocated on every message
    if kind is not bytearray and kind is not memoryview:
        raise SessionArgumentError("buf must be a bytearray or memoryview, not " + kind.__name__)
    if not isinstance(end, int) or end < low or end + room > len(buf):
        raise SessionArgumentError("message end outside %d..len(buf)-%d" % (low, room))
    if not isinstance(now_ms, int) or isinstance(now_ms, bool) or now_ms < 0:  # check_time, one call less
        raise SessionArgumentError("now_ms must be a non-negative int")


class SessionTable:
    """``capacity`` slots: the arrays both tables keep per slot; ``rollover``: the replay windows'
    unencrypted semantics."""

    def __init__(self, capacity, received, rollover=False):
        self.capacity = capacity
        self.received = received
        zeros = [0] * capacity
        self.state = bytearray(capacity)
        self.generation = array("H", zeros)
        # Lists, not array("q"): reading an array("q") item allocates on MicroPython.
        self.timestamp = list(zeros)
        self.active_timestamp = list(zeros)
        self.last_tx = array("I", zeros)
        self.params = [None] * capacity
        self.handles = [None] * capacity
        self.rx = ReplayWindows(capacity, rollover)
        self._tx_header = MessageHeader()

    def start(self, i, handle_type, params, now_ms):
        """Slot ``i`` (its ``state`` set by the caller) begins a session: fresh counters and timestamps, a
        new handle."""
        self.timestamp[i] = now_ms
        self.active_timestamp[i] = now_ms
        self.last_tx[i] = 0
        self.params[i] = params
        self.rx.reset(i)
        handle = handle_type(self, i)
        self.handles[i] = handle
        return handle

    def free(self, i):
        """Slot ``i`` ends its session; handles to it go stale."""
        self.state[i] = 0
        self.generation[i] = (self.generation[i] + 1) & 0xFFFF
        self.params[i] = None
        self.handles[i] = None
        self.rx.reset(i)



class SessionHandle:
    """A handle on slot ``index`` of a session table, valid while the slot holds the session it was made for."""

    def __init__(self, table, index):
        self._t = table
        self._i = index
        self._gen = table.generation[index]

    def _slot(self):
        t = self._t
        i = self._i
        if t.generation[i] != self._gen or not t.state[i]:
            raise SessionStateError("session has ended")
        return i

    def is_live(self):
        t = self._t
        return t.generation[self._i] == self._gen and t.state[self._i] != 0

    def decode(self, buf, length, now_ms):
        """Decode and check the message in ``buf[:length]`` (decrypted in place for a secure session), which
        must be this session's; the manager's ``Received``.

        Raises ``MessageError`` (malformed header), ``AuthenticationError`` (bad tag),
        ``MessageRejectedError``/``ReplayError`` (not for this session, too old)."""
        i = self._slot()
        check_message(buf, length, now_ms)
        return self._t.receive(i, buf, length, now_ms)

    def encode(self, buf, end, now_ms):
        """Seal the message whose protocol header and payload follow the header's room in ``buf[:end]``
        (8 bytes secure, 16 unsecured): write the header (encrypt, append the tag); the message length."""
        return self._t.seal(self._slot(), buf, end, now_ms)

    # The peer's session parameters (MRP intervals and revisions); the last send or receive (ms: the eviction
    # key); the last receive (ms); the counter of the last message encoded (MRP matches acknowledgements to it).
    parameters = property(lambda self: self._t.params[self._slot()])
    timestamp = property(lambda self: self._t.timestamp[self._slot()])
    active_timestamp = property(lambda self: self._t.active_timestamp[self._slot()])
    last_message_counter = property(lambda self: self._t.last_tx[self._slot()])

    def is_peer_active(self, now_ms):
        """True if the peer sent something within its active threshold (MRP then uses the active interval)."""
        check_time(now_ms)
        i = self._slot()
        return now_ms - self._t.active_timestamp[i] < self._t.params[i].active_threshold_ms
