"""SPAKE2+ (micromatter.crypto.spake2p) on both runtimes.

Vectors: RFC 9383 appendix C (SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256; its key schedule differs from
Matter's, so w0/w1 -> L, X, Y, Z, V and the transcript hash K_main are compared), connectedhomeip's
src/crypto/tests/SPAKE2P_RFC_test_vectors.h (draft-01, Matter's key schedule: Ka, Ke, KcA, KcB, cA, cB),
and the SDK's test passcode verifier (20202021, "SPAKE2P Key Salt", 1000 iterations).
"""

from binascii import a2b_base64

from micromatter.crypto import p256, spake2p
from micromatter.errors import (
    AuthenticationError,
    InvalidLengthError,
    InvalidParameterError,
    InvalidPointError,
    InvalidScalarError,
)
from support import Rng, crypto_backends, port, raises, unhex


def _int(text):
    return int.from_bytes(unhex(text), "big")


# RFC 9383 appendix C.
RFC_CONTEXT = b"SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256 Test Vectors"
RFC_W0 = _int("bb8e1bbcf3c48f62c08db243652ae55d3e5586053fca77102994f23ad95491b3")
RFC_W1 = _int("7e945f34d78785b8a3ef44d0df5a1a97d6b3b460409a345ca7830387a74b1dba")
RFC_L = unhex("04eb7c9db3d9a9eb1f8adab81b5794c1f13ae3e225efbe91ea487425854c7fc00f"
              "00bfedcbd09b2400142d40a14f2064ef31dfaa903b91d1faea7093d835966efd")
RFC_X_SCALAR = _int("d1232c8e8693d02368976c174e2088851b8365d0d79a9eee709c6a05a2fad539")
RFC_Y_SCALAR = _int("717a72348a182085109c8d3917d6c43d59b224dc6a7fc4f0483232fa6516d8b3")
RFC_SHARE_P = unhex("04ef3bd051bf78a2234ec0df197f7828060fe9856503579bb1733009042c15c0c1"
                    "de127727f418b5966afadfdd95a6e4591d171056b333dab97a79c7193e341727")
RFC_SHARE_V = unhex("04c0f65da0d11927bdf5d560c69e1d7d939a05b0e88291887d679fcadea75810fb"
                    "5cc1ca7494db39e82ff2f50665255d76173e09986ab46742c798a9a68437b048")
RFC_Z = unhex("04bbfce7dd7f277819c8da21544afb7964705569bdf12fb92aa388059408d50091"
              "a0c5f1d3127f56813b5337f9e4e67e2ca633117a4fbd559946ab474356c41839")
RFC_V = unhex("0458bf27c6bca011c9ce1930e8984a797a3419797b936629a5a937cf2f11c8b951"
              "4b82b993da8a46e664f23db7c01edc87faa530db01c2ee405230b18997f16b68")
RFC_K_MAIN = unhex("4c59e1ccf2cfb961aa31bd9434478a1089b56cd11542f53d3576fb6c2a438a29")

# connectedhomeip SPAKE2P_RFC_test_vectors.h (draft-01): shared w0, w1, L; vectors 1 (client/server)
# and 4 (both identities empty, Matter's form).
SDK_CONTEXT = b"SPAKE2+-P256-SHA256-HKDF draft-01"
SDK_W0 = _int("e6887cf9bdfb7579c69bf47928a84514b5e355ac034863f7ffaf4390e67d798c")
SDK_W1 = _int("24b5ae4abda868ec9336ffc3b78ee31c5755bef1759227ef5372ca139b94e512")
SDK_L = unhex("0495645cfb74df6e58f9748bb83a86620bab7c82e107f57d6870da8cbcb2ff9f70"
              "63a14b6402c62f99afcb9706a4d1a143273259fe76f1c605a3639745a92154b9")
