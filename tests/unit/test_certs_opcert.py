"""Matter TLV certificates: decode, encode, TLV <-> X.509 DER byte for byte (SDK test vectors)."""

from support import raises, unhex

from micromatter.certs import dn, opcert, pem, times, x509
from micromatter.certs.errors import (
    CertificateFormatError,
    CertificateTlvError,
    InvalidAttributeError,
)
from micromatter.errors import CertificateError

import certs_vectors as V


def test_every_vector_converts_tlv_to_der_byte_for_byte():
    for name in V.CERTS:
        cert = opcert.decode(V.tlv(name))
        assert cert.to_der() == V.der(name), name
        assert opcert.tlv_to_der(V.tlv(name)) == V.der(name), name


def test_every_vector_converts_der_to_tlv_byte_for_byte():
    for name in V.CERTS:
        assert opcert.der_to_tlv(V.der(name)) == V.tlv(name), name


def test_decode_encode_round_trip():
    for name in V.CERTS:
        assert opcert.decode(V.tlv(name)).encode() == V.tlv(name), name


def test_decoded_fields_of_a_noc_with_cats():
    cert = opcert.decode(V.tlv("Node02_08"))
    assert cert.type == opcert.TYPE_NODE
    assert cert.node_id == 0xDEDEDEDE00020008
    assert cert.fabric_id == 0xFAB000000000001D
    assert cert.cats == [0xABCF00A0, 0xABCD0020, 0xABCE0100]
    assert cert.serial == unhex("3e6794707aecb815")
    assert cert.issuer == [(dn.ICAC_ID, 0xCACACACA00000004), (dn.FABRIC_ID, 0xFAB000000000001D)]
    assert cert.not_before == 0x271B17EF and cert.not_after == 0x4CB9B56E
    assert cert.is_ca is False and cert.path_len is None
    assert cert.key_usage == x509.KU_DIGITAL_SIGNATURE
    assert cert.key_purposes == [opcert.KP_CLIENT_AUTH, opcert.KP_SERVER_AUTH]
    assert cert.subject_key_id == unhex("A9C5FD6CBD38BB18370F8E8064166AFB1EC83973")
    assert cert.authority_key_id == unhex("E1E76E6777851DD77416BDDD35EC3C137C4729DC")
    assert cert.public_key == x509.parse(V.der("Node02_08")).public_key
    assert cert.tbs_der() == x509.parse(V.der("Node02_08")).tbs


def test_certificate_types_and_identities():
    root = opcert.decode(V.tlv("Root02"))
    assert root.type == opcert.TYPE_ROOT and root.rcac_id == 0xCACACACA00000002 and root.path_len == 1
    ica = opcert.decode(V.tlv("ICA02"))
    assert ica.type == opcert.TYPE_ICA and ica.icac_id == 0xCACACACA00000004 and ica.path_len == 0
    fw = opcert.decode(V.tlv("FWSign01"))
    assert fw.type == opcert.TYPE_FIRMWARE_SIGNING and fw.firmware_signing_id == 0xFFFFFFFF00000001
    assert fw.subject[1] == (dn.COMMON_NAME, "FW SIGN CERT 01")
    assert opcert.decode(V.tlv("PDCID01")).type == opcert.TYPE_UNKNOWN


def test_no_expiry_and_future_extensions():
    root = opcert.decode(V.tlv("Root03"))
    assert root.not_after == 0
    assert x509.parse(root.to_der()).not_after == times.NO_EXPIRY_SECONDS
    node = opcert.decode(V.tlv("Node02_06"))
    future = [value for kind, value in node.extensions if kind == opcert.EXT_FUTURE]
    assert len(future) == 2
    assert future[0] == unhex("3018060355 1d11 0411300f810d7465737440636869702e6f7267")


def _rejected(data):
    try:
        opcert.decode(data)
    except CertificateError as e:
        return e
    raise AssertionError("accepted")


def test_every_truncation_is_rejected_with_a_certificate_error():
    data = V.tlv("Node02_04")
    for n in range(len(data)):
        _rejected(data[:n])


def test_published_bad_tag_vector_is_rejected():
    # The SDK's Node01_01 "Err01": the subject key id extension under a common-profile tag.
    good = V.tlv("Node01_01")
    bad = good.replace(unhex("300414"), unhex("50ee0414"), 1)
    assert isinstance(_rejected(bad), CertificateTlvError)


def test_malformed_tlv_fields_are_rejected():
    good = V.tlv("Root01")
    cases = [
        (good + b"\x00", CertificateTlvError),  # trailing data
        (good.replace(unhex("240201"), unhex("240202"), 1), CertificateFormatError),  # signature algorithm
        (good.replace(unhex("240801"), unhex("240802"), 1), CertificateFormatError),  # curve
        (good.replace(unhex("2604"), unhex("2605"), 1), CertificateTlvError),  # two not-after fields
        (good.replace(unhex("300941"), unhex("300940"), 1), CertificateError),  # key length
        (good.replace(unhex("300b40"), unhex("300b3f"), 1), CertificateError),  # signature length
        (good.replace(unhex("15"), unhex("17"), 1), CertificateTlvError),  # a list, not a structure
        (good.replace(unhex("350129011824"), unhex("3501290124"), 1), CertificateError),  # broken nesting
        (good.replace(unhex("37 0a 35"), unhex("36 0a 35"), 1), CertificateError),  # extensions as an array
    ]
    for data, kind in cases:
        assert isinstance(_rejected(data), kind), data
    assert isinstance(_rejected(b""), CertificateTlvError)
    assert isinstance(_rejected(b"\x15" + b"\x00" * 400), CertificateFormatError)  # longer than 400 bytes


