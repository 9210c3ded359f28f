"""The fabric table: slots, indexes, pending additions and updates, commit and revert, sealed records, corruption."""

from micromatter.fabric import Fabric, FabricError
from micromatter.fabrics import (
    ADDED,
    COMMITTED,
    REMOVED,
    UPDATED,
    FabricConflictError,
    FabricPendingError,
    FabricTable,
    FabricTableError,
    FabricTableFullError,
    UnknownFabricError,
    decode_record,
    encode_record,
)
from micromatter.storage import MemoryStorage
from casekit import Authority
from support import port, raises

_authorities = []


def authority(n=0):
    """Shared certificate authorities (key generation is slow on MicroPython): fabric ids 0xA1, 0xA2, ..."""
    while len(_authorities) <= n:
        _authorities.append(Authority(0xA1 + len(_authorities), icac=len(_authorities) % 2 == 0))
    return _authorities[n]


def fabric(index, n=0, node_id=0x100, label=""):
    f = authority(n).fabric(node_id, index)
    f.label = label
    return f


def table(storage=None, capacity=3):
    t = FabricTable(port().crypto, storage, capacity)
    seen = []
    t.listeners.append(lambda event, f: seen.append((event, f.fabric_index)))
    return t, seen


def test_record_round_trip_keeps_credentials_and_derived_ids():
    f = fabric(7, 0, 0x4455, "kitchen")
    g = decode_record(port().crypto, encode_record(f))
    assert (g.fabric_index, g.fabric_id, g.node_id, g.label, g.vendor_id) == (7, f.fabric_id, 0x4455, "kitchen", 0xFFF1)
    assert g.root_public_key == f.root_public_key and g.compressed_fabric_id == f.compressed_fabric_id
    assert g.operational_ipk == f.operational_ipk
    c, d = f.credentials, g.credentials
    assert (c.noc, c.icac, c.rcac, c.private_key, c.epoch_key) == (d.noc, d.icac, d.rcac, d.private_key, d.epoch_key)
    h = fabric(2, 1)  # an authority without ICAC: the record has no tag 6
    assert decode_record(port().crypto, encode_record(h)).credentials.icac is None
    raises(FabricError, encode_record, Fabric(1, 5, 6, b"\x04" + bytes(64)))  # no credentials: nothing to store


def test_pending_addition_is_live_but_stored_only_on_commit():
    storage = MemoryStorage()
    t, seen = table(storage)
    assert t.allocate_index() == 1
    f = t.add(fabric(1))
    assert t.fabrics == [f] and t.find(1) is f and t.is_pending(1) and t.has_pending()
    assert t.committed_count() == 0 and storage.keys() == []
    assert t.commit() == [f]
    assert not t.is_pending(1) and t.committed_count() == 1
    assert sorted(storage.keys()) == ["f0", "next"] and storage.get("next") == b"\x02"
    assert seen == [(ADDED, 1), (COMMITTED, 1)]
    t2, _ = table(storage)
    assert t2.load() == 1
    g = t2.find(1)
    assert g.fabric_id == f.fabric_id and g.node_id == f.node_id and not t2.is_pending(1)
    assert t2.allocate_index() == 2


def test_revert_drops_additions_and_restores_updates():
    storage = MemoryStorage()
    t, seen = table(storage)
    old = t.add(fabric(1))
    t.commit()
    stored = storage.get("f0")
    new = fabric(1, 0, 0x999)  # UpdateNOC: same fabric, new NOC
    t.update(new)
    t.add(fabric(2, 1))
    assert t.find(1) is new and t.is_pending(1) and len(t) == 2
    assert storage.get("f0") == stored  # nothing written for pending changes
    removed, restored = t.revert()
    assert [f.fabric_index for f in removed] == [2] and restored == [old]
    assert t.fabrics == [old] and not t.has_pending()
    assert seen[-2:] == [(REMOVED, 2), (UPDATED, 1)]
    assert storage.get("f0") == stored and "f1" not in storage.keys()


def test_update_rules():
    t, _ = table()
    raises(UnknownFabricError, t.update, fabric(1))
    t.add(fabric(1))
    t.commit()
    raises(FabricConflictError, t.update, fabric(1, 1))  # another root and fabric id
    t.update(fabric(1, 0, 0x201))
    raises(FabricPendingError, t.update, fabric(1, 0, 0x202))
    assert t.commit()[0].node_id == 0x201
    assert not t.has_pending() and t.find(1).node_id == 0x201


