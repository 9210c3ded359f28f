"""The device's attestation material (DAC, its key, PAI, CD) and the signed elements it answers with.

A commissioner checks that the device is a certified product: AttestationRequest returns
AttestationElements (the CD, its nonce, a timestamp) and CSRRequest NOCSRElements (the CSR,
its nonce), each signed with the DAC key over ``elements || attestation challenge`` of the PASE
session (Matter Core spec 6.2, 11.18.6), and CertificateChainRequest the DAC and PAI.

Where the material comes from is the runtime's choice, given as the config's ``attestation``:

- ``AttestationMaterial(dac, pai, cd, dac_private_key)``: provisioned (a production device, or
  files written by ``tools/make_attestation.py``; on ESP32 a provisioning tool writes it to flash).
- ``DevelopmentAuthority(paa, paa_private_key, cd_private_key)``: a development device makes its own DAC,
  PAI and CD on first run from the public test PAA and CD-signing keys (``tools/credentials``;
  ``DevelopmentAuthority.from_pem`` reads their PEM text; the core never opens files) and keeps them in
  storage (key ``att``, sealed and checksummed like the session records), reusing them on later
  boots as long as they match the configured vendor and product id.
"""

from micromatter import log, tlv
from micromatter.certs import attestation as dac_certs
from micromatter.compat import const
from micromatter.errors import MatterError, StorageError
from micromatter.session.slots import seal, unseal

STORAGE_KEY = "att"
RECORD_VERSION = const(1)
NONCE_LENGTH = const(32)
_TAG = "attestation"


class AttestationMaterialError(MatterError):
    """Attestation material is missing, malformed or does not fit the device's vendor and product."""


def attestation_elements(cd, nonce, timestamp=0):
    """AttestationElements TLV: {1: certification declaration, 2: attestation nonce, 3: timestamp}."""
    w = tlv.TlvWriter()
    w.start_struct(None)
    w.bytes(1, cd)
    w.bytes(2, nonce)
    w.uint(3, timestamp, 4)
    w.end_container()
    return w.getvalue()


def nocsr_elements(csr, nonce):
    """NOCSRElements TLV: {1: PKCS#10 CSR (DER), 2: CSR nonce}."""
    w = tlv.TlvWriter()
    w.start_struct(None)
    w.bytes(1, csr)
    w.bytes(2, nonce)
    w.end_container()
    return w.getvalue()


class DevelopmentAuthority:
    """The public test PAA (DER certificate and private key) and the test CD-signing key a development
    device makes its attestation material from.  Development only: never in a product."""

    def __init__(self, paa, paa_private_key, cd_private_key, cd_key_id=None):
        self.paa = bytes(paa)
        self.paa_private_key = bytes(paa_private_key)
        self.cd_private_key = bytes(cd_private_key)
        self.cd_key_id = cd_key_id

    @staticmethod
    def from_pem(paa_cert_pem, paa_key_pem, cd_key_pem):
        """From the PEM texts of ``tools/credentials`` (the runtime reads the files)."""
        from micromatter.certs import keys, pem  # only a development device reads key files

        paa = pem.decode(paa_cert_pem, "CERTIFICATE")
        paa_key = keys.parse_private_key_pem(paa_key_pem)[0]
        cd_key = keys.parse_private_key_pem(cd_key_pem)[0]
        return DevelopmentAuthority(paa, paa_key, cd_key)


