"""Operational Credentials through the Node: every refusal a commissioner can meet, with its status, and what
each leaves behind (nothing); UpdateNOC, labels, attestation bound to its session."""

from micromatter import tlv
from micromatter.certs import dn, issue, opcert
from micromatter.clusters import operational_credentials as oc
from micromatter.errors import InvalidSignatureError
from micromatter.im import messages as msg
from micromatter.im import status
from micromatter.node import Node
from casekit import Authority
from commissioner import PASSCODE, Commissioner, CommissioningError, Wire, device, device_config
from support import port, raises

OPCREDS = 0x003E
GENERAL = 0x0030


def setup(**kwargs):
    w = Wire()
    dev = device(w, **kwargs)
    ctl = Commissioner()
    w.add(ctl)
    return w, dev, ctl


def command_status(r):
    assert isinstance(r, msg.CommandStatus), r
    return r.status, r.cluster_status


def noc_for(ctl, node_id, public_key, authority=None):
    """A NOC TLV for ``public_key`` (and the ICAC field) from ``authority`` (the controller's by default)."""
    a = authority or ctl.authority
    fields = {0: a.noc(node_id, public_key=public_key)[0]}
    if a.icac is not None:
        fields[1] = a.icac.encode()
    return fields


def node_id_outside_range(ctl, public_key):
    """A NOC whose node id is not an operational one (the issuing helpers refuse to make it)."""
    a = ctl.authority
    c = opcert.decode(a.noc(0x77, public_key=public_key)[0])
    subject = [(t, 0xFFFFFFFF00000001 if t == dn.NODE_ID else v) for t, v in c.subject]
    cert = opcert.MatterCertificate(c.serial, c.issuer, c.not_before, c.not_after, subject, c.public_key,
                                    c.extensions)
    return issue.sign(port().crypto, cert, a.signer_key).encode()


def add_noc(w, ctl, session, fields, subject=0x1122, vendor=0xFFF1, ipk=None):
    f = dict(fields)
    f[2] = ipk or ctl.authority.epoch_key
    f[3] = subject
    f[4] = vendor
    return ctl.invoke(w, session, 0, OPCREDS, 6, f)


def csr(w, ctl, session, for_update=None):
    fields = {0: b"\x11" * 32}
    if for_update is not None:
        fields[1] = for_update
    r = ctl.invoke(w, session, 0, OPCREDS, 4, fields)
    return opcert_key(r)


def opcert_key(r):
    from micromatter.certs import csr as csr_codec

    return csr_codec.verify(port().crypto, tlv.decode(r[0])[1]).public_key


def nothing_left(dev):
    assert len(dev.fabrics) == 0 and dev.light.acl.entries() == [] and dev.light.group_keys.ipk(1) is None


