"""General Commissioning: the fail-safe timer, rollback on expiry or disarm, CommissioningComplete."""

from test_im_helpers import setup, admin, commissioner, FABRIC
from test_im_invoke import invoke, code
from micromatter.im import messages as msg
from micromatter.im import status
from micromatter.im.acl import Entry, CASE, VIEW
from micromatter.clusters.failsafe import FailSafe
from micromatter.clusters import general_commissioning as gcm


def arm(engine, seconds, breadcrumb=0, subject=None, now=0):
    r = invoke(engine, 0, 0x30, 0, {0: seconds, 1: breadcrumb}, subject=subject, now=now)
    assert isinstance(r, msg.CommandData), r
    return r.value()[0]


def complete(engine, subject=None, now=0):
    return invoke(engine, 0, 0x30, 4, {}, subject=subject, now=now).value()[0]


def test_fail_safe_expiry_rolls_back():
    light, engine = setup()
    assert arm(engine, 60, 7, commissioner(), now=1000) == gcm.OK
    fs = light.failsafe
    assert fs.armed and light.general_commissioning.breadcrumb == 7
    undone = []
    fs.on_rollback(lambda: undone.append("noc"))
    # What the commissioning code does under the fail-safe: an ACL entry, undone on expiry.
    light.acl.add(Entry(2, VIEW, CASE))
    fs.on_rollback(lambda: light.acl.remove_fabric(2))
    fs.on_rollback(lambda: undone.append("network"))
    assert engine.next_deadline() == 61000
    engine.poll(60999)
    assert fs.armed
    engine.poll(61000)
    assert not fs.armed and undone == ["network", "noc"]  # newest first
    assert light.acl.entries(2) == [] and light.general_commissioning.breadcrumb == 0


def test_regulatory_config_is_rolled_back_too():
    light, engine = setup()
    arm(engine, 60)
    r = invoke(engine, 0, 0x30, 2, {0: gcm.OUTDOOR, 1: "DE", 2: 9})
    assert r.value() == {0: gcm.OK, 1: ""}
    assert light.general_commissioning.regulatory_config == gcm.OUTDOOR
    assert light.general_commissioning.country_code == "DE"
    assert arm(engine, 0) == gcm.OK  # ArmFailSafe(0) expires it now
    assert light.general_commissioning.regulatory_config == gcm.INDOOR_OUTDOOR
    assert light.general_commissioning.country_code == "XX"


def test_commissioning_complete_commits():
    light, engine = setup()
    undone = []
    done = []
    light.general_commissioning.on_commissioning_complete = done.append
    assert complete(engine) == gcm.NO_FAIL_SAFE
    arm(engine, 60, 3, commissioner())
    light.failsafe.on_rollback(lambda: undone.append(1))
    assert invoke(engine, 0, 0x30, 4, {}, subject=commissioner()).status == status.UNSUPPORTED_ACCESS  # no fabric
    pase = commissioner()
    pase.fabric_index = FABRIC  # a PASE session after AddNOC is bound to the new fabric
    assert complete(engine, pase) == gcm.INVALID_AUTHENTICATION  # but CommissioningComplete needs CASE
    light.failsafe.fabric_index = FABRIC  # what AddNOC does
    assert complete(engine) == gcm.OK
    assert not light.failsafe.armed and done == [FABRIC]
    engine.poll(10 ** 6)
    assert undone == [] and light.general_commissioning.breadcrumb == 0


def test_fail_safe_belongs_to_one_fabric():
    light, engine = setup()
    light.acl.add_admin(2, 0x2222)
    other = admin()
    other.fabric_index = 2
    other.node_id = 0x2222
    assert arm(engine, 60) == gcm.OK
    assert arm(engine, 60, subject=other) == gcm.BUSY_WITH_OTHER_ADMIN
    assert complete(engine, other) == gcm.INVALID_AUTHENTICATION
    assert light.failsafe.armed


def test_cumulative_limit():
    fs = FailSafe(max_cumulative_s=100)
    fs.arm(0, 60, 1)
    fs.arm(50000, 60, 1)
    assert fs.deadline_ms == 100000  # capped by the cumulative limit
    fs.poll(100000)
    assert not fs.armed
    assert fs.on_rollback(lambda: None) is False  # nothing to roll back when not armed


def test_a_failing_rollback_does_not_stop_the_others():
    fs = FailSafe()
    seen = []
    fs.arm(0, 1, 0)

    def bad():
        raise ValueError("boom")

    fs.on_rollback(lambda: seen.append(1))
    fs.on_rollback(bad)
    fs.expire()
    assert seen == [1] and not fs.armed


def test_set_regulatory_config_checks():
    light, engine = setup()
    gc = light.general_commissioning
    gc.location_capability = gc.regulatory_config = gcm.INDOOR
    r = invoke(engine, 0, 0x30, 2, {0: gcm.OUTDOOR, 1: "US", 2: 0})
    assert r.value()[0] == gcm.VALUE_OUTSIDE_RANGE
    assert code(invoke(engine, 0, 0x30, 2, {0: 0, 1: "USA", 2: 0})) == status.CONSTRAINT_ERROR
    assert code(invoke(engine, 0, 0x30, 2, {0: 3, 1: "US", 2: 0})) == status.CONSTRAINT_ERROR
    assert gc.regulatory_config == gcm.INDOOR


def test_breadcrumb_write_needs_administer():
    light, engine = setup()
    from test_im_write import write, data

    light.acl.add(Entry(FABRIC, 4, CASE, (0x99,)))
    from test_im_helpers import stranger

    assert write(engine, [data(0, 0x30, 0, 5)], stranger()) == [status.UNSUPPORTED_ACCESS]
    assert write(engine, [data(0, 0x30, 0, 5)]) == [status.SUCCESS]
    assert light.general_commissioning.breadcrumb == 5


def test_no_fail_safe_over_case_while_a_commissioning_window_is_open():
    light, engine = setup()
    light.admin_commissioning._set(1, FABRIC, 0xFFF1)
    assert arm(engine, 60) == gcm.BUSY_WITH_OTHER_ADMIN
    assert not light.failsafe.armed
    assert arm(engine, 60, subject=commissioner()) == gcm.OK  # the new commissioner, over PASE
    light.admin_commissioning.window_closed()
