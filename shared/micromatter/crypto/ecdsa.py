"""ECDSA over P-256 with SHA-256: deterministic signing (RFC 6979), verification, signature forms.

Matter carries signatures raw (``r | s``, 64 bytes); X.509 and host
libraries use DER.  Signing derives the nonce from the key and the digest
(HMAC-DRBG, RFC 6979 section 3.2), so no randomness can leak the key, and
two implementations following the RFC produce the same bytes.
"""

from micromatter.compat import const
from micromatter.crypto import p256
from micromatter.crypto.kdf import hmac_sha256_parts
from micromatter.errors import InvalidLengthError, InvalidPointError, InvalidSignatureError

SIGNATURE_LENGTH = const(64)
DIGEST_LENGTH = const(32)
_MAX_NONCE_TRIES = const(64)


def _digest(sha256, message):
    h = sha256()
    h.update(message)
    return h.digest()


def _rfc6979_nonces(sha256, private, digest):
    """Candidate nonces k of RFC 6979 section 3.2 for a 32-byte key and digest (qlen = hlen = 256)."""
    h1 = (int.from_bytes(digest, "big") % p256.N).to_bytes(32, "big")
    v = b"\x01" * 32
    k = b"\x00" * 32
    k = hmac_sha256_parts(sha256, k, (v, b"\x00", private, h1))
    v = hmac_sha256_parts(sha256, k, (v,))
    k = hmac_sha256_parts(sha256, k, (v, b"\x01", private, h1))
    v = hmac_sha256_parts(sha256, k, (v,))
    for _ in range(_MAX_NONCE_TRIES):
        v = hmac_sha256_parts(sha256, k, (v,))
        yield int.from_bytes(v, "big")
        k = hmac_sha256_parts(sha256, k, (v, b"\x00"))
        v = hmac_sha256_parts(sha256, k, (v,))


def sign_digest(sha256, private, digest):
    """Raw ``r | s`` signature of a 32-byte digest with a 32-byte private key."""
    d = p256.scalar_from_bytes(private)
    if len(digest) != DIGEST_LENGTH:
        raise InvalidLengthError("digest must be 32 bytes")
    digest = bytes(digest)
    private = bytes(private)
    n = p256.N
    e = int.from_bytes(digest, "big")
    for k in _rfc6979_nonces(sha256, private, digest):
        if not 0 < k < n:
            continue
        point = p256.mul_base(k)
        r = point[0] % n
        if not r:
            continue
        s = p256._inv(k, n) * (e + r * d) % n
        if s:
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    raise InvalidSignatureError("no usable nonce")  # unreachable in practice (probability ~2**-200)


def sign(sha256, private, message):
    """Raw ``r | s`` signature of SHA-256(message)."""
    return sign_digest(sha256, private, _digest(sha256, message))


def verify_digest(public, digest, signature):
    """Check a raw signature of a 32-byte digest; ``InvalidSignatureError`` unless it verifies.

    ``public`` is a 65-byte encoding or an affine point; an invalid key raises
    ``InvalidPointError``."""
    if len(signature) != SIGNATURE_LENGTH:
        raise InvalidSignatureError("signature must be 64 bytes")
    if len(digest) != DIGEST_LENGTH:
        raise InvalidLengthError("digest must be 32 bytes")
    if isinstance(public, tuple):
        if not p256.is_on_curve(public):
            raise InvalidPointError("not a point of P-256")
        point = public
    else:
        point = p256.decode_point(public)
    signature = bytes(signature)
    n = p256.N
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < n and 0 < s < n):
        raise InvalidSignatureError("r or s out of range")
    w = p256._inv(s, n)
    e = int.from_bytes(bytes(digest), "big")
    X, Y, Z = p256._mul_add_jac(e * w % n, p256.G, r * w % n, point)
    if not Z:
        raise InvalidSignatureError("signature does not verify")
    # x(R) mod n == r, checked without an inversion: X == x * Z**2 for x in {r, r + n} below p.
    p = p256.P
    zz = Z * Z % p
    if (r * zz - X) % p and (r + n >= p or ((r + n) * zz - X) % p):
        raise InvalidSignatureError("signature does not verify")


def verify(sha256, public, message, signature):
    """Check a raw signature of SHA-256(message)."""
    verify_digest(public, _digest(sha256, message), signature)


# --- signature forms ---------------------------------------------------------------------


def _der_integer(value):
    body = value.to_bytes(32, "big")
    i = 0
    while i < 31 and body[i] == 0:
        i += 1
    body = body[i:]
    if body[0] & 0x80:
        body = b"\x00" + body
    return b"\x02" + bytes((len(body),)) + body


def raw_to_der(signature):
    """DER ``SEQUENCE { INTEGER r, INTEGER s }`` of a raw 64-byte signature."""
    if len(signature) != SIGNATURE_LENGTH:
        raise InvalidSignatureError("signature must be 64 bytes")
    signature = bytes(signature)
    body = _der_integer(int.from_bytes(signature[:32], "big")) + _der_integer(int.from_bytes(signature[32:], "big"))
    return b"\x30" + bytes((len(body),)) + body


def _parse_integer(der, pos, end):
    """(value, next position) of a strict DER INTEGER at ``der[pos]`` that fits 32 unsigned bytes."""
    if end - pos < 3 or der[pos] != 0x02:
        raise InvalidSignatureError("DER: INTEGER expected")
    length = der[pos + 1]
    pos += 2
    if length < 1 or length > 33 or pos + length > end:
        raise InvalidSignatureError("DER: bad INTEGER length")
    first = der[pos]
    if first & 0x80:
        raise InvalidSignatureError("DER: negative INTEGER")
    if length > 1 and first == 0 and not der[pos + 1] & 0x80:
        raise InvalidSignatureError("DER: INTEGER not minimally encoded")
    if length == 33 and first != 0:
        raise InvalidSignatureError("DER: INTEGER larger than 256 bits")
    value = int.from_bytes(der[pos : pos + length], "big")
    return value, pos + length


def der_to_raw(der):
    """Raw ``r | s`` of a strictly DER-encoded ECDSA signature; ``InvalidSignatureError`` otherwise."""
    der = bytes(der)
    if len(der) < 8 or len(der) > 72 or der[0] != 0x30:
        raise InvalidSignatureError("DER: SEQUENCE expected")
    if der[1] != len(der) - 2:  # short-form length: a P-256 signature body is at most 70 bytes
        raise InvalidSignatureError("DER: SEQUENCE length does not match")
    end = len(der)
    r, pos = _parse_integer(der, 2, end)
    s, pos = _parse_integer(der, pos, end)
    if pos != end:
        raise InvalidSignatureError("DER: trailing bytes")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")
