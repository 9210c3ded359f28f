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

