"""The exchange layer (micromatter.exchange) on both runtimes: which messages open exchanges, unknown
protocols and opcodes (standalone ack only, as connectedhomeip), unsecured-session rules, SessionNotFound
both ways (exact bytes, rate limit, the controller's recovery), table limits, response timeouts, ended
sessions, peer addresses, message size, bad input and garbage."""

from micromatter.exchange import (
    DEFAULT_RESPONSE_TIMEOUT_MS,
    MAX_MESSAGE,
    SESSION_ENDED,
    SESSION_NOT_FOUND_PER_SECOND,
    SESSION_NOT_FOUND_REASON,
    TIMEOUT,
    ExchangeArgumentError,
    ExchangeManager,
    ExchangeStateError,
    ExchangeTableFullError,
    MessageTooLargeError,
    PeerSessionNotFound,
    ProtocolHandler,
)
from micromatter.message import MessageHeader, ProtocolHeader
from micromatter.securechannel.opcodes import STANDALONE_ACK
from exchangekit import ECHO, ECHO_PROTOCOL, ECHO_REPLY, Node, Wire, ask, loud, quiet, secure_pair
from sessionkit import Clockless, write_message
from support import Rng, raises, unhex


class Other(ProtocolHandler):
    """A protocol the peer does not speak."""

    def __init__(self, protocol_id):
        self.protocol_id = protocol_id
        self.got = []
        self.closed = []

    def on_message(self, exchange, protocol_id, opcode, payload, now_ms):
        self.got.append(opcode)
        exchange.close(now_ms)

    def on_exchange_closed(self, exchange, reason):
        self.closed.append(reason)


def _pair(**kwargs):
    a = Node("A", 1, **kwargs)
    b = Node("B", 2, **kwargs)
    wire = Wire(a, b)
    sa, sb = secure_pair(a, b)
    return a, b, wire, sa, sb


def _from_b(wire):
    return [e["decoded"] for e in wire.between("B", "A")]


def test_a_request_opens_an_exchange_and_the_reply_comes_back():
    a, b, wire, sa, sb = _pair()
    x = ask(wire, a, sa, b"hello")
    assert x.is_open and x.is_initiator and x.protocol_id == ECHO_PROTOCOL and x.session is sa and x.peer == "B"
    wire.run(until=1000)
    assert b.echo.requests == [b"hello"]
    assert a.echo.replies == [(ECHO_PROTOCOL, ECHO_REPLY, b"re:hello")]
    request = wire.between("A", "B")[0]["decoded"]
    reply = _from_b(wire)[0]
    assert request["initiator"] and not reply["initiator"] and request["exchange"] == reply["exchange"]
    assert a.exchanges.exchanges() == [] and b.exchanges.exchanges() == []


def test_unknown_protocol_or_opcode_gets_a_standalone_ack_and_nothing_else():
    for protocol, opcode in ((0x4242, 0x01), (0x0000, 0x7F), (ECHO_PROTOCOL, 0x05), (0x0001, 0x02)):
        a, b, wire, sa, sb = _pair()
        other = Other(protocol)
        x = a.exchanges.open(sa, other, 0)
        x.send(opcode, b"??", 0, expect_reply=True)
        wire.take(a)
        wire.deliver()
        replies = _from_b(wire)
        assert len(replies) == 1 and replies[0]["opcode"] == STANDALONE_ACK and replies[0]["protocol"] == 0
        assert replies[0]["ack"] == wire.between("A", "B")[0]["decoded"]["counter"]
        assert not replies[0]["initiator"] and replies[0]["exchange"] == x.exchange_id
        assert b.exchanges.exchanges() == [] and b.echo.requests == [] and b.events == []
        # Unreliable: not even an ack.
        y = a.exchanges.open(sa, other, 0)
        y.send(opcode, b"??", 0, reliable=False)
        wire.take(a)
        wire.deliver()
        assert len(_from_b(wire)) == 1


def _raw(session, payload, now_ms=0, **kwargs):
    buf = bytearray(200)
    end = write_message(buf, payload, **kwargs)
    return bytes(buf[:session.encode(buf, end, now_ms)])


def test_a_message_without_the_initiator_flag_never_opens_an_exchange():
    a, b, wire, sa, sb = _pair()
    data = _raw(sa, b"zz", opcode=ECHO, protocol_id=ECHO_PROTOCOL, exchange_id=999, initiator=False, reliable=True)
    wire.queue.append(("A", "B", data, 0))
    wire.deliver()
    assert b.echo.requests == [] and b.exchanges.exchanges() == []
    ack = _from_b(wire)
    assert len(ack) == 1 and ack[0]["opcode"] == STANDALONE_ACK and ack[0]["initiator"]  # our role: initiator


