#!/usr/bin/env python3
"""Compute the PASE passcode verifier a device stores instead of its passcode.

    tools/pase_verifier.py PASSCODE [--salt BASE64 | --salt-hex HEX] [--iterations N] [--json]
    tools/pase_verifier.py random [...]

PASSCODE is the 8-digit setup passcode (``random`` picks a valid one and prints it: it goes on the
label and into the QR code, never onto the device).  Invalid passcodes are refused: 00000000,
11111111 ... 99999999, 12345678, 87654321 and anything above 99999998.  Without a salt a random
32-byte one is drawn; iterations default to 1000 (Matter allows 1000..100000).

Prints the values a device keeps: the iteration count, the salt and the 97-byte verifier
w0 (32) | L (65) in base64 (the form connectedhomeip's spake2p tool prints), plus w0 and L in hex;
``--json`` prints them as one JSON object.  The verifier is
``micromatter.crypto.spake2p.PasscodeVerifier.from_passcode`` (PBKDF2-HMAC-SHA256 of the passcode
as u32 little-endian, 80 bytes, w0 and w1 reduced mod n, L = w1*G).
"""

import argparse
import base64
import binascii
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in ("shared", "cpython"):
    sys.path.insert(0, os.path.join(ROOT, _p))

from micromatter import onboarding  # noqa: E402
from micromatter.crypto import spake2p  # noqa: E402
from micromatter.errors import InvalidParameterError  # noqa: E402
from micromatter_cpython.port import Port  # noqa: E402

DEFAULT_ITERATIONS = 1000
RANDOM_SALT_LENGTH = 32


def random_passcode(random_bytes):
    """A uniformly drawn valid passcode (rejection sampling over 27-bit values)."""
    for _ in range(1000):
        value = int.from_bytes(random_bytes(4), "little") & 0x7FFFFFF
        if onboarding.is_valid_passcode(value):
            return value
    raise RuntimeError("the random source gave no valid passcode")


def parse_passcode(text):
    """The passcode of ``text`` (digits only); ``onboarding.PasscodeError`` if a device may not use it."""
    if not text.isdigit() or len(text) > 8:
        raise onboarding.PasscodeError("a passcode is up to 8 decimal digits")
    return onboarding.check_passcode(int(text, 10))


def compute(passcode, salt, iterations, crypto=None):
    """The values a device stores for ``passcode``: a dict of iterations, salt, verifier, w0 and L."""
    crypto = crypto or Port().crypto
    onboarding.check_passcode(passcode)
    verifier = spake2p.PasscodeVerifier.from_passcode(crypto, passcode, salt, iterations)
    encoded = verifier.encode()
    return {
        "iterations": iterations,
        "salt": base64.b64encode(salt).decode(),
        "verifier": base64.b64encode(encoded).decode(),
        "w0": encoded[:32].hex(),
        "L": encoded[32:].hex(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("passcode", help="8-digit setup passcode, or 'random'")
    salt = parser.add_mutually_exclusive_group()
    salt.add_argument("--salt", help="PBKDF salt, base64 (16..32 bytes); random if omitted")
    salt.add_argument("--salt-hex", help="PBKDF salt, hex (16..32 bytes)")
    parser.add_argument("--iterations", type=int, default=DEFAULT_ITERATIONS, help="PBKDF iterations, 1000..100000")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    port = Port()
    try:
        if args.passcode == "random":
            passcode = random_passcode(port.random_bytes)
            chosen = True
        else:
            passcode = parse_passcode(args.passcode)
            chosen = False
    except onboarding.PasscodeError as e:
        parser.exit(2, "pase_verifier: refused passcode %r: %s\n" % (args.passcode, e))
    try:
        if args.salt is not None:
            salt_bytes = base64.b64decode(args.salt, validate=True)
        elif args.salt_hex is not None:
            salt_bytes = bytes.fromhex(args.salt_hex)
        else:
            salt_bytes = port.random_bytes(RANDOM_SALT_LENGTH)
    except (ValueError, binascii.Error) as e:
        parser.exit(2, "pase_verifier: bad salt: %s\n" % e)
    try:
        spake2p.check_pbkdf_parameters(salt_bytes, args.iterations)
    except InvalidParameterError as e:  # InvalidLengthError is one too
        parser.exit(2, "pase_verifier: %s\n" % e)

    values = compute(passcode, salt_bytes, args.iterations, port.crypto)
    if chosen:
        values = dict(values, passcode="%08d" % passcode)
    if args.json:
        print(json.dumps(values))
        return 0
    if chosen:
        print("passcode: %s (for the label and QR code; the device stores only what follows)" % values["passcode"])
    print("iterations: %d" % values["iterations"])
    print("salt: %s" % values["salt"])
    print("verifier: %s" % values["verifier"])
    print("w0: %s" % values["w0"])
    print("L: %s" % values["L"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
