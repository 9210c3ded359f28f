"""One side of CASE over real UDP, on either runtime, for tests/host/test_udp_case.py.

    micropython tests/host/udp_case_peer.py responder PORT CREDS STORE HANDSHAKES ECHOES [SECONDS]
    python tests/host/udp_case_peer.py initiator HOST PORT CREDS STORE MODE [SECONDS]

Run from the repository root, inside a network namespace (the test makes one).  ``CREDS`` is a directory of
certificate and key files the test wrote (``rcac``, ``icac``, ``dev_noc``, ``dev_key``, ``ctl_noc``,
``ctl_key``, ``epoch``, and ``other_*`` from a second root); ``STORE`` a storage directory kept across runs
(resumption records).  The responder serves CASE on PORT until HANDSHAKES handshakes ended (established or
failed) and ECHOES echo requests were answered.  The initiator runs one CASE handshake in ``MODE``:
``normal`` (resuming if it holds a record), ``full`` (no resumption), ``bad-mic`` (its record's secret is
spoiled first, so the MIC does not verify), ``wrong-fabric`` (a fabric of another root),
``untrusted-root`` (the device's fabric, but a NOC from another root), ``tamper-sigma1`` / ``tamper-sigma3``
(one byte of its ephemeral key, or of the encrypted part of Sigma3, flipped on the way out), or
``replay-sigma1`` (a full handshake, then a second one whose Sigma1 is the first one's again); once
established it sends one encrypted ECHO and checks the reply.  Output (``udp_peer``): ``READY <port>``,
``EVENT`` lines and the ``RESULT`` line with ``outcome`` ("new", "resumed" or "failed": the last handshake),
``outcomes`` (all of them), ``errors`` (of the failed ones), ``status``, ``case_ms``, ``handshakes``, ``records``; exit status 0 only if the
run completed within SECONDS (default 30).
"""

import udp_peer
from micromatter.fabric import Fabric
from micromatter.securechannel import case
from micromatter.securechannel.dispatch import CaseEstablished, CaseFailed
from micromatter.securechannel.opcodes import SIGMA1, SIGMA3
from micromatter.securechannel.sigma import Sigma1, Sigma3

DEVICE = 0x1111
CONTROLLER = 0x2222
TAMPER_MODES = ("tamper-sigma1", "tamper-sigma3", "replay-sigma1")


def read(creds, name):
    with open(creds + "/" + name, "rb") as f:
        return f.read()


def fabric(port, creds, who, mode="normal"):
    """Fabric index 1 from the test's files: ``who`` is "dev" or "ctl"."""
    rcac, icac, noc, key = read(creds, "rcac"), read(creds, "icac"), read(creds, who + "_noc"), read(creds, who + "_key")
    if mode == "wrong-fabric":
        rcac, icac, noc, key = (read(creds, "other_rcac"), read(creds, "other_icac"), read(creds, "other_noc"),
                                read(creds, "other_key"))
    elif mode == "untrusted-root":  # the device's root and IPK (the destination id matches), another root's NOC
        icac, noc, key = read(creds, "other_icac"), read(creds, "other_noc"), read(creds, "other_key")
    return Fabric.from_credentials(port.crypto, 1, noc, icac, rcac, key, read(creds, "epoch"))


def _flip(data, index):
    out = bytearray(data)
    out[index] ^= 1
    return bytes(out)


_Honest = case.CaseInitiator


class TamperingInitiator(_Honest):
    """Our initiator with one message changed on its way out, as an attacker on the path would (``mode``).
    The dispatcher builds it in place of ``case.CaseInitiator`` in this process only."""

    mode = None
    recorded = None  # the first handshake's Sigma1, for "replay-sigma1"

    def start(self, now_ms):
        out = _Honest.start(self, now_ms)
        cls = TamperingInitiator
        if cls.mode == "tamper-sigma1":
            s = Sigma1.decode(out.payload)
            s.initiator_eph_pub_key = _flip(s.initiator_eph_pub_key, 64)  # off the curve
            out.payload = s.encode()
        elif cls.mode == "replay-sigma1":
            if cls.recorded is None:
                cls.recorded = out.payload
            else:
                out.payload = cls.recorded
        return out

    def on_message(self, opcode, payload, now_ms):
        out = _Honest.on_message(self, opcode, payload, now_ms)
        if TamperingInitiator.mode == "tamper-sigma3" and out.opcode == SIGMA3:
            out.payload = Sigma3(_flip(Sigma3.decode(out.payload).encrypted3, 5)).encode()
        return out


