"""Fuzzing the certificate parsers (CPython, hypothesis).

Random and mutated inputs go to the DER parsers (X.509, CSR, CMS, key files,
PEM), the Matter TLV certificate decoder, the CD content decoder and the whole
chain validation: only ``CertificateError`` may escape.  Generated Matter
certificates (random DNs, validity, extensions) must convert TLV -> DER -> TLV
byte for byte and verify in ``cryptography``.  Each test prints how many parser
calls it made (one input may feed several parsers).
"""

from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings, strategies as st

from micromatter.certs import attestation, cd, chain, csr, dn, issue, keys, opcert, pem, x509
from micromatter.errors import CertificateError
from micromatter_cpython.port import Port

import certs_vectors as V
from fuzzlib import batch, count, mutate, mutation, reporter

CRYPTO = Port().crypto
ROOT_KEY = cx509.load_der_x509_certificate(V.der("Root01")).public_key()
FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])

report = reporter(1000, "parser calls")


def attempt(name, function, data, label=""):
    """Run ``function(data)``; only a CertificateError may escape. Returns the result or None."""
    try:
        result = function(data)
    except CertificateError as e:
        count(name, label + type(e).__name__)
        return None
    count(name, label + "ok")
    return result


NAMES = sorted(V.CERTS)
PAA = pem.decode(V.credential("test-paa-fff1-cert.pem"), "CERTIFICATE")
DER_SAMPLES = [V.der(n) for n in NAMES] + [V.CD_SIGNER_CERT, PAA]
TLV_SAMPLES = [V.tlv(n) for n in NAMES]


# --- DER ------------------------------------------------------------------


def check_x509(name, data):
    cert = attempt(name, x509.parse, data)
    if cert is not None:
        # What parses is exactly the DER its fields rebuild.
        tbs = x509.encode_tbs(
            cert.serial,
            cert.issuer_der,
            cert.not_before,
            cert.not_after,
            x509.encode_name(cert.subject),
            cert.public_key,
            [e.encode() for e in cert.extensions],
        )
        assert x509.encode_certificate(tbs, cert.signature) == data
        attempt(name, attestation.parse, data, "attestation ")
        attempt(name, opcert.from_der, data, "opcert ")


@FUZZ
@given(batch(st.binary(max_size=80).map(lambda b: b"\x30\x82\x01\x00" + b), 8))
def test_x509_random_bytes(inputs):
    for data in inputs:
        check_x509("test_x509_random_bytes", data)
        attempt("test_x509_random_bytes", x509.parse, data[4:])


@FUZZ
@given(st.sampled_from(DER_SAMPLES), batch(st.lists(mutation, min_size=1, max_size=3), 8))
def test_x509_mutated_certificates(sample, mutants):
    check_x509("test_x509_mutated_certificates", sample)
    for mutations in mutants:
        check_x509("test_x509_mutated_certificates", mutate(sample, mutations))


CSR_SAMPLE = csr.make(CRYPTO, V.key("Node01_01"), CRYPTO.p256_public_key(V.key("Node01_01")))
KEY_SAMPLE = keys.encode_private_key(V.key("Root01"), CRYPTO.p256_public_key(V.key("Root01")))


@FUZZ
@given(
    st.sampled_from(("csr", "cms", "key", "cd")),
    batch(st.one_of(st.binary(max_size=60), st.lists(mutation, min_size=1, max_size=3)), 8),
)
def test_other_der_parsers(kind, inputs):
    sample, function = {
        "csr": (CSR_SAMPLE, lambda d: csr.verify(CRYPTO, d)),
        "cms": (V.CD_SIGNED_02, cd.parse),
        "key": (KEY_SAMPLE, keys.parse_private_key),
        "cd": (V.CD_CONTENT_02, cd.decode_content),
    }[kind]
    for item in inputs:
        data = item if isinstance(item, bytes) else mutate(sample, item)
        result = attempt("test_other_der_parsers", function, data)
        if kind == "cd" and result is not None:
            assert cd.decode_content(result.encode()).encode() == result.encode()


@FUZZ
@given(batch(st.text(alphabet="-BEGINCERTFATD \nAZaz09+/=", max_size=120), 8))
def test_pem_random_text(inputs):
    for text in inputs:
        attempt("test_pem_random_text", pem.decode_all, text)
        attempt("test_pem_random_text", pem.decode_all, pem.encode("X", text.encode())[: len(text)])


# --- Matter TLV certificates ------------------------------------------------


def check_tlv(name, data):
    cert = attempt(name, opcert.decode, data)
    if cert is None:
        return
    encoded = cert.encode()
    assert opcert.decode(encoded).encode() == encoded
    der = attempt(name, lambda c: c.to_der(), cert, "to_der ")
    if der is not None:
        back = attempt(name, opcert.from_der, der, "from_der ")
        if back is not None:
            assert back.encode() == encoded


