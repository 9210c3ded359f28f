from support import port, IS_MICROPYTHON


def test_port_matches_runtime():
    p = port()
    assert p.name == ("micropython" if IS_MICROPYTHON else "cpython")


def test_now_ms_is_monotonic():
    p = port()
    a = p.now_ms()
    b = p.now_ms()
    assert b >= a >= 0
