"""CASE (micromatter.securechannel.case) on both runtimes: our initiator against our responder, full and
resumed handshakes, the sessions they make talking to each other, records in the session core's store
(and after a restart), resumption fallbacks, untrusted roots, wrong fabrics, tampered and replayed messages,
Busy, timeouts and out-of-order messages, with a fake clock."""

from micromatter.errors import CertificateError, MatterError, StorageError
from micromatter.securechannel import status
from micromatter.securechannel.case import (
    LISTENING,
    WAIT_RESUME_STATUS,
    WAIT_SIGMA3,
    CaseArgumentError,
    CaseIdentityError,
    CaseInitiator,
    CaseNoFabricError,
    CasePeerStatusError,
    CaseResponder,
    CaseStateError,
    CaseTimeoutError,
    Established,
    Failed,
    destination_id,
)
from micromatter.securechannel.opcodes import SIGMA1, SIGMA2, SIGMA2_RESUME, SIGMA3, STATUS_REPORT
from micromatter.securechannel.sigma import Sigma1, Sigma2Resume
from micromatter.securechannel.status import BUSY, INVALID_PARAMETER, NO_SHARED_TRUST_ROOTS, SUCCESS
from micromatter.session.params import SessionParameters
from micromatter.storage import MemoryStorage
from casekit import Authority, Side
from handshakekit import events, report_of, run
from sessionkit import write_message
from support import port, raises, unhex

DEVICE = 0x1111
CONTROLLER = 0x2222
_cache = {}


def authority(key="main", **kwargs):
    """Authorities are slow to make on MicroPython: one per kind, shared by the tests."""
    if key not in _cache:
        _cache[key] = Authority(**kwargs)
    return _cache[key]


def pair(device_auth=None, controller_auth=None, cats=(), device_args=None, seed=1):
    """A device (responder) and a controller, each with its fabric from the same authority by default."""
    da = device_auth or authority()
    ca = controller_auth or da
    device = Side([da.fabric(DEVICE)], seed=seed, **(device_args or {}))
    controller = Side([ca.fabric(CONTROLLER, cats=cats)], seed=seed + 50)
    return device, controller


def established(outputs):
    found = [e for e in events(outputs) if isinstance(e, Established)]
    assert len(found) == 1, events(outputs)
    return found[0]


def failed(outputs):
    found = [e for e in events(outputs) if isinstance(e, Failed)]
    assert len(found) == 1, events(outputs)
    return found[0]


def handshake(device, controller, now=0, resume=True, **kwargs):
    i = controller.initiator(controller.fabrics[0], DEVICE, now, resume=resume)
    trace = []
    r_outs, i_outs = run(i, device.responder, now=now, trace=trace, **kwargs)
    return i, r_outs, i_outs, trace


def talk(device, d_event, controller, c_event, now=0):
    """Make both sessions through the session core and check each decrypts the other's message."""
    d = d_event.create_session(device.sessions, now)
    c = c_event.create_session(controller.sessions, now)
    for sender, receiver, text in ((c, device.sessions, b"from controller"), (d, controller.sessions, b"from device")):
        buf = bytearray(200)
        end = write_message(buf, text)
        n = sender.encode(buf, end, now)
        got = receiver.decode(buf, n, now)
        assert bytes(buf[got.payload_start:got.payload_end]) == text
    return d, c


def opcodes_of(trace):
    return [op for _, op, _ in trace]


# --- spec vector --------------------------------------------------------------------------------------


def test_destination_id_spec_example():
    # Matter Core spec, CASE "Destination Identifier" example (also the SDK's DestinationIdTest).
    root = unhex("044a9f42b1ca4840d37292bbc7f6a7e11e22200c976fc900dbc98a7a383a641cb8"
                 "254a2e56d4e295a847943b4e3897c4a773e930277b4d9fbede8a052686bfacfa")
    ipk = unhex("9bc61cd9c62a2df6d64dfcaa9dc472d4")
    random = unhex("7e171231568dfa17206b3accf8faec2f4d21b580113196f47c7c4deb810a73dc")
    expected = unhex("dc35dd5fc9134cc5544538c9c3fc4297c1ec3370c839136a80e10796451d4c53")
    crypto = port().crypto
    assert destination_id(crypto, ipk, random, root, 0x2906C908D115D362, 0xCD5544AA7B13EF14) == expected
    assert destination_id(crypto, ipk, random, root, 0x2906C908D115D362, 0xCD5544AA7B13EF15) != expected


