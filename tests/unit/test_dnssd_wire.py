"""DNS wire codec: captures built by hand from RFC 1035 / 6762 / 6763, round trips, compression, rejects."""

from support import raises, unhex

from micromatter.dnssd import wire
from micromatter.dnssd.address import AddressError, address_text, ipv4_bytes, ipv4_text, ipv6_bytes, ipv6_text
from micromatter.errors import DnsError

N = wire.name
LOCAL = b"\x05local\x00"

# A QU query for _matterc._udp.local PTR, as a commissioner sends it (RFC 6762 section 5.4: class 0x8001).
QUERY = unhex("0000 0000 0001 0000 0000 0000") + b"\x08_matterc\x04_udp" + LOCAL + unhex("000c 8001")

# A response: PTR with its target compressed against the question-less answer name, SRV whose target
# shares "local", TXT with two strings, AAAA with cache flush (offsets in the comments).
RESPONSE = (
    unhex("0000 8400 0000 0004 0000 0000")
    # 12: _matterc._udp.local PTR, TTL 4500
    + b"\x08_matterc\x04_udp" + LOCAL + unhex("000c 0001 00001194 0013")
    # 43: rdata, the 16-byte label "ABCDEF0123456789", then a pointer to offset 12
    + b"\x10ABCDEF0123456789" + unhex("c00c")
    # 62: instance name = pointer to the PTR rdata (offset 43), SRV, cache flush, TTL 120,
    # target AABBCCDD at 80 then a pointer to "local" (offset 26)
    + unhex("c02b 0021 8001 00000078 0011") + unhex("0000 0000 15a4") + b"\x08AABBCCDD" + unhex("c01a")
    # TXT on the instance name
    + unhex("c02b 0010 8001 00001194 000c") + b"\x06D=3840\x04CM=1"
    # AAAA for AABBCCDD.local (pointer to the SRV target at offset 80)
    + unhex("c050 001c 8001 00000078 0010") + unhex("fe80 0000 0000 0000 0000 0000 0000 0001")
)


def test_parse_qu_query_capture():
    m = wire.parse(QUERY)
    assert (m.id, m.flags, m.is_response) == (0, 0, False)
    (q,) = m.questions
    assert q.name == (b"_matterc", b"_udp", b"local")
    assert (q.qtype, q.qclass, q.unicast) == (wire.TYPE_PTR, wire.CLASS_IN, True)
    assert m.answers == m.authorities == m.additionals == []


def test_parse_response_capture_with_pointers():
    m = wire.parse(RESPONSE)
    assert m.is_response and m.flags & wire.FLAG_AUTHORITATIVE
    ptr, srv, txt, aaaa = m.answers
    instance = (b"ABCDEF0123456789", b"_matterc", b"_udp", b"local")
    assert ptr.name == (b"_matterc", b"_udp", b"local") and ptr.rdata == instance
    assert (ptr.ttl, ptr.cache_flush) == (4500, False)
    assert srv.name == instance and srv.rdata == (0, 0, 5540, (b"AABBCCDD", b"local"))
    assert (srv.ttl, srv.cache_flush, srv.rclass) == (120, True, wire.CLASS_IN)
    assert txt.name == instance and txt.rdata == (b"D=3840", b"CM=1")
    assert aaaa.name == (b"AABBCCDD", b"local") and aaaa.rdata == ipv6_bytes("fe80::1")


def test_writer_reproduces_the_capture_byte_for_byte():
    # The capture above is laid out exactly as the writer compresses (suffixes registered in order).
    w = wire.Writer()
    w.begin()
    instance = N("ABCDEF0123456789._matterc._udp.local")
    w.record(wire.SECTION_ANSWER, wire.Record(N("_matterc._udp.local"), wire.TYPE_PTR, instance, 4500))
    w.record(wire.SECTION_ANSWER, wire.Record(instance, wire.TYPE_SRV, (0, 0, 5540, N("AABBCCDD.local")), 120,
                                              cache_flush=True))
    w.record(wire.SECTION_ANSWER, wire.Record(instance, wire.TYPE_TXT, (b"D=3840", b"CM=1"), 4500, cache_flush=True))
    w.record(wire.SECTION_ANSWER, wire.Record(N("AABBCCDD.local"), wire.TYPE_AAAA, ipv6_bytes("fe80::1"), 120,
                                              cache_flush=True))
    assert w.finish() == RESPONSE


