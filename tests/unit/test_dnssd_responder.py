"""mDNS responder: probing, announcements, answers (QM, QU, legacy unicast), suppression, goodbyes."""

from support import raises

from micromatter.dnssd import matter, wire
from micromatter.dnssd.address import ipv6_bytes
from micromatter.errors import DnsError
from micromatter.dnssd.responder import (
    HOST, MULTICAST, Responder, Service, TableFullError, UnknownServiceError,
)

N = wire.name
MAC = b"\xaa\xbb\xcc\xdd\xee\xff"
HOSTNAME = N("AABBCCDDEEFF.local")
INSTANCE_ID = b"\x01\x23\x45\x67\x89\xab\xcd\xef"
INSTANCE = N("0123456789ABCDEF._matterc._udp.local")
PEER = ("10.77.0.2", 5353)
LEGACY_PEER = ("fe80::2", 50123, 0, 3)


def _service():
    return matter.commissionable_service(INSTANCE_ID, 3840, 0xFFF1, 0x8000, device_name="Light")


def _responder(probe=True, **kw):
    r = Responder(MAC, ["10.77.0.1"], ["fe80::1", "fd00:77::1"], probe=probe, **kw)
    handle = r.register(_service(), 0)
    return r, handle


def _run_until_ready(r, start=0):
    """Drive the timers; returns [(time, parsed message, destination)]."""
    sent = []
    for _ in range(50):
        due = r.next_deadline()
        if due is None:
            return sent
        for packet, dest in r.on_timer(due):
            sent.append((due, wire.parse(packet), dest))
    raise AssertionError("timers never settle")


def _ready():
    r, handle = _responder()
    r.start(0)
    sent = _run_until_ready(r)
    return r, handle, sent[-1][0]


def _query(questions, ident=0, known=()):
    w = wire.Writer()
    w.begin(ident, 0)
    for q in questions:
        w.question(N(q[0]), q[1], unicast=len(q) > 2 and q[2])
    for record in known:
        w.record(wire.SECTION_ANSWER, record)
    return w.finish()


def _ask(r, questions, now, source=PEER, **kw):
    return [(wire.parse(p), d) for p, d in r.on_packet(_query(questions, **kw), source, now)]


def _types(records):
    return sorted(rec.rtype for rec in records)


def test_probes_then_announces_twice_or_more_one_second_apart():
    r, _ = _responder()
    assert r.next_deadline() is None  # nothing before start
    r.start(1000)
    sent = _run_until_ready(r)
    probes = [(t, m) for t, m, d in sent if not m.is_response]
    announcements = [(t, m) for t, m, d in sent if m.is_response]
    assert all(d == MULTICAST for _, _, d in sent)
    # Three probes 250 ms apart for the host name and for the instance name, QU ANY, records in authority.
    assert sorted(set(t for t, _ in probes)) == [1000, 1250, 1500]
    probed = set()
    for _, m in probes:
        (q,) = m.questions
        assert q.qtype == wire.TYPE_ANY and q.unicast
        assert m.authorities and all(rec.name == q.name for rec in m.authorities)
        probed.add(q.name)
    assert probed == {HOSTNAME, INSTANCE}
    # Announcements: at least two, the first two one second apart, then the interval doubles.
    times = sorted(set(t for t, _ in announcements))
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) >= 2 and times[0] == 1750 and gaps[0] == 1000
    assert all(gaps[i + 1] >= 2 * gaps[i] for i in range(len(gaps) - 1))
    service_announcement = [m for t, m in announcements if t == times[0] and any(
        rec.rtype == wire.TYPE_SRV for rec in m.answers)][0]
    answers = service_announcement.answers
    assert (service_announcement.flags, service_announcement.id) == (0x8400, 0)
    names = set((rec.name, rec.rtype) for rec in answers)
    for sub in ("_L3840", "_S15", "_V65521", "_CM"):
        assert (N(sub + "._sub._matterc._udp.local"), wire.TYPE_PTR) in names
    assert (N("_matterc._udp.local"), wire.TYPE_PTR) in names
    assert (N("_services._dns-sd._udp.local"), wire.TYPE_PTR) in names
    for rec in answers:
        assert rec.cache_flush == (rec.rtype in (wire.TYPE_SRV, wire.TYPE_TXT))
    assert _types(service_announcement.additionals) == [wire.TYPE_A, wire.TYPE_AAAA, wire.TYPE_AAAA]
    assert r.next_deadline() is None