@FUZZ
@given(batch(st.binary(max_size=60).map(lambda b: b"\x15" + b), 8))
def test_tlv_random_bytes(inputs):
    for data in inputs:
        check_tlv("test_tlv_random_bytes", data)


@FUZZ
@given(st.sampled_from(TLV_SAMPLES), batch(st.lists(mutation, min_size=1, max_size=3), 8))
def test_tlv_mutated_certificates(sample, mutants):
    for mutations in mutants:
        check_tlv("test_tlv_mutated_certificates", mutate(sample, mutations))


@FUZZ
@given(st.sampled_from(("noc", "icac", "rcac")), batch(st.lists(mutation, min_size=1, max_size=2), 8))
def test_chain_validation_with_mutated_certificates(which, mutants):
    good = {"noc": V.tlv("Node01_01"), "icac": V.tlv("ICA01"), "rcac": V.tlv("Root01")}
    for mutations in mutants:
        certs = dict(good)
        certs[which] = mutate(good[which], mutations)
        result = attempt(
            "test_chain_validation_with_mutated_certificates",
            lambda c: chain.validate_chain(CRYPTO, c["noc"], c["icac"], c["rcac"]),
            certs,
            which + " ",
        )
        if result is not None:
            # Only changes outside what is signed may pass (e.g. TLV integer widths): the identity is the same.
            assert (result.node_id, result.fabric_id) == (0xDEDEDEDE00010001, 0xFAB000000000001D)


# --- generated certificates ------------------------------------------------

PRINTABLE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"
printable = st.text(alphabet=PRINTABLE, min_size=1, max_size=12)
strings = st.text(min_size=1, max_size=12).filter(lambda s: "\x00" not in s)
string_attrs = st.one_of(
    st.tuples(st.integers(dn.COMMON_NAME, dn.PSEUDONYM), strings),
    st.tuples(st.integers(dn.COMMON_NAME, dn.PSEUDONYM).map(lambda t: t | dn.PRINTABLE), printable),
    st.tuples(st.just(dn.DOMAIN_COMPONENT), st.text(alphabet=st.characters(max_codepoint=127), min_size=1, max_size=8)),
)
id_attrs = st.tuples(st.sampled_from((dn.NODE_ID, dn.FABRIC_ID, dn.ICAC_ID)), st.integers(0, (1 << 64) - 1))
dns = st.lists(st.one_of(string_attrs, id_attrs), min_size=1, max_size=5).filter(
    lambda attrs: len(dn.values(attrs, dn.NODE_ID)) <= 1
    and len(dn.values(attrs, dn.FABRIC_ID)) <= 1
    and len(dn.values(attrs, dn.ICAC_ID)) <= 1
    and not (dn.values(attrs, dn.NODE_ID) and dn.values(attrs, dn.ICAC_ID))
)
extensions = st.tuples(
    st.one_of(st.just((True, None)), st.just((False, None)), st.tuples(st.just(True), st.integers(0, 255))),
    st.integers(1, 0x1FF),
    st.one_of(st.none(), st.lists(st.integers(1, 6), min_size=1, max_size=6, unique=True)),
    st.binary(min_size=20, max_size=20),
)


@settings(
    max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
@given(
    st.binary(min_size=1, max_size=20).map(lambda b: bytes((b[0] & 0x7F | 0x01,)) + b[1:]),
    dns,
    dns,
    st.integers(0, 0xFFFFFFFF),
    st.integers(0, 0xFFFFFFFF),
    extensions,
)
def test_generated_certificates_convert_both_ways(serial, issuer, subject, not_before, not_after, ext):
    bc, key_usage, purposes, akid = ext
    exts = [(opcert.EXT_BASIC_CONSTRAINTS, bc), (opcert.EXT_KEY_USAGE, key_usage)]
    if purposes:
        exts.append((opcert.EXT_EXTENDED_KEY_USAGE, purposes))
    public = CRYPTO.p256_public_key(V.key("Node01_01"))
    exts += [(opcert.EXT_SUBJECT_KEY_ID, issue.key_id(CRYPTO, public)), (opcert.EXT_AUTHORITY_KEY_ID, akid)]
    cert = opcert.MatterCertificate(serial, issuer, not_before, not_after, subject, public, exts)
    issue.sign(CRYPTO, cert, V.key("Root01"))
    try:
        tlv = cert.encode()
        der = cert.to_der()
    except CertificateError as e:  # longer than the Matter limits (400 TLV / 600 DER bytes)
        count("test_generated_certificates_convert_both_ways", type(e).__name__)
        return
    assert opcert.decode(tlv).to_der() == der
    assert opcert.from_der(der).encode() == tlv
    parsed = cx509.load_der_x509_certificate(der)
    ROOT_KEY.verify(parsed.signature, parsed.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
    count("test_generated_certificates_convert_both_ways", "round trip")