def test_round_trip_every_type_in_every_section():
    w = wire.Writer(512)
    w.begin(0x1234, 0)
    w.question(N("host.local"), wire.TYPE_ANY, unicast=True)
    w.question(N("_services._dns-sd._udp.local"), wire.TYPE_PTR, wire.CLASS_ANY)
    records = [
        (wire.SECTION_ANSWER, wire.Record(N("host.local"), wire.TYPE_A, bytes((10, 77, 0, 1)), 120, cache_flush=True)),
        (wire.SECTION_ANSWER, wire.Record(N("host.local"), wire.TYPE_AAAA, ipv6_bytes("fd00:77::1"), 0)),
        (wire.SECTION_AUTHORITY, wire.Record(N("svc._x._tcp.local"), wire.TYPE_SRV, (1, 2, 65535, N("host.local")))),
        (wire.SECTION_AUTHORITY, wire.Record(N("svc._x._tcp.local"), wire.TYPE_TXT, (), 4500)),
        (wire.SECTION_ADDITIONAL, wire.Record(N("host.local"), wire.TYPE_NSEC, (N("host.local"), (1, 28, 47)), 120)),
        (wire.SECTION_ADDITIONAL, wire.Record(N("odd.local"), 0xFF00, b"\x01\x02raw", 0xFFFFFFFF)),
        (wire.SECTION_ADDITIONAL, wire.Record(N("a.b.c.local"), wire.TYPE_PTR, N("A.B.C.LOCAL"), 1)),
    ]
    for section, record in records:
        w.record(section, record)
    m = wire.parse(w.finish())
    assert (m.id, m.flags) == (0x1234, 0)
    assert [(q.name, q.qtype, q.qclass, q.unicast) for q in m.questions] == [
        (N("host.local"), wire.TYPE_ANY, wire.CLASS_IN, True),
        (N("_services._dns-sd._udp.local"), wire.TYPE_PTR, wire.CLASS_ANY, False),
    ]
    got = m.answers + m.authorities + m.additionals
    assert (len(m.answers), len(m.authorities), len(m.additionals)) == (2, 2, 3)
    for (section, want), have in zip(records, got):
        assert (have.name, have.rtype, have.ttl, have.cache_flush) == (want.name, want.rtype, want.ttl, want.cache_flush)
        assert have.same_data(want)
    assert got[3].rdata == (b"",)  # an empty TXT is sent as one empty string (RFC 6763 section 6.1)
    assert got[4].rdata == (N("host.local"), (1, 28, 47))


def test_compression_shares_suffixes_case_insensitively():
    w = wire.Writer()
    w.begin()
    w.question(N("a.example.local"), wire.TYPE_A)
    w.question(N("B.EXAMPLE.LOCAL"), wire.TYPE_A)
    w.question(N("example.local"), wire.TYPE_A)
    data = w.finish()
    # 12 + (1+1 + 1+7 + 1+5 + 1) + 4 = 33; then "B" + pointer to "example.local" at 14; then a pointer alone.
    assert data[33:38] == b"\x01B\xc0\x0e" + b"\x00"
    assert data[41:43] == b"\xc0\x0e"
    assert len(data) == 47
    m = wire.parse(data)
    assert [q.name for q in m.questions] == [N("a.example.local"), (b"B", b"example", b"local"), N("example.local")]


def test_compression_never_points_into_the_name_being_written():
    # A name whose labels repeat: its later suffixes equal labels it is writing, not a whole earlier name.
    w = wire.Writer()
    w.begin()
    w.question((b"a", b"a", b"a"), wire.TYPE_A)
    w.question((b"\x00", b"\x00"), wire.TYPE_A)  # label bytes that look like a name's end
    w.question((b"A", b"a"), wire.TYPE_A)
    data = w.finish()
    assert data[12:19] == b"\x01a\x01a\x01a\x00"  # written whole
    assert data[23:28] == b"\x01\x00\x01\x00\x00"
    assert data[32:34] == b"\xc0\x0e"  # "A.a" is the earlier name's suffix "a.a" at offset 14
    assert [q.name for q in wire.parse(data).questions] == [(b"a", b"a", b"a"), (b"\x00", b"\x00"), (b"a", b"a")]


