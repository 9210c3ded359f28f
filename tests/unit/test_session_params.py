"""Session parameters: defaults, ranges, the stored form."""

from micromatter.session.errors import SessionArgumentError, SessionParameterError
from micromatter.session.params import DEFAULT, ENCODED_LENGTH, SessionParameters, check_parameters
from support import raises, unhex


def test_spec_defaults():
    p = SessionParameters()
    assert (p.idle_interval_ms, p.active_interval_ms, p.active_threshold_ms) == (500, 300, 4000)
    assert p.max_paths_per_invoke == 1
    assert p == DEFAULT


def test_ranges():
    SessionParameters(idle_interval_ms=3600000, active_interval_ms=1, active_threshold_ms=0xFFFF)
    raises(SessionParameterError, SessionParameters, idle_interval_ms=3600001)
    raises(SessionParameterError, SessionParameters, active_interval_ms=0)
    raises(SessionParameterError, SessionParameters, active_threshold_ms=0x10000)
    raises(SessionParameterError, SessionParameters, data_model_revision=-1)
    raises(SessionParameterError, SessionParameters, specification_version=1 << 32)
    raises(SessionParameterError, SessionParameters, max_paths_per_invoke=0)
    raises(SessionParameterError, SessionParameters, idle_interval_ms="500")
    raises(SessionParameterError, SessionParameters, idle_interval_ms=True)
    assert issubclass(SessionParameterError, SessionArgumentError)


def test_stored_form():
    p = SessionParameters(5000, 300, 4000, 17, 11, 0x01030000, 5)
    buf = bytearray(ENCODED_LENGTH + 2)
    assert p.encode_into(buf, 2) == ENCODED_LENGTH
    assert bytes(buf[2:]) == unhex("88130000 2c010000 a00f 1100 0b00 00000301 0500")
    assert SessionParameters.decode_from(buf, 2) == p
    raises(SessionParameterError, SessionParameters.decode_from, buf, 3)
    zero = bytearray(ENCODED_LENGTH)  # an idle interval of 0 is out of range
    raises(SessionParameterError, SessionParameters.decode_from, zero, 0)


def test_with_intervals_and_equality():
    p = SessionParameters(5000, 300)
    q = p.with_intervals(active_interval_ms=200)
    assert (q.idle_interval_ms, q.active_interval_ms) == (5000, 200)
    assert q != p and p == SessionParameters(5000, 300)
    assert p != "x"
    assert "idle=5000" in repr(p)


def test_check_parameters():
    assert check_parameters(None) is DEFAULT
    p = SessionParameters(1000)
    assert check_parameters(p) is p
    raises(SessionParameterError, check_parameters, {"idle_interval_ms": 1})


def test_tlv_struct_round_trip_and_hand_built_bytes():
    from micromatter.tlv import TlvReader, TlvWriter

    p = SessionParameters(5000, 300, 4000, 17, 11, 0x01030000, 1)
    w = TlvWriter()
    p.write_tlv(w, 5)  # Sigma1's initiatorSessionParams is context tag 5
    data = w.getvalue()
    assert data == unhex("35 05  25 01 8813  25 02 2c01  25 03 a00f  24 04 11  24 05 0b  26 06 00000301  24 07 01  18")
    r = TlvReader(data)
    assert r.next() and r.tag == 5
    assert SessionParameters.read_tlv(r) == p
    assert not r.next()


def test_tlv_struct_from_an_older_peer():
    from micromatter.session.params import (
        FALLBACK_DATA_MODEL_REVISION,
        FALLBACK_INTERACTION_MODEL_REVISION,
        FALLBACK_SPECIFICATION_VERSION,
    )
    from micromatter.tlv import TlvReader

    # Only an idle interval (2000 ms), and an unknown field 9 that is skipped.
    r = TlvReader(unhex("15 25 01 d007 24 09 ff 18"))
    r.next()
    p = SessionParameters.read_tlv(r)
    assert (p.idle_interval_ms, p.active_interval_ms, p.active_threshold_ms) == (2000, 300, 4000)
    assert p.data_model_revision == FALLBACK_DATA_MODEL_REVISION
    assert p.interaction_model_revision == FALLBACK_INTERACTION_MODEL_REVISION
    assert p.specification_version == FALLBACK_SPECIFICATION_VERSION
    r = TlvReader(unhex("15 26 01 81ee3600 18"))  # 3600001 ms: over the one-hour ceiling
    r.next()
    raises(SessionParameterError, SessionParameters.read_tlv, r)
    from micromatter.errors import TlvError

    r = TlvReader(unhex("15 2c 01 03 616263 18"))  # a string where an interval belongs
    r.next()
    raises(TlvError, SessionParameters.read_tlv, r)
