"""SPAKE2+ over P-256 with SHA-256, HKDF and HMAC, in the form Matter's PASE uses.

Matter follows draft-bar-cfrg-spake2plus-01: the prover (commissioner) knows
the passcode, the verifier (device) stores only ``w0`` and ``L = w1*G``.

- ``w0s || w1s = PBKDF2(passcode as u32 little-endian, salt, iterations, 80)``;
  ``w0 = w0s mod n``, ``w1 = w1s mod n`` (40 bytes each: the 8 extra bytes
  make the reduction's bias negligible).
- ``X = x*G + w0*M`` (prover), ``Y = y*G + w0*N`` (verifier), with the
  RFC 9383 points M and N.
- ``Z = x*(Y - w0*N) = y*(X - w0*M)`` and ``V = w1*(Y - w0*N) = y*L``.
- ``TT`` = each of Context, idProver, idVerifier, M, N, X, Y, Z, V, w0 preceded
  by its length as 8 bytes little-endian (points uncompressed, w0 as 32 bytes);
  Matter's identities are empty and its Context is the PASE context hash.
- ``Ka || Ke = SHA-256(TT)`` (16 bytes each), ``KcA || KcB = HKDF(Ka, salt
  empty, "ConfirmationKeys", 32)``, ``cA = HMAC(KcA, Y)``, ``cB = HMAC(KcB, X)``.
  ``Ke`` is the shared secret the session keys come from.

RFC 9383 keeps the transcript but changes the key schedule (a 32-byte K_main,
32-byte confirmation keys, a separate shared key), so only X, Y, Z, V and TT
are comparable with its vectors.  The scalar arithmetic is ``p256``'s
(Shamir's trick for every two-term product); like it, not constant time.
"""

from micromatter.compat import const
from micromatter.crypto import p256
from micromatter.errors import (
    AuthenticationError,
    CryptoError,
    InvalidLengthError,
    InvalidParameterError,
    InvalidPointError,
    InvalidScalarError,
)

WS_LENGTH = const(40)
MIN_ITERATIONS = const(1000)
MAX_ITERATIONS = const(100000)
MIN_SALT_LENGTH = const(16)
MAX_SALT_LENGTH = const(32)
MAX_PASSCODE = const(0x7FFFFFF)  # the passcode is a 27-bit field of the setup payload
VERIFIER_LENGTH = const(97)  # w0 (32) | L (65): the "PAKE passcode verifier" of the spec
KEY_LENGTH = const(16)
CONFIRMATION_LENGTH = const(32)

# RFC 9383 section 4 (P-256): the published compressed points, here uncompressed.
M = (
    0x886E2F97ACE46E55BA9DD7242579F2993B64E16EF3DCAB95AFD497333D8FA12F,
    0x5FF355163E43CE224E0B0E65FF02AC8E5C7BE09419C785E0CA547D55A12E2D20,
)
N = (
    0xD8BBD6C639C62937B04D997F38C3770719C629D7014D49A24B4F98BAA1292B49,
    0x07D60AA6BFADE45008A636337F5168C64D9BD36034808CD564490B1E656EDBE7,
)
M_BYTES = p256.encode_point(M)
N_BYTES = p256.encode_point(N)

_CONFIRMATION_INFO = b"ConfirmationKeys"


class ConfirmationError(AuthenticationError):
    """The peer's key confirmation (cA or cB) did not verify: a wrong passcode or a tampered message."""


class Spake2pStateError(CryptoError):
    """A SPAKE2+ step called before the step it depends on."""


def check_pbkdf_parameters(salt, iterations):
    """Raise unless ``salt`` is 16..32 bytes and ``iterations`` is 1000..100000 (Matter's PBKDF ranges)."""
    if not isinstance(iterations, int) or isinstance(iterations, bool):
        raise InvalidParameterError("PBKDF iterations must be an int")
    if iterations < MIN_ITERATIONS or iterations > MAX_ITERATIONS:
        raise InvalidParameterError("PBKDF iterations must be 1000..100000")
    if not isinstance(salt, (bytes, bytearray, memoryview)):
        raise InvalidLengthError("PBKDF salt must be bytes")
    if len(salt) < MIN_SALT_LENGTH or len(salt) > MAX_SALT_LENGTH:
        raise InvalidLengthError("PBKDF salt must be 16..32 bytes")