def test_compression_folds_letters_only():
    # "@" (0x40) and "`" (0x60) differ by the case bit but are not letters: no pointer between them.
    w = wire.Writer()
    w.begin()
    w.question((b"x@", b"local"), wire.TYPE_A)
    w.question((b"x`", b"LOCAL"), wire.TYPE_A)
    data = w.finish()
    assert data[26:31] == b"\x02x`\xc0\x0f"  # its own first label, then the shared "local"
    assert [q.name for q in wire.parse(data).questions] == [(b"x@", b"local"), (b"x`", b"local")]


def test_a_rolled_back_record_leaves_no_compression_target():
    w = wire.Writer(40)
    w.begin()
    raises(wire.MessageFullError, w.record, wire.SECTION_ANSWER,
           wire.Record(N("abcdefgh.local"), wire.TYPE_TXT, (b"x" * 30,), 120))
    assert w.empty
    w.question(N("abcdefgh.local"), wire.TYPE_A)  # written whole again: the rolled-back name is gone
    assert w.finish()[12:28] == b"\x08abcdefgh\x05local\x00"


def test_nsec_bitmap_layout():
    w = wire.Writer()
    w.begin()
    w.record(wire.SECTION_ANSWER, wire.Record(N("h.local"), wire.TYPE_NSEC, (N("h.local"), (47, 1, 33, 28)), 120))
    data = w.finish()
    # Window 0, 6 bytes: type 1 -> 0x40 in byte 0, 28 -> 0x08 in byte 3, 33 -> 0x40 in byte 4, 47 -> 0x01 in byte 5.
    assert data.endswith(b"\x01h\x05local\x00" + unhex("0006 400000084001"))  # next name uncompressed
    assert wire.parse(data).answers[0].rdata == (N("h.local"), (1, 28, 33, 47))
    # A type in window 1 (e.g. 256) gets its own block.
    w.begin()
    w.record(wire.SECTION_ANSWER, wire.Record(N("h.local"), wire.TYPE_NSEC, (N("h.local"), (1, 256)), 120))
    data = w.finish()
    assert data.endswith(unhex("0001 40 0101 80"))
    assert wire.parse(data).answers[0].rdata[1] == (1, 256)


def _expect_malformed(data):
    e = raises(wire.DnsFormatError, wire.parse, data)
    assert isinstance(e, DnsError)


def test_rejects_truncation_everywhere():
    _expect_malformed(b"")
    _expect_malformed(QUERY[:11])
    for cut in range(12, len(QUERY)):
        _expect_malformed(QUERY[:cut])
    for cut in range(12, len(RESPONSE)):
        _expect_malformed(RESPONSE[:cut])


def test_rejects_pointer_loops_and_forward_pointers():
    header = unhex("0000 0000 0001 0000 0000 0000")
    _expect_malformed(header + unhex("c00c 0001 0001"))  # points at itself
    _expect_malformed(header + unhex("c00e 0001 0001 00"))  # points forward
    # Two pointers pointing at each other through a label: 12 -> "a" then pointer to 12.
    _expect_malformed(header + b"\x01a" + unhex("c00c 0001 0001"))
    # The second name ("b" at 19) points back to its own start: a loop through a label.
    two = unhex("0000 0000 0002 0000 0000 0000") + b"\x01a\x00" + unhex("0001 0001")
    _expect_malformed(two + b"\x01b" + unhex("c013 0001 0001"))
    # The same name pointing at the first one is fine.
    assert wire.parse(two + b"\x01b" + unhex("c00c 0001 0001")).questions[1].name == (b"b", b"a")
    # A pointer chain that steps back then forward again: 24 -> 12 is fine, but 12 holds a pointer to 15.
    chain = unhex("0000 0000 0002 0000 0000 0000") + unhex("c00f") + b"\x00" + unhex("0001 0001")
    _expect_malformed(chain)


def test_rejects_bad_labels_and_long_names():
    header = unhex("0000 0000 0001 0000 0000 0000")
    _expect_malformed(header + b"\x40" + b"x" * 64 + b"\x00" + unhex("0001 0001"))  # 0x40: reserved label type
    _expect_malformed(header + b"\x80\x01" + unhex("0001 0001"))
    long_name = b"".join(b"\x3f" + b"x" * 63 for _ in range(4)) + b"\x00"  # 257 bytes
    _expect_malformed(header + long_name + unhex("0001 0001"))
    ok_name = b"".join(b"\x3f" + b"x" * 63 for _ in range(3)) + b"\x3d" + b"x" * 61 + b"\x00"  # 255 bytes
    assert len(wire.parse(header + ok_name + unhex("0001 0001")).questions[0].name) == 4