SDK_VECTORS = (
    dict(
        id_prover=b"client", id_verifier=b"server",
        x="8b0f3f383905cf3a3bb955ef8fb62e24849dd349a05ca79aafb18041d30cbdb6",
        X="04af09987a593d3bac8694b123839422c3cc87e37d6b41c1d630f000dd64980e53"
          "7ae704bcede04ea3bec9b7475b32fa2ca3b684be14d11645e38ea6609eb39e7e",
        y="2e0895b0e763d6d5a9564433e64ac3cac74ff897f6c3445247ba1bab40082a91",
        Y="04417592620aebf9fd203616bbb9f121b730c258b286f890c5f19fea833a9c900c"
          "be9057bc549a3e19975be9927f0e7614f08d1f0a108eede5fd7eb5624584a4f4",
        Z="0471a35282d2026f36bf3ceb38fcf87e3112a4452f46e9f7b47fd769cfb570145b"
          "62589c76b7aa1eb6080a832e5332c36898426912e29c40ef9e9c742eee82bf30",
        V="046718981bf15bc4db538fc1f1c1d058cb0eececf1dbe1b1ea08a4e25275d382e8"
          "2b348c8131d8ed669d169c2e03a858db7cf6ca2853a4071251a39fbe8cfc39bc",
        Ka="f9cab9adcc0ed8e5a4db11a8505914b2", Ke="801db297654816eb4f02868129b9dc89",
        KcA="0d248d7d19234f1486b2efba5179c52d", KcB="556291df26d705a2caedd6474dd0079b",
        cA="d4376f2da9c72226dd151b77c2919071155fc22a2068d90b5faa6c78c11e77dd",
        cB="0660a680663e8c5695956fb22dff298b1d07a526cf3cc591adfecd1f6ef6e02e",
    ),
    dict(
        id_prover=b"", id_verifier=b"",
        x="5b478619804f4938d361fbba3a20648725222f0a54cc4c876139efe7d9a21786",
        X="04a6db23d001723fb01fcfc9d08746c3c2a0a3feff8635d29cad2853e735862342"
          "5cf39712e928054561ba71e2dc11f300f1760e71eb177021a8f85e78689071cd",
        y="766770dad8c8eecba936823c0aed044b8c3c4f7655e8beec44a15dcbcaf78e5e",
        Y="04390d29bf185c3abf99f150ae7c13388c82b6be0c07b1b8d90d26853e84374bbd"
          "c82becdb978ca3792f472424106a2578012752c11938fcf60a41df75ff7cf947",
        Z="040a150d9a62f514c9a1fedd782a0240a342721046cefb1111c3adb3be893ce9fc"
          "d2ffa137922fcf8a588d0f76ba9c55c85da2af3f1c789ca17976810387fb1d7e",
        V="04f8e247cc263a1846272f5a3b61b68aa60a5a2665d10cd22c89cd6bad05dc0e5e"
          "650f21ff017186cc92651a4cd7e66ce88f529299f340ea80fb90a9bad094e1a6",
        Ka="5929a3ce9822c81401bf0f764f69af08", Ke="ea3276d68334576097e04b19ee5a3a8b",
        KcA="7f84b939d600117256b0c8a6d40cf181", KcB="f7d7547ced93f681e8df4c258c4516fd",
        cA="71d9412779b6c45a2c615c9df3f1fd93dc0aaf63104da8ece4aa1b5a3a415fea",
        cB="095dc0400355cc233fde7437811815b3c1524aae80fd4e6810cf531cf11d20e3",
    ),
)

# connectedhomeip's test commissioning values (CHIPDeviceConfig test verifier, spake2p tool docs).
SDK_PASSCODE = 20202021
SDK_SALT = b"SPAKE2P Key Salt"
SDK_VERIFIER = a2b_base64(
    "uWFwqugDNGiEck/po7KHwwMwwqZgN10XuyBajPGuyzUEV/iree4lOrao5GuwnlQ65CJzbeUB49s31EH+"
    "NEkg0JVI5MGCQGMMT/SRPFNRODm3wH/MBiehuFc6FJ/NH6Rmzw=="
)
SDK_PASSCODE_W1 = _int("823d264225e36f4923b43ad64f8c862a30f4a129bbf9ee8074a32d6d67586a90")


def test_m_and_n_are_the_rfc_points():
    # The published compressed forms: 02 | x(M) and 03 | x(N); the stored y must have that parity.
    for point, compressed in (
        (spake2p.M, "02886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f"),
        (spake2p.N, "03d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49"),
    ):
        data = unhex(compressed)
        assert p256.is_on_curve(point)
        assert point[0] == int.from_bytes(data[1:], "big")
        assert point[1] & 1 == data[0] - 2
    assert spake2p.M_BYTES == p256.encode_point(spake2p.M) and spake2p.N_BYTES[0] == 4


