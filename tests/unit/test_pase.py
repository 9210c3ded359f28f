"""PASE (micromatter.securechannel.pase and friends) on both runtimes: the responder against our initiator,
tampering, out-of-order and malformed messages, Busy, timeouts, the attempt limit, message and status
codecs, and the session core creating the two sessions from the handshake's result."""

from micromatter.crypto import p256, spake2p
from micromatter.errors import MatterError, TlvError
from micromatter.securechannel import opcodes, session_params, status
from micromatter.securechannel.opcodes import (
    PAKE1,
    PAKE2,
    PAKE3,
    PBKDF_PARAM_REQUEST,
    PBKDF_PARAM_RESPONSE,
    STATUS_REPORT,
)
from micromatter.securechannel.pase import (
    CLOSED,
    ESTABLISHED,
    LISTENING,
    LOCKED,
    MAX_FAILED_ATTEMPTS,
    WAIT_PAKE1,
    WAIT_PAKE3,
    Established,
    Failed,
    PaseArgumentError,
    PaseInitiator,
    PasePeerStatusError,
    PaseResponder,
    PaseStateError,
    PaseTimeoutError,
)
from micromatter.securechannel.pase_messages import (
    Pake1,
    Pake2,
    Pake3,
    PaseFieldRangeError,
    PaseMessageError,
    PbkdfParamRequest,
    PbkdfParamResponse,
)
from micromatter.securechannel.status import StatusReport, StatusReportError
from micromatter.session.params import SessionParameters
from micromatter.session.secure import derive_session_keys
from micromatter.tlv import TlvDuplicateTagError, TlvWriter, encode
from handshakekit import Ids, events, report_of, run
from sessionkit import Clockless
from support import Rng, port, raises, unhex

PASSCODE = 20202021
SALT = b"SPAKE2P Key Salt"
ITERATIONS = 1000
_verifier = []


def verifier():
    """The SDK's test verifier (PBKDF2 is slow on MicroPython: computed once)."""
    if not _verifier:
        _verifier.append(spake2p.PasscodeVerifier.from_passcode(port().crypto, PASSCODE, SALT, ITERATIONS))
    return _verifier[0]


def responder(seed=1, ids=None, **kwargs):
    r = PaseResponder(Clockless(seed), Ids() if ids is None else ids, verifier(), SALT, ITERATIONS, **kwargs)
    r.open_window(0)
    return r


def initiator(passcode=PASSCODE, seed=2, session_id=0x77, **kwargs):
    return PaseInitiator(Clockless(seed), passcode, session_id, **kwargs)


def flip(data, index):
    out = bytearray(data)
    out[index] ^= 1
    return bytes(out)


def request(seed=5, session_id=0x55, has_pbkdf=False, params=None, passcode_id=0):
    return PbkdfParamRequest(Rng(seed).bytes(32), session_id, passcode_id, has_pbkdf, params).encode()


# --- the whole handshake ------------------------------------------------------------------------


def test_handshake_gives_both_sides_the_same_secret():
    ids = Ids()
    device_params = SessionParameters(idle_interval_ms=5000, active_interval_ms=300)
    controller_params = SessionParameters(idle_interval_ms=1200, active_interval_ms=700, active_threshold_ms=2000)
    r = responder(ids=ids, parameters=device_params)
    i = initiator(parameters=controller_params)
    r_outs, i_outs = run(i, r)
    assert [o.opcode for o in r_outs] == [PBKDF_PARAM_RESPONSE, PAKE2, STATUS_REPORT]
    assert [o.opcode for o in i_outs] == [PBKDF_PARAM_REQUEST, PAKE1, PAKE3, None]
    assert report_of(r_outs[-1]).is_success() and r_outs[-1].reliable
    (device,) = events(r_outs)
    (controller,) = events(i_outs)
    assert isinstance(device, Established) and isinstance(controller, Established)
    assert device.shared_secret == controller.shared_secret and len(device.shared_secret) == 16
    assert device.salt == b"" and controller.salt == b""
    assert (device.is_initiator, controller.is_initiator) == (False, True)
    assert device.local_session_id == controller.peer_session_id == ids.used[0] == 0x100
    assert controller.local_session_id == device.peer_session_id == 0x77
    assert device.peer_parameters == controller_params and controller.peer_parameters == device_params
    assert device.peer == "A"
    # Session keys as the session core derives them: the initiator's I2R is the responder's I2R.
    crypto = port().crypto
    keys = derive_session_keys(crypto, device.shared_secret, device.salt, False)
    assert keys == derive_session_keys(crypto, controller.shared_secret, controller.salt, False)
    assert keys[0] == crypto.hkdf_sha256(device.shared_secret, b"", b"SessionKeys", 48)[:16]
    assert r.state == ESTABLISHED and r.failures == 0 and ids.used == [0x100]


def test_two_runs_give_different_secrets():
    secrets = []
    for seed in (1, 9):
        r_outs, i_outs = run(initiator(seed=seed + 1), responder(seed=seed))
        secrets.append(events(r_outs)[0].shared_secret)
        assert secrets[-1] == events(i_outs)[0].shared_secret
    assert secrets[0] != secrets[1]


