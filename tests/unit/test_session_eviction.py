"""Eviction when the secure table is full: each rule of the order on its own, protection, Busy."""

from micromatter import log
from micromatter.session.errors import SessionBusyError
from micromatter.session.eviction import eviction_order
from micromatter.session.secure import DEFUNCT, ESTABLISHING, FREE, PENDING_EVICTION
from sessionkit import fabric, manager, open_session
from support import raises

A = fabric(1)
B = fabric(2)
PROTECT = 1000
LATER = 100000  # past every session's protection window


def table(capacity):
    return manager(secure_capacity=capacity, protect_new_session_ms=PROTECT)


def add(m, f, peer, ts, state=None):
    """A session on fabric ``f`` to ``peer`` last used at ``ts`` (state: active unless given)."""
    if state == ESTABLISHING:
        sid = m.get_next_available_session_id(ts, f, peer)
        i = m.secure.slot_of(sid)
        return i
    s = open_session(m, f, peer, now_ms=0)
    i = s._i
    m.secure.timestamp[i] = ts
    if state == DEFUNCT:
        s.mark_defunct()
    return i


def victim(m, hint_fabric=None, hint_peer=None, now_ms=LATER):
    """The slot the manager frees for a new session with that hint."""
    before = [m.secure.local_id[i] for i in range(m.secure.capacity)]
    sid = m.get_next_available_session_id(now_ms, hint_fabric, hint_peer)
    slot = m.secure.slot_of(sid)
    assert m.secure.local_id[slot] != before[slot]
    return slot


def quiet(function):
    lines = []
    log.set_sink(lines.append)
    try:
        return function()
    finally:
        log.set_sink(None)


def test_rule1_fabric_with_more_sessions_first():
    m = table(4)
    a1 = add(m, A, 10, 500)
    a2 = add(m, A, 11, 600)
    a3 = add(m, A, 12, 700)
    b1 = add(m, B, 20, 100)  # the oldest, but its fabric has fewer sessions
    assert quiet(lambda: victim(m)) == a1
    assert m.secure.state[b1] != FREE and m.secure.state[a2] != FREE and m.secure.state[a3] != FREE


def test_rule2_hint_fabric_breaks_a_tie():
    m = table(4)
    a1 = add(m, A, 10, 100)
    add(m, A, 11, 200)
    b1 = add(m, B, 20, 300)
    add(m, B, 21, 400)
    assert eviction_order(m.secure, None, None, LATER, PROTECT)[0] == a1
    assert quiet(lambda: victim(m, hint_fabric=B)) == b1


def test_rule3_duplicates_to_a_peer_first():
    m = table(3)
    x_old = add(m, A, 10, 100)  # the oldest, but its peer has one session
    y1 = add(m, A, 20, 300)
    y2 = add(m, A, 20, 400)
    assert quiet(lambda: victim(m)) == y1
    assert m.secure.state[x_old] != FREE and m.secure.state[y2] != FREE


def test_rule4_hint_peer_first():
    m = table(3)
    x = add(m, A, 10, 100)
    y = add(m, A, 20, 200)
    z = add(m, A, 30, 300, ESTABLISHING)  # a handshake with peer 30 (not yet known: peer 0)
    m.secure.peer_node_id[z] = 30
    # Without a hint the oldest active session goes; the establishing one is kept (rule 5).
    assert eviction_order(m.secure, 1, None, LATER, PROTECT)[0] == x
    # Peer 30 connects again: its stale handshake goes first, whatever its state and age.
    assert quiet(lambda: victim(m, A, 30)) == z
    assert m.secure.state[x] != FREE and m.secure.state[y] != FREE


def test_rule4_spares_the_peers_only_active_session():
    m = table(2)
    x = add(m, A, 10, 100)
    y = add(m, A, 20, 200)
    # Peer 20 reconnects: its only, active session is not preferred; the least recent one goes.
    assert quiet(lambda: victim(m, A, 20)) == x
    assert m.secure.state[y] != FREE


