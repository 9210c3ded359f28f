"""Chain validation RCAC -> [ICAC] -> NOC, and issuing fabrics."""

from support import port, raises, unhex

from micromatter.certs import chain, dn, issue, opcert, x509
from micromatter.certs.errors import (
    CatError,
    CertificateFormatError,
    CertificateSignatureError,
    CertificateUsageError,
    ExpiredError,
    FabricMismatchError,
    InvalidAttributeError,
    IssuerMismatchError,
    MissingAttributeError,
    NotSelfSignedError,
    NotYetValidError,
)
from micromatter.errors import CertificateError

import certs_vectors as V


def _crypto():
    return port().crypto


def _cert(name):
    return opcert.decode(V.tlv(name))


def _resigned(cert, issuer_key, **fields):
    """``cert`` with fields changed, signed again by ``issuer_key``."""
    return issue.sign(_crypto(), V.with_fields(cert, **fields), issuer_key)


def _extensions(cert, kind, value):
    return [(k, value if k == kind else v) for (k, v) in cert.extensions]


def test_published_chain_with_icac_validates():
    ident = chain.validate_chain(_crypto(), V.tlv("Node01_01"), V.tlv("ICA01"), V.tlv("Root01"))
    assert ident.node_id == 0xDEDEDEDE00010001
    assert ident.fabric_id == 0xFAB000000000001D
    assert ident.cats == []
    assert ident.public_key == x509.parse(V.der("Node01_01")).public_key
    assert ident.subject_key_id == unhex("6967C912F8A3E689556F899B65D76F53FA65C7B6")
    assert ident.root_public_key == x509.parse(V.der("Root01")).public_key
    assert ident.icac.icac_id == 0xCACACACA00000003 and ident.rcac.rcac_id == 0xCACACACA00000001


def test_published_chain_without_icac_validates():
    ident = chain.validate_chain(_crypto(), V.tlv("Node01_02"), None, V.tlv("Root01"))
    assert ident.node_id == 0xDEDEDEDE00010002 and ident.icac is None


def test_published_chains_with_cats_and_extensions_validate():
    expected = {
        "Node02_01": [],
        "Node02_02": [],
        "Node02_03": [0xABCD0001],
        "Node02_04": [0xABCE1002, 0xABCD0003],
        "Node02_05": [0xABCD0010, 0xABCE1008],
        "Node02_06": [],
        "Node02_08": [0xABCF00A0, 0xABCD0020, 0xABCE0100],
    }
    root = _cert("Root02")
    ica = _cert("ICA02")
    for name, cats in expected.items():
        ident = chain.validate_chain(_crypto(), V.tlv(name), ica, root)
        assert ident.cats == cats, name
        assert ident.fabric_id == 0xFAB000000000001D


def test_critical_unknown_extension_is_refused():
    # Node02_07 marks its subjectAltName critical.
    raises(CertificateUsageError, chain.validate_chain, _crypto(), V.tlv("Node02_07"), V.tlv("ICA02"), V.tlv("Root02"))


def test_roots_validate_and_non_roots_do_not():
    for name in ("Root01", "Root02", "Root03"):
        assert chain.validate_rcac(_crypto(), V.tlv(name)).type == opcert.TYPE_ROOT
    raises(MissingAttributeError, chain.validate_rcac, _crypto(), V.tlv("ICA01"))
    raises(MissingAttributeError, chain.validate_chain, _crypto(), V.tlv("Node01_01"), V.tlv("ICA01"), V.tlv("ICA01"))


def test_tampered_certificates_fail_their_signature():
    noc = V.tlv("Node01_01")
    sig_at = noc.find(unhex("300b40")) + 3
    flipped = noc[:sig_at] + bytes((noc[sig_at] ^ 1,)) + noc[sig_at + 1 :]
    raises(CertificateSignatureError, chain.validate_chain, _crypto(), flipped, V.tlv("ICA01"), V.tlv("Root01"))
    other_node = noc.replace(unhex("2711 0100 0100 dededede"), unhex("2711 0200 0100 dededede"))
    raises(CertificateSignatureError, chain.validate_chain, _crypto(), other_node, V.tlv("ICA01"), V.tlv("Root01"))
    ica = V.tlv("ICA01")
    later = ica.replace(unhex("26056eb5b94c"), unhex("26056fb5b94c"))
    raises(CertificateSignatureError, chain.validate_chain, _crypto(), noc, later, V.tlv("Root01"))
    root = _cert("Root01")
    bad_root = _resigned(root, V.key("ICA01"))
    raises(CertificateSignatureError, chain.validate_rcac, _crypto(), bad_root)


