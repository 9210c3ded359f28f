"""The secure channel handler (micromatter.securechannel.dispatch) on both runtimes: our PASE initiator against
our responder through exchanges, MRP and the session cores, then encrypted messages both ways; the acks
before slow crypto; lost messages; wrong passcode; Busy (second commissioner, full session table);
CloseSession from the peer; MsgCounterSyncReq; timeouts; the CASE responder slot."""

from micromatter.exchange import DeliveryFailed, ProtocolHandler
from micromatter.securechannel import status
from micromatter.securechannel.dispatch import (
    MAX_INITIATORS,
    PaseEstablished,
    PaseFailed,
    PeerClosedSession,
    SecureChannelError,
)
from micromatter.securechannel.opcodes import (
    MSG_COUNTER_SYNC_REQ,
    PAKE1,
    PAKE2,
    PAKE3,
    PBKDF_PARAM_REQUEST,
    PBKDF_PARAM_RESPONSE,
    SIGMA1,
    SIGMA2,
    SIGMA3,
    STANDALONE_ACK,
    STATUS_REPORT,
)
from micromatter.securechannel.pase import LISTENING, WAIT_PAKE1, PaseStateError
from micromatter.securechannel.status import StatusReport
from micromatter.mrp import backoff_ms
from micromatter.session.params import SessionParameters
from exchangekit import PASSCODE, Node, Wire, ask, loud, quiet, secure_pair
from support import raises


def _setup(**dev_kwargs):
    dev = Node("dev", 1, **dev_kwargs)
    ctl = Node("ctl", 2)
    wire = Wire(dev, ctl)
    dev.enable_pase()
    return dev, ctl, wire


def _sequence(wire):
    return [(e["src"], e["decoded"]["opcode"]) for e in wire.sent if e["decoded"] is not None]


def _clean(node):
    assert node.exchanges.exchanges() == [] and node.exchanges.mrp.in_use() == 0
    assert not any(node.sessions.unsecure.state)


def test_pase_then_encrypted_messages_both_ways():
    dev, ctl, wire = _setup()
    ctl.channel.start_pase("dev", PASSCODE, 0)
    wire.take(ctl)
    wire.run(until=5000)
    (d,) = dev.of(PaseEstablished)
    (c,) = ctl.of(PaseEstablished)
    ds, cs = d.session, c.session
    assert ds.is_pase and cs.is_pase and not d.is_initiator and c.is_initiator and d.peer == "ctl"
    assert ds.peer_session_id == cs.id and cs.peer_session_id == ds.id
    assert dev.sessions.get_pase_session() is ds and ctl.sessions.get_pase_session() is cs
    # Request/response, the acks piggybacked or sent before slow crypto (PBKDF2, SPAKE2+):
    assert _sequence(wire) == [
        ("ctl", PBKDF_PARAM_REQUEST), ("dev", PBKDF_PARAM_RESPONSE), ("ctl", STANDALONE_ACK), ("ctl", PAKE1),
        ("dev", STANDALONE_ACK), ("dev", PAKE2), ("ctl", STANDALONE_ACK), ("ctl", PAKE3), ("dev", STATUS_REPORT),
        ("ctl", STANDALONE_ACK)]
    assert all(e["decoded"]["session"] == 0 for e in wire.sent)  # the handshake runs unsecured
    _clean(dev)
    _clean(ctl)
    # The PASE session carries encrypted messages both ways.
    ask(wire, ctl, cs, b"over PASE")
    wire.run(until=6000)
    ask(wire, dev, ds, b"and back")
    wire.run(until=7000)
    assert dev.echo.requests == [b"over PASE"] and ctl.echo.requests == [b"and back"]
    assert ctl.echo.replies[-1][2] == b"re:over PASE" and dev.echo.replies[-1][2] == b"re:and back"
    encrypted = wire.sent[-6:]
    assert all(e["decoded"]["session"] in (ds.id, cs.id) for e in encrypted)
    assert all(bytes(e["data"]).find(b"PASE") < 0 and bytes(e["data"]).find(b"back") < 0 for e in encrypted)
    assert dev.pase.state != LISTENING  # one PASE session at a time