# --- full handshakes ------------------------------------------------------------------------------------


def test_full_handshake_makes_sessions_that_talk():
    device, controller = pair(cats=(0x00010001,))
    i, r_outs, i_outs, trace = handshake(device, controller)
    assert opcodes_of(trace) == [SIGMA1, SIGMA2, SIGMA3, STATUS_REPORT]
    assert report_of(r_outs[-1]).is_success()
    d_event, c_event = established(r_outs), established(i_outs)
    assert not d_event.is_resumption and not c_event.is_resumption
    assert d_event.shared_secret == c_event.shared_secret and len(d_event.shared_secret) == 32
    assert d_event.salt == c_event.salt and len(d_event.salt) == 48
    assert d_event.salt[:16] == device.fabrics[0].operational_ipk
    assert d_event.peer_node_id == CONTROLLER and c_event.peer_node_id == DEVICE
    assert d_event.peer_cats == (0x00010001,) and c_event.peer_cats == ()
    assert d_event.local_session_id == c_event.peer_session_id and c_event.local_session_id == d_event.peer_session_id
    assert d_event.resumption_id == c_event.resumption_id
    d, c = talk(device, d_event, controller, c_event)
    assert d.peer_cats == (0x00010001,) and d.peer_node_id == CONTROLLER and c.peer_node_id == DEVICE
    assert not d.is_initiator and c.is_initiator
    assert device.responder.state == LISTENING and device.responder.next_deadline() is None
    # Both sides keep a record with the same new resumption id and secret.
    d_rec = device.sessions.find_resumption_record_by_node_id(CONTROLLER)
    c_rec = controller.sessions.find_resumption_record_by_node_id(DEVICE)
    assert d_rec.resumption_id == c_rec.resumption_id == d_event.resumption_id
    assert d_rec.shared_secret == c_rec.shared_secret == d_event.shared_secret
    assert d_rec.peer_cats == (0x00010001,)


def test_full_handshake_without_icac():
    device, controller = pair(authority("noicac", icac=False, fabric_id=0xFAB2))
    _, r_outs, i_outs, _ = handshake(device, controller)
    talk(device, established(r_outs), controller, established(i_outs))


def test_session_parameters_travel_both_ways():
    ours = SessionParameters(idle_interval_ms=1500, active_interval_ms=700)
    theirs = SessionParameters(idle_interval_ms=900, active_interval_ms=350)
    device, controller = pair(device_args={"parameters": ours})
    i = controller.initiator(controller.fabrics[0], DEVICE, parameters=theirs)
    r_outs, i_outs = run(i, device.responder)
    assert established(r_outs).peer_parameters == theirs
    assert established(i_outs).peer_parameters == ours
    assert device.sessions.find_resumption_record_by_node_id(CONTROLLER).session_parameters == theirs


def test_two_runs_give_different_secrets_and_resumption_ids():
    device, controller = pair()
    a = handshake(device, controller)
    b = handshake(device, controller, resume=False)
    ea, eb = established(a[1]), established(b[1])
    assert ea.shared_secret != eb.shared_secret and ea.resumption_id != eb.resumption_id


# --- resumption ------------------------------------------------------------------------------------------


