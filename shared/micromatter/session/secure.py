"""Secure (CASE and PASE) sessions: a fixed table sized once, and the message hot path.

Every slot is allocated at construction as entries of a few arrays (struct of
arrays), so an empty slot costs tens of bytes and nothing grows afterwards.
A session's local id carries its slot index in its low bits
(``id & mask == slot``): lookup by id is one array read, whatever the table
size.  ``SecureSession`` is a small handle created per session; it checks a
per-slot generation, so a handle kept after its session ended raises instead
of touching the slot's next session.

Keys: HKDF-SHA256(shared secret, salt, "SessionKeys" or
"SessionResumptionKeys", 48) = I2R | R2I | attestation challenge; the
initiator encrypts with I2R.  Nonce: security flags | counter (LE) | sender's
node id (LE; 0 for PASE).  AAD: the message header as sent.

``decode``: header -> slot -> AES-CCM decrypt in place (tag verified, buffer
untouched on failure) -> replay check -> commit -> protocol header.  ``encode``
writes the 8-byte header, encrypts in place and appends the tag.  Neither
allocates after warm-up.
"""

from array import array

from micromatter.compat import const
from micromatter.fabric import Fabric
from micromatter.message import SESSION_UNICAST
from micromatter.session.counters import BEHIND, NEW, initial_counter, next_unicast
from micromatter.session.errors import (
    MessageRejectedError,
    ReplayError,
    SessionArgumentError,
    SessionStateError,
)
from micromatter.session.params import check_parameters
from micromatter.session.table import SessionHandle, SessionTable, check_message

# Slot states.  Establishing: id handed out, handshake running.  Defunct: MRP gave up on the peer; a
# message from it makes the session active again.  Pending eviction: chosen for eviction while held.
FREE = const(0)
ESTABLISHING = const(1)
ACTIVE = const(2)
DEFUNCT = const(3)
PENDING_EVICTION = const(4)
STATE_NAMES = ("free", "establishing", "active", "defunct", "pending eviction")

# Flags
INITIATOR = const(1)
RESUMPTION = const(2)

HEADER_LENGTH = const(8)
TAG_LENGTH = const(16)
KEY_LENGTH = const(16)
SESSION_KEYS_INFO = b"SessionKeys"
SESSION_RESUMPTION_KEYS_INFO = b"SessionResumptionKeys"
UNSPECIFIED_NODE_ID = 0
_AAD_MAX = const(64)  # message header bytes copied for the AAD; longer headers are rare