def test_sessions_made_by_the_session_core_talk_to_each_other():
    import sessionkit

    class ManagerIds:  # the glue's adapter: the session core reserves and frees the ids
        def __init__(self, manager):
            self.manager = manager

        def allocate(self, now_ms):
            return self.manager.get_next_available_session_id(now_ms)

        def release(self, sid):
            self.manager.remove_session(sid)

    device_manager = sessionkit.manager(seed=1)
    controller_manager = sessionkit.manager(seed=2)
    r = responder(ids=ManagerIds(device_manager))
    i = initiator(session_id=controller_manager.get_next_available_session_id(0))
    r_outs, i_outs = run(i, r)
    sessions = []
    for manager, e in ((device_manager, events(r_outs)[0]), (controller_manager, events(i_outs)[0])):
        sessions.append(manager.create_secure_session(
            e.local_session_id, None, 0, e.peer_session_id, e.shared_secret, e.salt, e.is_initiator, False,
            peer_session_parameters=e.peer_parameters, now_ms=0))
    device, controller = sessions
    assert device.is_pase and controller.is_pase
    assert device_manager.get_pase_session() is not None
    for sender, receiver, manager in ((controller, device, device_manager), (device, controller, controller_manager)):
        buf, n = sessionkit.send(sender, b"hello over PASE")
        received = manager.decode(buf, n, 1)
        assert received.session.id == receiver.id
        assert bytes(received.payload(buf)) == b"hello over PASE"


def test_messages_carry_what_the_spec_says():
    i = initiator(seed=4)
    out = i.start(0)
    req = PbkdfParamRequest.decode(out.payload)
    assert req.initiator_random == Rng(4).bytes(32)
    assert (req.initiator_session_id, req.passcode_id, req.has_pbkdf_parameters) == (0x77, 0, False)
    assert req.initiator_session_params == SessionParameters()
    r = responder()
    reply = r.on_message("A", PBKDF_PARAM_REQUEST, out.payload, 0)
    resp = PbkdfParamResponse.decode(reply.payload)
    assert resp.initiator_random == req.initiator_random and resp.responder_random != req.initiator_random
    assert (resp.iterations, resp.salt) == (ITERATIONS, SALT)
    assert resp.responder_session_id == 0x100 and resp.responder_session_params == SessionParameters()
    # The context is SHA-256 over the prefix and the exact request and response bytes: a prover built on
    # it by hand is accepted by the responder.
    crypto = port().crypto
    h = crypto.sha256()
    h.update(b"CHIP PAKE V1 Commissioning" + out.payload + reply.payload)
    w0, w1 = spake2p.compute_w0_w1(crypto, PASSCODE, SALT, ITERATIONS)
    prover = spake2p.Prover(crypto, h.digest(), w0, w1, 1234567)
    pake2 = Pake2.decode(r.on_message("A", PAKE1, Pake1(prover.X).encode(), 0).payload)
    cA = prover.finish(pake2.pB, pake2.cB)
    done = r.on_message("A", PAKE3, Pake3(cA).encode(), 0)
    assert report_of(done).is_success() and done.events[0].shared_secret == prover.ke


def test_initiator_that_knows_the_pbkdf_parameters():
    i = initiator(pbkdf_parameters=(ITERATIONS, SALT))
    r = responder()
    r_outs, i_outs = run(i, r)
    assert PbkdfParamRequest.decode(i_outs[0].payload).has_pbkdf_parameters
    resp = PbkdfParamResponse.decode(r_outs[0].payload)
    assert resp.iterations is None and resp.salt is None
    assert events(r_outs)[0].shared_secret == events(i_outs)[0].shared_secret
    # Told to use other parameters than the device's, it derives other scalars: confirmation fails.
    r_outs, i_outs = run(initiator(pbkdf_parameters=(ITERATIONS + 1, SALT)), responder())
    assert isinstance(events(i_outs)[0].error, spake2p.ConfirmationError)


def test_enhanced_window_uses_its_own_verifier_salt_and_iterations():
    crypto = port().crypto
    salt = b"enhanced window salt 32 bytes!!!"
    ecm = spake2p.PasscodeVerifier.from_passcode(crypto, 34567890, salt, 1500)
    r = responder()
    r.open_window(0, ecm, salt, 1500)
    r_outs, i_outs = run(initiator(passcode=34567890), r)
    resp = PbkdfParamResponse.decode(r_outs[0].payload)
    assert (resp.iterations, resp.salt) == (1500, salt)
    assert isinstance(events(r_outs)[0], Established)
    # Closing the window forgets it: the device's own verifier is back at the next open.
    r.close_window()
    r.open_window(0)
    r_outs, _ = run(initiator(), r)
    assert isinstance(events(r_outs)[0], Established)


# --- failures --------------------------------------------------------------------------------------