def test_the_ack_goes_out_before_the_slow_step_runs():
    dev, ctl, wire = _setup()
    ctl.channel.start_pase("dev", PASSCODE, 0)
    wire.take(ctl)
    wire.deliver()  # request, response, ctl's ack; ctl's PBKDF2 is deferred
    assert ctl.exchanges.next_deadline() == 0
    out = ctl.exchanges.on_timer(0)
    assert len(out.messages) == 1  # Pake1
    pake1 = bytes(out.messages[0][0])
    out = dev.exchanges.on_datagram(pake1, len(pake1), "ctl", 1)
    assert len(out.messages) == 1 and dev.decoded["opcode"] == PAKE1
    ack = bytes(out.messages[0][0])
    ctl.exchanges.on_datagram(ack, len(ack), "dev", 1)
    assert ctl.decoded["opcode"] == STANDALONE_ACK and ctl.decoded["ack"] is not None
    assert dev.pase.state == WAIT_PAKE1  # nothing computed yet
    assert dev.exchanges.next_deadline() == 0
    out = dev.exchanges.on_timer(1)
    assert len(out.messages) == 1
    pake2 = bytes(out.messages[0][0])
    ctl.exchanges.on_datagram(pake2, len(pake2), "dev", 2)
    assert ctl.decoded["opcode"] == PAKE2 and ctl.decoded["ack"] is None  # acked already, not piggybacked


def test_a_lost_pake2_is_retransmitted_and_the_handshake_completes():
    dev, ctl, wire = _setup()
    wire.drop = lambda e: len(wire.sent) == 6  # dev's first Pake2
    ctl.channel.start_pase("dev", PASSCODE, 0)
    wire.take(ctl)
    wire.run(until=5000)
    assert len(dev.of(PaseEstablished)) == 1 and len(ctl.of(PaseEstablished)) == 1
    pake2 = [e for e in wire.sent if e["src"] == "dev" and e["length"] == wire.sent[5]["length"]]
    assert len(pake2) == 2 and pake2[0]["data"] == pake2[1]["data"]  # the same encrypted bytes again
    assert pake2[1]["t"] > 0
    _clean(dev)
    _clean(ctl)


def test_a_wrong_passcode_fails_on_both_sides_and_leaves_nothing_behind():
    dev, ctl, wire = _setup()
    lines = quiet()
    try:
        ctl.channel.start_pase("dev", PASSCODE + 1, 0)
        wire.take(ctl)
        wire.run(until=5000)
    finally:
        loud()
    assert dev.of(PaseEstablished) == [] and ctl.of(PaseEstablished) == []
    (cf,) = ctl.of(PaseFailed)
    (df,) = dev.of(PaseFailed)
    assert cf.is_initiator and cf.status == status.INVALID_PARAMETER  # the initiator saw a bad cB first
    assert not df.is_initiator and df.status == status.INVALID_PARAMETER
    assert dev.pase.state == LISTENING and dev.pase.failures == 1
    for n in (dev, ctl):
        _clean(n)
        assert n.sessions.sessions() == [] and not any(n.sessions.secure.state)  # reserved ids released


def test_a_second_commissioner_is_told_busy_with_a_wait_time():
    dev, ctl, wire = _setup()
    other = Node("ctl2", 3)
    wire.nodes["ctl2"] = other
    ctl.channel.start_pase("dev", PASSCODE, 0)
    wire.take(ctl)
    wire.deliver()
    assert dev.pase.state == WAIT_PAKE1
    lines = quiet()
    try:
        other.channel.start_pase("dev", PASSCODE, 0)
        wire.take(other)
        wire.deliver()
        busy = wire.between("dev", "ctl2")
        assert len(busy) == 1 and busy[0]["decoded"]["opcode"] == STATUS_REPORT
        assert not busy[0]["decoded"]["reliable"]  # Busy goes without R
        (f,) = other.of(PaseFailed)
        assert f.status == status.BUSY and f.busy_wait_ms == 500
        wire.run(until=5000)
    finally:
        loud()
    assert len(ctl.of(PaseEstablished)) == 1
    _clean(other)
    assert other.sessions.sessions() == []


def test_busy_when_the_session_table_cannot_make_room():
    dev, ctl, wire = _setup(secure_capacity=1)
    peer = Node("peer", 4)
    wire.nodes["peer"] = peer
    secure_pair(peer, dev)  # dev's only slot: a fresh session, its peer's only one: protected for 10 s
    lines = quiet()
    try:
        ctl.channel.start_pase("dev", PASSCODE, 0)
        wire.take(ctl)
        wire.run(until=1000)
        (f,) = ctl.of(PaseFailed)
        assert f.status == status.BUSY and f.busy_wait_ms == 500
        assert dev.pase.state == LISTENING and dev.pase.failures == 0  # not an attempt: the peer may retry
        wire.now = 11000  # the old session is no longer protected: it is evicted for the new one
        ctl.channel.start_pase("dev", PASSCODE, wire.now)
        wire.take(ctl)
        wire.run(until=15000)
    finally:
        loud()
    assert len(dev.of(PaseEstablished)) == 1 and len(ctl.of(PaseEstablished)) == 1


def _commissioned():
    dev, ctl, wire = _setup()
    ctl.channel.start_pase("dev", PASSCODE, 0)
    wire.take(ctl)
    wire.run(until=5000)
    return dev, ctl, wire, dev.of(PaseEstablished)[0].session, ctl.of(PaseEstablished)[0].session


