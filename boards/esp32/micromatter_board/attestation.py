"""The provisioned attestation material of a board: DAC, its private key, PAI and CD as one sealed record.

A product's board never holds the PAA key: ``tools/provision`` makes the material on the host and writes the
record in the exact form the node keeps it in storage (context ``att``, key ``att``: version, sequence, TLV
of DAC/PAI/CD/key, CRC-32, as ``micromatter.commissioning.attestation`` stores a development device's).
``tools/deploy`` copies it to ``/micromatter.att``; at boot ``install`` moves it into the board's storage
(littlefs directory or NVS namespace) and removes the file, so one copy remains, and ``load`` reads it back.
"""

import os

from micromatter.commissioning.attestation import (
    RECORD_VERSION,
    STORAGE_KEY,
    AttestationMaterial,
    AttestationMaterialError,
)
from micromatter.session.slots import seal, unseal

ATTESTATION_PATH = "/micromatter.att"
CONTEXT = "att"
MAX_RECORD_BYTES = 4096  # the storage's value limit; a record is about 1.3 KB
_ENOENT = 2


def record(material):
    """The stored form of ``material`` (an ``AttestationMaterial``)."""
    return seal(RECORD_VERSION, 1, material.encode())


def parse(data):
    """The ``AttestationMaterial`` of a record; ``AttestationMaterialError`` if torn, corrupt or malformed."""
    opened = unseal(RECORD_VERSION, data)
    if opened is None:
        raise AttestationMaterialError("the attestation record is torn, corrupt or of another version")
    return AttestationMaterial.decode(opened[1])


def install(storage, path=ATTESTATION_PATH):
    """Move the record file at ``path`` (if there is one) into ``storage``; True if one was installed.  A
    record that does not parse is refused (``AttestationMaterialError``) and the file left for inspection."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_RECORD_BYTES + 1)
    except OSError as e:
        if e.args and e.args[0] == _ENOENT:
            return False
        raise AttestationMaterialError("cannot read %s: %s" % (path, e))
    if len(data) > MAX_RECORD_BYTES:
        raise AttestationMaterialError("%s is larger than a record" % path)
    parse(data)
    storage.context(CONTEXT).set(STORAGE_KEY, data)
    os.remove(path)
    return True


def load(crypto, storage, vendor_id, product_id):
    """The board's ``AttestationMaterial`` from ``storage``, checked against the configured vendor and product
    (and its key against the DAC); ``AttestationMaterialError`` if the board was never provisioned."""
    data = storage.context(CONTEXT).get(STORAGE_KEY)
    if data is None:
        raise AttestationMaterialError("no attestation material: run tools/provision and tools/deploy")
    material = parse(data)
    material.check(crypto, vendor_id, product_id)
    return material