def test_wrong_passcode_is_counted_and_creates_no_session():
    ids = Ids()
    r = responder(ids=ids)
    r_outs, i_outs = run(initiator(passcode=PASSCODE + 1), r)
    (mine,) = events(i_outs)
    assert isinstance(mine, Failed) and isinstance(mine.error, spake2p.ConfirmationError)
    assert mine.status == status.INVALID_PARAMETER
    sent = report_of(i_outs[-1])
    assert (sent.general_code, sent.protocol_id, sent.protocol_code) == (
        status.GENERAL_FAILURE, 0, status.INVALID_PARAMETER)
    (theirs,) = events(r_outs)
    assert isinstance(theirs, Failed) and isinstance(theirs.error, PasePeerStatusError)
    assert theirs.status == status.INVALID_PARAMETER and theirs.local_session_id == 0x100
    assert r_outs[-1].opcode is None  # a report is not answered
    assert r.failures == 1 and r.state == LISTENING and ids.used == []
    assert not [e for e in events(r_outs + i_outs) if isinstance(e, Established)]


def test_forged_cA_is_rejected_by_the_responder():
    crypto = port().crypto
    r = responder()
    out = initiator().start(0)
    reply = r.on_message("A", PBKDF_PARAM_REQUEST, out.payload, 0)
    h = crypto.sha256()
    h.update(b"CHIP PAKE V1 Commissioning" + out.payload + reply.payload)
    w0, w1 = spake2p.compute_w0_w1(crypto, PASSCODE, SALT, ITERATIONS)
    prover = spake2p.Prover(crypto, h.digest(), w0, (w1 + 1) % p256.N, 99)  # the right w0 only
    pake2 = Pake2.decode(r.on_message("A", PAKE1, Pake1(prover.X).encode(), 0).payload)
    raises(spake2p.ConfirmationError, prover.finish, pake2.pB, pake2.cB)
    done = r.on_message("A", PAKE3, Pake3(Rng(3).bytes(32)).encode(), 0)
    assert report_of(done).protocol_code == status.INVALID_PARAMETER
    assert isinstance(done.events[0].error, spake2p.ConfirmationError) and r.failures == 1


def _tamper(target, index):
    def tamper(opcode, payload):
        return flip(payload, index) if opcode == target else payload

    return tamper


def test_tampered_pake1_pake2_pake3():
    # Pake1: the last byte of pA (off the curve); Pake3: the last byte of cA; seen by the responder.
    for target, error in ((PAKE1, spake2p.InvalidPointError), (PAKE3, spake2p.ConfirmationError)):
        ids = Ids()
        r = responder(ids=ids)
        r_outs, i_outs = run(initiator(), r, tamper=_tamper(target, -2))
        (failed,) = events(r_outs)
        assert isinstance(failed, Failed) and isinstance(failed.error, error), failed
        assert report_of(r_outs[-1]).protocol_code == status.INVALID_PARAMETER
        assert r.failures == 1 and ids.used == [] and r.state == LISTENING
    # Pake2: pB's last byte, or cB's last byte; seen by the initiator, which answers InvalidParameter.
    for index, error in ((2 + 65 - 1, spake2p.InvalidPointError), (-2, spake2p.ConfirmationError)):
        r = responder()
        r_outs, i_outs = run(initiator(), r, tamper=_tamper(PAKE2, index))
        failed = events(i_outs)[0]
        assert isinstance(failed.error, error), failed
        assert report_of(i_outs[-1]).protocol_code == status.INVALID_PARAMETER
        assert isinstance(events(r_outs)[0].error, PasePeerStatusError) and r.failures == 1


def test_context_binds_the_exact_parameter_messages():
    # A valid but altered PBKDFParamRequest (another session id) or PBKDFParamResponse (another
    # responder random) reaches the other side: the contexts differ and confirmation fails.
    def other_request(opcode, payload):
        if opcode != PBKDF_PARAM_REQUEST:
            return payload
        req = PbkdfParamRequest.decode(payload)
        req.initiator_session_id += 1
        return req.encode()

    def other_response(opcode, payload):
        if opcode != PBKDF_PARAM_RESPONSE:
            return payload
        resp = PbkdfParamResponse.decode(payload)
        resp.responder_random = flip(resp.responder_random, 0)
        return resp.encode()

    for tamper in (other_request, other_response):
        r_outs, i_outs = run(initiator(), responder(), tamper=tamper)
        assert isinstance(events(i_outs)[0].error, spake2p.ConfirmationError)
        assert not [e for e in events(r_outs) if isinstance(e, Established)]


