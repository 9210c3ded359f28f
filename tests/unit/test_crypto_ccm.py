"""AES-CCM against NIST SP 800-38C, RFC 3610 and NIST CAVS vectors, on every crypto backend."""

from micromatter.errors import AuthenticationError, InvalidLengthError
from support import crypto_backends, raises, unhex

# (key, nonce, aad, plaintext, tag length, ciphertext | tag)
SP800_38C = [
    # Example 1: 7-byte nonce, 4-byte tag
    ("404142434445464748494a4b4c4d4e4f", "10111213141516", "0001020304050607", "20212223", 4, "7162015b4dac255d"),
    # Example 2: 8-byte nonce, 6-byte tag
    (
        "404142434445464748494a4b4c4d4e4f",
        "1011121314151617",
        "000102030405060708090a0b0c0d0e0f",
        "202122232425262728292a2b2c2d2e2f",
        6,
        "d2a1f0e051ea5f62081a7792073d593d1fc64fbfaccd",
    ),
    # Example 3: 12-byte nonce, 8-byte tag
    (
        "404142434445464748494a4b4c4d4e4f",
        "101112131415161718191a1b",
        "000102030405060708090a0b0c0d0e0f10111213",
        "202122232425262728292a2b2c2d2e2f3031323334353637",
        8,
        "e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5484392fbc1b09951",
    ),
]

# SP 800-38C Example 4: 13-byte nonce, 14-byte tag, 65536 bytes of AAD (00..ff repeated): the long AAD length form.
EXAMPLE4 = (
    "404142434445464748494a4b4c4d4e4f",
    "101112131415161718191a1b1c",
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f",
    14,
    "69915dad1e84c6376a68c2967e4dab615ae0fd1faec44cc484828529463ccf72b4ac6bec93e8598e7f0dadbcea5b",
)

_K1 = "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF"
_K2 = "D7828D13B2B0BDC325A76236DF93CC6B"
RFC3610 = [
    # packet vectors #1, #2, #3 (M = 8), #7 (M = 10), #13, #19, #24; all with L = 2 (13-byte nonce)
    (_K1, "00000003020100A0A1A2A3A4A5", "0001020304050607", "08090A0B0C0D0E0F101112131415161718191A1B1C1D1E", 8,
     "588C979A61C663D2F066D0C2C0F989806D5F6B61DAC38417E8D12CFDF926E0"),
    (_K1, "00000004030201A0A1A2A3A4A5", "0001020304050607", "08090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 8,
     "72C91A36E135F8CF291CA894085C87E3CC15C439C9E43A3BA091D56E10400916"),
    (_K1, "00000005040302A0A1A2A3A4A5", "0001020304050607", "08090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20", 8,
     "51B1E5F44A197D1DA46B0F8E2D282AE871E838BB64DA8596574ADAA76FBD9FB0C5"),
    (_K1, "00000009080706A0A1A2A3A4A5", "0001020304050607", "08090A0B0C0D0E0F101112131415161718191A1B1C1D1E", 10,
     "0135D1B2C95F41D5D1D4FEC185D166B8094E999DFED96C048C56602C97ACBB7490"),
    (_K2, "00412B4EA9CDBE3C9696766CFA", "0BE1A88BACE018B1", "08E8CF97D820EA258460E96AD9CF5289054D895CEAC47C", 8,
     "4CB97F86A2A4689A877947AB8091EF5386A6FFBDD080F8E78CF7CB0CDDD7B3"),
    (_K2, "0042FFF8F1951C3C9696766CFA", "D85BC7E69F944FB8", "8A19B950BCF71A018E5E6701C91787659809D67DBEDD18", 10,
     "BC218DAA947427B6DB386A99AC1AEF23ADE0B52939CB6A637CF9BEC2408897C6BA"),
    (_K2, "008D493B30AE8B3C9696766CFA", "6E37A6EF546D955D34AB6059", "ABF21C0B02FEB88F856DF4A37381BCE3CC128517D4", 10,
     "F32905B88A641B04B9C9FFB58CC390900F3DA12AB16DCE9E82EFA16DA62059"),
]