def test_without_probing_announces_at_once():
    r, _ = _responder(probe=False, announce_count=2)
    r.start(5)
    sent = _run_until_ready(r)
    assert sorted(set(t for t, _, _ in sent)) == [5, 1005]
    assert all(m.is_response for _, m, _ in sent)


def test_random_probe_delay_comes_from_the_port():
    r, _ = _responder(random_bytes=lambda n: bytes((200,)) * n)
    r.start(0)
    assert r.next_deadline() == 200


def test_no_answers_while_probing_or_before_start():
    r, _ = _responder()
    assert _ask(r, [("_matterc._udp.local", wire.TYPE_PTR)], 0) == []
    r.start(0)
    r.on_timer(0)
    assert _ask(r, [("_matterc._udp.local", wire.TYPE_PTR)], 10) == []


def test_browse_answers_ptr_with_srv_txt_and_addresses():
    r, _, t = _ready()
    ((m, dest),) = _ask(r, [("_matterc._udp.local", wire.TYPE_PTR)], t + 2000)
    assert dest == MULTICAST and m.is_response and m.id == 0 and m.questions == []
    (ptr,) = m.answers
    assert ptr.rdata == INSTANCE and ptr.ttl == 4500 and not ptr.cache_flush
    assert _types(m.additionals) == [wire.TYPE_A, wire.TYPE_TXT, wire.TYPE_AAAA, wire.TYPE_AAAA, wire.TYPE_SRV]
    srv = [rec for rec in m.additionals if rec.rtype == wire.TYPE_SRV][0]
    assert srv.rdata == (0, 0, 5540, HOSTNAME) and srv.ttl == 120
    txt = [rec for rec in m.additionals if rec.rtype == wire.TYPE_TXT][0]
    assert b"D=3840" in txt.rdata and b"CM=1" in txt.rdata and b"VP=65521+32768" in txt.rdata


def test_subtype_queries():
    r, _, t = _ready()
    for i, sub in enumerate(("_L3840", "_S15", "_CM", "_V65521", "_l3840")):  # names compare case-insensitively
        ((m, _),) = _ask(r, [(sub + "._sub._matterc._udp.local", wire.TYPE_PTR)], t + 2000 * (i + 1))
        assert [rec.rdata for rec in m.answers] == [INSTANCE]
    for sub in ("_L3841", "_S14", "_V65522", "_T257"):
        assert _ask(r, [(sub + "._sub._matterc._udp.local", wire.TYPE_PTR)], t + 20000) == []
    assert _ask(r, [("_matter._tcp.local", wire.TYPE_PTR)], t + 20000) == []


def test_any_query_for_the_instance_and_address_queries():
    r, _, t = _ready()
    ((m, _),) = _ask(r, [("0123456789abcdef._matterc._udp.local", wire.TYPE_ANY)], t + 2000)
    assert _types(m.answers) == [wire.TYPE_TXT, wire.TYPE_SRV]
    assert _types(m.additionals) == [wire.TYPE_A, wire.TYPE_AAAA, wire.TYPE_AAAA]
    ((m, _),) = _ask(r, [("aabbccddeeff.local", wire.TYPE_AAAA)], t + 4000)
    assert sorted(rec.rdata for rec in m.answers) == sorted([ipv6_bytes("fe80::1"), ipv6_bytes("fd00:77::1")])
    assert all(rec.cache_flush and rec.ttl == 120 for rec in m.answers)
    assert _types(m.additionals) == [wire.TYPE_A]  # the other family (RFC 6762 section 6.2)
    ((m, _),) = _ask(r, [("_services._dns-sd._udp.local", wire.TYPE_PTR)], t + 6000)
    assert [rec.rdata for rec in m.answers] == [N("_matterc._udp.local")] and m.additionals == []