def test_resumption_answers_sigma2_resume_and_makes_sessions():
    device, controller = pair(cats=(0x00020003,))
    _, first_r, _, _ = handshake(device, controller)
    first = established(first_r)
    i, r_outs, i_outs, trace = handshake(device, controller)
    assert opcodes_of(trace) == [SIGMA1, SIGMA2_RESUME, STATUS_REPORT]
    sigma1 = Sigma1.decode(trace[0][2])
    assert sigma1.resumption_id == first.resumption_id
    d_event, c_event = established(r_outs), established(i_outs)
    assert d_event.is_resumption and c_event.is_resumption
    assert d_event.shared_secret == c_event.shared_secret == first.shared_secret
    # Session keys: salt = initiator random | the resumption id of Sigma1.
    assert d_event.salt == c_event.salt == sigma1.initiator_random + first.resumption_id
    new_id = Sigma2Resume.decode(trace[1][2]).resumption_id
    assert d_event.resumption_id == c_event.resumption_id == new_id != first.resumption_id
    assert d_event.peer_cats == (0x00020003,) and d_event.peer_node_id == CONTROLLER
    d, c = talk(device, d_event, controller, c_event)
    assert d.is_resumption and c.is_resumption
    # The records moved to the new id: the old one is gone on both sides.
    assert device.sessions.find_resumption_record_by_id(first.resumption_id) is None
    assert device.sessions.find_resumption_record_by_id(new_id).peer_node_id == CONTROLLER
    assert controller.sessions.find_resumption_record_by_node_id(DEVICE).resumption_id == new_id


def test_responder_saves_a_resumed_record_only_on_the_initiators_success():
    device, controller = pair()
    handshake(device, controller)
    i = controller.initiator(controller.fabrics[0], DEVICE)
    out = i.start(0)
    r = device.responder
    reply = r.on_message("A", out.opcode, out.payload, 0)
    assert reply.opcode == SIGMA2_RESUME and r.state == WAIT_RESUME_STATUS and not reply.events
    old = Sigma1.decode(out.payload).resumption_id
    assert device.sessions.find_resumption_record_by_id(old) is not None  # not replaced yet
    final = i.on_message(reply.opcode, reply.payload, 0)
    assert report_of(final).is_success()
    done = r.on_message("A", final.opcode, final.payload, 0)
    assert done.opcode is None and established([done]).is_resumption
    assert device.sessions.find_resumption_record_by_id(old) is None


def test_resumption_with_a_bad_mic_falls_back_to_full_case():
    device, controller = pair()
    handshake(device, controller)
    # The controller's record holds the right id but another secret: its Sigma1 MIC does not verify.
    record = controller.sessions.find_resumption_record_by_node_id(DEVICE)
    record.shared_secret = bytes(32)
    _, r_outs, i_outs, trace = handshake(device, controller)
    assert Sigma1.decode(trace[0][2]).resumption_id == record.resumption_id
    assert opcodes_of(trace) == [SIGMA1, SIGMA2, SIGMA3, STATUS_REPORT]
    d_event, c_event = established(r_outs), established(i_outs)
    assert not d_event.is_resumption and not c_event.is_resumption
    talk(device, d_event, controller, c_event)


def test_unknown_resumption_id_falls_back_to_full_case():
    device, controller = pair()
    handshake(device, controller)
    other = Side(device.fabrics, seed=9)  # the same device identity, without the records
    i = controller.initiator(controller.fabrics[0], DEVICE)
    trace = []
    r_outs, i_outs = run(i, other.responder, trace=trace)
    assert Sigma1.decode(trace[0][2]).resumption_id is not None
    assert opcodes_of(trace) == [SIGMA1, SIGMA2, SIGMA3, STATUS_REPORT]
    talk(other, established(r_outs), controller, established(i_outs))


def test_resumption_after_the_responder_restarts():
    storage = MemoryStorage()
    fabric = authority().fabric(DEVICE)
    device = Side([fabric], storage=storage)
    controller = Side([authority().fabric(CONTROLLER)], seed=60)
    _, first_r, _, _ = handshake(device, controller)
    # A new process: new managers and responder over the same storage and fabric.
    rebooted = Side([fabric], seed=7, storage=storage)
    assert rebooted.sessions.find_resumption_record_by_id(established(first_r).resumption_id) is not None
    _, r_outs, i_outs, trace = handshake(rebooted, controller)
    assert opcodes_of(trace) == [SIGMA1, SIGMA2_RESUME, STATUS_REPORT]
    talk(rebooted, established(r_outs), controller, established(i_outs))


