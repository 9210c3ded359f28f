"""PKCS#10 CSRs, DAC/PAI parsing and issuing under the test PAA, certification declarations."""

from support import port, raises, unhex

from micromatter.certs import attestation, cd, csr, der, keys, oids, pem, times, x509
from micromatter.certs.errors import (
    CertificateFormatError,
    CertificateSignatureError,
    CertificateUsageError,
    CertificationDeclarationError,
    DerError,
    InvalidAttributeError,
    IssuerMismatchError,
    MissingAttributeError,
    NotYetValidError,
)

import certs_vectors as V


def _crypto():
    return port().crypto


def _paa():
    cert = pem.decode(V.credential("test-paa-fff1-cert.pem"), "CERTIFICATE")
    private, _ = keys.parse_private_key_pem(V.credential("test-paa-fff1-key.pem"))
    return cert, private


def _cd_key():
    return keys.parse_private_key_pem(V.credential("test-cd-signing-key.pem"))


# --- CSR -------------------------------------------------------------------


def test_csr_round_trip_and_verify():
    c = _crypto()
    private, public = c.p256_generate()
    data = csr.make(c, private, public)
    parsed = csr.verify(c, data)
    assert parsed.public_key == public
    assert parsed.subject == [(oids.ORGANIZATION_NAME, der.UTF8_STRING, "CSR")]
    assert parsed.attributes == b""
    # Deterministic signatures: the same key gives the same CSR.
    assert csr.make(c, private, public) == data


def test_csr_rejections():
    c = _crypto()
    private, public = c.p256_generate()
    data = csr.make(c, private, public)
    other_private, other_public = c.p256_generate()
    forged = csr.make(c, other_private, public)  # signed with a key that is not the subject's
    raises(CertificateSignatureError, csr.verify, c, forged)
    raises(DerError, csr.parse, data + b"\x00")
    raises(DerError, csr.parse, data[:-1])
    v2 = data.replace(unhex("020100"), unhex("020101"), 1)
    raises(CertificateFormatError, csr.parse, v2)
    tampered = data.replace(b"CSR", b"CSS")
    raises(CertificateSignatureError, csr.verify, c, tampered)


# --- DAC / PAI -------------------------------------------------------------


def test_test_paa_parses_with_its_vendor_id():
    cert, _ = _paa()
    paa = attestation.parse(cert)
    assert paa.vendor_id == 0xFFF1 and paa.product_id is None
    attestation.check_paa(paa)
    novid = attestation.parse(pem.decode(V.credential("test-paa-novid-cert.pem"), "CERTIFICATE"))
    assert novid.vendor_id is None
    attestation.check_paa(novid)


def test_pai_and_dac_issued_under_the_test_paa():
    c = _crypto()
    paa_der, paa_key = _paa()
    pai_private, pai_public = c.p256_generate()
    dac_private, dac_public = c.p256_generate()
    pai_der = attestation.make_pai(c, paa_der, paa_key, pai_public, 0xFFF1)
    dac_der = attestation.make_dac(c, pai_der, pai_private, dac_public, 0xFFF1, 0x8000)
    pai = attestation.parse(pai_der)
    dac = attestation.parse(dac_der)
    attestation.check_pai(pai)
    attestation.check_dac(dac)
    assert (pai.vendor_id, pai.product_id) == (0xFFF1, None)
    assert (dac.vendor_id, dac.product_id) == (0xFFF1, 0x8000)
    assert dac.public_key == dac_public and pai.public_key == pai_public
    assert pai.authority_key_id == unhex("6AFD22771F511FECBF1641976710DCDC31A1717E")
    assert dac.authority_key_id == pai.subject_key_id
    assert dac.cert.attribute(oids.COMMON_NAME) == ["Matter Test DAC"]
    assert dac.cert.attribute(oids.MATTER_PRODUCT_ID) == ["8000"]
    assert dac.cert.is_ca is False and dac.cert.key_usage == x509.KU_DIGITAL_SIGNATURE
    assert pai.cert.path_len == 0
    # Validity: from the PAA's notBefore, no expiration, so no device clock can break the chain.
    paa = attestation.parse(paa_der)
    assert dac.cert.not_before == paa.cert.not_before and dac.cert.not_after == times.NO_EXPIRY_SECONDS
    assert attestation.validate_chain(c, dac_der, pai_der, paa_der, now=times.from_date(2030, 1, 1)) is not None