def test_rule5_defunct_before_active_before_establishing():
    m = table(3)
    active = add(m, A, 10, 100)
    establishing = add(m, A, 20, 50, ESTABLISHING)
    defunct = add(m, A, 30, 900, DEFUNCT)
    m.secure.peer_node_id[establishing] = 20
    order = eviction_order(m.secure, None, None, LATER, PROTECT)
    assert order == [defunct, active, establishing]
    assert quiet(lambda: victim(m)) == defunct


def test_rule6_least_recently_used_first():
    m = table(3)
    s1 = add(m, A, 10, 300)
    s2 = add(m, A, 20, 100)
    s3 = add(m, A, 30, 200)
    assert eviction_order(m.secure, None, None, LATER, PROTECT) == [s2, s3, s1]
    assert quiet(lambda: victim(m)) == s2


def test_just_established_only_session_is_never_evicted():
    m = table(2)
    add(m, A, 10, 0)
    add(m, A, 20, 0)
    # Both were established at 0 and are their peers' only sessions: protected for PROTECT ms.
    assert eviction_order(m.secure, 1, 20, PROTECT - 1, PROTECT) == []
    e = quiet(lambda: raises(SessionBusyError, m.get_next_available_session_id, PROTECT - 1, A, 30))
    assert e.status == 4  # Busy
    assert len(m.sessions()) == 2
    assert quiet(lambda: victim(m, now_ms=PROTECT)) in (0, 1)


def test_a_duplicate_is_not_protected():
    m = table(2)
    add(m, A, 10, 0)
    second = add(m, A, 10, 5)
    first = 1 - second
    # Two fresh sessions to the same peer: neither is the only one, the older goes.
    assert quiet(lambda: victim(m, now_ms=10)) == first


def test_busy_when_nothing_can_be_evicted_changes_nothing():
    m = table(1)
    s = open_session(m, A, 10, now_ms=0)
    before = (s.id, s.state, s.timestamp)
    quiet(lambda: raises(SessionBusyError, m.get_next_available_session_id, 5))
    assert (s.id, s.state, s.timestamp) == before


def test_held_session_is_marked_pending_and_freed_on_release():
    closed = []
    m = table(2)
    held = open_session(m, A, 10, now_ms=0, close_callback=closed.append)
    m.secure.timestamp[held._i] = 1
    other = open_session(m, A, 20, now_ms=0)
    m.secure.timestamp[other._i] = 2
    held.hold()
    slot = quiet(lambda: victim(m))
    # The held session was the first candidate: marked, its close callback ran, the next one was freed.
    assert slot == other._i
    assert m.secure.state[held._i] == PENDING_EVICTION and closed == [held]
    assert m.get_session(held.id) is None
    # Pending sessions are skipped by the next eviction: the establishing one goes again.
    assert quiet(lambda: victim(m)) == slot
    assert m.secure.state[held._i] == PENDING_EVICTION
    held.release()
    assert m.secure.state[held._i] == FREE and closed == [held]
    sid = m.get_next_available_session_id(LATER)
    assert m.secure.slot_of(sid) == held._i  # the freed slot, no eviction needed


def test_eviction_runs_the_close_callback_once():
    closed = []
    m = table(1)
    s = open_session(m, A, 10, now_ms=0, close_callback=closed.append)
    quiet(lambda: m.get_next_available_session_id(LATER, B, 5))
    assert closed == [s] and not s.is_live()


def test_table_of_seventeen_by_default():
    m = manager(protect_new_session_ms=0)
    for k in range(17):
        open_session(m, fabric(1 + k % 5), 100 + k, now_ms=k)
    assert len(m.sessions()) == 17
    # Full: fabric 1..2 hold 4 sessions each, 3..5 hold 3: the oldest of fabric 1 or 2 goes.
    slot = quiet(lambda: victim(m, now_ms=100))
    assert m.secure.fabric_index[slot] == 0  # the new, establishing session (no fabric hint)
    assert len(m.sessions()) == 16
    per_fabric = [0] * 6
    for s in m.sessions():
        per_fabric[s.fabric_index] += 1
    assert per_fabric[1:] == [3, 4, 3, 3, 3]
