"""P-256: point arithmetic, encoding and validation, keys, ECDH against NIST CAVS vectors."""

from micromatter.crypto import p256
from micromatter.errors import InvalidPointError, InvalidScalarError
from support import IS_MICROPYTHON, Rng, crypto_backends, raises, unhex

# Published small multiples of G (k = 2, 3).
G2 = (0x7CF27B188D034F7E8A52380304B51AC3C08969E277F21B35A60B48FC47669978,
      0x07775510DB8ED040293D9AC69F7430DBBA7DADE63CE982299E04B79D227873D1)
G3 = (0x5ECBE4D1A6330A44C8F7EF951D4BF165E6C6B721EFADA985FB41661BC6E7FD6C,
      0x8734640C4998FF7E374B06CE1A64A2ECD82AB036384FB83D9A79B127A27D5032)

# NIST CAVS KAS ECC CDH primitive test vectors, P-256, COUNT = 0 and 1:
# (QCAVSx, QCAVSy, dIUT, QIUTx, QIUTy, ZIUT)
ECDH_CAVS = [
    ("700c48f77f56584c5cc632ca65640db91b6bacce3a4df6b42ce7cc838833d287",
     "db71e509e3fd9b060ddb20ba5c51dcc5948d46fbf640dfe0441782cab85fa4ac",
     "7d7dc5f71eb29ddaf80d6214632eeae03d9058af1fb6d22ed80badb62bc1a534",
     "ead218590119e8876b29146ff89ca61770c4edbbf97d38ce385ed281d8a6b230",
     "28af61281fd35e2fa7002523acc85a429cb06ee6648325389f59edfce1405141",
     "46fc62106420ff012e54a434fbdd2d25ccc5852060561e68040dd7778997bd7b"),
    ("809f04289c64348c01515eb03d5ce7ac1a8cb9498f5caa50197e58d43a86a7ae",
     "b29d84e811197f25eba8f5194092cb6ff440e26d4421011372461f579271cda3",
     "38f65d6dce47676044d58ce5139582d568f64bb16098d179dbab07741dd5caf5",
     "119f2f047902782ab0c9e27a54aff5eb9b964829ca99c06b02ddba95b0a3f6d0",
     "8f52b726664cac366fc98ac7a012b2682cbd962e5acb544671d41b9445704d1d",
     "057d636096cb80b67a8c038c890e887d1adfa4195e9b3ce241c8a778c59cda67"),
]


def _scalars(count, seed):
    rng = Rng(seed)
    return [p256.reduce_scalar(rng.bytes(32)) or 1 for _ in range(count)]


def test_curve_constants():
    assert p256.is_on_curve(p256.G)
    assert p256.A == p256.P - 3
    assert p256.mul_base(p256.N) is None
    assert p256.mul_base(0) is None
    assert p256.mul_base(p256.N - 1) == (p256.GX, p256.P - p256.GY)


def test_small_multiples():
    assert p256.mul_base(2) == G2
    assert p256.mul_base(3) == G3
    assert p256.double(p256.G) == G2
    assert p256.add(p256.G, G2) == G3
    assert p256.add(G2, p256.G) == G3
    assert p256.mul(2, p256.G) == G2
    assert p256.mul(3, G2) == p256.mul_base(6)
    assert p256.mul(p256.N + 2, p256.G) == G2  # scalars are taken mod n


def test_identity_and_negation():
    g_neg = p256.negate(p256.G)
    assert p256.is_on_curve(g_neg)
    assert p256.add(p256.G, g_neg) is None
    assert p256.add(None, G2) == G2
    assert p256.add(G2, None) == G2
    assert p256.negate(None) is None
    assert p256.mul(5, None) is None
    assert p256.mul(p256.N, G2) is None
    assert p256.mul(-1, G2) == p256.negate(G2)
    assert p256.mul_add(1, p256.G, p256.N - 1, p256.G) is None
    assert p256.mul_add(2, p256.G, 1, p256.G) == G3
    assert p256.mul_add(0, G2, 3, p256.G) == G3
    assert p256.mul_add(1, G2, 0, G3) == G2
    assert p256.mul_add(0, G2, 0, G3) is None
    assert p256.mul_add(3, None, 1, G2) == G2


