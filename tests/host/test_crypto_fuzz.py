"""Property tests (hypothesis) of the portable crypto against the ``cryptography`` package."""

import hashlib
import os

from cryptography.hazmat.primitives.asymmetric import ec, utils
from hypothesis import given, settings
from hypothesis import strategies as st

from micromatter.crypto import ecdsa, p256
from micromatter.crypto.soft import SoftCrypto
from micromatter.errors import AuthenticationError, InvalidPointError, InvalidSignatureError
from micromatter_cpython.crypto import Crypto
from support import _EcbBlock

SOFT = SoftCrypto(_EcbBlock, hashlib.sha256, os.urandom)
HOST = Crypto()
scalars = st.integers(min_value=1, max_value=p256.N - 1)


@settings(max_examples=150, deadline=None)
@given(
    key=st.binary(min_size=16, max_size=16),
    nonce_length=st.integers(7, 13),
    tag_length=st.sampled_from((4, 6, 8, 10, 12, 14, 16)),
    aad=st.binary(max_size=70),
    plain=st.binary(max_size=300),
    flip=st.integers(min_value=0),
)
def test_ccm_matches_host_and_rejects_any_flip(key, nonce_length, tag_length, aad, plain, flip):
    nonce = bytes(range(nonce_length))
    soft = SOFT.aes_ccm(key, tag_length, nonce_length)
    out = soft.encrypt(nonce, aad, plain)
    assert out == HOST.aes_ccm(key, tag_length, nonce_length).encrypt(nonce, aad, plain)
    buf = bytearray(aad + out)
    pos = flip % len(buf)
    buf[pos] ^= 1 << (flip % 8)
    before = bytes(buf)
    try:
        soft.decrypt_in_place(nonce, memoryview(buf)[: len(aad)], buf, len(aad), len(buf) - tag_length)
    except AuthenticationError:
        assert bytes(buf) == before
    else:
        raise AssertionError("a flipped bit was accepted")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=80))
def test_der_parser_accepts_only_canonical_encodings(data):
    try:
        raw = ecdsa.der_to_raw(data)
    except InvalidSignatureError:
        return
    assert ecdsa.raw_to_der(raw) == data


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**256 - 1), st.integers(0, 2**256 - 1))
def test_der_encoding_matches_host(r, s):
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    der = ecdsa.raw_to_der(raw)
    assert der == utils.encode_dss_signature(r, s)
    assert ecdsa.der_to_raw(der) == raw


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=70) | st.binary(min_size=64, max_size=64).map(lambda b: b"\x04" + b))
def test_point_decoding_never_accepts_garbage(data):
    try:
        point = p256.decode_point(data)
    except InvalidPointError:
        return
    assert p256.is_on_curve(point)
    assert p256.encode_point(point) == data


@settings(max_examples=40, deadline=None)
@given(scalars, scalars, scalars)
def test_point_arithmetic_matches_host(a, b, c):
    def host_point(k):
        numbers = ec.derive_private_key(k, ec.SECP256R1()).public_key().public_numbers()
        return (numbers.x, numbers.y)

    q = host_point(b)
    assert p256.mul_base(a) == host_point(a)
    assert p256.mul(c, q) == host_point(b * c % p256.N)
    expected = None if (a + b * c) % p256.N == 0 else host_point((a + b * c) % p256.N)
    assert p256.mul_add(a, p256.G, c, q) == expected


@settings(max_examples=25, deadline=None)
@given(scalars, st.binary(max_size=200))
def test_signatures_agree_with_host(d, message):
    private = d.to_bytes(32, "big")
    public = HOST.p256_public_key(private)
    assert SOFT.p256_public_key(private) == public
    signature = SOFT.ecdsa_sign(private, message)
    HOST.ecdsa_verify(public, message, signature)
    SOFT.ecdsa_verify(public, message, HOST.ecdsa_sign(private, message))
