"""Storage doubles for the tests, on both runtimes: power cuts, write counting, an ``esp32.NVS`` stand-in.

``Flash`` is what survives a power cut (context path -> name -> bytes).
``PowerCutStorage`` performs each write step by step the way a backend does:

- ``"rename"`` (file backends, and NVS's atomic entries): the bytes of a
  temporary copy one by one, then the rename.  A cut at byte k leaves a
  partial temporary copy and the old value; a cut before the rename the whole
  copy and the old value; a cut after the rename the new value (the caller was
  never told).
- ``"inplace"`` (a backend without atomic writes): the value is truncated and
  rewritten byte by byte, so a cut at byte k leaves the first k bytes of the
  new value: the worst case the session records must survive.

Deletes have a cut point before and after.  At every cut point ``Flash``
calls ``on_cut(snapshot)`` with a copy of what would survive, and raises
``PowerCut`` once ``cut_after`` steps have run.
"""

from micromatter.storage import Storage, StorageError


class PowerCut(Exception):
    """The simulated power failed in the middle of a storage operation."""


class Flash:
    def __init__(self, data=None):
        self.data = {} if data is None else data
        self.steps = 0
        self.cut_after = None
        self.on_cut = None
        self.writes = 0
        self.bytes_written = 0
        self.deletes = 0

    def snapshot(self):
        return dict((path, dict(values)) for path, values in self.data.items())

    def step(self):
        if self.cut_after is not None and self.steps >= self.cut_after:
            raise PowerCut("power cut after " + str(self.steps) + " steps")
        self.steps += 1
        if self.on_cut is not None:
            self.on_cut(self.snapshot())


class PowerCutStorage(Storage):
    def __init__(self, flash, mode="rename", path=""):
        if mode not in ("rename", "inplace"):
            raise ValueError(mode)
        self.flash = flash
        self.mode = mode
        self.path = path

    def _values(self):
        values = self.flash.data.get(self.path)
        if values is None:
            values = self.flash.data[self.path] = {}
        return values

    def _get(self, key):
        return self._values().get(key)

    def _set(self, key, data):
        flash = self.flash
        values = self._values()
        flash.writes += 1
        flash.bytes_written += len(data)
        if self.mode == "rename":
            tmp = key + ".tmp"
            values[tmp] = b""
            for i in range(len(data)):
                flash.step()
                values[tmp] = data[: i + 1]
            flash.step()
            values[key] = data
            del values[tmp]
            flash.step()
        else:
            values[key] = b""
            for i in range(len(data)):
                flash.step()
                values[key] = data[: i + 1]
            flash.step()

    def _delete(self, key):
        values = self._values()
        if key not in values:
            return False
        self.flash.step()
        self.flash.deletes += 1
        del values[key]
        self.flash.step()
        return True

    def _keys(self):
        return [k for k in self._values() if "." not in k]

    def _context(self, path):
        return PowerCutStorage(self.flash, self.mode, path)


class CountingStorage(Storage):
    """Wraps a storage and counts writes, bytes written and deletes (shared by its contexts)."""

    def __init__(self, inner, counts=None):
        self.inner = inner
        self.path = inner.path
        self.counts = {"writes": 0, "bytes": 0, "deletes": 0, "reads": 0} if counts is None else counts

    def _get(self, key):
        self.counts["reads"] += 1
        return self.inner._get(key)

    def _set(self, key, data):
        self.counts["writes"] += 1
        self.counts["bytes"] += len(data)
        self.inner._set(key, data)

    def _delete(self, key):
        self.counts["deletes"] += 1
        return self.inner._delete(key)

    def _keys(self):
        return self.inner._keys()

    def _context(self, path):
        return CountingStorage(self.inner._context(path), self.counts)


class FailingStorage(Storage):
    """Every operation raises ``StorageError`` (a dead flash chip) while ``failing`` is True."""

    def __init__(self, inner):
        self.inner = inner
        self.path = inner.path
        self.failing = True

    def _check(self):
        if self.failing:
            raise StorageError("flash unavailable")

    def _get(self, key):
        self._check()
        return self.inner._get(key)

    def _set(self, key, data):
        self._check()
        self.inner._set(key, data)

    def _delete(self, key):
        self._check()
        return self.inner._delete(key)

    def _keys(self):
        self._check()
        return self.inner._keys()

    def _context(self, path):
        child = FailingStorage(self.inner._context(path))
        child.failing = self.failing
        return child


# --- an esp32.NVS stand-in -------------------------------------------------

NVS_NOT_FOUND = 0x1102
NVS_KEY_TOO_LONG = 0x1109
NVS_INVALID_LENGTH = 0x110C


def _nvs_error(code, name):
    # esp32.NVS raises OSError(-esp_err, name).
    return OSError(-code, name)


