"""Storage backends for MicroPython: VFS files (littlefs) and ``esp32.NVS``.

``VfsStorage``: one file per key in a directory of the board's filesystem.  A
value is written to ``<key>.tmp`` and renamed over ``<key>``; littlefs renames
atomically (replacing the target), so a reader sees the old or the new value.
On FAT, where a rename cannot replace, the old file is removed first: that
window is not atomic, which is why records add their own checksums and
alternating slots (``micromatter.session.slots``).  A context is a
sub-directory ``<name>.d``.  Only ``os`` functions that CPython also has are
used, so the backend is tested on both runtimes.

``NvsStorage``: one NVS namespace per context (``<root>.<path>``, at most 15
characters), one blob per key.  NVS writes are atomic per entry.  NVS cannot
list its keys, so each namespace keeps an index blob under ``~k`` (a name no
valid key can take), written before a new key is added and after a key is
erased: the index may name a key that is gone (filtered out), never miss one.
"""

import os

from micromatter.errors import StorageError
from micromatter.storage import MAX_NAME_LENGTH, MAX_VALUE_LENGTH, Storage, StorageKeyError

TMP_SUFFIX = ".tmp"
CONTEXT_SUFFIX = ".d"
_ENOENT = 2
_EEXIST = 17
_S_IFDIR = 0x4000


def _code(e):
    return e.args[0] if e.args else None


class VfsStorage(Storage):
    """Storage in the directory ``directory`` of a MicroPython VFS (created on first write)."""

    def __init__(self, directory, path=""):
        self.directory = directory.rstrip("/") or "/"
        self.path = path

    def _file(self, key):
        return self.directory + "/" + key

    def _get(self, key):
        try:
            with open(self._file(key), "rb") as f:
                return f.read()
        except OSError as e:
            if _code(e) == _ENOENT:
                return None
            raise StorageError("cannot read " + key + ": " + str(e))

    def _set(self, key, data):
        target = self._file(key)
        tmp = target + TMP_SUFFIX
        try:
            self._makedirs()
            with open(tmp, "wb") as f:
                self._write(f, data)
                f.flush()
            self._rename(tmp, target)
        except OSError as e:
            raise StorageError("cannot write " + key + ": " + str(e))

    def _delete(self, key):
        try:
            os.remove(self._file(key))
        except OSError as e:
            if _code(e) == _ENOENT:
                return False
            raise StorageError("cannot delete " + key + ": " + str(e))
        return True

    def _keys(self):
        try:
            names = os.listdir(self.directory)
        except OSError as e:
            if _code(e) == _ENOENT:
                return []
            raise StorageError("cannot list " + self.directory + ": " + str(e))
        keys = []
        for n in names:
            if "." in n:
                continue
            try:
                if not os.stat(self.directory + "/" + n)[0] & _S_IFDIR:
                    keys.append(n)
            except OSError:
                pass
        return keys

    def _context(self, path):
        name = path.split(".")[-1]
        return VfsStorage(self.directory + "/" + name + CONTEXT_SUFFIX, path)

    def _makedirs(self):
        current = ""
        for part in self.directory.split("/"):
            if not part:
                continue
            current = current + "/" + part if current else ("/" if self.directory[0] == "/" else "") + part
            try:
                os.stat(current)
            except OSError:
                os.mkdir(current)

    # --- steps a power-loss test can interrupt -----------------------------

    def _write(self, f, data):
        f.write(data)

    def _rename(self, tmp, target):
        try:
            self._os_rename(tmp, target)
        except OSError as e:
            if _code(e) != _EEXIST:
                raise
            # FAT cannot rename over a file: not atomic (see the module docstring).
            os.remove(target)
            self._os_rename(tmp, target)

    def _os_rename(self, tmp, target):
        os.rename(tmp, target)


# esp-idf error codes, raised by esp32.NVS as OSError(-code, name).
NVS_NOT_FOUND = -0x1102
NVS_INVALID_LENGTH = -0x110C
INDEX_KEY = "~k"
_SMALL_READ = 256


class NvsStorage(Storage):
    """Storage in ESP32 NVS under the namespace ``root`` (a context ``x`` is namespace ``root.x``).

    ``nvs_class`` is ``esp32.NVS`` on a board; tests pass a stand-in with the
    same methods (``set_blob``, ``get_blob``, ``erase_key``, ``commit``)."""

    def __init__(self, root, path="", nvs_class=None):
        if nvs_class is None:
            try:
                from esp32 import NVS as nvs_class
            except ImportError:
                raise StorageError("esp32.NVS is not available on this port")
        self.root = root
        self.path = path
        self._nvs_class = nvs_class
        namespace = root + "." + path if path else root
        if not namespace or len(namespace) > MAX_NAME_LENGTH:
            raise StorageKeyError("NVS namespace must have 1.." + str(MAX_NAME_LENGTH) + " characters: " + namespace)
        self.namespace = namespace
        self._nvs = None

    def _handle(self):
        if self._nvs is None:
            try:
                self._nvs = self._nvs_class(self.namespace)
            except OSError as e:
                raise StorageError("cannot open NVS namespace " + self.namespace + ": " + str(e))
        return self._nvs

    def _read(self, key):
        nvs = self._handle()
        size = _SMALL_READ
        while True:
            buf = bytearray(size)
            try:
                n = nvs.get_blob(key, buf)
            except OSError as e:
                code = _code(e)
                if code == NVS_NOT_FOUND:
                    return None
                if code == NVS_INVALID_LENGTH and size < MAX_VALUE_LENGTH:
                    size = MAX_VALUE_LENGTH
                    continue
                raise StorageError("cannot read NVS key " + key + ": " + str(e))
            return bytes(buf[:n])

    def _write_blob(self, key, data):
        nvs = self._handle()
        try:
            nvs.set_blob(key, data)
            nvs.commit()
        except OSError as e:
            raise StorageError("cannot write NVS key " + key + ": " + str(e))

    def _index(self):
        raw = self._read(INDEX_KEY)
        if not raw:
            return []
        try:
            return [k for k in raw.decode().split(",") if k]
        except (UnicodeError, ValueError):
            return []

    def _write_index(self, keys):
        self._write_blob(INDEX_KEY, ",".join(keys).encode())

    def _get(self, key):
        return self._read(key)

    def _set(self, key, data):
        keys = self._index()
        if key not in keys:
            keys.append(key)
            self._write_index(keys)
        self._write_blob(key, data)

    def _delete(self, key):
        nvs = self._handle()
        try:
            nvs.erase_key(key)
            nvs.commit()
            existed = True
        except OSError as e:
            if _code(e) != NVS_NOT_FOUND:
                raise StorageError("cannot erase NVS key " + key + ": " + str(e))
            existed = False
        keys = self._index()
        if key in keys:
            keys.remove(key)
            self._write_index(keys)
        return existed

    def _keys(self):
        return [k for k in self._index() if self._read(k) is not None]

    def _context(self, path):
        return NvsStorage(self.root, path, self._nvs_class)
