"""ASN.1 DER reader/writer, OIDs, certificate times, PEM and key files."""

from support import raises, unhex

from micromatter.certs import der, keys, oids, pem, times
from micromatter.certs.errors import CertificateFormatError, DerError
from micromatter.errors import CertificateError

import certs_vectors as V


def _read_one(data, method, *args):
    r = der.Reader(data)
    value = getattr(r, method)(*args)
    r.finish()
    return value


def test_integer_encodings_are_minimal_twos_complement():
    cases = [
        (0, "020100"),
        (1, "020101"),
        (127, "02017f"),
        (128, "02020080"),
        (255, "020200ff"),
        (256, "02020100"),
        (-1, "0201ff"),
        (-128, "020180"),
        (-129, "0202ff7f"),
        (1 << 64, "0209010000000000000000"),
    ]
    for n, encoded in cases:
        assert der.integer(n) == unhex(encoded), n
        assert _read_one(unhex(encoded), "read_int") == n


def test_integer_from_unsigned_adds_sign_byte_and_drops_zeros():
    assert der.integer_from_unsigned(b"\x80") == unhex("02020080")
    assert der.integer_from_unsigned(b"\x00\x00\x05") == unhex("020105")
    assert der.integer_from_unsigned(b"\x00") == unhex("020100")


