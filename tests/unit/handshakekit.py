"""Helpers for the PASE and CASE tests (both runtimes): a driver running a whole handshake between an
initiator and a responder machine, and what to read from their outputs."""

from micromatter.securechannel.opcodes import STATUS_REPORT
from micromatter.securechannel.status import StatusReport


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
