"""The fabric table: the node's fabrics in fixed slots, one checksummed storage key per slot.

A commissioner adds a fabric (AddNOC) or replaces our NOC (UpdateNOC) under the
fail-safe: the change is live at once (CASE must work with it before
CommissioningComplete) but pending, so it reaches storage only on ``commit``;
``revert`` (fail-safe expiry or disarm) drops an addition and puts back what an
update replaced.  A fabric that is never committed is never stored, so a reboot
mid-commissioning leaves the table as it was.

Fabric indexes run 1..254 from a persisted "next index" that moves past every
index handed out, so an index is never reused while in use and not soon after a
removal.  ``fabrics`` is the live list of ``Fabric`` objects (committed and
pending) that the session core and the CASE responder iterate; it is updated in
place.  ``listeners`` hear ``listener(event, fabric)`` with event ``ADDED``,
``UPDATED``, ``REMOVED`` or ``COMMITTED``.

Stored form of a slot (``f<slot>``), sealed like the session core's records
(``session.slots.seal``: version, sequence, payload, CRC-32): a TLV structure
{1: fabric index, 2: vendor id, 3: label, 4: RCAC, 5: NOC, 6: ICAC (absent if
none), 7: operational private key, 8: IPK epoch key}; ids, root key, compressed
fabric id and operational IPK are derived again when it is loaded.  A slot that
fails its checksum or does not parse is dropped with a log line; boot goes on.
"""

from micromatter import log, tlv
from micromatter.compat import const
from micromatter.errors import MatterError, StorageError
from micromatter.fabric import MAX_LABEL_LENGTH, Fabric, FabricError, check_fabric_index
from micromatter.session.slots import seal, unseal

RECORD_VERSION = const(1)
DEFAULT_CAPACITY = const(5)
MAX_FABRIC_INDEX = const(254)
SLOT_PREFIX = "f"
NEXT_INDEX_KEY = "next"

ADDED = "added"
UPDATED = "updated"
REMOVED = "removed"
COMMITTED = "committed"

_TAG = "fabrics"


class FabricTableError(FabricError):
    """A fabric table operation that cannot be done (see the subclasses)."""


class FabricTableFullError(FabricTableError):
    """Every slot holds a fabric (AddNOC answers TableFull)."""


class FabricConflictError(FabricTableError):
    """A fabric with the same root public key and fabric id is in the table (AddNOC: FabricConflict)."""


class UnknownFabricError(FabricTableError):
    """No fabric has that index (RemoveFabric: InvalidFabricIndex)."""


class FabricPendingError(FabricTableError):
    """A change is already pending for that fabric, or none is where one is needed."""


def check_label(label):
    """``label`` if it is a str of at most 32 UTF-8 bytes, else ``FabricError``."""
    if not isinstance(label, str) or len(label.encode()) > MAX_LABEL_LENGTH:
        raise FabricError("label must be a str of at most 32 bytes")
    return label


def encode_record(fabric):
    """The TLV payload stored for ``fabric`` (a ``Fabric`` with ``credentials``)."""
    creds = fabric.credentials
    if creds is None:
        raise FabricError("only a fabric with operational credentials can be stored")
    record = {1: fabric.fabric_index, 2: fabric.vendor_id, 3: fabric.label, 4: creds.rcac, 5: creds.noc}
    if creds.icac is not None:
        record[6] = creds.icac
    record[7] = creds.private_key
    record[8] = creds.epoch_key
    return tlv.encode(record)


def decode_record(crypto, payload):
    """The ``Fabric`` a stored payload describes (``FabricError``/``TlvError``/``CertificateError`` if bad)."""
    s = tlv.decode(payload)
    if not isinstance(s, tlv.Struct):
        raise FabricError("a fabric record is a TLV structure")
    try:
        index, vendor, label = s[1], s[2], s[3]
        rcac, noc, key, epoch = s[4], s[5], s[7], s[8]
    except KeyError:
        raise FabricError("a fabric record lacks a field")
    return Fabric.from_credentials(crypto, index, noc, s.get(6), rcac, key, epoch, vendor, label)


