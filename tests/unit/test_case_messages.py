"""The CASE message codecs (micromatter.securechannel.sigma) on both runtimes: the TLV layout field by field,
round trips, and the SDK's Sigma1 parsing cases (lengths, session id range, wrong tags, no end)."""

from micromatter.errors import TlvError
from micromatter.securechannel import session_params
from micromatter.securechannel.sigma import (
    CaseFieldRangeError,
    CaseMessageError,
    Sigma1,
    Sigma2,
    Sigma2Resume,
    Sigma3,
    TbeData,
    tbs_data,
)
from micromatter.session.params import SessionParameters
from micromatter.tlv import TlvDuplicateTagError, TlvWriter, decode, encode, profile_tag
from support import raises, unhex

R = bytes(range(32))
DEST = bytes(range(100, 132))
KEY = b"\x04" + bytes(range(1, 65))
RID = bytes(range(200, 216))
MIC = bytes(range(16, 32))
PARAMS = SessionParameters(idle_interval_ms=800, active_interval_ms=400)


def _params_tlv(tag, params):
    w = TlvWriter()
    session_params.encode(w, tag, params)
    return w.getvalue()


def test_sigma1_layout():
    got = Sigma1(R, 0x1234, DEST, KEY).encode()
    expected = (b"\x15" + b"\x30\x01\x20" + R + b"\x25\x02\x34\x12" + b"\x30\x03\x20" + DEST
                + b"\x30\x04\x41" + KEY + b"\x18")
    assert got == expected
    full = Sigma1(R, 7, DEST, KEY, PARAMS, RID, MIC).encode()
    assert full == (expected[:36] + b"\x24\x02\x07" + expected[40:-1] + _params_tlv(5, PARAMS)
                    + b"\x30\x06\x10" + RID + b"\x30\x07\x10" + MIC + b"\x18")
    s = Sigma1.decode(full)
    assert (s.initiator_random, s.initiator_session_id, s.destination_id, s.initiator_eph_pub_key) == (R, 7, DEST, KEY)
    assert s.initiator_session_params == PARAMS and s.resumption_id == RID and s.initiator_resume_mic == MIC
    assert s.resumption_requested and not Sigma1.decode(got).resumption_requested


def test_sigma2_sigma3_resume_layout():
    enc = bytes(range(90)) * 3
    s2 = Sigma2(R, 0xBEEF, KEY, enc, PARAMS).encode()
    assert s2 == (b"\x15\x30\x01\x20" + R + b"\x25\x02\xef\xbe" + b"\x30\x03\x41" + KEY + b"\x31\x04\x0e\x01" + enc
                  + _params_tlv(5, PARAMS) + b"\x18")
    d = Sigma2.decode(s2)
    assert (d.responder_random, d.responder_session_id, d.responder_eph_pub_key, d.encrypted2) == (R, 0xBEEF, KEY, enc)
    assert d.responder_session_params == PARAMS
    assert Sigma2.decode(Sigma2(R, 1, KEY, enc).encode()).responder_session_params is None
    s3 = Sigma3(enc[:100]).encode()
    assert s3 == b"\x15\x30\x01\x64" + enc[:100] + b"\x18" and Sigma3.decode(s3).encrypted3 == enc[:100]
    r = Sigma2Resume(RID, MIC, 0x0102, PARAMS).encode()
    assert r == b"\x15\x30\x01\x10" + RID + b"\x30\x02\x10" + MIC + b"\x25\x03\x02\x01" + _params_tlv(4, PARAMS) + b"\x18"
    d = Sigma2Resume.decode(r)
    assert (d.resumption_id, d.sigma2_resume_mic, d.responder_session_id, d.responder_session_params) == (
        RID, MIC, 0x0102, PARAMS)


def test_tbe_and_tbs_layout():
    noc, icac, sig = bytes(range(250)), bytes(range(30, 60)), bytes(range(64))
    tbe2 = TbeData(noc, icac, sig, RID).encode()
    assert tbe2 == (b"\x15\x30\x01\xfa" + noc + b"\x30\x02\x1e" + icac + b"\x30\x03\x40" + sig + b"\x30\x04\x10" + RID
                    + b"\x18")
    d = TbeData.decode(tbe2, True)
    assert (d.noc, d.icac, d.signature, d.resumption_id) == (noc, icac, sig, RID)
    tbe3 = TbeData(noc, None, sig).encode()
    assert tbe3 == b"\x15\x30\x01\xfa" + noc + b"\x30\x03\x40" + sig + b"\x18"
    d = TbeData.decode(tbe3, False)
    assert d.icac is None and d.resumption_id is None
    raises(CaseMessageError, TbeData.decode, tbe3, True)  # TBEData2 needs the resumption id
    raises(CaseFieldRangeError, TbeData.decode, tbe2, False)  # TBEData3 has none
    other = b"\x04" + bytes(range(64, 128))
    assert tbs_data(noc, icac, KEY, other) == (b"\x15\x30\x01\xfa" + noc + b"\x30\x02\x1e" + icac + b"\x30\x03\x41"
                                                + KEY + b"\x30\x04\x41" + other + b"\x18")
    assert tbs_data(noc, None, KEY, other) == (b"\x15\x30\x01\xfa" + noc + b"\x30\x03\x41" + KEY + b"\x30\x04\x41"
                                               + other + b"\x18")


