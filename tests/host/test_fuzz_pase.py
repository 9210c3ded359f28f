"""Fuzzing of the PASE message decoders and of both PASE state machines (CPython, hypothesis).

Decoders: on random bytes, random TLV structures and mutations of valid messages, only their declared
errors may escape, and what decodes encodes back to the same fields.  State machines: on random
sequences of messages (two peers, every opcode, mutated and random payloads, time moving on) nothing
escapes, each call asks to send at most one well-formed message, the session ids handed out are
released exactly when a handshake ends without a session, and the failure count matches the events.
A real handshake with one message mutated in transit either still agrees on the secret or fails on
both sides.  Each test prints how many cases it ran.
"""

from hypothesis import HealthCheck, given, settings, strategies as st

from fuzzlib import batch, count, mutate, mutation, reporter
from micromatter.crypto import spake2p
from micromatter.errors import TlvError
from micromatter.securechannel import opcodes, pase, session_params, status
from micromatter.securechannel.pase_messages import (
    Pake1,
    Pake2,
    Pake3,
    PaseMessageError,
    PbkdfParamRequest,
    PbkdfParamResponse,
)
from micromatter.session.errors import SessionBusyError
from micromatter.session.params import SessionParameters
from micromatter.tlv import TlvReader, encode
from sessionkit import Clockless
from support import port

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

report = reporter(300)

DECODE_ERRORS = (TlvError, PaseMessageError, session_params.SessionParametersError)
PASSCODE = 20202021
SALT = b"SPAKE2P Key Salt"
VERIFIER = spake2p.PasscodeVerifier.from_passcode(port().crypto, PASSCODE, SALT, 1000)
R32 = bytes(range(32))
PARAMS = SessionParameters(idle_interval_ms=800, active_interval_ms=400)

# One valid payload of each message, for mutations.
VALID = {
    opcodes.PBKDF_PARAM_REQUEST: PbkdfParamRequest(R32, 0x1234, 0, False, PARAMS).encode(),
    opcodes.PBKDF_PARAM_RESPONSE: PbkdfParamResponse(R32, R32[::-1], 0x4321, 1000, SALT, PARAMS).encode(),
    opcodes.PAKE1: Pake1(spake2p.M_BYTES).encode(),
    opcodes.PAKE2: Pake2(spake2p.N_BYTES, R32).encode(),
    opcodes.PAKE3: Pake3(R32).encode(),
    opcodes.STATUS_REPORT: status.busy(500).encode(),
}
DECODERS = {
    opcodes.PBKDF_PARAM_REQUEST: PbkdfParamRequest.decode,
    opcodes.PBKDF_PARAM_RESPONSE: PbkdfParamResponse.decode,
    opcodes.PAKE1: Pake1.decode,
    opcodes.PAKE2: Pake2.decode,
    opcodes.PAKE3: Pake3.decode,
}


def fields(message):
    return sorted((k, repr(v)) for k, v in message.__dict__.items())


def check_decode(name, opcode, data):
    try:
        message = DECODERS[opcode](data)
    except DECODE_ERRORS as e:
        count(name, type(e).__name__)
        return
    again = DECODERS[opcode](message.encode())
    assert fields(again) == fields(message)
    count(name, "ok")


def check_status(name, data):
    try:
        report = status.StatusReport.decode(data)
    except status.StatusReportError as e:
        count(name, type(e).__name__)
        return
    assert status.StatusReport.decode(report.encode()) == report and report.encode() == bytes(data)
    count(name, "ok")


def check_params(name, data):
    r = TlvReader(data)
    try:
        if not r.next():
            count(name, "empty")
            return
        params = session_params.decode(r)
    except DECODE_ERRORS as e:
        count(name, type(e).__name__)
        return
    assert isinstance(params, SessionParameters)
    count(name, "ok")


opcode_choice = st.sampled_from(sorted(DECODERS))