def test_protocols_that_need_encryption_never_run_on_an_unsecured_session():
    a, b, wire, sa, sb = _pair()
    u = a.sessions.create_unsecure_session(is_initiator=True, now_ms=0)
    x = a.exchanges.open(u, a.echo, 0, peer="B")
    x.send(ECHO, b"plain", 0, expect_reply=True)
    wire.take(a)
    wire.deliver()
    assert b.echo.requests == []
    ack = _from_b(wire)
    assert len(ack) == 1 and ack[0]["opcode"] == STANDALONE_ACK and ack[0]["session"] == 0
    assert a.exchanges.mrp.in_use() == 0  # A's message was acknowledged
    assert not any(b.sessions.unsecure.state)  # B kept no unsecured session for it


def _bogus(session_id, counter=5, size=60):
    buf = bytearray(size)
    h = MessageHeader()
    h.session_id = session_id
    h.counter = counter
    h.encode(buf, 0)
    buf[8:] = Rng(session_id).bytes(size - 8)
    return bytes(buf)


def test_unknown_session_is_answered_with_session_not_found():
    b = Node("B", 2)
    counter = b.sessions.counter.peek()
    lines = quiet()
    try:
        out = b.exchanges.on_datagram(_bogus(0x1234), 60, "peer", 0)
    finally:
        loud()
    assert len(out.messages) == 1
    data, peer = out.messages[0]
    data = bytes(data)
    assert peer == "peer"
    c = bytes([(counter >> (8 * k)) & 0xFF for k in range(4)])
    # Unsecured (session 0), destination node id 0, no source; protocol header: no I/R/A flags, StatusReport
    # (0x40), exchange 0, secure channel; report: general Failure (1), protocol 0, SessionNotFound (5).
    assert data == unhex("01 0000 00") + c + bytes(8) + unhex("00 40 0000 0000") + unhex("0100 00000000 0500")
    h = MessageHeader()
    n = h.decode(data)
    p = ProtocolHeader()
    p.decode(data, n)
    assert (h.session_id, h.source_node_id, bytes(h.dest_node_id)) == (0, None, bytes(8))
    assert (p.initiator, p.reliable, p.ack_counter, p.opcode, p.protocol_id) == (False, False, None, 0x40, 0)
    assert b.exchanges.exchanges() == [] and not any(b.sessions.unsecure.state)


def test_session_not_found_can_be_turned_off_and_is_rate_limited():
    lines = quiet()
    try:
        b = Node("B", 2, session_not_found=False)
        assert b.exchanges.on_datagram(_bogus(0x1234), 60, "p", 0).messages == []
        b = Node("B", 2)
        sent = [len(b.exchanges.on_datagram(_bogus(0x1000 + k), 60, "p", 5000).messages) for k in range(10)]
        assert sent == [1] * SESSION_NOT_FOUND_PER_SECOND + [0] * (10 - SESSION_NOT_FOUND_PER_SECOND)
        assert len(b.exchanges.on_datagram(_bogus(0x2000), 60, "p", 5999).messages) == 0
        assert len(b.exchanges.on_datagram(_bogus(0x2001), 60, "p", 6000).messages) == 1
    finally:
        loud()


def test_after_a_reboot_the_controller_drops_its_stale_session_at_once():
    a, b, wire, sa, sb = _pair()
    wire.nodes["B"] = Node("B", 3)  # B rebooted: its sessions are gone
    lines = quiet()
    try:
        ask(wire, a, sa, b"are you there")
        wire.run(until=100)
    finally:
        loud()
    lost = a.of(PeerSessionNotFound)
    assert len(lost) == 1 and lost[0].peer == "B" and lost[0].sessions == [sa]
    assert sa.state_name == "defunct"
    assert a.echo.closed == [SESSION_NOT_FOUND_REASON]
    assert a.exchanges.exchanges() == [] and a.exchanges.mrp.in_use() == 0  # no retransmissions left
    assert len(wire.between("A", "B")) == 1


def test_a_report_of_another_kind_changes_nothing():
    a, b, wire, sa, sb = _pair()
    data = bytearray(_bogus(0x1234))
    lines = quiet()
    try:
        reply = bytes(b.exchanges.on_datagram(data, len(data), "A", 0).messages[0][0])
    finally:
        loud()
    tampered = reply[:-2] + b"\x04\x00"  # Busy instead of SessionNotFound
    a.exchanges.on_datagram(tampered, len(tampered), "B", 0)
    assert a.events == [] and sa.state_name == "active"


