"""MRP (micromatter.mrp) on both runtimes: the backoff formula's exact bounds, the ack and retransmission
tables, and reliability through two exchange layers back to back with a fake clock: exact retransmission
times (idle, active, and crossing the active threshold), piggybacked and standalone acks, duplicates acked
but not delivered, exhaustion (session defunct, event), and the bounded retransmission table."""

from micromatter.exchange import BUSY, DELIVERY_FAILED, DeliveryFailed
from micromatter.mrp import (
    MAX_TRANSMISSIONS,
    NO_ACK,
    STANDALONE_ACK_TIMEOUT_MS,
    Mrp,
    MrpArgumentError,
    RetransmissionTableFullError,
    backoff_ms,
)
from micromatter.securechannel.opcodes import STANDALONE_ACK
from micromatter.session.params import SessionParameters
from exchangekit import ECHO_PROTOCOL, Node, Wire, ask, loud, quiet, secure_pair
from support import Rng, raises


def _pow(a, k):
    r = 1
    for _ in range(k):
        r *= a
    return r


def test_backoff_matches_the_spec_formula_at_both_jitter_ends():
    # t = i * 1.1 * 1.6^max(0, n-1) * (1 + 0.25 * r), n = transmissions so far - 1, r in [0, 1).
    for interval in (1, 10, 300, 500, 4000, 3600000):
        for sends in range(1, 6):
            k = max(0, sends - 2)
            exact_low = interval * 11 * _pow(16, k) // (10 * _pow(10, k))  # floor(i * 1.1 * 1.6^k)
            assert backoff_ms(interval, sends, 0) == exact_low
            top = backoff_ms(interval, sends, 255)
            scale = 10 * _pow(10, k)  # i * 1.1 * 1.6^k = i * 11 * 16^k / scale
            # r = 255/256, the largest jitter: floor(i * 1.1 * 1.6^k * 1279/1024), below the open bound 1.25.
            assert top * scale * 1024 <= interval * 11 * _pow(16, k) * 1279 < (top + 1) * scale * 1024
            assert top * scale * 4 < 5 * interval * 11 * _pow(16, k)
            previous = -1
            for j in range(256):
                b = backoff_ms(interval, sends, j)
                assert previous <= b
                previous = b


def test_backoff_default_intervals():
    # The spec's defaults: idle 500 ms, active 300 ms; the five waits and the worst case in all.
    assert [(backoff_ms(500, n, 0), backoff_ms(500, n, 255)) for n in range(1, 6)] == [
        (550, 686), (550, 686), (880, 1099), (1408, 1758), (2252, 2813)]
    assert [(backoff_ms(300, n, 0), backoff_ms(300, n, 255)) for n in range(1, 6)] == [
        (330, 412), (330, 412), (528, 659), (844, 1055), (1351, 1688)]
    assert sum(backoff_ms(500, n, 255) for n in range(1, 6)) == 7042
    assert MAX_TRANSMISSIONS == 5 and STANDALONE_ACK_TIMEOUT_MS == 200


class _Draws:
    def __init__(self):
        self.calls = []
        self.rng = Rng(7)

    def __call__(self, n):
        self.calls.append(n)
        return self.rng.bytes(n)


def test_jitter_is_drawn_from_the_port_32_bytes_at_a_time():
    draws = _Draws()
    m = Mrp(4, 2, 64, draws)
    got = bytes(m.jitter() for _ in range(40))
    assert got == Rng(7).bytes(64)[:40]
    assert draws.calls == [32, 32]
    m2 = Mrp(4, 2, 64, lambda n: b"\x00" * (n - 1))
    raises(MrpArgumentError, m2.jitter)


def test_bad_sizes_rejected():
    for args in ((0, 1, 64), (4, 0, 64), (4, 1, 0), (4, 256, 64), (True, 1, 64), (4, 1, "64")):
        raises(MrpArgumentError, Mrp, args[0], args[1], args[2], _Draws())
    raises(MrpArgumentError, Mrp, 4, 1, 64, None)