# TLV structures shaped like PASE messages: small context tags, field-like values, some nesting.
field_values = st.one_of(
    st.binary(max_size=70),
    st.sampled_from((R32, spake2p.M_BYTES, SALT)),
    st.integers(0, 1 << 33),
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
    st.text(max_size=5),
)
nested = st.dictionaries(st.integers(0, 10), field_values, max_size=10)
structs = st.dictionaries(st.integers(0, 10), st.one_of(field_values, nested), max_size=7)


@FUZZ
@given(st.data())
def test_decoders_on_random_bytes(data):
    for raw in data.draw(batch(st.binary(max_size=200))):
        check_decode("test_decoders_on_random_bytes", data.draw(opcode_choice), raw)
        check_status("test_decoders_on_random_bytes", raw)
        check_params("test_decoders_on_random_bytes", raw)


@FUZZ
@given(st.data())
def test_decoders_on_tlv_structures(data):
    for value in data.draw(batch(structs)):
        raw = encode(value)
        check_decode("test_decoders_on_tlv_structures", data.draw(opcode_choice), raw)
        check_params("test_decoders_on_tlv_structures", raw)


@FUZZ
@given(st.data())
def test_decoders_on_mutated_messages(data):
    for mutations in data.draw(batch(st.lists(mutation, min_size=1, max_size=4))):
        opcode = data.draw(st.sampled_from(sorted(VALID)))
        raw = mutate(VALID[opcode], mutations)
        if opcode == opcodes.STATUS_REPORT:
            check_status("test_decoders_on_mutated_messages", raw)
        else:
            check_decode("test_decoders_on_mutated_messages", opcode, raw)


# --- state machines --------------------------------------------------------------------------------


class Ids:
    def __init__(self, capacity):
        self.free = list(range(1, capacity + 1))
        self.used = []
        self.handed_over = []

    def allocate(self, now_ms):
        if not self.free:
            raise SessionBusyError("full")
        sid = self.free.pop(0)
        self.used.append(sid)
        return sid

    def release(self, sid):
        self.used.remove(sid)
        self.free.append(sid)


def payload_strategy(opcode):
    return st.one_of(
        st.just(VALID.get(opcode, b"")),
        st.sampled_from(sorted(VALID.values())),
        st.lists(mutation, min_size=1, max_size=3).map(lambda m: mutate(VALID.get(opcode, VALID[opcodes.PAKE1]), m)),
        st.binary(max_size=80),
    )


steps = st.tuples(
    st.sampled_from(("A", "A", "B", "honest", "honest", "honest", "timer", "reopen", "closed")),
    st.sampled_from(sorted(VALID) + [0x30, 0x99]),
    st.integers(0, 40000),
).flatmap(lambda t: st.tuples(st.just(t[0]), st.just(t[1]), st.just(t[2]), payload_strategy(t[1])))


def outcome(out):
    """A short label of an output for the case counts: what was sent and which events came."""
    label = "silent" if out.opcode is None else opcodes.name(out.opcode)
    for event in out.events:
        label += "+" + type(event).__name__
    return label


def check_output(out):
    assert isinstance(out, pase.Output)
    if out.opcode is not None:
        assert isinstance(out.payload, bytes)
        if out.opcode == opcodes.STATUS_REPORT:
            report = status.StatusReport.decode(out.payload)
            assert out.reliable == report.reliable
        else:
            DECODERS[out.opcode](out.payload)  # everything we send decodes
    for event in out.events:
        assert isinstance(event, (pase.Established, pase.Failed))


