"""Fuzzing of the CASE message decoders and of both CASE state machines (CPython, hypothesis; what the PASE
fuzz tests share with these is ``handshake_fuzz``).

Decoders (StatusReport's too): on random bytes, random TLV structures and mutations of real messages, only
their declared errors may escape, and what decodes encodes back to the same fields.  State machines: on
random sequences of messages (honest and junk initiators, every CASE opcode, mutated and random payloads,
time moving on) nothing escapes, each call asks to send at most one well-formed message, and the session id
a handshake reserved in the session core is released exactly when it ends without a session.  A real
handshake (full or resumed) with one message mutated in transit either still agrees on the keys or fails.
Each test prints how many cases it ran.
"""

from hypothesis import HealthCheck, given, settings, strategies as st

from casekit import Authority, Side
from handshakekit import events, run
from fuzzlib import count, mutation, reporter
from handshake_fuzz import check_decode, check_output, decoder_tests, initiator_test, mutate_one, outcome, payloads
from micromatter.errors import TlvError
from micromatter.securechannel import case, opcodes, session_params, status
from micromatter.securechannel.sigma import CaseMessageError, Sigma1, Sigma2, Sigma2Resume, Sigma3, TbeData
from micromatter.session.secure import ESTABLISHING

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

report = reporter(150)

DECODE_ERRORS = (TlvError, CaseMessageError, session_params.SessionParametersError, status.StatusReportError)
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
    opcodes.STATUS_REPORT: status.StatusReport.decode,
    "tbe2": lambda data: TbeData.decode(data, True),
    "tbe3": lambda data: TbeData.decode(data, False),
}
SAMPLES = dict(VALID)
SAMPLES["tbe2"] = SAMPLES["tbe3"] = TBE


def check(name, kind, data):
    check_decode(name, DECODERS[kind], data, DECODE_ERRORS)


test_decoders_on_random_bytes, test_decoders_on_tlv_structures, test_decoders_on_mutated_messages = decoder_tests(
    check, DECODERS, SAMPLES, FUZZ)


# --- state machines ----------------------------------------------------------------------------------


payload_strategy = payloads(VALID, opcodes.SIGMA1)
OPCODES = sorted(VALID) + [opcodes.PAKE1, 0x99]
steps = st.tuples(
    st.sampled_from(("A", "B", "honest", "honest", "honest", "timer", "abort")),
    st.sampled_from(OPCODES),
    st.integers(0, 40000),
).flatmap(lambda t: st.tuples(st.just(t[0]), st.just(t[1]), st.just(t[2]), payload_strategy(t[1])))


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
            check_output(pending, DECODERS)
            if pending.opcode is not None and pending.opcode == opcodes.STATUS_REPORT and pending.events:
                # A resumed handshake: the initiator's Success goes back to the responder at once.
                extra = r.on_message("A", pending.opcode, pending.payload, now)
                check_output(extra, DECODERS)
                out.events.extend(extra.events)
        elif who == "timer":
            out = r.on_timer(now)
        elif who == "abort":
            out = r.abort("A")
        else:
            out = r.on_message(who, opcode, payload, now)
        check_output(out, DECODERS)
        for e in out.events:
            if isinstance(e, case.Established):
                e.create_session(device.sessions, now)
        assert reserved(device.sessions) == ([r.local_session_id] if r.in_progress() else [])
        assert r.state in (case.LISTENING, case.WAIT_SIGMA3, case.WAIT_RESUME_STATUS)
        count("test_responder_on_random_message_sequences", outcome(out))


test_initiator_on_random_message_sequences = initiator_test(
    lambda resume: Side([CONTROLLER_FABRIC], seed=11).initiator(CONTROLLER_FABRIC, DEVICE, resume=resume),
    OPCODES, payload_strategy, DECODERS, FUZZ)


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
    i = controller.initiator(CONTROLLER_FABRIC, DEVICE)
    r_outs, i_outs = run(i, device.responder, tamper=mutate_one(which, mutations))
    for out in r_outs + i_outs:
        check_output(out, DECODERS)
    r_events, i_events = events(r_outs), events(i_outs)
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