def test_add_noc_refusals_in_the_order_a_commissioner_meets_them():
    w, dev, ctl = setup()
    pase = ctl.pase(w, "dev", PASSCODE)
    assert dev.light.failsafe.armed  # PASE arms the fail-safe (60 s), as the SDK does
    fields = noc_for(ctl, 0x77, ctl.fabric.credentials.public_key)
    assert add_noc(w, ctl, pase, fields)[0] == oc.MISSING_CSR
    key = csr(w, ctl, pase)
    assert add_noc(w, ctl, pase, noc_for(ctl, 0x77, key))[0] == oc.INVALID_NOC  # no trusted root yet
    assert command_status(add_noc(w, ctl, pase, fields, vendor=0)) == (status.INVALID_COMMAND, None)
    # Roots: garbage and non-root certificates are refused; a second root in one fail-safe too.
    r = ctl.invoke(w, pase, 0, OPCREDS, 0x0B, {0: b"\x15\x18"})
    assert command_status(r) == (status.INVALID_COMMAND, None)
    r = ctl.invoke(w, pase, 0, OPCREDS, 0x0B, {0: ctl.authority.icac.encode()})
    assert command_status(r) == (status.INVALID_COMMAND, None)
    r = ctl.invoke(w, pase, 0, OPCREDS, 0x0B, {0: ctl.authority.rcac.encode()})
    assert command_status(r) == (status.SUCCESS, None)
    assert ctl.read(w, pase, [(0, OPCREDS, 4)])[(0, OPCREDS, 4)] == [ctl.authority.rcac.encode()]
    r = ctl.invoke(w, pase, 0, OPCREDS, 0x0B, {0: ctl.authority.rcac.encode()})
    assert command_status(r) == (status.CONSTRAINT_ERROR, None)
    # The NOC itself.
    assert add_noc(w, ctl, pase, noc_for(ctl, 0x77, key), subject=0)[0] == oc.INVALID_ADMIN_SUBJECT
    assert add_noc(w, ctl, pase, noc_for(ctl, 0x77, key), subject=0xFFFFFFFD00010000)[0] == oc.INVALID_ADMIN_SUBJECT
    assert add_noc(w, ctl, pase, fields)[0] == oc.INVALID_PUBLIC_KEY  # a NOC for another key
    assert add_noc(w, ctl, pase, {0: node_id_outside_range(ctl, key), 1: ctl.authority.icac.encode()})[0] == \
        oc.INVALID_NODE_OP_ID
    stranger = Authority(0xFAB1)  # same fabric id, another root
    assert add_noc(w, ctl, pase, noc_for(ctl, 0x77, key, stranger))[0] == oc.INVALID_NOC
    assert add_noc(w, ctl, pase, {0: b"not a certificate"})[0] == oc.INVALID_NOC
    assert add_noc(w, ctl, pase, {0: noc_for(ctl, 0x77, key)[0]})[0] == oc.INVALID_NOC  # ICAC left out
    nothing_left(dev)
    # Then it goes in, once.
    r = add_noc(w, ctl, pase, noc_for(ctl, 0x77, key))
    assert r[0] == oc.OK and r[1] == 1 and len(dev.fabrics) == 1
    assert command_status(add_noc(w, ctl, pase, noc_for(ctl, 0x77, key))) == (status.CONSTRAINT_ERROR, None)
    assert command_status(ctl.invoke(w, pase, 0, OPCREDS, 4, {0: b"\x22" * 32})) == (status.CONSTRAINT_ERROR, None)
    # Over PASE the accessing fabric is now the new one.
    assert ctl.read(w, pase, [(0, OPCREDS, 5)])[(0, OPCREDS, 5)] == 1
    # CommissioningComplete must come over CASE.
    r = ctl.invoke(w, pase, 0, GENERAL, 4)
    assert r[0] == 2 and dev.fabrics.is_pending(1)  # InvalidAuthentication


def test_the_last_csr_decides_the_key():
    w, dev, ctl = setup()
    pase = ctl.pase(w, "dev", PASSCODE)
    first = csr(w, ctl, pase)
    second = csr(w, ctl, pase)
    assert first != second
    ctl.invoke(w, pase, 0, OPCREDS, 0x0B, {0: ctl.authority.rcac.encode()})
    assert add_noc(w, ctl, pase, noc_for(ctl, 0x77, first))[0] == oc.INVALID_PUBLIC_KEY
    assert add_noc(w, ctl, pase, noc_for(ctl, 0x77, second))[0] == oc.OK


