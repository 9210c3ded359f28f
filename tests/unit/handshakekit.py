"""Helpers for the PASE and CASE tests (both runtimes): a driver running a whole handshake between an
initiator and a responder machine, what to read from their outputs, and a pool of session ids."""

from micromatter.securechannel.opcodes import STATUS_REPORT
from micromatter.securechannel.status import StatusReport
from micromatter.session.errors import SessionBusyError


def run(i, r, peer="A", now=0, tamper=None, trace=None):
    """Drive a handshake between initiator ``i`` and responder ``r`` (any ``handshake`` machines);
    ``tamper(opcode, payload)`` may rewrite messages in transit; ``trace`` collects (side, opcode, payload).
    Returns (responder outputs, initiator outputs)."""
    out = i.start(now)
    i_outs = [out]
    r_outs = []
    for _ in range(6):
        if out.opcode is None:
            break
        payload = out.payload if tamper is None else tamper(out.opcode, out.payload)
        if trace is not None:
            trace.append(("i", out.opcode, payload))
        reply = r.on_message(peer, out.opcode, payload, now)
        r_outs.append(reply)
        if reply.opcode is None:
            break
        payload = reply.payload if tamper is None else tamper(reply.opcode, reply.payload)
        if trace is not None:
            trace.append(("r", reply.opcode, payload))
        out = i.on_message(reply.opcode, payload, now)
        i_outs.append(out)
    return r_outs, i_outs


def events(outputs):
    found = []
    for out in outputs:
        found.extend(out.events)
    return found


def report_of(out):
    """The StatusReport an output sends (it must send one)."""
    assert out.opcode == STATUS_REPORT
    return StatusReport.decode(out.payload)


class Ids:
    """Session ids as the session core hands them out: a fixed pool, SessionBusyError when empty."""

    def __init__(self, capacity=2, first=0x100):
        self.free = list(range(first, first + capacity))
        self.used = []

    def allocate(self, now_ms):
        if not self.free:
            raise SessionBusyError("no free session")
        sid = self.free.pop(0)
        self.used.append(sid)
        return sid

    def release(self, sid):
        self.used.remove(sid)  # a double or unknown release fails the test (ValueError)
        self.free.append(sid)
