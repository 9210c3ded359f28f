"""X.509 parsing and building against the published Matter test certificates."""

from support import raises, unhex

from micromatter.certs import der, oids, pem, times, x509
from micromatter.certs.errors import CertificateFormatError, DerError

import certs_vectors as V


def _rebuild(cert, extensions=None, subject=None, serial=None, signature=None):
    tbs = x509.encode_tbs(
        cert.serial if serial is None else serial,
        cert.issuer_der,
        cert.not_before,
        cert.not_after,
        x509.encode_name(cert.subject) if subject is None else subject,
        cert.public_key,
        [e.encode() for e in cert.extensions] if extensions is None else extensions,
    )
    return x509.encode_certificate(tbs, cert.signature if signature is None else signature)


def test_published_certificates_parse_and_rebuild_byte_for_byte():
    for name in V.CERTS:
        data = V.der(name)
        cert = x509.parse(data)
        assert cert.der == data
        assert data.find(cert.tbs) == 4 or data.find(cert.tbs) == 3, name
        assert _rebuild(cert) == data, name


def test_root_fields():
    cert = x509.parse(V.der("Root01"))
    assert cert.serial == unhex("534c458273623514")
    assert cert.subject == [(oids.MATTER_RCAC_ID, der.UTF8_STRING, "CACACACA00000001")]
    assert cert.issuer_der == cert.subject_der
    assert cert.not_before == 0x271B17EF and cert.not_after == 0x4CB9B56E
    assert cert.public_key == unhex(
        """043b88460ec9687a5d0f3b4b3b13fcd299c2f6d5051d003ee49c9924cf98f4f7
           80eb20fd37c8d358347f5f87d08c3213e540af11bab9137e49354f0c5b6343de63"""
    )
    assert cert.is_ca is True and cert.path_len is None
    assert cert.key_usage == x509.KU_KEY_CERT_SIGN | x509.KU_CRL_SIGN
    assert cert.ext_key_usage is None
    assert cert.subject_key_id == cert.authority_key_id == unhex("CC1308AF82CFEE505EB23B57BFE86A311665535F")
    assert [e.oid for e in cert.extensions] == [
        oids.BASIC_CONSTRAINTS,
        oids.KEY_USAGE,
        oids.SUBJECT_KEY_ID,
        oids.AUTHORITY_KEY_ID,
    ]
    assert [e.critical for e in cert.extensions] == [True, True, False, False]


def test_path_lengths_key_purposes_and_other_extensions():
    assert x509.parse(V.der("Root02")).path_len == 1
    assert x509.parse(V.der("ICA02")).path_len == 0
    node = x509.parse(V.der("Node01_01"))
    assert node.is_ca is False and node.key_usage == x509.KU_DIGITAL_SIGNATURE
    assert node.ext_key_usage == [oids.KP_CLIENT_AUTH, oids.KP_SERVER_AUTH]
    assert node.authority_key_id == x509.parse(V.der("ICA01")).subject_key_id
    assert x509.parse(V.der("FWSign01")).ext_key_usage == [oids.KP_CODE_SIGNING]
    san = x509.parse(V.der("Node02_07")).extension(b"\x55\x1d\x11")
    assert san.critical and san.value == unhex("300f810d7465737440636869702e6f7267")
    assert x509.parse(V.der("Node02_05")).extension(b"\x55\x1d\x11").critical is False
    pdc = x509.parse(V.der("PDCID01"))
    assert pdc.subject_key_id is None and pdc.not_before == 1 and pdc.not_after == times.NO_EXPIRY_SECONDS
    assert pdc.serial == b"\x01"


def test_subject_attribute_order_is_kept():
    cert = x509.parse(V.der("Node02_08"))
    assert [o for (o, _, _) in cert.subject] == [
        oids.MATTER_NOC_CAT,
        oids.MATTER_NODE_ID,
        oids.MATTER_NOC_CAT,
        oids.MATTER_FABRIC_ID,
        oids.MATTER_NOC_CAT,
    ]
    assert cert.attribute(oids.MATTER_NOC_CAT) == ["ABCF00A0", "ABCD0020", "ABCE0100"]