def test_out_of_order_messages():
    # Nothing in progress: a Pake message is refused without counting an attempt.
    r = responder()
    for opcode in (PAKE1, PAKE3, PBKDF_PARAM_RESPONSE, PAKE2, 0x30):
        out = r.on_message("A", opcode, b"\x15\x18", 0)
        assert report_of(out).protocol_code == status.INVALID_PARAMETER and not out.events
    assert r.failures == 0 and r.state == LISTENING
    # In progress: the wrong message from the same peer ends the handshake.
    i = initiator()
    first = i.start(0)
    for wrong in (PAKE3, PBKDF_PARAM_REQUEST, PAKE2):
        ids = Ids()
        r = responder(ids=ids)
        r.on_message("A", PBKDF_PARAM_REQUEST, first.payload, 0)
        out = r.on_message("A", wrong, first.payload, 0)
        assert report_of(out).protocol_code == status.INVALID_PARAMETER
        assert isinstance(out.events[0].error, PaseStateError) and r.failures == 1 and ids.used == []
    # After Pake1, a second Pake1 is out of order too.
    r = responder()
    i = initiator()
    reply = r.on_message("A", PBKDF_PARAM_REQUEST, i.start(0).payload, 0)
    pake1 = i.on_message(reply.opcode, reply.payload, 0)
    assert r.on_message("A", PAKE1, pake1.payload, 0).opcode == PAKE2 and r.state == WAIT_PAKE3
    out = r.on_message("A", PAKE1, pake1.payload, 0)
    assert isinstance(out.events[0].error, PaseStateError) and r.state == LISTENING
    # The initiator: a Pake2 before the response, a Success before Pake3, anything after the end.
    i = initiator()
    i.start(0)
    out = i.on_message(PAKE2, b"\x15\x18", 0)
    assert isinstance(out.events[0].error, PaseStateError) and report_of(out).protocol_code == status.INVALID_PARAMETER
    assert i.on_message(PAKE2, b"", 0).opcode is None  # finished: ignored
    i = initiator()
    i.start(0)
    out = i.on_message(STATUS_REPORT, status.secure_channel(status.SUCCESS).encode(), 0)
    assert out.opcode is None and isinstance(out.events[0].error, PasePeerStatusError)
    assert initiator().on_message(PAKE2, b"", 0).opcode is None  # not started: ignored


def test_status_report_from_the_peer_ends_the_handshake():
    for payload, code in ((status.secure_channel(status.INVALID_PARAMETER).encode(), status.INVALID_PARAMETER),
                          (b"\x01\x00\x00", None)):
        ids = Ids()
        r = responder(ids=ids)
        r.on_message("A", PBKDF_PARAM_REQUEST, request(), 0)
        out = r.on_message("A", STATUS_REPORT, payload, 0)
        assert out.opcode is None and out.events[0].status == code
        assert r.failures == 1 and ids.used == [] and r.state == LISTENING
    # Reports that belong to no handshake are ignored, never answered.
    r = responder()
    out = r.on_message("B", STATUS_REPORT, b"garbage", 0)
    assert out.opcode is None and not out.events and r.failures == 0


def test_busy_while_another_commissioner_is_pairing():
    r = responder()
    i = initiator()
    first = i.start(0)
    reply = r.on_message("A", PBKDF_PARAM_REQUEST, first.payload, 0)
    busy = r.on_message("B", PBKDF_PARAM_REQUEST, request(), 0)
    report = report_of(busy)
    assert (report.general_code, report.protocol_code, report.busy_wait_ms) == (status.GENERAL_BUSY, status.BUSY, 500)
    assert not busy.reliable and not busy.events and r.state == WAIT_PAKE1
    # B's other messages do not disturb A's handshake.
    assert report_of(r.on_message("B", PAKE1, b"\x15\x18", 0)).protocol_code == status.INVALID_PARAMETER
    # A finishes; the established PASE session keeps everyone else out until it ends.
    out = i.on_message(reply.opcode, reply.payload, 0)
    out = i.on_message(*_reply(r, "A", out))
    out = i.on_message(*_reply(r, "A", out))
    assert isinstance(out.events[0], Established) and r.state == ESTABLISHED
    assert report_of(r.on_message("B", PBKDF_PARAM_REQUEST, request(), 5)).protocol_code == status.BUSY
    r.session_closed()
    assert r.state == LISTENING
    assert r.on_message("B", PBKDF_PARAM_REQUEST, request(), 6).opcode == PBKDF_PARAM_RESPONSE


def _reply(r, peer, out):
    reply = r.on_message(peer, out.opcode, out.payload, 0)
    return reply.opcode, reply.payload, 0


def test_busy_when_the_session_table_is_full():
    ids = Ids(capacity=1)
    ids.allocate(0)
    r = responder(ids=ids, busy_wait_ms=1234)
    out = r.on_message("A", PBKDF_PARAM_REQUEST, request(), 0)
    assert report_of(out).busy_wait_ms == 1234 and not out.events
    assert r.failures == 0 and r.state == LISTENING and r.peer is None

    class Broken:
        def allocate(self, now_ms):
            raise TlvError("not a busy error")

        def release(self, sid):
            pass

    out = responder(ids=Broken()).on_message("A", PBKDF_PARAM_REQUEST, request(), 0)
    assert report_of(out).protocol_code == status.INVALID_PARAMETER


