"""Cross-runtime agreement: the MicroPython port's crypto against the CPython port, byte for byte.

Seeded random inputs go to a script run by the unix MicroPython port; its
outputs are compared with what the CPython port (the ``cryptography``
package) computes.  ECDSA signatures are deterministic (RFC 6979) on both,
so they are compared too, and each side verifies the other's.
"""

import binascii
import json
import os
import random
import subprocess

import pytest

from micromatter.errors import InvalidSignatureError
from micromatter_cpython.crypto import DETERMINISTIC_SIGNING, Crypto

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

COUNTS = {"ccm": 300, "hmac": 200, "hkdf": 200, "pbkdf2": 40, "public": 40, "ecdh": 40, "sign": 30, "verify": 30}

MP_SCRIPT = """
import sys, json
from binascii import hexlify, unhexlify
sys.path[:] = ["shared", "mp"]
from micromatter_mp.crypto import Crypto
from micromatter.errors import MatterError

c = Crypto()
h = unhexlify

def x(b):
    return hexlify(b).decode()

for line in open(sys.argv[1]):
    case = json.loads(line)
    kind = case["kind"]
    try:
        if kind == "ccm":
            aead = c.aes_ccm(h(case["key"]), case["tag"], len(case["nonce"]) // 2)
            nonce, aad, plain = h(case["nonce"]), h(case["aad"]), h(case["plain"])
            out = aead.encrypt(nonce, aad, plain)
            buf = bytearray(aad + plain + bytes(case["tag"]))
            mv = memoryview(buf)
            aead.encrypt_in_place(nonce, mv[:len(aad)], buf, len(aad), len(aad) + len(plain))
            assert bytes(buf[len(aad):]) == out
            back = aead.decrypt(nonce, aad, out)
            result = [x(out), x(back)]
        elif kind == "hmac":
            result = x(c.hmac_sha256(h(case["key"]), h(case["data"])))
        elif kind == "hkdf":
            result = x(c.hkdf_sha256(h(case["ikm"]), h(case["salt"]), h(case["info"]), case["length"]))
        elif kind == "pbkdf2":
            result = x(c.pbkdf2_sha256(h(case["password"]), h(case["salt"]), case["iterations"], case["length"]))
        elif kind == "public":
            result = x(c.p256_public_key(h(case["private"])))
        elif kind == "ecdh":
            result = x(c.ecdh(h(case["private"]), h(case["peer"])))
        elif kind == "sign":
            result = x(c.ecdsa_sign(h(case["private"]), h(case["message"])))
        elif kind == "verify":
            c.ecdsa_verify(h(case["public"]), h(case["message"]), h(case["signature"]))
            try:
                c.ecdsa_verify(h(case["public"]), h(case["message"]) + b"x", h(case["signature"]))
                result = "accepted a wrong message"
            except MatterError:
                result = "ok"
    except MatterError as e:
        result = "error " + type(e).__name__
    print(json.dumps({"id": case["id"], "result": result}))
print("done")
"""


