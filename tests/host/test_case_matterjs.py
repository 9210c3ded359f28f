"""Our CASE responder against a matter.js initiator (CPython), built from matter.js's CASE schemas, certificate
classes (which also verify our RCAC, ICAC and NOC), crypto and status codec (case_matterjs_peer.cjs): a full
handshake, then a resumption with the record it left, then a resumption with a spoiled secret falling back to
a full handshake.  Both sides must end with the same shared secret, session salt and resumption id.

No network: the messages are relayed through the node process's stdin/stdout.  Skipped only when node or
the interop kit's matter.js packages (``make setup-interop``) are missing.
"""

import json
import os
import shutil
import subprocess

import pytest

from casekit import Authority, Side
from micromatter.securechannel.case import Established
from micromatter.securechannel.opcodes import SIGMA1, SIGMA2, SIGMA2_RESUME, SIGMA3, STATUS_REPORT

HERE = os.path.dirname(os.path.abspath(__file__))
MJS_DIR = os.path.join(os.path.dirname(HERE), "interop", "mjs")
PEER = os.path.join(HERE, "case_matterjs_peer.cjs")
DEVICE = 0x1111
CONTROLLER = 0x2222

NODE = shutil.which("node")
if NODE is None or not os.path.isdir(os.path.join(MJS_DIR, "node_modules", "@matter", "protocol")):
    pytest.skip("needs node and the interop kit's matter.js packages (make setup-interop)", allow_module_level=True)


def _handshake(device, authority, record=None):
    """Relay one matter.js-initiated handshake through our responder: (the JS result, our events, opcodes)."""
    noc, key = authority.noc(CONTROLLER)
    config = {"rcac": authority.rcac.encode().hex(), "icac": authority.icac.encode().hex(), "noc": noc.hex(),
              "key": key.hex(), "epoch": authority.epoch_key.hex(), "fabricId": str(authority.fabric_id),
              "peerNodeId": str(DEVICE), "record": record}
    proc = subprocess.Popen([NODE, PEER, MJS_DIR, json.dumps(config)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    events, opcodes = [], []
    try:
        for _ in range(4):
            line = proc.stdout.readline()
            assert line, "matter.js peer ended: " + proc.stderr.read()
            message = json.loads(line)
            if "opcode" not in message:
                return message, events, opcodes
            opcodes.append(message["opcode"])
            out = device.responder.on_message("mjs", message["opcode"], bytes.fromhex(message["payload"]), 0)
            events.extend(out.events)
            if out.opcode is not None:
                opcodes.append(out.opcode)
                proc.stdin.write(json.dumps({"opcode": out.opcode, "payload": out.payload.hex()}) + "\n")
                proc.stdin.flush()
        raise AssertionError("the handshake did not end")
    finally:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _check(result, events, resumed):
    assert result.get("done"), result
    (e,) = [x for x in events if isinstance(x, Established)]
    assert result["resumed"] is resumed and e.is_resumption is resumed
    assert bytes.fromhex(result["sharedSecret"]) == e.shared_secret
    assert bytes.fromhex(result["salt"]) == e.salt
    assert bytes.fromhex(result["resumptionId"]) == e.resumption_id
    assert result["peerSessionId"] == e.local_session_id and e.peer_session_id == 0x1357
    assert e.peer_node_id == CONTROLLER
    return {"sharedSecret": result["sharedSecret"], "resumptionId": result["resumptionId"]}


def test_matterjs_initiator_full_then_resumed_then_fallback():
    authority = Authority()
    device = Side([authority.fabric(DEVICE)])
    result, events, opcodes = _handshake(device, authority)
    assert opcodes == [SIGMA1, SIGMA2, SIGMA3, STATUS_REPORT]
    record = _check(result, events, False)
    result, events, opcodes = _handshake(device, authority, record)
    assert opcodes == [SIGMA1, SIGMA2_RESUME, STATUS_REPORT]
    newer = _check(result, events, True)
    assert newer["resumptionId"] != record["resumptionId"]
    spoiled = {"sharedSecret": "00" * 32, "resumptionId": newer["resumptionId"]}
    result, events, opcodes = _handshake(device, authority, spoiled)
    assert opcodes == [SIGMA1, SIGMA2, SIGMA3, STATUS_REPORT]
    _check(result, events, False)
