"""Message and protocol header codecs: captured messages, hand-built headers checked against the
spec layout, round trips, and every rejection."""

from support import raises, unhex, tohex
from micromatter import message as m
from micromatter.errors import MessageError

# A PBKDFParamRequest and the PBKDFParamResponse answering it, as captured in the matter.js codec tests.
NODE = 5936706156730294398
REQUEST = unhex(
    "040000000a4ff2177ea0c8a7cb6a63520520d3640000"
    "153001204715a406c6b0496ad52039e347db8528cb69a1cb2fce6f2318552ae65e103aca250233dc240300280435052501881325022c011818"
)
RESPONSE = unhex(
    "01000000218712797ea0c8a7cb6a63520621d36400000a4ff217"
    "153001204715a406c6b0496ad52039e347db8528cb69a1cb2fce6f2318552ae65e103aca3002201783302d95a4a9fb0decb8fdd6564b90a9"
    "57681459aeee069961bea61d7b247125039d8935042501e80330022099f813dd41bd081a1c63e811828f0662594bca89cd9d4ed26f7427fd"
    "b2a027361835052501881325022c011818"
)
# The same request with a 3-byte message extension block (MX), and with 3 bytes of secured extensions (SX).
REQUEST_MX = unhex("040000200a4ff2177ea0c8a7cb6a635203000102030520d3640000")
REQUEST_SX = unhex("040000000a4ff2177ea0c8a7cb6a63520d20d36400000300010203")
# A privacy-obfuscated group message (connectedhomeip session manager tests): 18 header bytes, then 22 of payload.
PRIVATE_GROUP = unhex("067ddb81d926afce24c8a0981bdd44f4e7302b2f915a66c9596290ebe4408217b3c0c921a2fca4e1")


def node_bytes(n):
    return n.to_bytes(8, "little")


def test_captured_request_decodes_and_reencodes():
    h = m.MessageHeader()
    n = h.decode(REQUEST)
    assert n == 16
    assert h.session_id == 0 and h.session_type == m.SESSION_UNICAST
    assert not h.privacy and not h.control and h.extensions is None
    assert h.counter == 401755914
    assert h.source_node_id == node_bytes(NODE)
    assert h.dest_node_id is None and h.dest_group_id is None
    assert h.security_flags() == 0
    p = m.ProtocolHeader()
    k = p.decode(REQUEST, n)
    assert k == 6
    assert p.initiator and p.reliable and p.ack_counter is None and p.vendor_id is None
    assert p.opcode == 0x20 and p.exchange_id == 25811 and p.protocol_id == 0 and p.extensions is None
    out = bytearray(len(REQUEST))
    assert h.encode(out) == 16
    assert p.encode(out, 16) == 6
    out[22:] = REQUEST[22:]
    assert out == REQUEST


def test_captured_response_decodes_and_reencodes():
    h = m.MessageHeader()
    assert h.decode(RESPONSE) == 16
    assert h.counter == 2031257377 and h.source_node_id is None
    assert h.dest_node_id == node_bytes(NODE)
    p = m.ProtocolHeader()
    assert p.decode(RESPONSE, 16) == 10
    assert not p.initiator and p.reliable and p.ack_counter == 401755914
    assert p.opcode == 0x21 and p.exchange_id == 25811 and p.protocol_id == 0
    assert p.exchange_flags() == 0x06
    out = bytearray(26)
    assert h.encode(out) == 16 and p.encode(out, 16) == 10
    assert out == RESPONSE[:26]


