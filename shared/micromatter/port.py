"""The small interface a runtime port hands to the core.

The core is sans-I/O: state machines take bytes, times and events and return
bytes and events.  What they cannot compute themselves comes from a ``Port``:
crypto primitives, randomness, a monotonic clock and storage.  Sockets and
timers belong to the port's node loop, which feeds the core.

``micromatter_mp.port.Port`` and ``micromatter_cpython.port.Port`` implement
this; tests may pass any object with the same attributes.
"""


class Port:
    name = "abstract"  # "micropython" or "cpython"

    # A ``Crypto`` object: see docs/ARCHITECTURE.md ("Crypto interface").
    crypto = None

    def now_ms(self):
        """Monotonic milliseconds since an arbitrary start; never wraps."""
        raise NotImplementedError

    def random_bytes(self, n):
        return self.crypto.random_bytes(n)

    def open_storage(self, location):
        """A ``micromatter.storage.Storage`` persisted at ``location`` (a directory or NVS namespace)."""
        raise NotImplementedError