def test_acks_owed_piggyback_standalone_and_older_ones():
    m = Mrp(3, 2, 64, _Draws())
    assert m.take(0) == NO_ACK and m.next_deadline() is None
    assert m.receive(0, 1000, 50) == NO_ACK
    assert m.next_deadline() == 250
    assert not m.ack_due(0, 249) and m.ack_due(0, 250)
    # A second reliable message before we answered: the older ack must go out standalone now.
    assert m.receive(0, 1001, 60) == 1000
    assert m.receive(0, 1001, 61) == NO_ACK  # the same counter again owes nothing more
    assert m.take(0) == 1001 and m.take(0) == NO_ACK and not m.ack_pending[0]
    m.restore(0, 1001)  # the message carrying it could not be sent
    assert m.take(0) == 1001
    m.restore(0, NO_ACK)
    assert not m.ack_pending[0]


class _Peer:
    """A session stand-in: MRP only asks for the peer's parameters and activity."""

    def __init__(self, active):
        self.parameters = SessionParameters(idle_interval_ms=500, active_interval_ms=300)
        self.active = active

    def is_peer_active(self, now_ms):
        return self.active


def test_retransmission_table_is_bounded_and_schedules_with_backoff():
    m = Mrp(4, 2, 64, lambda n: b"\x00" * n)
    s = _Peer(False)
    a = m.reserve()
    m.start(a, 0, s, "p", 77, 40, 1000)
    b = m.reserve()
    assert b != a
    m.start(b, 1, s, "p", 78, 40, 1000)
    e = raises(RetransmissionTableFullError, m.reserve)
    assert e.status == 4 and m.in_use() == 2 and len(m.buffers) == 2
    assert m.next_deadline() == 1550 and m.expired(1549) == -1 and m.expired(1550) == a
    assert m.entry_of(1) == b and m.entry_of(2) == -1
    assert not m.acknowledge(1, 77)  # the counter of another exchange
    assert m.acknowledge(1, 78) and m.entry_of(1) == -1 and m.reserve() == b
    s.active = True
    times = [1000]
    while not m.exhausted(a):
        t = m.next_ms[a]
        times.append(t)
        m.retransmitted(a, t)
    assert [times[k + 1] - times[k] for k in range(4)] == [550, 330, 528, 844]
    assert m.sends[a] == MAX_TRANSMISSIONS
    m.release(a)
    assert m.in_use() == 0 and m.next_deadline() is None


def test_entry_buffers_are_made_on_first_use_and_kept():
    m = Mrp(4, 3, 64, lambda n: b"\x00" * n)
    s = _Peer(False)
    assert m.buffers == [None, None, None] and m.views == [None, None, None]
    a = m.reserve()
    assert a == 0 and len(m.buffers[0]) == 64 and m.buffers[1] is None
    assert m.reserve() == a  # reserved, not started: still free, no second buffer
    m.start(a, 0, s, "p", 1, 10, 0)
    b = m.reserve()
    m.start(b, 1, s, "p", 2, 10, 0)
    assert b == 1 and m.buffers[2] is None
    kept = (m.buffers[0], m.buffers[1])
    m.release(a)
    m.release(b)
    for _ in range(5):  # reuse takes the entries that have a buffer: nothing new is made
        i = m.reserve()
        m.start(i, 0, s, "p", 3, 10, 0)
        m.acknowledge(0, 3)
    assert (m.buffers[0], m.buffers[1]) == kept and m.buffers[2] is None
    m.buffers[1][0] = 0x5A
    assert len(m.views[1]) == 64 and m.views[1][0] == 0x5A  # the view is of that buffer