def compute_w0_w1(crypto, passcode, salt, iterations):
    """The prover's scalars ``(w0, w1)`` (ints mod n) for a passcode, salt and iteration count."""
    if not isinstance(passcode, int) or isinstance(passcode, bool) or passcode < 0 or passcode > MAX_PASSCODE:
        raise InvalidParameterError("passcode must be an int 0..2**27-1")
    check_pbkdf_parameters(salt, iterations)
    ws = crypto.pbkdf2_sha256(passcode.to_bytes(4, "little"), bytes(salt), iterations, 2 * WS_LENGTH)
    return p256.reduce_scalar(ws[:WS_LENGTH]), p256.reduce_scalar(ws[WS_LENGTH:])


def _bytes(value, name, length=None):
    """``value`` as bytes if it is bytes-like (of ``length`` bytes when given), else ``InvalidLengthError``."""
    if not isinstance(value, (bytes, bytearray, memoryview)) or (length is not None and len(value) != length):
        raise InvalidLengthError(name + (" must be bytes" if length is None else " must be %d bytes" % length))
    return bytes(value)


def _scalar(value, name):
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value >= p256.N:
        raise InvalidScalarError(name + " must be an int 0..n-1")
    return value


class PasscodeVerifier:
    """What a device keeps instead of its passcode: ``w0`` (int) and ``L`` (an affine point)."""

    def __init__(self, w0, L):
        self.w0 = _scalar(w0, "w0")
        if not p256.is_on_curve(L):
            raise InvalidPointError("L is not a point of P-256")
        self.L = L

    @staticmethod
    def from_passcode(crypto, passcode, salt, iterations):
        w0, w1 = compute_w0_w1(crypto, passcode, salt, iterations)
        L = p256.mul_base(w1)
        if L is None:  # w1 == 0: probability 2**-256
            raise InvalidScalarError("w1 is zero")
        return PasscodeVerifier(w0, L)

    @staticmethod
    def decode(data):
        """From the 97-byte serialized form ``w0 (32, big-endian) | L (65, uncompressed)``."""
        data = _bytes(data, "a passcode verifier", VERIFIER_LENGTH)
        return PasscodeVerifier(int.from_bytes(data[:32], "big"), p256.decode_point(data[32:]))

    def encode(self):
        return p256.scalar_to_bytes(self.w0) + p256.encode_point(self.L)

    def __eq__(self, other):
        return isinstance(other, PasscodeVerifier) and self.w0 == other.w0 and self.L == other.L

    def __ne__(self, other):
        return not self.__eq__(other)


def transcript_hash(crypto, context, id_prover, id_verifier, X, Y, Z, V, w0):
    """SHA-256 of the transcript TT; the points are 65-byte encodings, ``w0`` an int."""
    h = crypto.sha256()
    for part in (context, id_prover, id_verifier, M_BYTES, N_BYTES, X, Y, Z, V, p256.scalar_to_bytes(w0)):
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.digest()


