"""PASE figures on this runtime: the responder's CPU time for one handshake (and per message), the
initiator's, the heap a responder holds while a handshake is in progress (MicroPython), and verifier
generation (PBKDF2, 1000 iterations)."""

import benchlib
from micromatter.crypto import spake2p
from micromatter.securechannel import pase
from sessionkit import Clockless
from support import port

PASSCODE = 20202021
SALT = b"SPAKE2P Key Salt"


class _Ids:
    def allocate(self, now_ms):
        return 1

    def release(self, sid):
        pass


def _handshake(verifier, seed, heap=False):
    """One handshake; (responder us per message [request, Pake1, Pake3], initiator us, the most heap the
    responder held after a message, in bytes: what stays allocated between messages, after a collection)."""
    r = pase.PaseResponder(Clockless(seed), _Ids(), verifier, SALT, 1000)
    r.open_window(0)
    i = pase.PaseInitiator(Clockless(seed + 1), PASSCODE, 2)
    steps = []
    held = 0
    peak = 0
    start = benchlib._now_us()
    out = i.start(0)
    initiator_us = benchlib._diff_us(benchlib._now_us(), start)
    for _ in range(3):
        if heap:
            before = benchlib.heap_used()
        start = benchlib._now_us()
        reply = r.on_message("peer", out.opcode, out.payload, 0)
        steps.append(benchlib._diff_us(benchlib._now_us(), start))
        if heap:
            held += benchlib.heap_used() - before
            peak = max(peak, held)
        start = benchlib._now_us()
        out = i.on_message(reply.opcode, reply.payload, 0)
        initiator_us += benchlib._diff_us(benchlib._now_us(), start)
    if not out.events or not isinstance(out.events[0], pase.Established):
        raise AssertionError("the benchmark handshake failed: %r" % out)
    return steps, initiator_us, peak


def run(emit):
    crypto = port().crypto
    start = benchlib._now_us()
    verifier = spake2p.PasscodeVerifier.from_passcode(crypto, PASSCODE, SALT, 1000)
    emit("pase_verifier_first", benchlib._diff_us(benchlib._now_us(), start) / 1000, "ms", iterations=1000,
         note="includes building the P-256 comb table")
    emit("pase_verifier_1000", min(benchlib.time_per_op_us(
        lambda: spake2p.PasscodeVerifier.from_passcode(crypto, PASSCODE, SALT, 1000), 3, 1) for _ in range(3)) / 1000,
        "ms", iterations=1000)

    _handshake(verifier, 1)  # warm-up: the G tables for mul_add
    rounds = 5
    best = None
    initiator_best = None
    for seed in range(2, 2 + 2 * rounds, 2):
        steps, initiator_us, _ = _handshake(verifier, seed)
        if best is None or sum(steps) < sum(best):
            best = steps
        initiator_best = initiator_us if initiator_best is None else min(initiator_best, initiator_us)
    emit("pase_responder", sum(best) / 1000, "ms", rounds=rounds, note="best handshake, responder CPU only")
    emit("pase_responder_pbkdf_response", best[0] / 1000, "ms")
    emit("pase_responder_pake2", best[1] / 1000, "ms", note="Y, Z, V and the key schedule")
    emit("pase_responder_pake3", best[2] / 1000, "ms")
    emit("pase_initiator", initiator_best / 1000, "ms", note="includes PBKDF2 (1000 iterations)")
    if benchlib.IS_MICROPYTHON:  # the allocations of one handshake (big-int temporaries) do not fit a paused heap
        _, _, peak = _handshake(verifier, 99, heap=True)
        emit("pase_responder_held", peak, "B", note="most heap kept between messages (after gc.collect)")
