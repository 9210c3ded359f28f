"""SessionManager: sizes, session ids, lookups, removal and CloseSession, fabrics, information, bad input."""

from micromatter import log
from micromatter.errors import MatterError
from micromatter.session.errors import SessionArgumentError, SessionStateError, UnknownSessionError
from micromatter.session.manager import SessionManager
from micromatter.session.params import SessionParameters
from micromatter.session.resumption import ResumptionRecord
from micromatter.storage import MemoryStorage
from sessionkit import Clockless, fabric, manager, open_session, pair, send, write_message
from support import Rng, raises


def quiet(function, *args):
    lines = []
    log.set_sink(lines.append)
    try:
        return function(*args)
    finally:
        log.set_sink(None)


def test_default_sizes():
    m = manager()
    assert (m.secure_capacity, m.unsecure_capacity, m.record_capacity) == (17, 4, 15)
    m = manager(max_fabrics=2)
    assert (m.secure_capacity, m.unsecure_capacity, m.record_capacity) == (8, 4, 6)
    m = manager(secure_capacity=64, unsecure_capacity=2, record_capacity=3)
    assert (m.secure_capacity, m.unsecure_capacity, m.record_capacity) == (64, 2, 3)


def test_session_ids_unique_nonzero_and_random_start():
    m = manager(secure_capacity=64, protect_new_session_ms=0)
    ids = [m.get_next_available_session_id(0) for _ in range(64)]
    assert 0 not in ids and len(set(ids)) == 64
    assert all(0 < i <= 0xFFFF for i in ids)
    first = [manager(seed=s).get_next_available_session_id(0) for s in range(1, 9)]
    assert len(set(first)) > 4
    # Reusing a freed slot gives a new id.
    m2 = manager(secure_capacity=1)
    seen = set()
    for _ in range(40):
        sid = m2.get_next_available_session_id(0)
        assert sid not in seen and sid != 0
        seen.add(sid)
        m2.remove_session(sid)


def test_session_id_zero_skipped():
    m = manager(secure_capacity=1)
    m._next_high = 0  # the next id would be 0 for slot 0
    assert m.get_next_available_session_id(0) == 1 << m.secure.id_bits


def test_lookup_by_id():
    m = manager(secure_capacity=64)
    sessions = [open_session(m, fabric(1), 100 + k) for k in range(64)]
    for s in sessions:
        assert m.get_session(s.id) is s
    assert m.get_session(0) is None
    free_id = sessions[5].id
    m.remove_session(free_id)
    assert m.get_session(free_id) is None
    assert m.get_session(free_id ^ 0x8000) is None


def test_create_needs_a_reserved_or_free_id():
    m = manager()
    s = open_session(m, fabric(1), 5)
    raises(SessionArgumentError, m.create_secure_session, s.id, fabric(1), 5, 1, bytes(32), b"", False, False, now_ms=0)
    raises(UnknownSessionError, m.create_secure_session, 31, fabric(1), 5, 1, bytes(32), b"", False, False, now_ms=0)
    t = m.create_secure_session(2, fabric(1), 6, 1, bytes(32), b"", False, False, now_ms=0)  # slot 2 is free
    assert m.get_session(2) is t


def test_bad_arguments_to_create():
    m = manager()
    sid = m.get_next_available_session_id(0)
    good = dict(session_id=sid, fabric=fabric(1), peer_node_id=5, peer_session_id=9, shared_secret=bytes(32),
                salt=b"s", is_initiator=False, is_resumption=False, now_ms=0)
    bad = [
        ("session_id", 0), ("session_id", 0x10000), ("session_id", "1"), ("fabric", "fabric"),
        ("peer_node_id", -1), ("peer_node_id", 1 << 64), ("peer_session_id", 0), ("peer_session_id", 0x10000),
        ("shared_secret", "secret"), ("shared_secret", b""), ("shared_secret", bytes(65)), ("salt", None),
        ("salt", bytes(129)), ("is_initiator", 1), ("is_resumption", None), ("now_ms", None), ("now_ms", -1),
        ("idle_retransmission_timeout_ms", 0), ("active_retransmission_timeout_ms", 3600001),
        ("close_callback", 5), ("subscription_changed_callback", "f"), ("peer_session_parameters", {}),
        ("peer_cats", (1, 2, 3, 4)), ("peer_cats", (0,)), ("peer_cats", 5),
    ]
    for name, value in bad:
        args = dict(good)
        args[name] = value
        e = raises(MatterError, m.create_secure_session, **args)
        assert isinstance(e, SessionArgumentError) or isinstance(e, UnknownSessionError), (name, e)
    args = dict(good)
    args["fabric"] = None  # PASE needs peer node id 0
    raises(SessionArgumentError, m.create_secure_session, **args)
    s = m.create_secure_session(**good)
    assert s.id == sid and s.peer_session_id == 9