def check_int(value, name, low, high):
    """``value`` if it is an int (not a bool) in ``low..high``, else ``SessionArgumentError``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise SessionArgumentError(name + " must be an int, not " + type(value).__name__)
    if value < low or value > high:
        raise SessionArgumentError(name + " out of range " + str(low) + ".." + str(high) + ": " + str(value))
    return value


def check_node_id(value, name="node_id"):
    return check_int(value, name, 0, 0xFFFFFFFFFFFFFFFF)


def derive_session_keys(crypto, shared_secret, salt, is_resumption):
    """I2R, R2I and the attestation challenge (16 bytes each)."""
    info = SESSION_RESUMPTION_KEYS_INFO if is_resumption else SESSION_KEYS_INFO
    keys = crypto.hkdf_sha256(bytes(shared_secret), bytes(salt), info, 3 * KEY_LENGTH)
    return keys[0:16], keys[16:32], keys[32:48]


class SecureSessionTable(SessionTable):
    """``capacity`` secure session slots.  The manager owns one; the arrays are its bookkeeping
    (``state``: FREE, ESTABLISHING, ACTIVE, DEFUNCT or PENDING_EVICTION)."""

    def __init__(self, capacity, crypto, random_bytes, received):
        if not isinstance(capacity, int) or capacity < 1 or capacity > 4096:
            raise SessionArgumentError("secure session capacity must be 1..4096")
        SessionTable.__init__(self, capacity, received)
        bits = 1
        while (1 << bits) < capacity:
            bits += 1
        self.mask = (1 << bits) - 1
        self.id_bits = bits
        self.crypto = crypto
        self.random_bytes = random_bytes
        zeros = [0] * capacity
        self.local_id = array("H", zeros)
        self.peer_id = array("H", zeros)
        self.flags = bytearray(capacity)
        self.holds = bytearray(capacity)
        self.fabric_index = bytearray(capacity)
        self.subscriptions = array("H", zeros)
        self.tx = array("I", zeros)
        self.established = list(zeros)
        self.node_ids = bytearray(16 * capacity)  # ours (8, LE) | the peer's (8, LE): the nonces
        self.challenge = bytearray(KEY_LENGTH * capacity)
        self.peer_node_id = [0] * capacity
        self.fabrics = [None] * capacity
        self.enc = [None] * capacity
        self.dec = [None] * capacity
        self.cats = [None] * capacity
        self.close_callback = [None] * capacity
        self.subscription_callback = [None] * capacity
        self._nonce = bytearray(13)
        self._aad_buf = bytearray(_AAD_MAX)
        self._aad_views = [None] * (_AAD_MAX + 1)

    # --- lookup -------------------------------------------------------------

    def slot_of(self, session_id):
        """The slot of the live session with local id ``session_id``, or -1 (no allocation)."""
        i = session_id & self.mask
        if i < self.capacity and self.state[i] != FREE and self.local_id[i] == session_id:
            return i
        return -1

    def live_slots(self):
        return [i for i in range(self.capacity) if self.state[i] != FREE]

    # --- slot life ----------------------------------------------------------

    def reserve(self, i, session_id, fabric_index, now_ms):
        """Put slot ``i`` (free) in the establishing state under ``session_id``."""
        self.local_id[i] = session_id
        self.state[i] = ESTABLISHING
        self.flags[i] = 0
        self.holds[i] = 0
        self.fabric_index[i] = fabric_index
        self.peer_node_id[i] = 0
        self.timestamp[i] = now_ms
        self.active_timestamp[i] = now_ms
        self.established[i] = now_ms
        self.subscriptions[i] = 0

    def activate(self, i, fabric, peer_node_id, peer_session_id, keys, is_initiator, is_resumption, params, cats,
                 close_callback, subscription_callback, now_ms):
        i2r, r2i, challenge = keys
        crypto = self.crypto
        enc = crypto.aes_ccm(i2r if is_initiator else r2i)
        dec = crypto.aes_ccm(r2i if is_initiator else i2r)
        self.enc[i] = enc
        self.dec[i] = dec
        c = KEY_LENGTH * i
        self.challenge[c : c + KEY_LENGTH] = challenge
        self.state[i] = ACTIVE
        self.flags[i] = (INITIATOR if is_initiator else 0) | (RESUMPTION if is_resumption else 0)
        self.holds[i] = 0
        self.fabrics[i] = fabric
        self.fabric_index[i] = 0 if fabric is None else fabric.fabric_index
        self.peer_node_id[i] = peer_node_id
        self.peer_id[i] = peer_session_id
        n = 16 * i
        local = 0 if fabric is None else fabric.node_id
        for k in range(8):
            self.node_ids[n + k] = (local >> (8 * k)) & 0xFF
            self.node_ids[n + 8 + k] = (peer_node_id >> (8 * k)) & 0xFF
        self.cats[i] = cats
        self.close_callback[i] = close_callback
        self.subscription_callback[i] = subscription_callback
        self.subscriptions[i] = 0
        self.tx[i] = initial_counter(self.random_bytes)
        self.established[i] = now_ms
        return self.start(i, SecureSession, params, now_ms)

    def free(self, i):
        """Forget slot ``i`` entirely; handles to it go stale."""
        SessionTable.free(self, i)
        self.local_id[i] = 0
        self.peer_id[i] = 0
        self.flags[i] = 0
        self.holds[i] = 0
        self.fabric_index[i] = 0
        self.peer_node_id[i] = 0
        self.fabrics[i] = None
        self.enc[i] = None
        self.dec[i] = None
        self.cats[i] = None
        self.close_callback[i] = None
        self.subscription_callback[i] = None
        self.subscriptions[i] = 0
        c = KEY_LENGTH * i
        for k in range(KEY_LENGTH):
            self.challenge[c + k] = 0
        n = 16 * i
        for k in range(16):
            self.node_ids[n + k] = 0

    # --- the hot path ---------------------------------------------------------

    def aad(self, buf, length):
        """The message header ``buf[:length]`` as AAD: copied into the table's own scratch buffer and seen
        through a view cached per length, so no allocation once warm and no view is ever kept on a caller's
        buffer (which the caller may resize).  Headers longer than the scratch (long extensions) are copied."""
        if length > _AAD_MAX:
            return bytes(buf[:length])
        scratch = self._aad_buf
        for k in range(length):
            scratch[k] = buf[k]
        view = self._aad_views[length]
        if view is None:
            view = self._aad_views[length] = memoryview(scratch)[:length]
        return view

    def _nonce_for(self, i, security_flags, counter, node_offset):
        nonce = self._nonce
        nonce[0] = security_flags
        nonce[1] = counter & 0xFF
        nonce[2] = (counter >> 8) & 0xFF
        nonce[3] = (counter >> 16) & 0xFF
        nonce[4] = (counter >> 24) & 0xFF
        ids = self.node_ids
        n = 16 * i + node_offset
        for k in range(8):
            nonce[5 + k] = ids[n + k]
        return nonce

    def receive(self, i, buf, length, now_ms):
        """Decode the header of the message in ``buf[:length]``, which must name slot ``i``, and open it."""
        n = self.received.header.decode(buf, 0, length)
        if self.received.header.session_id != self.local_id[i]:
            raise MessageRejectedError("message for another session")
        return self.open(i, buf, n, length, now_ms)

    def open(self, i, buf, header_length, length, now_ms):
        """Decrypt and check the message in ``buf[:length]`` whose header (``received.header``, already
        decoded, ``header_length`` bytes) names slot ``i``; fill and return ``received``."""
        received = self.received
        h = received.header
        state = self.state[i]
        if state != ACTIVE and state != DEFUNCT:
            raise SessionStateError("session is " + STATE_NAMES[state])
        if h.session_type != SESSION_UNICAST or h.privacy or h.control:
            raise MessageRejectedError("unicast session message with group, privacy or control flags")
        end = length - TAG_LENGTH
        if end < header_length:
            raise MessageRejectedError("message shorter than its header and tag")
        counter = h.counter
        nonce = self._nonce_for(i, buf[3], counter, 8)
        self.dec[i].decrypt_in_place(nonce, self.aad(buf, header_length), buf, header_length, end)
        rx = self.rx
        verdict = rx.check(i, counter)
        if verdict == BEHIND:
            raise ReplayError("message counter behind the replay window")
        if verdict == NEW:
            rx.commit(i, counter)
            if state == DEFUNCT:
                self.state[i] = ACTIVE
        self.timestamp[i] = now_ms
        self.active_timestamp[i] = now_ms
        return self.received.fill(self.handles[i], buf, header_length, end, verdict != NEW)

    def seal(self, i, buf, end, now_ms):
        """Encrypt the protocol header and payload in ``buf[8:end]``, write the header; the total length."""
        check_message(buf, end, now_ms, HEADER_LENGTH, TAG_LENGTH)  # room for the header and the tag
        state = self.state[i]
        if state != ACTIVE and state != DEFUNCT:
            raise SessionStateError("session is " + STATE_NAMES[state])
        counter = next_unicast(self.tx, i)
        h = self._tx_header
        h.session_id = self.peer_id[i]
        h.counter = counter
        h.encode(buf, 0)
        nonce = self._nonce_for(i, buf[3], counter, 0)
        self.enc[i].encrypt_in_place(nonce, self.aad(buf, HEADER_LENGTH), buf, HEADER_LENGTH, end)
        self.last_tx[i] = counter
        self.timestamp[i] = now_ms
        return end + TAG_LENGTH


class SecureSession(SessionHandle):
    """A handle on one secure session of a ``SecureSessionTable`` (created when the session is).

    ``encode(buf, end, now_ms)`` writes the message header at ``buf[0:8]``, encrypts ``buf[8:end]`` in place
    and appends the tag; it returns ``end + 16`` (``CounterExhaustedError`` once the counter reached
    0xFFFFFFFF).  ``decode`` decrypts in place."""

    # --- state ---------------------------------------------------------------------

    @property
    def id(self):
        return self._t.local_id[self._slot()]

    @property
    def peer_session_id(self):
        return self._t.peer_id[self._slot()]

    @property
    def state(self):
        return self._t.state[self._slot()]

    @property
    def state_name(self):
        return STATE_NAMES[self._t.state[self._slot()]]

    @property
    def fabric(self):
        return self._t.fabrics[self._slot()]

    @property
    def fabric_index(self):
        return self._t.fabric_index[self._slot()]

    @property
    def peer_node_id(self):
        return self._t.peer_node_id[self._slot()]

    @property
    def node_id(self):
        f = self._t.fabrics[self._slot()]
        return UNSPECIFIED_NODE_ID if f is None else f.node_id

    @property
    def peer_cats(self):
        return self._t.cats[self._slot()]

    @property
    def is_pase(self):
        i = self._slot()
        return self._t.fabrics[i] is None and self._t.peer_node_id[i] == UNSPECIFIED_NODE_ID

    @property
    def is_initiator(self):
        return bool(self._t.flags[self._slot()] & INITIATOR)

    @property
    def is_resumption(self):
        return bool(self._t.flags[self._slot()] & RESUMPTION)

    @property
    def name(self):
        return "secure/" + str(self.id)

    @property
    def idle_interval_ms(self):
        return self.parameters.idle_interval_ms

    @property
    def active_interval_ms(self):
        return self.parameters.active_interval_ms

    @property
    def active_threshold_ms(self):
        return self.parameters.active_threshold_ms

    @property
    def attestation_challenge(self):
        c = KEY_LENGTH * self._slot()
        return bytes(self._t.challenge[c : c + KEY_LENGTH])

    @property
    def message_counter(self):
        """The counter the next message will carry."""
        return self._t.tx[self._slot()]

    def mark_defunct(self):
        """MRP gave up on the peer: evicted before healthy sessions, active again on its next message."""
        i = self._slot()
        if self._t.state[i] == ACTIVE:
            self._t.state[i] = DEFUNCT

    def mark_active(self):
        i = self._slot()
        if self._t.state[i] == DEFUNCT:
            self._t.state[i] = ACTIVE

    # --- holders (an exchange in progress keeps a session from being freed) --------

    def hold(self):
        i = self._slot()
        if self._t.holds[i] == 255:
            raise SessionStateError("too many holders")
        self._t.holds[i] += 1

    def release(self):
        """Drop a hold; a session chosen for eviction while held is freed with its last holder."""
        i = self._slot()
        t = self._t
        if t.holds[i] == 0:
            raise SessionStateError("session is not held")
        t.holds[i] -= 1
        if t.holds[i] == 0 and t.state[i] == PENDING_EVICTION:
            t.free(i)

    @property
    def holds(self):
        return self._t.holds[self._slot()]

    # --- subscriptions ----------------------------------------------------------------

    @property
    def subscription_count(self):
        return self._t.subscriptions[self._slot()]

    def add_subscription(self):
        i = self._slot()
        if self._t.subscriptions[i] == 0xFFFF:
            raise SessionStateError("too many subscriptions")
        self._t.subscriptions[i] += 1
        self._notify_subscriptions(i)

    def remove_subscription(self):
        i = self._slot()
        if self._t.subscriptions[i] == 0:
            raise SessionStateError("no subscription to remove")
        self._t.subscriptions[i] -= 1
        self._notify_subscriptions(i)

    def clear_subscriptions(self):
        i = self._slot()
        if self._t.subscriptions[i]:
            self._t.subscriptions[i] = 0
            self._notify_subscriptions(i)

    def _notify_subscriptions(self, i):
        callback = self._t.subscription_callback[i]
        if callback is not None:
            callback(self)

    def __repr__(self):
        if not self.is_live():
            return "<SecureSession ended>"
        return "<SecureSession %d %s peer=0x%x fabric=%d>" % (self.id, self.state_name, self.peer_node_id, self.fabric_index)


def check_fabric(fabric):
    if fabric is not None and not isinstance(fabric, Fabric):
        raise SessionArgumentError("fabric must be a micromatter.fabric.Fabric or None")
    return fabric


def check_bytes(value, name, low, high):
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise SessionArgumentError(name + " must be bytes, not " + type(value).__name__)
    if len(value) < low or len(value) > high:
        raise SessionArgumentError(name + " must be " + str(low) + ".." + str(high) + " bytes")
    return value


def check_callback(value, name):
    if value is not None and not callable(value):
        raise SessionArgumentError(name + " must be callable or None")
    return value


def session_parameters(peer_parameters, idle_ms, active_ms):
    """The peer's parameters with the optional interval overrides applied."""
    params = check_parameters(peer_parameters, "peer_session_parameters")
    if idle_ms is None and active_ms is None:
        return params
    return params.with_intervals(idle_ms, active_ms)