def test_no_heap_for_a_first_buffer_is_a_full_table():
    import micromatter.mrp as mrp_module

    m = Mrp(4, 2, 64, lambda n: b"\x00" * n)
    s = _Peer(False)
    m.start(m.reserve(), 0, s, "p", 1, 10, 0)

    def no_heap(size):
        raise MemoryError("test")

    mrp_module.bytearray = no_heap  # the module's next buffer allocation fails
    try:
        e = raises(RetransmissionTableFullError, m.reserve)
    finally:
        del mrp_module.bytearray
    assert e.status == 4 and m.buffers[1] is None and m.in_use() == 1
    assert m.reserve() == 1 and len(m.buffers[1]) == 64  # heap back: the entry gets its buffer


# --- through the exchange layer ------------------------------------------------------------------


def _lossy_setup(jitter=None, retransmissions=None, start=0):
    kwargs = {} if retransmissions is None else {"retransmissions": retransmissions}
    a = Node("A", 1, **kwargs)
    b = Node("B", 2, **kwargs)
    wire = Wire(a, b)
    sa, sb = secure_pair(a, b)
    if jitter is not None:
        a.exchanges.mrp.jitter = lambda: jitter
        b.exchanges.mrp.jitter = lambda: jitter
    wire.now = start
    return a, b, wire, sa, sb


def _send_times(wire, src="A", dst="B"):
    return [e["t"] for e in wire.between(src, dst)]


def _exhaust(jitter, start):
    """A's request to B is lost every time: follow A's deadlines; nothing may happen 1 ms early."""
    lines = quiet()
    try:
        a, b, wire, sa, sb = _lossy_setup(jitter, start=start)
        wire.drop = lambda e: e["src"] == "A"
        ask(wire, a, sa)
        wire.deliver()
        for _ in range(10):
            d = wire.next_deadline()
            if d is None:
                break
            before = len(wire.sent)
            if d - 1 > wire.now:
                wire.tick(d - 1)
                wire.deliver()
                assert len(wire.sent) == before and not a.of(DeliveryFailed)
            wire.tick(d)
            wire.deliver()
        return a, b, wire, sa, _send_times(wire)
    finally:
        loud()


def test_retransmissions_use_the_active_interval_while_the_peer_is_active():
    # The session was set up (peer heard) at 0: active for 4000 ms; active interval 300 ms.
    a, b, wire, sa, times = _exhaust(0, 0)
    assert times == [0, 330, 660, 1188, 2032]
    assert wire.now == 3383


def test_retransmissions_use_the_idle_interval_once_the_peer_is_quiet():
    a, b, wire, sa, times = _exhaust(0, 5000)
    assert times == [5000, 5550, 6100, 6980, 8388]
    assert wire.now == 10640
    a, b, wire, sa, times = _exhaust(255, 5000)
    assert times == [5000, 5686, 6372, 7471, 9229]
    assert wire.now == 12042


def test_the_interval_is_chosen_again_for_every_retransmission():
    # Active until 4000 ms after the peer was last heard (at 0), idle afterwards.
    a, b, wire, sa, times = _exhaust(0, 3000)
    assert times == [3000, 3330, 3660, 4188, 5596]
    assert wire.now == 5596 + 2252


def test_exhaustion_marks_the_session_defunct_and_tells_the_upper_layer():
    a, b, wire, sa, times = _exhaust(0, 5000)
    assert len(times) == MAX_TRANSMISSIONS
    events = a.of(DeliveryFailed)
    assert len(events) == 1 and events[0].session is sa and events[0].peer == "B"
    assert events[0].protocol_id == ECHO_PROTOCOL
    assert sa.state_name == "defunct"
    assert a.echo.closed == [DELIVERY_FAILED]  # the handler waited for a reply: it is told
    assert a.exchanges.exchanges() == [] and a.exchanges.mrp.in_use() == 0
    assert a.exchanges.next_deadline() is None
    # A message from the peer makes the session active again (session core rule).
    x = b.exchanges.open(b.sessions.sessions()[0], b.echo, wire.now)
    x.send(0x01, b"back", wire.now)
    wire.take(b)
    wire.drop = None
    wire.run()
    assert sa.state_name == "active" and a.echo.requests == [b"back"]