def test_attestation_is_signed_over_the_session_challenge():
    w, dev, ctl = setup()
    pase = ctl.pase(w, "dev", PASSCODE)
    nonce = bytes(range(32))
    r = ctl.invoke(w, pase, 0, OPCREDS, 0, {0: nonce})
    elements = tlv.decode(r[0])
    assert elements == {1: dev.credentials.material.cd, 2: nonce, 3: 0}
    public = dev.credentials.material.dac_public_key
    port().crypto.ecdsa_verify(public, r[0] + pase.attestation_challenge, r[1])
    raises(InvalidSignatureError, port().crypto.ecdsa_verify, public, r[0] + bytes(16), r[1])
    # A malformed nonce or an unknown certificate type is INVALID_COMMAND (spec 11.18.6, as connectedhomeip).
    for fields in ({0: nonce[:31]}, {0: nonce + b"\x00"}, {0: b""}):
        assert command_status(ctl.invoke(w, pase, 0, OPCREDS, 0, fields)) == (status.INVALID_COMMAND, None)
        assert command_status(ctl.invoke(w, pase, 0, OPCREDS, 4, fields)) == (status.INVALID_COMMAND, None)
    for kind in (0, 3, 255):
        assert command_status(ctl.invoke(w, pase, 0, OPCREDS, 2, {0: kind})) == (status.INVALID_COMMAND, None)
    assert dev.credentials.pending.key is None  # no CSR was made for a bad nonce
    assert ctl.invoke(w, pase, 0, OPCREDS, 2, {0: 1})[0] == dev.credentials.material.dac
    r = ctl.invoke(w, pase, 0, OPCREDS, 4, {0: nonce, 1: True})  # for UpdateNOC: needs a fabric
    assert command_status(r) == (status.INVALID_COMMAND, None)


def test_commands_over_case_need_a_failsafe_armed_by_that_fabric():
    w, dev, ctl = setup()
    r = ctl.commission(w, "dev", PASSCODE, 0x77)
    case = r.case
    for command, fields in ((0x0B, {0: ctl.authority.rcac.encode()}), (4, {0: b"\x33" * 32})):
        assert command_status(ctl.invoke(w, case, 0, OPCREDS, command, fields)) == (status.FAILSAFE_REQUIRED, None)
    assert command_status(add_noc(w, ctl, case, noc_for(ctl, 0x78, r.operational_key))) == \
        (status.FAILSAFE_REQUIRED, None)
    assert command_status(ctl.invoke(w, case, 0, OPCREDS, 7, noc_for(ctl, 0x78, r.operational_key))) == \
        (status.FAILSAFE_REQUIRED, None)
    # UpdateNOC over PASE: a fabric command without a fabric.
    assert ctl.invoke(w, case, 0, GENERAL, 0, {0: 60, 1: 0})[0] == 0
    r2 = ctl.invoke(w, case, 0, OPCREDS, 4, {0: b"\x44" * 32})  # a CSR for AddNOC...
    key = opcert_key(r2)
    r3 = ctl.invoke(w, case, 0, OPCREDS, 7, noc_for(ctl, 0x78, key))  # ... is not one for UpdateNOC
    assert command_status(r3) == (status.CONSTRAINT_ERROR, None)
    assert dev.fabrics.find(1).node_id == 0x77


def test_update_noc_commits_or_reverts_with_the_failsafe():
    w, dev, ctl = setup()
    r = ctl.commission(w, "dev", PASSCODE, 0x77)
    case = r.case
    old = dev.fabrics.find(1)
    # Reverted: the fail-safe expires.
    assert ctl.invoke(w, case, 0, GENERAL, 0, {0: 30, 1: 0})[0] == 0
    key = csr(w, ctl, case, True)
    assert command_status(add_noc(w, ctl, case, noc_for(ctl, 0x90, key))) == (status.CONSTRAINT_ERROR, None)
    assert ctl.invoke(w, case, 0, OPCREDS, 7, noc_for(ctl, 0x90, b"\x04" + bytes(64)))[0] == oc.INVALID_PUBLIC_KEY
    other = Authority(0xFAB1)
    assert ctl.invoke(w, case, 0, OPCREDS, 7, noc_for(ctl, 0x90, key, other))[0] == oc.INVALID_NOC
    u = ctl.invoke(w, case, 0, OPCREDS, 7, noc_for(ctl, 0x90, key))
    assert u[0] == oc.OK and u[1] == 1 and dev.fabrics.find(1).node_id == 0x90
    w.run_for(100)
    assert dev.sessions.sessions() == []  # the CASE session went once the NOCResponse was delivered
    session = ctl.case(w, "dev", 0x90, resume=False)
    w.run_for(31000)
    assert dev.fabrics.find(1) is old and dev.fabrics.find(1).node_id == 0x77
    assert not [s for s in dev.sessions.sessions() if s.fabric_index == 1]
    assert not session.is_live() or raises(CommissioningError, ctl.read, w, session, [(0, OPCREDS, 5)])
    # Committed: UpdateNOC then CommissioningComplete.
    case = ctl.case(w, "dev", 0x77, resume=False)
    assert ctl.invoke(w, case, 0, GENERAL, 0, {0: 60, 1: 0})[0] == 0
    key = csr(w, ctl, case, True)
    assert ctl.invoke(w, case, 0, OPCREDS, 7, noc_for(ctl, 0x91, key))[0] == oc.OK
    w.run_for(100)
    case = ctl.case(w, "dev", 0x91, resume=False)
    assert ctl.invoke(w, case, 0, GENERAL, 4)[0] == 0
    assert not dev.fabrics.has_pending() and dev.fabrics.find(1).node_id == 0x91
    again = Node(dev.port, dev.storage, device_config())
    again.start(w.now)
    assert again.fabrics.find(1).node_id == 0x91 and again.fabrics.find(1).credentials.public_key == key