class FabricTable:
    """At most ``capacity`` fabrics.  ``crypto`` derives compressed ids and IPKs; ``storage`` (a
    ``Storage`` context, or None to keep everything in memory) holds the slots and the next index."""

    def __init__(self, crypto, storage=None, capacity=DEFAULT_CAPACITY):
        if not isinstance(capacity, int) or isinstance(capacity, bool) or not 1 <= capacity <= MAX_FABRIC_INDEX:
            raise FabricTableError("capacity must be an int 1..254")
        if getattr(crypto, "hkdf_sha256", None) is None:
            raise FabricTableError("crypto must be the port's crypto")
        self.crypto = crypto
        self.storage = storage
        self.capacity = capacity
        self._slots = [None] * capacity  # the Fabric in each slot
        self._added = bytearray(capacity)  # 1: the slot's fabric is a pending addition
        self._replaced = [None] * capacity  # the committed Fabric a pending update replaced
        self._stored = bytearray(capacity)  # 1: the slot has a record in storage
        self.fabrics = []
        self.listeners = []
        self.next_index = 1
        self._sequence = 0

    # --- looking up ----------------------------------------------------------------------------

    def __len__(self):
        return len(self.fabrics)

    def _slot_of(self, fabric_index):
        for i in range(self.capacity):
            f = self._slots[i]
            if f is not None and f.fabric_index == fabric_index:
                return i
        return -1

    def find(self, fabric_index):
        """The fabric with ``fabric_index`` (committed or pending), or None."""
        i = self._slot_of(fabric_index)
        return None if i < 0 else self._slots[i]

    def find_by_root(self, root_public_key, fabric_id):
        """The fabric of that root public key and fabric id, or None."""
        for f in self.fabrics:
            if f.fabric_id == fabric_id and f.root_public_key == bytes(root_public_key):
                return f
        return None

    def is_pending(self, fabric_index):
        """True if that fabric was added or updated under the fail-safe and not committed yet."""
        i = self._slot_of(fabric_index)
        return i >= 0 and (self._added[i] == 1 or self._replaced[i] is not None)

    def has_pending(self):
        for i in range(self.capacity):
            if self._added[i] or self._replaced[i] is not None:
                return True
        return False

    def committed_count(self):
        """Fabrics that survive a reboot (pending additions excluded)."""
        n = 0
        for i in range(self.capacity):
            if self._slots[i] is not None and not self._added[i]:
                n += 1
        return n

    def is_full(self):
        return len(self.fabrics) >= self.capacity

    # --- changes -----------------------------------------------------------------------------

    def allocate_index(self):
        """The index the next added fabric gets: the persisted next index, or the first free one after it."""
        index = self.next_index
        for _ in range(MAX_FABRIC_INDEX):
            if self._slot_of(index) < 0:
                return index
            index = 1 if index >= MAX_FABRIC_INDEX else index + 1
        raise FabricTableFullError("no fabric index free")

    def add(self, fabric):
        """Add ``fabric`` (a ``Fabric`` with credentials) as a pending addition; committed by ``commit``."""
        self._check(fabric)
        if self._slot_of(fabric.fabric_index) >= 0:
            raise FabricTableError("fabric index %d is in use" % fabric.fabric_index)
        if self.find_by_root(fabric.root_public_key, fabric.fabric_id) is not None:
            raise FabricConflictError("fabric 0x%x of that root is in the table" % fabric.fabric_id)
        for i in range(self.capacity):
            if self._slots[i] is None:
                self._slots[i] = fabric
                self._added[i] = 1
                self._rebuild()
                self._tell(ADDED, fabric)
                return fabric
        raise FabricTableFullError("all %d fabric slots are in use" % self.capacity)

    def update(self, fabric):
        """Replace the fabric of ``fabric.fabric_index`` (UpdateNOC); the old one comes back on ``revert``."""
        self._check(fabric)
        i = self._slot_of(fabric.fabric_index)
        if i < 0:
            raise UnknownFabricError("no fabric %d" % fabric.fabric_index)
        old = self._slots[i]
        if old.fabric_id != fabric.fabric_id or old.root_public_key != fabric.root_public_key:
            raise FabricConflictError("an update must keep the fabric id and root")
        if self._replaced[i] is not None:
            raise FabricPendingError("an update of fabric %d is pending already" % fabric.fabric_index)
        if not self._added[i]:
            self._replaced[i] = old
        self._slots[i] = fabric
        self._rebuild()
        self._tell(UPDATED, fabric)
        return fabric

    def set_label(self, fabric_index, label):
        """Change a fabric's label (stored at once unless the fabric is pending, then at ``commit``; a
        ``StorageError`` leaves the label changed in memory)."""
        check_label(label)
        i = self._slot_of(fabric_index)
        if i < 0:
            raise UnknownFabricError("no fabric %d" % fabric_index)
        fabric = self._slots[i]
        fabric.label = label
        if not self._added[i] and self._replaced[i] is None:
            self._store(i)
        self._tell(UPDATED, fabric)
        return fabric

    def remove(self, fabric_index):
        """Remove a fabric (committed or pending) and its record; returns the removed ``Fabric``."""
        i = self._slot_of(fabric_index)
        if i < 0:
            raise UnknownFabricError("no fabric %d" % fabric_index)
        fabric = self._slots[i]
        self._free(i)
        self._rebuild()
        self._tell(REMOVED, fabric)
        return fabric

    def commit(self):
        """CommissioningComplete: store every pending addition and update.  The fabrics committed.  A write
        that fails is logged: the fabric stays in use (committed in memory) and is lost at the next boot."""
        done = []
        for i in range(self.capacity):
            fabric = self._slots[i]
            if fabric is None or not (self._added[i] or self._replaced[i] is not None):
                continue
            try:
                if self._added[i]:
                    self._advance_next_index(fabric.fabric_index)
                self._store(i)
            except StorageError as e:
                log.error(_TAG, "fabric %d not stored: %s" % (fabric.fabric_index, e))
            self._added[i] = 0
            self._replaced[i] = None
            done.append(fabric)
        for fabric in done:
            self._tell(COMMITTED, fabric)
        return done

    def revert(self):
        """Fail-safe expiry: drop pending additions, put back what pending updates replaced.  Returns
        ``(removed, restored)`` lists of fabrics."""
        removed = []
        restored = []
        for i in range(self.capacity):
            if self._added[i]:
                removed.append(self._slots[i])
                self._free(i)
            elif self._replaced[i] is not None:
                self._slots[i] = self._replaced[i]
                self._replaced[i] = None
                restored.append(self._slots[i])
        self._rebuild()
        for fabric in removed:
            self._tell(REMOVED, fabric)
        for fabric in restored:
            self._tell(UPDATED, fabric)
        return removed, restored

    def _check(self, fabric):
        if not isinstance(fabric, Fabric) or fabric.credentials is None:
            raise FabricTableError("a fabric with operational credentials is needed")
        check_fabric_index(fabric.fabric_index)

    def _free(self, i):
        if self._stored[i]:
            self._erase(i)
        self._slots[i] = None
        self._added[i] = 0
        self._replaced[i] = None

    def _rebuild(self):
        live = [f for f in self._slots if f is not None]
        live.sort(key=lambda f: f.fabric_index)
        self.fabrics[:] = live

    def _tell(self, event, fabric):
        for listener in self.listeners:
            try:
                listener(event, fabric)
            except Exception as e:  # one listener's failure must not stop the others or the table
                log.error(_TAG, "listener failed on %s: %r" % (event, e))

    # --- storage -----------------------------------------------------------------------------

    def _key(self, i):
        return SLOT_PREFIX + str(i)

    def _store(self, i):
        if self.storage is None:
            return
        self._sequence += 1
        self.storage.set(self._key(i), seal(RECORD_VERSION, self._sequence, encode_record(self._slots[i])))
        self._stored[i] = 1

    def _erase(self, i):
        self._stored[i] = 0
        if self.storage is None:
            return
        try:
            self.storage.delete(self._key(i))
        except StorageError as e:  # a stale record names a fabric id: records never attach to another fabric
            log.error(_TAG, "cannot erase %s: %s" % (self._key(i), e))

    def _advance_next_index(self, used):
        self.next_index = 1 if used >= MAX_FABRIC_INDEX else used + 1
        if self.storage is not None:
            self.storage.set(NEXT_INDEX_KEY, bytes((self.next_index,)))

    def load(self):
        """Restore the stored fabrics (at boot, before anything else uses the table).  The number restored."""
        if self.storage is None:
            return 0
        for i in range(self.capacity):
            key = self._key(i)
            try:
                data = self.storage.get(key)
            except StorageError as e:
                log.error(_TAG, "cannot read %s: %s" % (key, e))
                continue
            if data is None:
                continue
            opened = unseal(RECORD_VERSION, data)
            fabric = None
            if opened is not None:
                if opened[0] > self._sequence:
                    self._sequence = opened[0]
                try:
                    fabric = decode_record(self.crypto, opened[1])
                except (MatterError, ValueError, TypeError) as e:
                    log.warning(_TAG, "dropping %s: %r" % (key, e))
            else:
                log.warning(_TAG, "dropping %s: torn, corrupt or of another format" % key)
            if fabric is not None and (self._slot_of(fabric.fabric_index) >= 0
                                       or self.find_by_root(fabric.root_public_key, fabric.fabric_id) is not None):
                log.warning(_TAG, "dropping %s: a duplicate of another slot's fabric" % key)
                fabric = None
            if fabric is None:
                self._delete_quietly(key)
                continue
            self._slots[i] = fabric
            self._stored[i] = 1
            self._rebuild()
        try:
            raw = self.storage.get(NEXT_INDEX_KEY)
        except StorageError:
            raw = None
        if raw is not None and len(raw) == 1 and 1 <= raw[0] <= MAX_FABRIC_INDEX:
            self.next_index = raw[0]
        for f in self.fabrics:  # a lost or stale next index never hands out an index in use
            if f.fabric_index >= self.next_index:
                self.next_index = 1 if f.fabric_index >= MAX_FABRIC_INDEX else f.fabric_index + 1
        if self.fabrics:
            log.info(_TAG, "restored %d fabrics" % len(self.fabrics))
        return len(self.fabrics)

    def _delete_quietly(self, key):
        try:
            self.storage.delete(key)
        except StorageError as e:
            log.error(_TAG, "cannot erase %s: %s" % (key, e))