def test_random_jitter_gives_the_exact_computed_waits():
    a, b, wire, sa, sb = _lossy_setup(start=6000)
    drawn = []
    jitter = a.exchanges.mrp.jitter

    def record():
        j = jitter()
        drawn.append(j)
        return j

    a.exchanges.mrp.jitter = record
    wire.drop = lambda e: e["src"] == "A"
    lines = quiet()
    try:
        ask(wire, a, sa)
        wire.run()
    finally:
        loud()
    times = _send_times(wire)
    assert len(times) == 5 and len(drawn) == 5 and len(set(drawn)) > 1
    for n in range(4):
        gap = times[n + 1] - times[n]
        assert gap == backoff_ms(500, n + 1, drawn[n])
        assert backoff_ms(500, n + 1, 0) <= gap <= backoff_ms(500, n + 1, 255)
    assert wire.now - times[4] == backoff_ms(500, 5, drawn[4])


def _decoded(wire, src, dst):
    return [e["decoded"] for e in wire.between(src, dst) if e["decoded"] is not None]


def test_reply_piggybacks_the_ack_and_the_last_ack_goes_at_once():
    a, b, wire, sa, sb = _lossy_setup()
    ask(wire, a, sa, b"hi")
    wire.run(until=5000)
    request = _decoded(wire, "A", "B")[0]
    replies = _decoded(wire, "B", "A")
    assert len(replies) == 1  # no standalone ack from B: the reply carried it
    assert replies[0]["ack"] == request["counter"] and replies[0]["reliable"] and not replies[0]["initiator"]
    assert a.echo.replies == [(ECHO_PROTOCOL, 0x02, b"re:hi")]
    last = wire.between("A", "B")[-1]
    assert last["decoded"]["opcode"] == STANDALONE_ACK and last["decoded"]["ack"] == replies[0]["counter"]
    assert last["t"] == 0 and not last["decoded"]["reliable"]  # A closed its exchange: acked at once
    assert len(wire.sent) == 3
    for n in (a, b):
        assert n.exchanges.exchanges() == [] and n.exchanges.mrp.in_use() == 0


def test_standalone_ack_after_200_ms_when_nothing_piggybacks_it():
    a, b, wire, sa, sb = _lossy_setup()
    b.echo.hold = True
    ask(wire, a, sa, b"slow")
    wire.deliver()
    request = _decoded(wire, "A", "B")[0]
    wire.tick(199)
    wire.deliver()
    assert wire.between("B", "A") == []
    wire.tick(200)
    wire.deliver()
    acks = _decoded(wire, "B", "A")
    assert len(acks) == 1 and acks[0]["opcode"] == STANDALONE_ACK and acks[0]["ack"] == request["counter"]
    assert a.exchanges.mrp.in_use() == 0  # acknowledged: no retransmission
    wire.tick(2000)
    wire.deliver()
    assert len(wire.between("A", "B")) == 1
    # The late reply carries no ack: it went out standalone already.
    x = b.exchanges.exchanges()[0]
    x.send(0x02, b"late", wire.now)
    wire.take(b)
    wire.run(until=3000)
    late = _decoded(wire, "B", "A")[-1]
    assert late["opcode"] == 0x02 and late["ack"] is None and a.echo.replies[-1][2] == b"late"


