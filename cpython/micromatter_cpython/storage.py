"""File storage for the CPython twin: one file per key, written atomically.

A value is written to ``<key>.tmp``, flushed and fsynced, renamed over
``<key>`` with ``os.replace`` (atomic on POSIX), and the directory is fsynced
so the rename itself survives a power loss.  A reader sees the old value or
the new one, never a mix.  A context is a sub-directory ``<name>.d``; names
cannot hold ``.`` so keys, temporary files and contexts never collide.
"""

import os

from micromatter.errors import StorageError
from micromatter.storage import Storage

TMP_SUFFIX = ".tmp"
CONTEXT_SUFFIX = ".d"


class FileStorage(Storage):
    """Storage in the directory ``directory`` (created on first write)."""

    def __init__(self, directory, path=""):
        self.directory = directory
        self.path = path

    def _file(self, key):
        return os.path.join(self.directory, key)

    def _get(self, key):
        try:
            with open(self._file(key), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StorageError("cannot read " + key + ": " + str(e))

    def _set(self, key, data):
        target = self._file(key)
        tmp = target + TMP_SUFFIX
        try:
            os.makedirs(self.directory, exist_ok=True)
            with open(tmp, "wb") as f:
                self._write(f, data)
                f.flush()
                os.fsync(f.fileno())
            self._replace(tmp, target)
            self._sync_directory()
        except OSError as e:
            raise StorageError("cannot write " + key + ": " + str(e))

    def _delete(self, key):
        try:
            os.remove(self._file(key))
        except FileNotFoundError:
            return False
        except OSError as e:
            raise StorageError("cannot delete " + key + ": " + str(e))
        self._sync_directory()
        return True

    def _keys(self):
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        except OSError as e:
            raise StorageError("cannot list " + self.directory + ": " + str(e))
        return [n for n in names if "." not in n and os.path.isfile(os.path.join(self.directory, n))]

    def _context(self, path):
        name = path.rsplit(".", 1)[-1]
        return FileStorage(os.path.join(self.directory, name + CONTEXT_SUFFIX), path)

    # --- steps a power-loss test can interrupt -----------------------------

    def _write(self, f, data):
        f.write(data)

    def _replace(self, tmp, target):
        os.replace(tmp, target)

    def _sync_directory(self):
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
