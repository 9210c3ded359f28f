"""Resumption records: what a CASE session leaves so its peer can resume in one round trip, kept in flash.

A record holds the fabric (by index, checked against the fabric id), the peer
node id and CATs, the resumption id, the shared secret and the peer's session
parameters.  Each record lives in its own slot (``micromatter.session.slots``):
saving one costs one bounded write, where matter.js rewrites its whole list
under one key.  The table has a fixed capacity; when it is full the least
recently used record's slot is reused.  A record that fails its checksum or
does not parse is dropped with a log line and boot goes on.

Stored form, version 1 (86 bytes + 4 per CAT):
fabric index (1) | fabric id (8) | peer node id (8) | resumption id (16) |
shared secret (32) | session parameters (20) | CAT count (1) | CATs (4 each)
"""

from array import array

from micromatter import log
from micromatter.compat import const
from micromatter.endian import get_le, put_le
from micromatter.errors import StorageError
from micromatter.fabric import Fabric
from micromatter.session.errors import ResumptionRecordError, SessionParameterError
from micromatter.session.params import ENCODED_LENGTH as PARAMS_LENGTH
from micromatter.session.params import SessionParameters, check_parameters
from micromatter.session.slots import SlotStore

RECORD_VERSION = const(1)
RESUMPTION_ID_LENGTH = const(16)
SHARED_SECRET_LENGTH = const(32)
MAX_CATS = const(3)
FIXED_LENGTH = const(86)
SLOT_PREFIX = "rr"
_TAG = "resumption"
_U64 = 0xFFFFFFFFFFFFFFFF


def _check_bytes(value, name, length):
    if not isinstance(value, (bytes, bytearray, memoryview)) or len(value) != length:
        raise ResumptionRecordError(name + " must be " + str(length) + " bytes")
    return bytes(value)


def check_node_id(value, name="peer_node_id"):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1 or value > _U64:
        raise ResumptionRecordError(name + " must be a node id (1..2**64-1)")
    return value


def _check_cats(cats):
    if cats is None:
        return ()
    if not isinstance(cats, (tuple, list)) or len(cats) > MAX_CATS:
        raise ResumptionRecordError("peer_cats must be a list of at most 3 CATs")
    for c in cats:
        if not isinstance(c, int) or isinstance(c, bool) or c < 1 or c > 0xFFFFFFFF or not c & 0xFFFF:
            raise ResumptionRecordError("a CAT is a u32 with a non-zero version")
    return tuple(cats)


class ResumptionRecord:
    """One resumable CASE peer: ``fabric``, ``peer_node_id``, ``resumption_id`` (16 bytes),
    ``shared_secret`` (32 bytes), ``session_parameters`` (the peer's) and ``peer_cats``."""

    def __init__(self, fabric, peer_node_id, resumption_id, shared_secret, session_parameters=None, peer_cats=()):
        if not isinstance(fabric, Fabric):
            raise ResumptionRecordError("fabric must be a micromatter.fabric.Fabric")
        self.fabric = fabric
        self.peer_node_id = check_node_id(peer_node_id)
        self.resumption_id = _check_bytes(resumption_id, "resumption_id", RESUMPTION_ID_LENGTH)
        self.shared_secret = _check_bytes(shared_secret, "shared_secret", SHARED_SECRET_LENGTH)
        try:
            self.session_parameters = check_parameters(session_parameters)
        except SessionParameterError as e:
            raise ResumptionRecordError(str(e))
        self.peer_cats = _check_cats(peer_cats)

    @property
    def fabric_index(self):
        return self.fabric.fabric_index

    def same_peer(self, other):
        return self.fabric.fabric_index == other.fabric.fabric_index and self.peer_node_id == other.peer_node_id

    def __eq__(self, other):
        return (
            isinstance(other, ResumptionRecord)
            and self.fabric.matches(other.fabric)
            and self.peer_node_id == other.peer_node_id
            and self.resumption_id == other.resumption_id
            and self.shared_secret == other.shared_secret
            and self.session_parameters == other.session_parameters
            and self.peer_cats == other.peer_cats
        )

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "ResumptionRecord(fabric=%d, peer=0x%x)" % (self.fabric.fabric_index, self.peer_node_id)

    def encode(self):
        """The stored form (version 1)."""
        n = len(self.peer_cats)
        out = bytearray(FIXED_LENGTH + 4 * n)
        out[0] = self.fabric.fabric_index
        put_le(out, 1, self.fabric.fabric_id, 8)
        put_le(out, 9, self.peer_node_id, 8)
        out[17:33] = self.resumption_id
        out[33:65] = self.shared_secret
        self.session_parameters.encode_into(out, 65)
        out[65 + PARAMS_LENGTH] = n
        for k in range(n):
            put_le(out, FIXED_LENGTH + 4 * k, self.peer_cats[k], 4)
        return bytes(out)