def test_scalar_multiplication_agrees():
    # comb (fixed base), wNAF (variable base) and Shamir's trick give the same points
    count = 3 if IS_MICROPYTHON else 20
    ks = _scalars(count, 7)
    js = _scalars(count, 8)
    q = p256.mul_base(0xC0FFEE)
    for k, j in zip(ks, js):
        a = p256.mul_base(k)
        assert p256.mul(k, p256.G) == a
        assert p256.mul(k, q) == p256.mul(k * 0xC0FFEE, p256.G)
        assert p256.mul_add(k, p256.G, j, q) == p256.add(a, p256.mul(j, q))
        assert p256.mul_add(j, q, k, G2) == p256.add(p256.mul(j, q), p256.mul(2 * k, p256.G))
        assert p256.is_on_curve(a)


def test_edge_scalars():
    # all-ones windows, carries out of the top bit, tiny and huge scalars
    for k in (1, 2, 15, 16, 31, 32, 33, 63, 64, 2**128 - 1, 2**255, 2**256 - 1 - 2**200, p256.N - 2, p256.N - 16):
        expected = p256.mul_base(k)
        assert p256.mul(k, p256.G) == expected, k
        assert p256.mul_add(k, G2, 0, p256.G) == p256.mul_base(2 * k), k
        assert p256.mul(k, G2) == p256.mul_base(2 * k), k


def test_reduce_scalar():
    assert p256.reduce_scalar(p256.N + 5) == 5
    data = bytes(range(40))  # SPAKE2+ reduces 40-byte values
    assert p256.reduce_scalar(data) == int.from_bytes(data, "big") % p256.N
    assert p256.reduce_scalar(bytearray(p256.N.to_bytes(32, "big"))) == 0
    assert p256.scalar_to_bytes(5) == bytes(31) + b"\x05"
    assert p256.scalar_from_bytes(p256.scalar_to_bytes(p256.N - 1)) == p256.N - 1


def test_point_encoding():
    encoded = p256.encode_point(G2)
    assert len(encoded) == 65 and encoded[0] == 4
    assert encoded[1:33] == G2[0].to_bytes(32, "big")
    assert p256.decode_point(encoded) == G2
    assert p256.decode_point(bytearray(encoded)) == G2
    assert p256.decode_point(memoryview(encoded)) == G2
    raises(InvalidPointError, p256.encode_point, None)


def _bad_points():
    good = p256.encode_point(G2)
    x = good[1:33]
    y = good[33:]
    y_plus_1 = (G2[1] + 1).to_bytes(32, "big")
    return [
        b"",
        b"\x00",  # the identity
        good[:64],
        good + b"\x00",
        b"\x02" + x,  # compressed forms are not accepted
        b"\x03" + x + y,
        b"\x05" + x + y,
        b"\x04" + x + y_plus_1,  # off the curve
        b"\x04" + bytes(64),
        b"\x04" + p256.P.to_bytes(32, "big") + y,  # x out of range
        b"\x04" + x + (p256.P + 1).to_bytes(32, "big"),  # y >= p
    ]


def test_point_validation():
    for data in _bad_points():
        raises(InvalidPointError, p256.decode_point, data)
    # y + p satisfies the equation mod p but is not a coordinate
    assert not p256.is_on_curve((G2[0], G2[1] + p256.P))
    assert not p256.is_on_curve(None)
    raises(InvalidPointError, p256.mul, 3, (1, 2))
    raises(InvalidPointError, p256.mul_add, 1, p256.G, 1, (1, 2))


def test_backend_point_validation():
    for name, crypto in crypto_backends():
        crypto.p256_validate_public(p256.encode_point(G2))
        private = bytes(31) + b"\x07"
        for data in _bad_points():
            raises(InvalidPointError, crypto.p256_validate_public, data)
            raises(InvalidPointError, crypto.ecdh, private, data)


def test_ecdh_cavs():
    for name, crypto in crypto_backends():
        for qx, qy, d, ix, iy, z in ECDH_CAVS:
            peer = b"\x04" + unhex(qx) + unhex(qy)
            assert crypto.p256_public_key(unhex(d)) == b"\x04" + unhex(ix) + unhex(iy), name
            assert crypto.ecdh(unhex(d), peer) == unhex(z), name
    for qx, qy, d, ix, iy, z in ECDH_CAVS:
        assert p256.ecdh(unhex(d), b"\x04" + unhex(qx) + unhex(qy)) == unhex(z)
        assert p256.public_key(unhex(d)) == b"\x04" + unhex(ix) + unhex(iy)


def test_generated_keys_agree():
    backends = crypto_backends()
    pairs = [(name, crypto, crypto.p256_generate()) for name, crypto in backends]
    for name, crypto, (private, public) in pairs:
        assert len(private) == 32 and len(public) == 65
        assert crypto.p256_public_key(private) == public, name
        crypto.p256_validate_public(public)
    for name_a, crypto_a, (priv_a, pub_a) in pairs:
        for name_b, crypto_b, (priv_b, pub_b) in pairs:
            assert crypto_a.ecdh(priv_a, pub_b) == crypto_b.ecdh(priv_b, pub_a), (name_a, name_b)


