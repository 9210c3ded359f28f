"""CASE over real UDP across the runtimes (CPython): a CPython initiator against a MicroPython responder
(``udp_case_peer.py``), with the certificates of one test fabric written by this test.  Full CASE then an
encrypted ECHO; resumption (Sigma2_Resume) on the next connection; resumption after the responder process
restarted (its records restored from its storage directory); a bad resumption MIC and an unknown resumption
id falling back to full CASE; a wrong fabric (NoSharedTrustRoots), a NOC from an untrusted root, Sigma1 and
Sigma3 tampered with on the way and a replayed Sigma1 (InvalidParameter, no session).

Everything runs inside a network namespace this test creates (loopback only) and deletes afterwards; every
process runs under ``timeout`` and is stopped by PID.  Needs root and ``ip netns``: skipped otherwise.
"""

import os
import sys

import pytest

from casekit import Authority
from test_udp_pase import PORT, SECONDS, Responder, netns, run_initiator  # noqa: F401  (the namespace fixture)

SCRIPT = os.path.join("tests", "host", "udp_case_peer.py")
DEVICE = 0x1111
CONTROLLER = 0x2222
CAT = 0x00040001
NO_SHARED_TRUST_ROOTS = 1
INVALID_PARAMETER = 2


@pytest.fixture(scope="module")
def creds(tmp_path_factory):
    """The fabric's certificates and keys as files both runtimes read; ``other_*`` from a second root with
    the same fabric id."""
    d = tmp_path_factory.mktemp("case-creds")
    main = Authority(fabric_id=0xFAB1)
    other = Authority(fabric_id=0xFAB1, rcac_id=7)
    files = {"rcac": main.rcac.encode(), "icac": main.icac.encode(), "epoch": main.epoch_key,
             "other_rcac": other.rcac.encode(), "other_icac": other.icac.encode()}
    files["dev_noc"], files["dev_key"] = main.noc(DEVICE)
    files["ctl_noc"], files["ctl_key"] = main.noc(CONTROLLER, cats=(CAT,))
    files["other_noc"], files["other_key"] = other.noc(CONTROLLER)
    for name, data in files.items():
        (d / name).write_bytes(data)
    return str(d)


def _responder(ns, creds, store, handshakes, echoes):
    """The MicroPython responder, serving ``handshakes`` handshakes and ``echoes`` ECHOs."""
    r = Responder(ns, "micropython", SCRIPT, PORT, creds, store, handshakes, echoes, SECONDS)
    r.restored = [e["records"] for e in r.events if e["event"] == "restored"][0]
    return r


def _initiator(ns, creds, store, mode):
    return run_initiator(ns, "cpython", SCRIPT, "::1", PORT, creds, store, mode, SECONDS)


def test_full_then_resumed_then_resumed_after_a_responder_restart(netns, creds, tmp_path):
    dev_store, ctl_store = str(tmp_path / "dev"), str(tmp_path / "ctl")
    r = _responder(netns, creds, dev_store, 2, 2)
    assert r.restored == 0
    first = _initiator(netns, creds, ctl_store, "normal")
    second = _initiator(netns, creds, ctl_store, "normal")
    rr = r.finish()
    assert (first["outcome"], second["outcome"]) == ("new", "resumed")
    assert rr["handshakes"] == 2 and rr["echoes"] == 2 and rr["records"] == 1
    assert first["records"] == second["records"] == 1
    # A new responder process over the same storage: the record comes back from its files.
    r = _responder(netns, creds, dev_store, 1, 1)
    assert r.restored == 1
    third = _initiator(netns, creds, ctl_store, "normal")
    r.finish()
    assert third["outcome"] == "resumed"


def test_bad_mic_and_unknown_resumption_id_fall_back_to_full_case(netns, creds, tmp_path):
    dev_store, ctl_store = str(tmp_path / "dev"), str(tmp_path / "ctl")
    r = _responder(netns, creds, dev_store, 2, 2)
    assert _initiator(netns, creds, ctl_store, "full")["outcome"] == "new"
    bad = _initiator(netns, creds, ctl_store, "bad-mic")  # offers the record with a spoiled secret
    r.finish()
    assert bad["outcome"] == "new"
    # A responder that never saw this controller (empty storage): the offered id is unknown.
    r = _responder(netns, creds, str(tmp_path / "fresh"), 1, 1)
    unknown = _initiator(netns, creds, ctl_store, "normal")
    r.finish()
    assert unknown["outcome"] == "new"


def test_wrong_fabric_and_untrusted_root_are_refused(netns, creds, tmp_path):
    r = _responder(netns, creds, str(tmp_path / "dev"), 2, 0)
    wrong = _initiator(netns, creds, str(tmp_path / "a"), "wrong-fabric")
    untrusted = _initiator(netns, creds, str(tmp_path / "b"), "untrusted-root")
    rr = r.finish()
    assert (wrong["outcome"], wrong["status"]) == ("failed", NO_SHARED_TRUST_ROOTS)
    assert (untrusted["outcome"], untrusted["status"]) == ("failed", INVALID_PARAMETER)  # after Sigma3
    assert rr["records"] == 0 and rr["echoes"] == 0 and rr["outcomes"] == ["failed", "failed"]


def test_tampered_sigma1_and_sigma3_and_a_replayed_sigma1_make_no_session(netns, creds, tmp_path):
    r = _responder(netns, creds, str(tmp_path / "dev"), 4, 1)
    sigma1 = _initiator(netns, creds, str(tmp_path / "a"), "tamper-sigma1")  # its ephemeral key off the curve
    sigma3 = _initiator(netns, creds, str(tmp_path / "b"), "tamper-sigma3")  # encrypted3 fails its MIC
    # A full handshake, then its Sigma1 again: the device answers Sigma2 (it cannot tell), but only the
    # holder of the first ephemeral key could read it, so no second session comes of it.
    replay = _initiator(netns, creds, str(tmp_path / "c"), "replay-sigma1")
    rr = r.finish()
    assert (sigma1["outcome"], sigma1["status"]) == ("failed", INVALID_PARAMETER)
    assert (sigma3["outcome"], sigma3["status"]) == ("failed", INVALID_PARAMETER)
    assert replay["outcomes"] == ["new", "failed"] and replay["status"] == INVALID_PARAMETER
    assert rr["outcomes"] == ["failed", "failed", "new", "failed"] and rr["echoes"] == 1 and rr["records"] == 1
    assert rr["errors"] == ["InvalidPointError", "AuthenticationError", "CasePeerStatusError"]
    assert replay["errors"] == ["AuthenticationError"]  # Sigma2 under another ephemeral key


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
