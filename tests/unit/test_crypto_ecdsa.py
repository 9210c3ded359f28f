"""ECDSA P-256/SHA-256: RFC 6979 deterministic signatures, NIST SigVer cases, tampering, DER forms."""

from micromatter.crypto import ecdsa, p256
from micromatter.errors import InvalidPointError, InvalidScalarError, InvalidSignatureError
from support import IS_MICROPYTHON, crypto_backends, raises, unhex

# RFC 6979 appendix A.2.5 (P-256), SHA-256 signatures.
RFC6979_KEY = unhex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721")
RFC6979_PUBLIC = unhex(
    "04"
    "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
    "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"
)
RFC6979 = [
    (b"sample",
     "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
     "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"),
    (b"test",
     "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367"
     "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"),
]

# NIST CAVS 186-3 SigVer.rsp, [P-256,SHA-256]: (Msg, Qx, Qy, R, S, passes)
SIGVER = [
    ("e1130af6a38ccb412a9c8d13e15dbfc9e69a16385af3c3f1e5da954fd5e7c45fd75e2b8c36699228e92840c0562fbf3772f07e17f1add56588"
     "dd45f7450e1217ad239922dd9c32695dc71ff2424ca0dec1321aa47064a044b7fe3c2b97d03ce470a592304c5ef21eed9f93da56bb232d1eeb"
     "0035f9bf0dfafdcc4606272b20a3",
     "e424dc61d4bb3cb7ef4344a7f8957a0c5134e16f7a67c074f82e6e12f49abf3c",
     "970eed7aa2bc48651545949de1dddaf0127e5965ac85d1243d6f60e7dfaee927",
     "bf96b99aa49c705c910be33142017c642ff540c76349b9dab72f981fd9347f4f",
     "17c55095819089c2e03b9cd415abdf12444e323075d98f31920b9e0f57ec871c", True),
    ("73c5f6a67456ae48209b5f85d1e7de7758bf235300c6ae2bdceb1dcb27a7730fb68c950b7fcada0ecc4661d3578230f225a875e69aaa17f1e7"
     "1c6be5c831f22663bac63d0c7a9635edb0043ff8c6f26470f02a7bc56556f1437f06dfa27b487a6c4290d8bad38d4879b334e341ba092dde4e"
     "4ae694a9c09302e2dbf443581c08",
     "e0fc6a6f50e1c57475673ee54e3a57f9a49f3328e743bf52f335e3eeaa3d2864",
     "7f59d689c91e463607d9194d99faf316e25432870816dde63f5d4b373f12f22a",
     "1d75830cd36f4c9aa181b2c4221e87f176b7f05b7c87824e82e396c88315c407",
     "cb2acb01dac96efc53a32d4a0d85d0c2e48955214783ecf50a4f0414a319c05a", True),
    ("60cd64b2cd2be6c33859b94875120361a24085f3765cb8b2bf11e026fa9d8855dbe435acf7882e84f3c7857f96e2baab4d9afe4588e4a82e17"
     "a78827bfdb5ddbd1c211fbc2e6d884cddd7cb9d90d5bf4a7311b83f352508033812c776a0e00c003c7e0d628e50736c7512df0acfa9f2320bd"
     "102229f46495ae6d0857cc452a84",
     "2d98ea01f754d34bbc3003df5050200abf445ec728556d7ed7d5c54c55552b6d",
     "9b52672742d637a32add056dfd6d8792f2a33c2e69dafabea09b960bc61e230a",
     "06108e525f845d0155bf60193222b3219c98e3d49424c2fb2a0987f825c17959",
     "62b5cdd591e5b507e560167ba8f6f7cda74673eb315680cb89ccbc4eec477dce", True),
    # F (3 - S changed)
    ("e4796db5f785f207aa30d311693b3702821dff1168fd2e04c0836825aefd850d9aa60326d88cde1a23c7745351392ca2288d632c264f197d05"
     "cd424a30336c19fd09bb229654f0222fcb881a4b35c290a093ac159ce13409111ff0358411133c24f5b8e2090d6db6558afc36f06ca1f6ef77"
     "9785adba68db27a409859fc4c4a0",
     "87f8f2b218f49845f6f10eec3877136269f5c1a54736dbdf69f89940cad41555",
     "e15f369036f49842fac7a86c8a2b0557609776814448b8f5e84aa9f4395205e9",
     "d19ff48b324915576416097d2544f7cbdf8768b1454ad20e0baac50e211f23b0",
     "a3e81e59311cdfff2d4784949f7a2cb50ba6c3a91fa54710568e61aca3e847c6", False),
    # F (2 - R changed)
    ("069a6e6b93dfee6df6ef6997cd80dd2182c36653cef10c655d524585655462d683877f95ecc6d6c81623d8fac4e900ed0019964094e7de91f1"
     "481989ae1873004565789cbf5dc56c62aedc63f62f3b894c9c6f7788c8ecaadc9bd0e81ad91b2b3569ea12260e93924fdddd3972af5273198f"
     "5efda0746219475017557616170e",
     "5cf02a00d205bdfee2016f7421807fc38ae69e6b7ccd064ee689fc1a94a9f7d2",
     "ec530ce3cc5c9d1af463f264d685afe2b4db4b5828d7e61b748930f3ce622a85",
     "dc23d130c6117fb5751201455e99f36f59aba1a6a21cf2d0e7481a97451d6693",
     "d6ce7708c18dbf35d4f8aa7240922dc6823f2e7058cbc1484fcad1599db5018c", False),
    # F (4 - Q changed)
    ("df04a346cf4d0e331a6db78cca2d456d31b0a000aa51441defdb97bbeb20b94d8d746429a393ba88840d661615e07def615a342abedfa4ce91"
     "2e562af714959896858af817317a840dcff85a057bb91a3c2bf90105500362754a6dd321cdd86128cfc5f04667b57aa78c112411e42da304f1"
     "012d48cd6a7052d7de44ebcc01de",
     "2ddfd145767883ffbb0ac003ab4a44346d08fa2570b3120dcce94562422244cb",
     "5f70c7d11ac2b7a435ccfbbae02c3df1ea6b532cc0e9db74f93fffca7c6f9a64",
     "9913111cff6f20c5bf453a99cd2c2019a4e749a49724a08774d14e4c113edda8",
     "9467cd4cd21ecb56b0cab0a9a453b43386845459127a952421f5c6382866c5cc", False),
    # F (1 - Message changed)
    ("1669bfb657fdc62c3ddd63269787fc1c969f1850fb04c933dda063ef74a56ce13e3a649700820f0061efabf849a85d474326c8a541d99830ee"
     "a8131eaea584f22d88c353965dabcdc4bf6b55949fd529507dfb803ab6b480cd73ca0ba00ca19c438849e2cea262a1c57d8f81cd257fb58e19"
     "dec7904da97d8386e87b84948169",
     "69b7667056e1e11d6caf6e45643f8b21e7a4bebda463c7fdbc13bc98efbd0214",
     "d3f9b12eb46c7c6fda0da3fc85bc1fd831557f9abc902a3be3cb3e8be7d1aa2f",
     "288f7a1cd391842cce21f00e6f15471c04dc182fe4b14d92dc18910879799790",
     "247b3c4e89a3bcadfea73c7bfd361def43715fa382b8c3edf4ae15d6e55e9979", False),
]