def test_initiator_without_resume_runs_full_case():
    device, controller = pair()
    handshake(device, controller)
    i = controller.initiator(controller.fabrics[0], DEVICE, resume=False)
    trace = []
    run(i, device.responder, trace=trace)
    assert Sigma1.decode(trace[0][2]).resumption_id is None
    assert opcodes_of(trace) == [SIGMA1, SIGMA2, SIGMA3, STATUS_REPORT]


def test_tampered_sigma2_resume_fails_the_initiator():
    device, controller = pair()
    handshake(device, controller)

    def flip_mic(opcode, payload):
        if opcode != SIGMA2_RESUME:
            return payload
        s = Sigma2Resume.decode(payload)
        s.sigma2_resume_mic = bytes([s.sigma2_resume_mic[0] ^ 1]) + s.sigma2_resume_mic[1:]
        return s.encode()

    i = controller.initiator(controller.fabrics[0], DEVICE)
    r_outs, i_outs = run(i, device.responder, tamper=flip_mic)
    f = failed(i_outs)
    assert f.status == INVALID_PARAMETER
    assert report_of(i_outs[-1]).protocol_code == INVALID_PARAMETER
    rf = failed(r_outs)  # the responder hears the report and frees its slot
    assert isinstance(rf.error, CasePeerStatusError) and device.responder.state == LISTENING
    assert device.sessions.get_session(rf.local_session_id) is None


# --- trust -------------------------------------------------------------------------------------------------


def test_wrong_fabric_is_no_shared_trust_roots():
    device, _ = pair()
    stranger = Side([authority("other", fabric_id=0xFAB1, rcac_id=7).fabric(CONTROLLER)], seed=80)
    i, r_outs, i_outs, trace = handshake(device, stranger)
    assert opcodes_of(trace) == [SIGMA1, STATUS_REPORT]
    assert report_of(r_outs[0]).protocol_code == NO_SHARED_TRUST_ROOTS
    assert isinstance(failed(r_outs).error, CaseNoFabricError)
    assert failed(i_outs).status == NO_SHARED_TRUST_ROOTS
    assert device.sessions.sessions() == []


def test_initiator_noc_from_an_untrusted_root_is_refused():
    device, controller = pair()
    # The controller knows the device's fabric (root key, IPK: the destination id matches) but its own NOC
    # comes from another root with the same fabric id.
    other = authority("other", fabric_id=0xFAB1, rcac_id=7)
    good = controller.fabrics[0]
    noc, key = other.noc(CONTROLLER)
    good.credentials.noc = noc
    good.credentials.icac = other.icac.encode()
    good.credentials.private_key = key
    i, r_outs, i_outs, trace = handshake(device, controller)
    assert opcodes_of(trace) == [SIGMA1, SIGMA2, SIGMA3, STATUS_REPORT]
    f = failed(r_outs)
    assert f.status == INVALID_PARAMETER and isinstance(f.error, MatterError)
    assert failed(i_outs).status == INVALID_PARAMETER
    assert device.sessions.sessions() == [] and device.sessions.find_resumption_record_by_node_id(CONTROLLER) is None
    assert device.sessions.get_session(f.local_session_id) is None


def test_responder_noc_from_an_untrusted_root_is_refused():
    device, controller = pair()
    other = authority("other", fabric_id=0xFAB1, rcac_id=7)
    creds = device.fabrics[0].credentials
    creds.noc, creds.private_key = other.noc(DEVICE)
    creds.icac = other.icac.encode()
    _, r_outs, i_outs, trace = handshake(device, controller)
    assert opcodes_of(trace) == [SIGMA1, SIGMA2, STATUS_REPORT]
    assert failed(i_outs).status == INVALID_PARAMETER
    assert isinstance(failed(r_outs).error, CasePeerStatusError)
    assert controller.sessions.find_resumption_record_by_node_id(DEVICE) is None