def test_extensions_are_skipped_with_their_length():
    h = m.MessageHeader()
    assert h.decode(REQUEST_MX) == 21
    assert bytes(h.extensions) == b"\x01\x02\x03" and h.security_flags() == m.FLAG_EXTENSIONS
    p = m.ProtocolHeader()
    assert p.decode(REQUEST_MX, 21) == 6 and p.opcode == 0x20
    out = bytearray(27)
    assert h.encode(out) == 21 and p.encode(out, 21) == 6 and out == REQUEST_MX
    assert h.decode(REQUEST_SX) == 16 and h.extensions is None
    assert p.decode(REQUEST_SX, 16) == 11
    assert bytes(p.extensions) == b"\x01\x02\x03" and p.exchange_flags() == 0x0D
    assert p.initiator and p.reliable and p.exchange_id == 25811 and p.protocol_id == 0
    out = bytearray(27)
    assert h.encode(out) == 16 and p.encode(out, 16) == 11 and out == REQUEST_SX


def test_privacy_group_message_layout():
    h = m.MessageHeader()
    assert h.decode(PRIVATE_GROUP) == 18
    assert h.privacy and h.session_type == m.SESSION_GROUP and h.session_id == 0xDB7D
    assert h.security_flags() == 0x81
    assert h.source_node_id is not None and h.dest_group_id is not None and h.dest_node_id is None
    assert h.obfuscated_length() == 14  # counter 4 + source node id 8 + group id 2
    assert m.PRIVACY_OFFSET + h.obfuscated_length() == 18


def test_hand_built_headers_follow_the_spec_layout():
    # Group message: flags S|DSIZ=2, session 0x1234, security C|group, counter, source, group id.
    data = unhex("06 3412 41 78563412 0102030405060708 cdab")
    h = m.MessageHeader()
    assert h.decode(data) == 18
    assert h.session_id == 0x1234 and h.control and h.session_type == m.SESSION_GROUP
    assert h.counter == 0x12345678 and h.source_node_id == unhex("0102030405060708")
    assert h.dest_group_id == 0xABCD and h.dest_node_id is None
    # Unicast secure message with source and destination node ids.
    data = unhex("05 0100 00 ffffffff 1111111111111111 2222222222222222")
    assert h.decode(data) == 24
    assert h.counter == 0xFFFFFFFF and h.dest_group_id is None
    assert h.source_node_id == b"\x11" * 8 and h.dest_node_id == b"\x22" * 8 and not h.control
    # Protocol header with a vendor id (V), an ack (A), no R and no I.
    data = unhex("12 07 3412 f1ff 0100 04030201")
    p = m.ProtocolHeader()
    assert p.decode(data) == 12
    assert p.vendor_id == 0xFFF1 and p.protocol_id == 1 and p.opcode == 7 and p.exchange_id == 0x1234
    assert p.ack_counter == 0x01020304 and not p.reliable and not p.initiator
    out = bytearray(12)
    assert p.encode(out) == 12 and out == data


def test_encode_builds_headers_from_fields():
    h = m.MessageHeader()
    h.session_id = 0xBEEF
    h.counter = 1
    h.source_node_id = 0x0102030405060708
    h.dest_node_id = unhex("1112131415161718")
    buf = bytearray(b"\xee" * 30)
    assert h.length() == 24
    assert h.encode(buf, 3) == 24
    assert tohex(buf) == "eeeeee" + "05efbe0001000000" + "0807060504030201" + "1112131415161718" + "eeeeee"
    assert h.decode(buf, 3, 27) == 24 and h.source_node_id == node_bytes(0x0102030405060708)
    g = m.MessageHeader()
    g.session_id = 7
    g.session_type = m.SESSION_GROUP
    g.counter = 9
    g.source_node_id = 1
    g.dest_group_id = 0x0102
    g.privacy = True
    out = bytearray(18)
    assert g.encode(out) == 18 and out == unhex("06 0700 81 09000000 0100000000000000 0201")
    p = m.ProtocolHeader()
    p.initiator = True
    p.opcode = 2
    p.exchange_id = 0xFFFF
    p.protocol_id = 1
    p.extensions = b""
    out = bytearray(8)
    assert p.length() == 8 and p.encode(out) == 8 and out == unhex("09 02 ffff 0100 0000")


