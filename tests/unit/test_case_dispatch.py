"""CASE through the secure channel handler (micromatter.securechannel.dispatch) on both runtimes: our initiator
against our responder over exchanges, MRP and the session cores on a fake wire and clock; the acks before
slow crypto; resumption; encrypted messages on the new sessions; a lost Sigma2; Busy; a vanished initiator
freeing the responder; failures releasing the reserved session ids; retransmissions paced by the peer's
announced intervals."""

from micromatter.exchange import DeliveryFailed
from micromatter.mrp import backoff_ms
from micromatter.securechannel import status
from micromatter.securechannel.case import CaseResponder, CaseStateError, CaseTimeoutError
from micromatter.securechannel.dispatch import CaseEstablished, CaseFailed, SecureChannelError
from micromatter.securechannel.opcodes import SIGMA1, SIGMA2, SIGMA2_RESUME, SIGMA3, STANDALONE_ACK, STATUS_REPORT
from micromatter.session.params import SessionParameters
from casekit import Authority
from exchangekit import Node, Wire, ask, loud, quiet
from support import raises

DEVICE = 0x1111
CONTROLLER = 0x2222
_authority = []


def authority():
    if not _authority:
        _authority.append(Authority())
    return _authority[0]


def _setup(responder_args=None, **dev_kwargs):
    dev = Node("dev", 1, **dev_kwargs)
    ctl = Node("ctl", 2)
    wire = Wire(dev, ctl)
    dev.fabric = authority().fabric(DEVICE)
    ctl.fabric = authority().fabric(CONTROLLER, cats=(0x00030001,))
    dev.case = CaseResponder(dev.ctx, dev.sessions, [dev.fabric], **(responder_args or {}))
    dev.channel.enable_case(dev.case)
    return dev, ctl, wire


def _connect(ctl, wire, until, resume=True):
    glue = ctl.channel.start_case("dev", ctl.fabric, DEVICE, wire.now, resume=resume)
    wire.take(ctl)
    wire.run(until=until)
    return glue


def _sequence(wire, start=0):
    return [(e["src"], e["decoded"]["opcode"]) for e in wire.sent[start:] if e["decoded"] is not None]


def _clean(node):
    assert node.exchanges.exchanges() == [] and node.exchanges.mrp.in_use() == 0
    assert not any(node.sessions.unsecure.state)


def _establishing(node):
    t = node.sessions.secure
    return [i for i in range(t.capacity) if t.state[i] == 1]


def test_full_case_then_encrypted_messages_both_ways():
    dev, ctl, wire = _setup()
    glue = _connect(ctl, wire, 5000)
    (d,) = dev.of(CaseEstablished)
    (c,) = ctl.of(CaseEstablished)
    assert glue.session is c.session and not d.is_resumption and not c.is_resumption
    ds, cs = d.session, c.session
    assert ds.peer_node_id == CONTROLLER and cs.peer_node_id == DEVICE and ds.peer_cats == (0x00030001,)
    assert ds.peer_session_id == cs.id and cs.peer_session_id == ds.id and d.peer == "ctl" and c.peer == "dev"
    # Acks go out before the slow steps: Sigma1 and Sigma3 on the device, Sigma2 on the controller.
    assert _sequence(wire) == [
        ("ctl", SIGMA1), ("dev", STANDALONE_ACK), ("dev", SIGMA2), ("ctl", STANDALONE_ACK), ("ctl", SIGMA3),
        ("dev", STANDALONE_ACK), ("dev", STATUS_REPORT), ("ctl", STANDALONE_ACK)]
    assert all(e["decoded"]["session"] == 0 for e in wire.sent)
    _clean(dev)
    _clean(ctl)
    ask(wire, ctl, cs, b"over CASE")
    wire.run(until=6000)
    ask(wire, dev, ds, b"and back")
    wire.run(until=7000)
    assert dev.echo.requests == [b"over CASE"] and ctl.echo.requests == [b"and back"]
    assert ctl.echo.replies[-1][2] == b"re:over CASE" and dev.echo.replies[-1][2] == b"re:and back"
    assert all(e["decoded"]["session"] in (ds.id, cs.id) for e in wire.sent[-6:])