def test_bad_arguments_elsewhere():
    m = manager()
    raises(SessionArgumentError, m.get_next_available_session_id, None)
    raises(SessionArgumentError, m.get_next_available_session_id, 0, "fabric")
    raises(SessionArgumentError, m.get_next_available_session_id, 0, None, -5)
    raises(SessionArgumentError, m.get_session, "1")
    raises(SessionArgumentError, m.get_session, 0x10000)
    raises(SessionArgumentError, m.get_session_for_node, None, 5)
    raises(SessionArgumentError, m.get_session_for_node, fabric(1), "5")
    raises(SessionArgumentError, m.remove_session, -1)
    raises(UnknownSessionError, m.remove_session, 1234)
    raises(SessionArgumentError, m.remove_all_sessions_for_node, None)
    raises(SessionArgumentError, m.remove_all_sessions_for_node, 5, False, 3)
    raises(SessionArgumentError, m.remove_fabric, 1)
    raises(SessionArgumentError, m.create_unsecure_session, None, False, None, 0)
    raises(SessionArgumentError, m.create_unsecure_session, 0, False, None, 0)
    raises(SessionArgumentError, m.create_unsecure_session, 5, "yes", None, 0)
    raises(SessionArgumentError, m.create_unsecure_session, 5, False, "params", 0)
    raises(SessionArgumentError, m.get_unsecure_session, "x")
    raises(SessionArgumentError, m.decode, b"immutable", 9, 0)
    raises(SessionArgumentError, m.decode, bytearray(8), 9, 0)
    raises(SessionArgumentError, m.decode, bytearray(8), 8, "now")
    raises(SessionArgumentError, m.find_resumption_record_by_node_id, "n")
    raises(SessionArgumentError, m.remove_resumption_record, None)
    raises(SessionArgumentError, m.update_fabric_for_resumption_records, None)
    raises(SessionArgumentError, m.init_from_storage, fabric(1))
    raises(SessionArgumentError, m.init_from_storage, None)
    raises(SessionArgumentError, m.get_active_session_information, None)
    raises(SessionArgumentError, SessionManager, object(), MemoryStorage())
    raises(SessionArgumentError, SessionManager, Clockless(), None)
    raises(SessionArgumentError, manager, max_fabrics=0)
    raises(SessionArgumentError, manager, secure_capacity=0)
    raises(SessionArgumentError, manager, unsecure_capacity=256)
    raises(SessionArgumentError, manager, record_capacity="3")
    raises(SessionArgumentError, manager, parameters="fast")


def test_get_session_for_node_prefers_active_then_recent():
    m = manager()
    f = fabric(1)
    a = open_session(m, f, 5, now_ms=10)
    b = open_session(m, f, 5, now_ms=20)
    open_session(m, fabric(2), 5, now_ms=30)
    assert m.get_session_for_node(f, 5) is b
    b.mark_defunct()
    assert m.get_session_for_node(f, 5) is a
    assert m.get_session_for_node(f, 6) is None
    assert m.get_session_for_node(fabric(3), 5) is None


def test_pase_session():
    m = manager()
    assert m.get_pase_session() is None
    open_session(m, fabric(1), 5)
    p = open_session(m, None, 0)
    assert m.get_pase_session() is p


def test_close_session_message_is_a_status_report_the_peer_decodes():
    closed = []
    device, d, controller, c = pair()
    device.secure.close_callback[d._i] = closed.append
    msg = device.remove_session(d.id, send_close=True)
    assert closed == [d] and not d.is_live()
    assert msg.session_id != 0 and msg.peer_session_id == c.id and msg.peer_node_id == 0x2222 and not msg.reliable
    buf = bytearray(msg.data)
    r = controller.decode(buf, len(buf), 5)
    assert r.session is c
    p = r.protocol
    assert (p.protocol_id, p.opcode, p.reliable, p.initiator) == (0x0000, 0x40, False, True)
    # general code Success, protocol id secure channel (vendor 0), protocol code CloseSession (3)
    assert r.payload(buf) == bytes([0, 0, 0, 0, 0, 0, 3, 0])


def test_remove_without_close_sends_nothing():
    device, d, controller, c = pair()
    sid = d.id
    assert device.remove_session(sid) is None
    raises(UnknownSessionError, device.remove_session, sid)