def test_wrong_issuer_is_refused():
    # Same root, another ICA (ICA01_1): issuer DN and key id differ.
    raises(IssuerMismatchError, chain.validate_chain, _crypto(), V.tlv("Node01_01"), V.tlv("ICA01_1"), V.tlv("Root01"))
    # An ICA of another root.
    raises(IssuerMismatchError, chain.validate_chain, _crypto(), V.tlv("Node01_01"), V.tlv("ICA01"), V.tlv("Root02"))
    # A NOC issued by the ICA, presented without it.
    raises(IssuerMismatchError, chain.validate_chain, _crypto(), V.tlv("Node01_01"), None, V.tlv("Root01"))
    # Right DN, wrong key id.
    noc = _cert("Node01_01")
    wrong_akid = _resigned(noc, V.key("ICA01"), extensions=_extensions(noc, opcert.EXT_AUTHORITY_KEY_ID, bytes(20)))
    raises(IssuerMismatchError, chain.validate_chain, _crypto(), wrong_akid, V.tlv("ICA01"), V.tlv("Root01"))


def test_root_that_is_not_self_issued_is_refused():
    root = _cert("Root01")
    other = _resigned(root, V.key("Root01"), issuer=[(dn.RCAC_ID, 5)])
    raises(NotSelfSignedError, chain.validate_rcac, _crypto(), other)
    no_akid = _resigned(root, V.key("Root01"), extensions=_extensions(root, opcert.EXT_AUTHORITY_KEY_ID, bytes(20)))
    raises(NotSelfSignedError, chain.validate_rcac, _crypto(), no_akid)


def _fabric(fabric_id=0xFAB000000000001D, icac_fabric=None, cats=(), root_path_len=None):
    c = _crypto()
    root_pub = c.p256_public_key(V.key("Root01"))
    ica_pub = c.p256_public_key(V.key("ICA01"))
    node_pub = c.p256_public_key(V.key("Node01_01"))
    rcac = issue.make_rcac(c, V.key("Root01"), root_pub, 0x1111, fabric_id=fabric_id, path_len=root_path_len)
    icac = issue.make_icac(c, rcac, V.key("Root01"), ica_pub, 0x2222, fabric_id=icac_fabric)
    noc = issue.make_noc(c, icac, V.key("ICA01"), node_pub, 0x42, fabric_id=fabric_id, cats=cats)
    return rcac, icac, noc


def test_issued_fabric_validates_and_round_trips():
    rcac, icac, noc = _fabric(cats=[0x00010001, 0xFFFF0002])
    ident = chain.validate_chain(_crypto(), noc.encode(), icac.encode(), rcac.encode())
    assert (ident.node_id, ident.fabric_id, ident.cats) == (0x42, 0xFAB000000000001D, [0x00010001, 0xFFFF0002])
    assert ident.public_key == _crypto().p256_public_key(V.key("Node01_01"))
    assert ident.subject_key_id == _crypto().sha256(ident.public_key).digest()[:20]
    assert chain.validate_rcac(_crypto(), rcac.encode()).rcac_id == 0x1111
    assert icac.fabric_id == 0xFAB000000000001D  # inherited from the root
    for cert in (rcac, icac, noc):
        assert opcert.from_der(cert.to_der()).encode() == cert.encode()
        assert opcert.decode(cert.encode()).to_der() == cert.to_der()
        assert len(cert.serial) == 8 and 0x40 <= cert.serial[0] <= 0x7F
    parsed = x509.parse(noc.to_der())
    assert parsed.ext_key_usage is not None and parsed.is_ca is False
    # Signing is deterministic (RFC 6979): same fields and key, same certificate.
    again = _resigned(noc, V.key("ICA01"))
    assert again.encode() == noc.encode()


def test_issued_chain_without_icac():
    c = _crypto()
    rcac = issue.make_rcac(c, V.key("Root01"), c.p256_public_key(V.key("Root01")), 1)
    noc = issue.make_noc(c, rcac, V.key("Root01"), c.p256_public_key(V.key("Node01_01")), 5, fabric_id=9)
    assert rcac.fabric_id is None
    assert chain.validate_chain(c, noc, None, rcac).fabric_id == 9


def test_noc_on_another_fabric_is_refused():
    rcac, icac, noc = _fabric()
    other = _resigned(noc, V.key("ICA01"), subject=[(dn.NODE_ID, 0x42), (dn.FABRIC_ID, 2)])
    raises(FabricMismatchError, chain.validate_chain, _crypto(), other, icac, rcac)
    rcac2, icac2, noc2 = _fabric(icac_fabric=3)
    raises(FabricMismatchError, chain.validate_chain, _crypto(), noc2, icac2, rcac2)