def test_close_session_from_the_peer_removes_the_session():
    dev, ctl, wire, ds, cs = _commissioned()
    dev_id = ds.id
    dev.echo.hold = True
    ask(wire, ctl, cs, b"pending")
    wire.deliver()
    assert len(dev.exchanges.exchanges()) == 1
    message = ctl.sessions.remove_session(cs.id, send_close=True)
    data = message.data
    out = dev.exchanges.on_datagram(data, len(data), "ctl", wire.now)
    assert out.messages == []  # CloseSession is sent without R: nothing to ack
    (closed,) = [e for e in out.events if isinstance(e, PeerClosedSession)]
    assert closed.session_id == dev_id and closed.peer == "ctl"
    assert dev.sessions.get_session(dev_id) is None and not ds.is_live()
    assert dev.exchanges.exchanges() == []
    assert dev.pase.state == LISTENING  # a new commissioner may come


class Raw(ProtocolHandler):
    """Sends any secure channel opcode (what a peer might)."""

    protocol_id = 0

    def __init__(self):
        self.got = []

    def on_message(self, exchange, protocol_id, opcode, payload, now_ms):
        self.got.append((opcode, bytes(payload)))
        exchange.close(now_ms)


def test_msg_counter_sync_on_a_unicast_session_is_acked_and_ignored():
    dev, ctl, wire, ds, cs = _commissioned()
    before = len(wire.sent)
    raw = Raw()
    x = ctl.exchanges.open(cs, raw, wire.now)
    x.send(MSG_COUNTER_SYNC_REQ, bytes(range(8)), wire.now, expect_reply=True)
    wire.take(ctl)
    wire.deliver()
    answers = [e["decoded"] for e in wire.sent[before:] if e["src"] == "dev"]
    assert len(answers) == 1 and answers[0]["opcode"] == STANDALONE_ACK
    assert dev.exchanges.exchanges() == [] and len(dev.events) == 1  # only the PaseEstablished of before


def test_a_vanished_commissioner_frees_the_responder_when_its_exchange_closes():
    dev, ctl, wire = _setup()
    wire.drop = lambda e: e["src"] == "ctl" and len(wire.between("ctl", "dev")) > 1  # only the request gets in
    lines = quiet()
    try:
        ctl.channel.start_pase("dev", PASSCODE, 0)
        wire.take(ctl)
        wire.run(until=8000)
    finally:
        loud()
    # dev's PBKDFParamResponse was never acknowledged: MRP gave up (5 sends, 7 s at most) and with the
    # exchange the handshake went, long before its 60 s deadline.
    (gone,) = dev.of(DeliveryFailed)
    (f,) = dev.of(PaseFailed)
    assert isinstance(f.error, PaseStateError) and f.status is None and f.peer == "ctl" and not f.is_initiator
    assert dev.pase.state == LISTENING and dev.pase.failures == 1
    assert len(ctl.of(PaseFailed)) == 1 and len(ctl.of(DeliveryFailed)) == 1  # so was ctl's Pake1
    for n in (dev, ctl):
        _clean(n)
        assert not any(n.sessions.secure.state)
    # Another commissioner is served at once instead of being told Busy until the deadline.
    other = Node("ctl2", 3)
    wire.nodes["ctl2"] = other
    wire.drop = None
    other.channel.start_pase("dev", PASSCODE, wire.now)
    wire.take(other)
    wire.run(until=wire.now + 5000)
    assert len(other.of(PaseEstablished)) == 1 and len(dev.of(PaseEstablished)) == 1


def test_the_responder_gives_up_after_its_deadline():
    dev, ctl, wire = _setup()
    sent = []

    def drop(e):  # ctl's request and its ack of the response get in, Pake1 and the rest do not
        if e["src"] == "ctl":
            sent.append(e)
            return len(sent) > 2
        return False

    wire.drop = drop
    lines = quiet()
    try:
        ctl.channel.start_pase("dev", PASSCODE, 0)
        wire.take(ctl)
        wire.run(until=59999)
        assert dev.of(PaseFailed) == [] and dev.pase.state == WAIT_PAKE1 and dev.of(DeliveryFailed) == []
        assert len(ctl.of(PaseFailed)) == 1 and len(ctl.of(DeliveryFailed)) == 1  # ctl's Pake1 never got in
        wire.run(until=60000)
    finally:
        loud()
    # The exchange waiting for Pake1 times out with the handshake (same deadline) and takes it along.
    (f,) = dev.of(PaseFailed)
    assert isinstance(f.error, PaseStateError) and f.status is None and wire.now == 60000
    assert dev.pase.state == LISTENING and dev.pase.failures == 1
    for n in (dev, ctl):
        _clean(n)
        assert not any(n.sessions.secure.state)