def test_rfc9383_shares_points_and_transcript():
    for _, crypto in crypto_backends():
        assert p256.encode_point(p256.mul_base(RFC_W1)) == RFC_L
        prover = spake2p.Prover(crypto, RFC_CONTEXT, RFC_W0, RFC_W1, RFC_X_SCALAR, b"client", b"server")
        verifier = spake2p.Verifier(crypto, RFC_CONTEXT, RFC_W0, p256.decode_point(RFC_L), RFC_Y_SCALAR,
                                    b"client", b"server")
        assert prover.X == RFC_SHARE_P
        assert verifier.Y == RFC_SHARE_V
        Y, cB = verifier.respond(prover.X)
        prover.finish(Y, cB)
        for party in (prover, verifier):
            assert party.Z == RFC_Z and party.V == RFC_V
            assert party.tt_hash == RFC_K_MAIN  # the same transcript layout as Matter's
        assert prover.ke == verifier.confirm(prover.cA)


def test_sdk_draft01_vectors_full_key_schedule():
    for _, crypto in crypto_backends():
        L = p256.decode_point(SDK_L)
        assert p256.mul_base(SDK_W1) == L
        for v in SDK_VECTORS:
            prover = spake2p.Prover(crypto, SDK_CONTEXT, SDK_W0, SDK_W1, _int(v["x"]), v["id_prover"], v["id_verifier"])
            verifier = spake2p.Verifier(crypto, SDK_CONTEXT, SDK_W0, L, _int(v["y"]), v["id_prover"], v["id_verifier"])
            assert prover.X == unhex(v["X"])
            Y, cB = verifier.respond(prover.X)
            assert Y == unhex(v["Y"]) and cB == unhex(v["cB"])
            cA = prover.finish(Y, cB)
            assert cA == unhex(v["cA"])
            for party in (prover, verifier):
                assert party.Z == unhex(v["Z"]) and party.V == unhex(v["V"])
                assert party.ka == unhex(v["Ka"]) and party.ke == unhex(v["Ke"])
                assert party.kca == unhex(v["KcA"]) and party.kcb == unhex(v["KcB"])
            assert verifier.confirm(cA) == unhex(v["Ke"])
            assert verifier.confirmed


def test_sdk_test_passcode_verifier():
    crypto = port().crypto
    w0, w1 = spake2p.compute_w0_w1(crypto, SDK_PASSCODE, SDK_SALT, 1000)
    assert w1 == SDK_PASSCODE_W1
    assert p256.scalar_to_bytes(w0) == SDK_VERIFIER[:32]
    verifier = spake2p.PasscodeVerifier.from_passcode(crypto, SDK_PASSCODE, SDK_SALT, 1000)
    assert verifier.encode() == SDK_VERIFIER
    assert spake2p.PasscodeVerifier.decode(SDK_VERIFIER) == verifier
    assert spake2p.PasscodeVerifier.decode(bytearray(SDK_VERIFIER)).L == p256.mul_base(w1)
    other = spake2p.PasscodeVerifier.from_passcode(crypto, SDK_PASSCODE + 1, SDK_SALT, 1000)
    assert other != verifier and other.w0 != verifier.w0


class _FixedPbkdf:
    """A crypto whose PBKDF2 returns fixed bytes and records its arguments."""

    def __init__(self, output):
        self.output = output
        self.calls = []

    def pbkdf2_sha256(self, password, salt, iterations, length):
        self.calls.append((password, salt, iterations, length))
        return self.output[:length]


def test_w0_w1_are_40_byte_halves_reduced_mod_n():
    n = p256.N
    ones = _FixedPbkdf(b"\xff" * 80)
    w0, w1 = spake2p.compute_w0_w1(ones, 0x01020304, b"s" * 16, 1000)
    assert w0 == ((1 << 320) - 1) % n and w1 == w0
    assert ones.calls == [(b"\x04\x03\x02\x01", b"s" * 16, 1000, 80)]  # passcode as u32 little-endian
    rng = Rng(7)
    data = rng.bytes(80)
    w0, w1 = spake2p.compute_w0_w1(_FixedPbkdf(data), 1, b"s" * 32, 100000)
    assert w0 == int.from_bytes(data[:40], "big") % n and w1 == int.from_bytes(data[40:], "big") % n


