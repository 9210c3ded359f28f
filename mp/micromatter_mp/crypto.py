"""Crypto for MicroPython: AES blocks from ``cryptolib``, SHA-256 from ``hashlib``, ``os.urandom``.

Everything above those primitives (CCM, HMAC/HKDF/PBKDF2, P-256, ECDSA) is
the portable code in ``micromatter.crypto``.  On ESP32 firmware ``cryptolib``
and ``hashlib`` run on mbedTLS with the hardware accelerators.
"""

import hashlib
import os

try:
    import cryptolib
except ImportError:  # firmware before cryptolib was renamed
    import ucryptolib as cryptolib

from micromatter.crypto.soft import SoftCrypto

_MODE_ECB = 1


def _aes_ecb(key):
    return cryptolib.aes(key, _MODE_ECB)


class Crypto(SoftCrypto):
    def __init__(self):
        SoftCrypto.__init__(self, _aes_ecb, hashlib.sha256, os.urandom)
