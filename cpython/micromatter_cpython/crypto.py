"""Crypto for CPython from the ``cryptography`` package, with the interface and errors of ``SoftCrypto``.

``cryptography`` provides AES-CCM, HMAC, HKDF, PBKDF2 and the P-256 key
operations; argument checks and the raw/DER signature forms are the portable
ones, so both ports reject the same inputs with the same exception types.
Signing is deterministic (RFC 6979) where the OpenSSL build supports it, so
both ports then produce identical signatures.
"""

import hashlib
import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESCCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from micromatter.crypto import ccm, ecdsa, p256
from micromatter.errors import (
    AuthenticationError,
    InvalidLengthError,
    InvalidParameterError,
    InvalidPointError,
    InvalidSignatureError,
)

_CURVE = ec.SECP256R1()


def _deterministic_ecdsa():
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        return bool(backend.ecdsa_deterministic_supported())
    except (ImportError, AttributeError):
        return False


DETERMINISTIC_SIGNING = _deterministic_ecdsa()
_SIGN_ALGORITHM = ec.ECDSA(hashes.SHA256(), deterministic_signing=DETERMINISTIC_SIGNING)
_VERIFY_ALGORITHM = ec.ECDSA(hashes.SHA256())


class AesCcm(ccm.AesCcm):
    """The portable ``AesCcm`` interface and checks, computed by ``cryptography``'s AESCCM."""

    def __init__(self, key, tag_length=ccm.TAG_LENGTH, nonce_length=ccm.NONCE_LENGTH):
        ccm.AesCcm.__init__(self, None, tag_length, nonce_length)
        self._aead = AESCCM(bytes(key), tag_length)

    def encrypt_in_place(self, nonce, aad, buf, start, end):
        self._check(nonce, aad, buf, start, end)
        out = self._aead.encrypt(bytes(nonce), bytes(buf[start:end]), bytes(aad))
        buf[start : end + self.tag_length] = out

    def decrypt_in_place(self, nonce, aad, buf, start, end):
        self._check(nonce, aad, buf, start, end)
        try:
            plain = self._aead.decrypt(bytes(nonce), bytes(buf[start : end + self.tag_length]), bytes(aad))
        except InvalidTag:
            raise AuthenticationError("CCM tag mismatch") from None
        buf[start:end] = plain


def _private_key(private):
    return ec.derive_private_key(p256.scalar_from_bytes(private), _CURVE)


def _public_bytes(key):
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def _public_key(public):
    if len(public) != p256.POINT_LENGTH or public[0] != 4:
        raise InvalidPointError("point must be 65 bytes, uncompressed")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, bytes(public))
    except ValueError:
        raise InvalidPointError("not a point of P-256") from None


class Crypto:
    """The crypto interface of docs/ARCHITECTURE.md on CPython."""

    def random_bytes(self, n):
        return os.urandom(n)

    def sha256(self, data=b""):
        return hashlib.sha256(data)

    def hmac_sha256(self, key, data):
        h = _hmac.HMAC(bytes(key), hashes.SHA256())
        h.update(bytes(data))
        return h.finalize()

    def hkdf_sha256(self, ikm, salt, info, length):
        if length < 1 or length > 255 * 32:
            raise InvalidLengthError("HKDF length must be 1..8160")
        kdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=bytes(salt) if salt else None, info=bytes(info))
        return kdf.derive(bytes(ikm))

    def pbkdf2_sha256(self, password, salt, iterations, length):
        if iterations < 1:
            raise InvalidParameterError("PBKDF2 needs at least one iteration")
        if length < 1 or length > 1 << 20:
            raise InvalidLengthError("PBKDF2 length must be 1..2**20")
        kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=length, salt=bytes(salt), iterations=iterations)
        return kdf.derive(bytes(password))

    def aes_ccm(self, key, tag_length=ccm.TAG_LENGTH, nonce_length=ccm.NONCE_LENGTH):
        if len(key) != ccm.KEY_LENGTH:
            raise InvalidLengthError("AES-128 key must be 16 bytes")
        return AesCcm(key, tag_length, nonce_length)

    def p256_generate(self):
        key = ec.generate_private_key(_CURVE)
        private = key.private_numbers().private_value.to_bytes(32, "big")
        return private, _public_bytes(key.public_key())

    def p256_public_key(self, private):
        return _public_bytes(_private_key(private).public_key())

    def p256_validate_public(self, public):
        _public_key(public)

    def ecdh(self, private, peer_public):
        key = _private_key(private)
        return key.exchange(ec.ECDH(), _public_key(peer_public))

    def ecdsa_sign(self, private, message):
        der = _private_key(private).sign(bytes(message), _SIGN_ALGORITHM)
        return ecdsa.der_to_raw(der)

    def ecdsa_verify(self, public, message, signature):
        if len(signature) != ecdsa.SIGNATURE_LENGTH:
            raise InvalidSignatureError("signature must be 64 bytes")
        key = _public_key(public)
        r = int.from_bytes(bytes(signature[:32]), "big")
        s = int.from_bytes(bytes(signature[32:]), "big")
        if not (0 < r < p256.N and 0 < s < p256.N):
            raise InvalidSignatureError("r or s out of range")
        try:
            key.verify(ecdsa.raw_to_der(signature), bytes(message), _VERIFY_ALGORITHM)
        except InvalidSignature:
            raise InvalidSignatureError("signature does not verify") from None