def test_rfc6979_signatures():
    for name, crypto in crypto_backends():
        assert crypto.p256_public_key(RFC6979_KEY) == RFC6979_PUBLIC, name
        for message, expected in RFC6979:
            assert crypto.ecdsa_sign(RFC6979_KEY, message) == unhex(expected), (name, message)
            crypto.ecdsa_verify(RFC6979_PUBLIC, message, unhex(expected))


def test_sigver_vectors():
    for name, crypto in crypto_backends():
        for msg, qx, qy, r, s, passes in SIGVER:
            public = b"\x04" + unhex(qx) + unhex(qy)
            signature = unhex(r) + unhex(s)
            if passes:
                crypto.ecdsa_verify(public, unhex(msg), signature)
            else:
                raises(InvalidSignatureError, crypto.ecdsa_verify, public, unhex(msg), signature)


def test_tampering_is_rejected():
    message, expected = RFC6979[0]
    signature = unhex(expected)
    for name, crypto in crypto_backends():
        raises(InvalidSignatureError, crypto.ecdsa_verify, RFC6979_PUBLIC, b"samplf", signature)
        for pos in (0, 31, 32, 63):
            bad = bytearray(signature)
            bad[pos] ^= 0x40
            raises(InvalidSignatureError, crypto.ecdsa_verify, RFC6979_PUBLIC, message, bytes(bad))
        # the other RFC 6979 key pair's signature does not verify under another key
        raises(InvalidSignatureError, crypto.ecdsa_verify, p256.encode_point(p256.G), message, signature)