class CasePeer(udp_peer.Peer):
    """CASE handshakes (``handshakes`` of them for the responder) and ECHOs over the sessions they make."""

    def __init__(self, role, port, store, seconds, handshakes=1, echoes=0):
        udp_peer.Peer.__init__(self, role, port, port.open_storage(store), seconds)
        self.handshakes = handshakes
        self.echoes = echoes
        self.outcomes = []
        self.errors = []  # the error class of each failed handshake
        self.status = None
        self.case_ms = None
        self.next_handshake = None  # the initiator's second handshake ("replay-sigma1")

    def on_event(self, event):
        now = self.port.now_ms()
        if isinstance(event, CaseEstablished):
            self.outcomes.append("resumed" if event.is_resumption else "new")
            self.case_ms = now - self.start
            s = event.session
            udp_peer.emit("EVENT", {"event": "case", "outcome": self.outcomes[-1], "session": s.id,
                                    "peer": s.peer_node_id, "cats": list(s.peer_cats),
                                    "initiator": event.is_initiator})
            if self.role == "initiator":
                self.got_answer = False
                self.send_echo(s, b"over CASE", now)
        elif isinstance(event, CaseFailed):
            self.outcomes.append("failed")
            self.errors.append(type(event.error).__name__)
            self.status = event.status
            udp_peer.emit("EVENT", {"event": "case failed", "status": event.status, "error": repr(event.error)})

    def replied(self, payload, now):
        udp_peer.Peer.replied(self, payload, now)
        if self.next_handshake is not None:
            begin, self.next_handshake = self.next_handshake, None
            begin(now)
            self.loop.wake()

    def done(self):
        if self.role == "responder":
            return len(self.outcomes) >= self.handshakes and self.answered_count >= self.echoes
        if self.next_handshake is not None or not self.outcomes:
            return False
        return self.outcomes[-1] == "failed" or self.got_answer

    def fields(self):
        return {"outcome": self.outcomes[-1] if self.outcomes else None, "outcomes": self.outcomes,
                "errors": self.errors, "status": self.status, "case_ms": self.case_ms, "handshakes": len(self.outcomes),
                "records": len(self.sessions.resumption_records())}


def start(argv):
    port = udp_peer.Port()
    seconds = 30
    if argv[0] == "responder":
        listen, creds, store = int(argv[1]), argv[2], argv[3]
        if len(argv) > 6:
            seconds = int(argv[6])
        peer = CasePeer("responder", port, store, seconds, int(argv[4]), int(argv[5]))
        f = fabric(port, creds, "dev")
        restored = peer.sessions.init_from_storage([f])
        peer.channel.enable_case(case.CaseResponder(port, peer.sessions, [f]))
        peer.loop.open_udp(listen, peer.exchanges)
        udp_peer.emit("EVENT", {"event": "restored", "records": restored})
        udp_peer.say("READY %d" % listen)
        return peer
    host, peer_port, creds, store, mode = argv[1], int(argv[2]), argv[3], argv[4], argv[5]
    if len(argv) > 6:
        seconds = int(argv[6])
    peer = CasePeer("initiator", port, store, seconds)
    f = fabric(port, creds, "ctl", mode)
    peer.sessions.init_from_storage([f])
    if mode == "bad-mic":
        for record in peer.sessions.resumption_records():
            record.shared_secret = bytes(32)
    if mode in TAMPER_MODES:
        TamperingInitiator.mode = mode
        case.CaseInitiator = TamperingInitiator
    peer.loop.open_udp(0, peer.exchanges)
    peer.start = port.now_ms()
    resume = mode not in ("full",) + TAMPER_MODES

    def begin(now):
        peer.channel.start_case(udp_peer.address(host, peer_port), f, DEVICE, now, resume=resume)

    if mode == "replay-sigma1":
        peer.next_handshake = begin
    begin(peer.start)
    return peer


if __name__ == "__main__":
    import sys

    udp_peer.main(start, sys.argv[1:])