def test_resumption_through_the_exchanges():
    dev, ctl, wire = _setup()
    _connect(ctl, wire, 5000)
    start = len(wire.sent)
    _connect(ctl, wire, 10000)
    assert _sequence(wire, start) == [
        ("ctl", SIGMA1), ("dev", STANDALONE_ACK), ("dev", SIGMA2_RESUME), ("ctl", STATUS_REPORT),
        ("dev", STANDALONE_ACK)]
    d, c = dev.of(CaseEstablished)[-1], ctl.of(CaseEstablished)[-1]
    assert d.is_resumption and c.is_resumption and d.session.peer_node_id == CONTROLLER
    assert len(dev.sessions.sessions()) == 2 and len(ctl.sessions.sessions()) == 2
    _clean(dev)
    _clean(ctl)
    ask(wire, ctl, c.session, b"resumed")
    wire.run(until=11000)
    assert dev.echo.requests == [b"resumed"] and ctl.echo.replies[-1][2] == b"re:resumed"


def test_a_lost_sigma2_is_retransmitted_and_the_handshake_completes():
    dev, ctl, wire = _setup()
    wire.drop = lambda e: len(wire.sent) == 3  # dev's first Sigma2 (after its ack)
    _connect(ctl, wire, 10000)
    assert len(dev.of(CaseEstablished)) == 1 and len(ctl.of(CaseEstablished)) == 1
    sigma2 = [e for e in wire.sent if e["src"] == "dev" and e["length"] == wire.sent[2]["length"]]
    assert len(sigma2) == 2 and sigma2[0]["data"] == sigma2[1]["data"] and sigma2[1]["t"] > 0
    _clean(dev)
    _clean(ctl)


def test_a_second_initiator_is_told_busy_and_gets_in_afterwards():
    dev, ctl, wire = _setup()
    other = Node("ctl2", 3)
    other.fabric = authority().fabric(0x3333)
    wire.nodes["ctl2"] = other
    ctl.channel.start_case("dev", ctl.fabric, DEVICE, 0, resume=False)
    wire.take(ctl)
    wire.deliver()
    wire.tick(0)  # the device computes Sigma2 and waits for Sigma3
    lines = quiet()
    try:
        other.channel.start_case("dev", other.fabric, DEVICE, 0)
        wire.take(other)
        wire.deliver()
        wire.tick(0)  # Sigma1 is acked first and answered from the timer, like any Sigma1
        wire.deliver()
        busy = [e["decoded"] for e in wire.between("dev", "ctl2")]
        assert busy[-1]["opcode"] == STATUS_REPORT and not busy[-1]["reliable"]
        (f,) = other.of(CaseFailed)
        assert f.status == status.BUSY and f.busy_wait_ms == dev.case.busy_wait_ms and f.is_initiator
        wire.run(until=5000)
        assert len(ctl.of(CaseEstablished)) == 1
        other.channel.start_case("dev", other.fabric, DEVICE, wire.now)
        wire.take(other)
        wire.run(until=10000)
    finally:
        loud()
    assert len(other.of(CaseEstablished)) == 1 and len(dev.of(CaseEstablished)) == 2
    assert not _establishing(other) and not _establishing(dev)


def _vanishing_initiator(gets_in, until):
    """A full handshake whose initiator sends nothing after its first ``gets_in`` messages, run to ``until``:
    the responder has failed it and is free.  Returns (dev, ctl, wire, the responder's CaseFailed)."""
    dev, ctl, wire = _setup()
    wire.drop = lambda e: e["src"] == "ctl" and len(wire.between("ctl", "dev")) > gets_in
    quiet()
    try:
        _connect(ctl, wire, until, resume=False)
    finally:
        loud()
    (f,) = dev.of(CaseFailed)
    assert not f.is_initiator and f.status is None and f.peer == "ctl"
    assert dev.case.state == 0 and not dev.case.in_progress() and not _establishing(dev)
    return dev, ctl, wire, f


def test_a_vanished_initiator_frees_the_responder():
    dev, ctl, wire, f = _vanishing_initiator(2, 40000)  # Sigma1 and the ack of Sigma2, no Sigma3
    assert dev.sessions.sessions() == []
    (cf,) = ctl.of(CaseFailed)
    assert cf.is_initiator and not _establishing(ctl)
    _clean(dev)
    _clean(ctl)


def test_an_initiator_gone_after_sigma1_frees_the_responder_when_its_exchange_closes():
    dev, ctl, wire, f = _vanishing_initiator(1, 10000)
    # dev's Sigma2 was never acknowledged: MRP gave up (5 sends, 7 s at most) and with the exchange the
    # handshake went, long before its 30 s deadline.
    (gone,) = dev.of(DeliveryFailed)
    assert isinstance(f.error, CaseStateError) and dev.case.next_deadline() is None
    # Another initiator is served at once instead of being told Busy until the deadline.
    other = Node("ctl2", 3)
    other.fabric = authority().fabric(0x3333)
    wire.nodes["ctl2"] = other
    wire.drop = None
    other.channel.start_case("dev", other.fabric, DEVICE, wire.now)
    wire.take(other)
    wire.run(until=wire.now + 5000)
    assert len(other.of(CaseEstablished)) == 1 and len(dev.of(CaseEstablished)) == 1 and not other.of(CaseFailed)


