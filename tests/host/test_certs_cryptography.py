"""Certificates against the ``cryptography`` package (CPython): each side reads and verifies the other's.

Our X.509 output (operational certificates, DAC, PAI, CSR) is loaded and
signature-checked by ``cryptography``; certificates ``cryptography`` builds in
the Matter profile are parsed, converted to TLV and validated by ours; the
CD signature and key files are checked across; and the same certificates made
under the unix MicroPython port come out byte for byte as on CPython
(signatures are deterministic).
"""

import datetime
import json
import os
import stat
import subprocess
import sys

from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from micromatter.certs import attestation, cd, chain, csr, dn, issue, keys, opcert, pem, times
from micromatter.crypto import ecdsa
from micromatter_cpython.port import Port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "unit"))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import certs_vectors as V  # noqa: E402

CRYPTO = Port().crypto
MATTER = "1.3.6.1.4.1.37244."
NO_EXPIRY = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)


def oid(suffix):
    return cx509.ObjectIdentifier(MATTER + suffix)


def load(der):
    return cx509.load_der_x509_certificate(der)


def raw_key(private_key):
    return private_key.private_numbers().private_value.to_bytes(32, "big")


def public_bytes(key):
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def ext(cert, cls):
    return cert.extensions.get_extension_for_class(cls)


# --- our certificates, read by cryptography --------------------------------


def test_sdk_vectors_in_our_der_form_verify_in_cryptography():
    root = load(opcert.tlv_to_der(V.tlv("Root01")))
    ica = load(opcert.tlv_to_der(V.tlv("ICA01")))
    node = load(opcert.tlv_to_der(V.tlv("Node01_01")))
    root.verify_directly_issued_by(root)
    ica.verify_directly_issued_by(root)
    node.verify_directly_issued_by(ica)
    assert node.subject.get_attributes_for_oid(oid("1.1"))[0].value == "DEDEDEDE00010001"


