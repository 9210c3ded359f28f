from micromatter import log


def test_level_filters_and_sink_receives_one_line():
    lines = []
    log.set_sink(lines.append)
    old = log.level
    try:
        log.set_level(log.INFO)
        log.debug("t", "hidden")
        log.info("session", "opened 0x1234")
        log.error("x", "bad")
    finally:
        log.set_sink(None)
        log.set_level(old)
    assert lines == ["I session: opened 0x1234", "E x: bad"]