def test_exchange_tables_are_bounded():
    lines = quiet()
    try:
        a, b, wire, sa, sb = _pair(exchanges=1)
        b.echo.hold = True
        ask(wire, a, sa, b"first")
        wire.deliver()
        raises(ExchangeTableFullError, a.exchanges.open, sa, a.echo, 0)  # A's own slot is taken too
        a2 = Node("A2", 5)
        wire.nodes["A2"] = a2
        s2, s2b = secure_pair(a2, b)
        ask(wire, a2, s2, b"second")
        wire.deliver()
        # No slot for it: answered with the protocol's Busy at once, unreliably, carrying the ack.
        assert b.echo.requests == [b"first"]
        busy = [e["decoded"] for e in wire.between("B", "A2")]
        assert len(busy) == 1 and busy[0]["opcode"] == 0x7F and not busy[0]["reliable"]
        assert busy[0]["ack"] == wire.between("A2", "B")[0]["decoded"]["counter"]
        assert a2.echo.replies == [(ECHO_PROTOCOL, 0x7F, b"busy")] and a2.exchanges.mrp.in_use() == 0
        held = b.exchanges.exchanges()[0]
        b.echo.hold = False
        held.send(ECHO_REPLY, b"done", wire.now)
        wire.take(b)
        wire.run(until=5000)
        ask(wire, a2, s2, b"third")  # a slot is free again
        wire.run(until=6000)
    finally:
        loud()
    assert b.echo.requests == [b"first", b"third"]
    assert a.echo.replies == [(ECHO_PROTOCOL, ECHO_REPLY, b"done")]
    assert a2.echo.replies[-1] == (ECHO_PROTOCOL, ECHO_REPLY, b"re:third")
    assert b.exchanges.exchanges() == [] and len(b.exchanges.mrp.buffers) == b.exchanges.mrp.capacity


def test_no_reply_in_time_closes_the_exchange_with_timeout():
    a, b, wire, sa, sb = _pair()
    b.echo.hold = True
    x = a.exchanges.open(sa, a.echo, 0)
    x.send(ECHO, b"wait", 0, expect_reply=True, timeout_ms=1000)
    wire.take(a)
    lines = quiet()
    try:
        wire.run(until=999)
        assert a.echo.closed == [] and x.is_open
        wire.run(until=1000)
        assert a.echo.closed == [TIMEOUT] and a.exchanges.exchanges() == []
        # B's handler neither answered nor closed: its exchange is bounded too.
        assert b.echo.closed == []
        wire.run(until=DEFAULT_RESPONSE_TIMEOUT_MS)
    finally:
        loud()
    assert b.echo.closed == [TIMEOUT] and b.exchanges.exchanges() == []


def test_ended_sessions_take_their_exchanges_with_them():
    a, b, wire, sa, sb = _pair()
    b.echo.hold = True
    ask(wire, a, sa, b"x")
    wire.deliver()
    held = b.exchanges.exchanges()[0]
    b.sessions.remove_session(sb.id)  # its close callback tells the exchange layer
    assert b.echo.closed == [SESSION_ENDED] and b.exchanges.exchanges() == []
    raises(ExchangeStateError, held.send, ECHO_REPLY, b"", 1)
    # A session that ends without telling (no close callback) is noticed by the next timer.
    s1 = a.sessions.create_secure_session(a.sessions.get_next_available_session_id(0), None, 0, 9, bytes(16), b"",
                                          True, False, now_ms=0)
    x = a.exchanges.open(s1, a.echo, 0, peer="B")
    a.sessions.remove_session(s1.id)
    raises(ExchangeStateError, x.send, ECHO, b"", 1)
    assert a.echo.closed[-1] == SESSION_ENDED
    s2 = a.sessions.create_secure_session(a.sessions.get_next_available_session_id(0), None, 0, 9, bytes(16), b"",
                                          True, False, now_ms=0)
    y = a.exchanges.open(s2, a.echo, 0, peer="B")
    before = len(a.exchanges.exchanges())
    a.sessions.remove_session(s2.id)
    a.exchanges.on_timer(2)
    assert a.echo.closed[-1] == SESSION_ENDED and len(a.exchanges.exchanges()) == before - 1 and not y.is_open
    raises(ExchangeStateError, a.exchanges.open, s2, a.echo, 3)


def test_replies_follow_the_peer_to_its_new_address():
    a, b, wire, sa, sb = _pair()
    data = _raw(sa, b"moved", opcode=ECHO, protocol_id=ECHO_PROTOCOL, exchange_id=77)
    out = b.exchanges.on_datagram(data, len(data), "A-new", 0)
    assert [peer for _, peer in out.messages] == ["A-new"]
    assert b.exchanges.peer_address(sb) == "A-new"