def _cases(seed):
    rng = random.Random(seed)
    cpy = Crypto()

    def rb(n):
        return bytes(rng.getrandbits(8) for _ in range(n))

    def private():
        return rng.randrange(1, N).to_bytes(32, "big")

    cases = []
    for _ in range(COUNTS["ccm"]):
        matter = rng.random() < 0.5
        tag = 16 if matter else rng.choice((4, 6, 8, 10, 12, 14, 16))
        nonce_len = 13 if matter else rng.randrange(7, 14)
        cases.append({"kind": "ccm", "key": rb(16), "tag": tag, "nonce": rb(nonce_len),
                      "aad": rb(rng.choice((0, rng.randrange(1, 17), rng.randrange(17, 80)))),
                      "plain": rb(rng.choice((0, rng.randrange(1, 17), rng.randrange(17, 400))))})
    for _ in range(COUNTS["hmac"]):
        cases.append({"kind": "hmac", "key": rb(rng.randrange(0, 150)), "data": rb(rng.randrange(0, 300))})
    for _ in range(COUNTS["hkdf"]):
        cases.append({"kind": "hkdf", "ikm": rb(rng.randrange(0, 80)), "salt": rb(rng.choice((0, 16, 32, 64, 100))),
                      "info": rb(rng.randrange(0, 80)), "length": rng.randrange(1, 200)})
    for _ in range(COUNTS["pbkdf2"]):
        cases.append({"kind": "pbkdf2", "password": rb(rng.randrange(0, 40)), "salt": rb(rng.randrange(0, 40)),
                      "iterations": rng.randrange(1, 60), "length": rng.randrange(1, 100)})
    for _ in range(COUNTS["public"]):
        cases.append({"kind": "public", "private": private()})
    for _ in range(COUNTS["ecdh"]):
        cases.append({"kind": "ecdh", "private": private(), "peer": cpy.p256_public_key(private())})
    for _ in range(COUNTS["sign"]):
        cases.append({"kind": "sign", "private": private(), "message": rb(rng.randrange(0, 300))})
    for _ in range(COUNTS["verify"]):
        key = private()
        message = rb(rng.randrange(0, 300))
        cases.append({"kind": "verify", "public": cpy.p256_public_key(key), "message": message,
                      "signature": cpy.ecdsa_sign(key, message)})
    for i, case in enumerate(cases):
        case["id"] = i
    return cases


def _expected(cpy, case):
    kind = case["kind"]
    if kind == "ccm":
        aead = cpy.aes_ccm(case["key"], case["tag"], len(case["nonce"]))
        out = aead.encrypt(case["nonce"], case["aad"], case["plain"])
        return [out.hex(), case["plain"].hex()]
    if kind == "hmac":
        return cpy.hmac_sha256(case["key"], case["data"]).hex()
    if kind == "hkdf":
        return cpy.hkdf_sha256(case["ikm"], case["salt"], case["info"], case["length"]).hex()
    if kind == "pbkdf2":
        return cpy.pbkdf2_sha256(case["password"], case["salt"], case["iterations"], case["length"]).hex()
    if kind == "public":
        return cpy.p256_public_key(case["private"]).hex()
    if kind == "ecdh":
        return cpy.ecdh(case["private"], case["peer"]).hex()
    if kind == "verify":
        return "ok"
    return None


@pytest.mark.parametrize("seed", [20240601, 7])
def test_micropython_port_matches_cpython_port(tmp_path, seed):
    if not os.path.exists(MICROPYTHON):
        pytest.fail("the unix MicroPython port is missing: run make setup")
    cases = _cases(seed)
    path = tmp_path / "cases.jsonl"
    with open(path, "w") as f:
        for case in cases:
            f.write(json.dumps({k: (v.hex() if isinstance(v, bytes) else v) for k, v in case.items()}) + "\n")
    script = tmp_path / "cross.py"
    script.write_text(MP_SCRIPT)
    proc = subprocess.run([MICROPYTHON, str(script), str(path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert lines[-1] == "done", proc.stdout[-2000:]
    results = {r["id"]: r["result"] for r in map(json.loads, lines[:-1])}
    assert len(results) == len(cases)
    cpy = Crypto()
    checked = {}
    for case in cases:
        got = results[case["id"]]
        kind = case["kind"]
        if kind == "sign":
            signature = binascii.unhexlify(got)
            cpy.ecdsa_verify(cpy.p256_public_key(case["private"]), case["message"], signature)
            with pytest.raises(InvalidSignatureError):
                cpy.ecdsa_verify(cpy.p256_public_key(case["private"]), case["message"] + b"x", signature)
            if DETERMINISTIC_SIGNING:
                assert signature == cpy.ecdsa_sign(case["private"], case["message"]), case
        else:
            assert got == _expected(cpy, case), case
        checked[kind] = checked.get(kind, 0) + 1
    assert checked == COUNTS
    print("cross-checked %d cases (seed %d): %s" % (sum(checked.values()), seed, checked))
