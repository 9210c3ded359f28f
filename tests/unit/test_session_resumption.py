"""Resumption records: stored form, one write per save, LRU replacement, restore, corrupt data, failures."""

from flashsim import CountingStorage, FailingStorage
from micromatter import log
from micromatter.errors import StorageError
from micromatter.fabric import Fabric
from micromatter.session.errors import ResumptionRecordError, SessionArgumentError
from micromatter.session.params import SessionParameters
from micromatter.session.resumption import FIXED_LENGTH, ResumptionRecord, decode_record
from micromatter.session.slots import OVERHEAD, seal, unseal
from micromatter.storage import MemoryStorage
from sessionkit import ROOT_KEY, fabric, manager
from support import raises, unhex


def record(f, peer, rid_byte=1, cats=(), params=None):
    return ResumptionRecord(f, peer, bytes([rid_byte]) * 16, bytes(range(rid_byte, rid_byte + 32)), params, cats)


class Logs:
    def __enter__(self):
        self.lines = []
        log.set_sink(self.lines.append)
        return self.lines

    def __exit__(self, *exc):
        log.set_sink(None)


def test_stored_form():
    f = Fabric(2, 0x0102030405060708, 0x99, ROOT_KEY)
    r = ResumptionRecord(f, 0x1122334455667788, bytes(range(16)), bytes(range(32, 64)),
                         SessionParameters(500, 300, 4000, 17, 11, 0x01030000, 1), (0x00010001,))
    data = r.encode()
    assert len(data) == FIXED_LENGTH + 4
    assert data == unhex(
        "02 0807060504030201 8877665544332211"
        "000102030405060708090a0b0c0d0e0f"
        "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
        "f4010000 2c010000 a00f 1100 0b00 00000301 0100"
        "01 01000100"
    )
    back = decode_record(data, [fabric(1), f])
    assert back == r and back.fabric is f and back.peer_cats == (0x00010001,)


def test_decode_rejects_what_does_not_parse():
    f = fabric(1)
    data = record(f, 5).encode()
    raises(ResumptionRecordError, decode_record, data[:-1], [f])
    raises(ResumptionRecordError, decode_record, data + b"\x00", [f])
    bad = bytearray(data)
    bad[FIXED_LENGTH - 1] = 4  # four CATs
    raises(ResumptionRecordError, decode_record, bytes(bad), [f])
    bad = bytearray(data)
    bad[65:69] = bytes(4)  # idle interval 0
    raises(ResumptionRecordError, decode_record, bytes(bad), [f])
    bad = bytearray(data)
    bad[9:17] = bytes(8)  # peer node id 0
    raises(ResumptionRecordError, decode_record, bytes(bad), [f])
    raises(ResumptionRecordError, decode_record, data, [])  # its fabric is gone
    raises(ResumptionRecordError, decode_record, data, [Fabric(1, 0x999, 5, ROOT_KEY)])  # index reused


def test_record_validation():
    f = fabric(1)
    raises(ResumptionRecordError, ResumptionRecord, None, 5, bytes(16), bytes(32))
    raises(ResumptionRecordError, ResumptionRecord, f, 0, bytes(16), bytes(32))
    raises(ResumptionRecordError, ResumptionRecord, f, "5", bytes(16), bytes(32))
    raises(ResumptionRecordError, ResumptionRecord, f, 5, bytes(15), bytes(32))
    raises(ResumptionRecordError, ResumptionRecord, f, 5, bytes(16), bytes(31))
    raises(ResumptionRecordError, ResumptionRecord, f, 5, bytes(16), "secret" * 6)
    raises(ResumptionRecordError, ResumptionRecord, f, 5, bytes(16), bytes(32), "params")
    raises(ResumptionRecordError, ResumptionRecord, f, 5, bytes(16), bytes(32), None, (1, 2, 3, 4))
    raises(ResumptionRecordError, ResumptionRecord, f, 5, bytes(16), bytes(32), None, (0x00010000,))
    raises(ResumptionRecordError, ResumptionRecord, f, 5, bytes(16), bytes(32), None, 7)