def test_labels_conflicts_and_invalid_fabric_index():
    w, dev, a = setup()
    ra = a.commission(w, "dev", PASSCODE, 0x77)
    a.open_window(w, ra.case, 11223344, 0x123)
    b = Commissioner("ctl2", seed=9, fabric_id=0xB0B, node_id=0x2233)
    w.add(b)
    rb = b.commission(w, "dev", 11223344, 0x99)
    assert a.invoke(w, ra.case, 0, OPCREDS, 9, {0: "kitchen"})[0] == oc.OK
    r = b.invoke(w, rb.case, 0, OPCREDS, 9, {0: "kitchen"})
    assert r[0] == oc.LABEL_CONFLICT and 1 not in r
    assert b.invoke(w, rb.case, 0, OPCREDS, 9, {0: ""})[0] == oc.OK  # empty labels never conflict
    assert command_status(b.invoke(w, rb.case, 0, OPCREDS, 9, {0: "x" * 33})) == (status.CONSTRAINT_ERROR, None)
    v = a.read(w, ra.case, [(0, OPCREDS, 1)])[(0, OPCREDS, 1)]
    assert [(f[254], f[5]) for f in v] == [(1, "kitchen")]
    assert b.invoke(w, rb.case, 0, OPCREDS, 0x0A, {0: 7})[0] == oc.INVALID_FABRIC_INDEX
    assert command_status(b.invoke(w, rb.case, 0, OPCREDS, 0x0A, {0: 0})) == (status.CONSTRAINT_ERROR, None)
    again = Node(dev.port, dev.storage, device_config())
    again.start(w.now)
    assert again.fabrics.find(1).label == "kitchen" and len(again.fabrics) == 2


def test_table_full_and_fabric_conflict():
    w, dev, a = setup(max_fabrics=1)
    ra = a.commission(w, "dev", PASSCODE, 0x77)
    a.open_window(w, ra.case, 11223344, 0x123)
    b = Commissioner("ctl2", seed=9, fabric_id=0xB0B)
    w.add(b)
    e = raises(CommissioningError, b.commission, w, "dev", 11223344, 0x99)
    assert e.step == "noc" and e.detail[0] == oc.TABLE_FULL
    assert len(dev.fabrics) == 1 and dev.light.acl.fabrics() == [1]
    w, dev, a = setup()
    ra = a.commission(w, "dev", PASSCODE, 0x77)
    a.open_window(w, ra.case, 11223344, 0x123)
    twin = Commissioner("ctl2", seed=9, authority=a.authority, node_id=0x3344)  # same root, same fabric id
    w.add(twin)
    e = raises(CommissioningError, twin.commission, w, "dev", 11223344, 0x99)
    assert e.step == "noc" and e.detail[0] == oc.FABRIC_CONFLICT
    assert len(dev.fabrics) == 1