def test_initiator_refuses_a_responder_that_is_another_node():
    device, controller = pair()
    i = controller.initiator(controller.fabrics[0], DEVICE)
    other_device = Side([authority().fabric(0x3333)], seed=90)
    # Point the destination id at DEVICE but let a node with another NOC answer: same fabric, wrong node.
    other_device.fabrics[0].node_id = DEVICE
    r_outs, i_outs = run(i, other_device.responder)
    assert isinstance(failed(i_outs).error, CaseIdentityError)


def test_noc_of_another_fabric_under_the_same_root_is_refused():
    device, controller = pair()
    creds = controller.fabrics[0].credentials
    creds.noc, creds.private_key = authority().noc(CONTROLLER, fabric_id=0xFAB9)  # signed by the right ICAC
    _, r_outs, _, _ = handshake(device, controller)
    f = failed(r_outs)
    assert f.status == INVALID_PARAMETER and isinstance(f.error, CertificateError)


# --- tampering and replay ----------------------------------------------------------------------------------


def _flip_in(target, index):
    def tamper(opcode, payload):
        if opcode != target:
            return payload
        b = bytearray(payload)
        b[index % len(b)] ^= 0x20
        return bytes(b)

    return tamper


def test_tampered_sigma_messages_fail_both_sides():
    device, controller = pair()
    cases = ((SIGMA1, 5), (SIGMA1, 80), (SIGMA1, 130), (SIGMA2, 45), (SIGMA2, 120), (SIGMA2, -20), (SIGMA3, 30),
             (SIGMA3, -3))
    for target, index in cases:
        i = controller.initiator(controller.fabrics[0], DEVICE, resume=False)
        r_outs, i_outs = run(i, device.responder, tamper=_flip_in(target, index))
        assert [e for e in events(r_outs) + events(i_outs) if isinstance(e, Established)] == [], (target, index)
        assert failed(i_outs).status in (INVALID_PARAMETER, NO_SHARED_TRUST_ROOTS), (target, index)
        assert device.responder.state == LISTENING
    assert device.sessions.sessions() == []
    assert device.sessions.resumption_records() == []


def test_replayed_sigma1_and_sigma3_make_no_session():
    device, controller = pair()
    _, r_outs, _, trace = handshake(device, controller, now=0)
    established(r_outs)
    sessions_before = len(device.sessions.sessions())
    sigma1, sigma3 = trace[0][2], trace[2][2]
    reply = device.responder.on_message("B", SIGMA1, sigma1, 1000)
    assert reply.opcode == SIGMA2 and reply.payload != trace[1][2]  # fresh random and ephemeral key
    out = device.responder.on_message("B", SIGMA3, sigma3, 1000)
    assert report_of(out).protocol_code == INVALID_PARAMETER and failed([out]).status == INVALID_PARAMETER
    assert len(device.sessions.sessions()) == sessions_before


def test_replayed_resumption_sigma1_falls_back_after_the_id_was_used():
    device, controller = pair()
    handshake(device, controller)
    _, r_outs, _, trace = handshake(device, controller)
    assert opcodes_of(trace)[1] == SIGMA2_RESUME
    reply = device.responder.on_message("C", SIGMA1, trace[0][2], 0)
    assert reply.opcode == SIGMA2  # the old id is gone: no second resumed session from a replay
    device.responder.on_timer(10 ** 6)


# --- busy, timeouts, order ----------------------------------------------------------------------------------


def test_busy_while_another_handshake_runs():
    device, controller = pair()
    a = controller.initiator(controller.fabrics[0], DEVICE, resume=False)
    b = controller.initiator(controller.fabrics[0], DEVICE, resume=False)
    out_a = a.start(0)
    r = device.responder
    assert r.on_message("A", SIGMA1, out_a.payload, 0).opcode == SIGMA2
    out_b = b.start(0)
    reply = r.on_message("B", SIGMA1, out_b.payload, 10)
    report = report_of(reply)
    assert report.protocol_code == BUSY and report.busy_wait_ms == r.busy_wait_ms and not reply.reliable
    f = failed([b.on_message(reply.opcode, reply.payload, 10)])
    assert f.status == BUSY and f.busy_wait_ms == r.busy_wait_ms
    assert r.state == WAIT_SIGMA3 and r.peer == "A"  # the first handshake goes on