def test_one_bounded_write_per_save():
    counting = CountingStorage(MemoryStorage())
    m = manager(counting)
    m.init_from_storage([fabric(1)])
    base = dict(counting.counts)
    for k in range(15):
        m.save_resumption_record(record(fabric(1), 100 + k, k + 1))
    assert counting.counts["writes"] - base["writes"] == 15
    per_save = (counting.counts["bytes"] - base["bytes"]) // 15
    assert per_save == FIXED_LENGTH + OVERHEAD  # 95 bytes, whatever the number of records
    assert counting.counts["deletes"] == base["deletes"]
    m.save_resumption_record(record(fabric(1), 100, 50))  # update: one more write, same size
    assert counting.counts["writes"] - base["writes"] == 16


def test_find_and_replace_same_peer():
    m = manager()
    f = fabric(1)
    m.save_resumption_record(record(f, 5, 1))
    m.save_resumption_record(record(f, 5, 2))
    assert m.find_resumption_record_by_id(b"\x01" * 16) is None
    assert m.find_resumption_record_by_id(b"\x02" * 16).peer_node_id == 5
    assert m.find_resumption_record_by_node_id(5).resumption_id == b"\x02" * 16
    assert m.find_resumption_record_by_node_id(5, fabric(2)) is None
    assert m.find_resumption_record_by_id(b"short") is None
    raises(ResumptionRecordError, m.find_resumption_record_by_id, None)
    raises(ResumptionRecordError, m.save_resumption_record, "record")
    assert len(m.resumption_records()) == 1


def test_least_recently_used_record_replaced():
    m = manager(record_capacity=3)
    f = fabric(1)
    for k in range(3):
        m.save_resumption_record(record(f, 10 + k, k + 1))
    m.find_resumption_record_by_id(bytes([1]) * 16)  # peer 10 used: peer 11 is now the least recent
    with Logs() as lines:
        m.save_resumption_record(record(f, 13, 9))
    assert "replacing" in lines[0]
    assert m.find_resumption_record_by_node_id(11) is None
    assert [r.peer_node_id for r in m.resumption_records()] == [13, 10, 12]
    # A restart keeps the three and their order (the sequence numbers are the use order).
    again = manager(m.storage)
    assert again.init_from_storage([f]) == 3
    assert sorted(r.peer_node_id for r in again.resumption_records()) == [10, 12, 13]


def test_restore_drops_records_of_removed_fabrics():
    storage = MemoryStorage()
    m = manager(storage)
    f1, f2 = fabric(1), fabric(2)
    m.save_resumption_record(record(f1, 5, 1))
    m.save_resumption_record(record(f2, 6, 2))
    m.save_resumption_record(record(f2, 7, 3))
    again = manager(storage)
    with Logs() as lines:
        assert again.init_from_storage([f1]) == 1
    warnings = [line for line in lines if line.startswith("W")]
    assert len(warnings) == 2 and all("no longer exists" in line for line in warnings)
    assert again.find_resumption_record_by_node_id(5).fabric is f1
    assert sorted(k for k in storage.keys() if k.startswith("rr")) == ["rr0a"]
    # A new fabric on index 2 (another fabric id) does not inherit anything.
    assert manager(storage).init_from_storage([f1, Fabric(2, 0xBEEF, 9, ROOT_KEY)]) == 1


