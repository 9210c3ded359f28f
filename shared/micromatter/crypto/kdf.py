"""HMAC-SHA256 (RFC 2104), HKDF-SHA256 (RFC 5869) and PBKDF2-HMAC-SHA256 (RFC 8018).

Each function takes the SHA-256 constructor first (``hashlib.sha256`` on
either runtime).  MicroPython's hash objects have no ``copy()``, so the
padded keys are hashed afresh for every HMAC: two compressions more per
call than a host library, which only PBKDF2's iteration count makes visible.
"""

from micromatter.compat import const
from micromatter.errors import InvalidLengthError, InvalidParameterError

DIGEST_LENGTH = const(32)
_BLOCK = const(64)
_HKDF_MAX = const(8160)  # 255 * 32


def _pads(sha256, key):
    """The inner and outer padded keys of HMAC."""
    key = bytes(key)
    if len(key) > _BLOCK:
        h = sha256()
        h.update(key)
        key = h.digest()
    k = int.from_bytes(key + bytes(_BLOCK - len(key)), "big")
    ipad = (k ^ int.from_bytes(b"\x36" * _BLOCK, "big")).to_bytes(_BLOCK, "big")
    opad = (k ^ int.from_bytes(b"\x5c" * _BLOCK, "big")).to_bytes(_BLOCK, "big")
    return ipad, opad


def _hmac(sha256, ipad, opad, parts):
    inner = sha256()
    inner.update(ipad)
    for part in parts:
        inner.update(part)
    outer = sha256()
    outer.update(opad)
    outer.update(inner.digest())
    return outer.digest()


def hmac_sha256(sha256, key, data):
    """HMAC-SHA256 of ``data`` (32 bytes)."""
    ipad, opad = _pads(sha256, key)
    return _hmac(sha256, ipad, opad, (data,))


def hmac_sha256_parts(sha256, key, parts):
    """HMAC-SHA256 of the concatenation of ``parts``, without building it."""
    ipad, opad = _pads(sha256, key)
    return _hmac(sha256, ipad, opad, parts)


def hkdf_sha256(sha256, ikm, salt, info, length):
    """RFC 5869 extract-then-expand; an empty salt means 32 zero bytes.  1 <= length <= 8160."""
    if length < 1 or length > _HKDF_MAX:
        raise InvalidLengthError("HKDF length must be 1..8160")
    prk = hmac_sha256(sha256, salt if salt else bytes(DIGEST_LENGTH), ikm)
    ipad, opad = _pads(sha256, prk)
    out = bytearray()
    block = b""
    counter = 1
    while len(out) < length:
        block = _hmac(sha256, ipad, opad, (block, info, bytes((counter,))))
        out.extend(block)
        counter += 1
    return bytes(out[:length])


def pbkdf2_sha256(sha256, password, salt, iterations, length):
    """RFC 8018 PBKDF2 with HMAC-SHA256.  iterations >= 1, 1 <= length <= 2**20."""
    if iterations < 1:
        raise InvalidParameterError("PBKDF2 needs at least one iteration")
    if length < 1 or length > 1 << 20:
        raise InvalidLengthError("PBKDF2 length must be 1..2**20")
    ipad, opad = _pads(sha256, password)
    out = bytearray()
    index = 1
    while len(out) < length:
        u = _hmac(sha256, ipad, opad, (salt, index.to_bytes(4, "big")))
        acc = int.from_bytes(u, "big")
        for _ in range(iterations - 1):
            u = _hmac(sha256, ipad, opad, (u,))
            acc ^= int.from_bytes(u, "big")
        out.extend(acc.to_bytes(DIGEST_LENGTH, "big"))
        index += 1
    return bytes(out[:length])