def decode_record(payload, fabrics):
    """The record stored in ``payload``, attached to its fabric from ``fabrics``.

    ``ResumptionRecordError`` if it does not parse, or its fabric (same index and
    fabric id) is not among ``fabrics``."""
    if len(payload) < FIXED_LENGTH:
        raise ResumptionRecordError("record truncated")
    n = payload[65 + PARAMS_LENGTH]
    if n > MAX_CATS or len(payload) != FIXED_LENGTH + 4 * n:
        raise ResumptionRecordError("record length does not match its CAT count")
    index = payload[0]
    fabric_id = get_le(payload, 1, 8)
    fabric = None
    for f in fabrics:
        if f.fabric_index == index and f.fabric_id == fabric_id:
            fabric = f
            break
    if fabric is None:
        raise ResumptionRecordError("fabric %d (id 0x%x) no longer exists" % (index, fabric_id))
    try:
        params = SessionParameters.decode_from(payload, 65)
    except SessionParameterError as e:
        raise ResumptionRecordError("bad session parameters: " + str(e))
    cats = [get_le(payload, FIXED_LENGTH + 4 * k, 4) for k in range(n)]
    return ResumptionRecord(fabric, get_le(payload, 9, 8), payload[17:33], payload[33:65], params, cats)


class ResumptionRecords:
    """A fixed table of ``capacity`` records over ``capacity`` slots of ``storage``; LRU replacement."""

    def __init__(self, storage, capacity):
        if not isinstance(capacity, int) or capacity < 1 or capacity > 999:
            raise ResumptionRecordError("record capacity must be 1..999")
        self.capacity = capacity
        self.slots = SlotStore(storage, SLOT_PREFIX, capacity, RECORD_VERSION)
        self._records = [None] * capacity
        self._used = array("I", [0] * capacity)  # last use, from _clock: higher is more recent
        self._dirty = bytearray(capacity)
        self._clock = 0

    def _touch(self, slot):
        self._clock += 1
        self._used[slot] = self._clock

    def load(self, fabrics):
        """Replace the table by what storage holds, dropping records of fabrics not in ``fabrics``."""
        fabrics = list(fabrics)
        for f in fabrics:
            if not isinstance(f, Fabric):
                raise ResumptionRecordError("fabrics must hold micromatter.fabric.Fabric objects")
        for slot in range(self.capacity):
            self._records[slot] = None
            self._used[slot] = 0
            self._dirty[slot] = 0
        found = self.slots.load()
        found.sort(key=lambda item: item[1])  # oldest first, so a newer duplicate wins
        for slot, sequence, payload in found:
            try:
                record = decode_record(payload, fabrics)
            except ResumptionRecordError as e:
                log.warning(_TAG, "dropping record in slot %d: %s" % (slot, e))
                self._erase(slot)
                continue
            for other in range(self.capacity):
                if self._records[other] is not None and self._records[other].same_peer(record):
                    log.warning(_TAG, "dropping older duplicate record in slot %d" % other)
                    self._records[other] = None
                    self._erase(other)
            self._records[slot] = record
            self._used[slot] = sequence
        self._clock = self.slots.sequence
        return self.count()

    def _erase(self, slot):
        try:
            self.slots.erase(slot)
        except StorageError as e:
            log.error(_TAG, "cannot erase slot %d: %s" % (slot, e))

    def count(self):
        n = 0
        for r in self._records:
            if r is not None:
                n += 1
        return n

    def records(self):
        """The records, most recently used first."""
        slots = [s for s in range(self.capacity) if self._records[s] is not None]
        slots.sort(key=lambda s: -self._used[s])
        return [self._records[s] for s in slots]

    def find_by_id(self, resumption_id):
        """The record with this resumption id (marked as used), or None."""
        if not isinstance(resumption_id, (bytes, bytearray, memoryview)):
            raise ResumptionRecordError("resumption_id must be bytes")
        if len(resumption_id) != RESUMPTION_ID_LENGTH:
            return None
        for slot in range(self.capacity):
            r = self._records[slot]
            if r is not None and r.resumption_id == resumption_id:
                self._touch(slot)
                return r
        return None

    def find_by_node(self, node_id, fabric_index=None):
        """The most recently used record for peer ``node_id`` (on ``fabric_index`` if given), or None."""
        best = None
        for slot in range(self.capacity):
            r = self._records[slot]
            if r is not None and r.peer_node_id == node_id and (fabric_index is None or r.fabric_index == fabric_index):
                if best is None or self._used[slot] > self._used[best]:
                    best = slot
        return None if best is None else self._records[best]

    def _slot_for(self, record):
        free = None
        lru = 0
        for slot in range(self.capacity):
            r = self._records[slot]
            if r is None:
                if free is None:
                    free = slot
            elif r.same_peer(record):
                return slot
            elif self._records[lru] is None or self._used[slot] < self._used[lru]:
                lru = slot
        return free if free is not None else lru

    def save(self, record):
        """Keep ``record`` (replacing the peer's previous one, else a free or the LRU slot) and write its slot.

        True once stored; False if the write failed (the record is kept in memory
        and written again by ``store_all``)."""
        if not isinstance(record, ResumptionRecord):
            raise ResumptionRecordError("save needs a ResumptionRecord")
        slot = self._slot_for(record)
        previous = self._records[slot]
        if previous is not None and not previous.same_peer(record):
            log.info(_TAG, "replacing least recently used record %r" % previous)
        self._records[slot] = record
        self._touch(slot)
        return self._write(slot)

    def _write(self, slot):
        try:
            self.slots.write(slot, self._records[slot].encode())
        except StorageError as e:
            self._dirty[slot] = 1
            log.error(_TAG, "cannot save record in slot %d: %s" % (slot, e))
            return False
        self._dirty[slot] = 0
        return True

    def store_all(self):
        """Write the records whose last write failed; the number still unsaved."""
        failed = 0
        for slot in range(self.capacity):
            if self._dirty[slot] and self._records[slot] is not None:
                if not self._write(slot):
                    failed += 1
        return failed

    def _remove_where(self, predicate):
        n = 0
        for slot in range(self.capacity):
            r = self._records[slot]
            if r is not None and predicate(r):
                self._records[slot] = None
                self._dirty[slot] = 0
                self._erase(slot)
                n += 1
        return n

    def remove(self, node_id, fabric_index=None):
        """Remove the records of peer ``node_id`` (on ``fabric_index`` if given); the number removed."""
        return self._remove_where(
            lambda r: r.peer_node_id == node_id and (fabric_index is None or r.fabric_index == fabric_index)
        )

    def remove_fabric(self, fabric_index):
        return self._remove_where(lambda r: r.fabric_index == fabric_index)

    def update_fabric(self, fabric):
        """Point the records of ``fabric``'s index at the new object; the number updated (no flash write:
        records store the fabric by index and id).  Records of another fabric id on that index are dropped."""
        n = 0
        for slot in range(self.capacity):
            r = self._records[slot]
            if r is not None and r.fabric_index == fabric.fabric_index:
                if r.fabric.fabric_id != fabric.fabric_id:
                    self._records[slot] = None
                    self._erase(slot)
                    continue
                r.fabric = fabric
                n += 1
        return n