def test_rejects_bad_rdata():
    def one_record(rtype, rdata, rdlen=None):
        rdlen = len(rdata) if rdlen is None else rdlen
        return (unhex("0000 8400 0000 0001 0000 0000") + b"\x01h" + LOCAL + bytes((rtype >> 8, rtype & 0xFF))
                + unhex("0001 00000078") + bytes((rdlen >> 8, rdlen & 0xFF)) + rdata)

    assert wire.parse(one_record(wire.TYPE_A, b"\x01\x02\x03\x04")).answers[0].rdata == b"\x01\x02\x03\x04"
    _expect_malformed(one_record(wire.TYPE_A, b"\x01\x02\x03\x04\x05"))
    _expect_malformed(one_record(wire.TYPE_AAAA, bytes(15)))
    _expect_malformed(one_record(wire.TYPE_A, b"\x01\x02\x03\x04", 6))  # rdlength past the end
    _expect_malformed(one_record(wire.TYPE_SRV, bytes(6)))
    _expect_malformed(one_record(wire.TYPE_SRV, bytes(6) + b"\x00\x00"))  # name shorter than rdlength
    _expect_malformed(one_record(wire.TYPE_PTR, b"\x01x\x00\x00"))
    _expect_malformed(one_record(wire.TYPE_PTR, b"\x05x\x00", 3))  # label runs past rdata into nothing
    _expect_malformed(one_record(wire.TYPE_TXT, b"\x05abc"))
    _expect_malformed(one_record(wire.TYPE_NSEC, b"\xc0\x0c\x00"))  # window without length
    _expect_malformed(one_record(wire.TYPE_NSEC, b"\xc0\x0c\x00\x00"))  # zero-length bitmap
    _expect_malformed(one_record(wire.TYPE_NSEC, b"\xc0\x0c\x00\x21" + bytes(33)))  # 33-byte bitmap
    _expect_malformed(one_record(wire.TYPE_NSEC, b"\xc0\x0c\x01\x01\x80\x00\x01\x80"))  # windows out of order
    assert wire.parse(one_record(99, b"anything")).answers[0].rdata == b"anything"


def test_writer_rejects_what_cannot_be_encoded():
    w = wire.Writer()
    raises(wire.DnsEncodeError, wire.name, "a." + "x" * 64 + ".local")
    raises(wire.DnsEncodeError, wire.name, "a..local")
    raises(wire.DnsEncodeError, wire.name, ".".join(["x" * 63] * 4) + ".local")
    raises(wire.DnsEncodeError, w.record, wire.SECTION_ANSWER, wire.Record(N("h.local"), wire.TYPE_A, b"\x01\x02"))
    raises(wire.DnsEncodeError, w.record, wire.SECTION_ANSWER, wire.Record(N("h.local"), wire.TYPE_TXT, (b"x" * 256,)))
    raises(wire.DnsEncodeError, w.record, wire.SECTION_ANSWER, wire.Record(N("h.local"), wire.TYPE_A, bytes(4), -1))
    raises(wire.DnsEncodeError, w.record, wire.SECTION_ANSWER, wire.Record(N("h.local"), wire.TYPE_SRV, (0, 0, 70000, N("x"))))
    raises(wire.DnsEncodeError, w.record, wire.SECTION_ANSWER, wire.Record(N("h.local"), wire.TYPE_SRV, (0, 0)))
    w.record(wire.SECTION_ADDITIONAL, wire.Record(N("h.local"), wire.TYPE_A, bytes(4)))
    raises(wire.DnsEncodeError, w.record, wire.SECTION_ANSWER, wire.Record(N("h.local"), wire.TYPE_A, bytes(4)))
    raises(wire.DnsEncodeError, w.question, N("h.local"), wire.TYPE_A)
    m = wire.parse(w.finish())  # the failed attempts left nothing behind
    assert (len(m.questions), len(m.answers), len(m.additionals)) == (0, 0, 1)