def test_lost_reply_duplicate_request_is_acked_not_delivered_again():
    a, b, wire, sa, sb = _lossy_setup()
    lost = []

    def drop(e):
        if e["src"] == "B" and not lost:
            lost.append(e)
            return True
        return False

    wire.drop = drop
    a.exchanges.mrp.jitter = lambda: 0  # A retransmits its request (330 ms) before B its reply (412 ms)
    b.exchanges.mrp.jitter = lambda: 255
    ask(wire, a, sa, b"once")
    wire.run(until=10000)
    assert b.echo.requests == [b"once"]  # delivered once, though received twice
    at_b = _decoded(wire, "A", "B")
    assert at_b[0]["counter"] == at_b[1]["counter"] and at_b[1]["duplicate"]
    from_b = _decoded(wire, "B", "A")
    standalone = [d for d in from_b if d["opcode"] == STANDALONE_ACK]
    assert len(standalone) == 1 and standalone[0]["ack"] == at_b[0]["counter"]
    dup_time = [e["t"] for e in wire.between("A", "B") if e["decoded"] and e["decoded"]["duplicate"]][0]
    ack_time = [e["t"] for e in wire.between("B", "A") if e["decoded"] and e["decoded"]["opcode"] == STANDALONE_ACK]
    assert ack_time == [dup_time]  # a duplicate is acked at once
    assert a.echo.replies == [(ECHO_PROTOCOL, 0x02, b"re:once")]
    for n in (a, b):
        assert n.exchanges.exchanges() == [] and n.exchanges.mrp.in_use() == 0


def test_a_duplicate_for_a_finished_exchange_is_still_acked():
    a, b, wire, sa, sb = _lossy_setup()
    ask(wire, a, sa, b"x")
    wire.run(until=1000)
    request = wire.between("A", "B")[0]["data"]
    assert b.exchanges.exchanges() == []
    wire.queue.append(("A", "B", request, wire.now))
    wire.deliver()
    last = wire.sent[-1]
    assert last["src"] == "B" and last["decoded"]["opcode"] == STANDALONE_ACK
    assert b.echo.requests == [b"x"]


def test_full_retransmission_table_answers_busy_and_never_grows():
    lines = quiet()
    try:
        a, b, wire, sa, sb = _lossy_setup(retransmissions=1)
        # A's ack of B's first reply (the third datagram) is lost, so that reply keeps B's only entry.
        wire.drop = lambda e: len(wire.sent) == 3
        ask(wire, a, sa, b"one")
        wire.deliver()
        assert b.exchanges.mrp.in_use() == 1
        ask(wire, a, sa, b"two")
        wire.deliver()
    finally:
        loud()
    assert b.echo.requests == [b"one", b"two"]
    assert b.echo.closed == [BUSY]
    assert (ECHO_PROTOCOL, 0x7F, b"busy") in a.echo.replies
    busy = [d for d in _decoded(wire, "B", "A") if d["opcode"] == 0x7F][0]
    assert not busy["reliable"] and busy["ack"] is not None
    assert b.exchanges.mrp.in_use() == 1 and len(b.exchanges.mrp.buffers) == 1
    # The initiator side sees the error itself.
    x = a.exchanges.open(sa, a.echo, wire.now)
    x.send(0x01, b"a", wire.now, expect_reply=True)
    y = a.exchanges.open(sa, a.echo, wire.now)
    raises(RetransmissionTableFullError, y.send, 0x01, b"b", wire.now)
    assert y.is_open
    y.send(0x01, b"b", wire.now, reliable=False)  # unreliable messages need no entry


def test_an_unacknowledged_last_message_fails_quietly_for_the_handler():
    lines = quiet()
    try:
        a, b, wire, sa, sb = _lossy_setup(jitter=0, start=5000)
        wire.drop = lambda e: e["src"] == "A" and len(wire.between("A", "B")) > 1
        ask(wire, a, sa, b"q")
        wire.run()
    finally:
        loud()
    assert b.echo.requests == [b"q"] and b.echo.closed == []  # B's handler was done already
    failed = b.of(DeliveryFailed)
    assert len(failed) == 1 and failed[0].session is sb and sb.state_name == "defunct"
    assert len(wire.between("B", "A")) == MAX_TRANSMISSIONS
    assert b.exchanges.exchanges() == [] and b.exchanges.mrp.in_use() == 0