def test_a_fabric_added_but_never_committed_leaves_no_acl_after_a_reboot():
    w, dev, ctl = setup()
    ctl.commission(w, "dev", PASSCODE, 0x77, steps="noc")
    assert dev.light.acl.fabrics() == [1] and dev.storage.context("dm").get("acl1") is not None
    again = Node(dev.port, dev.storage, device_config())  # power cut before CommissioningComplete
    again.start(w.now)
    assert len(again.fabrics) == 0 and again.light.acl.entries() == [] and again.light.group_keys.ipk(1) is None
    assert again.storage.context("dm").get("acl1") is None and again.window.kind_name == "initial"


def test_an_empty_icac_field_means_a_chain_without_icac():
    # matter.js commissions with ICACValue = b"" when its root signs NOCs directly; an empty field is no ICAC
    w = Wire()
    dev = device(w)
    ctl = Commissioner(authority=Authority(icac=False))
    w.add(ctl)
    pase = ctl.pase(w, "dev", PASSCODE)
    ctl.invoke(w, pase, 0, GENERAL, 0, {0: 60, 1: 1})
    key = csr(w, ctl, pase)
    ctl.invoke(w, pase, 0, OPCREDS, 0x0B, {0: ctl.authority.rcac.encode()})
    fields = noc_for(ctl, 0x77, key)
    assert 1 not in fields
    fields[1] = b""
    r = add_noc(w, ctl, pase, fields)
    assert r[0] == oc.OK and r[1] == 1
    assert dev.fabrics.find(1).credentials.icac is None
    case = ctl.case(w, "dev", 0x77)  # the chain works without an ICAC
    nocs = ctl.read(w, case, [(0, OPCREDS, 0)])[(0, OPCREDS, 0)]
    assert len(nocs) == 1 and nocs[0][2] is None


def test_more_fabrics_than_the_default_acl_table():
    w, dev, a = setup(max_fabrics=6)
    ra = a.commission(w, "dev", PASSCODE, 0x70)
    for k in range(5):
        assert a.open_window(w, ra.case, 11223344, 0x123).status == status.SUCCESS
        c = Commissioner("ctl%d" % k, seed=30 + k, fabric_id=0xC00 + k, node_id=0x3000 + k)
        w.add(c)
        c.commission(w, "dev", 11223344, 0x71 + k)
    assert len(dev.fabrics) == 6 and sorted(dev.light.acl.fabrics()) == [1, 2, 3, 4, 5, 6]
    assert a.read(w, ra.case, [(0, OPCREDS, 2)])[(0, OPCREDS, 2)] == 6  # SupportedFabrics
    assert a.open_window(w, ra.case, 11223344, 0x123).status == status.SUCCESS
    late = Commissioner("late", seed=40, fabric_id=0xD00)
    w.add(late)
    e = raises(CommissioningError, late.commission, w, "dev", 11223344, 0x99)
    assert e.step == "noc" and e.detail[0] == oc.TABLE_FULL


def test_a_label_that_cannot_be_stored_is_a_failure():
    from micromatter.errors import StorageError
    from micromatter.storage import MemoryStorage

    class Flaky(MemoryStorage):
        broken = False

        def _set(self, key, data):
            if Flaky.broken and key.startswith("f"):
                raise StorageError("flash full")
            MemoryStorage._set(self, key, data)

        def _context(self, path):
            return Flaky(self.data, path)

    flash = Flaky()
    w, dev, ctl = setup(storage=flash)
    r = ctl.commission(w, "dev", PASSCODE, 0x77)
    Flaky.broken = True
    assert command_status(ctl.invoke(w, r.case, 0, OPCREDS, 9, {0: "attic"})) == (status.FAILURE, None)
    Flaky.broken = False
    assert ctl.invoke(w, r.case, 0, OPCREDS, 9, {0: "attic"})[0] == oc.OK
    again = Node(dev.port, flash, device_config())
    again.start(w.now)
    assert again.fabrics.find(1).label == "attic"
