"""Slots: small records that survive a power cut at any byte, one bounded write per save.

Each slot is two storage keys used in turn (``<prefix><n>a`` and
``<prefix><n>b``).  A save writes the half that does not hold the current
version, so the current version is never overwritten; a torn write only
damages the half being written.  Each half carries a format version, a
sequence number (higher is newer, shared by all slots of a store) and a CRC-32:

    version (1) | sequence (4, LE) | payload | CRC-32 of all before (4, LE)

On load the valid half with the higher sequence wins; a half that fails its
CRC or carries another version is logged and erased.  Erasing a slot deletes
the stale half first and the current one last, so a cut in between leaves the
old record, never an older one.  The storage backend's own atomicity (rename,
NVS entries) is not relied on.
"""

from micromatter import log
from micromatter.compat import const
from micromatter.endian import get_le, put_le
from micromatter.errors import StorageError
from micromatter.storage import StorageKeyError

try:
    from binascii import crc32
except ImportError:  # a port built without binascii.crc32

    def crc32(data):
        crc = 0xFFFFFFFF
        for b in data:
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
        return crc ^ 0xFFFFFFFF


HEADER_LENGTH = const(5)
CHECK_LENGTH = const(4)
OVERHEAD = const(9)
_TAG = "slots"


def seal(version, sequence, payload):
    """The stored form of ``payload``: version, sequence, payload, CRC-32."""
    n = len(payload)
    out = bytearray(n + OVERHEAD)
    out[0] = version
    put_le(out, 1, sequence, 4)
    out[HEADER_LENGTH : HEADER_LENGTH + n] = payload
    put_le(out, HEADER_LENGTH + n, crc32(memoryview(out)[: HEADER_LENGTH + n]) & 0xFFFFFFFF, 4)
    return bytes(out)


def unseal(version, data):
    """``(sequence, payload)`` of a stored half, or None if it is torn, corrupt or of another version."""
    if data is None or len(data) < OVERHEAD or data[0] != version:
        return None
    n = len(data) - CHECK_LENGTH
    if crc32(memoryview(data)[:n]) & 0xFFFFFFFF != get_le(data, n, 4):
        return None
    return get_le(data, 1, 4), bytes(data[HEADER_LENGTH:n])


class SlotStore:
    """``count`` slots under ``storage`` keys ``<prefix><n>a|b`` holding payloads of format ``version``."""

    def __init__(self, storage, prefix, count, version):
        if len(prefix) + len(str(count - 1)) + 1 > 15:
            raise StorageKeyError("slot key prefix too long: " + prefix)
        self.storage = storage
        self.prefix = prefix
        self.count = count
        self.version = version
        self.sequence = 0
        # Which half holds the current version of each slot: 0 none, 1 "a", 2 "b".
        self._current = bytearray(count)
        self.writes = 0
        self.bytes_written = 0

    def key(self, slot, half):
        return self.prefix + str(slot) + ("a" if half == 1 else "b")

    def load(self):
        """Read every slot; return a list of ``(slot, sequence, payload)`` for the slots holding a valid record.

        A half that cannot be read (``StorageError``) is skipped with a log line: boot goes on."""
        found = []
        best_seq = 0
        for slot in range(self.count):
            best = None
            best_half = 0
            for half in (1, 2):
                key = self.key(slot, half)
                try:
                    raw = self.storage.get(key)
                    if raw is None:
                        continue
                    opened = unseal(self.version, raw)
                    if opened is None:
                        log.warning(_TAG, "dropping " + key + ": torn, corrupt or of another format")
                        self.storage.delete(key)
                        continue
                except StorageError as e:
                    log.error(_TAG, "cannot read " + key + ": " + str(e))
                    continue
                seq = opened[0]
                if seq > best_seq:
                    best_seq = seq
                if best is None or seq > best[0]:
                    best = opened
                    best_half = half
            self._current[slot] = best_half
            if best is not None:
                found.append((slot, best[0], best[1]))
        self.sequence = best_seq
        return found

    def write(self, slot, payload):
        """Save ``payload`` in ``slot`` with one storage write (to the half not holding the current version)."""
        half = 2 if self._current[slot] == 1 else 1
        self.sequence += 1
        data = seal(self.version, self.sequence, payload)
        self.storage.set(self.key(slot, half), data)
        self._current[slot] = half
        self.writes += 1
        self.bytes_written += len(data)

    def erase(self, slot):
        """Delete both halves of ``slot``: the stale one first, then the current one."""
        current = self._current[slot]
        stale = 2 if current == 1 else 1
        self.storage.delete(self.key(slot, stale))
        self.storage.delete(self.key(slot, 3 - stale))
        self._current[slot] = 0

    def is_used(self, slot):
        return self._current[slot] != 0


class Slot:
    """One slot of its own ``SlotStore`` (a single power-safe value): ``read()`` and ``write(payload)``."""

    def __init__(self, storage, prefix, version):
        self._store = SlotStore(storage, prefix, 1, version)
        self._loaded = False

    def read(self):
        found = self._store.load()
        self._loaded = True
        return found[0][2] if found else None

    def write(self, payload):
        if not self._loaded:
            self.read()
        self._store.write(0, payload)