def test_stalled_handshake_times_out_and_frees_the_responder():
    ids = Ids()
    r = responder(ids=ids)
    r.on_message("A", PBKDF_PARAM_REQUEST, request(), 1000)
    assert r.next_deadline() == 61000
    assert not r.on_timer(60999).events and r.state == WAIT_PAKE1
    out = r.on_timer(61000)
    (failed,) = out.events
    assert isinstance(failed.error, PaseTimeoutError) and failed.status is None and out.opcode is None
    assert r.state == LISTENING and r.failures == 1 and ids.used == [] and r.next_deadline() is None
    # A late message from the stalled peer finds no handshake.
    assert report_of(r.on_message("A", PAKE1, b"\x15\x18", 61001)).protocol_code == status.INVALID_PARAMETER
    # Without on_timer, the next message notices the deadline first: B is served, A's end reported.
    r = responder(ids=ids, timeout_ms=5000)
    r.on_message("A", PBKDF_PARAM_REQUEST, request(), 0)
    r.on_message("A", PAKE1, Pake1(spake2p.M_BYTES).encode(), 10)  # now waiting for Pake3
    assert r.state == WAIT_PAKE3
    out = r.on_message("B", PBKDF_PARAM_REQUEST, request(seed=6), 5000)
    assert out.opcode == PBKDF_PARAM_RESPONSE and isinstance(out.events[0].error, PaseTimeoutError)
    assert r.peer == "B" and ids.used == [PbkdfParamResponse.decode(out.payload).responder_session_id]
    assert r.next_deadline() == 10000
    # The initiator has its own deadline.
    i = initiator(timeout_ms=3000)
    i.start(100)
    assert i.next_deadline() == 3100 and not i.on_timer(3099).events
    out = i.on_message(PBKDF_PARAM_RESPONSE, b"", 3100)
    assert out.opcode is None and isinstance(out.events[0].error, PaseTimeoutError) and i.next_deadline() is None


def test_abort_drops_the_handshake_of_that_peer_at_once():
    ids = Ids()
    r = responder(ids=ids)
    r.on_message("A", PBKDF_PARAM_REQUEST, request(), 0)
    assert not r.abort("B").events and r.state == WAIT_PAKE1  # another peer's exchange: not ours
    out = r.abort("A")
    (failed,) = out.events
    assert isinstance(failed, Failed) and isinstance(failed.error, PaseStateError) and failed.status is None
    assert out.opcode is None and failed.local_session_id == 0x100 and not failed.window_closed
    assert r.state == LISTENING and r.failures == 1 and ids.used == [] and r.next_deadline() is None
    # The next commissioner is served at once, not told Busy until the 60 s deadline.
    assert r.on_message("B", PBKDF_PARAM_REQUEST, request(seed=6), 1).opcode == PBKDF_PARAM_RESPONSE
    assert not r.abort("A").events and r.peer == "B"
    # After Pake1 too; with no handshake, or an established session, there is nothing to abort.
    r = responder(ids=Ids())
    i = initiator()
    reply = r.on_message("A", PBKDF_PARAM_REQUEST, i.start(0).payload, 0)
    pake1 = i.on_message(reply.opcode, reply.payload, 0)
    r.on_message("A", PAKE1, pake1.payload, 0)
    assert r.state == WAIT_PAKE3 and len(r.abort("A").events) == 1 and r.state == LISTENING
    r_outs, _ = run(initiator(), r)
    assert r.state == ESTABLISHED and not r.abort("A").events and r.state == ESTABLISHED
    # An abort that reaches the attempt limit closes the window like any failure.
    r = responder(max_failures=1)
    r.on_message("A", PBKDF_PARAM_REQUEST, request(), 0)
    (last,) = r.abort("A").events
    assert last.window_closed and r.state == LOCKED
    # The initiator's exchange closing under it fails it once, nothing sent; not started, nothing to abort.
    assert not initiator().abort().events
    i = initiator()
    i.start(0)
    out = i.abort()
    (failed,) = out.events
    assert isinstance(failed.error, PaseStateError) and failed.status is None and out.opcode is None
    assert failed.local_session_id == 0x77 and i.next_deadline() is None and not i.abort().events
    assert i.on_message(PBKDF_PARAM_RESPONSE, b"", 1).opcode is None  # over: a late message is ignored


def test_attempt_limit_locks_pase_until_the_window_reopens():
    assert MAX_FAILED_ATTEMPTS == 20
    ids = Ids()
    r = responder(ids=ids)
    now = 0
    for attempt in range(1, 20):
        if attempt % 3 == 0:  # a handshake that stalls
            r.on_message("A", PBKDF_PARAM_REQUEST, request(), now)
            now += 60000
            out = r.on_timer(now)
        elif attempt % 3 == 1:  # a malformed request
            out = r.on_message("A", PBKDF_PARAM_REQUEST, b"\x15\x30\x01\x02\x18", now)
        else:  # a Pake1 with a point off the curve
            r.on_message("A", PBKDF_PARAM_REQUEST, request(), now)
            out = r.on_message("A", PAKE1, Pake1(flip(spake2p.M_BYTES, 64)).encode(), now)
        assert isinstance(out.events[0], Failed) and not out.events[0].window_closed
        assert r.failures == attempt and r.state == LISTENING
    # The 20th failure is a wrong passcode; it closes the window.
    r_outs, _ = run(initiator(passcode=12121212), r, now=now)
    (last,) = events(r_outs)
    assert last.window_closed and r.failures == 20 and r.state == LOCKED and ids.used == []
    # Now every request is refused with InvalidParameter, uncounted, even with the right passcode.
    r_outs, i_outs = run(initiator(), r, now=now)
    assert report_of(r_outs[0]).protocol_code == status.INVALID_PARAMETER and not events(r_outs)
    assert isinstance(events(i_outs)[0].error, PasePeerStatusError) and r.failures == 20
    # The commissioning code reopens the window: the count starts over and pairing works.
    r.open_window(now)
    assert r.state == LISTENING and r.failures == 0
    r_outs, _ = run(initiator(), r, now=now)
    assert isinstance(events(r_outs)[0], Established)
    # A smaller limit is honoured too.
    r = responder(max_failures=2)
    for _ in range(2):
        out = r.on_message("A", PBKDF_PARAM_REQUEST, b"", 0)
    assert out.events[0].window_closed and r.state == LOCKED