def test_decoding_reuses_the_header_object():
    h = m.MessageHeader()
    h.decode(REQUEST_MX)
    src = h.source_node_id
    h.decode(RESPONSE)
    assert h.source_node_id is None and h.extensions is None and h.dest_node_id is not None
    h.decode(REQUEST)
    assert h.source_node_id is src and h.dest_node_id is None  # the same preallocated buffer
    p = m.ProtocolHeader()
    p.decode(RESPONSE, 16)
    p.decode(REQUEST, 16)
    assert p.ack_counter is None
    h.clear()
    assert h.length() == 8


def header(flags, security=0x00, rest=""):
    """The 8 fixed bytes of a message header with these flags (session id and counter 0), then ``rest``."""
    return bytes((flags, 0, 0, security, 0, 0, 0, 0)) + unhex(rest)


MESSAGE_REJECTIONS = (
    (header(0x10), m.HeaderVersionError),
    (header(0xF4), m.HeaderVersionError),
    (header(0x08), m.HeaderReservedError),
    (header(0x03), m.HeaderReservedError),
    (header(0x00, 0x04), m.HeaderReservedError),
    (header(0x00, 0x08), m.HeaderReservedError),
    (header(0x00, 0x10), m.HeaderReservedError),
    (header(0x00, 0x02), m.HeaderReservedError),
    (header(0x00, 0x03), m.HeaderReservedError),
    (header(0x02, 0x01, "0000"), m.HeaderInconsistentError),  # group without source node id
    (header(0x05, 0x01, "00" * 16), m.HeaderInconsistentError),  # group to a node id
    (header(0x04, 0x01, "00" * 8), m.HeaderInconsistentError),  # group without destination
    (header(0x02, 0x00, "0000"), m.HeaderInconsistentError),  # unicast to a group
    (header(0x04, 0x00, "00" * 7), m.HeaderTruncatedError),
    (header(0x01, 0x00, "00" * 7), m.HeaderTruncatedError),
    (header(0x06, 0x01, "00" * 9), m.HeaderTruncatedError),
    (header(0x00, 0x20, ""), m.HeaderTruncatedError),
    (header(0x00, 0x20, "00"), m.HeaderTruncatedError),
    (header(0x00, 0x20, "0100"), m.HeaderExtensionLengthError),
    (header(0x00, 0x20, "ffff 00"), m.HeaderExtensionLengthError),
)


def test_message_header_rejections():
    h = m.MessageHeader()
    for data, error in MESSAGE_REJECTIONS:
        e = raises(error, h.decode, data)
        assert isinstance(e, MessageError), tohex(data)
    # Every prefix of a valid header is too short.
    for n in range(16):
        raises(m.HeaderTruncatedError, h.decode, REQUEST[:n])
    raises(m.HeaderTruncatedError, h.decode, REQUEST, 0, 15)
    raises(m.HeaderTruncatedError, h.decode, REQUEST, len(REQUEST) - 4)
    raises(m.HeaderTruncatedError, h.decode, REQUEST, -1)
    for n in range(21):
        raises(m.HeaderTruncatedError, h.decode, REQUEST_MX[:n])


def test_protocol_header_rejections():
    p = m.ProtocolHeader()
    for flags in (0x20, 0x40, 0x80):
        raises(m.HeaderReservedError, p.decode, bytes((flags,)) + b"\x00" * 5)
    for data, error in (
        (unhex("00 00 0000 00"), m.HeaderTruncatedError),
        (unhex("10 00 0000 0000"), m.HeaderTruncatedError),  # vendor id, no protocol id
        (unhex("02 00 0000 0000 000000"), m.HeaderTruncatedError),  # ack counter cut short
        (unhex("08 00 0000 0000 00"), m.HeaderTruncatedError),
        (unhex("08 00 0000 0000 0400 000000"), m.HeaderExtensionLengthError),
    ):
        e = raises(error, p.decode, data)
        assert isinstance(e, MessageError)
    for n in range(10):
        raises(m.HeaderTruncatedError, p.decode, RESPONSE[16 : 16 + n])
    raises(m.HeaderTruncatedError, p.decode, RESPONSE, 16, 25)