def test_attestation_chain_rejections():
    c = _crypto()
    paa_der, paa_key = _paa()
    pai_private, pai_public = c.p256_generate()
    dac_private, dac_public = c.p256_generate()
    pai_der = attestation.make_pai(c, paa_der, paa_key, pai_public, 0xFFF1, product_id=0x8001)
    dac_der = attestation.make_dac(c, pai_der, pai_private, dac_public, 0xFFF1, 0x8001)
    novid = pem.decode(V.credential("test-paa-novid-cert.pem"), "CERTIFICATE")
    raises(IssuerMismatchError, attestation.validate_chain, c, dac_der, pai_der, novid)
    raises(InvalidAttributeError, attestation.make_dac, c, pai_der, pai_private, dac_public, 0xFFF1, 0x8002)
    raises(InvalidAttributeError, attestation.make_pai, c, paa_der, paa_key, pai_public, 0xFFF2)
    # A DAC signed by a key that is not the PAI's.
    forged = attestation.make_dac(c, pai_der, dac_private, dac_public, 0xFFF1, 0x8001)
    raises(CertificateSignatureError, attestation.validate_chain, c, forged, pai_der, paa_der)
    # The DAC and PAI swapped.
    raises(CertificateUsageError, attestation.validate_chain, c, pai_der, pai_der, paa_der)
    # A PAI is not a DAC: no product id, CA.
    plain_pai = attestation.parse(attestation.make_pai(c, paa_der, paa_key, pai_public, 0xFFF1))
    raises(MissingAttributeError, attestation.check_dac, plain_pai)
    before = times.from_date(2020, 1, 1)
    raises(NotYetValidError, attestation.validate_chain, c, dac_der, pai_der, paa_der, now=before)


def test_legacy_common_name_vendor_and_product():
    c = _crypto()
    paa_der, paa_key = _paa()
    pai_private, pai_public = c.p256_generate()
    pai_der = attestation.make_pai(c, paa_der, paa_key, pai_public, 0xFFF1)
    pai = attestation.parse(pai_der)
    tbs = x509.encode_tbs(
        b"\x01",
        pai.cert.subject_der,
        0,
        times.NO_EXPIRY_SECONDS,
        x509.encode_name([(oids.COMMON_NAME, der.UTF8_STRING, "ACME Matter Devel DAC 5CDA9899 Mvid:FFF1 Mpid:00B1")]),
        pai_public,
        [x509.encode_extension(oids.BASIC_CONSTRAINTS, True, x509.basic_constraints_value(False))],
    )
    legacy = attestation.parse(x509.encode_certificate(tbs, der.sequence(der.integer(1), der.integer(1))))
    assert (legacy.vendor_id, legacy.product_id) == (0xFFF1, 0x00B1)
    bad = x509.encode_name([(oids.MATTER_VENDOR_ID, der.UTF8_STRING, "fff1")])
    tbs = x509.encode_tbs(b"\x01", pai.cert.subject_der, 0, 0, bad, pai_public, [])
    dummy_signature = der.sequence(der.integer(1), der.integer(1))
    raises(InvalidAttributeError, attestation.parse, x509.encode_certificate(tbs, dummy_signature))


# --- certification declarations ------------------------------------------


def test_sdk_cd_content_vectors_decode_and_encode():
    one = cd.decode_content(V.CD_CONTENT_01)
    assert (one.format_version, one.vendor_id, one.product_ids) == (1, 0xFFF1, [0x8000])
    assert (one.device_type_id, one.certificate_id) == (0x1234, "ZIG20141ZB330001-24")
    assert (one.security_level, one.security_information) == (0, 0)
    assert (one.version_number, one.certification_type) == (0x2694, 0)
    assert one.dac_origin_vendor_id is None and one.authorized_paa_key_ids is None
    assert one.encode() == V.CD_CONTENT_01
    two = cd.decode_content(V.CD_CONTENT_02)
    assert two.product_ids == [0x8001, 0x8002]
    assert (two.dac_origin_vendor_id, two.dac_origin_product_id) == (0xFFF1, 0x8000)
    assert two.encode() == V.CD_CONTENT_02
    assert two.covers(0xFFF1, 0x8000) and not two.covers(0xFFF2, 0x8001)
    assert one.covers(0xFFF1, 0x8000) and not one.covers(0xFFF1, 0x8001)