def test_the_responder_deadline_frees_a_stalled_handshake():
    dev, ctl, wire = _setup(responder_args={"timeout_ms": 2000})
    lines = quiet()
    try:
        glue = ctl.channel.start_case("dev", ctl.fabric, DEVICE, 0, resume=False)
        wire.take(ctl)
        wire.deliver()
        wire.tick(0)
        wire.deliver()  # Sigma2 out, acked; the controller computes Sigma3 from its timer...
        wire.drop = lambda e: e["src"] == "ctl"  # ...but Sigma3 never arrives
        wire.run(until=2000)
    finally:
        loud()
    # The exchange waiting for Sigma3 times out with the handshake (same deadline) and takes it along.
    (f,) = dev.of(CaseFailed)
    assert isinstance(f.error, CaseStateError) and f.status is None and wire.now == 2000
    assert dev.case.state == 0 and not _establishing(dev)
    # The machine's own deadline, without the glue: the same outcome from on_timer.
    r = CaseResponder(dev.ctx, dev.sessions, [dev.fabric], timeout_ms=2000)
    glue = ctl.channel.start_case("dev", ctl.fabric, DEVICE, wire.now, resume=False)
    sigma1 = glue.machine._sigma1
    assert r.on_message("x", SIGMA1, sigma1, 0).opcode == SIGMA2
    out = r.on_timer(2000)
    assert isinstance(out.events[0].error, CaseTimeoutError) and not _establishing(dev)


def test_wrong_fabric_fails_both_sides_and_releases_the_ids():
    dev, ctl, wire = _setup()
    ctl.fabric = Authority(fabric_id=0xBAD).fabric(CONTROLLER)
    lines = quiet()
    try:
        _connect(ctl, wire, 5000)
    finally:
        loud()
    (f,) = ctl.of(CaseFailed)
    assert f.status == status.NO_SHARED_TRUST_ROOTS
    assert dev.of(CaseFailed)[0].status == status.NO_SHARED_TRUST_ROOTS
    for n in (dev, ctl):
        _clean(n)
        assert not _establishing(n) and n.sessions.sessions() == []


def test_enable_twice_and_too_many_initiators():
    dev, ctl, wire = _setup()
    raises(SecureChannelError, dev.channel.enable_case, dev.case)
    lines = quiet()
    try:
        ctl.channel.start_case("nowhere", ctl.fabric, DEVICE, 0)
        ctl.channel.start_case("nowhere", ctl.fabric, DEVICE, 0)
        raises(SecureChannelError, ctl.channel.start_case, "nowhere", ctl.fabric, DEVICE, 0)
        wire.take(ctl)
        wire.run(until=60000)
    finally:
        loud()
    assert len(ctl.of(CaseFailed)) == 2 and not _establishing(ctl)
    _clean(ctl)


def test_retransmissions_during_the_handshake_follow_the_peers_announced_intervals():
    dev, ctl, wire = _setup()
    dev.exchanges.mrp.jitter = lambda: 0
    ctl.exchanges.mrp.jitter = lambda: 0
    slow = SessionParameters(idle_interval_ms=5000, active_interval_ms=3000)
    wire.drop = lambda e: e["src"] == "ctl" and len(wire.between("ctl", "dev")) > 1  # only Sigma1 gets in
    quiet()
    try:
        ctl.channel.start_case("dev", ctl.fabric, DEVICE, 0, parameters=slow, peer_parameters=slow, resume=False)
        wire.take(ctl)
        wire.run(until=9000)
    finally:
        loud()
    # The device heard the controller at 0: active, 3000 ms announced in Sigma1 (its ack, then Sigma2 twice).
    sigma2 = [e["t"] for e in wire.between("dev", "ctl")][1:3]
    assert sigma2 == [0, backoff_ms(3000, 1, 0)] == [0, 3300]
    # The controller paces Sigma3 by the device's defaults (300 ms active) learned from Sigma2, not by the
    # 3000 ms it was told to assume before.
    sent = wire.between("ctl", "dev")  # Sigma1, the ack of Sigma2 (before the crypto), Sigma3, again...
    sigma3 = [e["t"] for e in sent if e["length"] == sent[2]["length"]]
    assert sigma3[1] - sigma3[0] == backoff_ms(300, 1, 0) == 330