def test_busy_when_the_session_table_cannot_make_room():
    device = Side([authority().fabric(DEVICE)])
    device.sessions = None
    from casekit import manager

    sessions = manager(secure_capacity=1)
    r = CaseResponder(device.ctx, sessions, device.fabrics)
    sid = sessions.get_next_available_session_id(0, device.fabrics[0], 0x77)
    sessions.create_secure_session(sid, device.fabrics[0], 0x77, 5, bytes(32), b"", False, False, now_ms=0)
    controller = Side([authority().fabric(CONTROLLER)], seed=70)
    i = controller.initiator(controller.fabrics[0], DEVICE)
    out = i.start(0)
    reply = r.on_message("A", SIGMA1, out.payload, 100)  # the only session is new: protected from eviction
    assert report_of(reply).protocol_code == BUSY and r.state == LISTENING and not reply.events
    # Once the session is older than the protection, it is evicted for the new handshake.
    assert r.on_message("A", SIGMA1, out.payload, 20000).opcode == SIGMA2


def test_stalled_handshake_times_out_and_frees_its_slot():
    device, controller = pair(device_args={"timeout_ms": 5000})
    r = device.responder
    a = controller.initiator(controller.fabrics[0], DEVICE, resume=False)
    assert r.on_message("A", SIGMA1, a.start(0).payload, 0).opcode == SIGMA2
    sid = r.local_session_id
    assert r.next_deadline() == 5000
    assert r.on_timer(4999).events == []
    out = r.on_timer(5000)
    assert isinstance(failed([out]).error, CaseTimeoutError) and out.opcode is None and r.state == LISTENING
    assert device.sessions.get_session(sid) is None
    # The slot is free: a new handshake gets through (no Busy).
    b = controller.initiator(controller.fabrics[0], DEVICE, resume=False)
    assert r.on_message("B", SIGMA1, b.start(6000).payload, 6000).opcode == SIGMA2
    # A late Sigma1 from another initiator after the deadline replaces the stalled one at once.
    c = controller.initiator(controller.fabrics[0], DEVICE, resume=False)
    reply = r.on_message("C", SIGMA1, c.start(11000).payload, 11000)
    assert reply.opcode == SIGMA2 and r.peer == "C" and len(reply.events) == 1  # B's timeout


def test_initiator_times_out():
    device, controller = pair()
    i = controller.initiator(controller.fabrics[0], DEVICE)
    i.start(0)
    assert i.next_deadline() == 30000
    out = i.on_timer(30000)
    assert isinstance(failed([out]).error, CaseTimeoutError) and i.next_deadline() is None


def test_abort_frees_the_handshake():
    device, controller = pair()
    r = device.responder
    i = controller.initiator(controller.fabrics[0], DEVICE, resume=False)
    r.on_message("A", SIGMA1, i.start(0).payload, 0)
    sid = r.local_session_id
    assert r.abort("B").events == []
    assert isinstance(failed([r.abort("A")]).error, CaseStateError) and r.state == LISTENING
    assert device.sessions.get_session(sid) is None
    assert isinstance(failed([i.abort()]).error, CaseStateError)


