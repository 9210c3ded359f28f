#!/usr/bin/env python3
"""Write development attestation credentials for one product into a directory.

    tools/make_attestation.py OUTDIR [--vendor-id 0xFFF1] [--product-id 0x8000] [--device-type 0x0100]
                              [--certificate-id ZIG20142ZB330003-24] [--version 1] [--credentials DIR]

Makes a fresh DAC key, a PAI signed by the public Matter test PAA (the vendor
0xFFF1 one for that vendor, the vendor-less one otherwise), a DAC for the
product signed by the PAI, and a test Certification Declaration signed with
the public test CD-signing key; the same library code a development device
runs on first boot (``micromatter.certs.attestation.make_device_credentials``).

Writes dac.der, dac.pem, dac_key.pem (SEC1, mode 0600), pai.der, pai.pem and
cd.der, then prints one JSON line describing them.  The test keys come from
tools/credentials (``--credentials`` to use another copy).  Development only:
controllers accept these only as test credentials.
"""

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in ("shared", "cpython"):
    sys.path.insert(0, os.path.join(ROOT, _p))

from micromatter.certs import attestation, cd, keys, pem  # noqa: E402
from micromatter_cpython.port import Port  # noqa: E402


def _int(text):
    return int(text, 0)


def _read(directory, name):
    with open(os.path.join(directory, name)) as f:
        return f.read()


def _write(directory, name, data, mode=0o644):
    path = os.path.join(directory, name)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)
    os.chmod(path, mode)
    return path


def make(out_dir, vendor_id, product_id, device_type, certificate_id, version, credentials):
    crypto = Port().crypto
    paa_name = "test-paa-fff1" if vendor_id == 0xFFF1 else "test-paa-novid"
    paa_der = pem.decode(_read(credentials, paa_name + "-cert.pem"), "CERTIFICATE")
    paa_key, _ = keys.parse_private_key_pem(_read(credentials, paa_name + "-key.pem"))
    cd_key, _ = keys.parse_private_key_pem(_read(credentials, "test-cd-signing-key.pem"))
    creds = attestation.make_device_credentials(
        crypto,
        paa_der,
        paa_key,
        cd_key,
        vendor_id,
        product_id,
        device_type,
        certificate_id=certificate_id,
        version_number=version,
    )
    # Check what is written the way a commissioner will.
    attestation.validate_chain(crypto, creds.dac, creds.pai, paa_der)
    cd.verify(crypto, creds.cd, crypto.p256_public_key(cd_key), cd.TEST_SIGNING_KEY_ID)
    os.makedirs(out_dir, exist_ok=True)
    files = [
        _write(out_dir, "dac.der", creds.dac),
        _write(out_dir, "dac.pem", pem.encode("CERTIFICATE", creds.dac)),
        _write(out_dir, "dac_key.pem", keys.encode_private_key_pem(creds.dac_private_key, creds.dac_public_key), 0o600),
        _write(out_dir, "pai.der", creds.pai),
        _write(out_dir, "pai.pem", pem.encode("CERTIFICATE", creds.pai)),
        _write(out_dir, "cd.der", creds.cd),
    ]
    return {
        "vendor_id": vendor_id,
        "product_id": product_id,
        "device_type": device_type,
        "paa": paa_name,
        "files": [os.path.basename(f) for f in files],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--vendor-id", type=_int, default=0xFFF1)
    parser.add_argument("--product-id", type=_int, default=0x8000)
    parser.add_argument("--device-type", type=_int, default=0x0100, help="device type of the CD (0x0100: on/off light)")
    parser.add_argument("--certificate-id", default="ZIG20142ZB330003-24")
    parser.add_argument("--version", type=_int, default=1, help="CD version number")
    parser.add_argument("--credentials", default=os.path.join(ROOT, "tools", "credentials"))
    args = parser.parse_args(argv)
    for name, value, limit in (
        ("vendor id", args.vendor_id, 0xFFFF),
        ("product id", args.product_id, 0xFFFF),
        ("device type", args.device_type, 0xFFFFFFFF),
    ):
        if not 0 <= value <= limit:
            parser.error(name + " out of range")
    result = make(
        args.out_dir,
        args.vendor_id,
        args.product_id,
        args.device_type,
        args.certificate_id,
        args.version,
        args.credentials,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