def test_corrupt_and_unparseable_records_are_dropped_and_boot_goes_on():
    storage = MemoryStorage()
    m = manager(storage)
    f = fabric(1)
    for k in range(4):
        m.save_resumption_record(record(f, 20 + k, k + 1))
    # Slot 0: a flipped bit.  Slot 1: valid checksum, unparseable content.  Slot 2: unknown version.
    bad = bytearray(storage.get("rr0a"))
    bad[30] ^= 4
    storage.set("rr0a", bad)
    storage.set("rr1a", seal(1, 99, b"\x01garbage"))
    storage.set("rr2a", seal(7, 100, record(f, 22, 3).encode()))
    storage.set("rr9a", b"\x00")  # a slot beyond the capacity is never read
    again = manager(storage, record_capacity=5)
    with Logs() as lines:
        assert again.init_from_storage([f]) == 1
    warnings = [line for line in lines if line.startswith("W")]
    assert len(warnings) == 3 and "rr0a" in warnings[0] and "rr2a" in warnings[1] and "slot 1" in warnings[2]
    assert again.find_resumption_record_by_node_id(23) is not None
    assert again.find_resumption_record_by_node_id(20) is None
    # The damaged slots were cleaned up and are reused.
    again.save_resumption_record(record(f, 30, 30))
    assert again.find_resumption_record_by_node_id(30) is not None


def test_duplicate_records_for_a_peer_keep_the_newest():
    storage = MemoryStorage()
    f = fabric(1)
    storage.set("rr0a", seal(1, 5, record(f, 9, 1).encode()))
    storage.set("rr1a", seal(1, 8, record(f, 9, 2).encode()))
    m = manager(storage)
    with Logs() as lines:
        assert m.init_from_storage([f]) == 1
    assert "duplicate" in lines[0]
    assert m.find_resumption_record_by_node_id(9).resumption_id == b"\x02" * 16
    assert storage.get("rr0a") is None


def test_remove_and_update_fabric():
    m = manager()
    f1 = fabric(1)
    m.save_resumption_record(record(f1, 5, 1))
    m.save_resumption_record(record(fabric(2), 5, 2))
    m.save_resumption_record(record(f1, 6, 3))
    renamed = Fabric(1, f1.fabric_id, f1.node_id, ROOT_KEY, label="renamed")
    assert m.update_fabric_for_resumption_records(renamed) == 2
    assert m.find_resumption_record_by_node_id(6).fabric is renamed
    assert m.remove_resumption_record(5, f1) == 1
    assert m.find_resumption_record_by_node_id(5).fabric_index == 2
    assert m.remove_resumption_record(5) == 1
    assert m.remove_resumption_record(5) == 0
    # A fabric object with another fabric id on that index: its records cannot belong to it.
    assert m.update_fabric_for_resumption_records(Fabric(1, 0x777, 1, ROOT_KEY)) == 0
    assert m.find_resumption_record_by_node_id(6) is None


def test_failed_write_is_kept_and_stored_later():
    failing = FailingStorage(MemoryStorage())
    failing.failing = False
    m = manager(failing)
    m.init_from_storage([fabric(1)])
    failing.failing = True
    with Logs() as lines:
        assert m.save_resumption_record(record(fabric(1), 5, 1)) is False
        assert m.store_resumption_records() == 1
    assert lines and "cannot save" in lines[0]
    assert m.find_resumption_record_by_node_id(5) is not None  # usable until the next reboot
    failing.failing = False
    assert m.store_resumption_records() == 0
    assert unseal(1, failing.inner.get("rr0a"))[1] == record(fabric(1), 5, 1).encode()


def test_unreadable_storage_does_not_stop_boot():
    failing = FailingStorage(MemoryStorage())
    m = manager(failing)
    with Logs() as lines:
        assert m.init_from_storage([fabric(1)]) == 0
    assert any("cannot read" in line for line in lines)
    assert any("global message counter" in line for line in lines)
    assert m.resumption_records() == []
    # Without a reserved counter no unsecured message goes out; once storage works again it does.
    s = m.create_unsecure_session(None, True, None, now_ms=0)
    buf = bytearray(40)
    raises(StorageError, s.encode, buf, 30, 0)
    failing.failing = False
    assert s.encode(buf, 30, 0) == 30
    raises(SessionArgumentError, m.find_resumption_record_by_node_id, 0.5)
