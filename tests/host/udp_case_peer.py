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
``untrusted-root`` (the device's fabric, but a NOC from another root); once established it sends one
encrypted ECHO and checks the reply.  Output (``udp_peer``): ``READY <port>``, ``EVENT`` lines and the
``RESULT`` line with ``outcome`` ("new", "resumed" or "failed"), ``outcomes`` (all of them), ``errors`` (of
the failed ones), ``status``, ``case_ms``, ``handshakes``, ``records``; exit status 0 only if the run
completed within SECONDS (default 30).
"""

import udp_peer
from micromatter.fabric import Fabric
from micromatter.securechannel import case
from micromatter.securechannel.dispatch import CaseEstablished, CaseFailed

DEVICE = 0x1111
CONTROLLER = 0x2222


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
                self.send_echo(s, b"over CASE", now)
        elif isinstance(event, CaseFailed):
            self.outcomes.append("failed")
            self.errors.append(type(event.error).__name__)
            self.status = event.status
            udp_peer.emit("EVENT", {"event": "case failed", "status": event.status, "error": repr(event.error)})

    def done(self):
        if self.role == "responder":
            return len(self.outcomes) >= self.handshakes and self.answered_count >= self.echoes
        if not self.outcomes:
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
    peer.loop.open_udp(0, peer.exchanges)
    peer.start = port.now_ms()
    peer.channel.start_case(udp_peer.address(host, peer_port), f, DEVICE, peer.start, resume=mode != "full")
    return peer


if __name__ == "__main__":
    import sys

    udp_peer.main(start, sys.argv[1:])