class AttestationMaterial:
    """``dac``, ``pai`` (DER), ``cd`` (CMS DER) and the DAC's ``dac_private_key`` (32 bytes);
    ``vendor_id`` and ``product_id`` are the DAC's.  ``check_cd=False`` skips parsing the CD: for a sealed
    record, whose material was checked before it was sealed (a board never loads the CMS parser)."""

    def __init__(self, dac, pai, cd, dac_private_key, check_cd=True):
        self.dac = bytes(dac)
        self.pai = bytes(pai)
        self.cd = bytes(cd)
        self.dac_private_key = bytes(dac_private_key)
        if len(self.dac_private_key) != 32:
            raise AttestationMaterialError("the DAC private key is 32 bytes")
        try:
            parsed = dac_certs.parse(self.dac)
            dac_certs.parse(self.pai)
            if check_cd:
                from micromatter.certs import cd

                cd.parse(self.cd)
        except MatterError as e:
            raise AttestationMaterialError("bad attestation material: %r" % e)
        self.vendor_id = parsed.vendor_id
        self.product_id = parsed.product_id
        self.dac_public_key = parsed.public_key

    def check(self, crypto, vendor_id, product_id):
        """``AttestationMaterialError`` unless the DAC is for ``vendor_id``/``product_id`` and the key is its key."""
        if self.vendor_id != vendor_id or self.product_id != product_id:
            raise AttestationMaterialError("the DAC is for vendor 0x%04x product 0x%04x" % (
                self.vendor_id or 0, self.product_id or 0))
        try:
            public = bytes(crypto.p256_public_key(self.dac_private_key))
        except MatterError as e:
            raise AttestationMaterialError("bad DAC private key: %r" % e)
        if public != self.dac_public_key:
            raise AttestationMaterialError("the DAC private key is not the DAC's")

    def sign(self, crypto, elements, attestation_challenge):
        """The attestation signature (raw r|s, 64 bytes) over ``elements || attestation_challenge``."""
        return crypto.ecdsa_sign(self.dac_private_key, bytes(elements) + bytes(attestation_challenge))

    def encode(self):
        return tlv.encode({1: self.dac, 2: self.pai, 3: self.cd, 4: self.dac_private_key})

    @staticmethod
    def decode(data):
        """From ``encode``'s bytes, as they come out of a sealed record (the CD is not parsed again)."""
        try:
            s = tlv.decode(data)
            return AttestationMaterial(s[1], s[2], s[3], s[4], check_cd=False)
        except (MatterError, KeyError, TypeError) as e:
            raise AttestationMaterialError("stored attestation material does not parse: %r" % e)


def make(crypto, authority, vendor_id, product_id, device_type_id):
    """Fresh development material for one product from a ``DevelopmentAuthority``."""
    creds = dac_certs.make_device_credentials(
        crypto, authority.paa, authority.paa_private_key, authority.cd_private_key, vendor_id, product_id,
        device_type_id, cd_key_id=authority.cd_key_id)
    return AttestationMaterial(creds.dac, creds.pai, creds.cd, creds.dac_private_key)


def load_or_make(crypto, storage, source, vendor_id, product_id, device_type_id):
    """The device's material: ``source`` itself if it is an ``AttestationMaterial``; for a
    ``DevelopmentAuthority`` the stored material if it fits this product, else new material (stored)."""
    if isinstance(source, AttestationMaterial):
        source.check(crypto, vendor_id, product_id)
        return source
    if not isinstance(source, DevelopmentAuthority):
        raise AttestationMaterialError("no attestation material: give AttestationMaterial or DevelopmentAuthority")
    stored = None
    try:
        raw = storage.get(STORAGE_KEY) if storage is not None else None
    except StorageError as e:
        log.error(_TAG, "cannot read the attestation material: %s" % e)
        raw = None
    if raw is not None:
        opened = unseal(RECORD_VERSION, raw)
        try:
            if opened is None:
                raise AttestationMaterialError("torn or corrupt record")
            stored = AttestationMaterial.decode(opened[1])
            stored.check(crypto, vendor_id, product_id)
            return stored
        except AttestationMaterialError as e:
            log.warning(_TAG, "making new attestation material: %s" % e)
    material = make(crypto, source, vendor_id, product_id, device_type_id)
    if storage is not None:
        storage.set(STORAGE_KEY, seal(RECORD_VERSION, 1, material.encode()))
    log.info(_TAG, "made a development DAC for vendor 0x%04x product 0x%04x" % (vendor_id, product_id))
    return material