def test_sdk_signed_cd_vectors_verify_with_the_test_key_and_re_encode():
    _, public = _cd_key()
    for signed, content in ((V.CD_SIGNED_01, V.CD_CONTENT_01), (V.CD_SIGNED_02, V.CD_CONTENT_02)):
        parsed = cd.parse(signed)
        assert parsed.content == content
        assert parsed.signer_key_id == cd.TEST_SIGNING_KEY_ID == V.CD_SIGNING_SKID
        elements = cd.verify(_crypto(), signed, public, cd.TEST_SIGNING_KEY_ID)
        assert elements.encode() == content
        from micromatter.crypto import ecdsa

        assert cd.encode_envelope(content, parsed.signer_key_id, ecdsa.raw_to_der(parsed.signature_raw)) == signed


def test_cd_signing_round_trip():
    private, public = _cd_key()
    elements = cd.CertificationElements(0xFFF1, [0x8000, 0x8001], 0x0100, "ZIG20142ZB330003-24")
    signed = cd.sign(_crypto(), elements, private)
    back = cd.verify(_crypto(), signed, public, cd.TEST_SIGNING_KEY_ID)
    assert back.encode() == elements.encode()
    assert back.certification_type == cd.CERTIFICATION_DEVELOPMENT
    other_private, other_public = _crypto().p256_generate()
    raises(CertificateSignatureError, cd.verify, _crypto(), signed, other_public)
    raises(CertificateSignatureError, cd.verify, _crypto(), signed, public, bytes(20))


def test_cd_rejections():
    # The SDK's error vectors: a 4-octet vendor id; product ids and device type tags swapped.
    four_octets = V.CD_CONTENT_01.replace(unhex("2501f1ff"), unhex("2601f1ffffff"), 1)
    raises(CertificationDeclarationError, cd.decode_content, four_octets)
    swapped = V.CD_CONTENT_01.replace(unhex("3602"), unhex("3603"), 1).replace(unhex("2503"), unhex("2502"), 1)
    raises(CertificationDeclarationError, cd.decode_content, swapped)
    for n in range(len(V.CD_CONTENT_01)):
        raises(CertificationDeclarationError, cd.decode_content, V.CD_CONTENT_01[:n])
    for n in range(0, len(V.CD_SIGNED_01), 5):
        raises(CertificationDeclarationError, cd.parse, V.CD_SIGNED_01[:n])
    raises(CertificationDeclarationError, cd.CertificationElements, 0xFFF1, [], 1, "ZIG20142ZB330003-24")
    raises(CertificationDeclarationError, cd.CertificationElements, 0xFFF1, [1], 1, "short")
    raises(CertificationDeclarationError, cd.CertificationElements, 0x10000, [1], 1, "ZIG20142ZB330003-24")
    raises(
        CertificationDeclarationError,
        cd.CertificationElements,
        0xFFF1,
        [1],
        1,
        "ZIG20142ZB330003-24",
        dac_origin_vendor_id=0xFFF1,
    )
    cert_id = "ZIG20142ZB330003-24"
    raises(CertificationDeclarationError, cd.CertificationElements, 0xFFF1, [1], 1, cert_id, certification_type=3)
    raises(CertificationDeclarationError, cd.CertificationElements, 0xFFF1, list(range(101)), 1, "ZIG20142ZB330003-24")


def test_device_credentials_bundle():
    c = _crypto()
    paa_der, paa_key = _paa()
    cd_private, cd_public = _cd_key()
    creds = attestation.make_device_credentials(c, paa_der, paa_key, cd_private, 0xFFF1, 0x8000, 0x0100)
    dac = attestation.validate_chain(c, creds.dac, creds.pai, paa_der)
    assert dac.public_key == creds.dac_public_key == c.p256_public_key(creds.dac_private_key)
    elements = cd.verify(c, creds.cd, cd_public, cd.TEST_SIGNING_KEY_ID)
    assert elements.covers(dac.vendor_id, dac.product_id)
    assert elements.device_type_id == 0x0100