def test_full_buffer_rolls_back_the_record_and_its_names():
    w = wire.Writer(90)
    w.begin()
    w.record(wire.SECTION_ANSWER, wire.Record(N("one.local"), wire.TYPE_A, bytes(4)))
    before = w.pos
    big = wire.Record(N("a-rather-long-label-for-this.local"), wire.TYPE_TXT, (b"x" * 40,))
    raises(wire.MessageFullError, w.record, wire.SECTION_ANSWER, big)
    assert w.pos == before
    # The rolled-back name must not be used as a compression target.
    w.record(wire.SECTION_ANSWER, wire.Record(N("a-rather-long-label-for-this.local"), wire.TYPE_A, bytes(4)))
    m = wire.parse(w.finish())
    assert [r.name for r in m.answers] == [N("one.local"), N("a-rather-long-label-for-this.local")]


def test_reader_reads_sections_incrementally():
    r = wire.Reader(RESPONSE)
    assert (r.qdcount, r.ancount, r.nscount, r.arcount) == (0, 4, 0, 0)
    assert r.record().rtype == wire.TYPE_PTR
    assert r.record().rtype == wire.TYPE_SRV


def test_names_and_text():
    assert N("Host.Local.") == (b"Host", b"Local")
    assert N((b"with.dot", "local")) == (b"with.dot", b"local")
    assert wire.name_key(N("Host.Local")) == (b"host", b"local")
    assert wire.name_text(N("a.local")) == "a.local."
    assert N("") == ()


def test_addresses():
    assert ipv4_bytes("10.77.0.1") == bytes((10, 77, 0, 1))
    assert ipv6_bytes("fe80::1%veth-dev") == unhex("fe80000000000000 0000000000000001")
    assert ipv6_bytes("::") == bytes(16)
    assert ipv6_bytes("fd00:77::1") == unhex("fd00007700000000 0000000000000001")
    assert ipv6_bytes("1:2:3:4:5:6:7:8") == unhex("0001000200030004 0005000600070008")
    assert ipv6_bytes("::ffff:10.77.0.1") == unhex("0000000000000000 0000ffff0a4d0001")
    assert ipv6_bytes(bytes(16)) == bytes(16)
    for bad in ("10.77.0", "10.77.0.256", "10.77.0.01", "a.b.c.d", "", "1.2.3.4.5"):
        raises(AddressError, ipv4_bytes, bad)
    for bad in ("1:2:3:4:5:6:7", "1::2::3", "12345::", "g::1", ":1", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8"):
        raises(AddressError, ipv6_bytes, bad)
    raises(AddressError, ipv4_bytes, bytes(5))
    raises(AddressError, ipv6_bytes, bytes(4))


def test_address_text_is_the_canonical_form_of_the_bytes():
    # RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as ::
    for text in ("10.77.0.1", "0.0.0.0", "255.255.255.255"):
        assert address_text(ipv4_bytes(text)) == text
    for text, canonical in (("fe80::1%veth-dev", "fe80::1"), ("FD00:0077:0:0:0:0:0:1", "fd00:77::1"),
                            ("1:0:0:2:0:0:0:3", "1:0:0:2::3"), ("1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"),
                            ("::", "::"), ("::ffff:10.77.0.1", "::ffff:a4d:1")):
        assert address_text(ipv6_bytes(text)) == canonical, text
        assert ipv6_bytes(canonical) == ipv6_bytes(text)
    for hex_bytes, canonical in (("20010db8000000000000000000000001", "2001:db8::1"),
                                 ("00000000000000000000000000000001", "::1"),
                                 ("20010db8000000010000000000000001", "2001:db8:0:1::1"),
                                 ("20010db8000000010001000100010001", "2001:db8:0:1:1:1:1:1"),  # one 0: no ::
                                 ("20010000000000010000000000000001", "2001:0:0:1::1"),  # the longer run
                                 ("20010db8000000000001000000000001", "2001:db8::1:0:0:1"),  # the first of two
                                 ("fe800000000000009808b3fffebb66c0", "fe80::9808:b3ff:febb:66c0")):
        assert address_text(unhex(hex_bytes)) == canonical
    assert address_text(memoryview(b"\x0a\x4d\x00\x01")) == "10.77.0.1"
    # Anything but 4 or 16 bytes (or address text) is an AddressError, never an IndexError or TypeError.
    for bad in (b"", bytes(3), bytes(5), bytes(15), bytes(17), None, 7, [10, 77, 0, 1]):
        raises(AddressError, address_text, bad)
        raises(AddressError, ipv4_bytes, bad)
        raises(AddressError, ipv6_bytes, bad)
        raises(AddressError, ipv4_text, bad)
        raises(AddressError, ipv6_text, bad)
