"""Port for MicroPython (unix port and ESP32)."""

import time

from micromatter.port import Port as _PortBase
from micromatter_mp.crypto import Crypto


class Port(_PortBase):
    name = "micropython"

    def __init__(self):
        self._last = time.ticks_ms()
        self._ms = 0
        self.crypto = Crypto()

    def now_ms(self):
        # ticks_ms wraps (2**30 on the unix port); accumulate differences instead.
        t = time.ticks_ms()
        self._ms += time.ticks_diff(t, self._last)
        self._last = t
        return self._ms

    def open_storage(self, location):
        """``"nvs:<namespace>"`` for ESP32 NVS, ``":memory:"`` for a throw-away store, else a VFS directory."""
        if location == ":memory:":
            from micromatter.storage import MemoryStorage

            return MemoryStorage()
        if location.startswith("nvs:"):
            from micromatter_mp.storage import NvsStorage

            return NvsStorage(location[4:])
        from micromatter_mp.storage import VfsStorage

        return VfsStorage(location)