def test_capacity_conflicts_and_index_use():
    t, _ = table(capacity=2)
    t.add(fabric(1))
    raises(FabricTableError, t.add, fabric(1, 1))  # the index is in use
    raises(FabricConflictError, t.add, fabric(2, 0, 0x300))  # same root and fabric id as fabric 1
    t.add(fabric(2, 1))
    assert t.is_full()
    raises(FabricTableFullError, t.add, fabric(3, 2))
    raises(FabricTableError, t.add, Fabric(3, 5, 6, b"\x04" + bytes(64)))  # no credentials
    raises(FabricTableError, FabricTable, port().crypto, None, 0)
    raises(FabricTableError, FabricTable, object(), None, 2)


def test_indexes_are_not_reused_after_removal_and_wrap_at_254():
    storage = MemoryStorage()
    t, _ = table(storage)
    t.add(fabric(t.allocate_index()))
    t.commit()
    t.remove(1)
    assert t.allocate_index() == 2  # the removed index is not handed out again at once
    t.add(fabric(2))
    t.commit()
    assert storage.get("next") == b"\x03"
    t.next_index = 254
    assert t.allocate_index() == 254
    t.add(fabric(254, 1))
    t.commit()
    assert t.next_index == 1 and storage.get("next") == b"\x01"
    t.next_index = 2  # 2 is in use: skipped
    assert t.allocate_index() == 3


def test_labels_and_removal_are_stored_at_once():
    storage = MemoryStorage()
    t, seen = table(storage)
    t.add(fabric(1))
    t.commit()
    t.set_label(1, "living room")
    t2, _ = table(storage)
    t2.load()
    assert t2.find(1).label == "living room"
    raises(FabricError, t.set_label, 1, "x" * 33)
    raises(UnknownFabricError, t.set_label, 9, "x")
    t.add(fabric(2, 1))
    t.set_label(2, "pending")  # a pending fabric's label is stored with it at commit
    assert "f1" not in storage.keys()
    t.remove(1)
    assert "f0" not in storage.keys() and seen[-1] == (REMOVED, 1)
    raises(UnknownFabricError, t.remove, 1)
    t.commit()
    t3, _ = table(storage)
    assert t3.load() == 1 and t3.find(2).label == "pending"


def test_corrupt_and_duplicate_records_are_dropped_at_load():
    storage = MemoryStorage()
    t, _ = table(storage)
    t.add(fabric(1))
    t.add(fabric(2, 1))
    t.commit()
    good = storage.get("f1")
    bad = bytearray(storage.get("f0"))
    bad[40] ^= 1  # fails the CRC
    storage.set("f0", bytes(bad))
    storage.set("f2", good)  # the same fabric in a second slot
    storage.set("next", b"\x00")  # out of range: ignored
    t2, _ = table(storage)
    assert t2.load() == 1 and t2.find(2) is not None and t2.find(1) is None
    assert sorted(storage.keys()) == ["f1", "next"]
    assert t2.allocate_index() == 3  # past every index in use


def test_a_record_that_does_not_parse_is_dropped():
    from micromatter import tlv
    from micromatter.session.slots import seal

    storage = MemoryStorage()
    storage.set("f0", seal(1, 1, tlv.encode({1: 1, 2: 0xFFF1})))  # fields missing
    storage.set("f1", seal(1, 2, b"\x15\x18\x18"))  # not TLV
    storage.set("f2", seal(1, 3, tlv.encode([1, 2])))  # not a structure
    t, _ = table(storage)
    assert t.load() == 0 and storage.keys() == []


class BrokenFlash(MemoryStorage):
    """Writes fail while ``broken`` is set."""

    broken = False

    def _set(self, key, data):
        if self.broken:
            from micromatter.errors import StorageError

            raise StorageError("flash full")
        MemoryStorage._set(self, key, data)


def test_a_failed_write_at_commit_keeps_the_fabric_in_use_until_the_next_boot():
    storage = BrokenFlash()
    t, seen = table(storage)
    t.add(fabric(1))
    storage.broken = True
    assert [f.fabric_index for f in t.commit()] == [1]  # logged, not raised
    assert not t.has_pending() and t.find(1) is not None and seen[-1] == (COMMITTED, 1)
    storage.broken = False
    t2, _ = table(storage)
    assert t2.load() == 0  # nothing reached the flash
