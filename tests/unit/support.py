"""Helpers shared by the unit tests on both runtimes.

The unit tests are plain ``test_*`` functions using ``assert``: pytest runs
them on CPython and ``tools/mptest.py`` runs the very same files on the unix
MicroPython port.  No pytest fixtures here: only what both runtimes have.
"""

import sys
from binascii import hexlify, unhexlify

IS_MICROPYTHON = sys.implementation.name == "micropython"

if IS_MICROPYTHON:
    import gc

    # The unix port's 2 MB heap is shared by the whole run and never compacted.  Without a threshold the
    # collector runs only when the heap is full, so handshake-heavy tests push the high-water mark up and the
    # long-lived objects allocated later (modules compiled from source, qstr pools) land all over it: the tests
    # that need 64-80 KB in one piece (TLV, CCM and header length limits) then failed at random.  Collecting
    # every 512 KB keeps the live objects low in the heap.
    gc.threshold(512 * 1024)

_port = None


class Skip(Exception):
    """Raised by skip(); pytest reports a skip, mptest counts it apart."""


def skip(reason):
    if not IS_MICROPYTHON:
        import pytest

        pytest.skip(reason)
    raise Skip(reason)


def raises(exc_type, function, *args, **kwargs):
    """Call ``function``; it must raise ``exc_type`` (or a subclass).  Returns the exception."""
    try:
        function(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError("expected " + exc_type.__name__ + " from " + repr(function))


def unhex(text):
    """Bytes from hex text that may contain spaces and newlines."""
    return unhexlify("".join(text.split()))


def tohex(data):
    return hexlify(bytes(data)).decode()


def port():
    """The port of the runtime the tests run on (MicroPython or CPython)."""
    global _port
    if _port is None:
        if IS_MICROPYTHON:
            from micromatter_mp.port import Port
        else:
            from micromatter_cpython.port import Port
        _port = Port()
    return _port


class Rng:
    """Deterministic pseudo-random bytes (xorshift) for reproducible inputs on both runtimes."""

    def __init__(self, seed=1):
        self.state = (seed * 2654435761 + 1) & 0xFFFFFFFF or 1

    def u32(self):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x

    def below(self, n):
        return self.u32() % n

    def bytes(self, n):
        out = bytearray(n)
        for i in range(n):
            out[i] = self.u32() & 0xFF
        return bytes(out)


class _EcbBlock:
    """``cryptolib.aes(key, 1)``'s ``encrypt(in16, out16)`` over the ``cryptography`` package (CPython)."""

    def __init__(self, key):
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        self._enc = Cipher(algorithms.AES(bytes(key)), modes.ECB()).encryptor()

    def encrypt(self, data, out):
        out[:16] = self._enc.update(bytes(data[:16]))


def crypto_backends():
    """(name, crypto) pairs to test: the port's crypto, and on CPython also the portable
    ``SoftCrypto`` fed with a ``cryptography`` AES-ECB block and ``hashlib.sha256``."""
    backends = [(port().name, port().crypto)]
    if not IS_MICROPYTHON:
        import hashlib
        import os

        from micromatter.crypto.soft import SoftCrypto

        backends.append(("soft", SoftCrypto(_EcbBlock, hashlib.sha256, os.urandom)))
    return backends
