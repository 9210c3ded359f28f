"""One side of a PASE session over real UDP, on either runtime, for tests/host/test_udp_pase.py.

    micropython tests/host/udp_pase_peer.py responder PORT [SECONDS] [--pase-only] [--failures N]
    python tests/host/udp_pase_peer.py initiator HOST PORT [SECONDS] [--passcode N]

Run from the repository root, inside a network namespace (the test makes one).  The responder opens a
commissioning window (passcode 20202021) on PORT with the port's UDP loop; the initiator runs PASE against
HOST:PORT (with ``--passcode``, another passcode: the handshake must fail).  Once PASE is established each side
sends one encrypted ECHO over the session and checks the other's reply, and both exit once their exchanges
are done.  ``--failures N``: the responder sees N failed handshakes (wrong passcodes) before the one that
succeeds; ``--pase-only``: the responder is done once PASE is established (for a real controller, which goes
on with its own messages).  Output (``udp_peer``): ``READY <port>`` once listening, ``EVENT`` lines and the
``RESULT`` line with ``pase_ms`` (from the start of the handshake (initiator) or of the process (responder)),
``outcome`` ("established" or "failed"), ``status``, ``failures`` (responder) and ``echo_ms``; exit status 0
only if the scenario completed within SECONDS (default 30).
"""

import udp_peer
from micromatter.crypto import spake2p
from micromatter.securechannel.dispatch import PaseEstablished, PaseFailed
from micromatter.securechannel.pase import PaseResponder
from micromatter.storage import MemoryStorage

PASSCODE = 20202021
SALT = b"SPAKE2P Key Salt"
ITERATIONS = 1000


class PasePeer(udp_peer.Peer):
    """PASE, then one ECHO each way over the new session (the responder answers the initiator's with its own)."""

    def __init__(self, role, port, seconds, pase_only=False, failures=0):
        udp_peer.Peer.__init__(self, role, port, MemoryStorage(), seconds)
        self.pase_only = pase_only
        self.allowed_failures = failures
        self.failures = 0
        self.session = None
        self.pase_ms = None
        self.outcome = None
        self.status = None

    def words(self):
        return b"from the " + (b"device" if self.role == "responder" else b"controller")

    def on_event(self, event):
        now = self.port.now_ms()
        if isinstance(event, PaseEstablished):
            self.session = event.session
            self.pase_ms = now - self.start
            self.outcome = "established"
            udp_peer.emit("EVENT", {"event": "pase", "session": event.session.id, "initiator": event.is_initiator})
            if self.role == "initiator":
                self.send_echo(self.session, self.words(), now)
        elif isinstance(event, PaseFailed):
            udp_peer.emit("EVENT", {"event": "pase failed", "status": event.status, "error": repr(event.error)})
            if self.role == "initiator":
                self.outcome = "failed"
                self.status = event.status
            else:
                self.failures += 1
                if self.failures > self.allowed_failures:
                    self.fail("PASE failed: %r" % event)

    def answered(self, payload, session, now):
        udp_peer.Peer.answered(self, payload, session, now)
        if self.role == "responder" and self.echo_sent is None:
            self.send_echo(session, self.words(), now)  # now the other way round

    def done(self):
        if self.outcome == "failed":
            return True
        if self.pase_only:
            return self.session is not None
        return self.got_answer and self.answered_count > 0 and self.failures == self.allowed_failures

    def fields(self):
        return {"pase_ms": self.pase_ms, "outcome": self.outcome, "status": self.status, "failures": self.failures}


def _option(argv, name, default):
    if name in argv:
        i = argv.index(name)
        value = int(argv[i + 1])
        del argv[i:i + 2]
        return value
    return default


def start(argv):
    argv = list(argv)
    pase_only = "--pase-only" in argv
    if pase_only:
        argv.remove("--pase-only")
    failures = _option(argv, "--failures", 0)
    passcode = _option(argv, "--passcode", PASSCODE)
    port = udp_peer.Port()
    if argv[0] == "responder":
        listen = int(argv[1])
        peer = PasePeer("responder", port, int(argv[2]) if len(argv) > 2 else 30, pase_only, failures)
        peer.loop.open_udp(listen, peer.exchanges)
        verifier = spake2p.PasscodeVerifier.from_passcode(port.crypto, PASSCODE, SALT, ITERATIONS)
        responder = PaseResponder(port, peer.channel.session_ids, verifier, SALT, ITERATIONS)
        peer.channel.enable_pase(responder)
        responder.open_window(port.now_ms())
        udp_peer.say("READY %d" % listen)
    else:
        host, peer_port = argv[1], int(argv[2])
        peer = PasePeer("initiator", port, int(argv[3]) if len(argv) > 3 else 30)
        peer.loop.open_udp(0, peer.exchanges)
        peer.start = port.now_ms()
        peer.channel.start_pase(udp_peer.address(host, peer_port), passcode, peer.start)
    return peer


if __name__ == "__main__":
    import sys

    udp_peer.main(start, sys.argv[1:])