def test_closed_window_refuses_and_closing_drops_the_handshake():
    ids = Ids()
    r = PaseResponder(Clockless(1), ids, verifier(), SALT, ITERATIONS)
    assert r.state == CLOSED
    out = r.on_message("A", PBKDF_PARAM_REQUEST, request(), 0)
    assert report_of(out).protocol_code == status.INVALID_PARAMETER and not ids.used
    r.open_window(0)
    r.on_message("A", PBKDF_PARAM_REQUEST, request(), 0)
    assert ids.used == [0x100]
    r.close_window()
    assert r.state == CLOSED and ids.used == [] and r.next_deadline() is None and r.failures == 0
    r.open_window(0)
    r.on_message("A", PBKDF_PARAM_REQUEST, request(), 0)
    r.open_window(1)  # reopening drops the handshake in progress as well
    assert ids.used == [] and r.state == LISTENING


def test_malformed_messages_fail_the_handshake_cleanly():
    bad_requests = (
        b"",
        b"\x15",  # unterminated
        b"\x15\x18\x18",  # trailing data
        b"\x16\x18",  # an array
        encode({1: Rng(1).bytes(32), 2: 5, 3: 0}),  # hasPBKDFParameters missing
        encode({1: Rng(1).bytes(31), 2: 5, 3: 0, 4: False}),  # random too short
        encode({1: Rng(1).bytes(32), 2: 0, 3: 0, 4: False}),  # session id 0
        encode({1: Rng(1).bytes(32), 2: 0x10000, 3: 0, 4: False}),  # session id too wide
        encode({1: Rng(1).bytes(32), 2: 5, 3: 1, 4: False}),  # passcode id 1
        encode({1: Rng(1).bytes(32), 2: 5, 3: 0, 4: 1}),  # hasPBKDFParameters not a boolean
        encode({1: Rng(1).bytes(32), 2: -5, 3: 0, 4: False}),  # signed session id
        encode({1: Rng(1).bytes(32), 2: 5, 3: 0, 4: False, 5: b"x"}),  # session parameters not a struct
        encode({1: Rng(1).bytes(32), 2: 5, 3: 0, 4: False, 5: {1: 0}}),  # idle interval 0
        encode({1: "x" * 32, 2: 5, 3: 0, 4: False}),  # random as a UTF-8 string
    )
    for payload in bad_requests:
        ids = Ids()
        r = responder(ids=ids)
        out = r.on_message("A", PBKDF_PARAM_REQUEST, payload, 0)
        assert report_of(out).protocol_code == status.INVALID_PARAMETER, payload
        assert isinstance(out.events[0].error, MatterError) and r.failures == 1 and not ids.used
    for payload in (b"\x15\x18", encode({1: spake2p.M_BYTES[:64]}), encode({1: b"\x02" + spake2p.M_BYTES[1:]}),
                    encode({1: 5}), encode({2: spake2p.M_BYTES})):
        r = responder()
        r.on_message("A", PBKDF_PARAM_REQUEST, request(), 0)
        out = r.on_message("A", PAKE1, payload, 0)
        assert isinstance(out.events[0].error, (PaseMessageError, TlvError)) and r.state == LISTENING
    # The initiator rejects a response that does not echo its random or lacks the PBKDF parameters.
    i = initiator(seed=2)
    i.start(0)
    resp = PbkdfParamResponse(Rng(99).bytes(32), Rng(3).bytes(32), 9, ITERATIONS, SALT).encode()
    out = i.on_message(PBKDF_PARAM_RESPONSE, resp, 0)
    assert isinstance(out.events[0].error, PaseFieldRangeError)
    assert report_of(out).protocol_code == status.INVALID_PARAMETER
    i = initiator(seed=2)
    i.start(0)
    resp = PbkdfParamResponse(Rng(2).bytes(32), Rng(3).bytes(32), 9).encode()
    out = i.on_message(PBKDF_PARAM_RESPONSE, resp, 0)
    assert isinstance(out.events[0].error, PaseMessageError)


# --- codecs ------------------------------------------------------------------------------------------