# NIST CAVS CCM VADT128.rsp (Tlen = 16, Nlen = 13: Matter's parameters), Alen = 0 and Alen = 32.
CAVS_T16_N13 = [
    ("d24a3d3dde8c84830280cb87abad0bb3", "f1100035bb24a8d26004e0e24b", "",
     "7c86135ed9c2a515aaae0e9a208133897269220f30870006", 16,
     "1faeb0ee2ca2cd52f0aa3966578344f24e69b742c4ab37ab1123301219c70599b7c373ad4b3ad67b"),
    ("5a33980e71e7d67fd6cf171454dc96e5", "33ae68ebb8010c6b3da6b9cb29",
     "eca622a37570df619e10ebb18bebadb2f2b49c4d2b2ff715873bb672e30fc0ff",
     "a34dfa24847c365291ce1b54bcf8d9a75d861e5133cc3a74", 16,
     "7a60fa7ee8859e283cce378fb6b95522ab8b70efcdb0265f7c4b4fa597666b86dd1353e400f28864"),
]


def _check_vectors(vectors):
    for name, crypto in crypto_backends():
        for key, nonce, aad, plain, tag_length, expected in vectors:
            key, nonce, aad, plain, expected = unhex(key), unhex(nonce), unhex(aad), unhex(plain), unhex(expected)
            aead = crypto.aes_ccm(key, tag_length, len(nonce))
            out = aead.encrypt(nonce, aad, plain)
            assert out == expected, name
            assert aead.decrypt(nonce, aad, out) == plain, name
            # in place: header (AAD) | payload | tag in one buffer, the AAD a memoryview of it
            buf = bytearray(aad + plain + bytes(tag_length))
            mv = memoryview(buf)
            a = len(aad)
            e = a + len(plain)
            aead.encrypt_in_place(nonce, mv[:a], buf, a, e)
            assert bytes(buf) == aad + expected, name
            aead.decrypt_in_place(nonce, mv[:a], mv, a, e)
            assert bytes(buf[a:e]) == plain, name


def test_sp800_38c_examples():
    _check_vectors(SP800_38C)


def test_sp800_38c_example4_long_aad():
    key, nonce, plain, tag_length, expected = EXAMPLE4
    aad = bytes(range(256)) * 256
    for name, crypto in crypto_backends():
        aead = crypto.aes_ccm(unhex(key), tag_length, 13)
        out = aead.encrypt(unhex(nonce), aad, unhex(plain))
        assert out == unhex(expected), name
        assert aead.decrypt(unhex(nonce), aad, out) == unhex(plain), name


def test_rfc3610_packet_vectors():
    _check_vectors(RFC3610)


def test_cavs_matter_parameters():
    _check_vectors(CAVS_T16_N13)


def test_defaults_are_matter_parameters():
    key, nonce, aad, plain, _, expected = CAVS_T16_N13[1]
    for name, crypto in crypto_backends():
        aead = crypto.aes_ccm(unhex(key))
        assert aead.encrypt(unhex(nonce), unhex(aad), unhex(plain)) == unhex(expected), name
        raises(InvalidLengthError, aead.encrypt, unhex(nonce)[:12], b"", b"x")


def _matter_message(crypto):
    key, nonce, aad, plain, _, _ = CAVS_T16_N13[1]
    aead = crypto.aes_ccm(unhex(key))
    header = unhex(aad)
    buf = bytearray(header + unhex(plain) + bytes(16))
    start = len(header)
    end = start + len(unhex(plain))
    aead.encrypt_in_place(unhex(nonce), memoryview(buf)[:start], buf, start, end)
    return aead, unhex(nonce), buf, start, end


def test_bad_tag_raises_and_leaves_buffer():
    for name, crypto in crypto_backends():
        aead, nonce, buf, start, end = _matter_message(crypto)
        for pos in (0, start, end - 1, end, end + 15):  # AAD, ciphertext, tag bytes
            tampered = bytearray(buf)
            tampered[pos] ^= 0x01
            before = bytes(tampered)
            raises(AuthenticationError, aead.decrypt_in_place, nonce, memoryview(tampered)[:start], tampered, start, end)
            assert bytes(tampered) == before, (name, pos)
        other_nonce = bytes([nonce[0] ^ 1]) + nonce[1:]
        before = bytes(buf)
        raises(AuthenticationError, aead.decrypt_in_place, other_nonce, memoryview(buf)[:start], buf, start, end)
        assert bytes(buf) == before, name
        # the genuine message still decrypts after the failures
        aead.decrypt_in_place(nonce, memoryview(buf)[:start], buf, start, end)


def test_wrong_key_fails():
    for name, crypto in crypto_backends():
        aead, nonce, buf, start, end = _matter_message(crypto)
        other = crypto.aes_ccm(bytes(16))
        raises(AuthenticationError, other.decrypt_in_place, nonce, memoryview(buf)[:start], buf, start, end)
        raises(AuthenticationError, other.decrypt, nonce, b"", b"short")


