"""P-256 (secp256r1) arithmetic with Python integers: points, scalars, encoding, ECDH.

Public points are affine tuples ``(x, y)``; the identity is ``None``.
Inside, points are Jacobian ``(X, Y, Z)`` (``Z == 0`` is the identity) so a
scalar multiplication needs one field inversion.  Speed matters on
MicroPython (its big ints are ~3x slower than CPython's):

- fixed base ``G``: a comb of ``COMB_TEETH`` teeth over a table of affine
  points, built on first use (``mul_base``);
- any other point: signed sliding window (wNAF) over odd multiples;
- ``mul_add`` (``a*P + b*Q``, ECDSA verification, SPAKE2+): Shamir's trick,
  one doubling chain for both scalars, a wide precomputed window for ``G``.

The arithmetic is not constant time (Python big ints are not): a timing
side channel on the private scalar is a known limit of a pure-Python curve.
This module is also what SPAKE2+ builds on (``add``, ``negate``, ``mul``,
``mul_add``, ``reduce_scalar``).
"""

from micromatter.compat import const
from micromatter.errors import CryptoError, InvalidLengthError, InvalidPointError, InvalidScalarError

P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
A = P - 3
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
G = (GX, GY)

SCALAR_LENGTH = const(32)
POINT_LENGTH = const(65)  # 0x04 | x | y

COMB_TEETH = const(6)  # mul_base: 2**6 - 1 table points, 42 doublings and up to 43 additions
_COMB_SPACING = const(43)  # ceil(256 / COMB_TEETH)
G_WINDOW = const(6)  # wNAF width for G in mul_add: 16 precomputed odd multiples
WINDOW = const(5)  # wNAF width for other points: 8 odd multiples computed per call
_WNAF_LENGTH = const(264)  # wNAF digits of a 256-bit scalar: at most 257 (+ room for the widest window)
_NEGATE = const(0x80)
# Tables of affine points are lists of pages, each 8 points of 64 bytes (x | y big-endian): a third of the
# heap of tuples of ints, and no block larger than 512 bytes to find in a fragmented heap.
_PAGE_POINTS = const(8)
_PAGE_BYTES = const(512)

# Jacobian points travel as 3-item lists: in a microbenchmark on the 1.29 unix port a
# list of three was built in ~0.2 us and a tuple of three in ~11 us.
_INFINITY = [1, 1, 0]

# The recoded scalars of a multiplication, one byte per doubling step, top first: 0 adds nothing, else the
# low 7 bits are 1 + the index of the table point to add and ``_NEGATE`` adds its negation.  Two buffers
# (Shamir's trick needs both) reused by every call, as the core is single-threaded: a list of digits was
# 2112 bytes per scalar on the x64 unix port, the largest allocations of a handshake.
_digits_a = bytearray(_WNAF_LENGTH)
_digits_b = bytearray(_WNAF_LENGTH)


def _inv_euclid(a, m):
    """a**-1 mod m by the extended Euclidean algorithm (faster than pow on MicroPython)."""
    x0 = 1
    x1 = 0
    b = m
    a %= m
    while b:
        q = a // b
        a, b = b, a - q * b
        x0, x1 = x1, x0 - q * x1
    return x0 % m


def _inv_pow(a, m):
    return pow(a, -1, m)


# CPython has a fast modular inverse in pow(a, -1, m); MicroPython computes
# pow(3, -1, 7) wrongly (0), so probe it rather than trust it.
try:
    _inv = _inv_pow if pow(3, -1, 7) == 5 else _inv_euclid
except (ValueError, TypeError):
    _inv = _inv_euclid


# --- field and Jacobian point arithmetic -------------------------------------


def _double(X1, Y1, Z1):
    """2*(X1:Y1:Z1) for a = -3 (dbl-2001-b)."""
    if not Z1:
        return _INFINITY
    p = P
    delta = Z1 * Z1 % p
    gamma = Y1 * Y1 % p
    beta = X1 * gamma % p
    alpha = 3 * (X1 - delta) * (X1 + delta) % p
    X3 = (alpha * alpha - 8 * beta) % p
    Z3 = 2 * Y1 * Z1 % p
    Y3 = (alpha * (4 * beta - X3) - 8 * gamma * gamma) % p
    return [X3, Y3, Z3]


def _add_affine(X1, Y1, Z1, x2, y2):
    """(X1:Y1:Z1) + (x2, y2), the second point affine and not the identity (madd-2004-hmv)."""
    if not Z1:
        return [x2, y2, 1]
    p = P
    Z1Z1 = Z1 * Z1 % p
    H = (x2 * Z1Z1 - X1) % p
    R = (y2 * Z1 * Z1Z1 - Y1) % p
    if not H:
        if not R:
            return _double(X1, Y1, Z1)
        return _INFINITY
    HH = H * H % p
    HHH = H * HH % p
    V = X1 * HH % p
    X3 = (R * R - HHH - 2 * V) % p
    Y3 = (R * (V - X3) - Y1 * HHH) % p
    Z3 = Z1 * H % p
    return [X3, Y3, Z3]