def test_pbkdf_parameter_ranges():
    check = spake2p.check_pbkdf_parameters
    for salt, iterations in ((b"s" * 16, 1000), (b"s" * 32, 100000), (bytearray(20), 5000)):
        check(salt, iterations)
    raises(InvalidLengthError, check, b"s" * 15, 1000)
    raises(InvalidLengthError, check, b"s" * 33, 1000)
    raises(InvalidLengthError, check, "s" * 16, 1000)
    raises(InvalidParameterError, check, b"s" * 16, 999)
    raises(InvalidParameterError, check, b"s" * 16, 100001)
    raises(InvalidParameterError, check, b"s" * 16, True)
    crypto = port().crypto
    for passcode in (-1, 1 << 27, "20202021", None):
        raises(InvalidParameterError, spake2p.compute_w0_w1, crypto, passcode, b"s" * 16, 1000)
    raises(InvalidLengthError, spake2p.compute_w0_w1, crypto, 1, b"s" * 8, 1000)


def _pair(crypto, w0=11, w1=22, prover_w0=None, prover_w1=None, seed=3):
    rng = Rng(seed)
    L = p256.mul_base(w1)
    context = rng.bytes(32)
    prover = spake2p.Prover(crypto, context, w0 if prover_w0 is None else prover_w0,
                            w1 if prover_w1 is None else prover_w1, spake2p.random_scalar(rng.bytes))
    verifier = spake2p.Verifier(crypto, context, w0, L, spake2p.random_scalar(rng.bytes))
    return prover, verifier


def test_random_runs_agree_and_differ_per_run():
    for _, crypto in crypto_backends():
        secrets = []
        for seed in (1, 2):
            prover, verifier = _pair(crypto, seed=seed)
            Y, cB = verifier.respond(prover.X)
            cA = prover.finish(Y, cB)
            assert verifier.confirm(cA) == prover.ke and len(prover.ke) == 16
            secrets.append(prover.ke)
        assert secrets[0] != secrets[1]
    # The default scalars come from the crypto's own randomness.
    crypto = port().crypto
    a = spake2p.Prover(crypto, b"c", 1, 2)
    b = spake2p.Prover(crypto, b"c", 1, 2)
    assert a.X != b.X


def test_wrong_passcode_fails_confirmation_on_both_sides():
    crypto = port().crypto
    # Wrong w0 and w1 (another passcode): the prover rejects cB and gives out no cA.
    prover, verifier = _pair(crypto, prover_w0=12, prover_w1=23)
    Y, cB = verifier.respond(prover.X)
    e = raises(spake2p.ConfirmationError, prover.finish, Y, cB)
    assert isinstance(e, AuthenticationError) and prover.cA is None
    # Right w0 but wrong w1: only V differs, which the confirmation still catches.
    prover, verifier = _pair(crypto, prover_w1=23)
    Y, cB = verifier.respond(prover.X)
    raises(spake2p.ConfirmationError, prover.finish, Y, cB)
    # A prover that skips its check and sends its cA anyway (computed here by hand) is caught by the verifier.
    x, w0, w1 = 5, 11, 23
    context = b"context"
    verifier = spake2p.Verifier(crypto, context, w0, p256.mul_base(22), 7)
    X = p256.encode_point(p256.mul_add(x, p256.G, w0, spake2p.M))
    Y, cB = verifier.respond(X)
    T = p256.add(p256.decode_point(Y), p256.negate(p256.mul(w0, spake2p.N)))
    Z, V = p256.encode_point(p256.mul(x, T)), p256.encode_point(p256.mul(w1, T))
    assert Z == verifier.Z and V != verifier.V  # only the w1 part differs
    tt = spake2p.transcript_hash(crypto, context, b"", b"", X, Y, Z, V, w0)
    kca = crypto.hkdf_sha256(tt[:16], b"", b"ConfirmationKeys", 32)[:16]
    raises(spake2p.ConfirmationError, verifier.confirm, crypto.hmac_sha256(kca, Y))
    assert not verifier.confirmed


def test_tampered_confirmations_and_lengths():
    crypto = port().crypto
    prover, verifier = _pair(crypto)
    Y, cB = verifier.respond(prover.X)
    bad = bytearray(cB)
    bad[31] ^= 1
    raises(spake2p.ConfirmationError, prover.finish, Y, bytes(bad))
    prover, verifier = _pair(crypto)
    Y, cB = verifier.respond(prover.X)
    raises(spake2p.ConfirmationError, prover.finish, Y, cB[:31])
    prover, verifier = _pair(crypto)
    Y, cB = verifier.respond(prover.X)
    cA = prover.finish(Y, cB)
    raises(spake2p.ConfirmationError, verifier.confirm, cA + b"\x00")
    bad = bytearray(cA)
    bad[0] ^= 0x80
    raises(spake2p.ConfirmationError, verifier.confirm, bytes(bad))
    assert verifier.confirm(cA) == prover.ke  # the right one still verifies afterwards