def test_a_sigma1_the_session_core_cannot_look_up_fails_cleanly():
    device, controller = pair()
    _, i_outs = run(controller.initiator(controller.fabrics[0], DEVICE), device.responder)
    established(i_outs)  # both sides hold a record now: the next Sigma1 asks for resumption

    class Broken:
        """The session core, with a record store that fails to read."""

        def __init__(self, sessions):
            self.sessions = sessions

        def __getattr__(self, attribute):
            return getattr(self.sessions, attribute)

        def find_resumption_record_by_id(self, resumption_id):
            raise StorageError("record store unreadable")

    r = CaseResponder(device.ctx, Broken(device.sessions), device.fabrics)
    slots = bytes(device.sessions.secure.state)
    i = controller.initiator(controller.fabrics[0], DEVICE)
    reply = r.on_message("A", SIGMA1, i.start(0).payload, 0)
    f = failed([reply])
    assert isinstance(f.error, StorageError) and f.status == INVALID_PARAMETER and f.local_session_id == 0
    assert report_of(reply).protocol_code == INVALID_PARAMETER and not r.in_progress() and r.state == LISTENING
    assert bytes(device.sessions.secure.state) == slots  # no session id left reserved


def test_out_of_order_and_unexpected_messages():
    device, controller = pair()
    r = device.responder
    # Sigma3 for no handshake, Sigma2 to a responder.
    assert report_of(r.on_message("A", SIGMA3, b"\x15\x30\x01\x20" + bytes(32) + b"\x18", 0)).protocol_code == INVALID_PARAMETER
    assert report_of(r.on_message("A", SIGMA2, b"\x15\x18", 0)).protocol_code == INVALID_PARAMETER
    # A report for no handshake is never answered.
    assert r.on_message("A", STATUS_REPORT, status.secure_channel(SUCCESS).encode(), 0).opcode is None
    # Mid-handshake: a second Sigma1 on the same exchange, then a premature Success.
    i = controller.initiator(controller.fabrics[0], DEVICE, resume=False)
    s1 = i.start(0).payload
    r.on_message("A", SIGMA1, s1, 0)
    out = r.on_message("A", SIGMA1, s1, 0)
    assert isinstance(failed([out]).error, CaseStateError) and report_of(out).protocol_code == INVALID_PARAMETER
    r.on_message("A", SIGMA1, s1, 0)
    out = r.on_message("A", STATUS_REPORT, status.secure_channel(SUCCESS).encode(), 0)
    assert isinstance(failed([out]).error, CasePeerStatusError) and out.opcode is None
    # The initiator: a Sigma2_Resume it did not ask for, a Sigma3, garbage reports.
    i = controller.initiator(controller.fabrics[0], DEVICE, resume=False)
    i.start(0)
    resume = Sigma2Resume(bytes(16), bytes(16), 5).encode()
    out = i.on_message(SIGMA2_RESUME, resume, 0)
    assert isinstance(failed([out]).error, CaseStateError)
    assert i.on_message(SIGMA2, b"", 0).events == []  # finished: nothing more
    i = controller.initiator(controller.fabrics[0], DEVICE, resume=False)
    i.start(0)
    out = i.on_message(STATUS_REPORT, b"\x01", 0)
    assert failed([out]).status is None and out.opcode is None
    raises(CaseStateError, i.start, 0)


def test_malformed_sigma1_and_sigma3_fail_cleanly():
    device, controller = pair()
    r = device.responder
    for junk in (b"", b"\x00", b"\x15", b"\x15\x18\x18", b"\x17\x18", b"\x15\x24\x01\x05\x18", bytes(40)):
        out = r.on_message("A", SIGMA1, junk, 0)
        assert report_of(out).protocol_code == INVALID_PARAMETER and r.state == LISTENING
    for junk in (b"", b"\x15\x18", b"\x15\x30\x01\x11" + bytes(17) + b"\x18"):
        i = controller.initiator(controller.fabrics[0], DEVICE, resume=False)
        r.on_message("A", SIGMA1, i.start(0).payload, 0)
        sid = r.local_session_id
        out = r.on_message("A", SIGMA3, junk, 0)
        assert report_of(out).protocol_code == INVALID_PARAMETER and r.state == LISTENING
        assert device.sessions.get_session(sid) is None
    # An ephemeral key that is not on the curve.
    i = controller.initiator(controller.fabrics[0], DEVICE, resume=False)
    s = Sigma1.decode(i.start(0).payload)
    s.initiator_eph_pub_key = b"\x04" + bytes(64)
    s.destination_id = destination_id(port().crypto, device.fabrics[0].operational_ipk, s.initiator_random,
                                      device.fabrics[0].root_public_key, device.fabrics[0].fabric_id, DEVICE)
    out = r.on_message("A", SIGMA1, s.encode(), 0)
    assert report_of(out).protocol_code == INVALID_PARAMETER and r.state == LISTENING