def _to_affine(X, Y, Z):
    if not Z:
        return None
    p = P
    zi = _inv(Z, p)
    zi2 = zi * zi % p
    return (X * zi2 % p, Y * zi2 * zi % p)


def _batch_affine(points):
    """Affine forms of Jacobian points (none the identity) with one inversion (Montgomery's trick), packed
    as a table (``_point_at``)."""
    p = P
    n = len(points)
    prefix = [1] * n
    acc = 1
    for i in range(n):
        prefix[i] = acc
        acc = acc * points[i][2] % p
    inv = _inv(acc, p)
    table = [memoryview(bytearray(_PAGE_BYTES)) for _ in range((n + _PAGE_POINTS - 1) // _PAGE_POINTS)]
    for i in range(n - 1, -1, -1):
        X, Y, Z = points[i]
        zi = inv * prefix[i] % p
        inv = inv * Z % p
        zi2 = zi * zi % p
        page = table[i // _PAGE_POINTS]
        o = (i % _PAGE_POINTS) * 64
        page[o:o + 32] = (X * zi2 % p).to_bytes(32, "big")
        page[o + 32:o + 64] = (Y * zi2 * zi % p).to_bytes(32, "big")
    return table


def _point_at(table, i):
    """Point ``i`` of a table as (x, y)."""
    page = table[i // _PAGE_POINTS]
    o = (i % _PAGE_POINTS) * 64
    return int.from_bytes(page[o:o + 32], "big"), int.from_bytes(page[o + 32:o + 64], "big")


# --- scalar recoding -----------------------------------------------------------


def _wnaf(k, w, out):
    """Width-w NAF of 0 < k < 2**256 into ``out`` (``_WNAF_LENGTH`` bytes, top first, see ``_digits_a``):
    odd digits d with |d| < 2**(w-1), each naming the odd multiple |d| * P of a ``_odd_multiples`` table."""
    for i in range(_WNAF_LENGTH):
        out[i] = 0
    kb = k.to_bytes(32, "big")
    half = 1 << (w - 1)
    full = 1 << w
    top = _WNAF_LENGTH - 1
    carry = 0
    i = 0
    while i < 256 or carry:
        bit = ((kb[31 - (i >> 3)] >> (i & 7)) & 1) if i < 256 else 0
        c = bit + carry
        if c != 1:
            # 0 with no carry, or 2 (bit and carry): the digit here is 0, the carry moves up.
            i += 1
            continue
        v = 1
        for j in range(1, w):
            n = i + j
            if n < 256:
                v += ((kb[31 - (n >> 3)] >> (n & 7)) & 1) << j
        if v >= half:
            out[top - i] = _NEGATE | (((full - v) >> 1) + 1)
            carry = 1
        else:
            out[top - i] = (v >> 1) + 1
            carry = 0
        i += w
    return out


def _odd_multiples(point, w):
    """Affine ``[P, 3P, 5P, ...]`` up to ``(2**(w-1) - 1) * P`` for a wNAF of width w.

    2P is made affine (one inversion) so each next multiple is a cheap mixed
    addition; the table is then made affine with one more inversion."""
    x, y = point
    p = P
    lam = 3 * (x * x - 1) * _inv(2 * y, p) % p  # tangent slope, a = -3 (y != 0 on P-256)
    x2 = (lam * lam - 2 * x) % p
    y2 = (lam * (x - x2) - y) % p
    X = x
    Y = y
    Z = 1
    jac = [[x, y, 1]]
    for _ in range((1 << (w - 2)) - 1):
        X, Y, Z = _add_affine(X, Y, Z, x2, y2)
        if not Z:  # kP = -2P for a small odd k: only for a point of tiny order
            raise InvalidPointError("point of small order")
        jac.append([X, Y, Z])
    return _batch_affine(jac)


_comb_table = None
_g_table = None


def _comb():
    """Comb table for G: point b - 1 is the sum of 2**(i*spacing) * G over the bits i of b (b = 1..63)."""
    global _comb_table
    if _comb_table is None:
        teeth = COMB_TEETH
        jac = [[GX, GY, 1]]
        for _ in range(teeth - 1):
            X, Y, Z = jac[-1]
            for _ in range(_COMB_SPACING):
                X, Y, Z = _double(X, Y, Z)
            jac.append([X, Y, Z])
        base = _batch_affine(jac)  # 2**(i*spacing) * G
        jac = [None] * (1 << teeth)
        for b in range(1, 1 << teeth):
            low = b & -b
            i = 0
            while (1 << i) != low:
                i += 1
            rest = b ^ low
            x, y = _point_at(base, i)
            if rest:
                X, Y, Z = jac[rest]
                jac[b] = _add_affine(X, Y, Z, x, y)
            else:
                jac[b] = [x, y, 1]
        _comb_table = _batch_affine(jac[1:])
    return _comb_table


def _g_odd():
    global _g_table
    if _g_table is None:
        _g_table = _odd_multiples(G, G_WINDOW)
    return _g_table


# --- scalar multiplication: one evaluation loop --------------------------------------
#
# Each method recodes its scalar into a digit buffer (``_digits_a``): entry i says which point of its packed
# table to add after the i-th doubling from the top.  ``_evaluate`` then runs the doubling chain once for
# both buffers (Shamir's trick when there are two), with the point formulas written inline: a call per
# doubling or addition costs MicroPython as much as the arithmetic.


def _comb_digits(k, out):
    """The comb's table indexes of k (top first, ``_COMB_SPACING`` of them) into ``out``."""
    kb = k.to_bytes(32, "big")
    teeth = COMB_TEETH
    spacing = _COMB_SPACING
    for j in range(spacing):
        idx = 0
        for i in range(teeth):
            n = i * spacing + j
            if n < 256:
                idx |= ((kb[31 - (n >> 3)] >> (n & 7)) & 1) << i
        out[spacing - 1 - j] = idx  # comb sum idx is table point idx - 1: a digit as _evaluate reads it
    return out


def _evaluate(length, first, first_table, second, second_table):
    """The sum the first ``length`` digits of ``first`` (and of ``second`` unless None) describe over their
    packed tables, as a Jacobian point."""
    p = P
    X = Y = 1
    Z = 0
    sources = ((first, first_table),) if second is None else ((first, first_table), (second, second_table))
    for i in range(length):
        if Z:  # doubling, a = -3 (dbl-2001-b)
            delta = Z * Z % p
            gamma = Y * Y % p
            beta = X * gamma % p
            alpha = 3 * (X - delta) * (X + delta) % p
            X3 = (alpha * alpha - 8 * beta) % p
            Z = 2 * Y * Z % p
            Y = (alpha * (4 * beta - X3) - 8 * gamma * gamma) % p
            X = X3
        for digits, table in sources:
            d = digits[i]
            if not d:
                continue
            j = (d & 0x7F) - 1  # _point_at, inline
            page = table[j // _PAGE_POINTS]
            o = (j % _PAGE_POINTS) * 64
            x2 = int.from_bytes(page[o:o + 32], "big")
            y2 = int.from_bytes(page[o + 32:o + 64], "big")
            if d & _NEGATE:
                y2 = p - y2
            if not Z:
                X = x2
                Y = y2
                Z = 1
                continue
            # mixed addition with an affine point (madd-2004-hmv)
            ZZ = Z * Z % p
            H = (x2 * ZZ - X) % p
            R = (y2 * Z * ZZ - Y) % p
            if H:
                HH = H * H % p
                HHH = H * HH % p
                V = X * HH % p
                X3 = (R * R - HHH - 2 * V) % p
                Y = (R * (V - X3) - Y * HHH) % p
                X = X3
                Z = Z * H % p
            elif R:  # the sum is the identity
                X = Y = 1
                Z = 0
            else:  # the same point: double it
                X, Y, Z = _double(X, Y, Z)
    return [X, Y, Z]


def _mul_base_jac(k):
    """k*G (0 < k < 2**256) as a Jacobian point, by the comb."""
    table = _comb()
    return _evaluate(_COMB_SPACING, _comb_digits(k, _digits_a), table, None, None)


def _mul_jac(k, point):
    """k*point (0 < k < 2**256) as a Jacobian point, by wNAF."""
    return _evaluate(_WNAF_LENGTH, _wnaf(k, WINDOW, _digits_a), _odd_multiples(point, WINDOW), None, None)


def _mul_add_jac(a, p1, b, p2):
    """a*p1 + b*p2 (scalars in 0..n-1, not both 0) as a Jacobian point, by Shamir's trick."""
    if not a:
        a, p1, b, p2 = b, p2, 0, None
    first = _wnaf(a, G_WINDOW if p1 == G else WINDOW, _digits_a)
    first_table = _g_odd() if p1 == G else _odd_multiples(p1, WINDOW)
    if not b:
        return _evaluate(_WNAF_LENGTH, first, first_table, None, None)
    second = _wnaf(b, G_WINDOW if p2 == G else WINDOW, _digits_b)
    second_table = _g_odd() if p2 == G else _odd_multiples(p2, WINDOW)
    return _evaluate(_WNAF_LENGTH, first, first_table, second, second_table)


# --- public point operations ----------------------------------------------------


def is_on_curve(point):
    """True for an affine point of the curve with coordinates in 0..p-1 (the identity is not)."""
    if point is None:
        return False
    x, y = point
    p = P
    if not (0 <= x < p and 0 <= y < p):
        return False
    return (y * y - (x * x * x - 3 * x + B)) % p == 0


def _check_point(point):
    if not is_on_curve(point):
        raise InvalidPointError("not a point of P-256")


def add(p1, p2):
    """p1 + p2 (affine points or None)."""
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    return _to_affine(*_add_affine(p1[0], p1[1], 1, p2[0], p2[1]))


def negate(point):
    if point is None:
        return None
    return (point[0], (P - point[1]) % P)


def double(point):
    if point is None:
        return None
    return _to_affine(*_double(point[0], point[1], 1))


def mul(k, point):
    """k*point for any integer k (reduced mod n) and a point of the curve; None if k*point is the identity."""
    if point is None:
        return None
    _check_point(point)
    k %= N
    if not k:
        return None
    if point == G:
        return _to_affine(*_mul_base_jac(k))
    return _to_affine(*_mul_jac(k, point))


def mul_base(k):
    """k*G for any integer k (reduced mod n); None if k is a multiple of n."""
    k %= N
    if not k:
        return None
    return _to_affine(*_mul_base_jac(k))


def mul_add(a, p1, b, p2):
    """a*p1 + b*p2 with one shared doubling chain (Shamir's trick); points must be on the curve."""
    a %= N
    b %= N
    if p1 is None:
        a = 0
        p1 = G
    if p2 is None:
        b = 0
        p2 = G
    _check_point(p1)
    _check_point(p2)
    if not a and not b:
        return None
    return _to_affine(*_mul_add_jac(a, p1, b, p2))


# --- scalars -----------------------------------------------------------------------


def reduce_scalar(value):
    """An integer or big-endian bytes (any length, e.g. SPAKE2+'s 40-byte w0s) reduced mod n."""
    if not isinstance(value, int):
        value = int.from_bytes(bytes(value), "big")
    return value % N


def scalar_from_bytes(data):
    """A private scalar from 32 big-endian bytes; ``InvalidScalarError`` unless 1 <= k < n."""
    if len(data) != SCALAR_LENGTH:
        raise InvalidScalarError("scalar must be 32 bytes")
    k = int.from_bytes(bytes(data), "big")
    if not 0 < k < N:
        raise InvalidScalarError("scalar out of range")
    return k


def scalar_to_bytes(k):
    if not 0 <= k < (1 << 256):
        raise InvalidScalarError("scalar out of range")
    return k.to_bytes(SCALAR_LENGTH, "big")


# --- encoding ---------------------------------------------------------------------


def encode_point(point):
    """65-byte uncompressed SEC1 form; the identity has none here."""
    if point is None:
        raise InvalidPointError("the identity has no uncompressed encoding")
    return b"\x04" + point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")


def decode_point(data):
    """The affine point of a 65-byte uncompressed encoding, checked to be on the curve."""
    if len(data) != POINT_LENGTH:
        raise InvalidPointError("point must be 65 bytes (uncompressed)")
    if data[0] != 4:
        raise InvalidPointError("point must be uncompressed (0x04)")
    data = bytes(data)
    point = (int.from_bytes(data[1:33], "big"), int.from_bytes(data[33:65], "big"))
    _check_point(point)
    return point


# --- keys and ECDH ----------------------------------------------------------------------


def public_key(private):
    """65-byte public key of a 32-byte private scalar."""
    return encode_point(mul_base(scalar_from_bytes(private)))


def ecdh(private, peer_public):
    """The 32-byte x coordinate of private * peer_public (SEC1 ECDH primitive)."""
    k = scalar_from_bytes(private)
    point = decode_point(peer_public)
    shared = _to_affine(*_mul_jac(k, point))
    if shared is None:  # impossible with n prime and a valid point; checked all the same
        raise CryptoError("ECDH produced the identity")
    return shared[0].to_bytes(32, "big")


def private_from_random(random_bytes, attempts=64):
    """A private scalar (32 bytes) from a randomness source, rejecting values outside 1..n-1."""
    for _ in range(attempts):
        data = random_bytes(SCALAR_LENGTH)
        if len(data) != SCALAR_LENGTH:
            raise InvalidLengthError("random source returned a wrong length")
        k = int.from_bytes(data, "big")
        if 0 < k < N:
            return bytes(data)
    raise CryptoError("random source gave no valid scalar")