def test_invalid_and_cancelling_shares():
    crypto = port().crypto
    prover, verifier = _pair(crypto)
    bad = bytearray(prover.X)
    bad[64] ^= 1
    raises(InvalidPointError, verifier.respond, bytes(bad))
    prover, verifier = _pair(crypto)
    raises(InvalidPointError, verifier.respond, prover.X[:33])
    raises(InvalidPointError, _pair(crypto)[1].respond, b"\x02" + prover.X[1:])
    # X = w0*M makes X - w0*M the identity (Z would be too): refused.
    w0 = 11
    raises(InvalidPointError, _pair(crypto, w0=w0)[1].respond, p256.encode_point(p256.mul(w0, spake2p.M)))
    # Y = w0*N likewise on the prover's side.
    prover, verifier = _pair(crypto, w0=w0)
    raises(InvalidPointError, prover.finish, p256.encode_point(p256.mul(w0, spake2p.N)), b"\x00" * 32)


def test_state_and_argument_errors():
    crypto = port().crypto
    prover, verifier = _pair(crypto)
    raises(spake2p.Spake2pStateError, verifier.confirm, b"\x00" * 32)
    Y, cB = verifier.respond(prover.X)
    raises(spake2p.Spake2pStateError, verifier.respond, prover.X)
    prover.finish(Y, cB)
    raises(spake2p.Spake2pStateError, prover.finish, Y, cB)
    L = p256.mul_base(5)
    for bad in (-1, p256.N, "1", None, True):
        raises(InvalidScalarError, spake2p.Prover, crypto, b"", bad, 1)
        raises(InvalidScalarError, spake2p.Verifier, crypto, b"", bad, L)
    raises(InvalidScalarError, spake2p.Prover, crypto, b"", 1, 2, 0)
    raises(InvalidScalarError, spake2p.Verifier, crypto, b"", 1, L, 0)
    raises(InvalidPointError, spake2p.Verifier, crypto, b"", 1, (1, 2))
    raises(InvalidPointError, spake2p.Verifier, crypto, b"", 1, None)
    # What is not bytes is refused with a specific error, before any arithmetic.
    raises(InvalidLengthError, spake2p.Prover, crypto, None, 1, 2)
    raises(InvalidLengthError, spake2p.Verifier, crypto, "context", 1, L)
    raises(InvalidLengthError, spake2p.Prover, crypto, b"", 1, 2, None, 5)
    prover, verifier = _pair(crypto)
    raises(InvalidLengthError, verifier.respond, None)
    prover, verifier = _pair(crypto)
    Y, cB = verifier.respond(prover.X)
    raises(InvalidLengthError, prover.finish, Y, None)
    raises(InvalidLengthError, _pair(crypto)[0].finish, "Y", cB)
    raises(InvalidLengthError, verifier.confirm, 5)


def test_verifier_serialization_rejects_bad_input():
    good = SDK_VERIFIER
    raises(InvalidLengthError, spake2p.PasscodeVerifier.decode, good[:96])
    raises(InvalidLengthError, spake2p.PasscodeVerifier.decode, good + b"\x00")
    bad = bytearray(good)
    bad[96] ^= 1
    raises(InvalidPointError, spake2p.PasscodeVerifier.decode, bytes(bad))
    raises(InvalidScalarError, spake2p.PasscodeVerifier.decode, b"\xff" * 32 + good[32:])
    raises(InvalidPointError, spake2p.PasscodeVerifier, 1, (1, 1))
    for not_bytes in (None, 97, "x" * 97):
        raises(InvalidLengthError, spake2p.PasscodeVerifier.decode, not_bytes)


def test_constant_time_equal():
    assert spake2p.equal(b"abc", b"abc") and spake2p.equal(b"", b"")
    assert not spake2p.equal(b"abc", b"abd") and not spake2p.equal(b"abc", b"ab")
    assert spake2p.equal(bytearray(b"xy"), memoryview(b"xy"))