def test_out_of_range_and_malformed_signatures():
    message, expected = RFC6979[0]
    r = unhex(expected)[:32]
    s = unhex(expected)[32:]
    n = p256.N.to_bytes(32, "big")
    s_plus_n = (int.from_bytes(s, "big") + p256.N) % 2**256
    for name, crypto in crypto_backends():
        for bad in (bytes(32) + s, r + bytes(32), n + s, r + n, b"\xff" * 64, r + s_plus_n.to_bytes(32, "big"),
                    unhex(expected)[:63], unhex(expected) + b"\x00", b""):
            raises(InvalidSignatureError, crypto.ecdsa_verify, RFC6979_PUBLIC, message, bad)
        raises(InvalidPointError, crypto.ecdsa_verify, RFC6979_PUBLIC[:64], message, unhex(expected))
        raises(InvalidPointError, crypto.ecdsa_verify, b"\x04" + bytes(64), message, unhex(expected))


def test_sign_rejects_bad_private_keys():
    for name, crypto in crypto_backends():
        for private in (bytes(32), p256.N.to_bytes(32, "big"), b"\x01" * 31, b"\x01" * 33):
            raises(InvalidScalarError, crypto.ecdsa_sign, private, b"message")


def test_sign_verify_round_trip_across_backends():
    backends = crypto_backends()
    count = 2 if IS_MICROPYTHON else 5
    for i in range(count):
        message = bytes(range(i * 13 % 200))
        for name, crypto in backends:
            private, public = crypto.p256_generate()
            signature = crypto.ecdsa_sign(private, message)
            assert len(signature) == 64
            for other_name, other in backends:
                other.ecdsa_verify(public, message, signature)
                raises(InvalidSignatureError, other.ecdsa_verify, public, message + b"!", signature)


def test_portable_digest_interface():
    import hashlib

    digest = hashlib.sha256(b"sample").digest()
    raw = ecdsa.sign_digest(hashlib.sha256, RFC6979_KEY, digest)
    assert raw == unhex(RFC6979[0][1])
    ecdsa.verify_digest(p256.decode_point(RFC6979_PUBLIC), digest, raw)
    raises(InvalidPointError, ecdsa.verify_digest, (1, 2), digest, raw)
    raises(InvalidSignatureError, ecdsa.verify_digest, RFC6979_PUBLIC, bytes(32), raw)


# --- DER ---------------------------------------------------------------------------------

SAMPLE_DER = (
    "3046"
    "022100EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
    "022100F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"
)
TEST_DER = (
    "3045"
    "022100F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367"
    "0220019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"
)


def test_der_round_trip():
    for (message, raw), der in zip(RFC6979, (SAMPLE_DER, TEST_DER)):
        assert ecdsa.raw_to_der(unhex(raw)) == unhex(der)
        assert ecdsa.der_to_raw(unhex(der)) == unhex(raw)
    small = bytes(31) + b"\x01" + bytes(31) + b"\x7f"
    assert ecdsa.raw_to_der(small) == unhex("300602010102017f")
    assert ecdsa.der_to_raw(unhex("300602010102017f")) == small
    # r = 0x80 << 240: 31 significant bytes with the top bit set, so a 0x00 is prepended
    high_bit = b"\x00\x80" + bytes(30) + bytes(31) + b"\x01"
    der = unhex("3025" "0220" "0080" + "00" * 30 + "020101")
    assert ecdsa.raw_to_der(high_bit) == der
    assert ecdsa.der_to_raw(der) == high_bit


def test_der_is_strict():
    good = unhex(TEST_DER)
    bad = [
        b"",
        good[:-1],  # truncated
        good + b"\x00",  # trailing byte
        b"\x31" + good[1:],  # SET, not SEQUENCE
        good[:1] + b"\x46" + good[2:],  # length too long
        good[:1] + b"\x81\x45" + good[2:],  # long-form length
        unhex("3045" "032100") + good[5:],  # not an INTEGER
        unhex("3007" "02020001" "020101"),  # non-minimal: 00 before a byte below 0x80
        unhex("3006" "020181" "020101"),  # negative
        unhex("3005" "0200" "020101"),  # empty INTEGER
        unhex("3027" "0222" "0000" + "ff" * 32 + "020101"),  # 34-byte INTEGER
        unhex("3026" "0221" "01" + "00" * 32 + "020101"),  # 33 bytes that do not fit 256 bits
        unhex("3003" "020101"),  # one INTEGER only
        unhex("3009" "020101" "020101" "020101"),  # three
    ]
    for data in bad:
        raises(InvalidSignatureError, ecdsa.der_to_raw, data)
    raises(InvalidSignatureError, ecdsa.raw_to_der, bytes(63))