def test_private_key_range():
    bad = [bytes(32), p256.N.to_bytes(32, "big"), (p256.N + 1).to_bytes(32, "big"), b"\xff" * 32,
           b"\x01" * 31, b"\x01" * 33, b""]
    peer = p256.encode_point(G2)
    for name, crypto in crypto_backends():
        for private in bad:
            raises(InvalidScalarError, crypto.p256_public_key, private)
            raises(InvalidScalarError, crypto.ecdh, private, peer)
        assert crypto.p256_public_key((p256.N - 1).to_bytes(32, "big")) == p256.encode_point(p256.negate(p256.G))
        assert crypto.p256_public_key(bytes(31) + b"\x02") == p256.encode_point(G2)


def test_private_from_random_rejects_out_of_range():
    values = [bytes(32), b"\xff" * 32, bytes(31) + b"\x09"]

    def source(n):
        return values.pop(0)

    assert p256.private_from_random(source) == bytes(31) + b"\x09"


def _digit_values(buf, length):
    """The signed table indexes a digit buffer holds, least significant first: +-(i + 1) for table point i."""
    out = []
    for pos in range(length - 1, -1, -1):
        d = buf[pos]
        out.append(-(d & 0x7F) if d & 0x80 else d)
    return out


def test_wnaf_recoding_rebuilds_the_scalar():
    # digit buffers are reused by every multiplication: each recoding must overwrite the whole buffer
    buf = bytearray(b"\xff" * len(p256._digits_a))
    for w in (p256.WINDOW, p256.G_WINDOW):
        for k in (1, 2, 3, 2**255, 2**256 - 1, p256.N - 1, p256.N - 16) + tuple(_scalars(4, 11)):
            assert p256._wnaf(k, w, buf) is buf
            total = 0
            last = None
            for i, v in enumerate(_digit_values(buf, len(buf))):
                if not v:
                    continue
                d = 2 * abs(v) - 1  # the odd multiple the table entry holds
                assert d < 1 << (w - 1), (k, w, i)
                assert last is None or i - last >= w, (k, w, i)  # non-adjacent form of width w
                last = i
                total += (d if v > 0 else -d) << i
            assert total == k, (k, w)


def test_comb_recoding_rebuilds_the_scalar():
    buf = bytearray(b"\xff" * len(p256._digits_a))
    spacing = (256 + p256.COMB_TEETH - 1) // p256.COMB_TEETH  # the comb's columns
    for k in (1, 2**255, 2**256 - 1, p256.N - 1) + tuple(_scalars(3, 12)):
        p256._comb_digits(k, buf)
        total = 0
        for j, idx in enumerate(_digit_values(buf, spacing)):
            assert 0 <= idx < 1 << p256.COMB_TEETH
            for tooth in range(p256.COMB_TEETH):
                if idx >> tooth & 1:
                    total += 1 << (tooth * spacing + j)
        assert total == k


def test_tables_hold_their_points():
    # comb entry b - 1 is sum(2**(i*spacing) G) over the bits i of b; G's odd-multiple entry i is (2i+1) G
    comb = p256._comb()
    spacing = (256 + p256.COMB_TEETH - 1) // p256.COMB_TEETH  # the comb's columns
    for b in (1, 2, 3, 32, 33, 63):
        expected = None
        for i in range(p256.COMB_TEETH):
            if b >> i & 1:
                expected = p256.add(expected, p256.mul(1 << (i * spacing), p256.G))
        assert p256._point_at(comb, b - 1) == expected, b
    odd = p256._g_odd()
    point = p256.G
    g2 = p256.double(p256.G)
    for i in range(1 << (p256.G_WINDOW - 2)):
        assert p256._point_at(odd, i) == point, i
        point = p256.add(point, g2)


def test_multiplication_against_double_and_add():
    # an independent path through the public affine add/double only
    def reference(k, point):
        result = None
        for bit in range(255, -1, -1):
            result = p256.double(result)
            if k >> bit & 1:
                result = p256.add(result, point)
        return result

    k, j = _scalars(2, 13)
    q = G3
    assert p256.mul_base(k) == reference(k, p256.G)
    assert p256.mul(k, q) == reference(k, q)
    assert p256.mul_add(k, p256.G, j, q) == p256.add(reference(k, p256.G), reference(j, q))
