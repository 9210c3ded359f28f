"""``SoftCrypto``: the whole crypto interface from an AES block cipher, SHA-256 and randomness.

This is what MicroPython runs (``cryptolib``, ``hashlib``, ``os.urandom``);
on CPython it serves to test the portable code against the host library.
The interface is the table "Crypto interface" in docs/ARCHITECTURE.md.
"""

from micromatter.crypto import ecdsa, kdf, p256
from micromatter.crypto.ccm import KEY_LENGTH, NONCE_LENGTH, TAG_LENGTH, AesCcm
from micromatter.errors import InvalidLengthError


class SoftCrypto:
    """``aes_factory(key16)`` gives an object with ``encrypt(in16, out16)`` (``cryptolib.aes(key, 1)``);
    ``sha256_factory(data=b"")`` a hashlib-style object; ``random_bytes(n)`` n random bytes."""

    def __init__(self, aes_factory, sha256_factory, random_bytes):
        self._aes_factory = aes_factory
        self._sha256 = sha256_factory
        self._random = random_bytes

    def random_bytes(self, n):
        return self._random(n)

    def sha256(self, data=b""):
        h = self._sha256()
        if data:
            h.update(data)
        return h

    def hmac_sha256(self, key, data):
        return kdf.hmac_sha256(self._sha256, key, data)

    def hkdf_sha256(self, ikm, salt, info, length):
        return kdf.hkdf_sha256(self._sha256, ikm, salt, info, length)

    def pbkdf2_sha256(self, password, salt, iterations, length):
        return kdf.pbkdf2_sha256(self._sha256, password, salt, iterations, length)

    def aes_ccm(self, key, tag_length=TAG_LENGTH, nonce_length=NONCE_LENGTH):
        if len(key) != KEY_LENGTH:
            raise InvalidLengthError("AES-128 key must be 16 bytes")
        return AesCcm(self._aes_factory(bytes(key)), tag_length, nonce_length)

    def p256_generate(self):
        private = p256.private_from_random(self._random)
        return private, p256.public_key(private)

    def p256_public_key(self, private):
        return p256.public_key(private)

    def p256_validate_public(self, public):
        p256.decode_point(public)

    def ecdh(self, private, peer_public):
        return p256.ecdh(private, peer_public)

    def ecdsa_sign(self, private, message):
        return ecdsa.sign(self._sha256, private, message)

    def ecdsa_verify(self, public, message, signature):
        ecdsa.verify(self._sha256, public, message, signature)