def test_encode_rejections():
    h = m.MessageHeader()
    raises(m.HeaderBufferError, h.encode, bytearray(7))
    raises(m.HeaderBufferError, h.encode, bytearray(8), 1)
    for name, value in (("session_id", 0x10000), ("session_id", -1), ("counter", 1 << 32), ("session_type", 2),
                        ("source_node_id", 1 << 64), ("source_node_id", b"1234567"), ("dest_node_id", "12345678"),
                        ("extensions", bytes(0x10000))):
        h.clear()
        setattr(h, name, value)
        raises(m.HeaderFieldError, h.encode, bytearray(80000))
    h.clear()
    h.dest_node_id = 1
    h.dest_group_id = 1
    raises(m.HeaderInconsistentError, h.encode, bytearray(32))
    h.clear()
    h.dest_group_id = 1
    raises(m.HeaderInconsistentError, h.encode, bytearray(32))  # unicast to a group
    h.session_type = m.SESSION_GROUP
    raises(m.HeaderInconsistentError, h.encode, bytearray(32))  # group without source
    h.clear()
    h.session_type = m.SESSION_GROUP
    h.source_node_id = 1
    raises(m.HeaderInconsistentError, h.encode, bytearray(32))  # group without group id
    p = m.ProtocolHeader()
    raises(m.HeaderBufferError, p.encode, bytearray(5))
    for name, value in (("opcode", 256), ("exchange_id", 0x10000), ("protocol_id", -1), ("vendor_id", 0x10000),
                        ("ack_counter", 1 << 32), ("extensions", bytes(0x10000))):
        p.clear()
        setattr(p, name, value)
        raises(m.HeaderFieldError, p.encode, bytearray(80000))


def test_round_trips_of_flag_combinations():
    h = m.MessageHeader()
    g = m.MessageHeader()
    buf = bytearray(64)
    count = 0
    for session_type in (m.SESSION_UNICAST, m.SESSION_GROUP):
        for source in (None, b"\x01" * 8):
            for dest in ("none", "node", "group"):
                for ext in (None, b"", b"xyz"):
                    h.clear()
                    h.session_type = session_type
                    h.session_id = 0x8001
                    h.counter = 0xFEDCBA98
                    h.privacy = source is not None
                    h.control = ext is None
                    h.source_node_id = source
                    h.dest_node_id = b"\x02" * 8 if dest == "node" else None
                    h.dest_group_id = 0x0102 if dest == "group" else None
                    h.extensions = ext
                    try:
                        n = h.encode(buf, 1)
                    except m.HeaderInconsistentError:
                        continue
                    assert n == h.length()
                    assert g.decode(buf, 1, 1 + n) == n
                    out = bytearray(n)
                    g.encode(out)
                    assert out == buf[1 : 1 + n]
                    assert g.counter == 0xFEDCBA98 and g.session_type == session_type
                    assert g.privacy == h.privacy and g.control == h.control
                    count += 1
    assert count == (2 * 2 + 1) * 3  # unicast: 2 sources x 2 destinations; group: source and group id
    p = m.ProtocolHeader()
    q = m.ProtocolHeader()
    for flags in range(32):
        p.clear()
        p.initiator = bool(flags & 1)
        p.ack_counter = 0xFFFFFFFF if flags & 2 else None
        p.reliable = bool(flags & 4)
        p.extensions = b"\x09" if flags & 8 else None
        p.vendor_id = 0xFFF1 if flags & 16 else None
        p.opcode = flags
        p.exchange_id = 0x4321
        p.protocol_id = 1
        n = p.encode(buf)
        assert buf[0] == flags and n == p.length()
        assert q.decode(buf, 0, n) == n
        assert (q.initiator, q.reliable, q.ack_counter, q.vendor_id, q.opcode) == (
            p.initiator, p.reliable, p.ack_counter, p.vendor_id, p.opcode)
