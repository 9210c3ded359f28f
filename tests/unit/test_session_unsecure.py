"""Unsecured sessions: handshake messages both ways, duplicates, LRU reuse, the global counter."""

from micromatter.message import MessageHeader
from micromatter.session.errors import MessageRejectedError, SessionArgumentError, SessionStateError, UnknownSessionError
from micromatter.session.params import SessionParameters
from micromatter.session.unsecure import HEADER_LENGTH, random_node_id
from micromatter.storage import MemoryStorage
from sessionkit import manager, write_message
from support import Rng, raises


def message(session, payload, now_ms=0):
    buf = bytearray(128)
    end = write_message(buf, payload, header_length=HEADER_LENGTH, protocol_id=0, opcode=0x20)
    return buf, session.encode(buf, end, now_ms)


def handshake_pair():
    controller = manager(seed=11)
    device = manager(seed=12)
    controller.init_from_storage([])
    device.init_from_storage([])
    c = controller.create_unsecure_session(None, True, None, now_ms=0)
    return controller, c, device


def test_initiator_to_responder_and_back():
    controller, c, device = handshake_pair()
    assert c.is_initiator and c.peer_node_id == 0 and c.id == 0
    buf, n = message(c, b"PBKDFParamRequest")
    h = MessageHeader()
    h.decode(buf, 0, n)
    assert h.session_id == 0 and h.dest_node_id is None and bytes(h.source_node_id) == c.ephemeral_node_id.to_bytes(8, "little")
    r = device.decode(buf, n, 5)
    d = r.session
    assert not d.is_initiator and d.peer_node_id == c.ephemeral_node_id and not r.duplicate
    assert r.payload(buf) == b"PBKDFParamRequest" and r.protocol.opcode == 0x20
    assert device.get_unsecure_session(c.ephemeral_node_id) is d
    buf, n = message(d, b"PBKDFParamResponse")
    h.decode(buf, 0, n)
    assert h.source_node_id is None and bytes(h.dest_node_id) == c.ephemeral_node_id.to_bytes(8, "little")
    r = controller.decode(buf, n, 6)
    assert r.session is c and r.payload(buf) == b"PBKDFParamResponse"


def test_duplicates_reported():
    controller, c, device = handshake_pair()
    buf, n = message(c, b"x")
    copy = bytes(buf[:n])
    assert not device.decode(buf, n, 0).duplicate
    assert device.decode(bytearray(copy), n, 0).duplicate


def test_global_counter_is_shared_and_increasing():
    m = manager()
    m.init_from_storage([])
    a = m.create_unsecure_session(None, True, None, now_ms=0)
    b = m.create_unsecure_session(None, True, None, now_ms=0)
    message(a, b"1")
    first = a.last_message_counter
    message(b, b"2")
    message(a, b"3")
    assert b.last_message_counter == first + 1 and a.last_message_counter == first + 2


def test_counter_survives_reboot():
    storage = MemoryStorage()
    m = manager(storage, counter_step=8)
    m.init_from_storage([])
    s = m.create_unsecure_session(None, True, None, now_ms=0)
    for _ in range(20):
        message(s, b"x")
    last = s.last_message_counter
    again = manager(storage, seed=2, counter_step=8)
    again.init_from_storage([])
    s2 = again.create_unsecure_session(None, True, None, now_ms=0)
    message(s2, b"y")
    assert s2.last_message_counter > last


def test_least_recently_used_reused():
    device = manager()
    device.init_from_storage([])
    sessions = []
    for k in range(5):
        s = device.create_unsecure_session(1000 + k, False, None, now_ms=k)
        sessions.append(s)
    assert not sessions[0].is_live()
    assert all(s.is_live() for s in sessions[1:])
    raises(SessionStateError, lambda: sessions[0].ephemeral_node_id)
    assert device.get_unsecure_session(1000) is None
    # A fifth initiator arriving by message also takes the least recently used slot.
    controller = manager(seed=3)
    c = controller.create_unsecure_session(None, True, None, now_ms=0)
    buf, n = message(c, b"hi")
    device.decode(buf, n, 10)
    assert not sessions[1].is_live() and device.get_unsecure_session(c.ephemeral_node_id) is not None


