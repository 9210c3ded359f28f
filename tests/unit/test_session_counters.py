"""Message counters: session start values, exhaustion, the replay windows, the persisted global counter."""

from array import array

from flashsim import Flash, PowerCutStorage
from micromatter import log
from micromatter.session.counters import (
    BEHIND,
    DUPLICATE,
    NEW,
    PersistedCounter,
    ReplayWindows,
    initial_counter,
    next_unicast,
)
from micromatter.session.errors import CounterExhaustedError
from micromatter.session.slots import Slot
from micromatter.storage import MemoryStorage
from support import Rng, raises


def test_initial_counter_range():
    assert initial_counter(lambda n: b"\x00" * n) == 1
    assert initial_counter(lambda n: b"\xff" * n) == 1 << 28
    rng = Rng(5)
    for _ in range(200):
        v = initial_counter(rng.bytes)
        assert 1 <= v <= 1 << 28


def test_unicast_counter_exhausts_at_the_top():
    counters = array("I", [0xFFFFFFFD])
    assert next_unicast(counters, 0) == 0xFFFFFFFD
    assert next_unicast(counters, 0) == 0xFFFFFFFE
    raises(CounterExhaustedError, next_unicast, counters, 0)
    raises(CounterExhaustedError, next_unicast, counters, 0)
    assert counters[0] == 0xFFFFFFFF


def accept(w, i, counter):
    v = w.check(i, counter)
    if v == NEW:
        w.commit(i, counter)
    return v


def test_window_trusts_the_first_message():
    w = ReplayWindows(2)
    assert not w.is_synced(0)
    assert accept(w, 0, 1000) == NEW
    assert w.is_synced(0) and w.highest(0) == 1000
    assert not w.is_synced(1)


def test_window_duplicates_and_late_messages():
    w = ReplayWindows(1)
    accept(w, 0, 100)
    assert w.check(0, 100) == DUPLICATE
    assert accept(w, 0, 101) == NEW
    assert accept(w, 0, 105) == NEW
    # 102..104 were skipped: late but inside the window, each accepted once.
    assert accept(w, 0, 103) == NEW
    assert accept(w, 0, 103) == DUPLICATE
    assert accept(w, 0, 102) == NEW
    assert w.check(0, 101) == DUPLICATE
    assert w.check(0, 104) == NEW
    assert w.highest(0) == 105


def test_window_is_32_behind_the_highest():
    w = ReplayWindows(1)
    accept(w, 0, 1000)
    assert w.check(0, 1000 - 32) == NEW
    assert w.check(0, 1000 - 33) == BEHIND
    assert accept(w, 0, 1000 - 32) == NEW
    assert w.check(0, 1000 - 32) == DUPLICATE
    # Moving ahead by more than the window forgets everything behind.
    assert accept(w, 0, 1100) == NEW
    assert w.check(0, 1000) == BEHIND
    assert w.check(0, 1099) == NEW


def test_window_checking_changes_nothing():
    w = ReplayWindows(1)
    accept(w, 0, 50)
    for c in (10, 49, 50, 51, 1 << 31):
        w.check(0, c)
    assert w.highest(0) == 50
    assert w.check(0, 49) == NEW
    assert w.check(0, 51) == NEW


def test_window_ring_wraps_cleanly():
    # Step through many counters with gaps: the 64-bit ring must never report a stale bit.
    w = ReplayWindows(1)
    rng = Rng(9)
    seen = set()
    top = 1000
    accept(w, 0, top)
    seen.add(top)
    for _ in range(2000):
        c = top + 1 + rng.below(40) if rng.below(3) else top - rng.below(40)
        expected = NEW if (c > top or (top - c <= 32 and c not in seen)) else (DUPLICATE if c in seen and top - c <= 32 else BEHIND)
        if c == top:
            expected = DUPLICATE
        got = w.check(0, c)
        assert got == expected, (c, top, got, expected)
        if got == NEW:
            w.commit(0, c)
            seen.add(c)
            if c > top:
                top = c


def test_window_no_rollover_for_secure_sessions():
    w = ReplayWindows(1)
    accept(w, 0, 0xFFFFFFF0)
    assert w.check(0, 0xFFFFFFFF) == NEW
    assert w.check(0, 3) == BEHIND  # would be "after a wrap": not allowed on a unicast secure session


def test_window_rollover_for_unsecured_sessions():
    w = ReplayWindows(1, rollover=True)
    accept(w, 0, 0xFFFFFFFE)
    assert accept(w, 0, 0xFFFFFFFF) == NEW
    assert accept(w, 0, 2) == NEW  # wrapped
    assert w.highest(0) == 2
    assert w.check(0, 0xFFFFFFFF) == DUPLICATE
    assert w.check(0, 0) == NEW
    assert accept(w, 0, 1) == NEW
    # Far behind: a restarted peer; accepted and the window restarts there.
    assert accept(w, 0, 1000000) == NEW
    assert accept(w, 0, 500) == NEW
    assert w.highest(0) == 500
    assert w.check(0, 1000000) == NEW


def test_window_reset_and_start():
    w = ReplayWindows(3)
    accept(w, 1, 77)
    w.reset(1)
    assert not w.is_synced(1)
    assert w.check(1, 5) == NEW
    w.start(2, 900)
    assert w.check(2, 900) == DUPLICATE
    assert w.check(2, 899) == NEW


def test_persisted_counter_stays_ahead_across_reboots():
    storage = MemoryStorage()
    rng = Rng(3)
    c = PersistedCounter(Slot(storage, "gc", 1), rng.bytes, step=10)
    c.load()
    first = c.peek()
    used = [c.next() for _ in range(25)]
    assert used == list(range(first, first + 25))
    assert c.writes == 3  # at boot, then at +10 and +20
    # Reboot: the next value is past everything used.
    c2 = PersistedCounter(Slot(storage, "gc", 1), rng.bytes, step=10)
    nxt = c2.next()
    assert nxt > used[-1]
    assert nxt == first + 30


def test_persisted_counter_wraps():
    storage = MemoryStorage()
    c = PersistedCounter(Slot(storage, "gc", 1), lambda n: b"\xff" * n, step=4)
    c.load()
    c._next = 0xFFFFFFFE
    c._reserve(0xFFFFFFFF)
    assert [c.next() for _ in range(4)] == [0xFFFFFFFE, 0xFFFFFFFF, 0, 1]


def test_persisted_counter_power_cut_never_reuses():
    # Cut the power at every step of every reservation write: the value a reboot starts at is
    # always beyond every value handed out before the cut.
    flash = Flash()
    storage = PowerCutStorage(flash, "inplace")
    c = PersistedCounter(Slot(storage, "gc", 1), Rng(4).bytes, step=5)
    handed = []
    cuts = [0]

    def on_cut(snapshot):
        cuts[0] += 1
        fresh = PersistedCounter(Slot(PowerCutStorage(Flash(snapshot), "inplace"), "gc", 1), Rng(99).bytes, step=5)
        start = fresh.next()
        if handed:
            assert start > handed[-1], (start, handed[-1])

    flash.on_cut = on_cut
    lines = []
    log.set_sink(lines.append)
    try:
        c.load()
        for _ in range(23):
            handed.append(c.next())
    finally:
        log.set_sink(None)
    # 5 reservations of a 13-byte sealed value, cut before each byte and after the last.
    assert c.writes == 5
    assert cuts[0] == 5 * 14
    assert lines and all("gc0" in line for line in lines)  # the torn halves were dropped with a log line