class FakeNvsFlash:
    """The NVS partition: namespace -> key -> bytes (committed entries only)."""

    def __init__(self):
        self.namespaces = {}
        self.commits = 0
        self.blob_writes = 0

    def nvs_class(self):
        flash = self

        class NVS:
            """The ``esp32.NVS`` API: set_blob, get_blob(key, bytearray) -> length, erase_key, commit."""

            def __init__(self, namespace):
                if not isinstance(namespace, str) or len(namespace) > 15 or not namespace:
                    raise _nvs_error(NVS_KEY_TOO_LONG, "ESP_ERR_NVS_KEY_TOO_LONG")
                self._ns = namespace
                self._pending = {}

            def _key(self, key):
                if not isinstance(key, str):
                    raise TypeError("key must be str")
                if len(key) > 15 or not key:
                    raise _nvs_error(NVS_KEY_TOO_LONG, "ESP_ERR_NVS_KEY_TOO_LONG")
                return key

            def _lookup(self, key):
                if key in self._pending:
                    return self._pending[key]
                return flash.namespaces.get(self._ns, {}).get(key)

            def set_blob(self, key, value):
                self._pending[self._key(key)] = bytes(value)
                flash.blob_writes += 1

            def get_blob(self, key, buf):
                if not isinstance(buf, bytearray):
                    raise TypeError("buffer must be a bytearray")
                value = self._lookup(self._key(key))
                if value is None:
                    raise _nvs_error(NVS_NOT_FOUND, "ESP_ERR_NVS_NOT_FOUND")
                if len(buf) < len(value):
                    raise _nvs_error(NVS_INVALID_LENGTH, "ESP_ERR_NVS_INVALID_LENGTH")
                buf[: len(value)] = value
                return len(value)

            def erase_key(self, key):
                if self._lookup(self._key(key)) is None:
                    raise _nvs_error(NVS_NOT_FOUND, "ESP_ERR_NVS_NOT_FOUND")
                self._pending[key] = None

            def commit(self):
                values = flash.namespaces.setdefault(self._ns, {})
                for k, v in self._pending.items():
                    if v is None:
                        values.pop(k, None)
                    else:
                        values[k] = v
                self._pending = {}
                flash.commits += 1

        return NVS


# --- the contract every backend keeps ---------------------------------------


def storage_contract(storage, reopen=None):
    """Check the ``Storage`` contract on an empty ``storage``.

    ``reopen()`` returns a fresh object over the same persistent medium (a
    reboot), for backends that persist; values written must be read back."""
    from micromatter.storage import MAX_VALUE_LENGTH, StorageKeyError, StorageValueError
    from support import raises

    assert storage.get("k1") is None
    assert storage.get("k1", b"dflt") == b"dflt"
    assert storage.keys() == []
    storage.set("k1", b"one")
    storage.set("k2", bytearray(b"two"))
    storage.set("k-3_x", memoryview(b"three"))
    assert storage.get("k1") == b"one"
    value = storage.get("k2")
    assert value == b"two" and isinstance(value, bytes)
    assert storage.get("k-3_x") == b"three"
    storage.set("k1", b"uno")
    assert storage.get("k1") == b"uno"
    storage.set("empty", b"")
    assert storage.get("empty") == b""
    big = bytes(range(256)) * (MAX_VALUE_LENGTH // 256)
    storage.set("big", big)
    assert storage.get("big") == big
    assert storage.keys() == ["big", "empty", "k-3_x", "k1", "k2"]

    # Contexts are separate key spaces, nested up to a 15-character path.
    ctx = storage.context("sessions")
    assert ctx.get("k1") is None
    ctx.set("k1", b"ctx")
    assert ctx.get("k1") == b"ctx" and storage.get("k1") == b"uno"
    inner = ctx.context("a")
    inner.set("k1", b"inner")
    assert ctx.keys() == ["k1"] and inner.keys() == ["k1"]
    assert storage.context("sessions").get("k1") == b"ctx"
    assert storage.context("sessions").context("a").get("k1") == b"inner"
    assert "sessions" not in storage.keys()

    # Bad names and values are refused with specific errors and change nothing.
    for bad in ("", "a" * 16, "a.b", "a/b", "a b", "k\u00e9", "~k"):
        raises(StorageKeyError, storage.set, bad, b"x")
        raises(StorageKeyError, storage.get, bad)
        raises(StorageKeyError, storage.delete, bad)
        raises(StorageKeyError, storage.context, bad)
    for bad in (1, None, b"k1", ("k",)):
        raises(StorageKeyError, storage.get, bad)
        raises(StorageKeyError, storage.set, bad, b"x")
    raises(StorageKeyError, ctx.context, "abcdefgh")  # "sessions.abcdefgh" is 17 characters
    for bad in ("text", 5, None, [1, 2]):
        raises(StorageValueError, storage.set, "k1", bad)
    raises(StorageValueError, storage.set, "k1", b"x" * (MAX_VALUE_LENGTH + 1))
    assert storage.get("k1") == b"uno"

    if reopen is not None:
        again = reopen()
        assert again.get("k1") == b"uno"
        assert again.get("big") == big
        assert again.keys() == ["big", "empty", "k-3_x", "k1", "k2"]
        assert again.context("sessions").context("a").get("k1") == b"inner"
        storage = again

    assert storage.delete("k2") is True
    assert storage.delete("k2") is False
    assert storage.get("k2") is None
    storage.clear()
    assert storage.keys() == []
    assert storage.context("sessions").get("k1") == b"ctx"  # clear() leaves sub-contexts alone
    if reopen is not None:
        assert reopen().keys() == []
