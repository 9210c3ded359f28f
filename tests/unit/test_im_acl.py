"""Access control: privilege grants, subject and target matching, CATs, PASE, validation, bounds."""

from support import raises
from micromatter.im.acl import (
    AccessControl, Entry, Subject, grants, VIEW, PROXY_VIEW, OPERATE, MANAGE, ADMINISTER, PASE, CASE, GROUP,
)
from micromatter.im.status import StatusError
from micromatter.im import status

NODE = 0x0000000000001122
CAT_OPERATORS_V2 = 0xFFFFFFFD00020002  # CAT id 2, version 2


def test_privilege_grants():
    assert grants(ADMINISTER, VIEW) and grants(ADMINISTER, PROXY_VIEW) and grants(ADMINISTER, MANAGE)
    assert grants(MANAGE, OPERATE) and grants(MANAGE, VIEW) and not grants(MANAGE, ADMINISTER)
    assert grants(OPERATE, VIEW) and not grants(OPERATE, MANAGE) and not grants(OPERATE, PROXY_VIEW)
    assert grants(PROXY_VIEW, VIEW) and not grants(PROXY_VIEW, OPERATE)
    assert grants(VIEW, VIEW) and not grants(VIEW, OPERATE) and not grants(VIEW, PROXY_VIEW)


def test_admin_entry_grants_everything_on_its_fabric_only():
    acl = AccessControl()
    acl.add_admin(1, NODE)
    assert acl.check(Subject(CASE, 1, NODE), 0, 0x1F, ADMINISTER)
    assert acl.check(Subject(CASE, 1, NODE), 1, 6, OPERATE)
    assert not acl.check(Subject(CASE, 2, NODE), 1, 6, VIEW)  # another fabric
    assert not acl.check(Subject(CASE, 1, NODE + 1), 1, 6, VIEW)  # another node
    assert not acl.check(Subject(GROUP, 1, NODE), 1, 6, VIEW)  # another auth mode
    assert not acl.check(Subject(CASE, 0, NODE), 1, 6, VIEW)  # no fabric


def test_pase_is_administer_only_as_commissioner():
    acl = AccessControl()
    assert acl.check(Subject(PASE, 0, 0, commissioner=True), 0, 0x30, ADMINISTER)
    assert not acl.check(Subject(PASE, 0, 0), 0, 0x30, VIEW)


def test_targets_and_privileges():
    acl = AccessControl()
    acl.add(Entry(1, OPERATE, CASE, (NODE,), ((6, 1, None),)))  # On/Off on endpoint 1
    acl.add(Entry(1, VIEW, CASE, (NODE,), ((None, None, 0x0100),)))  # anything on an On/Off Light
    s = Subject(CASE, 1, NODE)
    assert acl.check(s, 1, 6, OPERATE)
    assert not acl.check(s, 1, 6, MANAGE)
    assert not acl.check(s, 2, 6, OPERATE)
    assert not acl.check(s, 1, 3, OPERATE)
    assert acl.check(s, 1, 3, VIEW, (0x0100,))
    assert not acl.check(s, 0, 0x28, VIEW, (0x0016,))


def test_empty_subjects_match_every_subject_of_the_auth_mode():
    acl = AccessControl()
    acl.add(Entry(1, VIEW, CASE))
    assert acl.check(Subject(CASE, 1, 0x42), 0, 0x28, VIEW)
    assert not acl.check(Subject(CASE, 1, 0x42), 0, 0x28, OPERATE)


def test_cat_subjects_match_by_id_and_version():
    acl = AccessControl()
    acl.add(Entry(1, OPERATE, CASE, (CAT_OPERATORS_V2,)))
    assert acl.check(Subject(CASE, 1, 0x77, cats=(0x00020002,)), 1, 6, OPERATE)
    assert acl.check(Subject(CASE, 1, 0x77, cats=(0x00010001, 0x00020005)), 1, 6, OPERATE)  # newer version
    assert not acl.check(Subject(CASE, 1, 0x77, cats=(0x00020001,)), 1, 6, OPERATE)  # older version
    assert not acl.check(Subject(CASE, 1, 0x77, cats=(0x00030002,)), 1, 6, OPERATE)  # other id
    assert not acl.check(Subject(CASE, 1, 0x77), 1, 6, OPERATE)