def test_an_unreachable_device_fails_the_initiator():
    ctl = Node("ctl", 2)
    wire = Wire(ctl)
    lines = quiet()
    try:
        ctl.channel.start_pase("nowhere", PASSCODE, 0)
        wire.take(ctl)
        wire.run(until=20000)
    finally:
        loud()
    assert len(wire.between("ctl", "nowhere")) == 5
    (f,) = ctl.of(PaseFailed)
    assert f.is_initiator and f.status is None
    _clean(ctl)
    assert not any(ctl.sessions.secure.state)
    for _ in range(MAX_INITIATORS):
        ctl.channel.start_pase("nowhere", PASSCODE, wire.now)
    raises(SecureChannelError, ctl.channel.start_pase, "nowhere", PASSCODE, wire.now)


class FakeCase:
    """What the CASE responder will look like to the dispatcher: Sigma1 -> (ack) Sigma2, Sigma3 -> Success."""

    def __init__(self, channel):
        self.channel = channel
        self.got = []
        self.closed = []

    def on_message(self, exchange, opcode, payload, now_ms):
        self.got.append((opcode, bytes(payload)))
        if opcode == SIGMA1:
            self.channel.defer(exchange, lambda now: exchange.send(SIGMA2, b"sigma2", now, expect_reply=True), now_ms)
        else:
            exchange.send(STATUS_REPORT, status.secure_channel(status.SUCCESS).encode(), now_ms)

    def on_exchange_closed(self, exchange, reason):
        self.closed.append(reason)

    def next_deadline(self):
        return None

    def on_timer(self, now_ms):
        pass


class CaseInitiator(ProtocolHandler):
    protocol_id = 0

    def __init__(self):
        self.got = []

    def on_message(self, exchange, protocol_id, opcode, payload, now_ms):
        self.got.append(opcode)
        if opcode == SIGMA2:
            exchange.send(SIGMA3, b"sigma3", now_ms, expect_reply=True)
        else:
            exchange.close(now_ms)


def test_the_case_responder_slot():
    dev, ctl, wire = _setup()
    case = FakeCase(dev.channel)
    dev.channel.add_responder(SIGMA1, case)
    raises(SecureChannelError, dev.channel.add_responder, SIGMA1, case)
    assert dev.channel.accepts(SIGMA1, False) and not dev.channel.accepts(SIGMA1, True)
    u = ctl.sessions.create_unsecure_session(is_initiator=True, now_ms=0)
    initiator = CaseInitiator()
    x = ctl.exchanges.open(u, initiator, 0, peer="dev")
    x.send(SIGMA1, b"sigma1", 0, expect_reply=True)
    wire.take(ctl)
    wire.run(until=2000)
    assert case.got == [(SIGMA1, b"sigma1"), (SIGMA3, b"sigma3")] and case.closed == []
    assert initiator.got == [SIGMA2, STATUS_REPORT]
    assert _sequence(wire) == [("ctl", SIGMA1), ("dev", STANDALONE_ACK), ("dev", SIGMA2), ("ctl", SIGMA3),
                               ("dev", STATUS_REPORT), ("ctl", STANDALONE_ACK)]
    _clean(dev)
    _clean(ctl)


def test_busy_reply_of_the_secure_channel():
    dev, ctl, wire = _setup()
    protocol, opcode, payload = dev.channel.busy_reply()
    report = StatusReport.decode(payload)
    assert (protocol, opcode) == (0, STATUS_REPORT) and report.busy_wait_ms == 500 and not report.reliable


def test_retransmissions_during_the_handshake_follow_the_peers_announced_intervals():
    dev, ctl, wire = _setup()
    dev.exchanges.mrp.jitter = lambda: 0
    ctl.exchanges.mrp.jitter = lambda: 0
    slow = SessionParameters(idle_interval_ms=5000, active_interval_ms=3000)
    wire.drop = lambda e: e["src"] == "ctl" and len(wire.between("ctl", "dev")) > 1  # only the request gets in
    lines = quiet()
    try:
        ctl.channel.start_pase("dev", PASSCODE, 0, parameters=slow, peer_parameters=slow)
        wire.take(ctl)
        wire.run(until=9000)
    finally:
        loud()
    responses = [e["t"] for e in wire.between("dev", "ctl")]
    # The device heard the commissioner at 0: active, 3000 ms announced in PBKDFParamRequest.
    assert responses[:2] == [0, backoff_ms(3000, 1, 0)] == [0, 3300]
    # And the commissioner paces Pake1 by the device's defaults (300 ms active), which it learned in the
    # response, not by the 3000 ms it was told to assume before.
    sent = wire.between("ctl", "dev")  # request, ack (before PBKDF2), Pake1, then Pake1 again and acks
    pake1 = [e["t"] for e in sent if e["length"] == sent[2]["length"]]
    assert pake1[1] - pake1[0] == backoff_ms(300, 1, 0) == 330
