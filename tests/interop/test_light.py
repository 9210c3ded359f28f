"""micromatter's light against real controllers: the CHIP (connectedhomeip) Python controller and matter.js.

One scenario in six steps on one device (module scope); each step asserts on what a controller reports, never
on the device's own log. A failed step stops the later ones (they need its state). The device command is a
parameter: ``--interop-device reference`` runs the same scenario against the matter.js reference light, which
is how the harness itself is checked.

1. CHIP commissions (PASE, attestation against the test PAAs, CSR, NOC, CASE, CommissioningComplete), reads
   Basic Information (its UniqueID must then stay the same through every restart), toggles On/Off and reads it
   back, subscribes to On/Off and receives the reports.
2. The device is killed (SIGKILL) and restarted on the same storage; the controller process that kept running
   (session-loop --expire) resumes its CASE session (Sigma2_Resume), no full CASE.
3. A new controller process does a full CASE and reads.
4. CHIP opens a commissioning window; matter.js commissions as a second fabric; both read and toggle (and
   CHIP's subscription sees matter.js's toggle); matter.js in a new process resumes, and resumes again after
   another SIGKILL restart of the device; the first admin removes its own fabric (RemoveFabric) and matter.js
   keeps working.
5. In a window opened by matter.js a wrong passcode is refused; the right one then commissions CHIP again, and
   the device keeps serving both controllers.
6. The device is stopped cleanly (SIGTERM) and started again while both controllers keep their sessions (no
   ExpireSessions): it closed them (CloseSession), so each controller's next read succeeds at its first attempt
   on a resumed session (the reference device does not close its sessions, and is skipped).
"""

import os

import pytest

import interop_harness as harness

pytestmark = pytest.mark.interop_device("micromatter")

SCENARIO = True     # conftest: a failed step stops the later steps of the same device
FAILED_STEP = {}

TEST_VENDOR = 0xFFF1
TEST_PRODUCTS = range(0x8000, 0x8020)
BASIC_INFO = ("VendorName", "ProductName", "VendorID", "ProductID", "UniqueID")
COMMISSIONING_STEPS = ("SendPAICertificateRequest", "SendDACCertificateRequest", "SendAttestationRequest",
                       "AttestationVerification", "SendOpCertSigningRequest", "ValidateCSR", "SendTrustedRootCert",
                       "SendNOC", "SendComplete")


class Rig:
    """The namespace pair, the device under test and the two controllers, shared by the steps."""

    def __init__(self, netns, device, chip, mjs):
        self.netns = netns
        self.device = device
        self.chip = chip
        self.mjs = mjs
        self.state = {}

    def commission_chip(self, passcode, nodeid):
        return self.chip.run("commission", ip=self.netns.dev_ip4, port=self.device.port, passcode=passcode,
                             nodeid=nodeid)


@pytest.fixture(scope="module")
def rig(device_spec, interop_ready, tmp_path_factory):
    reason = device_spec.unavailable_reason()
    if reason:
        pytest.skip(reason)
    rundir = str(tmp_path_factory.mktemp("light-" + device_spec.name))
    netns = harness.NetnsPair().up()
    device = None
    try:
        device = harness.Device(netns, device_spec, rundir)
        device.start(timeout=90)
        yield Rig(netns, device, harness.ChipController(netns, os.path.join(rundir, "chip")),
                  harness.MjsController(netns, os.path.join(rundir, "mjs")))
    finally:
        if device is not None:
            device.stop()
        assert netns.down(), "namespaces %s not deleted: %s" % (netns.prefix, netns.down_output)


@pytest.fixture(autouse=True)
def earlier_steps_passed(request, device_spec):
    failed = FAILED_STEP.get(request.node.callspec.id)
    if failed:
        pytest.skip("an earlier step failed: " + failed)


def identity(value):
    return {k: value[k] for k in BASIC_INFO}


def check_identity(value):
    assert isinstance(value["VendorName"], str) and value["VendorName"], value
    assert isinstance(value["ProductName"], str) and value["ProductName"], value
    assert value["VendorID"] == TEST_VENDOR, value
    assert value["ProductID"] in TEST_PRODUCTS, value
    assert isinstance(value["UniqueID"], str) and 0 < len(value["UniqueID"]) <= 32, value  # kept across restarts


def test_1_chip_commissions_reads_toggles_subscribes(rig):
    online = rig.device.online
    assert online["commissioned"] is False
    passcode = rig.device.passcode

    c = rig.commission_chip(passcode, nodeid=1)
    assert c.ok, c.explain()
    assert c["pase"] is True and c["attestation_ok"] is True and c["case"] == "new", c.explain()
    steps = c["commissioning_steps"]
    for step in COMMISSIONING_STEPS:
        assert step in steps, (step, steps)
    assert steps.index("AttestationVerification") < steps.index("SendNOC") < steps.index("SendComplete")
    assert c["fabrics"] == 1
    rig.state["chip_fabric_index"] = c["fabric_index"]

    r = rig.chip.run("read", nodeid=1)
    assert r.ok, r.explain()
    value = r["value"]
    check_identity(value)
    assert value["CommissionedFabrics"] == 1 and isinstance(value["OnOff"], bool), value
    rig.state["identity"] = identity(value)

    t = rig.chip.run("toggle", nodeid=1)
    assert t.ok, t.explain()
    assert t["before"] == value["OnOff"] and t["after"] is (not t["before"]), t.explain()
    r = rig.chip.run("read", nodeid=1)
    assert r.ok and r["value"]["OnOff"] == t["after"], r.explain()

    s = rig.chip.run("subscribe", nodeid=1, changes=2)
    assert s.ok, s.explain()
    assert s["priming"] == t["after"], s.explain()
    assert [x["value"] for x in s["reports"]] == [not t["after"], t["after"]], s.explain()