def test_removed_fabric_record_is_not_resumed():
    device, controller = pair()
    handshake(device, controller)
    fabric = device.fabrics[0]
    device.fabrics.remove(fabric)
    i = controller.initiator(controller.fabrics[0], DEVICE)
    r_outs, i_outs = run(i, device.responder)
    assert report_of(r_outs[0]).protocol_code == NO_SHARED_TRUST_ROOTS


def test_argument_errors():
    device, controller = pair()
    ctx, sessions, fabrics = device.ctx, device.sessions, device.fabrics
    raises(CaseArgumentError, CaseResponder, object(), sessions, fabrics)
    raises(CaseArgumentError, CaseResponder, ctx, object(), fabrics)
    raises(CaseArgumentError, CaseResponder, ctx, sessions, fabrics, parameters="fast")
    raises(CaseArgumentError, CaseResponder, ctx, sessions, fabrics, timeout_ms=0)
    raises(CaseArgumentError, CaseResponder, ctx, sessions, fabrics, busy_wait_ms=0x10000)
    raises(CaseArgumentError, CaseResponder, ctx, sessions, fabrics, certificate_time=5)
    r = device.responder
    raises(CaseArgumentError, r.on_message, "A", SIGMA1, b"", -1)
    raises(CaseArgumentError, r.on_message, "A", 0x100, b"", 0)
    raises(CaseArgumentError, r.on_message, "A", SIGMA1, 5, 0)
    raises(CaseArgumentError, r.on_message, "A", SIGMA1, None, 0)
    f = controller.fabrics[0]
    raises(CaseArgumentError, CaseInitiator, ctx, sessions, "fabric", DEVICE, 1)
    from micromatter.fabric import Fabric

    raises(CaseArgumentError, CaseInitiator, ctx, sessions, Fabric(1, 5, 6, f.root_public_key), DEVICE, 1)
    raises(CaseArgumentError, CaseInitiator, ctx, sessions, f, 0, 1)
    raises(CaseArgumentError, CaseInitiator, ctx, sessions, f, DEVICE, 0)
    raises(CaseArgumentError, CaseInitiator, ctx, sessions, f, DEVICE, 1, timeout_ms=-5)
    i = CaseInitiator(ctx, controller.sessions, f, DEVICE, 1)
    raises(CaseArgumentError, i.start, None)
    raises(CaseArgumentError, i.on_message, -1, b"", 0)
    raises(CaseArgumentError, i.on_message, SIGMA2, [1, 2], 0)
    assert issubclass(CaseArgumentError, MatterError)


def test_certificate_time_refuses_an_expired_peer_noc():
    auth = authority()
    device = Side([auth.fabric(DEVICE)], certificate_time=lambda: 10 ** 9)
    controller = Side([auth.fabric(CONTROLLER)], seed=61)
    from micromatter.certs import issue

    crypto = port().crypto
    key, pub = crypto.p256_generate()
    short = issue.make_noc(crypto, auth.signer, auth.signer_key, pub, CONTROLLER, auth.fabric_id,
                           not_after=issue.DEFAULT_NOT_BEFORE + 1000)
    creds = controller.fabrics[0].credentials
    creds.noc, creds.private_key = short.encode(), key
    _, r_outs, _, _ = handshake(device, controller)
    assert failed(r_outs).status == INVALID_PARAMETER
    # Without a known time the same NOC passes (a device without a clock cannot tell).
    plain = Side([device.fabrics[0]], seed=3)
    _, r_outs, _, _ = handshake(plain, controller)
    established(r_outs)
