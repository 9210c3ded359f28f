"""The CPython file backend on real files: the storage contract, and power loss at every byte written.

Power loss is simulated inside the backend's own write path: the temporary
file is written one byte at a time and, before each byte, before the rename
and after it, the directory as it is on disk at that instant is copied aside
(what a reboot would find).  A fresh ``SessionManager`` restores its
resumption records from each copy: every record committed before the cut is
intact and the one being written is its old or its new version.
"""

import os
import shutil

# tests/unit is on the path (pyproject's pytest pythonpath): the same doubles as the unit tests.
from flashsim import storage_contract
from micromatter import log
from micromatter.errors import StorageError
from micromatter.session.resumption import ResumptionRecord
from micromatter.storage import MemoryStorage
from micromatter_cpython.port import Port
from micromatter_cpython.storage import FileStorage
from micromatter_mp.storage import VfsStorage
from sessionkit import fabric, manager

F1 = fabric(1)
F2 = fabric(2)
FABRICS = [F1, F2]


def test_file_storage_contract(tmp_path):
    root = str(tmp_path / "store")
    storage_contract(FileStorage(root), lambda: FileStorage(root))
    # Values are plain files, contexts directories: nothing else is left behind.
    names = sorted(os.listdir(root))
    assert names == ["sessions.d"]


def test_port_open_storage(tmp_path):
    s = Port().open_storage(str(tmp_path))
    assert isinstance(s, FileStorage)
    s.set("k", b"v")
    assert (tmp_path / "k").read_bytes() == b"v"


def test_file_storage_errors(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"x")
    s = FileStorage(str(blocker))
    try:
        s.set("k", b"v")
        raise AssertionError("writing under a file must fail")
    except StorageError:
        pass
    try:
        s.keys()
        raise AssertionError("listing a file must fail")
    except StorageError:
        pass
    os.chmod(tmp_path, 0o500)
    try:
        if os.geteuid() != 0:  # root ignores permissions
            try:
                FileStorage(str(tmp_path / "new")).set("k", b"v")
                raise AssertionError("writing in a read-only directory must fail")
            except StorageError:
                pass
    finally:
        os.chmod(tmp_path, 0o700)


def test_leftover_temporary_file_is_ignored(tmp_path):
    s = FileStorage(str(tmp_path))
    s.set("k", b"old")
    (tmp_path / "k.tmp").write_bytes(b"partial")
    fresh = FileStorage(str(tmp_path))
    assert fresh.get("k") == b"old" and fresh.keys() == ["k"]
    fresh.set("k", b"new")
    assert FileStorage(str(tmp_path)).get("k") == b"new"
    assert not (tmp_path / "k.tmp").exists()


def record(f, peer, n):
    return ResumptionRecord(f, peer, bytes([n]) * 16, bytes([n ^ 0x5A]) * 32)


SCENARIO = [
    ("save A", lambda m: m.save_resumption_record(record(F1, 10, 1))),
    ("save B", lambda m: m.save_resumption_record(record(F1, 11, 2))),
    ("update A", lambda m: m.save_resumption_record(record(F1, 10, 3))),
    ("save C", lambda m: m.save_resumption_record(record(F2, 12, 4))),
    ("save D, replacing B", lambda m: m.save_resumption_record(record(F1, 13, 5))),
    ("remove A", lambda m: m.remove_resumption_record(10)),
    ("update C", lambda m: m.save_resumption_record(record(F2, 12, 6))),
]


def state(m):
    return {(r.fabric_index, r.peer_node_id): r.encode() for r in m.resumption_records()}


def run_power_loss(tmp_path, backend_class, rename_method):
    """Run SCENARIO on ``backend_class`` with a cut at every byte and around every rename."""
    live = tmp_path / "live"
    copies = tmp_path / "copies"
    copies.mkdir()
    cuts = [0]
    current = {"before": {}, "after": {}, "op": "boot (global counter reservation)"}

    def on_cut():
        cuts[0] += 1
        copy = copies / str(cuts[0])
        if live.exists():
            shutil.copytree(live, copy)
        else:
            copy.mkdir()
        fresh = manager(backend_class(str(copy)), max_fabrics=1)
        fresh.init_from_storage(FABRICS)
        restored = state(fresh)
        before, after = current["before"], current["after"]
        for key in set(before) | set(after) | set(restored):
            got = restored.get(key)
            assert got == before.get(key) or got == after.get(key), (current["op"], key, cuts[0])
        shutil.rmtree(copy)

    class Cutting(backend_class):
        def _write(self, f, data):
            for i in range(len(data)):
                f.flush()
                os.fsync(f.fileno())
                on_cut()
                f.write(data[i : i + 1])

        def _delete(self, key):
            on_cut()
            existed = backend_class._delete(self, key)
            on_cut()
            return existed

    def replace(self, tmp, target):
        on_cut()  # before the rename: the whole temporary file and the old value
        getattr(backend_class, rename_method)(self, tmp, target)
        on_cut()  # after: the new value, the caller not yet told

    setattr(Cutting, rename_method, replace)

    log.set_sink(lambda line: None)
    try:
        device = manager(Cutting(str(live)), max_fabrics=1)
        device.init_from_storage(FABRICS)
        shadow = manager(MemoryStorage(), max_fabrics=1)
        shadow.init_from_storage(FABRICS)
        for name, op in SCENARIO:
            current["before"] = state(device)
            op(shadow)
            current["after"] = state(shadow)
            current["op"] = name
            op(device)
            assert state(device) == current["after"], name
    finally:
        log.set_sink(None)
    final = manager(backend_class(str(live)), max_fabrics=1)
    final.init_from_storage(FABRICS)
    assert state(final) == state(shadow)
    return cuts[0]


def test_power_loss_on_real_files_cpython_backend(tmp_path):
    cuts = run_power_loss(tmp_path, FileStorage, "_replace")
    print("power-loss test (CPython file backend): %d cuts on real files, every restore old or new" % cuts)
    # 6 saves of 95 bytes and the counter reservation at boot (a cut before each byte and around each
    # rename), and the deletes of "remove A" (two halves, a cut before and after each).
    assert cuts == 6 * (95 + 2) + (13 + 2) + 2 * 2


def test_power_loss_on_real_files_micropython_vfs_backend(tmp_path):
    cuts = run_power_loss(tmp_path, VfsStorage, "_rename")
    print("power-loss test (MicroPython VFS backend on host files): %d cuts, every restore old or new" % cuts)
    assert cuts == 6 * (95 + 2) + (13 + 2) + 2 * 2
