"""Attestation material (made on first run, stored, reused, checked) and the signed elements' TLV layout; the
device configuration and its checks."""

from micromatter import onboarding
from micromatter.certs import attestation as dac_certs
from micromatter.certs import cd as cd_codec
from micromatter.commissioning import attestation
from micromatter.commissioning.attestation import AttestationMaterial, AttestationMaterialError, DevelopmentAuthority
from micromatter.commissioning.config import ConfigError, DeviceConfig
from micromatter.crypto import spake2p
from micromatter.storage import MemoryStorage
from commissioner import SALT, attestation_material, development_authority, trust_anchors
from support import port, raises, unhex


def test_elements_layout():
    cd = b"\xc0" * 3
    nonce = bytes(range(32))
    assert attestation.attestation_elements(cd, nonce, 0) == unhex(
        "15 30 01 03 c0c0c0 30 02 20" + "".join("%02x" % b for b in nonce) + "26 03 00000000 18")
    assert attestation.nocsr_elements(b"\x30\x00", nonce) == unhex(
        "15 30 01 02 3000 30 02 20" + "".join("%02x" % b for b in nonce) + "18")


def test_first_run_makes_material_a_commissioner_accepts_then_reuses_it():
    crypto = port().crypto
    storage = MemoryStorage()
    m = attestation.load_or_make(crypto, storage, development_authority(), 0xFFF1, 0x8001, 0x0100)
    assert (m.vendor_id, m.product_id) == (0xFFF1, 0x8001) and storage.keys() == ["att"]
    paas, cd_public = trust_anchors()
    dac_certs.validate_chain(crypto, m.dac, m.pai, paas[0])
    elements = cd_codec.verify(crypto, m.cd, cd_public)
    assert elements.covers(0xFFF1, 0x8001) and elements.device_type_id == 0x0100
    again = attestation.load_or_make(crypto, storage, development_authority(), 0xFFF1, 0x8001, 0x0100)
    assert (again.dac, again.pai, again.cd, again.dac_private_key) == (m.dac, m.pai, m.cd, m.dac_private_key)
    other = attestation.load_or_make(crypto, storage, development_authority(), 0xFFF1, 0x8002, 0x0100)
    assert other.product_id == 0x8002 and other.dac != m.dac  # another product: new material, stored
    assert attestation.load_or_make(crypto, storage, development_authority(), 0xFFF1, 0x8002, 0x0100).dac == other.dac
    raw = bytearray(storage.get("att"))
    raw[30] ^= 0xFF
    storage.set("att", bytes(raw))
    fresh = attestation.load_or_make(crypto, storage, development_authority(), 0xFFF1, 0x8002, 0x0100)
    assert fresh.dac != other.dac  # a corrupt record is replaced


def test_provisioned_material_is_checked_against_the_product():
    crypto = port().crypto
    m = attestation_material()
    assert attestation.load_or_make(crypto, None, m, 0xFFF1, 0x8000, 0x0100) is m
    raises(AttestationMaterialError, attestation.load_or_make, crypto, None, m, 0xFFF1, 0x8001, 0x0100)
    wrong_key = AttestationMaterial(m.dac, m.pai, m.cd, bytes(31) + b"\x01")
    raises(AttestationMaterialError, wrong_key.check, crypto, 0xFFF1, 0x8000)
    raises(AttestationMaterialError, AttestationMaterial, b"junk", m.pai, m.cd, m.dac_private_key)
    raises(AttestationMaterialError, AttestationMaterial, m.dac, m.pai, m.cd, b"short")
    raises(AttestationMaterialError, AttestationMaterial, m.dac, m.pai, b"not a CMS message", m.dac_private_key)
    raises(AttestationMaterialError, AttestationMaterial, m.dac, b"junk", m.cd, m.dac_private_key)
    # A sealed record's CD was checked before it was sealed: decoding one does not parse it again.
    unchecked = AttestationMaterial(m.dac, m.pai, b"cd", m.dac_private_key, check_cd=False)
    assert AttestationMaterial.decode(unchecked.encode()).cd == b"cd"
    raises(AttestationMaterialError, attestation.load_or_make, crypto, None, None, 0xFFF1, 0x8000, 0x0100)
    assert AttestationMaterial.decode(m.encode()).dac == m.dac
    raises(AttestationMaterialError, AttestationMaterial.decode, b"\x15\x18")


def test_development_authority_from_pem_refuses_other_text():
    from micromatter.errors import CertificateError

    raises(CertificateError, DevelopmentAuthority.from_pem, "no pem here", "", "")


def test_device_config_checks_and_the_verifier_from_a_passcode():
    crypto = port().crypto
    config = DeviceConfig.from_passcode(crypto, 20202021, 3840, SALT, 1000)
    assert config.verifier == spake2p.PasscodeVerifier.from_passcode(crypto, 20202021, SALT, 1000)
    assert config.qr_code == "MT:Y.K90AFN00KA0648G00" and config.manual_code == "34970112332"
    assert len(DeviceConfig.from_passcode(crypto, 20202021, 3840).salt) == 32  # a random salt
    raises(onboarding.PasscodeError, DeviceConfig.from_passcode, crypto, 11111111, 3840, SALT)
    v = config.verifier.encode()
    assert DeviceConfig(v, SALT, 1000, 3840).verifier == config.verifier
    for args in ((v[:96], SALT, 1000, 3840), (v, SALT[:15], 1000, 3840), (v, SALT, 999, 3840), (v, SALT, 1000, 4096),
                 (b"x" * 97, SALT, 1000, 3840), (12, SALT, 1000, 3840)):
        raises(ConfigError, DeviceConfig, *args)
    for kwargs in ({"vendor_id": 0xFFFF}, {"port": 0}, {"host": b"\x01\x02"}, {"product_name": "x" * 33},
                   {"max_fabrics": 0}, {"parameters": 5}, {"attestation": "file.pem"}, {"discriminator": -1}):
        args = {"verifier": v, "salt": SALT, "iterations": 1000, "discriminator": 3840}
        args.update(kwargs)
        raises(ConfigError, lambda: DeviceConfig(**args))
