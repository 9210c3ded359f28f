"""Fuzzing of the CASE message decoders and of both CASE state machines (CPython, hypothesis).

Decoders: on random bytes, random TLV structures and mutations of real messages, only their declared errors
may escape, and what decodes encodes back to the same fields.  State machines: on random sequences of
messages (honest and junk initiators, every CASE opcode, mutated and random payloads, time moving on) nothing
escapes, each call asks to send at most one well-formed message, and the session id a handshake reserved in
the session core is released exactly when it ends without a session.  A real handshake (full or resumed)
with one message mutated in transit either still agrees on the keys or fails.  Each test prints how many
cases it ran.
"""

from hypothesis import HealthCheck, given, settings, strategies as st

from casekit import Authority, Side
from handshakekit import run
from fuzzlib import batch, count, mutate, mutation, reporter
from micromatter.errors import TlvError
from micromatter.securechannel import case, opcodes, session_params, status
from micromatter.securechannel.sigma import CaseMessageError, Sigma1, Sigma2, Sigma2Resume, Sigma3, TbeData
from micromatter.session.secure import ESTABLISHING
from micromatter.tlv import encode

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

report = reporter(150)

DECODE_ERRORS = (TlvError, CaseMessageError, session_params.SessionParametersError)
DEVICE = 0x1111
CONTROLLER = 0x2222
AUTHORITY = Authority()
DEVICE_FABRIC = AUTHORITY.fabric(DEVICE)
CONTROLLER_FABRIC = AUTHORITY.fabric(CONTROLLER, cats=(0x00050001,))


def _real_messages():
    """One real payload of each CASE message (a full handshake, then a resumed one)."""
    device = Side([DEVICE_FABRIC])
    controller = Side([CONTROLLER_FABRIC], seed=40)
    found = {}
    for _ in range(2):
        trace = []
        run(controller.initiator(CONTROLLER_FABRIC, DEVICE), device.responder, trace=trace)
        for _, opcode, payload in trace:
            found.setdefault(opcode, payload)
    return found


VALID = _real_messages()
assert sorted(VALID) == [opcodes.SIGMA1, opcodes.SIGMA2, opcodes.SIGMA3, opcodes.SIGMA2_RESUME, opcodes.STATUS_REPORT]
TBE = TbeData(DEVICE_FABRIC.credentials.noc, DEVICE_FABRIC.credentials.icac, bytes(64), bytes(16)).encode()
DECODERS = {
    opcodes.SIGMA1: Sigma1.decode,
    opcodes.SIGMA2: Sigma2.decode,
    opcodes.SIGMA3: Sigma3.decode,
    opcodes.SIGMA2_RESUME: Sigma2Resume.decode,
    "tbe2": lambda data: TbeData.decode(data, True),
    "tbe3": lambda data: TbeData.decode(data, False),
}
SAMPLES = dict(VALID)
SAMPLES["tbe2"] = SAMPLES["tbe3"] = TBE


def fields(message):
    return sorted((k, repr(v)) for k, v in message.__dict__.items())


def check_decode(name, kind, data):
    try:
        message = DECODERS[kind](data)
    except DECODE_ERRORS as e:
        count(name, type(e).__name__)
        return
    again = DECODERS[kind](message.encode())
    assert fields(again) == fields(message)
    count(name, "ok")


kinds = st.sampled_from(sorted(DECODERS, key=str))
field_values = st.one_of(
    st.binary(max_size=80),
    st.sampled_from((bytes(16), bytes(32), bytes(64), b"\x04" + bytes(64), TBE)),
    st.integers(0, 1 << 33),
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
)
nested = st.dictionaries(st.integers(0, 10), field_values, max_size=8)
structs = st.dictionaries(st.integers(0, 9), st.one_of(field_values, nested), max_size=8)


@FUZZ
@given(st.data())
def test_decoders_on_random_bytes(data):
    for raw in data.draw(batch(st.binary(max_size=300))):
        check_decode("test_decoders_on_random_bytes", data.draw(kinds), raw)


@FUZZ
@given(st.data())
def test_decoders_on_tlv_structures(data):
    for value in data.draw(batch(structs)):
        check_decode("test_decoders_on_tlv_structures", data.draw(kinds), encode(value))


@FUZZ
@given(st.data())
def test_decoders_on_mutated_messages(data):
    for mutations in data.draw(batch(st.lists(mutation, min_size=1, max_size=4))):
        kind = data.draw(kinds)
        check_decode("test_decoders_on_mutated_messages", kind, mutate(SAMPLES[kind], mutations))


# --- state machines ----------------------------------------------------------------------------------


def payload_strategy(opcode):
    return st.one_of(
        st.just(VALID.get(opcode, b"")),
        st.sampled_from(sorted(VALID.values())),
        st.lists(mutation, min_size=1, max_size=3).map(lambda m: mutate(VALID.get(opcode, VALID[opcodes.SIGMA1]), m)),
        st.binary(max_size=80),
    )


OPCODES = sorted(VALID) + [opcodes.PAKE1, 0x99]
steps = st.tuples(
    st.sampled_from(("A", "B", "honest", "honest", "honest", "timer", "abort")),
    st.sampled_from(OPCODES),
    st.integers(0, 40000),
).flatmap(lambda t: st.tuples(st.just(t[0]), st.just(t[1]), st.just(t[2]), payload_strategy(t[1])))