def test_pbkdf_param_request_bytes():
    random = bytes(range(32))
    payload = PbkdfParamRequest(random, 0x1234, 0, True, None).encode()
    assert payload == unhex("15 3001 20") + random + unhex("2502 3412 2403 00 2904 18")
    params = SessionParameters(idle_interval_ms=5000, active_interval_ms=300, active_threshold_ms=4000,
                               data_model_revision=17, interaction_model_revision=11,
                               specification_version=0x01030000, max_paths_per_invoke=1)
    payload = PbkdfParamRequest(random, 1, 0, False, params).encode()
    assert payload.endswith(unhex("35 05 2501 8813 2502 2c01 2503 a00f 2404 11 2405 0b 2606 00000301 2407 01 18 18"))
    decoded = PbkdfParamRequest.decode(payload)
    assert decoded.initiator_session_params == params and not decoded.has_pbkdf_parameters


def test_pbkdf_param_response_and_pake_round_trips():
    r1, r2 = Rng(1).bytes(32), Rng(2).bytes(32)
    resp = PbkdfParamResponse(r1, r2, 7, 2000, b"s" * 16, SessionParameters())
    payload = resp.encode()
    assert unhex("35 04 2501 d007 3002 10") + b"s" * 16 + b"\x18" in payload
    back = PbkdfParamResponse.decode(payload)
    assert (back.initiator_random, back.responder_random, back.responder_session_id) == (r1, r2, 7)
    assert (back.iterations, back.salt, back.responder_session_params) == (2000, b"s" * 16, SessionParameters())
    assert PbkdfParamResponse.decode(PbkdfParamResponse(r1, r2, 7).encode()).iterations is None
    assert Pake1.decode(Pake1(spake2p.M_BYTES).encode()).pA == spake2p.M_BYTES
    p2 = Pake2.decode(Pake2(spake2p.N_BYTES, r1).encode())
    assert (p2.pB, p2.cB) == (spake2p.N_BYTES, r1)
    assert Pake3(r2).encode() == unhex("15 3001 20") + r2 + b"\x18"
    assert Pake3.decode(bytearray(Pake3(r2).encode())).cA == r2
    # Unknown tags (a later revision's fields) are skipped; order does not matter.
    w = TlvWriter()
    w.start_struct(None)
    w.bytes(9, b"future")
    w.bytes(1, r2)
    w.uint((0xFFF1, 1, 2), 3)
    w.end_container()
    assert Pake3.decode(w.getvalue()).cA == r2


def test_pbkdf_response_ranges_and_shapes():
    r1, r2 = Rng(1).bytes(32), Rng(2).bytes(32)
    cases = (
        ({1: r1, 2: r2, 3: 7, 4: {1: 999, 2: b"s" * 16}}, PaseFieldRangeError),
        ({1: r1, 2: r2, 3: 7, 4: {1: 100001, 2: b"s" * 16}}, PaseFieldRangeError),
        ({1: r1, 2: r2, 3: 7, 4: {1: 1000, 2: b"s" * 15}}, PaseFieldRangeError),
        ({1: r1, 2: r2, 3: 7, 4: {1: 1000, 2: b"s" * 33}}, PaseFieldRangeError),
        ({1: r1, 2: r2, 3: 7, 4: {1: 1000}}, PaseMessageError),
        ({1: r1, 2: r2, 3: 7, 4: {2: b"s" * 16}}, PaseMessageError),
        ({1: r1, 2: r2, 3: 7, 4: 1000}, PaseMessageError),
        ({1: r1, 2: r2, 3: 0}, PaseFieldRangeError),
        ({1: r1, 3: 7}, PaseMessageError),
        ({1: r1, 2: r2, 3: 7, 5: {3: 0x10000}}, session_params.SessionParametersError),
        ({1: {1: 2}, 2: r2, 3: 7}, PaseMessageError),
    )
    for value, error in cases:
        raises(error, PbkdfParamResponse.decode, encode(value))
    w = TlvWriter()
    w.start_struct(None)
    w.bytes(1, r1)
    w.bytes(1, r1)
    w.end_container()
    raises(TlvDuplicateTagError, Pake3.decode, w.getvalue())
    raises(PaseMessageError, Pake3.decode, encode({1: r1}, tag=1))  # tagged, not anonymous
    raises(PaseMessageError, Pake2.decode, encode({1: spake2p.M_BYTES, 2: r1[:31]}))
    raises(PaseMessageError, Pake2.decode, encode({1: spake2p.M_BYTES}))
    # Constructors refuse what could not be sent.
    raises(PaseMessageError, PbkdfParamResponse, r1, r2, 7, 1000, None)
    raises(PaseFieldRangeError, PbkdfParamResponse, r1, r2, 7, 1000, b"short")
    raises(PaseFieldRangeError, PbkdfParamRequest, r1, 0)
    raises(PaseMessageError, PbkdfParamRequest, r1[:5], 1)
    raises(PaseMessageError, Pake1, spake2p.M_BYTES[:64])
    for not_bytes in (None, 5, "text", [0x15, 0x18]):
        for message in (PbkdfParamRequest, PbkdfParamResponse, Pake1, Pake2, Pake3):
            raises(PaseMessageError, message.decode, not_bytes)


