"""The MicroPython port's backends: VFS files and esp32.NVS (through a stand-in where esp32 is absent).

The VFS backend uses only ``os`` calls CPython has too, so it runs on both
runtimes over the host's files; under MicroPython it also runs on littlefs in
RAM, with a power cut at every byte the filesystem programs.
"""

import os

from flashsim import FakeNvsFlash, storage_contract
from micromatter.errors import StorageError
from micromatter.storage import StorageKeyError
from micromatter_mp.storage import NvsStorage, VfsStorage
from support import IS_MICROPYTHON, Rng, raises, skip

_counter = [0]


def scratch_dir():
    """A fresh directory for one test (tempfile on CPython; under var/ on MicroPython)."""
    if not IS_MICROPYTHON:
        import tempfile

        return tempfile.mkdtemp(prefix="mm-vfs-")
    _counter[0] += 1
    base = "var"
    for d in (base, base + "/unit"):
        try:
            os.mkdir(d)
        except OSError:
            pass
    name = base + "/unit/vfs-" + str(Rng(_counter[0] + os.urandom(1)[0]).u32()) + "-" + str(_counter[0])
    os.mkdir(name)
    return name


def remove_tree(path):
    for name in os.listdir(path):
        p = path + "/" + name
        if os.stat(p)[0] & 0x4000:
            remove_tree(p)
        else:
            os.remove(p)
    os.rmdir(path)


def test_vfs_storage_contract():
    d = scratch_dir()
    try:
        storage_contract(VfsStorage(d + "/store"), lambda: VfsStorage(d + "/store"))
    finally:
        remove_tree(d)


def test_vfs_storage_ignores_a_leftover_temporary_file():
    d = scratch_dir()
    try:
        s = VfsStorage(d)
        s.set("k", b"old")
        with open(d + "/k.tmp", "wb") as f:
            f.write(b"half-writ")
        fresh = VfsStorage(d)
        assert fresh.get("k") == b"old"
        assert fresh.keys() == ["k"]
        fresh.set("k", b"new")
        assert VfsStorage(d).get("k") == b"new"
    finally:
        remove_tree(d)


def test_vfs_storage_reports_os_errors():
    d = scratch_dir()
    try:
        with open(d + "/file", "wb") as f:
            f.write(b"x")
        s = VfsStorage(d + "/file")  # a file where the directory should be
        raises(StorageError, s.set, "k", b"v")
        raises(StorageError, s.keys)
    finally:
        remove_tree(d)


def test_vfs_storage_rename_falls_back_when_target_exists():
    d = scratch_dir()
    try:

        class FatLike(VfsStorage):
            renames = 0

            def _os_rename(self, tmp, target):
                # FAT refuses to rename over a file: the backend removes it first.
                try:
                    os.stat(target)
                except OSError:
                    FatLike.renames += 1
                    return os.rename(tmp, target)
                raise OSError(17, "EEXIST")

        s = FatLike(d)
        s.set("k", b"one")
        s.set("k", b"two")
        assert VfsStorage(d).get("k") == b"two"
        assert FatLike.renames == 2
    finally:
        remove_tree(d)


def test_nvs_storage_contract():
    flash = FakeNvsFlash()
    nvs = flash.nvs_class()
    storage_contract(NvsStorage("mm", nvs_class=nvs), lambda: NvsStorage("mm", nvs_class=nvs))
    # Everything went through committed NVS blobs, namespaces "mm", "mm.sessions", "mm.sessions.a".
    assert sorted(flash.namespaces) == ["mm", "mm.sessions", "mm.sessions.a"]


def test_nvs_namespace_limit():
    nvs = FakeNvsFlash().nvs_class()
    s = NvsStorage("matter", nvs_class=nvs)
    s.context("sessions")  # "matter.sessions": 15 characters
    raises(StorageKeyError, s.context("sessions").context, "x")
    raises(StorageKeyError, NvsStorage, "a" * 16, "", nvs)


def test_nvs_overwrite_is_one_blob_write():
    flash = FakeNvsFlash()
    s = NvsStorage("mm", nvs_class=flash.nvs_class())
    s.set("k", b"1")  # new key: index, then value
    assert flash.blob_writes == 2
    s.set("k", b"2")
    assert flash.blob_writes == 3
    assert s.get("k") == b"2"


def test_nvs_index_naming_a_missing_key_is_harmless():
    flash = FakeNvsFlash()
    nvs = flash.nvs_class()
    s = NvsStorage("mm", nvs_class=nvs)
    s.set("a", b"1")
    s.set("b", b"2")
    # A power cut after the index named "c" but before "c" was written.
    handle = nvs("mm")
    handle.set_blob("~k", b"a,b,c")
    handle.commit()
    fresh = NvsStorage("mm", nvs_class=nvs)
    assert fresh.keys() == ["a", "b"]
    assert fresh.get("c") is None
    assert fresh.delete("c") is False


def test_nvs_reads_values_longer_than_the_first_buffer():
    flash = FakeNvsFlash()
    s = NvsStorage("mm", nvs_class=flash.nvs_class())
    value = bytes(range(256)) * 3
    s.set("long", value)
    assert NvsStorage("mm", nvs_class=flash.nvs_class()).get("long") == value


def test_nvs_errors_become_storage_errors():
    class Broken:
        def __init__(self, namespace):
            raise OSError(-0x1101, "ESP_ERR_NVS_NOT_INITIALIZED")

    s = NvsStorage("mm", nvs_class=Broken)
    raises(StorageError, s.get, "k")
    raises(StorageError, s.set, "k", b"v")


def test_nvs_without_esp32_module():
    if IS_MICROPYTHON:
        try:
            import esp32  # noqa: F401

            skip("this port has esp32.NVS")
        except ImportError:
            pass
    raises(StorageError, NvsStorage, "mm")


def test_port_open_storage_vfs_and_nvs():
    if not IS_MICROPYTHON:
        skip("micromatter_mp.port needs MicroPython's time.ticks_ms")
    from support import port

    d = scratch_dir()
    try:
        s = port().open_storage(d)
        assert isinstance(s, VfsStorage)
        s.set("k", b"v")
        assert VfsStorage(d).get("k") == b"v"
    finally:
        remove_tree(d)
    try:
        import esp32  # noqa: F401
    except ImportError:
        raises(StorageError, port().open_storage, "nvs:mm")