def outcome(out):
    label = "silent" if out.opcode is None else opcodes.name(out.opcode)
    for event in out.events:
        label += "+" + type(event).__name__
    return label


def check_output(out):
    if out.opcode is not None:
        assert isinstance(out.payload, bytes)
        if out.opcode == opcodes.STATUS_REPORT:
            report = status.StatusReport.decode(out.payload)
            assert out.reliable == report.reliable
        else:
            DECODERS[out.opcode](out.payload)  # everything we send decodes
    for event in out.events:
        assert isinstance(event, (case.Established, case.Failed))


def reserved(sessions):
    t = sessions.secure
    return sorted(t.local_id[i] for i in range(t.capacity) if t.state[i] == ESTABLISHING)


@FUZZ
@given(st.lists(steps, min_size=1, max_size=10), st.integers(1, 3))
def test_responder_on_random_message_sequences(sequence, capacity):
    device = Side([DEVICE_FABRIC], seed=capacity, timeout_ms=30000)
    device.sessions = device.responder.sessions = device.sessions.__class__(
        device.sessions.context, device.storage, secure_capacity=capacity)
    r = device.responder
    controller = Side([CONTROLLER_FABRIC], seed=9)
    honest = controller.initiator(CONTROLLER_FABRIC, DEVICE)
    pending = honest.start(0)
    now = 0
    for who, opcode, advance, payload in sequence:
        now += advance
        if who == "honest":
            if pending.opcode is None or honest.next_deadline() is None:
                honest = controller.initiator(CONTROLLER_FABRIC, DEVICE, now)
                pending = honest.start(now)
            out = r.on_message("A", pending.opcode, pending.payload, now)
            pending = honest.on_message(out.opcode, out.payload, now) if out.opcode is not None else case.Output()
            check_output(pending)
            if pending.opcode is not None and pending.opcode == opcodes.STATUS_REPORT and pending.events:
                # A resumed handshake: the initiator's Success goes back to the responder at once.
                extra = r.on_message("A", pending.opcode, pending.payload, now)
                check_output(extra)
                out.events.extend(extra.events)
        elif who == "timer":
            out = r.on_timer(now)
        elif who == "abort":
            out = r.abort("A")
        else:
            out = r.on_message(who, opcode, payload, now)
        check_output(out)
        for e in out.events:
            if isinstance(e, case.Established):
                e.create_session(device.sessions, now)
        assert reserved(device.sessions) == ([r.local_session_id] if r.in_progress() else [])
        assert r.state in (case.LISTENING, case.WAIT_SIGMA3, case.WAIT_RESUME_STATUS)
        count("test_responder_on_random_message_sequences", outcome(out))


initiator_steps = st.tuples(st.sampled_from(OPCODES), st.integers(0, 30000)).flatmap(
    lambda t: st.tuples(st.just(t[0]), st.just(t[1]), payload_strategy(t[0]))
)


@FUZZ
@given(st.lists(initiator_steps, min_size=1, max_size=8), st.booleans())
def test_initiator_on_random_message_sequences(sequence, resume):
    controller = Side([CONTROLLER_FABRIC], seed=11)
    i = controller.initiator(CONTROLLER_FABRIC, DEVICE, resume=resume)
    check_output(i.start(0))
    now = 0
    ended = 0
    for opcode, advance, payload in sequence:
        now += advance
        out = i.on_message(opcode, payload, now)
        check_output(out)
        ended += len(out.events)
        if ended:
            assert i.next_deadline() is None
        count("test_initiator_on_random_message_sequences", outcome(out))
    assert ended <= 1


@SLOW
@given(st.integers(0, 3), st.lists(mutation, min_size=1, max_size=3), st.integers(1, 1000), st.booleans())
def test_handshake_with_one_message_mutated_in_transit(which, mutations, seed, resume):
    device = Side([DEVICE_FABRIC], seed=seed)
    controller = Side([CONTROLLER_FABRIC], seed=seed + 1)
    if resume:  # a first clean handshake leaves records on both sides
        first, _ = run(controller.initiator(CONTROLLER_FABRIC, DEVICE), device.responder)
        for out in first:
            for e in out.events:
                e.create_session(device.sessions, 0)
    sent = [0]

    def tamper(opcode, payload):
        sent[0] += 1
        return mutate(payload, mutations) if sent[0] - 1 == which else payload

    i = controller.initiator(CONTROLLER_FABRIC, DEVICE)
    r_outs, i_outs = run(i, device.responder, tamper=tamper)
    for out in r_outs + i_outs:
        check_output(out)
    r_events = [e for out in r_outs for e in out.events]
    i_events = [e for out in i_outs for e in out.events]
    established = [e for e in r_events + i_events if isinstance(e, case.Established)]
    if len(established) == 2:
        a, b = established
        assert a.shared_secret == b.shared_secret and a.salt == b.salt and a.is_resumption == b.is_resumption
        count("test_handshake_with_one_message_mutated_in_transit", "still agreed")
    else:
        assert [e for e in r_events + i_events if isinstance(e, case.Failed)] or device.responder.in_progress()
        assert len(established) <= 1
        if not [e for e in r_events if isinstance(e, case.Established)]:
            r = device.responder
            assert reserved(device.sessions) == ([r.local_session_id] if r.in_progress() else [])
        count("test_handshake_with_one_message_mutated_in_transit", "failed")
