"""Key-value storage: the interface the core persists through, named contexts, an in-memory backend.

Fabrics, resumption records and counters must survive reboots: on flash
(littlefs files, ESP32 NVS) and on hosts (files).  The core sees one small
interface and each port supplies backends (``Port.open_storage``).

- ``get(key, default=None)``, ``set(key, value)``, ``delete(key)``,
  ``keys()``, ``context(name)``.
- Keys and context names are short ASCII names (letters, digits, ``_``,
  ``-``; at most 15 characters) so that one layout fits ESP32 NVS, whose keys
  and namespaces are limited to 15 characters.  Context paths join names with
  ``.`` and are limited to 15 characters too.
- Values are bytes (``bytes``, ``bytearray`` or ``memoryview`` in; ``bytes``
  out), at most ``MAX_VALUE_LENGTH``.
- A ``set`` either fully happens or leaves the old value (backends write a new
  copy and rename it, or rely on NVS's atomic entries).  Records that must also
  survive a backend without that guarantee add their own checksums
  (``micromatter.session.slots``).

Backends subclass ``Storage`` and implement ``_get``, ``_set``, ``_delete``,
``_keys`` and ``_context``; the public methods validate every argument first.
"""

from micromatter.compat import const
from micromatter.errors import StorageError

MAX_NAME_LENGTH = const(15)
MAX_VALUE_LENGTH = const(4096)


class StorageKeyError(StorageError):
    """A key or context name is not a short ASCII name, or a context path is too long."""


class StorageValueError(StorageError):
    """A value is not bytes-like, or is longer than ``MAX_VALUE_LENGTH``."""


def check_name(name, what="key"):
    """``name`` if it is a valid key or context name, else ``StorageKeyError``."""
    if not isinstance(name, str):
        raise StorageKeyError(what + " must be a str, not " + type(name).__name__)
    n = len(name)
    if n == 0 or n > MAX_NAME_LENGTH:
        raise StorageKeyError(what + " must have 1.." + str(MAX_NAME_LENGTH) + " characters: " + repr(name))
    for c in name:
        o = ord(c)
        if not (48 <= o <= 57 or 65 <= o <= 90 or 97 <= o <= 122 or o == 95 or o == 45):
            raise StorageKeyError(what + " may only hold letters, digits, '_' and '-': " + repr(name))
    return name


def check_value(value):
    """``value`` as bytes if it is bytes-like and short enough, else ``StorageValueError``."""
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise StorageValueError("value must be bytes-like, not " + type(value).__name__)
    data = bytes(value)
    if len(data) > MAX_VALUE_LENGTH:
        raise StorageValueError("value of " + str(len(data)) + " bytes exceeds " + str(MAX_VALUE_LENGTH))
    return data


def join_path(path, name):
    """The context path of context ``name`` under ``path`` (checked)."""
    check_name(name, "context name")
    full = name if not path else path + "." + name
    if len(full) > MAX_NAME_LENGTH:
        raise StorageKeyError("context path longer than " + str(MAX_NAME_LENGTH) + " characters: " + full)
    return full


class Storage:
    """A key-value store for one context.  ``path`` names the context ('' for the root)."""

    path = ""

    def get(self, key, default=None):
        value = self._get(check_name(key))
        return default if value is None else value

    def set(self, key, value):
        self._set(check_name(key), check_value(value))

    def delete(self, key):
        """Remove ``key``; True if it existed (deleting a missing key is not an error)."""
        return self._delete(check_name(key))

    def keys(self):
        """The keys of this context (not of its sub-contexts), sorted."""
        return sorted(self._keys())

    def context(self, name):
        """The storage of the sub-context ``name`` (created on first write)."""
        return self._context(join_path(self.path, name))

    def clear(self):
        """Delete every key of this context."""
        for key in self.keys():
            self._delete(key)

    # --- backend primitives ------------------------------------------------

    def _get(self, key):
        raise NotImplementedError

    def _set(self, key, data):
        raise NotImplementedError

    def _delete(self, key):
        raise NotImplementedError

    def _keys(self):
        raise NotImplementedError

    def _context(self, path):
        raise NotImplementedError


class MemoryStorage(Storage):
    """Storage in a dict (tests, and devices that persist nothing).

    ``data`` maps a context path to a dict of key -> bytes; contexts opened
    from one ``MemoryStorage`` share it."""

    def __init__(self, data=None, path=""):
        self.data = {} if data is None else data
        self.path = path

    def _get(self, key):
        values = self.data.get(self.path)
        return None if values is None else values.get(key)

    def _set(self, key, data):
        values = self.data.get(self.path)
        if values is None:
            values = self.data[self.path] = {}
        values[key] = data

    def _delete(self, key):
        values = self.data.get(self.path)
        if values is None or key not in values:
            return False
        del values[key]
        return True

    def _keys(self):
        values = self.data.get(self.path)
        return [] if values is None else list(values)

    def _context(self, path):
        return MemoryStorage(self.data, path)
