"""Fuzzing (hypothesis) of the IM message decoders and of the engine with random and mutated payloads.

Decoders may only raise ``MalformedMessageError``; the engine may raise
nothing at all, must keep its per-exchange state bounded, and must keep
serving well-formed requests afterwards.
"""

from hypothesis import given, settings, HealthCheck
from hypothesis import strategies as st

from micromatter import tlv, log
from micromatter.im import messages as msg
from micromatter.im import status
from micromatter.im.engine import Engine, Reply
from micromatter.im.paths import AttributePath, CommandPath, EventPath, DataVersionFilter, APPEND, WHOLE
from micromatter.im.status import MalformedMessageError
from test_im_helpers import make_light, admin, stranger, commissioner

DECODERS = (
    msg.decode_status_response,
    msg.decode_timed_request,
    msg.decode_read_request,
    msg.decode_subscribe_request,
    msg.decode_subscribe_response,
    msg.decode_report_data,
    msg.decode_write_request,
    msg.decode_write_response,
    msg.decode_invoke_request,
    msg.decode_invoke_response,
)

OPCODES = (0x01, 0x02, 0x03, 0x05, 0x06, 0x08, 0x0A, 0x0B, 0x00)

# TLV values that look like IM messages: small ints and tags near the real ones.
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.integers(min_value=0, max_value=300),
    st.text(max_size=8),
    st.binary(max_size=16),
)
_tags = st.integers(min_value=0, max_value=8) | st.just(0xFF)


def _containers(children):
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(_tags, children, max_size=5),
        st.lists(st.tuples(st.one_of(st.none(), _tags), children), max_size=4).map(tlv.List),
    )


_values = st.recursive(_scalars, _containers, max_leaves=12)
_structs = st.dictionaries(_tags, _values, max_size=6)


def _encoded(value):
    try:
        return tlv.encode(value)
    except Exception:
        return b"\x15\x18"


def _check_decoders(data):
    for decode in DECODERS:
        try:
            decode(data)
        except MalformedMessageError:
            pass


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=96))
def test_decoders_on_random_bytes(data):
    _check_decoders(data)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_structs)
def test_decoders_on_random_tlv(value):
    _check_decoders(_encoded(value))


_VALID = [
    (0x02, msg.ReadRequest([AttributePath()]).encode()),
    (0x02, msg.ReadRequest([AttributePath(1, 6, 0)], [EventPath(0, 0x28, 0)]).encode()),
    (0x02, msg.ReadRequest(event_paths=[EventPath()], event_filters=[(None, 1)]).encode()),
    (0x03, msg.SubscribeRequest(0, 5, [], [EventPath(0, None, None)]).encode()),
    (0x03, msg.SubscribeRequest(0, 5, [AttributePath(1, None, None)]).encode()),
    (0x06, msg.WriteRequest([msg.AttributeData(AttributePath(0, 0x1F, 0), [{1: 5, 2: 2, 3: [0x1122], 254: 1}])]).encode()),
    (0x06, msg.WriteRequest([msg.AttributeData(AttributePath(0, 0x28, 5), "label")]).encode()),
    (0x08, msg.InvokeRequest([msg.CommandData(CommandPath(1, 6, 2), None)]).encode()),
    (0x08, msg.InvokeRequest([msg.CommandData(CommandPath(0, 0x30, 0), {0: 60, 1: 1})]).encode()),
    (0x0A, msg.TimedRequest(100).encode()),
    (0x01, msg.StatusResponse(0).encode()),
]


def _mutate(data, edits):
    out = bytearray(data)
    for pos, byte, op in edits:
        if not out:
            break
        pos %= len(out)
        if op == 0:
            out[pos] = byte
        elif op == 1:
            del out[pos]
        else:
            out.insert(pos, byte)
    return bytes(out)


_edits = st.lists(st.tuples(st.integers(0, 500), st.integers(0, 255), st.integers(0, 2)), min_size=1, max_size=4)


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(_VALID), _edits)
def test_decoders_on_mutated_messages(valid, edits):
    _check_decoders(_mutate(valid[1], edits))


_subjects = st.sampled_from(["admin", "stranger", "commissioner"])
_steps = st.lists(
    st.tuples(
        st.sampled_from(OPCODES),
        st.one_of(
            st.binary(max_size=64),
            _structs.map(_encoded),
            st.tuples(st.sampled_from(_VALID), _edits).map(lambda v: _mutate(v[0][1], v[1])),
            st.sampled_from(_VALID).map(lambda v: v[1]),
        ),
        st.sampled_from(["a", "b", "c", "d", "e"]),
        _subjects,
        st.integers(0, 5000),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_steps, st.sampled_from([120, 300, 1180]))
def test_engine_never_raises_and_stays_bounded(steps, max_payload):
    light = make_light()
    engine = Engine(light.node, light.acl, max_payload=max_payload, max_interactions=3, max_subscriptions=3)
    light.basic.start_up(0)
    light.basic.leave(2, 0)
    lines = []
    log.set_sink(lines.append)
    try:
        _run_steps(engine, steps, max_payload)
    finally:
        log.set_sink(None)
    # Bad input is answered with statuses; no handler or encoder failed on the way (those log at error level).
    assert not [line for line in lines if line.startswith("E ")]


def _run_steps(engine, steps, max_payload):
    subjects = {"admin": admin(), "stranger": stranger(), "commissioner": commissioner()}
    now = 0
    for opcode, payload, exchange, who, dt in steps:
        now += dt
        reply = engine.on_request(exchange, subjects[who], opcode, payload, now)
        assert reply is None or isinstance(reply, Reply)
        if reply is not None:
            assert len(reply.payload) <= max_payload
        for out in engine.poll(now):
            assert len(out.payload) <= max_payload
            engine.on_request(out.exchange, out.session and admin(out.session), 0x01, msg.StatusResponse(0).encode(), now)
        assert len(engine._states) <= 3 + len(engine.subscriptions)
        assert len(engine.subscriptions) <= 3
    # The node still answers a plain read.
    reply = engine.on_request("fresh", admin(), 0x02, msg.ReadRequest([AttributePath(1, 6, 0)]).encode(), now)
    report = msg.decode_report_data(reply.payload)
    assert report.attribute_reports and report.attribute_reports[0].path == AttributePath(1, 6, 0)


_paths = st.builds(
    AttributePath,
    st.none() | st.integers(0, 0xFFFF),
    st.none() | st.integers(0, 0xFFFFFFFF),
    st.none() | st.integers(0, 0xFFFFFFFF),
    st.none() | st.integers(0, 2**64 - 1),
    st.sampled_from([WHOLE, APPEND, 0, 7]),
)
_filters = st.builds(DataVersionFilter, st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF), st.integers(0, 0xFFFFFFFF))


@settings(max_examples=500, deadline=None)
@given(st.lists(_paths, max_size=5), st.lists(_filters, max_size=3), st.booleans(), st.integers(0, 0xFFFF),
       st.integers(0, 0xFFFF), st.booleans())
def test_subscribe_request_round_trip(paths, filters, fabric_filtered, floor, ceiling, keep):
    req = msg.SubscribeRequest(floor, ceiling, paths, None, None, fabric_filtered, filters, keep)
    back = msg.decode_subscribe_request(req.encode())
    assert back.attribute_paths == paths and back.data_version_filters == filters
    assert (back.min_interval_floor, back.max_interval_ceiling, back.keep_subscriptions) == (floor, ceiling, keep)
    assert back.fabric_filtered == fabric_filtered