def test_long_lengths_round_trip():
    for n, head in ((127, "047f"), (128, "048180"), (200, "0481c8"), (300, "0482012c"), (70000, "0483011170")):
        encoded = der.octet_string(bytes(n))
        assert encoded[: len(head) // 2] == unhex(head), n
        assert _read_one(encoded, "read_octets") == bytes(n)


def test_reader_rejects_non_der_lengths():
    bad = [
        "3080",  # indefinite length
        "30810100",  # long form for a short length
        "3082000100",  # leading zero length byte
        "0405aabb",  # truncated content
        "04",  # no length
        "048401000000",  # 4-byte length
        "1f0100",  # high tag number form
        "30",  # truncated header
    ]
    for text in bad:
        assert isinstance(raises(DerError, _read_one, unhex(text), "raw"), CertificateError)


def test_reader_rejects_bad_values():
    bad = [
        ("read_int", "0200"),  # empty integer
        ("read_int", "02020001"),  # non-minimal positive
        ("read_int", "0202ff80"),  # non-minimal negative
        ("read_bool", "010101"),  # BER true
        ("read_bool", "01020000"),
        ("read_bit_string", "0300"),  # no padding byte
        ("read_bit_string", "030108"),  # 8 unused bits
        ("read_bit_string", "03020101"),  # padding bit set
        ("read_bit_string", "030101"),  # unused bits with no content
        ("read_bytes_bit_string", "03020180"),  # not whole bytes
        ("read_oid", "0600"),
        ("read_oid", "06028001"),  # non-minimal arc
        ("read_oid", "06022a86"),  # truncated arc
        ("read_null", "050100"),
        ("read_string", "0c02c080"),  # overlong UTF-8
        ("read_string", "0c01ff"),
        ("read_string", "0c03eda080"),  # surrogate
        ("read_string", "0c02e282"),  # truncated sequence
        ("read_string", "13012a"),  # '*' is not printable
        ("read_string", "160180"),  # IA5 is 7-bit
        ("read_string", "1e020041"),  # BMPString unsupported
        ("read_time", "170d3230313031353134323334335a"[:-2] + "30"),  # no Z
    ]
    for method, text in bad:
        raises(DerError, _read_one, unhex(text), method)


def test_reader_rejects_wrong_tag_and_trailing_data():
    r = der.Reader(unhex("020101"))
    raises(DerError, r.read, der.OCTET_STRING)
    r = der.Reader(unhex("0201010500"))
    r.read_int()
    raises(DerError, r.finish)
    r = der.Reader(unhex("3003020101"))
    seq = r.enter(der.SEQUENCE)
    assert seq.read_int() == 1 and seq.at_end()
    raises(DerError, seq.read_int)


def test_strings_round_trip_and_check_charset():
    assert der.string(der.UTF8_STRING, "h\u00e9") == unhex("0c0368c3a9")
    assert _read_one(unhex("0c0368c3a9"), "read_string") == (der.UTF8_STRING, "h\u00e9")
    assert der.string(der.PRINTABLE_STRING, "Ab 1") == unhex("130441622031")
    raises(DerError, der.string, der.PRINTABLE_STRING, "a*b")
    raises(DerError, der.string, der.IA5_STRING, "\u00e9")


def test_set_of_sorts_members():
    assert der.set_of(der.integer(2), der.integer(1)) == unhex("3106020101020102")


def test_oid_text_round_trip():
    cases = [
        (oids.EC_PUBLIC_KEY, "1.2.840.10045.2.1"),
        (oids.PRIME256V1, "1.2.840.10045.3.1.7"),
        (oids.ECDSA_WITH_SHA256, "1.2.840.10045.4.3.2"),
        (oids.SHA256, "2.16.840.1.101.3.4.2.1"),
        (oids.DOMAIN_COMPONENT, "0.9.2342.19200300.100.1.25"),
        (oids.MATTER_NODE_ID, "1.3.6.1.4.1.37244.1.1"),
        (oids.MATTER_PRODUCT_ID, "1.3.6.1.4.1.37244.2.2"),
        (oids.KP_CLIENT_AUTH, "1.3.6.1.5.5.7.3.2"),
    ]
    for value, text in cases:
        assert oids.to_text(value) == text
        assert oids.from_text(text) == value
    raises(DerError, oids.from_text, "3.1")
    raises(DerError, oids.from_text, "1.x")


def test_times_match_published_certificate_values():
    # Root01 notBefore 2020-10-15 14:23:43 is 0x271b17ef in its TLV form.
    assert times.from_date(2020, 10, 15, 14, 23, 43) == 0x271B17EF
    assert times.from_date(2040, 10, 15, 14, 23, 42) == 0x4CB9B56E
    assert times.from_date(2000, 1, 1) == 0
    assert times.to_date(0x271B17EF) == (2020, 10, 15, 14, 23, 43)
    assert times.to_date(-1) == (1999, 12, 31, 23, 59, 59)
    assert times.to_date(times.NO_EXPIRY_SECONDS) == (9999, 12, 31, 23, 59, 59)
    assert times.UNIX_OFFSET == 946684800


def test_time_encodings():
    assert times.encode_der(0) == b"\x17\x0d" + b"000101000000Z"
    assert times.encode_der(times.from_date(2049, 12, 31, 23, 59, 59)) == b"\x17\x0d491231235959Z"
    assert times.encode_der(times.from_date(2050, 1, 1)) == b"\x18\x0f20500101000000Z"
    assert times.encode_der(times.NO_EXPIRY_SECONDS) == b"\x18\x0f99991231235959Z"
    assert times.encode_der(times.from_date(1999, 6, 1)) == b"\x17\x0d990601000000Z"
    assert times.parse_der(der.UTC_TIME, b"500101000000Z") == times.from_date(1950, 1, 1)
    assert times.parse_der(der.UTC_TIME, b"000229000000Z") == times.from_date(2000, 2, 29)
    for tag, text in (
        (der.UTC_TIME, b"010229000000Z"),  # not a leap year
        (der.GENERALIZED_TIME, b"21000229000000Z"),
        (der.UTC_TIME, b"201301000000Z"),
        (der.UTC_TIME, b"200100000000Z"),
        (der.UTC_TIME, b"200101240000Z"),
        (der.UTC_TIME, b"200101006000Z"),
        (der.UTC_TIME, b"2001010000000"),
        (der.UTC_TIME, b"2001010000Z"),
        (der.UTC_TIME, b"20010100000+Z"),
        (der.GENERALIZED_TIME, b"200101000000Z"),
    ):
        raises(DerError, times.parse_der, tag, text)


def test_pem_round_trip_and_strictness():
    body = bytes(range(100))
    text = pem.encode("CERTIFICATE", body)
    assert text.splitlines()[0] == "-----BEGIN CERTIFICATE-----"
    assert max(len(line) for line in text.splitlines()) == 64
    assert pem.decode(text, "CERTIFICATE") == body
    raises(CertificateFormatError, pem.decode, text, "PRIVATE KEY")
    raises(CertificateFormatError, pem.decode, text.replace("-----END CERTIFICATE", "-----END X"), "CERTIFICATE")
    raises(CertificateFormatError, pem.decode, text.replace("A", "*", 1), "CERTIFICATE")
    raises(CertificateFormatError, pem.decode_all, "-----BEGIN X-----\nAAAA\n")
    raises(CertificateFormatError, pem.decode_all, "-----BEGIN X-----\nAAA\n-----END X-----\n")


def test_test_keys_parse_and_round_trip():
    private, public = keys.parse_private_key_pem(V.credential("test-cd-signing-key.pem"))
    assert private == unhex("aef3484116e9481ec57be0472df41bf499064e5024ad869eca5e889802d48075")
    assert public[:4] == unhex("043c3989")
    again = keys.encode_private_key(private, public)
    assert keys.parse_private_key(again) == (private, public)
    assert keys.parse_private_key_pem(keys.encode_private_key_pem(private, public)) == (private, public)
    assert keys.parse_public_key(keys.encode_public_key(public)) == public
    raises(CertificateFormatError, keys.encode_private_key, private[:31], public)


def test_pkcs8_private_key_parses():
    private, public = keys.parse_private_key_pem(V.credential("test-paa-fff1-key.pem"))
    sec1 = keys.encode_private_key(private, public)
    pkcs8 = der.sequence(
        der.integer(0), der.sequence(der.oid(oids.EC_PUBLIC_KEY), der.oid(oids.PRIME256V1)), der.octet_string(sec1)
    )
    assert keys.parse_private_key(pkcs8) == (private, public)
    other_curve = pkcs8.replace(oids.PRIME256V1, oids.PRIME256V1[:-1] + b"\x08")
    raises(CertificateFormatError, keys.parse_private_key, other_curve)


def test_parsers_refuse_what_is_not_bytes_with_a_certificate_error():
    from micromatter.certs import attestation, cd, chain, csr, opcert, x509
    from micromatter.certs.errors import CertificateTlvError, CertificationDeclarationError
    from support import port

    crypto = port().crypto
    root = V.tlv("Root01")
    for junk in (None, 5, "text", [0x30, 0x00], 3.5):
        for parse in (x509.parse, attestation.parse, csr.parse, keys.parse_private_key, keys.parse_public_key,
                      opcert.from_der, opcert.der_to_tlv):
            raises(DerError, parse, junk)
        raises(DerError, csr.verify, crypto, junk)
        for parse in (opcert.decode, opcert.tlv_to_der):
            raises(CertificateTlvError, parse, junk)
        raises(CertificateTlvError, chain.validate_rcac, crypto, junk)
        raises(CertificateTlvError, chain.validate_chain, crypto, junk, None, root)
        raises(CertificateTlvError, chain.validate_chain, crypto, V.tlv("Node01_02"), None, junk)
        for parse in (cd.parse, cd.decode_content):
            raises(CertificationDeclarationError, parse, junk)
        raises(CertificationDeclarationError, cd.verify, crypto, junk, bytes(65))
        raises(DerError, oids.to_text, junk)
    for junk in (None, 5, [".".join("1")], b"1.2"):
        raises(DerError, oids.from_text, junk)
    for junk in (None, 5, [b"-----BEGIN X-----"], b"\xff\xfe"):  # the last is not UTF-8
        raises(CertificateFormatError, pem.decode_all, junk)
        raises(CertificateFormatError, keys.parse_private_key_pem, junk)
    # None stands for "no ICAC" only.
    assert chain.validate_chain(crypto, V.tlv("Node01_02"), None, root).node_id > 0