@FUZZ
@given(st.lists(steps, min_size=1, max_size=12), st.integers(1, 3))
def test_responder_on_random_message_sequences(sequence, capacity):
    ids = Ids(capacity)
    r = pase.PaseResponder(Clockless(capacity), ids, VERIFIER, SALT, 1000, max_failures=4, timeout_ms=60000)
    r.open_window(0)
    # An honest commissioner on peer "A" makes progress between the junk, so the later states are reached.
    honest = pase.PaseInitiator(Clockless(7), PASSCODE, 99)
    pending = honest.start(0)
    now = 0
    for who, opcode, advance, payload in sequence:
        now += advance
        before = r.failures
        if who == "honest":
            if pending.opcode is None:
                honest = pase.PaseInitiator(Clockless(now), PASSCODE, 99)
                pending = honest.start(now)
            out = r.on_message("A", pending.opcode, pending.payload, now)
            pending = honest.on_message(out.opcode, out.payload, now) if out.opcode is not None else pase.Output()
            check_output(pending)
        elif who == "timer":
            out = r.on_timer(now)
        elif who == "reopen":
            r.open_window(now)
            before = r.failures
            out = pase.Output()
        elif who == "closed":
            r.session_closed()
            out = pase.Output()
        else:
            out = r.on_message(who, opcode, payload, now)
        check_output(out)
        failed = [e for e in out.events if isinstance(e, pase.Failed)]
        for e in out.events:
            if isinstance(e, pase.Established):
                ids.used.remove(e.local_session_id)
                ids.handed_over.append(e.local_session_id)
        assert r.failures == before + len(failed)
        assert r.state in (pase.LISTENING, pase.WAIT_PAKE1, pase.WAIT_PAKE3, pase.ESTABLISHED, pase.LOCKED)
        assert ids.used == ([r.local_session_id] if r.in_progress() else [])
        assert (r.state == pase.LOCKED) == (r.failures >= r.max_failures)
        count("test_responder_on_random_message_sequences", outcome(out))


initiator_steps = st.tuples(st.sampled_from(sorted(VALID) + [0x30]), st.integers(0, 30000)).flatmap(
    lambda t: st.tuples(st.just(t[0]), st.just(t[1]), payload_strategy(t[0]))
)


@FUZZ
@given(st.lists(initiator_steps, min_size=1, max_size=8), st.booleans())
def test_initiator_on_random_message_sequences(sequence, knows_pbkdf):
    i = pase.PaseInitiator(Clockless(5), PASSCODE, 9, pbkdf_parameters=(1000, SALT) if knows_pbkdf else None)
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
@given(st.integers(0, 4), st.lists(mutation, min_size=1, max_size=3), st.integers(1, 1000))
def test_handshake_with_one_message_mutated_in_transit(which, mutations, seed):
    ids = Ids(2)
    r = pase.PaseResponder(Clockless(seed), ids, VERIFIER, SALT, 1000)
    r.open_window(0)
    i = pase.PaseInitiator(Clockless(seed + 1), PASSCODE, 77)
    out = i.start(0)
    sent = 0
    r_events, i_events = [], []
    for _ in range(6):
        if out.opcode is None:
            break
        payload = mutate(out.payload, mutations) if sent == which else out.payload
        sent += 1
        reply = r.on_message("A", out.opcode, payload, 0)
        check_output(reply)
        r_events += reply.events
        if reply.opcode is None:
            break
        payload = mutate(reply.payload, mutations) if sent == which else reply.payload
        sent += 1
        out = i.on_message(reply.opcode, payload, 0)
        check_output(out)
        i_events += out.events
    established = [e for e in r_events + i_events if isinstance(e, pase.Established)]
    if len(established) == 2:
        assert established[0].shared_secret == established[1].shared_secret
        count("test_handshake_with_one_message_mutated_in_transit", "still agreed")
    else:
        # The side that noticed failed; the other either failed too or is left waiting (for its timer).
        assert [e for e in r_events + i_events if isinstance(e, pase.Failed)]
        assert len(established) <= 1
        if not [e for e in r_events if isinstance(e, pase.Established)]:
            assert r.in_progress() or ids.used == []
        count("test_handshake_with_one_message_mutated_in_transit", "failed")
