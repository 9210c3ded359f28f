"""Fuzzing the DNS codec and the responder (hypothesis), and agreement with dnspython."""

import dns.message
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micromatter.dnssd import matter, wire
from micromatter.dnssd.responder import MULTICAST, Responder
from micromatter.errors import DnsError

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

labels = st.binary(min_size=1, max_size=20).filter(lambda b: b"." not in b and b"\\" not in b)
names = st.lists(labels, min_size=1, max_size=5).map(tuple)


def _record(draw_type, name, data):
    return wire.Record(name, draw_type, data, 120)


rdata_by_type = {
    wire.TYPE_A: st.binary(min_size=4, max_size=4),
    wire.TYPE_AAAA: st.binary(min_size=16, max_size=16),
    wire.TYPE_PTR: names,
    wire.TYPE_SRV: st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), names),
    wire.TYPE_TXT: st.lists(st.binary(max_size=40), min_size=1, max_size=4).map(tuple),
    wire.TYPE_NSEC: st.tuples(names, st.sets(st.integers(1, 600), min_size=1, max_size=6).map(
        lambda s: tuple(sorted(s)))),
}
records = st.sampled_from(sorted(rdata_by_type)).flatmap(
    lambda t: st.builds(
        lambda n, d, ttl, flush: wire.Record(n, t, d, ttl, cache_flush=flush),
        names, rdata_by_type[t], st.integers(0, 0xFFFFFFFF), st.booleans()))


def _responder_ready():
    r = Responder(b"\x02\x00\x00\x00\x00\x01", ["10.77.0.1"], ["fe80::1"], probe=False)
    r.register(matter.commissionable_service(bytes(range(8)), 3840, 0xFFF1, 0x8000), 0)
    r.register(matter.operational_service(0x2906C908D115D362, 0x8FC7772401CD0696), 0)
    r.start(0)
    for _ in range(10):
        due = r.next_deadline()
        if due is None:
            break
        r.on_timer(due)
    return r


def _sample_packets():
    r = _responder_ready()
    out = []
    w = wire.Writer()
    for qname, qtype in (("_matterc._udp.local", wire.TYPE_PTR), ("020000000001.local", wire.TYPE_ANY),
                         ("_I2906C908D115D362._sub._matter._tcp.local", wire.TYPE_ANY)):
        w.begin(0, 0)
        w.question(wire.name(qname), qtype)
        query = w.finish()
        out.append(query)
        out += [p for p, _ in r.on_packet(query, ("10.77.0.2", 40000), 100000)]
    out += [p for p, _ in r.stop(200000)]
    return out


SAMPLES = _sample_packets()


@SETTINGS
@given(st.binary(max_size=600))
def test_random_bytes_parse_or_raise_format_error(data):
    try:
        wire.parse(data)
    except wire.DnsFormatError:
        pass


@SETTINGS
@given(st.sampled_from(SAMPLES), st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=8),
       st.integers(0, 2000))
def test_mutated_packets_parse_or_raise_format_error(packet, edits, cut):
    data = bytearray(packet)
    for pos, value in edits:
        if data:
            data[pos % len(data)] = value
    data = bytes(data[:max(cut, 12)])
    try:
        wire.parse(data)
    except wire.DnsFormatError:
        pass
    # The responder never raises and only answers queries.
    r = _RESPONDER
    for packet_out, dest in r.on_packet(data, ("10.77.0.2", 5353), 10 ** 9):
        assert dest == MULTICAST or dest == ("10.77.0.2", 5353)
        assert wire.parse(packet_out).is_response


_RESPONDER = _responder_ready()


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from([0, 1, 2]), records), max_size=8),
       st.lists(st.tuples(names, st.integers(0, 0xFFFF), st.booleans()), max_size=3))