def test_get_unsecure_session_without_id_is_the_most_recent():
    m = manager()
    assert m.get_unsecure_session() is None
    m.create_unsecure_session(5, False, None, now_ms=1)
    b = m.create_unsecure_session(6, False, None, now_ms=2)
    assert m.get_unsecure_session() is b


def test_duplicate_initiator_refused_and_removal():
    m = manager()
    s = m.create_unsecure_session(5, False, None, now_ms=0)
    raises(SessionArgumentError, m.create_unsecure_session, 5, False, None, 0)
    assert m.remove_unsecure_session(s) and not s.is_live()
    assert not m.remove_unsecure_session(s)
    raises(SessionArgumentError, m.remove_unsecure_session, "session")


def test_rejections():
    controller, c, device = handshake_pair()
    buf, n = message(c, b"x")
    buf[3] = 0x40  # control message
    raises(MessageRejectedError, device.decode, buf, n, 0)
    # A response to an initiator this node does not know.
    other = manager(seed=44)
    d = other.create_unsecure_session(987654, False, None, now_ms=0)
    buf, n = message(d, b"x")
    raises(UnknownSessionError, controller.decode, buf, n, 0)
    # Session id 0 without any node id.
    buf = bytearray(8 + 6)
    buf[3] = 0
    end = write_message(buf, b"", header_length=8)
    raises(MessageRejectedError, device.decode, buf, end, 0)
    # A message for one unsecured session decoded through another.
    e = device.create_unsecure_session(777, False, None, now_ms=0)
    buf, n = message(c, b"x")
    raises(MessageRejectedError, e.decode, buf, n, 0)
    raises(SessionArgumentError, c.encode, bytearray(10), 12, 0)


def test_parameters_and_activity():
    m = manager()
    s = m.create_unsecure_session(5, False, SessionParameters(5000, 300, 4000), now_ms=100)
    assert s.parameters.idle_interval_ms == 5000
    s.set_parameters(SessionParameters(800))
    assert s.parameters.idle_interval_ms == 800
    raises(SessionArgumentError, s.set_parameters, 800)
    assert s.is_peer_active(100) and not s.is_peer_active(4100)
    assert s.name == "unsecure/5" and "unsecure/5" in repr(s)


def test_random_node_ids_in_operational_range():
    rng = Rng(8)
    for _ in range(100):
        v = random_node_id(rng.bytes)
        assert 0 < v <= 0xFFFFFFEFFFFFFFFF
    # Values outside the range are drawn again.
    draws = [b"\xff" * 8, b"\x00" * 8, b"\x01" + b"\x00" * 7]
    assert random_node_id(lambda n: draws.pop(0)) == 1


def test_handle_checks_and_staleness_are_those_of_secure_handles():
    controller, c, device = handshake_pair()
    buf, n = message(c, b"hello", now_ms=3)
    d = device.decode(buf, n, 4).session
    assert (d.timestamp, d.active_timestamp, c.timestamp, c.last_message_counter > 0) == (4, 4, 3, True)
    # Arguments of a message call, as for secure sessions.
    raises(SessionArgumentError, d.decode, bytes(buf), n, 0)  # not decoded in place
    raises(SessionArgumentError, d.decode, buf, len(buf) + 1, 0)
    raises(SessionArgumentError, d.decode, buf, n, -1)
    raises(SessionArgumentError, c.encode, buf, HEADER_LENGTH - 1, 0)
    raises(SessionArgumentError, c.encode, buf, 20, True)
    # A handle whose session ended reaches nothing, not even the slot's next session.
    assert device.remove_unsecure_session(d) and not d.is_live()
    e = device.create_unsecure_session(99, False, None, now_ms=5)
    for use in (lambda: d.decode(buf, n, 5), lambda: d.encode(bytearray(64), 20, 5), lambda: d.timestamp,
                lambda: d.parameters, lambda: d.is_peer_active(5), lambda: d.last_message_counter):
        raises(SessionStateError, use)
    assert e.is_live() and e.ephemeral_node_id == 99
