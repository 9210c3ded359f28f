"""Power loss while resumption records are written: a cut at every byte, then a fresh boot.

A scenario of saves, updates, LRU replacements and removals runs through the
``SessionManager`` over ``flashsim.PowerCutStorage``.  At every cut point a
fresh ``SessionManager`` restores from what the flash holds at that instant:
every record committed before the operation must be intact and each record
the operation touches must be its old or its new version, never garbage or an
older one.  Both write models are tried: rename (file backends, NVS) and in
place (a backend without atomic writes: the value is torn).
"""

from flashsim import Flash, PowerCutStorage
from micromatter import log
from micromatter.session.resumption import ResumptionRecord
from micromatter.storage import MemoryStorage
from sessionkit import fabric, manager

F1 = fabric(1)
F2 = fabric(2)
FABRICS = [F1, F2]


def record(f, peer, n):
    return ResumptionRecord(f, peer, bytes([n]) * 16, bytes([n ^ 0x5A]) * 32, None, (0x00020001,) if n & 1 else ())


def scenario():
    """(description, operation(manager)) pairs: saves, updates, LRU replacement, removals."""
    return [
        ("save A", lambda m: m.save_resumption_record(record(F1, 10, 1))),
        ("save B", lambda m: m.save_resumption_record(record(F1, 11, 2))),
        ("update A", lambda m: m.save_resumption_record(record(F1, 10, 3))),
        ("save C", lambda m: m.save_resumption_record(record(F2, 12, 4))),
        ("save D (replaces the LRU record B)", lambda m: m.save_resumption_record(record(F1, 13, 5))),
        ("update D", lambda m: m.save_resumption_record(record(F1, 13, 6))),
        ("remove A", lambda m: m.remove_resumption_record(10)),
        ("save E", lambda m: m.save_resumption_record(record(F2, 14, 7))),
        ("update C", lambda m: m.save_resumption_record(record(F2, 12, 8))),
        ("remove fabric 2", lambda m: m.remove_fabric(F2)),
        ("save F", lambda m: m.save_resumption_record(record(F2, 15, 9))),
    ]


def state(m):
    return dict(((r.fabric_index, r.peer_node_id), r.encode()) for r in m.resumption_records())


def new_manager(storage):
    return manager(storage, max_fabrics=1)  # 3 records: the scenario fills and replaces


def run(mode):
    flash = Flash()
    device = new_manager(PowerCutStorage(flash, mode))
    device.init_from_storage(FABRICS)
    shadow = new_manager(MemoryStorage())  # computes the state each operation leads to
    shadow.init_from_storage(FABRICS)
    current = {"before": {}, "after": {}, "op": ""}
    cuts = [0]

    def on_cut(snapshot):
        cuts[0] += 1
        fresh = new_manager(PowerCutStorage(Flash(snapshot), mode))
        fresh.init_from_storage(FABRICS)
        restored = state(fresh)
        before = current["before"]
        after = current["after"]
        for key in restored:
            assert key in before or key in after, (current["op"], "unknown record", key)
        for key in set(before) | set(after):
            got = restored.get(key)
            assert got == before.get(key) or got == after.get(key), (current["op"], key, cuts[0])

    dropped = [0]

    def count(line):
        if line.startswith("W"):
            dropped[0] += 1

    log.set_sink(count)  # each torn half found on a restore is dropped with a log line
    try:
        for name, op in scenario():
            before = state(device)
            op(shadow)
            current["before"] = before
            current["after"] = state(shadow)
            current["op"] = name
            flash.on_cut = on_cut
            op(device)
            flash.on_cut = None
            assert state(device) == current["after"], name
    finally:
        log.set_sink(None)
    # And a clean reboot at the end sees the final state.
    final = new_manager(PowerCutStorage(flash, mode))
    final.init_from_storage(FABRICS)
    assert state(final) == state(shadow)
    print("power-cut test (" + mode + "): " + str(cuts[0]) + " cuts, every restore old or new; "
          + str(dropped[0]) + " log lines for dropped torn halves")
    # Renamed writes never expose a partial value; torn in-place writes are found and dropped.
    assert (dropped[0] > 0) == (mode == "inplace")
    return cuts[0]


def test_power_cut_at_every_byte_rename_model():
    # 9 saves of 95-99 bytes (a cut before each byte, before and after the rename) and 6 deletes.
    assert run("rename") > 9 * 97


def test_power_cut_at_every_byte_in_place_model():
    assert run("inplace") > 9 * 96


class RamFlash:
    """A block device in RAM for littlefs; ``on_cut(image)`` runs before every byte is programmed and
    before every erase, with the bytes the flash holds at that instant."""

    def __init__(self, blocks=32, size=256, image=None):
        self.blocks = blocks
        self.size = size
        self.data = bytearray(image) if image is not None else bytearray(b"\xff" * (blocks * size))
        self.on_cut = None

    def readblocks(self, n, buf, offset=0):
        p = n * self.size + offset
        buf[:] = self.data[p : p + len(buf)]

    def writeblocks(self, n, buf, offset=None):
        p = n * self.size + (offset or 0)
        for i in range(len(buf)):
            if self.on_cut is not None:
                self.on_cut(bytes(self.data))
            self.data[p + i] = buf[i]

    def ioctl(self, op, arg):
        if op == 4:
            return self.blocks
        if op == 5:
            return self.size
        if op == 6:
            if self.on_cut is not None:
                self.on_cut(bytes(self.data))
            p = arg * self.size
            for i in range(self.size):
                self.data[p + i] = 0xFF
        return 0


def test_power_cut_on_littlefs_at_every_programmed_byte():
    # The MicroPython VFS backend on a real littlefs (in RAM): cut before every byte the filesystem
    # programs and every erase, remount the image as a reboot would, restore.
    import os

    from support import IS_MICROPYTHON, skip

    if not IS_MICROPYTHON or not hasattr(os, "VfsLfs2"):
        skip("littlefs (os.VfsLfs2) is a MicroPython VFS")
    from micromatter_mp.storage import VfsStorage

    flash = RamFlash()
    os.VfsLfs2.mkfs(flash)
    os.mount(os.VfsLfs2(flash), "/mmlfs")
    mounts = [0]
    cuts = [0]
    current = {"before": {}, "after": {}}

    def on_cut(image):
        cuts[0] += 1
        mounts[0] += 1
        point = "/mmcut" + str(mounts[0])
        os.mount(os.VfsLfs2(RamFlash(image=image)), point)
        try:
            fresh = new_manager(VfsStorage(point + "/mm"))
            fresh.init_from_storage(FABRICS)
            restored = state(fresh)
        finally:
            os.umount(point)
        before = current["before"]
        after = current["after"]
        for key in set(before) | set(after) | set(restored):
            got = restored.get(key)
            assert got == before.get(key) or got == after.get(key), (key, cuts[0])

    log.set_sink(lambda line: None)
    try:
        device = new_manager(VfsStorage("/mmlfs/mm"))
        device.init_from_storage(FABRICS)
        shadow = new_manager(MemoryStorage())
        shadow.init_from_storage(FABRICS)
        for name, op in scenario()[:7]:
            current["before"] = state(device)
            op(shadow)
            current["after"] = state(shadow)
            flash.on_cut = on_cut
            op(device)
            flash.on_cut = None
            assert state(device) == current["after"], name
    finally:
        log.set_sink(None)
        os.umount("/mmlfs")
    print("power-cut test (littlefs): " + str(cuts[0]) + " cuts, every restore old or new")
    assert cuts[0] > 7 * 95