def test_round_trip_and_dnspython_agrees(items, questions):
    items = sorted(items, key=lambda x: x[0])
    w = wire.Writer(4096)
    w.begin(0x1234, wire.FLAG_RESPONSE | wire.FLAG_AUTHORITATIVE)
    for qname, qtype, unicast in questions:
        w.question(qname, qtype, unicast=unicast)
    for section, record in items:
        w.record(section, record)
    data = w.finish()
    m = wire.parse(data)
    assert [(q.name, q.qtype, q.unicast) for q in m.questions] == questions
    got = m.answers + m.authorities + m.additionals
    assert len(got) == len(items)
    for (_, want), have in zip(items, got):
        assert have.same_data(want) and have.ttl == want.ttl and have.cache_flush == want.cache_flush
        # Compression may point at an earlier spelling of the same name: DNS names compare case-insensitively.
        assert wire.name_key(have.name) == wire.name_key(want.name)
    # dnspython reads the same message (it does not know the mDNS class bits: compare without them).
    theirs = dns.message.from_wire(data, ignore_trailing=False, one_rr_per_rrset=True)
    assert theirs.id == 0x1234
    assert sum(len(s) for s in theirs.answer + theirs.authority + theirs.additional) == len(items)


def _ours_from_dnspython(wire_bytes):
    return wire.parse(wire_bytes)


def test_our_parser_reads_dnspython_messages():
    q = dns.message.make_query("_matterc._udp.local.", "PTR")
    q.id = 7
    response = dns.message.make_response(q)
    owner = dns.name.from_text("_matterc._udp.local.")
    response.answer.append(dns.rrset.from_text(owner, 4500, "IN", "PTR", "ABCD._matterc._udp.local."))
    inst = dns.name.from_text("ABCD._matterc._udp.local.")
    response.additional.append(dns.rrset.from_text(inst, 120, "IN", "SRV", "0 0 5540 host.local."))
    response.additional.append(dns.rrset.from_text(inst, 4500, "IN", "TXT", '"D=3840" "CM=1"'))
    host = dns.name.from_text("host.local.")
    response.additional.append(dns.rrset.from_text(host, 120, "IN", "AAAA", "fe80::1", "fd00::2"))
    response.additional.append(dns.rrset.from_text(host, 120, "IN", "NSEC", "host.local. AAAA NSEC"))
    m = _ours_from_dnspython(response.to_wire())
    assert m.id == 7 and [q.name for q in m.questions] == [wire.name("_matterc._udp.local")]
    assert m.answers[0].rdata == wire.name("ABCD._matterc._udp.local")
    kinds = {r.rtype: r.rdata for r in m.additionals}
    assert kinds[wire.TYPE_SRV] == (0, 0, 5540, wire.name("host.local"))
    assert kinds[wire.TYPE_TXT] == (b"D=3840", b"CM=1")
    assert kinds[wire.TYPE_NSEC] == (wire.name("host.local"), (wire.TYPE_AAAA, wire.TYPE_NSEC))
    assert sorted(r.rdata for r in m.additionals if r.rtype == wire.TYPE_AAAA) == sorted(
        [bytes.fromhex("fe80" + "0" * 27 + "1"), bytes.fromhex("fd00" + "0" * 27 + "2")])


def test_dnspython_reads_every_responder_packet():
    for data in SAMPLES:
        theirs = dns.message.from_wire(data)
        ours = wire.parse(data)
        assert len(theirs.question) == len(ours.questions)
        assert sum(len(s) for s in theirs.answer) == len(ours.answers)
        assert sum(len(s) for s in theirs.additional) == len(ours.additionals)
    # The goodbye at stop really carries TTL 0 for every record.
    goodbye = dns.message.from_wire(SAMPLES[-1])
    assert goodbye.answer and all(rrset.ttl == 0 for rrset in goodbye.answer)


@SETTINGS
@given(st.binary(min_size=12, max_size=300), st.integers(0, 65535))
def test_responder_never_raises(data, port):
    out = _RESPONDER.on_packet(data, ("10.77.0.2", port), 10 ** 9)
    assert isinstance(out, list)
    for packet, _ in out:
        wire.parse(packet)


def test_encoder_errors_are_dns_errors():
    w = wire.Writer(64)
    try:
        w.record(wire.SECTION_ANSWER, wire.Record(wire.name("x.local"), wire.TYPE_TXT, (b"a" * 200,)))
    except DnsError:
        pass
    else:
        raise AssertionError("a 200-byte TXT cannot fit 64 bytes")