def _sigma1_struct(random_len=32, sid=1, dest_len=32, key_len=65, rid_len=0, mic_len=0, tag=None, end=True):
    """The SDK's EncodeSigma1 test shapes: field lengths, session id, tag form, struct end."""
    w = TlvWriter()
    w.start_struct(None)
    t = tag or (lambda n: n)
    w.bytes(t(1), bytes([1]) * random_len)
    w.uint(t(2), sid)
    w.bytes(t(3), bytes([2]) * dest_len)
    w.bytes(t(4), b"\x04" + bytes([3]) * (key_len - 1))
    if rid_len:
        w.bytes(t(6), bytes([4]) * rid_len)
    if mic_len:
        w.bytes(t(7), bytes([5]) * mic_len)
    if end:
        w.end_container()
        return w.getvalue()
    return w.getvalue()


def test_sigma1_parsing_cases_of_the_sdk():
    assert Sigma1.decode(_sigma1_struct()).initiator_session_id == 1
    assert Sigma1.decode(_sigma1_struct(sid=0xFFFF)).initiator_session_id == 0xFFFF
    assert Sigma1.decode(_sigma1_struct(rid_len=16, mic_len=16)).resumption_requested
    bad = (
        dict(random_len=33), dict(random_len=31), dict(dest_len=33), dict(dest_len=31), dict(key_len=66),
        dict(key_len=64), dict(rid_len=17, mic_len=16), dict(rid_len=15), dict(rid_len=16, mic_len=15),
        dict(rid_len=16), dict(mic_len=16), dict(sid=0x10000), dict(sid=0),
        dict(tag=lambda n: profile_tag(0, 0, n)),
    )
    for shape in bad:
        raises((CaseMessageError, TlvError), Sigma1.decode, _sigma1_struct(**shape))
    raises(TlvError, Sigma1.decode, _sigma1_struct()[:-1])  # no end of structure


def test_decoders_reject_malformed_payloads():
    good = Sigma1(R, 7, DEST, KEY).encode()
    for junk in (b"", b"\x18", b"\x15\x18", b"\x16\x18", b"\x35\x01\x18", good + b"\x00", b"\x00\x01"):
        raises((CaseMessageError, TlvError), Sigma1.decode, junk)
    dup = good[:-1] + b"\x24\x02\x09\x18"
    raises(TlvDuplicateTagError, Sigma1.decode, dup)
    wrong_type = encode({1: R, 2: "seven", 3: DEST, 4: KEY})
    raises(CaseMessageError, Sigma1.decode, wrong_type)
    as_bytes = encode({1: R, 2: b"\x07", 3: DEST, 4: KEY})
    raises(CaseMessageError, Sigma1.decode, as_bytes)
    not_a_point = encode({1: R, 2: 7, 3: DEST, 4: b"\x02" + KEY[1:]})
    raises(CaseFieldRangeError, Sigma1.decode, not_a_point)
    params_not_struct = encode({1: R, 2: 7, 3: DEST, 4: KEY, 5: 1})
    raises(session_params.SessionParametersError, Sigma1.decode, params_not_struct)
    # Unknown tags are skipped, as the SDK does.
    assert Sigma1.decode(encode({1: R, 2: 7, 3: DEST, 4: KEY, 9: b"later", 200: 5})).initiator_session_id == 7
    raises(CaseMessageError, Sigma2.decode, encode({1: R, 2: 1, 3: KEY, 4: bytes(16)}))  # encrypted too short
    raises(CaseMessageError, Sigma3.decode, encode({1: bytes(2000)}))
    raises(CaseMessageError, Sigma2Resume.decode, encode({1: RID, 2: MIC}))
    raises(CaseFieldRangeError, Sigma2Resume.decode, encode({1: RID, 2: MIC, 3: 0}))
    raises(CaseMessageError, TbeData.decode, encode({1: bytes(401), 3: bytes(64)}), False)
    raises(CaseMessageError, TbeData.decode, encode({1: b"n", 3: bytes(63)}), False)
    for not_bytes in (None, 5, "text", [0x15, 0x18]):
        for decode in (Sigma1.decode, Sigma2.decode, Sigma3.decode, Sigma2Resume.decode):
            raises(CaseMessageError, decode, not_bytes)
        raises(CaseMessageError, TbeData.decode, not_bytes, True)


def test_constructors_check_fields():
    raises(CaseMessageError, Sigma1, R[:31], 1, DEST, KEY)
    raises(CaseFieldRangeError, Sigma1, R, 0, DEST, KEY)
    raises(CaseFieldRangeError, Sigma1, R, True, DEST, KEY)
    raises(CaseFieldRangeError, Sigma1, R, 1, DEST, KEY, None, RID, None)
    raises(CaseMessageError, Sigma1, R, 1, DEST, KEY, "params")
    raises(CaseMessageError, Sigma2, R, 1, KEY, b"x" * 16)
    raises(CaseMessageError, Sigma2Resume, RID, MIC[:15], 1)
    raises(CaseMessageError, TbeData, b"", None, bytes(64))
    raises(CaseMessageError, TbeData, b"n", None, bytes(64), bytes(15))
    assert decode(Sigma3(bytes(17)).encode()) == {1: bytes(17)}