def test_field_rules():
    cert = opcert.decode(V.tlv("Node01_01"))
    skid = cert.subject_key_id
    raises(CertificateFormatError, V.with_fields, cert, serial=b"")
    raises(CertificateFormatError, V.with_fields, cert, serial=bytes(21))
    raises(CertificateFormatError, V.with_fields, cert, extensions=[])
    twice = cert.extensions + [(opcert.EXT_SUBJECT_KEY_ID, skid)]
    raises(CertificateFormatError, V.with_fields, cert, extensions=twice)
    raises(CertificateFormatError, V.with_fields, cert, extensions=[(opcert.EXT_SUBJECT_KEY_ID, skid[:8])])
    raises(CertificateFormatError, V.with_fields, cert, extensions=[(opcert.EXT_BASIC_CONSTRAINTS, (False, 0))])
    raises(CertificateFormatError, V.with_fields, cert, extensions=[(opcert.EXT_KEY_USAGE, 0)])
    raises(CertificateFormatError, V.with_fields, cert, extensions=[(opcert.EXT_EXTENDED_KEY_USAGE, [7])])
    raises(CertificateFormatError, V.with_fields, cert, extensions=[(opcert.EXT_EXTENDED_KEY_USAGE, [1, 1])])
    raises(CertificateFormatError, V.with_fields, cert, extensions=[(opcert.EXT_FUTURE, b"\x30\x00")])
    hidden = x509.encode_extension(b"\x55\x1d\x0e", False, b"\x04\x01\x00")  # a subject key id in disguise
    raises(CertificateFormatError, V.with_fields, cert, extensions=[(opcert.EXT_FUTURE, hidden)])
    raises(CertificateFormatError, V.with_fields, cert, not_before=1 << 32)


def test_dn_rules():
    cert = opcert.decode(V.tlv("Node01_01"))
    node = (dn.NODE_ID, 1)
    raises(InvalidAttributeError, V.with_fields, cert, subject=[node, node])
    raises(InvalidAttributeError, V.with_fields, cert, subject=[node, (dn.RCAC_ID, 1)])
    raises(InvalidAttributeError, V.with_fields, cert, subject=[node] + [(dn.COMMON_NAME, "x")] * 5)
    raises(InvalidAttributeError, V.with_fields, cert, subject=[])
    raises(InvalidAttributeError, V.with_fields, cert, subject=[node, (dn.NOC_CAT, 1 << 32)])
    raises(InvalidAttributeError, V.with_fields, cert, subject=[node, (dn.COMMON_NAME | dn.PRINTABLE, "a*b")])
    raises(InvalidAttributeError, V.with_fields, cert, subject=[(dn.NODE_ID, "1")])
    raises(CertificateFormatError, V.with_fields, cert, subject=[(dn.DOMAIN_COMPONENT | dn.PRINTABLE, "a")])
    raises(CertificateFormatError, V.with_fields, cert, subject=[(23, 1)])


def test_string_attribute_forms_convert_both_ways():
    cert = opcert.decode(V.tlv("Node01_01"))
    subject = [
        (dn.NODE_ID, 0x1122),
        (dn.FABRIC_ID, 7),
        (dn.COMMON_NAME | dn.PRINTABLE, "Printable"),
        (dn.ORGANIZATION_NAME, "Orga \u00e9"),
        (dn.DOMAIN_COMPONENT, "example"),
    ]
    moved = V.with_fields(cert, subject=subject)
    parsed = x509.parse(moved.to_der())
    assert [t for (_, t, _) in parsed.subject] == [0x0C, 0x0C, 0x13, 0x0C, 0x16]
    assert parsed.subject[0][2] == "0000000000001122"
    again = opcert.from_der(moved.to_der())
    assert again.subject == subject
    assert again.encode() == moved.encode()


def test_x509_without_an_exact_tlv_form_is_refused():
    paa = pem.decode(V.credential("test-paa-fff1-cert.pem"), "CERTIFICATE")
    raises(CertificateFormatError, opcert.from_der, paa)  # vendor id attribute: no TLV tag
    cert = opcert.decode(V.tlv("Node01_01"))
    lower = cert.to_der().replace(b"DEDEDEDE00010001", b"dededede00010001")
    raises(InvalidAttributeError, opcert.from_der, lower)
    short = x509.parse(cert.to_der())
    tbs = x509.encode_tbs(
        short.serial,
        short.issuer_der,
        times.from_date(1999, 12, 31),
        short.not_after,
        short.subject_der,
        short.public_key,
        [e.encode() for e in short.extensions],
    )
    raises(CertificateFormatError, opcert.from_der, x509.encode_certificate(tbs, short.signature))
    not_critical = [x509.encode_extension(e.oid, False, e.value) for e in short.extensions]
    tbs = x509.encode_tbs(
        short.serial,
        short.issuer_der,
        short.not_before,
        short.not_after,
        short.subject_der,
        short.public_key,
        not_critical,
    )
    raises(CertificateFormatError, opcert.from_der, x509.encode_certificate(tbs, short.signature))