def test_nsec_for_a_type_the_name_does_not_have():
    r = Responder(MAC, (), ["fe80::1"], probe=False)
    r.register(_service(), 0)
    r.start(0)
    _run_until_ready(r)
    ((m, _),) = _ask(r, [("AABBCCDDEEFF.local", wire.TYPE_A)], 9000)
    (nsec,) = m.answers
    assert nsec.rtype == wire.TYPE_NSEC and nsec.rdata == (HOSTNAME, (wire.TYPE_AAAA, wire.TYPE_NSEC))
    ((m, _),) = _ask(r, [("0123456789ABCDEF._matterc._udp.local", wire.TYPE_AAAA)], 9000)
    assert m.answers[0].rdata[1] == (wire.TYPE_TXT, wire.TYPE_SRV, wire.TYPE_NSEC)
    # Shared names (service types) get no NSEC.
    assert _ask(r, [("_matterc._udp.local", wire.TYPE_TXT)], 12000) == []


def test_qu_question_gets_a_unicast_reply():
    r, _, t = _ready()
    ((m, dest),) = _ask(r, [("_matterc._udp.local", wire.TYPE_PTR, True)], t + 10)
    assert dest is PEER and m.id == 0 and m.questions == []
    assert [rec.rdata for rec in m.answers] == [INSTANCE]
    # A query mixing QU and QM questions is answered by multicast.
    out = _ask(r, [("_matterc._udp.local", wire.TYPE_PTR, True), ("aabbccddeeff.local", wire.TYPE_A)], t + 3000)
    assert [d for _, d in out] == [MULTICAST]


def test_legacy_unicast_query_from_another_port():
    # The CHIP resolver's first query goes out from an ephemeral port with QU set, type ANY.
    r, _, t = _ready()
    ((m, dest),) = _ask(r, [("_L3840._sub._matterc._udp.local", wire.TYPE_ANY, True)], t + 10, LEGACY_PEER,
                        ident=0x4242)
    assert dest is LEGACY_PEER
    assert m.id == 0x4242 and m.is_response
    assert [(q.name, q.qtype) for q in m.questions] == [(N("_L3840._sub._matterc._udp.local"), wire.TYPE_ANY)]
    assert [rec.rdata for rec in m.answers] == [INSTANCE]
    for rec in m.answers + m.additionals:
        assert rec.ttl <= 10 and not rec.cache_flush
    # A raw sockaddr (what MicroPython's recvfrom gives): port 50123 at bytes 2-3.
    raw = b"\x02\x00\xc3\xcb\x0a\x4d\x00\x02" + bytes(8)
    ((m, dest),) = _ask(r, [("aabbccddeeff.local", wire.TYPE_A)], t + 20, raw, ident=7)
    assert dest is raw and m.id == 7 and m.answers[0].ttl == 10


def test_known_answer_suppression():
    r, _, t = _ready()
    ptr = wire.Record(N("_matterc._udp.local"), wire.TYPE_PTR, INSTANCE, 4500)
    assert _ask(r, [("_matterc._udp.local", wire.TYPE_PTR)], t + 5000, known=[ptr]) == []
    stale = wire.Record(N("_matterc._udp.local"), wire.TYPE_PTR, N("0123456789abcdef._MATTERC._udp.local"), 2000)
    assert len(_ask(r, [("_matterc._udp.local", wire.TYPE_PTR)], t + 7000, known=[stale])) == 1
    ptr.ttl = 2250  # exactly half still suppresses
    assert _ask(r, [("_matterc._udp.local", wire.TYPE_PTR)], t + 9000, known=[ptr]) == []
    other = wire.Record(N("_matterc._udp.local"), wire.TYPE_PTR, N("FEEDFACE._matterc._udp.local"), 4500)
    assert len(_ask(r, [("_matterc._udp.local", wire.TYPE_PTR)], t + 11000, known=[other])) == 1


def test_a_record_is_multicast_at_most_once_a_second():
    r, _, t = _ready()
    q = [("_matterc._udp.local", wire.TYPE_PTR)]
    assert len(_ask(r, q, t + 5000)) == 1
    assert _ask(r, q, t + 5500) == []
    assert len(_ask(r, q, t + 5500, source=LEGACY_PEER)) == 1  # unicast is not limited
    assert len(_ask(r, q, t + 6000)) == 1
    # Right after an announcement too.
    r2, _ = _responder(probe=False)
    r2.start(0)
    r2.on_timer(0)
    assert _ask(r2, q, 500) == []


