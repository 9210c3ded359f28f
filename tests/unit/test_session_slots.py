"""Power-safe slots: sealing, alternating halves, recovery from torn and corrupt halves."""

from flashsim import Flash, PowerCutStorage
from micromatter import log
from micromatter.session.slots import OVERHEAD, Slot, SlotStore, crc32, seal, unseal
from micromatter.storage import MemoryStorage, StorageKeyError
from support import raises, unhex


def quiet():
    lines = []
    log.set_sink(lines.append)
    return lines


def test_crc32_check_value():
    # The CRC-32 (ISO-HDLC) check value of "123456789".
    assert crc32(b"123456789") & 0xFFFFFFFF == 0xCBF43926


def test_seal_layout():
    data = seal(1, 0x01020304, b"abc")
    assert len(data) == 3 + OVERHEAD
    assert data[:5] == unhex("01 04030201")
    assert data[5:8] == b"abc"
    crc = crc32(data[:8]) & 0xFFFFFFFF
    assert data[8:] == bytes([crc & 0xFF, (crc >> 8) & 0xFF, (crc >> 16) & 0xFF, crc >> 24])
    assert unseal(1, data) == (0x01020304, b"abc")


def test_unseal_rejects_damage():
    data = seal(1, 7, b"payload")
    assert unseal(2, data) is None  # another format version
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x10
        assert unseal(1, bytes(bad)) is None
    for n in range(len(data)):
        assert unseal(1, data[:n]) is None
    assert unseal(1, None) is None


def test_writes_alternate_halves():
    storage = MemoryStorage()
    store = SlotStore(storage, "rr", 3, 1)
    assert store.load() == []
    store.write(1, b"one")
    store.write(1, b"two")
    store.write(1, b"three")
    assert storage.keys() == ["rr1a", "rr1b"]
    assert unseal(1, storage.get("rr1a"))[1] == b"three"
    assert unseal(1, storage.get("rr1b"))[1] == b"two"
    again = SlotStore(storage, "rr", 3, 1)
    assert again.load() == [(1, 3, b"three")]
    assert again.sequence == 3
    again.write(1, b"four")  # goes to the stale half
    assert unseal(1, storage.get("rr1b")) == (4, b"four")


def test_load_prefers_the_valid_half():
    storage = MemoryStorage()
    store = SlotStore(storage, "rr", 1, 1)
    store.write(0, b"old")
    store.write(0, b"new")
    bad = bytearray(storage.get("rr0b"))
    bad[6] ^= 1
    storage.set("rr0b", bad)
    lines = quiet()
    try:
        assert SlotStore(storage, "rr", 1, 1).load() == [(0, 1, b"old")]
    finally:
        log.set_sink(None)
    assert len(lines) == 1 and "rr0b" in lines[0]
    assert storage.get("rr0b") is None  # the corrupt half is gone


def test_erase_deletes_stale_half_first():
    flash = Flash()
    storage = PowerCutStorage(flash)
    store = SlotStore(storage, "rr", 2, 1)
    store.write(0, b"older")
    store.write(0, b"current")
    seen = []

    def on_cut(snapshot):
        lines = quiet()
        try:
            seen.append(SlotStore(PowerCutStorage(Flash(snapshot)), "rr", 2, 1).load())
        finally:
            log.set_sink(None)

    flash.on_cut = on_cut
    store.erase(0)
    # Never the older version: the current one until its half is deleted, then nothing.
    assert seen == [[(0, 2, b"current")]] * 3 + [[]]
    assert not store.is_used(0)


def test_prefix_limit():
    # Keys are prefix + slot number + a/b: 15 characters at most, for NVS.
    raises(StorageKeyError, SlotStore, MemoryStorage(), "abcdefghijklm", 11, 1)
    s = SlotStore(MemoryStorage(), "abcdefghijklm", 10, 1)
    s.write(9, b"x")
    assert s.storage.keys() == ["abcdefghijklm9a"]


def test_single_slot():
    storage = MemoryStorage()
    s = Slot(storage, "gc", 1)
    assert s.read() is None
    s.write(b"x")
    s.write(b"y")
    assert Slot(storage, "gc", 1).read() == b"y"
