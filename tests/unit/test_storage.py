"""The storage interface and the in-memory backend; the power-cut model the session tests rely on."""

from flashsim import Flash, PowerCut, PowerCutStorage, storage_contract
from micromatter.errors import StorageError
from micromatter.storage import (
    MAX_NAME_LENGTH,
    MemoryStorage,
    Storage,
    StorageKeyError,
    StorageValueError,
    check_name,
    check_value,
)
from support import port, raises


def test_memory_storage_contract():
    storage_contract(MemoryStorage())


def test_memory_contexts_share_the_store():
    root = MemoryStorage()
    root.context("a").set("x", b"1")
    assert MemoryStorage(root.data).context("a").get("x") == b"1"
    assert root.context("a").path == "a"
    assert root.context("a").context("b").path == "a.b"


def test_errors_are_storage_errors():
    assert issubclass(StorageKeyError, StorageError)
    assert issubclass(StorageValueError, StorageError)


def test_check_name_limits():
    assert check_name("a" * MAX_NAME_LENGTH) == "a" * MAX_NAME_LENGTH
    assert check_name("AZaz09_-") == "AZaz09_-"
    raises(StorageKeyError, check_name, "a" * (MAX_NAME_LENGTH + 1))
    e = raises(StorageKeyError, check_name, 7, "context name")
    assert "context name" in str(e)


def test_check_value_copies():
    buf = bytearray(b"abc")
    data = check_value(buf)
    buf[0] = 0
    assert data == b"abc"


def test_abstract_storage_refuses():
    raises(NotImplementedError, Storage().get, "k")


def test_port_opens_memory_storage():
    s = port().open_storage(":memory:")
    s.set("k", b"v")
    assert s.get("k") == b"v"
    assert port().open_storage(":memory:").get("k") is None


def test_power_cut_storage_contract():
    flash = Flash()
    storage_contract(PowerCutStorage(flash), lambda: PowerCutStorage(flash))
    storage_contract(PowerCutStorage(Flash(), "inplace"))


def test_power_cut_rename_leaves_old_or_new():
    flash = Flash()
    s = PowerCutStorage(flash)
    s.set("k", b"old")
    seen = []
    flash.on_cut = lambda snap: seen.append(snap.get("", {}).get("k"))
    s.set("k", b"newer")
    # 5 bytes of the temporary copy, before the rename, after the rename.
    assert seen == [b"old"] * 6 + [b"newer"]


def test_power_cut_inplace_tears_the_value():
    flash = Flash()
    s = PowerCutStorage(flash, "inplace")
    s.set("k", b"old")
    seen = []
    flash.on_cut = lambda snap: seen.append(snap[""]["k"])
    s.set("k", b"new")
    assert seen == [b"", b"n", b"ne", b"new"]


def test_power_cut_raises_and_freezes():
    flash = Flash()
    s = PowerCutStorage(flash, "inplace")
    flash.cut_after = 2
    raises(PowerCut, s.set, "k", b"abcdef")
    assert flash.data[""]["k"] == b"ab"
