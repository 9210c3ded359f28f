"""Fuzzing of the TLV reader and the message/protocol header decoders (CPython, hypothesis).

Whatever the input, only the codecs' declared errors may escape (``TlvError``,
``MessageError``), walking must end within a bounded number of steps, and what
decodes must encode back to the same bytes (headers) or the same value (TLV).
Each test prints how many cases it ran.
"""

from hypothesis import HealthCheck, given, settings, strategies as st

from fuzzlib import BATCH, batch, count, mutate, mutation, reporter
from micromatter import message, tlv
from micromatter.errors import MessageError, TlvError
from test_tlv import walk

FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

report = reporter(2000)


# --- TLV --------------------------------------------------------------------

tags = st.one_of(
    st.integers(0, 255),
    st.builds(tlv.common_tag, st.integers(0, 0xFFFFFFFF)),
    st.builds(tlv.implicit_tag, st.integers(0, 0xFFFFFFFF)),
    st.builds(tlv.profile_tag, st.integers(1, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(1 << 63), (1 << 64) - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.binary(max_size=40),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(tags, inner, max_size=5),
        st.lists(st.tuples(st.one_of(st.none(), tags), inner), max_size=5).map(tlv.List),
    ),
    max_leaves=20,
)


def check_tlv(name, data):
    try:
        walk(data, len(data))  # every element takes at least one byte
        value = tlv.decode(data)
    except TlvError as e:
        count(name, type(e).__name__)
        return
    # What decodes re-encodes stably (bytes, not values, are compared: a NaN is not equal to itself).
    encoded = tlv.encode(value)
    assert tlv.encode(tlv.decode(encoded)) == encoded
    count(name, "ok")


@FUZZ
@given(batch(st.binary(max_size=64)))
def test_tlv_random_bytes(inputs):
    for data in inputs:
        check_tlv("test_tlv_random_bytes", data)


@FUZZ
@given(batch(st.binary(max_size=12).map(lambda b: b"\x15" + b)))
def test_tlv_random_bytes_in_a_structure(inputs):
    for data in inputs:
        check_tlv("test_tlv_random_bytes_in_a_structure", data)


@FUZZ
@given(values, batch(st.lists(mutation, min_size=1, max_size=4)))
def test_tlv_valid_and_mutated_encodings(value, mutants):
    encoded = tlv.encode(value)
    # The valid encoding decodes to the value and re-encodes to the same bytes.
    assert tlv.decode(encoded) == value
    assert tlv.encode(tlv.decode(encoded)) == encoded
    walk(encoded, len(encoded))
    count("test_tlv_valid_and_mutated_encodings", "valid")
    for mutations in mutants:
        check_tlv("test_tlv_valid_and_mutated_encodings", mutate(encoded, mutations))


OPERATIONS = ("next", "next", "next", "enter", "exit", "find", "str", "bytes", "uint")


@FUZZ
@given(values, st.randoms(use_true_random=False), st.integers(0, 255))
def test_tlv_reader_random_operations(value, rnd, tag):
    # Any sequence of calls on a valid encoding raises at most TlvError (misuse: TlvStateError, TlvWrongTypeError).
    r = tlv.TlvReader(tlv.encode(value))
    for _ in range(BATCH // 2):
        r.reset(r.buf)
        outcome = "ok"
        for _ in range(rnd.randrange(1, 24)):
            op = rnd.choice(OPERATIONS)
            try:
                if op == "find":
                    r.find(tag)
                else:
                    getattr(r, op)()
            except TlvError as e:
                outcome = type(e).__name__
        count("test_tlv_reader_random_operations", outcome)


# --- message and protocol headers -------------------------------------------


def check_header(name, h, data):
    """Decode ``data`` into the header ``h`` (a message header takes 8 bytes or more, a protocol header 6):
    only a ``MessageError``, or the same bytes encoded back."""
    try:
        n = h.decode(data)
    except MessageError as e:
        count(name, type(e).__name__)
        return
    assert (8 if isinstance(h, message.MessageHeader) else 6) <= n <= len(data) and n == h.length()
    out = bytearray(n)
    assert h.encode(out) == n
    assert bytes(out) == data[:n]
    count(name, "ok")


@FUZZ
@given(batch(st.binary(max_size=40)))
def test_message_header_random_bytes(inputs):
    for data in inputs:
        check_header("test_message_header_random_bytes", message.MessageHeader(), data)


# Random bytes rarely pass the version check; these give every flag combination a fair chance.
flag_bytes = st.one_of(st.integers(0, 0x0F), st.integers(0, 255))
security_bytes = st.one_of(st.sampled_from((0x00, 0x01, 0x20, 0x21, 0x40, 0x80, 0x81, 0xE1)), st.integers(0, 255))


@FUZZ
@given(batch(st.tuples(flag_bytes, security_bytes, st.binary(min_size=4, max_size=36))))
def test_message_header_random_flags(inputs):
    for flags, security, rest in inputs:
        data = bytes((flags,)) + rest[:2] + bytes((security,)) + rest[2:]
        check_header("test_message_header_random_flags", message.MessageHeader(), data)


@FUZZ
@given(batch(st.binary(max_size=24)))
def test_protocol_header_random_bytes(inputs):
    for data in inputs:
        check_header("test_protocol_header_random_bytes", message.ProtocolHeader(), data)


@FUZZ
@given(batch(st.tuples(st.integers(0, 0x1F), st.binary(max_size=20))))
def test_protocol_header_valid_flags(inputs):
    for flags, rest in inputs:
        check_header("test_protocol_header_valid_flags", message.ProtocolHeader(), bytes((flags,)) + rest)


node_ids = st.one_of(st.none(), st.integers(0, (1 << 64) - 1))
optional_bytes = st.one_of(st.none(), st.binary(max_size=6))


@FUZZ
@given(batch(st.tuples(
    st.integers(0, 0xFFFF), st.integers(0, 1), st.booleans(), st.booleans(), st.integers(0, 0xFFFFFFFF),
    node_ids, node_ids, st.one_of(st.none(), st.integers(0, 0xFFFF)), optional_bytes,
)))
def test_message_headers_from_random_fields_round_trip(inputs):
    h = message.MessageHeader()
    g = message.MessageHeader()
    buf = bytearray(48)
    for session_id, session_type, privacy, control, counter, source, dest, group, ext in inputs:
        if session_type == message.SESSION_GROUP:  # a group message has a source and a group, no node
            source = 1 if source is None else source
            group = 0 if group is None else group
            dest = None
        else:  # a unicast message goes to a node id or nowhere
            group = None
        h.clear()
        h.session_id, h.session_type, h.privacy, h.control, h.counter = session_id, session_type, privacy, control, counter
        h.source_node_id, h.dest_node_id, h.dest_group_id, h.extensions = source, dest, group, ext
        n = h.encode(buf, 2)
        assert g.decode(buf, 2) == n == h.length()
        assert (g.session_id, g.session_type, g.privacy, g.control, g.counter, g.dest_group_id) == (
            session_id, session_type, privacy, control, counter, group)
        for got, want in ((g.source_node_id, source), (g.dest_node_id, dest)):
            assert (got is None) if want is None else int.from_bytes(got, "little") == want
        assert (g.extensions is None) if ext is None else bytes(g.extensions) == ext
        count("test_message_headers_from_random_fields_round_trip", "ok")


@FUZZ
@given(batch(st.tuples(
    st.booleans(), st.booleans(), st.one_of(st.none(), st.integers(0, 0xFFFFFFFF)),
    st.one_of(st.none(), st.integers(0, 0xFFFF)), st.integers(0, 0xFFFF), st.integers(0, 255),
    st.integers(0, 0xFFFF), optional_bytes,
)))
def test_protocol_headers_from_random_fields_round_trip(inputs):
    p = message.ProtocolHeader()
    q = message.ProtocolHeader()
    buf = bytearray(32)
    for fields in inputs:
        (p.initiator, p.reliable, p.ack_counter, p.vendor_id, p.protocol_id, p.opcode, p.exchange_id,
         p.extensions) = fields
        n = p.encode(buf, 1)
        assert q.decode(buf, 1, 1 + n) == n == p.length()
        got = (q.initiator, q.reliable, q.ack_counter, q.vendor_id, q.protocol_id, q.opcode, q.exchange_id,
               None if q.extensions is None else bytes(q.extensions))
        assert got == fields
        count("test_protocol_headers_from_random_fields_round_trip", "ok")
