"""Crypto figures on this runtime: AES-CCM per message (time and heap), KDFs, P-256, ECDSA."""

import benchlib
from micromatter.crypto import p256
from support import port


def _time(function, n, warmup=3):
    """Best of three means (us): the machine may be shared, the least disturbed run is the figure."""
    return min(benchlib.time_per_op_us(function, n, warmup) for _ in range(3))


def _ccm(emit, crypto, size):
    aead = crypto.aes_ccm(bytes(range(16)))
    nonce = bytes(range(13))
    header = 26  # a Matter message header with both node ids, the AAD
    buf = bytearray(header + size + 16)
    for i in range(len(buf)):
        buf[i] = i & 0xFF
    mv = memoryview(buf)
    aad = mv[:header]
    end = header + size

    def encrypt():
        aead.encrypt_in_place(nonce, aad, buf, header, end)

    def round_trip():
        aead.encrypt_in_place(nonce, aad, buf, header, end)
        aead.decrypt_in_place(nonce, aad, mv, header, end)

    n = 200 if size <= 64 else 40
    emit("ccm_encrypt", _time(encrypt, n), "us", size=size)
    emit("ccm_encrypt_alloc", benchlib.alloc_per_op_bytes(encrypt, n), "B/op", size=size)
    emit("ccm_encrypt_decrypt", _time(round_trip, n), "us", size=size)
    emit("ccm_encrypt_decrypt_alloc", benchlib.alloc_per_op_bytes(round_trip, n), "B/op", size=size)


def run(emit):
    crypto = port().crypto
    _ccm(emit, crypto, 64)
    _ccm(emit, crypto, 1024)

    ikm = bytes(range(32))
    salt = bytes(range(48))
    emit("hkdf_sha256_48", _time(lambda: crypto.hkdf_sha256(ikm, salt, b"SessionKeys", 48), 50), "us")
    data = salt + salt[:16]
    emit("hmac_sha256_64", _time(lambda: crypto.hmac_sha256(ikm, data), 100), "us")
    emit("pbkdf2_sha256_1000", _time(
        lambda: crypto.pbkdf2_sha256(b"\x31\x32\x33\x34", b"SPAKE2P Key Salt", 1000, 80), 3, warmup=1) / 1000, "ms")

    # Portable P-256 (both runtimes): the first fixed-base call builds the comb table.
    held = benchlib.heap_used()
    start = benchlib._now_us()
    p256.mul_base(0x1234)
    emit("p256_tables_first_use", benchlib._diff_us(benchlib._now_us(), start) / 1000, "ms")
    p256.mul_add(0x1234, p256.G, 0x5678, p256.G)  # G's odd multiples
    if held is not None:
        emit("p256_tables_heap", benchlib.heap_used() - held, "B", note="comb and G tables, kept once built")
    scalars = [p256.reduce_scalar((0x9E3779B97F4A7C15 ** 5) * (i + 3)) for i in range(8)]
    point = p256.mul_base(scalars[0])
    state = [0]

    def k():
        state[0] = (state[0] + 1) & 7
        return scalars[state[0]]

    emit("p256_mul_base", _time(lambda: p256.mul_base(k()), 10) / 1000, "ms", impl="portable")
    emit("p256_mul_variable", _time(lambda: p256.mul(k(), point), 10) / 1000, "ms", impl="portable")
    emit("p256_mul_add", _time(lambda: p256.mul_add(k(), p256.G, k(), point), 10) / 1000, "ms",
         impl="portable")
    emit("p256_mul_add_alloc", benchlib.alloc_per_op_bytes(lambda: p256.mul_add(k(), p256.G, k(), point), 1),
         "B/op", impl="portable", note="garbage: big-int temporaries mostly")

    # The port's key operations (cryptography on CPython, the portable code on MicroPython).
    private, public = crypto.p256_generate()
    peer_private, peer_public = crypto.p256_generate()
    message = bytes(200)
    signature = crypto.ecdsa_sign(private, message)
    emit("p256_generate", _time(crypto.p256_generate, 10) / 1000, "ms")
    emit("ecdh", _time(lambda: crypto.ecdh(private, peer_public), 10) / 1000, "ms")
    emit("ecdsa_sign", _time(lambda: crypto.ecdsa_sign(private, message), 10) / 1000, "ms")
    emit("ecdsa_verify", _time(lambda: crypto.ecdsa_verify(public, message, signature), 10) / 1000,
         "ms")
