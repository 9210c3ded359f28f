"""PASE against matter.js (CPython): our responder with a matter.js initiator and our initiator with a
matter.js responder, built from matter.js's TLV schemas, Spake2p and status codec (pase_matterjs_peer.cjs).

No network: the messages are relayed through the node process's stdin/stdout.  Skipped only when node or
the interop kit's matter.js packages (``make setup-interop``) are missing.
"""

import json
import os
import shutil
import subprocess

import pytest

from micromatter.crypto import spake2p
from micromatter.securechannel import pase, status
from micromatter.securechannel.opcodes import STATUS_REPORT
from micromatter.session.params import SessionParameters
from micromatter_cpython.port import Port

HERE = os.path.dirname(os.path.abspath(__file__))
MJS_DIR = os.path.join(os.path.dirname(HERE), "interop", "mjs")
PEER = os.path.join(HERE, "pase_matterjs_peer.cjs")
PASSCODE = 20202021
SALT = b"SPAKE2P Key Salt"
ITERATIONS = 1000
MJS_PARAMS = SessionParameters(idle_interval_ms=1100, active_interval_ms=350, active_threshold_ms=4000,
                               data_model_revision=17, interaction_model_revision=11,
                               specification_version=0x01030000, max_paths_per_invoke=1)

NODE = shutil.which("node")
if NODE is None or not os.path.isdir(os.path.join(MJS_DIR, "node_modules", "@matter", "protocol")):
    pytest.skip("needs node and the interop kit's matter.js packages (make setup-interop)", allow_module_level=True)


class Peer:
    """The node process: ``send`` one message to it, ``receive`` its next line."""

    def __init__(self, role, passcode=PASSCODE, salt=SALT, iterations=ITERATIONS):
        self.proc = subprocess.Popen(
            [NODE, PEER, MJS_DIR, role, str(passcode), salt.hex(), str(iterations)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    def send(self, opcode, payload):
        self.proc.stdin.write(json.dumps({"opcode": opcode, "payload": payload.hex()}) + "\n")
        self.proc.stdin.flush()

    def receive(self):
        line = self.proc.stdout.readline()
        assert line, "matter.js peer ended: " + self.proc.stderr.read()
        message = json.loads(line)
        if "payload" in message:
            message["payload"] = bytes.fromhex(message["payload"])
        return message

    def close(self):
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


@pytest.fixture
def peers():
    started = []

    def start(*args, **kwargs):
        p = Peer(*args, **kwargs)
        started.append(p)
        return p

    yield start
    for p in started:
        p.close()


class Ids:
    def __init__(self):
        self.used = []

    def allocate(self, now_ms):
        self.used.append(0x0BAD)
        return 0x0BAD

    def release(self, sid):
        self.used.remove(sid)


def our_responder(ids=None):
    verifier = spake2p.PasscodeVerifier.from_passcode(Port().crypto, PASSCODE, SALT, ITERATIONS)
    r = pase.PaseResponder(Port(), ids or Ids(), verifier, SALT, ITERATIONS)
    r.open_window(0)
    return r


def relay_to_responder(peer, r):
    """Feed the matter.js initiator's messages to ``r`` until the peer ends; (our events, its result)."""
    events = []
    for _ in range(8):
        message = peer.receive()
        if "opcode" not in message:
            return events, message
        out = r.on_message("mjs", message["opcode"], message["payload"], 0)
        events += out.events
        if out.opcode is not None:
            peer.send(out.opcode, out.payload)
    raise AssertionError("handshake did not end")


def test_our_responder_with_a_matterjs_initiator(peers):
    peer = peers("initiator")
    r = our_responder()
    events, result = relay_to_responder(peer, r)
    assert result.get("done"), result
    (established,) = events
    assert isinstance(established, pase.Established)
    assert established.shared_secret.hex() == result["ke"]
    assert established.peer_session_id == 0x2468 and result["peerSessionId"] == 0x0BAD
    assert established.peer_parameters == MJS_PARAMS  # our decoder read matter.js's session parameters
    assert bytes.fromhex(result["salt"]) == SALT and result["iterations"] == ITERATIONS
    assert result["peerParams"]["idleInterval"] == 500 and result["peerParams"]["maxPathsPerInvoke"] == 1


def test_matterjs_initiator_with_a_wrong_passcode(peers):
    peer = peers("initiator", passcode=PASSCODE + 1)
    ids = Ids()
    r = our_responder(ids)
    events, result = relay_to_responder(peer, r)
    assert result == {"failed": "cB did not verify"}
    (failed,) = events
    assert isinstance(failed.error, pase.PasePeerStatusError) and failed.status == status.INVALID_PARAMETER
    assert r.failures == 1 and ids.used == []


def run_our_initiator(peer, passcode=PASSCODE):
    i = pase.PaseInitiator(Port(), passcode, 0x0ACE, parameters=SessionParameters(idle_interval_ms=700))
    out = i.start(0)
    events = []
    for _ in range(8):
        if out.opcode is not None:
            peer.send(out.opcode, out.payload)
        if out.events or (out.opcode == STATUS_REPORT):
            events += out.events
            return events, peer.receive()
        message = peer.receive()
        assert "opcode" in message, message
        out = i.on_message(message["opcode"], message["payload"], 0)
    raise AssertionError("handshake did not end")


def test_our_initiator_with_a_matterjs_responder(peers):
    peer = peers("responder")
    events, result = run_our_initiator(peer)
    assert result.get("done"), result
    (established,) = events
    assert established.shared_secret.hex() == result["ke"] and established.peer_session_id == 0x1357
    assert established.peer_parameters == MJS_PARAMS
    assert result["peerSessionId"] == 0x0ACE and result["peerParams"]["idleInterval"] == 700


def test_our_initiator_with_a_wrong_passcode_against_matterjs(peers):
    peer = peers("responder")
    events, result = run_our_initiator(peer, passcode=PASSCODE - 1)
    (failed,) = events
    assert isinstance(failed.error, spake2p.ConfirmationError)
    assert result["failed"].startswith("expected 36, got")  # matter.js got our InvalidParameter instead of Pake3
    assert '"protocolStatus":2' in result["failed"] and '"generalStatus":1' in result["failed"]
