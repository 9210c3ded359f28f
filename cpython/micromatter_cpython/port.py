"""Port for CPython."""

import time

from micromatter.port import Port as _PortBase
from micromatter_cpython.crypto import Crypto


class Port(_PortBase):
    name = "cpython"

    def __init__(self):
        self.crypto = Crypto()

    def now_ms(self):
        return time.monotonic_ns() // 1000000

    def open_storage(self, location):
        """``":memory:"`` for a throw-away store, else a directory (files written atomically)."""
        if location == ":memory:":
            from micromatter.storage import MemoryStorage

            return MemoryStorage()
        from micromatter_cpython.storage import FileStorage

        return FileStorage(location)