def test_noc_marked_ca_and_wrong_usages_are_refused():
    rcac, icac, noc = _fabric()
    key = V.key("ICA01")
    ca = _resigned(noc, key, extensions=_extensions(noc, opcert.EXT_BASIC_CONSTRAINTS, (True, None)))
    raises(CertificateUsageError, chain.validate_chain, _crypto(), ca, icac, rcac)
    both = x509.KU_DIGITAL_SIGNATURE | x509.KU_KEY_CERT_SIGN
    signer = _resigned(noc, key, extensions=_extensions(noc, opcert.EXT_KEY_USAGE, both))
    raises(CertificateUsageError, chain.validate_chain, _crypto(), signer, icac, rcac)
    server = [opcert.KP_SERVER_AUTH]
    server_only = _resigned(noc, key, extensions=_extensions(noc, opcert.EXT_EXTENDED_KEY_USAGE, server))
    raises(CertificateUsageError, chain.validate_chain, _crypto(), server_only, icac, rcac)
    no_ku = _resigned(noc, key, extensions=[(k, v) for (k, v) in noc.extensions if k != opcert.EXT_KEY_USAGE])
    raises(CertificateFormatError, chain.validate_chain, _crypto(), no_ku, icac, rcac)
    leaf = _extensions(icac, opcert.EXT_BASIC_CONSTRAINTS, (False, None))
    leaf_ica = _resigned(icac, V.key("Root01"), extensions=leaf)
    raises(CertificateUsageError, chain.validate_chain, _crypto(), noc, leaf_ica, rcac)
    rcac0, icac0, noc0 = _fabric(root_path_len=0)
    raises(CertificateUsageError, chain.validate_chain, _crypto(), noc0, icac0, rcac0)


def test_node_identity_rules():
    rcac, icac, noc = _fabric()
    key = V.key("ICA01")
    fabric = (dn.FABRIC_ID, 0xFAB000000000001D)
    no_node = _resigned(noc, key, subject=[fabric, (dn.COMMON_NAME, "x")])
    raises(MissingAttributeError, chain.validate_chain, _crypto(), no_node, icac, rcac)
    no_fabric = _resigned(noc, key, subject=[(dn.NODE_ID, 0x42)])
    raises(MissingAttributeError, chain.validate_chain, _crypto(), no_fabric, icac, rcac)
    for node_id in (0, 0xFFFFFFF000000000, 0xFFFFFFFFFFFFFFFF):
        bad = _resigned(noc, key, subject=[(dn.NODE_ID, node_id), fabric])
        raises(InvalidAttributeError, chain.validate_chain, _crypto(), bad, icac, rcac)
    for cats in ([0x00010000], [0x00050001, 0x00050002]):  # version 0; one identifier twice
        subject = [(dn.NODE_ID, 0x42), fabric] + [(dn.NOC_CAT, cat) for cat in cats]
        bad = _resigned(noc, key, subject=subject)
        raises(CatError, chain.validate_chain, _crypto(), bad, icac, rcac)
        raises(CatError, issue.make_noc, _crypto(), icac, key, noc.public_key, 0x42, 1, cats=cats)
    four = [0x10001, 0x20001, 0x30001, 0x40001]
    raises(CatError, issue.make_noc, _crypto(), icac, key, noc.public_key, 0x42, 1, cats=four)
    subject = [(dn.NODE_ID, 0x42), fabric] + [(dn.NOC_CAT, cat) for cat in four]
    raises(CatError, _resigned, noc, key, subject=subject)
    # Node02_08 carries 3 CATs; with a fourth its TLV no longer decodes.
    published = V.tlv("Node02_08")
    end_of_subject = published.find(unhex("26160001ceab18")) + 6
    four_cats = published[:end_of_subject] + unhex("26160100ffab") + published[end_of_subject:]
    raises(CatError, opcert.decode, four_cats)
    raises(CatError, chain.validate_chain, _crypto(), four_cats, V.tlv("ICA02"), V.tlv("Root02"))
    raises(InvalidAttributeError, issue.make_noc, _crypto(), icac, key, noc.public_key, 0, 1)
    raises(MissingAttributeError, issue.make_noc, _crypto(), icac, key, noc.public_key, 1, None)


def test_validity_period():
    rcac, icac, noc = _fabric()
    c = _crypto()
    t = issue.DEFAULT_NOT_BEFORE  # the root and the ICAC start there
    short = _resigned(noc, V.key("ICA01"), not_before=t + 1000, not_after=t + 2000)
    assert chain.validate_chain(c, short, icac, rcac, now=t + 1500).node_id == 0x42
    raises(NotYetValidError, chain.validate_chain, c, short, icac, rcac, now=t + 999)
    raises(NotYetValidError, chain.validate_chain, c, noc, icac, rcac, now=t - 1)
    raises(ExpiredError, chain.validate_chain, c, short, icac, rcac, now=t + 2001)
    # With only a last known good time, a later notBefore is fine but an expiry is not.
    assert chain.validate_chain(c, short, icac, rcac, last_known_good=t - 10).node_id == 0x42
    raises(ExpiredError, chain.validate_chain, c, short, icac, rcac, last_known_good=t + 5000)
    # notAfter 0: no expiration.
    assert chain.validate_chain(c, noc, icac, rcac, now=0xFFFFFFFF).node_id == 0x42
    published = (V.tlv("Node01_01"), V.tlv("ICA01"), V.tlv("Root01"))
    raises(ExpiredError, chain.validate_chain, c, *published, now=0x4CB9B56F)


def test_malformed_inputs_raise_certificate_errors_only():
    good = V.tlv("Node01_01")
    for n in range(0, len(good), 7):
        try:
            chain.validate_chain(_crypto(), good[:n] + b"\x18", V.tlv("ICA01"), V.tlv("Root01"))
        except CertificateError:
            pass