def test_group_entries():
    acl = AccessControl()
    acl.add(Entry(1, OPERATE, GROUP, (0x0101,)))
    assert acl.check(Subject(GROUP, 1, 0x0101), 1, 6, OPERATE)
    assert not acl.check(Subject(GROUP, 1, 0x0102), 1, 6, OPERATE)


def _rejected(acl, entry, code=status.CONSTRAINT_ERROR):
    e = raises(StatusError, acl.add, entry)
    assert e.status == code, hex(e.status)


def test_validation_rejects_malformed_entries():
    acl = AccessControl()
    _rejected(acl, Entry(0, VIEW, CASE))  # no fabric
    _rejected(acl, Entry(1, VIEW, PASE))  # PASE grants are never stored
    _rejected(acl, Entry(1, 0, CASE))
    _rejected(acl, Entry(1, 6, CASE))
    _rejected(acl, Entry(1, ADMINISTER, GROUP, (1,)))  # groups cannot administer
    _rejected(acl, Entry(1, VIEW, CASE, (0,)))  # node id 0
    _rejected(acl, Entry(1, VIEW, CASE, (0xFFFFFFFB00000001,)))  # a PAKE key id is no CASE subject
    _rejected(acl, Entry(1, VIEW, CASE, (0xFFFFFFFD00020000,)))  # CAT version 0
    _rejected(acl, Entry(1, VIEW, GROUP, (0,)))
    _rejected(acl, Entry(1, VIEW, GROUP, (0x10000,)))
    _rejected(acl, Entry(1, VIEW, CASE, (), ((None, None, None),)))  # empty target
    _rejected(acl, Entry(1, VIEW, CASE, (), ((6, 1, 0x100),)))  # endpoint and device type together
    _rejected(acl, Entry(1, VIEW, CASE, (), ((0x8000, None, None),)))  # not a cluster id
    _rejected(acl, Entry(1, VIEW, CASE, (), ((None, 0xFFFF, None),)))  # not an endpoint
    _rejected(acl, Entry(1, VIEW, CASE, (1, 2, 3, 4, 5)), status.RESOURCE_EXHAUSTED)
    assert acl.entries() == []


def test_per_fabric_bound_and_atomic_replace():
    acl = AccessControl(entries_per_fabric=2)
    changes = []
    acl.listeners.append(changes.append)
    acl.add(Entry(1, VIEW, CASE))
    acl.add(Entry(1, OPERATE, CASE))
    _rejected(acl, Entry(1, MANAGE, CASE), status.RESOURCE_EXHAUSTED)
    acl.add(Entry(2, VIEW, CASE))  # another fabric has its own room
    before = acl.entries()
    e = raises(StatusError, acl.replace_fabric, 1, [Entry(1, VIEW, CASE), Entry(1, 9, CASE)])
    assert e.status == status.CONSTRAINT_ERROR
    assert acl.entries() == before  # nothing changed
    acl.replace_fabric(1, [Entry(1, MANAGE, CASE, (NODE,))])
    assert acl.entries(1) == [Entry(1, MANAGE, CASE, (NODE,))]
    assert acl.entries(2) == [Entry(2, VIEW, CASE)]
    acl.remove_fabric(2)
    assert acl.entries(2) == []
    assert changes == [1, 1, 2, 1, 2]


def test_fabric_bound():
    acl = AccessControl(max_fabrics=2)
    acl.add(Entry(1, VIEW, CASE))
    acl.add(Entry(2, VIEW, CASE))
    _rejected(acl, Entry(3, VIEW, CASE), status.RESOURCE_EXHAUSTED)
