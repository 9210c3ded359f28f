"""Which secure session to evict when the table is full (the reference SDK's order, made safe).

Candidates are ranked by, in turn (``hint``: the fabric and peer a new session
is for, either may be unknown):

1. sessions on fabrics with more sessions in the table first (per-fabric
   fairness: a fabric over its share loses first);
2. sessions on the hint's fabric first (a fabric cannot push others out);
3. sessions to peers with more sessions first (duplicates go first);
4. sessions to the hint's peer first, unless that session is active and the
   only one to that peer;
5. defunct before active before establishing;
6. least recent ``timestamp`` (last send or receive) first.

Never candidates: sessions already pending eviction, and a just-established
session (active for less than ``protect_ms``) that is the only one to its
peer.  An empty order means nothing may be evicted: the caller answers Busy
(the reference SDK would abort).
"""

from micromatter.session.secure import ACTIVE, DEFUNCT, ESTABLISHING, PENDING_EVICTION

_STATE_RANK = {DEFUNCT: 0, ACTIVE: 1, ESTABLISHING: 2}


def eviction_order(table, hint_fabric_index, hint_node_id, now_ms, protect_ms):
    """Slots of ``table`` that may be evicted, best candidate first."""
    live = [i for i in table.live_slots() if table.state[i] != PENDING_EVICTION]
    fabric_index = table.fabric_index
    peer = table.peer_node_id
    state = table.state
    keyed = []
    for i in live:
        on_fabric = 0
        on_peer = 0
        for j in live:
            if j != i and fabric_index[j] == fabric_index[i]:
                on_fabric += 1
                if peer[j] == peer[i]:
                    on_peer += 1
        s = state[i]
        if s == ACTIVE and on_peer == 0 and now_ms - table.established[i] < protect_ms:
            continue  # just established, and the peer's only session
        hint_fabric = hint_fabric_index is not None and fabric_index[i] == hint_fabric_index
        hint_peer = hint_fabric and hint_node_id is not None and peer[i] == hint_node_id
        if hint_peer and s == ACTIVE and on_peer == 0:
            hint_peer = False
        keyed.append(
            (-on_fabric, 0 if hint_fabric else 1, -on_peer, 0 if hint_peer else 1, _STATE_RANK[s], table.timestamp[i], i)
        )
    keyed.sort()
    return [k[6] for k in keyed]
