"""tools/pase_verifier.py: the SDK's test verifier, refused passcodes, JSON output, and a verifier it
prints that a PASE responder then pairs with (CPython)."""

import base64
import json
import os
import subprocess
import sys

import pytest

from micromatter.crypto import spake2p
from micromatter.securechannel import pase

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "pase_verifier.py")
sys.path.insert(0, os.path.join(ROOT, "tools"))

import pase_verifier  # noqa: E402

SDK_VERIFIER = (
    "uWFwqugDNGiEck/po7KHwwMwwqZgN10XuyBajPGuyzUEV/iree4lOrao5GuwnlQ65CJzbeUB49s31EH+"
    "NEkg0JVI5MGCQGMMT/SRPFNRODm3wH/MBiehuFc6FJ/NH6Rmzw=="
)


def run_tool(*args):
    return subprocess.run([sys.executable, TOOL] + list(args), capture_output=True, text=True, timeout=60)


def test_sdk_test_verifier_from_the_command_line():
    result = run_tool("20202021", "--salt", "U1BBS0UyUCBLZXkgU2FsdA==", "--iterations", "1000")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["verifier"] == SDK_VERIFIER
    assert lines["salt"] == "U1BBS0UyUCBLZXkgU2FsdA==" and lines["iterations"] == "1000"
    assert lines["w0"] == base64.b64decode(SDK_VERIFIER)[:32].hex()
    assert lines["L"] == base64.b64decode(SDK_VERIFIER)[32:].hex()


@pytest.mark.parametrize(
    "passcode",
    ["00000000", "11111111", "22222222", "33333333", "44444444", "55555555", "66666666", "77777777", "88888888",
     "99999999", "12345678", "87654321", "100000000", "2020-2021", "-1", "abc"],
)
def test_invalid_passcodes_are_refused(passcode, capsys):
    with pytest.raises(SystemExit) as e:
        pase_verifier.main([passcode, "--salt-hex", "00" * 16])
    assert e.value.code == 2
    assert "refused passcode" in capsys.readouterr().err


def test_bad_salt_and_iterations_are_refused(capsys):
    for args in (["--salt-hex", "00" * 15], ["--salt-hex", "00" * 33], ["--salt", "not base64!"],
                 ["--salt-hex", "00" * 16, "--iterations", "999"], ["--iterations", "100001"]):
        with pytest.raises(SystemExit) as e:
            pase_verifier.main(["20202021"] + args)
        assert e.value.code == 2, args
    assert "pase_verifier:" in capsys.readouterr().err


def test_random_passcode_and_json_output_pair_with_a_responder(capsys):
    assert pase_verifier.main(["random", "--json", "--iterations", "1500"]) == 0
    values = json.loads(capsys.readouterr().out)
    passcode = int(values["passcode"])
    assert pase_verifier.onboarding.is_valid_passcode(passcode) and len(values["passcode"]) == 8
    salt = base64.b64decode(values["salt"])
    assert len(salt) == 32 and values["iterations"] == 1500
    verifier = spake2p.PasscodeVerifier.decode(base64.b64decode(values["verifier"]))

    from micromatter_cpython.port import Port

    class Ids:
        def allocate(self, now_ms):
            return 1

        def release(self, sid):
            pass

    responder = pase.PaseResponder(Port(), Ids(), verifier, salt, 1500)
    responder.open_window(0)
    initiator = pase.PaseInitiator(Port(), passcode, 2)
    out = initiator.start(0)
    for _ in range(3):
        reply = responder.on_message("peer", out.opcode, out.payload, 0)
        out = initiator.on_message(reply.opcode, reply.payload, 0)
    assert isinstance(reply.events[0], pase.Established) and isinstance(out.events[0], pase.Established)
    assert reply.events[0].shared_secret == out.events[0].shared_secret


def test_random_salts_differ():
    a = pase_verifier.compute(20202021, os.urandom(32), 1000)
    b = pase_verifier.compute(20202021, os.urandom(32), 1000)
    assert a["salt"] != b["salt"] and a["verifier"] != b["verifier"]
    with pytest.raises(pase_verifier.onboarding.PasscodeError):
        pase_verifier.compute(12345678, os.urandom(32), 1000)