def test_remove_all_sessions_for_node():
    m = manager()
    a1 = open_session(m, fabric(1), 5)
    a2 = open_session(m, fabric(1), 5)
    other_fabric = open_session(m, fabric(2), 5)
    other_peer = open_session(m, fabric(1), 6)
    messages = m.remove_all_sessions_for_node(5, send_close=True, fabric=fabric(1))
    assert len(messages) == 2 and not a1.is_live() and not a2.is_live()
    assert other_fabric.is_live() and other_peer.is_live()
    assert m.remove_all_sessions_for_node(5) == [] and not other_fabric.is_live()
    assert other_peer.is_live()


def test_remove_fabric_drops_sessions_and_records():
    m = manager()
    f1, f2 = fabric(1), fabric(2)
    s1 = open_session(m, f1, 5)
    s2 = open_session(m, f2, 5)
    m.save_resumption_record(ResumptionRecord(f1, 5, bytes(16), bytes(32)))
    m.save_resumption_record(ResumptionRecord(f2, 5, b"\x01" * 16, bytes(32)))
    messages = quiet(m.remove_fabric, f1)
    assert messages == [] and not s1.is_live() and s2.is_live()
    assert m.find_resumption_record_by_id(bytes(16)) is None
    assert m.find_resumption_record_by_node_id(5).fabric_index == 2
    assert [k for k in m.storage.keys() if k.startswith("rr")] == ["rr1a"]


def test_callbacks_survive_a_failing_callback():
    m = manager()

    def boom(session):
        raise ValueError("callback bug")

    s = open_session(m, fabric(1), 5, close_callback=boom)
    lines = []
    log.set_sink(lines.append)
    try:
        m.remove_session(s.id)
    finally:
        log.set_sink(None)
    assert not s.is_live() and "callback failed" in lines[0]


def test_active_session_information():
    m = manager()
    s = open_session(m, fabric(1), 5, now_ms=100)
    open_session(m, None, 0, now_ms=100)  # PASE: not listed
    s.add_subscription()
    info = m.get_active_session_information(1000)
    assert len(info) == 1
    i = info[0]
    assert i["name"] == s.name and i["node_id"] == 0x101 and i["peer_node_id"] == 5
    assert i["fabric"]["fabric_index"] == 1 and i["secure"] is True and i["state"] == "active"
    assert i["is_peer_active"] is True and i["last_interaction_timestamp"] == 100
    assert i["last_active_timestamp"] == 100 and i["number_of_active_subscriptions"] == 1
    assert m.get_active_session_information(100 + 4000)[0]["is_peer_active"] is False


def test_close_ends_everything_and_stores_records():
    closed = []
    m = manager()
    s = open_session(m, fabric(1), 5, close_callback=closed.append)
    u = m.create_unsecure_session(None, True, None, now_ms=0)
    sid = m.get_next_available_session_id(0)
    m.close()
    assert closed == [s] and not s.is_live() and not u.is_live()
    assert m.get_session(sid) is None and m.sessions() == []
    raises(SessionStateError, lambda: s.peer_node_id)


def test_our_parameters():
    m = manager(parameters=SessionParameters(idle_interval_ms=5000))
    assert m.parameters.idle_interval_ms == 5000
    assert manager().parameters == SessionParameters()


def test_garbage_datagrams_raise_only_specific_errors():
    # Random datagrams and every one-byte mutation of real ones (secure and unsecured): only MatterError
    # subclasses escape, and the sessions keep working afterwards.
    device, d, controller, c = pair()
    u = controller.create_unsecure_session(None, True, None, now_ms=0)
    rng = Rng(21)
    samples = []
    for _ in range(150):
        samples.append(rng.bytes(rng.below(80)))
    buf, n = send(c, b"genuine")
    genuine = bytes(buf[:n])
    ubuf = bytearray(64)
    uend = write_message(ubuf, b"hello", header_length=16, protocol_id=0)
    un = u.encode(ubuf, uend, 0)
    for base in (genuine, bytes(ubuf[:un])):
        for pos in range(len(base)):
            bad = bytearray(base)
            bad[pos] ^= 1 << rng.below(8)
            samples.append(bytes(bad))
    escaped = 0
    for data in samples:
        b = bytearray(data) + bytearray(8)
        try:
            device.decode(b, len(data), 1)
        except MatterError:
            escaped += 1
    assert escaped > len(samples) // 2
    again = bytearray(genuine)
    r = device.decode(again, len(genuine), 2)
    assert r.session is d and r.payload(again) == b"genuine" and not r.duplicate


def test_handle_methods_check_their_arguments():
    device, d, controller, c = pair()
    raises(SessionArgumentError, c.encode, b"immutable bytes" * 4, 20, 0)
    raises(SessionArgumentError, c.encode, bytearray(64), 20, "now")
    raises(SessionArgumentError, d.decode, "text", 4, 0)
    raises(SessionArgumentError, d.decode, bytearray(40), 40, -1)
    raises(SessionArgumentError, d.is_peer_active, None)
