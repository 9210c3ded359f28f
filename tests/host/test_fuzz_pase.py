"""Fuzzing of the PASE message decoders and of both PASE state machines (CPython, hypothesis; what the CASE
fuzz tests share with these is ``handshake_fuzz``).

Decoders (StatusReport's and the session parameters' too): on random bytes, random TLV structures and
mutations of valid messages, only their declared errors may escape, and what decodes encodes back to the
same fields.  State machines: on random sequences of messages (two peers, every opcode, mutated and random
payloads, time moving on, aborts, the window reopened) nothing escapes, each call asks to send at most one
well-formed message, the session ids handed out are released exactly when a handshake ends without a
session, and the failure count matches the events.  A real handshake with one message mutated in transit
either still agrees on the secret or fails on both sides.  Each test prints how many cases it ran.
"""

from hypothesis import HealthCheck, given, settings, strategies as st

from fuzzlib import count, mutation, reporter
from handshake_fuzz import check_decode, check_output, decoder_tests, initiator_test, mutate_one, outcome, payloads
from handshakekit import Ids, events, run
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
from micromatter.session.params import SessionParameters
from micromatter.tlv import TlvReader, encode
from sessionkit import Clockless
from support import port

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

report = reporter(300)

DECODE_ERRORS = (TlvError, PaseMessageError, session_params.SessionParametersError, status.StatusReportError)
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
    opcodes.STATUS_REPORT: status.StatusReport.decode,
}


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


def check(name, kind, data):
    if kind == "params":
        check_params(name, data)
    else:
        check_decode(name, DECODERS[kind], data, DECODE_ERRORS)


SAMPLES = dict(VALID)
SAMPLES["params"] = encode({1: 800, 2: 400, 4: 17})
test_decoders_on_random_bytes, test_decoders_on_tlv_structures, test_decoders_on_mutated_messages = decoder_tests(
    check, SAMPLES, SAMPLES, FUZZ)


# --- state machines --------------------------------------------------------------------------------


payload_strategy = payloads(VALID, opcodes.PAKE1)
steps = st.tuples(
    st.sampled_from(("A", "A", "B", "honest", "honest", "honest", "timer", "abort", "reopen", "closed")),
    st.sampled_from(sorted(VALID) + [0x30, 0x99]),
    st.integers(0, 40000),
).flatmap(lambda t: st.tuples(st.just(t[0]), st.just(t[1]), st.just(t[2]), payload_strategy(t[1])))


@FUZZ
@given(st.lists(steps, min_size=1, max_size=12), st.integers(1, 3))
def test_responder_on_random_message_sequences(sequence, capacity):
    ids = Ids(capacity, first=1)
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
            check_output(pending, DECODERS)
        elif who == "timer":
            out = r.on_timer(now)
        elif who == "abort":
            out = r.abort("A")
        elif who == "reopen":
            r.open_window(now)
            before = r.failures
            out = pase.Output()
        elif who == "closed":
            r.session_closed()
            out = pase.Output()
        else:
            out = r.on_message(who, opcode, payload, now)
        check_output(out, DECODERS)
        failed = [e for e in out.events if isinstance(e, pase.Failed)]
        for e in out.events:
            if isinstance(e, pase.Established):
                ids.used.remove(e.local_session_id)  # the session's now
        assert r.failures == before + len(failed)
        assert r.state in (pase.LISTENING, pase.WAIT_PAKE1, pase.WAIT_PAKE3, pase.ESTABLISHED, pase.LOCKED)
        assert ids.used == ([r.local_session_id] if r.in_progress() else [])
        assert (r.state == pase.LOCKED) == (r.failures >= r.max_failures)
        count("test_responder_on_random_message_sequences", outcome(out))


def _initiator(knows_pbkdf):
    return pase.PaseInitiator(Clockless(5), PASSCODE, 9, pbkdf_parameters=(1000, SALT) if knows_pbkdf else None)


test_initiator_on_random_message_sequences = initiator_test(_initiator, sorted(VALID) + [0x30], payload_strategy,
                                                            DECODERS, FUZZ)


@SLOW
@given(st.integers(0, 4), st.lists(mutation, min_size=1, max_size=3), st.integers(1, 1000))
def test_handshake_with_one_message_mutated_in_transit(which, mutations, seed):
    ids = Ids(2, first=1)
    r = pase.PaseResponder(Clockless(seed), ids, VERIFIER, SALT, 1000)
    r.open_window(0)
    i = pase.PaseInitiator(Clockless(seed + 1), PASSCODE, 77)
    r_outs, i_outs = run(i, r, tamper=mutate_one(which, mutations))
    for out in r_outs + i_outs:
        check_output(out, DECODERS)
    r_events, i_events = events(r_outs), events(i_outs)
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