def test_2_device_killed_and_restarted_resumes_the_session(rig):
    run = rig.chip.read_across_restart(rig.device, expire=True, node=1)
    assert run.ok, run.explain()
    second = run.where(op="read", read_no=2)
    assert [r["ok"] for r in second] == [True], run.explain()         # the first attempt after the restart
    assert second[0]["case"] == "resumed", run.explain()             # Sigma2_Resume, not a full CASE
    assert identity(second[0]["value"]) == rig.state["identity"]


def test_3_new_controller_process_does_a_full_case(rig):
    r = rig.chip.run("read", nodeid=1)
    assert r.ok, r.explain()
    assert r["case"] == "new" and r["pase"] is False, r.explain()
    assert identity(r["value"]) == rig.state["identity"]


def test_4_matter_js_as_second_admin_then_first_admin_leaves(rig):
    w = rig.chip.run("open-window", nodeid=1)
    assert w.ok and isinstance(w["passcode"], int), w.explain()

    m = rig.mjs.run("commission", ip=rig.netns.dev_ip4, port=rig.device.port, passcode=w["passcode"])
    assert m.ok, m.explain()
    assert m["pase"] is True and m["case"] == "new", m.explain()
    assert not [f for f in m["attestation"]["findings"] if f["level"] == "error"], m.explain()

    # a new matter.js process: its session resumes from the records it stored
    r = rig.mjs.run("read")
    assert r.ok and r["case"] == "resumed", r.explain()
    assert identity(r["value"]) == rig.state["identity"] and r["value"]["CommissionedFabrics"] == 2, r.explain()
    r = rig.chip.run("read", nodeid=1)
    assert r.ok and r["value"]["CommissionedFabrics"] == 2, r.explain()

    # matter.js toggles while CHIP holds a subscription: CHIP is told
    sub = rig.chip.start("subscribe", nodeid=1, external=True, changes=1, timeout=60)
    try:
        primed = sub.wait_tagged("SUBSCRIBED", 90)
        t = rig.mjs.run("toggle")
        assert t.ok and t["before"] == primed["priming"], t.explain()
        s = sub.finish(90)
    finally:
        sub.stop()
    assert s.ok and [x["value"] for x in s["reports"]] == [t["after"]], s.explain()

    t = rig.chip.run("toggle", nodeid=1)
    assert t.ok, t.explain()
    r = rig.mjs.run("read")
    assert r.ok and r["value"]["OnOff"] == t["after"], r.explain()

    # the second fabric's session also resumes after the device is killed and restarted
    run = rig.mjs.read_across_restart(rig.device, expire=True)
    assert run.ok, run.explain()
    second = run.where(op="read", read_no=2)
    assert [r["ok"] for r in second] == [True] and second[0]["case"] == "resumed", run.explain()
    assert second[0]["value"]["OnOff"] == t["after"], run.explain()        # the state survived the power cut

    # the first admin removes its own fabric; matter.js keeps working, CHIP is out
    f = rig.chip.run("remove-fabric", nodeid=1)
    assert f.ok and f["status"] == 0, f.explain()
    assert f["fabric_index"] == f["own_fabric_index"] == rig.state["chip_fabric_index"], f.explain()
    assert f["fabrics_before"] == 2
    r = rig.mjs.run("read")
    assert r.ok and r["value"]["CommissionedFabrics"] == 1, r.explain()
    t = rig.mjs.run("toggle")
    assert t.ok, t.explain()
    gone = rig.chip.run("read", nodeid=1, timeout=10)
    assert not gone.ok, gone.explain()


def test_5_wrong_passcode_refused_device_keeps_serving(rig):
    w = rig.mjs.run("open-window")
    assert w.ok and isinstance(w["passcode"], int), w.explain()
    good = w["passcode"]
    wrong = good + 1 if good < 99999998 else good - 1

    bad = rig.commission_chip(wrong, nodeid=2)
    assert not bad.ok, bad.explain()
    assert bad["pase"] is False and bad["pase_failed"] is True, bad.explain()  # SPAKE2+ failed, no timeout
    assert bad["elapsed_ms"] < 20000, bad.explain()

    r = rig.mjs.run("read")
    assert r.ok and r["value"]["CommissionedFabrics"] == 1, r.explain()

    c = rig.commission_chip(good, nodeid=2)
    assert c.ok and c["pase"] is True and c["fabrics"] == 2, c.explain()
    r = rig.chip.run("read", nodeid=2)
    assert r.ok and identity(r["value"]) == rig.state["identity"], r.explain()
    r = rig.mjs.run("read")
    assert r.ok and r["value"]["CommissionedFabrics"] == 2, r.explain()


def test_6_a_clean_restart_closes_the_sessions_and_both_controllers_resume_at_once(rig, device_spec):
    # SIGTERM: the device stops cleanly and sends CloseSession on every session. Both controllers keep running
    # without ExpireSessions; their next read must succeed at its first attempt, on a resumed session (after a
    # power cut they would wait out their MRP retransmissions on the dead session first, 10-15 s).
    if device_spec.name == "reference":
        pytest.skip("the reference device does not close its sessions when it stops")
    for controller, node in ((rig.mjs, None), (rig.chip, 2)):
        run = controller.read_across_restart(rig.device, expire=False, kill=False, node=node)
        assert run.ok, run.explain()
        second = run.where(op="read", read_no=2)
        assert [r["ok"] for r in second] == [True] and second[0]["case"] == "resumed", run.explain()
        assert second[0]["value"]["CommissionedFabrics"] == 2, run.explain()
