"""SHA-256, HMAC-SHA256 (RFC 4231), HKDF-SHA256 (RFC 5869), PBKDF2-HMAC-SHA256 (RFC 7914 and others)."""

from micromatter.errors import InvalidLengthError, InvalidParameterError
from support import IS_MICROPYTHON, crypto_backends, raises, unhex

# RFC 4231 test cases 1-7: (key, data, HMAC-SHA-256); case 5 is truncated to 128 bits.
RFC4231 = [
    (b"\x0b" * 20, b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (b"Jefe", b"what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
    (b"\xaa" * 20, b"\xdd" * 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
    (bytes(range(1, 26)), b"\xcd" * 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
    (b"\x0c" * 20, b"Test With Truncation", "a3b6167473100ee06e0c796c2955552b"),
    (
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
    (
        b"\xaa" * 131,
        b"This is a test using a larger than block-size key and a larger than block-size data."
        b" The key needs to be hashed before being used by the HMAC algorithm.",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ),
]

# RFC 5869 appendix A.1-A.3: (IKM, salt, info, L, OKM)
RFC5869 = [
    (
        b"\x0b" * 22,
        bytes(range(13)),
        bytes(range(0xF0, 0xFA)),
        42,
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
    ),
    (
        bytes(range(0x50)),
        bytes(range(0x60, 0xB0)),
        bytes(range(0xB0, 0x100)),
        82,
        "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09"
        "da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87",
    ),
    (b"\x0b" * 22, b"", b"", 42, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
]

# PBKDF2-HMAC-SHA256: RFC 7914 section 11, and the widely published "password"/"salt" set.
PBKDF2_QUICK = [
    (b"passwd", b"salt", 1, 64,
     "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
     "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"),
    (b"password", b"salt", 1, 32, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"),
    (b"password", b"salt", 2, 32, "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"),
]
PBKDF2_SLOW = [
    (b"password", b"salt", 4096, 32, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"),
    (b"passwordPASSWORDpassword", b"saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 40,
     "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9"),
    (b"Password", b"NaCl", 80000, 64,
     "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
     "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"),
]


def test_sha256():
    # FIPS 180-2 examples
    for name, crypto in crypto_backends():
        assert crypto.sha256(b"abc").digest() == unhex(
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        ), name
        h = crypto.sha256()
        h.update(b"abcdbcdecdefdefgefghfghighijhijk")
        h.update(b"ijkljklmklmnlmnomnopnopq")
        assert h.digest() == unhex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"), name
        assert crypto.sha256().digest() == unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_hmac_rfc4231():
    for name, crypto in crypto_backends():
        for key, data, expected in RFC4231:
            mac = crypto.hmac_sha256(key, data)
            assert len(mac) == 32
            assert mac[: len(expected) // 2] == unhex(expected), (name, expected)


def test_hmac_accepts_buffers():
    key, data, expected = RFC4231[1]
    for name, crypto in crypto_backends():
        assert crypto.hmac_sha256(bytearray(key), memoryview(bytearray(data))) == unhex(expected), name


def test_hkdf_rfc5869():
    for name, crypto in crypto_backends():
        for ikm, salt, info, length, expected in RFC5869:
            assert crypto.hkdf_sha256(ikm, salt, info, length) == unhex(expected), (name, length)


def test_hkdf_lengths():
    ikm, salt, info, _, expected = RFC5869[0]
    for name, crypto in crypto_backends():
        # a shorter output is a prefix of a longer one; the maximum is 255 blocks
        assert crypto.hkdf_sha256(ikm, salt, info, 1) == unhex(expected)[:1], name
        assert crypto.hkdf_sha256(ikm, salt, info, 32) == unhex(expected)[:32], name
        assert len(crypto.hkdf_sha256(ikm, salt, info, 8160)) == 8160
        raises(InvalidLengthError, crypto.hkdf_sha256, ikm, salt, info, 0)
        raises(InvalidLengthError, crypto.hkdf_sha256, ikm, salt, info, 8161)
        # an empty salt is HashLen zero bytes (RFC 5869 section 2.2)
        assert crypto.hkdf_sha256(ikm, b"", b"x", 16) == crypto.hkdf_sha256(ikm, bytes(32), b"x", 16)


def test_pbkdf2_quick_vectors():
    for name, crypto in crypto_backends():
        for password, salt, iterations, length, expected in PBKDF2_QUICK:
            assert crypto.pbkdf2_sha256(password, salt, iterations, length) == unhex(expected), (name, iterations)


def test_pbkdf2_many_iterations():
    # Thousands of iterations: CPython only, to keep the MicroPython run quick.
    if IS_MICROPYTHON:
        vectors = PBKDF2_SLOW[:1]
    else:
        vectors = PBKDF2_SLOW
    for name, crypto in crypto_backends():
        for password, salt, iterations, length, expected in vectors:
            assert crypto.pbkdf2_sha256(password, salt, iterations, length) == unhex(expected), (name, iterations)


def test_pbkdf2_arguments():
    for name, crypto in crypto_backends():
        raises(InvalidParameterError, crypto.pbkdf2_sha256, b"pw", b"salt", 0, 32)
        raises(InvalidLengthError, crypto.pbkdf2_sha256, b"pw", b"salt", 1, 0)
        # Matter's passcode verifier input: 80 bytes out of one call
        out = crypto.pbkdf2_sha256((20202021).to_bytes(4, "little"), b"SPAKE2P Key Salt", 1000, 80)
        assert len(out) == 80
        assert out[:32] == crypto.pbkdf2_sha256((20202021).to_bytes(4, "little"), b"SPAKE2P Key Salt", 1000, 32)


def test_random_bytes():
    for name, crypto in crypto_backends():
        a = crypto.random_bytes(32)
        b = crypto.random_bytes(32)
        assert len(a) == 32 and len(b) == 32
        assert a != b
        assert crypto.random_bytes(0) == b""