def test_empty_payload_is_a_mic():
    # Matter's resumption MICs are CCM over an empty plaintext.
    for name, crypto in crypto_backends():
        aead = crypto.aes_ccm(bytes(range(16)))
        mic = aead.encrypt(b"NCASE_SigmaS1", b"", b"")
        assert len(mic) == 16
        assert aead.decrypt(b"NCASE_SigmaS1", b"", mic) == b""
        raises(AuthenticationError, aead.decrypt, b"NCASE_SigmaS2", b"", mic)
        with_aad = aead.encrypt(b"NCASE_SigmaS1", b"header", b"")
        assert with_aad != mic


def test_round_trip_lengths():
    for name, crypto in crypto_backends():
        aead = crypto.aes_ccm(bytes(range(16, 32)))
        nonce = bytes(range(13))
        for n in (0, 1, 15, 16, 17, 31, 32, 33, 100):
            for a in (0, 1, 14, 15, 16, 30):
                plain = bytes((i * 7) & 0xFF for i in range(n))
                aad = bytes((i * 3) & 0xFF for i in range(a))
                out = aead.encrypt(nonce, aad, plain)
                assert len(out) == n + 16
                assert aead.decrypt(nonce, aad, out) == plain, (name, n, a)


def test_argument_checks():
    for name, crypto in crypto_backends():
        for bad_key in (b"", bytes(15), bytes(17), bytes(32)):
            raises(InvalidLengthError, crypto.aes_ccm, bad_key)
        for tag_length in (0, 2, 3, 5, 17, 18):
            raises(InvalidLengthError, crypto.aes_ccm, bytes(16), tag_length)
        for nonce_length in (6, 14):
            raises(InvalidLengthError, crypto.aes_ccm, bytes(16), 16, nonce_length)
        aead = crypto.aes_ccm(bytes(16))
        nonce = bytes(13)
        raises(InvalidLengthError, aead.encrypt, bytes(12), b"", b"abc")
        raises(InvalidLengthError, aead.encrypt, bytes(14), b"", b"abc")
        buf = bytearray(20)
        raises(InvalidLengthError, aead.encrypt_in_place, nonce, b"", buf, 0, 5)  # no room for the tag
        raises(InvalidLengthError, aead.encrypt_in_place, nonce, b"", buf, 3, 2)
        raises(InvalidLengthError, aead.encrypt_in_place, nonce, b"", buf, -1, 2)
        raises(InvalidLengthError, aead.decrypt_in_place, nonce, b"", buf, 0, 5)
        assert buf == bytearray(20)
        raises(AuthenticationError, aead.decrypt, nonce, b"", bytes(15))
        # a 7-byte nonce leaves 8 length bytes; a 13-byte one only 2: at most 65535 bytes
        big = bytearray(65536 + 16)
        raises(InvalidLengthError, aead.encrypt_in_place, nonce, b"", big, 0, 65536)


def test_interleaved_objects_stay_independent():
    # All AesCcm objects share their working blocks: objects with other keys, nonce and tag lengths used
    # between (and in the middle of) another's messages must not change its results, a failed
    # decryption included.
    vectors = SP800_38C + RFC3610[:2] + CAVS_T16_N13
    for name, crypto in crypto_backends():
        objects = []
        for key, nonce, aad, plain, tag_length, expected in vectors:
            objects.append((crypto.aes_ccm(unhex(key), tag_length, len(unhex(nonce))), unhex(nonce), unhex(aad),
                            unhex(plain), unhex(expected)))
        buffers = []
        for aead, nonce, aad, plain, expected in objects:
            buf = bytearray(aad + plain + bytes(aead.tag_length))
            aead.encrypt_in_place(nonce, aad, buf, len(aad), len(aad) + len(plain))
            buffers.append(buf)
            # another object's whole round trip between this one's messages
            other, o_nonce, o_aad, o_plain, o_expected = objects[0]
            assert other.encrypt(o_nonce, o_aad, o_plain) == o_expected, name
        for (aead, nonce, aad, plain, expected), buf in zip(objects, buffers):
            assert bytes(buf[len(aad):]) == expected, name
        tampered = bytearray(buffers[-1])
        tampered[-1] ^= 1
        last, l_nonce, l_aad, l_plain, _ = objects[-1]
        raises(AuthenticationError, last.decrypt_in_place, l_nonce, l_aad, tampered, len(l_aad),
               len(l_aad) + len(l_plain))
        for (aead, nonce, aad, plain, expected), buf in reversed(list(zip(objects, buffers))):
            aead.decrypt_in_place(nonce, aad, buf, len(aad), len(aad) + len(plain))
            assert bytes(buf[len(aad):len(aad) + len(plain)]) == plain, name