def test_session_parameter_struct():
    params = SessionParameters(idle_interval_ms=100, active_interval_ms=200, active_threshold_ms=300,
                               data_model_revision=18, interaction_model_revision=12,
                               specification_version=0x01040000, max_paths_per_invoke=5)
    w = TlvWriter()
    session_params.encode(w, None, params)
    assert _decode_params(w.getvalue()) == params
    # Omitted fields: the spec's MRP defaults and the oldest revisions.
    p = _decode_params(encode({1: 1000}))
    assert (p.idle_interval_ms, p.active_interval_ms, p.active_threshold_ms) == (1000, 300, 4000)
    assert (p.data_model_revision, p.interaction_model_revision, p.specification_version) == (16, 10, 0)
    assert p.max_paths_per_invoke == 1
    # Matter 1.4's supported transports (8) and max TCP message size (9) are skipped.
    assert _decode_params(encode({2: 50, 8: 1, 9: 64000})).active_interval_ms == 50
    for bad in ({1: 0}, {2: 3600001}, {3: 0x10000}, {4: 0x10000}, {6: 1 << 32}, {7: 0}, {1: -1}, {1: b"x"}, {1: True}):
        raises(session_params.SessionParametersError, _decode_params, encode(bad))
    w = TlvWriter()
    w.start_struct(None)
    w.uint(1, 10)
    w.uint(1, 10)
    w.end_container()
    raises(TlvDuplicateTagError, _decode_params, w.getvalue())
    raises(session_params.SessionParametersError, _decode_params, encode([1, 2]))


def _decode_params(payload):
    from micromatter.tlv import TlvReader

    r = TlvReader(payload)
    r.next()
    return session_params.decode(r)


def test_status_report_codec():
    failure = status.secure_channel(status.INVALID_PARAMETER)
    assert failure.encode() == unhex("0100 00000000 0200")
    assert StatusReport.decode(unhex("0100 00000000 0200")) == failure
    assert not failure.is_success() and failure.reliable
    ok = status.secure_channel(status.SUCCESS)
    assert ok.encode() == bytes(8) and ok.is_success()
    close = status.secure_channel(status.CLOSE_SESSION)
    assert close.general_code == status.GENERAL_SUCCESS and not close.reliable and not close.is_success()
    busy = status.busy(5000)
    assert busy.encode() == unhex("0800 00000000 0400 8813") and busy.busy_wait_ms == 5000 and not busy.reliable
    assert StatusReport.decode(busy.encode()) == busy
    other = StatusReport.decode(unhex("0100 0100f1ff 0700 aabb"))  # vendor 0xFFF1, protocol 1
    assert (other.protocol_id, other.protocol_code, other.data) == (0xFFF10001, 7, unhex("aabb"))
    assert not other.is_secure_channel() and other.busy_wait_ms is None and other.reliable
    assert status.secure_channel(status.BUSY).busy_wait_ms is None  # Busy without a wait time
    raises(StatusReportError, StatusReport.decode, bytes(7))
    for not_bytes in (None, 5, "8 chars!"):
        raises(StatusReportError, StatusReport.decode, not_bytes)
    raises(StatusReportError, status.busy, 0x10000)
    raises(StatusReportError, StatusReport, 0x10000, 0, 0)
    assert opcodes.name(PAKE1) == "Pake1" and opcodes.name(0x99) == "0x99"


def test_argument_errors():
    v = verifier()
    c = Clockless(1)
    for args in ((object(), Ids(), v, SALT, 1000), (c, object(), v, SALT, 1000), (c, Ids(), b"v", SALT, 1000),
                 (c, Ids(), v, b"short", 1000), (c, Ids(), v, SALT, 10)):
        raises(PaseArgumentError, PaseResponder, *args)
    raises(PaseArgumentError, PaseResponder, Clockless(1), Ids(), v, SALT, 1000, parameters={})
    raises(PaseArgumentError, PaseResponder, Clockless(1), Ids(), v, SALT, 1000, timeout_ms=0)
    r = responder()
    raises(PaseArgumentError, r.open_window, 0, v, None, 1000)
    raises(PaseArgumentError, r.on_message, "A", 0x100, b"", 0)
    raises(PaseArgumentError, r.on_message, "A", PAKE1, b"", -1)
    raises(PaseArgumentError, r.on_message, "A", PAKE1, None, 0)
    raises(PaseArgumentError, initiator().on_message, PAKE2, "text", 0)
    raises(PaseArgumentError, PaseInitiator, Clockless(1), 1 << 27, 5)
    raises(PaseArgumentError, PaseInitiator, Clockless(1), 5, 0)
    raises(PaseArgumentError, PaseInitiator, Clockless(1), 5, 1, pbkdf_parameters=(1000,))
    raises(PaseArgumentError, PaseInitiator, Clockless(1), 5, 1, pbkdf_parameters=(999, SALT))
    i = initiator()
    i.start(0)
    raises(PaseStateError, i.start, 0)