def equal(a, b):
    """Compare two MACs without stopping at the first difference."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0


def random_scalar(random_bytes):
    """A uniformly random scalar 1..n-1 from a ``random_bytes(n)`` source (the x or y of a share)."""
    return int.from_bytes(p256.private_from_random(random_bytes), "big")


class _Party:
    """What both roles share: the context, identities, w0, the share ``scalar*G + w0*point`` (65 bytes) and,
    after round two, Z, V and the keys."""

    def __init__(self, crypto, context, w0, scalar, point, id_prover, id_verifier):
        self.crypto = crypto
        self.context = _bytes(context, "context")
        self.id_prover = _bytes(id_prover, "id_prover")
        self.id_verifier = _bytes(id_verifier, "id_verifier")
        self.w0 = _scalar(w0, "w0")
        self._s = random_scalar(crypto.random_bytes) if scalar is None else _scalar(scalar, "the share's scalar")
        if not self._s:
            raise InvalidScalarError("the share's scalar must not be zero")
        self.share = p256.encode_point(p256.mul_add(self._s, p256.G, self.w0, point))
        self.Z = None
        self.V = None
        self.tt_hash = None
        self.ka = self.ke = self.kca = self.kcb = None

    def _keys(self, X, Y, Z, V):
        if Z is None or V is None:
            raise InvalidPointError("the peer's share cancels w0*M or w0*N")
        self.Z = p256.encode_point(Z)
        self.V = p256.encode_point(V)
        tt = transcript_hash(self.crypto, self.context, self.id_prover, self.id_verifier, X, Y, self.Z, self.V, self.w0)
        self.tt_hash = tt
        self.ka = tt[:KEY_LENGTH]
        self.ke = tt[KEY_LENGTH:]
        kc = self.crypto.hkdf_sha256(self.ka, b"", _CONFIRMATION_INFO, 2 * KEY_LENGTH)
        self.kca = kc[:KEY_LENGTH]
        self.kcb = kc[KEY_LENGTH:]


class Prover(_Party):
    """The passcode side (Matter: the commissioner, PASE initiator).  ``x`` is for test vectors only."""

    def __init__(self, crypto, context, w0, w1, x=None, id_prover=b"", id_verifier=b""):
        self.w1 = _scalar(w1, "w1")
        _Party.__init__(self, crypto, context, w0, x, M, id_prover, id_verifier)
        self.X = self.share
        self.cA = None
        self._finished = False

    def finish(self, Y, cB):
        """Round two: from the verifier's share ``Y`` and confirmation ``cB``, return ``cA``.

        ``InvalidPointError`` for a bad ``Y``, ``ConfirmationError`` if ``cB`` does not verify
        (then no ``cA`` is given out).  ``ke`` holds the shared secret afterwards."""
        if self._finished:
            raise Spake2pStateError("finish called twice")
        self._finished = True
        Yp = p256.decode_point(_bytes(Y, "Y"))
        Y = p256.encode_point(Yp)
        n = p256.N
        x, w0, w1 = self._s, self.w0, self.w1
        # Y - w0*N multiplied by x and by w1, each as one two-term product.
        Z = p256.mul_add(x, Yp, n - x * w0 % n, N)
        V = p256.mul_add(w1, Yp, n - w1 * w0 % n, N)
        self._keys(self.X, Y, Z, V)
        if not equal(self.crypto.hmac_sha256(self.kcb, self.X), _bytes(cB, "cB")):
            raise ConfirmationError("cB does not verify")
        self.cA = self.crypto.hmac_sha256(self.kca, Y)
        return self.cA


class Verifier(_Party):
    """The verifier side (Matter: the device, PASE responder), from ``w0`` and the point ``L``."""

    def __init__(self, crypto, context, w0, L, y=None, id_prover=b"", id_verifier=b""):
        if not p256.is_on_curve(L):
            raise InvalidPointError("L is not a point of P-256")
        self.L = L
        _Party.__init__(self, crypto, context, w0, y, N, id_prover, id_verifier)
        self.Y = self.share
        self._expected_cA = None
        self._responded = False
        self.confirmed = False

    def respond(self, X):
        """Round two: from the prover's share ``X``, return ``(Y, cB)``.  ``InvalidPointError`` for a bad ``X``."""
        if self._responded:
            raise Spake2pStateError("respond called twice")
        self._responded = True
        Xp = p256.decode_point(_bytes(X, "X"))
        X = p256.encode_point(Xp)
        n = p256.N
        y = self._s
        Z = p256.mul_add(y, Xp, n - y * self.w0 % n, M)  # y*(X - w0*M)
        V = p256.mul(y, self.L)
        self._keys(X, self.Y, Z, V)
        self._expected_cA = self.crypto.hmac_sha256(self.kca, self.Y)
        return self.Y, self.crypto.hmac_sha256(self.kcb, X)

    def confirm(self, cA):
        """Check the prover's ``cA``; return the shared secret ``Ke`` or raise ``ConfirmationError``."""
        if self._expected_cA is None:
            raise Spake2pStateError("confirm called before respond")
        if not equal(self._expected_cA, _bytes(cA, "cA")):
            raise ConfirmationError("cA does not verify")
        self.confirmed = True
        return self.ke