def test_message_size_limit():
    a, b, wire, sa, sb = _pair()
    x = a.exchanges.open(sa, a.echo, 0)
    biggest = MAX_MESSAGE - 8 - 6 - 16  # header, protocol header, MIC
    raises(MessageTooLargeError, x.send, ECHO, bytes(biggest + 1), 0)
    assert x.is_open and a.exchanges.mrp.in_use() == 0
    b.echo.hold = True
    x.send(ECHO, bytes(biggest), 0, expect_reply=True)
    out = a.exchanges.take_output()
    assert len(out.messages) == 1 and len(out.messages[0][0]) == MAX_MESSAGE
    data = bytes(out.messages[0][0])
    b.exchanges.on_datagram(data, len(data), "A", 0)
    assert b.echo.requests == [bytes(biggest)]


def test_several_unreliable_messages_in_one_batch_stay_intact():
    a, b, wire, sa, sb = _pair()
    for k in range(3):
        x = a.exchanges.open(sa, a.echo, 0)
        x.send(ECHO, b"m%d" % k, 0, reliable=False)
    out = a.exchanges.take_output()
    assert len(out.messages) == 3
    for data, peer in out.messages:
        wire.queue.append(("A", peer, bytes(data), 0))
    wire.deliver()
    assert sorted(b.echo.requests) == [b"m0", b"m1", b"m2"]


def test_bad_arguments():
    a, b, wire, sa, sb = _pair()
    ex = a.exchanges
    raises(ExchangeArgumentError, ex.on_datagram, b"abc", 4, "B", 0)
    raises(ExchangeArgumentError, ex.on_datagram, b"abc", -1, "B", 0)
    raises(ExchangeArgumentError, ex.on_datagram, b"abc", 3, "B", -5)
    raises(ExchangeArgumentError, ex.on_timer, None)
    raises(ExchangeArgumentError, ex.register, Other(0x10000))
    raises(ExchangeArgumentError, ex.register, Other(ECHO_PROTOCOL))  # registered already
    raises(ExchangeArgumentError, ex.open, sa, object(), 0)
    u = a.sessions.create_unsecure_session(is_initiator=True, now_ms=0)
    raises(ExchangeArgumentError, ex.open, u, a.echo, 0)  # no address known for it
    raises(ExchangeStateError, ex.open, "session", a.echo, 0)
    raises(ExchangeArgumentError, ExchangeManager, object(), Clockless(1))
    raises(ExchangeArgumentError, ExchangeManager, a.sessions, object())
    raises(ExchangeArgumentError, ExchangeManager, a.sessions, Clockless(1), 0)
    raises(ExchangeArgumentError, ex.on_datagram, None, 0, "B", 0)
    raises(ExchangeArgumentError, ex.on_datagram, "abc", 3, "B", 0)
    x = ex.open(sa, a.echo, 0)
    raises(ExchangeArgumentError, x.send, ECHO, b"", 0, True, True, None, 0)  # timeout_ms 0
    raises(ExchangeArgumentError, x.send, ECHO, b"", 0, True, True, None, True)
    raises(ExchangeArgumentError, x.send, ECHO, "text", 0)
    raises(ExchangeArgumentError, x.send, ECHO, 5, 0)
    raises(ExchangeArgumentError, x.send_ack, None)
    assert x.is_open and ex.mrp.in_use() == 0  # refused sends change nothing
    x.send(ECHO, b"ok", 0, expect_reply=True)
    assert ex.mrp.in_use() == 1 and len(ex.take_output().messages) == 1
    x.close(0)
    raises(ExchangeStateError, x.send, ECHO, b"", 0)
    assert x.send_ack(0) is False
    lines = quiet()
    try:
        assert ex.on_datagram(bytes(1300), 1300, "B", 0).messages == []  # beyond the receive buffer: dropped
    finally:
        loud()
    assert lines and "1300" in lines[0]


def test_garbage_is_dropped_quietly():
    a, b, wire, sa, sb = _pair()
    good = _raw(sa, b"fine", opcode=ECHO, protocol_id=ECHO_PROTOCOL, exchange_id=5)
    rng = Rng(3)
    lines = quiet()
    try:
        for k in range(60):
            n = rng.below(80)
            junk = rng.bytes(n)
            b.exchanges.on_datagram(junk, n, "X", k)
            cut = good[:rng.below(len(good))]
            b.exchanges.on_datagram(cut, len(cut), "A", k)
            flipped = bytearray(good)
            flipped[rng.below(len(good))] ^= 1 << rng.below(8)
            b.exchanges.on_datagram(flipped, len(flipped), "A", k)
    finally:
        loud()
    # Cut or flipped, the message fails its tag (the header is the AAD): nothing is ever delivered.
    assert b.echo.requests == [] and b.exchanges.exchanges() == []
    assert not any(b.sessions.unsecure.state) and b.exchanges.mrp.in_use() == 0