def test_test_paa_and_cd_signer_certificates():
    paa = x509.parse(pem.decode(V.credential("test-paa-fff1-cert.pem"), "CERTIFICATE"))
    assert paa.attribute(oids.COMMON_NAME) == ["Matter Test PAA"]
    assert paa.attribute(oids.MATTER_VENDOR_ID) == ["FFF1"]
    assert paa.subject_key_id == unhex("6AFD22771F511FECBF1641976710DCDC31A1717E")
    assert paa.not_after == times.NO_EXPIRY_SECONDS and paa.path_len == 1
    novid = x509.parse(pem.decode(V.credential("test-paa-novid-cert.pem"), "CERTIFICATE"))
    assert novid.subject_key_id == unhex("785CE705B86B8F4E6FC793AA60CB43EA696882D5")
    signer = x509.parse(V.CD_SIGNER_CERT)
    assert signer.subject_key_id == V.CD_SIGNING_SKID


def test_key_usage_bits_follow_named_bit_order():
    assert x509.key_usage_value(x509.KU_DIGITAL_SIGNATURE) == unhex("03020780")
    assert x509.key_usage_value(x509.KU_KEY_CERT_SIGN | x509.KU_CRL_SIGN) == unhex("03020106")
    assert x509.key_usage_value(x509.KU_DECIPHER_ONLY) == unhex("0303070080")
    assert x509.key_usage_from_bits(7, b"\x80") == x509.KU_DIGITAL_SIGNATURE
    raises(DerError, x509.key_usage_from_bits, 0, b"\x80")  # trailing zero bits kept: not DER
    raises(CertificateFormatError, x509.key_usage_value, 0)


def test_rejects_malformed_certificates():
    good = V.der("Root01")
    cert = x509.parse(good)
    raises(DerError, x509.parse, good + b"\x00")
    raises(DerError, x509.parse, good[:-1])
    raises(DerError, x509.parse, b"")
    # another signature algorithm (ecdsa-with-SHA384)
    sha384 = oids.ECDSA_WITH_SHA256[:-1] + b"\x03"
    raises(CertificateFormatError, x509.parse, good.replace(oids.ECDSA_WITH_SHA256, sha384))
    # another curve (secp256k1 has a different OID of the same length: change the last arc)
    raises(CertificateFormatError, x509.parse, good.replace(oids.PRIME256V1, oids.PRIME256V1[:-1] + b"\x06"))
    # an X.509 v1 certificate (no version)
    tbs = der.Reader(cert.tbs).enter(der.SEQUENCE)
    tbs.next()  # skip [0] version
    v1_tbs = der.sequence(cert.tbs[tbs.pos : tbs.end])
    raises(CertificateFormatError, x509.parse, x509.encode_certificate(v1_tbs, cert.signature))


def test_rejects_bad_extensions_and_names():
    cert = x509.parse(V.der("Node01_01"))
    exts = [e.encode() for e in cert.extensions]
    raises(CertificateFormatError, x509.parse, _rebuild(cert, extensions=exts + [exts[0]]))
    explicit_false = x509.encode_extension(oids.BASIC_CONSTRAINTS, True, der.sequence(der.boolean(False)))
    raises(DerError, x509.parse, _rebuild(cert, extensions=[explicit_false] + exts[1:]))
    not_critical = der.sequence(der.oid(oids.KEY_USAGE), der.boolean(False), der.octet_string(x509.key_usage_value(1)))
    raises(DerError, x509.parse, _rebuild(cert, extensions=[exts[0], not_critical] + exts[2:]))
    assert x509.parse(_rebuild(cert, extensions=[])).extensions == []  # no extensions at all is well-formed
    empty = x509.parse(_rebuild(cert, extensions=[]))
    _, a, b = der.Reader(empty.tbs).next(der.SEQUENCE)
    tbs_empty_ext = der.sequence(empty.tbs[a:b] + der.explicit(3, der.sequence()))
    raises(DerError, x509.parse, x509.encode_certificate(tbs_empty_ext, cert.signature))
    multi = der.sequence(
        der.set_of(
            der.sequence(der.oid(oids.COMMON_NAME), der.string(der.UTF8_STRING, "a")),
            der.sequence(der.oid(oids.TITLE), der.string(der.UTF8_STRING, "b")),
        )
    )
    raises(CertificateFormatError, x509.parse, _rebuild(cert, subject=multi))
    raises(CertificateFormatError, x509.parse, _rebuild(cert, serial=b"\x80"))  # negative serial
    raises(CertificateFormatError, x509.parse, _rebuild(cert, signature=der.sequence(der.integer(-1), der.integer(1))))
    raises(CertificateFormatError, x509.parse, _rebuild(cert, signature=b"\x30\x00\x00"))