def test_goodbye_on_unregister_and_stop():
    r, handle, t = _ready()
    ((packet, dest),) = r.unregister(handle, t + 10)
    m = wire.parse(packet)
    assert dest == MULTICAST and m.is_response
    assert all(rec.ttl == 0 for rec in m.answers)
    assert (N("_matterc._udp.local"), wire.TYPE_PTR) in [(rec.name, rec.rtype) for rec in m.answers]
    assert wire.TYPE_SRV in _types(m.answers) and wire.TYPE_A not in _types(m.answers)
    assert _ask(r, [("_matterc._udp.local", wire.TYPE_PTR)], t + 5000) == []
    raises(UnknownServiceError, r.unregister, handle, t)
    out = r.stop(t + 20)
    (m,) = [wire.parse(p) for p, _ in out]
    assert _types(m.answers) == [wire.TYPE_A, wire.TYPE_AAAA, wire.TYPE_AAAA]
    assert all(rec.ttl == 0 for rec in m.answers)
    assert r.next_deadline() is None
    assert _ask(r, [("aabbccddeeff.local", wire.TYPE_A)], t + 5000) == []
    assert r.stop(t + 30) == []


def test_no_goodbye_for_what_was_never_announced():
    r, handle = _responder()
    r.start(0)
    r.on_timer(0)  # probing only
    assert r.unregister(handle, 10) == []
    assert r.stop(20) == []


def test_shared_service_type_survives_one_of_two_operational_services():
    r = Responder(MAC, ["10.77.0.1"], (), probe=False)
    a = r.register(matter.operational_service(0x2906C908D115D362, 1), 0)
    r.register(matter.operational_service(0x2906C908D115D362, 2), 0)
    r.start(0)
    t = max(_run_until_ready(r)[-1][0], 0)
    ((m, _),) = _ask(r, [("_matter._tcp.local", wire.TYPE_PTR)], t + 2000)
    assert len(m.answers) == 2
    ((packet, _),) = r.unregister(a, t + 3000)
    gone = wire.parse(packet).answers
    assert N("_services._dns-sd._udp.local") not in [rec.name for rec in gone]
    assert [rec.rdata for rec in gone if rec.rtype == wire.TYPE_PTR and rec.name == N("_matter._tcp.local")] == [
        N("2906C908D115D362-0000000000000001._matter._tcp.local")]
    ((m, _),) = _ask(r, [("_matter._tcp.local", wire.TYPE_PTR)], t + 5000)
    assert [rec.rdata[0] for rec in m.answers] == [b"2906C908D115D362-0000000000000002"]


def test_registering_after_start_probes_only_the_new_service():
    r = Responder(MAC, ["10.77.0.1"], ())
    r.start(0)
    t = _run_until_ready(r)[-1][0]
    r.register(matter.operational_service(b"\x29\x06\xc9\x08\xd1\x15\xd3\x62", b"\x00" * 7 + b"\x05"), t + 100)
    sent = _run_until_ready(r)
    assert sent[0][0] == t + 100
    assert set(q.name for _, m, _ in sent for q in m.questions) == {
        N("2906C908D115D362-0000000000000005._matter._tcp.local")}
    # Its announcements carry the host addresses so a resolver needs no second query.
    assert all(_types(m.additionals) == [wire.TYPE_A] for _, m, _ in sent if m.is_response)


def test_conflict_while_probing_is_reported_and_not_announced():
    r, handle = _responder()
    r.start(0)
    r.on_timer(0)
    w = wire.Writer()
    w.begin()
    w.record(wire.SECTION_ANSWER, wire.Record(HOSTNAME, wire.TYPE_A, bytes((10, 0, 0, 99)), 120, cache_flush=True))
    other_host = w.finish()
    # Our own probe looped back, and a response with our own data, are no conflict.
    w.begin()
    w.record(wire.SECTION_ANSWER, wire.Record(HOSTNAME, wire.TYPE_A, bytes((10, 77, 0, 1)), 120, cache_flush=True))
    assert r.on_packet(w.finish(), PEER, 100) == []
    assert r.conflicts == []
    assert r.on_packet(other_host, PEER, 100) == []
    assert r.conflicts == [HOST]
    w.begin()
    w.record(wire.SECTION_ANSWER, wire.Record(INSTANCE, wire.TYPE_SRV, (0, 0, 1, N("other.local")), 120))
    r.on_packet(w.finish(), PEER, 120)
    assert r.conflicts == [HOST, handle]
    sent = _run_until_ready(r)
    assert all(not m.is_response for _, m, _ in sent)
    r.unregister(handle, 3000)
    assert r.conflicts == [HOST]