def test_issued_fabric_verifies_in_cryptography():
    keys_ = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    (root_key, ica_key, node_key) = keys_
    rcac = issue.make_rcac(CRYPTO, raw_key(root_key), public_bytes(root_key.public_key()), 0x1234, fabric_id=0xFAB1)
    icac = issue.make_icac(CRYPTO, rcac, raw_key(root_key), public_bytes(ica_key.public_key()), 0x5678)
    noc = issue.make_noc(
        CRYPTO, icac, raw_key(ica_key), public_bytes(node_key.public_key()), 0x42, 0xFAB1, cats=[0x00020001]
    )
    r, i, n = load(rcac.to_der()), load(icac.to_der()), load(noc.to_der())
    r.verify_directly_issued_by(r)
    i.verify_directly_issued_by(r)
    n.verify_directly_issued_by(i)
    assert r.version == cx509.Version.v3
    bc = ext(r, cx509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length is None
    ku = ext(i, cx509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign and not ku.value.digital_signature
    assert not ext(n, cx509.BasicConstraints).value.ca
    assert ext(n, cx509.KeyUsage).value.digital_signature and not ext(n, cx509.KeyUsage).value.key_cert_sign
    eku = ext(n, cx509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
    assert ext(n, cx509.AuthorityKeyIdentifier).value.key_identifier == ext(i, cx509.SubjectKeyIdentifier).value.digest
    assert ext(n, cx509.SubjectKeyIdentifier).value.digest == noc.subject_key_id
    attrs = {(a.oid.dotted_string, a.value) for a in n.subject}
    expected = {("1.1", "0000000000000042"), ("1.5", "000000000000FAB1"), ("1.6", "00020001")}
    assert attrs == {(MATTER + suffix, value) for (suffix, value) in expected}
    assert r.not_valid_after_utc == NO_EXPIRY
    assert r.not_valid_before_utc == datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc)
    # A flipped byte of the TBS breaks the signature for cryptography too.
    der = bytearray(noc.to_der())
    der[40] ^= 1
    try:
        load(bytes(der)).verify_directly_issued_by(i)
    except (InvalidSignature, ValueError):
        pass
    else:
        raise AssertionError("tampered NOC verified")


def test_dac_and_pai_verify_in_cryptography():
    paa_der = pem.decode(V.credential("test-paa-fff1-cert.pem"), "CERTIFICATE")
    paa_key, _ = keys.parse_private_key_pem(V.credential("test-paa-fff1-key.pem"))
    cd_key, _ = keys.parse_private_key_pem(V.credential("test-cd-signing-key.pem"))
    creds = attestation.make_device_credentials(CRYPTO, paa_der, paa_key, cd_key, 0xFFF1, 0x8005, 0x0100)
    paa, pai, dac = load(paa_der), load(creds.pai), load(creds.dac)
    pai.verify_directly_issued_by(paa)
    dac.verify_directly_issued_by(pai)
    assert dac.subject.get_attributes_for_oid(oid("2.1"))[0].value == "FFF1"
    assert dac.subject.get_attributes_for_oid(oid("2.2"))[0].value == "8005"
    assert pai.subject.get_attributes_for_oid(oid("2.2")) == []
    assert ext(pai, cx509.BasicConstraints).value.path_length == 0
    assert ext(dac, cx509.KeyUsage).value.digital_signature and ext(dac, cx509.KeyUsage).critical
    assert dac.not_valid_before_utc == paa.not_valid_before_utc and dac.not_valid_after_utc == NO_EXPIRY
    assert public_bytes(dac.public_key()) == creds.dac_public_key


def test_csr_verifies_in_cryptography():
    private, public = CRYPTO.p256_generate()
    request = cx509.load_der_x509_csr(csr.make(CRYPTO, private, public))
    assert request.is_signature_valid
    assert public_bytes(request.public_key()) == public
    assert request.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "CSR"


def test_cd_signature_verifies_with_cryptography():
    key = serialization.load_pem_private_key(V.credential("test-cd-signing-key.pem").encode(), None)
    # The test CD key is the key of the SDK's CD signer certificate.
    assert public_bytes(key.public_key()) == public_bytes(load(V.CD_SIGNER_CERT).public_key())
    elements = cd.CertificationElements(0xFFF1, [0x8000], 0x0100, "ZIG20142ZB330003-24")
    signed = cd.sign(CRYPTO, elements, raw_key(key))
    parsed = cd.parse(signed)
    key.public_key().verify(ecdsa.raw_to_der(parsed.signature_raw), parsed.content, ec.ECDSA(hashes.SHA256()))
    assert parsed.content == elements.encode()
    # And the SDK's signed vectors verify with cryptography as they do with ours.
    for vector in (V.CD_SIGNED_01, V.CD_SIGNED_02):
        p = cd.parse(vector)
        key.public_key().verify(ecdsa.raw_to_der(p.signature_raw), p.content, ec.ECDSA(hashes.SHA256()))


def test_key_files_read_across():
    key = ec.generate_private_key(ec.SECP256R1())
    expected = (raw_key(key), public_bytes(key.public_key()))
    for fmt in (serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8):
        text = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()
        assert keys.parse_private_key_pem(text) == expected
    ours = keys.encode_private_key_pem(*expected)
    assert raw_key(serialization.load_pem_private_key(ours.encode(), None)) == expected[0]
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert keys.parse_public_key(spki) == expected[1] and keys.encode_public_key(expected[1]) == spki


# --- cryptography's certificates, read by ours ------------------------------


def build(subject, issuer, public_key, signer, ca, path_len=None, key_usage=None, eku=None, skid=None, akid=None):
    b = (
        cx509.CertificateBuilder()
        .subject_name(cx509.Name(subject))
        .issuer_name(cx509.Name(issuer))
        .public_key(public_key)
        .serial_number(cx509.random_serial_number())
        .not_valid_before(datetime.datetime(2023, 5, 1, 12, 0, 0))
        .not_valid_after(NO_EXPIRY)
        .add_extension(cx509.BasicConstraints(ca=ca, path_length=path_len), critical=True)
        .add_extension(key_usage, critical=True)
    )
    if eku:
        b = b.add_extension(cx509.ExtendedKeyUsage(eku), critical=True)
    b = b.add_extension(cx509.SubjectKeyIdentifier(skid), critical=False)
    b = b.add_extension(cx509.AuthorityKeyIdentifier(akid, None, None), critical=False)
    return b.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def ku(digital_signature=False, ca=False):
    return cx509.KeyUsage(digital_signature, False, False, False, False, ca, ca, False, False)


def test_cryptography_operational_chain_validates_in_ours():
    root_key, node_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root_id = cx509.SubjectKeyIdentifier.from_public_key(root_key.public_key()).digest
    node_id = cx509.SubjectKeyIdentifier.from_public_key(node_key.public_key()).digest
    root_name = [
        cx509.NameAttribute(oid("1.4"), "CAFE000000000001"),
        cx509.NameAttribute(oid("1.5"), "0000000000000007"),
    ]
    node_name = [
        cx509.NameAttribute(NameOID.COMMON_NAME, "node"),
        cx509.NameAttribute(oid("1.1"), "00000000000A0B0C"),
        cx509.NameAttribute(oid("1.5"), "0000000000000007"),
        cx509.NameAttribute(oid("1.6"), "00120003"),
    ]
    root_public = root_key.public_key()
    root_der = build(root_name, root_name, root_public, root_key, True, 1, ku(ca=True), skid=root_id, akid=root_id)
    eku = [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.SERVER_AUTH]
    node_public = node_key.public_key()
    node_der = build(node_name, root_name, node_public, root_key, False, None, ku(True), eku, node_id, root_id)
    root, node = opcert.from_der(root_der), opcert.from_der(node_der)
    assert opcert.tlv_to_der(root.encode()) == root_der and opcert.tlv_to_der(node.encode()) == node_der
    chain.validate_rcac(CRYPTO, root.encode())
    ident = chain.validate_chain(CRYPTO, node.encode(), None, root.encode())
    assert (ident.node_id, ident.fabric_id, ident.cats) == (0xA0B0C, 7, [0x00120003])
    assert ident.noc.subject[0] == (dn.COMMON_NAME, "node")
    assert root.not_after == 0 and root.not_before == times.from_date(2023, 5, 1, 12)


def test_cryptography_attestation_chain_parses_in_ours():
    paa_key, pai_key, dac_key = [ec.generate_private_key(ec.SECP256R1()) for _ in range(3)]
    kid = [cx509.SubjectKeyIdentifier.from_public_key(k.public_key()).digest for k in (paa_key, pai_key, dac_key)]
    paa_name = [cx509.NameAttribute(NameOID.COMMON_NAME, "PAA")]
    pai_name = [cx509.NameAttribute(NameOID.COMMON_NAME, "PAI"), cx509.NameAttribute(oid("2.1"), "FFF2")]
    dac_name = pai_name[:1] + [cx509.NameAttribute(oid("2.1"), "FFF2"), cx509.NameAttribute(oid("2.2"), "ABCD")]
    paa = build(paa_name, paa_name, paa_key.public_key(), paa_key, True, 1, ku(ca=True), skid=kid[0], akid=kid[0])
    pai = build(pai_name, paa_name, pai_key.public_key(), paa_key, True, 0, ku(ca=True), skid=kid[1], akid=kid[0])
    dac = build(dac_name, pai_name, dac_key.public_key(), pai_key, False, None, ku(True), skid=kid[2], akid=kid[1])
    parsed = attestation.validate_chain(CRYPTO, dac, pai, paa)
    assert (parsed.vendor_id, parsed.product_id) == (0xFFF2, 0xABCD)
    assert parsed.public_key == public_bytes(dac_key.public_key())


# --- the tool ---------------------------------------------------------------


def test_make_attestation_tool_writes_a_chain_cryptography_accepts(tmp_path, capsys):
    import make_attestation

    make_attestation.main([str(tmp_path), "--product-id", "0x8001"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["paa"] == "test-paa-fff1" and summary["product_id"] == 0x8001
    paa = cx509.load_pem_x509_certificate(V.credential("test-paa-fff1-cert.pem").encode())
    pai = load((tmp_path / "pai.der").read_bytes())
    dac = cx509.load_pem_x509_certificate((tmp_path / "dac.pem").read_bytes())
    pai.verify_directly_issued_by(paa)
    dac.verify_directly_issued_by(pai)
    key = serialization.load_pem_private_key((tmp_path / "dac_key.pem").read_bytes(), None)
    assert public_bytes(key.public_key()) == public_bytes(dac.public_key())
    assert stat.S_IMODE(os.stat(tmp_path / "dac_key.pem").st_mode) == 0o600
    _, cd_public = keys.parse_private_key_pem(V.credential("test-cd-signing-key.pem"))
    elements = cd.verify(CRYPTO, (tmp_path / "cd.der").read_bytes(), cd_public, cd.TEST_SIGNING_KEY_ID)
    assert elements.covers(0xFFF1, 0x8001) and elements.device_type_id == 0x0100
    # Another vendor goes under the vendor-less test PAA.
    make_attestation.main([str(tmp_path / "v2"), "--vendor-id", "0xFFF2"])
    novid = cx509.load_pem_x509_certificate(V.credential("test-paa-novid-cert.pem").encode())
    load((tmp_path / "v2" / "pai.der").read_bytes()).verify_directly_issued_by(novid)


# --- the same bytes under MicroPython ---------------------------------------

# The same issuing steps run on both runtimes (``c`` the port's crypto, ``V`` the vectors): they make ``out``.
ISSUE = r"""
from micromatter.certs import attestation, cd, csr, issue

k = V.key
rcac = issue.make_rcac(c, k("Root01"), c.p256_public_key(k("Root01")), 1, fabric_id=5, serial=b"\x01")
icac = issue.make_icac(c, rcac, k("Root01"), c.p256_public_key(k("ICA01")), 2, serial=b"\x02")
noc = issue.make_noc(c, icac, k("ICA01"), c.p256_public_key(k("Node01_01")), 3, 5, cats=[0x10001], serial=b"\x03")
pai = attestation.make_pai(c, V.der("Root01"), k("Root01"), c.p256_public_key(k("ICA02")), 0xFFF1, serial=b"\x04")
dac = attestation.make_dac(c, pai, k("ICA02"), c.p256_public_key(k("Node01_01")), 0xFFF1, 0x8000, serial=b"\x05")
elements = cd.CertificationElements(0xFFF1, [0x8000], 0x0100, "ZIG20142ZB330003-24")
out = [rcac.encode(), icac.encode(), noc.encode(), noc.to_der(), pai, dac, cd.sign(c, elements, k("Root02"))]
out.append(csr.make(c, k("Node01_01"), c.p256_public_key(k("Node01_01"))))
"""

MP_SCRIPT = (
    """
import sys
from binascii import hexlify
sys.path[:] = ["shared", "mp", "tests/unit"]
from micromatter_mp.port import Port
import certs_vectors as V

c = Port().crypto
"""
    + ISSUE
    + """
for b in out:
    print(hexlify(b).decode())
"""
)


def test_micropython_issues_the_same_bytes(tmp_path):
    from micromatter_cpython.crypto import DETERMINISTIC_SIGNING

    script = tmp_path / "issue.py"
    script.write_text(MP_SCRIPT)
    mp = os.path.join(ROOT, ".venv", "bin", "micropython")
    result = subprocess.run([mp, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    theirs = [bytes.fromhex(line) for line in result.stdout.split()]
    scope = {"c": CRYPTO, "V": V}
    exec(ISSUE, scope)
    ours = scope["out"]
    assert len(theirs) == len(ours) == 8
    # Everything MicroPython made validates here.
    chain.validate_chain(CRYPTO, theirs[2], theirs[1], theirs[0])
    load(theirs[5]).verify_directly_issued_by(load(theirs[4]))
    assert cx509.load_der_x509_csr(theirs[7]).is_signature_valid
    if DETERMINISTIC_SIGNING:
        assert theirs == ours
    else:  # randomized signatures here: compare all but the signatures
        assert [opcert.decode(t).tbs_der() for t in theirs[:3]] == [opcert.decode(o).tbs_der() for o in ours[:3]]