def test_set_addresses_says_goodbye_to_the_old_and_announces_the_new():
    r, _, t = _ready()
    out = r.set_addresses(["10.77.0.9"], ["fe80::1"], t + 10)
    (m,) = [wire.parse(p) for p, _ in out]
    assert sorted((rec.rtype, rec.ttl) for rec in m.answers) == [(wire.TYPE_A, 0), (wire.TYPE_AAAA, 0)]
    assert sorted(rec.rdata for rec in m.answers) == sorted([bytes((10, 77, 0, 1)), ipv6_bytes("fd00:77::1")])
    sent = _run_until_ready(r)
    assert sent[0][0] == t + 10 and len(set(x[0] for x in sent)) >= 2
    assert _types(sent[0][1].answers) == [wire.TYPE_A, wire.TYPE_AAAA]
    raises(TableFullError, r.set_addresses, ["10.0.0.%d" % i for i in range(1, 10)], (), t)


def test_ignores_malformed_responses_and_other_opcodes():
    r, _, t = _ready()
    good = _query([("_matterc._udp.local", wire.TYPE_PTR)])
    for bad in (b"", good[:-3], good[:12] + b"\xc0\x0c\x00\x0c\x00\x01", b"\xff" * 40):
        assert r.on_packet(bad, PEER, t + 5000) == []
    notify = bytearray(good)
    notify[2] = 0x20  # opcode 4
    assert r.on_packet(bytes(notify), PEER, t + 5000) == []
    response = bytearray(good)
    response[2] = 0x84
    assert r.on_packet(bytes(response), PEER, t + 5000) == []
    assert len(r.on_packet(good, PEER, t + 5000)) == 1  # still answering
    w = wire.Writer()
    w.begin(0, 0)
    w.question(N("_matterc._udp.local"), wire.TYPE_PTR, qclass=3)  # CHAOS class
    assert r.on_packet(w.finish(), PEER, t + 9000) == []


def test_large_answers_are_split_across_packets():
    r = Responder(MAC, ["10.77.0.1"], (), probe=False, buffer_size=300, max_services=8)
    for i in range(6):
        r.register(Service("instance-%d-%s" % (i, "z" * 40), "_matterc._udp", 5540, ["X=" + "y" * 40]), 0)
    r.start(0)
    t = _run_until_ready(r)[-1][0]
    packets = r.on_packet(_query([("_matterc._udp.local", wire.TYPE_PTR)]), PEER, t + 2000)
    assert len(packets) >= 2 and all(len(p) <= 300 for p, _ in packets)
    targets = set(rec.rdata[0] for p, _ in packets for rec in wire.parse(p).answers)
    assert targets == set(("instance-%d-%s" % (i, "z" * 40)).encode() for i in range(6))
    r.register(Service("seven", "_y._udp", 1), t)
    r.register(Service("eight", "_y._udp", 1), t)
    raises(TableFullError, r.register, Service("nine", "_y._udp", 1), t)


def test_host_from_label_and_duplicate_instance():
    r = Responder("my-host", ["10.77.0.1"], ())
    assert r.host_name == N("my-host.local")
    r.register(_service(), 0)
    raises(DnsError, r.register, _service(), 0)


def test_values_of_the_wrong_type_are_dns_errors():
    for args in ((None, "_matter._tcp", 5540), ("a", None, 5540), ("a", "_matter._tcp", None),
                 ("a", "_matter._tcp", "5540"), ("a", "_matter._tcp", 0), ([300], "_matter._tcp", 5540)):
        raises(DnsError, Service, *args)
    raises(DnsError, Service, "a", "_matter._tcp", 5540, [5])
    raises(DnsError, Service, "a", "_matter._tcp", 5540, ["x" * 256])
    raises(DnsError, Service, "a", "_matter._tcp", 5540, (), [None])
    for host in (None, 7, [300, 1]):
        raises(DnsError, Responder, host)
    for addresses in ([None], [7], ["10.77.0.256"], [[10, 77, 0, 1]]):
        raises(DnsError, Responder, MAC, addresses)
        raises(DnsError, Responder, MAC, (), addresses)
    assert Service("a", "_matter._tcp", 5540, ["T=0", b"SII=500"]).txt == (b"T=0", b"SII=500")
