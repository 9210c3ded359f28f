"""The Node end to end, sans-I/O: our device Node and our commissioner back to back on a fake wire and clock."""

from micromatter.dnssd import wire as dns
from micromatter.dnssd.responder import MULTICAST
from micromatter.im import messages as msg
from micromatter.im import status
from micromatter.node import MATTER, MDNS, EventQueue, Node, NodeError
from micromatter.securechannel.dispatch import CaseEstablished
from micromatter.storage import MemoryStorage
from commissioner import PASSCODE, Commissioner, CommissioningError, InvokeRequest, Wire, device, device_config
from support import raises

ON_OFF = 0x0006
OPCREDS = 0x003E


def events(node, name):
    return [e for e in node.events if e["event"] == name]


def commissioned_pair(**kwargs):
    w = Wire()
    dev = device(w, **kwargs)
    ctl = Commissioner()
    w.add(ctl)
    result = ctl.commission(w, "dev", PASSCODE, 0x77)
    return w, dev, ctl, result


def toggle(w, ctl, session):
    r = ctl.invoke(w, session, 1, ON_OFF, 2)
    assert isinstance(r, msg.CommandStatus) and r.status == status.SUCCESS


def mdns_names(w, since=0):
    """(instance names announced, instance names said goodbye to) in the device's mDNS output, with the
    TXT records announced by instance name."""
    hello, bye, txt = [], [], {}
    for t, src, data, dest in w.mdns[since:]:
        assert src == "dev" and dest == MULTICAST
        m = dns.parse(data)
        if not m.is_response:
            continue
        for r in m.answers + m.additionals:
            name = dns.name_text(r.name)[:-1]
            if r.rtype == dns.TYPE_SRV:
                (bye if r.ttl == 0 else hello).append(name)
            elif r.rtype == dns.TYPE_TXT and r.ttl:
                txt[name] = [e.decode() for e in r.rdata]
    return hello, bye, txt


def test_full_commissioning_then_on_off_over_case():
    w, dev, ctl, r = commissioned_pair()
    assert r.steps == ["pase", "read", "arm", "attestation", "csr", "root", "noc", "case", "complete"]
    unique_id = r.basic.pop("unique_id")
    assert r.basic == {"vendor_name": "micromatter", "vendor_id": 0xFFF1, "product_name": "micromatter light",
                       "product_id": 0x8000}
    assert len(unique_id) == 32 and not unique_id.strip("0123456789ABCDEF")  # made at random: see below
    assert r.attestation.vendor_id == 0xFFF1 and r.attestation.product_id == 0x8000
    assert dev.commissioned and r.fabric_index == 1 and len(dev.fabrics) == 1
    f = dev.fabrics.find(1)
    assert (f.fabric_id, f.node_id, f.vendor_id) == (0xFAB1, 0x77, 0xFFF1)
    assert f.credentials.public_key == r.operational_key
    assert [(e.fabric_index, e.privilege, e.subjects) for e in dev.light.acl.entries()] == [(1, 5, (0x1122,))]
    assert dev.light.group_keys.ipk(1) == ctl.authority.epoch_key
    assert not dev.window.is_open and not dev.light.failsafe.armed
    assert dev.sessions.get_pase_session() is None  # commissioning complete ends the PASE session
    kinds = [(e["kind"], e["role"]) for e in events(dev, "session")]
    assert kinds == [("PASE", "responder"), ("CASE-new", "responder")]
    assert events(dev, "commissioned") == [{"event": "commissioned", "fabric_index": 1}]
    assert events(dev, "window")[-1]["state"] == "closed" and events(dev, "window")[-1]["reason"] == "commissioned"
    toggle(w, ctl, r.case)
    assert dev.light.on_off.on_off is True and events(dev, "onoff")[-1] == {"event": "onoff", "value": True}
    v = ctl.read(w, r.case, [(0, OPCREDS, 1), (0, OPCREDS, 3), (0, OPCREDS, 5), (1, ON_OFF, 0)])
    assert v[(0, OPCREDS, 3)] == 1 and v[(0, OPCREDS, 5)] == 1 and v[(1, ON_OFF, 0)] is True
    (fd,) = v[(0, OPCREDS, 1)]
    assert fd[3] == 0xFAB1 and fd[4] == 0x77 and fd[254] == 1 and fd[1] == ctl.authority.rcac.public_key
    assert f.compressed_fabric_id == ctl.fabric.compressed_fabric_id  # what operational discovery names


def test_mdns_commissionable_until_commissioned_then_operational():
    w = Wire()
    dev = device(w)
    w.run_for(5000)
    hello, bye, txt = mdns_names(w)
    (commissionable,) = set(n for n in hello if n.endswith("._matterc._udp.local"))
    assert not bye and [n for n in hello if "_matter._tcp" in n] == []
    for entry in ("D=3840", "CM=1", "VP=65521+32768", "DT=256", "SII=500", "SAI=300", "SAT=4000"):
        assert entry in txt[commissionable], (entry, txt[commissionable])
    ctl = Commissioner()
    w.add(ctl)
    ctl.commission(w, "dev", PASSCODE, 0x77)
    mark = len(w.mdns)
    w.run_for(10000)
    hello, bye, txt = mdns_names(w)
    cfid = "".join("%02X" % b for b in dev.fabrics.find(1).compressed_fabric_id)
    operational = "%s-%016X._matter._tcp.local" % (cfid, 0x77)
    assert commissionable in bye and operational in mdns_names(w, mark)[0] and operational not in bye
    assert "SII=500" in txt[operational]


def test_restart_from_the_same_storage_resumes_the_case_session():
    storage = MemoryStorage()
    w, dev, ctl, r = commissioned_pair(storage=storage)
    toggle(w, ctl, r.case)
    # The device restarts (power cut: nothing stopped cleanly) on the same storage.
    dev2 = Node(dev.port, storage, device_config())
    w.add(dev2, "dev")
    w.take("dev", dev2.start(w.now))
    assert dev2.commissioned and not dev2.window.is_open
    online = events(dev2, "online")[0]
    assert online["commissioned"] is True and online["fabrics"] == 1 and online["window"] == "closed"
    assert dev2.light.on_off.on_off is True  # OnOff is persisted
    # The controller's stale session is answered SessionNotFound...
    raises(CommissioningError, ctl.read, w, r.case, [(1, ON_OFF, 0)])
    assert not r.case.is_live() or r.case.state_name == "defunct"
    # ... and it resumes: Sigma2_Resume, no full CASE.
    mark = len(ctl.events)
    session = ctl.case(w, "dev", 0x77)
    assert [e.is_resumption for e in ctl.events[mark:] if isinstance(e, CaseEstablished)] == [True]
    assert [e["kind"] for e in events(dev2, "session")] == ["CASE-resumed"]
    toggle(w, ctl, session)
    assert dev2.light.on_off.on_off is False


def test_failsafe_expiry_rolls_back_a_half_done_commissioning():
    w = Wire()
    dev = device(w)
    ctl = Commissioner()
    w.add(ctl)
    r = ctl.commission(w, "dev", PASSCODE, 0x77, steps="case")
    assert r.case is not None and len(dev.fabrics) == 1 and dev.fabrics.is_pending(1)
    assert dev.storage.context("fab").keys() == []  # a pending fabric is never stored
    w.run_for(61000)  # ArmFailSafe(60): no CommissioningComplete
    assert len(dev.fabrics) == 0 and dev.light.acl.entries() == [] and dev.light.group_keys.ipk(1) is None
    assert dev.sessions.sessions() == [] and dev.sessions.resumption_records() == []
    raises(CommissioningError, ctl.read, w, r.case, [(1, ON_OFF, 0)])  # SessionNotFound: the device dropped it
    assert dev.window.is_open and dev.window.advertise  # still uncommissioned: advertised again
    assert events(dev, "failsafe") == [{"event": "failsafe", "state": "expired"}]
    assert events(dev, "fabrics")[-1]["count"] == 0
    # A new attempt succeeds.
    ctl2 = Commissioner("ctl2", seed=8, fabric_id=0xFAB2)
    w.add(ctl2)
    r2 = ctl2.commission(w, "dev", PASSCODE, 0x78)
    assert r2.fabric_index == 1 and dev.commissioned  # the reverted fabric was never committed: 1 is free


def test_wrong_passcode_is_refused_and_the_window_stays_open():
    w = Wire()
    dev = device(w)
    ctl = Commissioner()
    w.add(ctl)
    e = raises(CommissioningError, ctl.pase, w, "dev", PASSCODE + 1)
    assert e.step == "pase"
    assert [x["event"] for x in dev.events if x["event"] in ("pase_failed", "session")] == ["pase_failed"]
    assert dev.sessions.sessions() == [] and dev.window.is_open and dev.window.advertise
    assert not dev.light.failsafe.armed
    assert ctl.commission(w, "dev", PASSCODE, 0x77).steps[-1] == "complete"


def test_second_fabric_through_an_enhanced_window_then_remove_fabric():
    w, dev, a, ra = commissioned_pair()
    r = a.open_window(w, ra.case, 34567890, 0x321, timeout_s=300)
    assert isinstance(r, msg.CommandStatus) and r.status == status.SUCCESS
    assert dev.window.kind_name == "enhanced" and dev.window.discriminator == 0x321
    admin = dev.light.admin_commissioning
    assert (admin.window_status, admin.admin_fabric_index, admin.admin_vendor_id) == (1, 1, 0xFFF1)
    b = Commissioner("ctl2", seed=9, fabric_id=0xB0B, node_id=0x2233, vendor_id=0xFFF2)
    w.add(b)
    raises(CommissioningError, b.pase, w, "dev", PASSCODE)  # the device's own passcode does not open it
    rb = b.commission(w, "dev", 34567890, 0x99)
    assert rb.fabric_index == 2 and len(dev.fabrics) == 2 and not dev.window.is_open
    assert admin.window_status == 0 and admin.admin_fabric_index is None
    toggle(w, a, ra.case)
    toggle(w, b, rb.case)
    assert dev.light.on_off.on_off is False
    # Each admin sees its own fabric in a fabric-filtered read, and both in CommissionedFabrics.
    va = a.read(w, ra.case, [(0, OPCREDS, 1), (0, OPCREDS, 3), (0, OPCREDS, 5)])
    assert [f[254] for f in va[(0, OPCREDS, 1)]] == [1] and va[(0, OPCREDS, 3)] == 2 and va[(0, OPCREDS, 5)] == 1
    vb = b.read(w, rb.case, [(0, OPCREDS, 1), (0, OPCREDS, 5)], fabric_filtered=False)
    assert [f[254] for f in vb[(0, OPCREDS, 1)]] == [1, 2] and vb[(0, OPCREDS, 5)] == 2
    assert dev.fabrics.find(2).vendor_id == 0xFFF2
    # The first admin removes its own fabric: the response comes first, then its sessions go.
    w.run_for(10000)  # both operational names announced
    mark = len(w.mdns)
    r = a.invoke(w, ra.case, 0, OPCREDS, 0x0A, {0: 1})
    assert r[0] == 0 and r[1] == 1
    w.run_for(1000)
    assert len(dev.fabrics) == 1 and dev.fabrics.find(1) is None
    assert [s.fabric_index for s in dev.sessions.sessions()] == [2]
    assert dev.light.acl.fabrics() == [2] and dev.light.group_keys.ipk(1) is None
    assert [rec.fabric_index for rec in dev.sessions.resumption_records()] == [2]
    hello, bye, txt = mdns_names(w, mark)
    assert len(bye) == 1 and bye[0].endswith("._matter._tcp.local") and not dev.window.is_open
    assert events(dev, "fabrics")[-1]["count"] == 1
    raises(CommissioningError, a.read, w, ra.case, [(1, ON_OFF, 0)])
    toggle(w, b, rb.case)
    assert dev.light.on_off.on_off is True
    # The last fabric goes: the device is uncommissioned and opens its initial window again.
    r = b.invoke(w, rb.case, 0, OPCREDS, 0x0A, {0: 2})
    assert r[0] == 0
    w.run_for(1000)
    assert len(dev.fabrics) == 0 and not dev.commissioned and dev.window.kind_name == "initial"
    assert dev.sessions.sessions() == [] and dev.storage.context("fab").keys() == ["next"]


def test_subscription_reports_changes_and_ends_with_its_fabric():
    w, dev, ctl, r = commissioned_pair()
    sub = ctl.subscribe(w, r.case, [(1, ON_OFF, 0)], 0, 30)
    assert sub.priming == {(1, ON_OFF, 0): False}
    toggle(w, ctl, r.case)
    w.run_for(100)
    assert sub.reports and sub.reports[-1] == {(1, ON_OFF, 0): True}
    w.run_for(31000)  # a keep-alive at the max interval
    assert len(sub.reports) >= 2
    assert len(dev.engine.subscriptions) == 1
    ctl.invoke(w, r.case, 0, OPCREDS, 0x0A, {0: 1})
    w.run_for(1000)
    assert dev.engine.subscriptions == []


def test_stop_closes_sessions_and_says_goodbye():
    w, dev, ctl, r = commissioned_pair()
    w.run_for(10000)
    outs = dev.stop(w.now)
    matter = [o for o in outs if o[0] == MATTER]
    mdns = [o for o in outs if o[0] == MDNS]
    assert len(matter) == 1 and matter[0][2] == "ctl"  # CloseSession to the controller's CASE session
    assert mdns and all(o[2] == MULTICAST for o in mdns)
    assert dev.sessions.sessions() == [] and events(dev, "stopped")
    w.take("dev", matter)
    w.deliver()
    assert not r.case.is_live()  # the controller took the CloseSession
    raises(NodeError, dev.poll, w.now)
    raises(NodeError, dev.start, w.now)


def test_the_node_refuses_use_before_start_and_garbage_changes_nothing():
    dev = device()
    raises(NodeError, dev.on_datagram, b"\x00" * 20, "x", 0)
    raises(NodeError, dev.poll, 0)
    assert dev.set_addresses(["10.0.0.4"], [], 0) == []  # before start: the addresses to announce
    dev.start(0)
    announced = []
    for t in range(0, 3000, 50):
        announced += [data for channel, data, dest in dev.poll(t) if channel == MDNS]
    assert any(bytes((10, 0, 0, 4)) in data for data in announced)
    t = dev.now
    for junk in (b"", b"\x00", b"\xff" * 40, bytes(range(200)), b"\x00" * 1400):
        assert [o for o in dev.on_datagram(junk, "x", t + 10) if o[0] == MATTER] == []
        assert dev.on_mdns(junk, ("10.0.0.9", 5353), t + 10) == []
    assert dev.sessions.sessions() == [] and dev.window.is_open
    outs = dev.set_addresses(["10.0.0.5"], ["fe80::1"], t + 20)
    assert outs and all(o[0] == MDNS for o in outs)  # goodbyes for 10.0.0.4
    assert dev.poll(t + 5) is not None and dev.now == t + 20  # a clock that went back is held at the last time


def test_event_queue_is_bounded():
    q = EventQueue(3)
    for i in range(5):
        q.append({"event": "x", "i": i})
    assert len(q) == 3 and q.dropped == 2 and [e["i"] for e in q] == [2, 3, 4]
    assert q.popleft()["i"] == 2 and [e["i"] for e in q.take()] == [3, 4] and not q


def test_online_event_has_the_pairing_codes_from_the_passcode():
    from micromatter.commissioning.config import DeviceConfig
    from commissioner import attestation_material, SALT
    from support import port

    config = DeviceConfig.from_passcode(port().crypto, PASSCODE, 3840, SALT, attestation=attestation_material())
    dev = Node(port(), MemoryStorage(), config)
    dev.start(0)
    (online,) = events(dev, "online")
    assert online["qr_code"] == "MT:Y.K90AFN00KA0648G00" and online["manual_code"] == "34970112332"
    assert online["commissioned"] is False and online["fabrics"] == 0 and online["port"] == 5540
    assert not hasattr(config, "passcode")
    payload = config.setup_payload(PASSCODE)
    assert payload.qr_code() == online["qr_code"]


def test_tampered_datagrams_never_break_the_node():
    """One datagram to the device altered in transit (a byte flipped, or cut short): the commissioning fails
    cleanly or goes through, the node never raises, and the fail-safe leaves it clean either way."""
    for k, (index, cut) in enumerate(((1, False), (3, True), (6, False), (9, True), (13, False), (17, False))):
        w = Wire()
        dev = device(w)
        ctl = Commissioner(seed=50 + k)
        w.add(ctl)
        count = [0]

        def tamper(entry, index=index, cut=cut):
            data = entry["data"]
            if entry["dst"] != "dev":
                return data
            count[0] += 1
            if count[0] != index:
                return data
            if cut:
                return data[: len(data) // 2]
            altered = bytearray(data)
            altered[len(altered) // 2] ^= 0x5A
            return bytes(altered)

        w.tamper = tamper
        try:
            ctl.commission(w, "dev", PASSCODE, 0x77)
        except (CommissioningError, AssertionError):
            pass  # refused, or the commissioner gave up waiting
        w.tamper = None
        w.run_for(130000)  # every fail-safe and handshake deadline passes
        assert not dev.light.failsafe.armed and not dev.fabrics.has_pending()
        if dev.commissioned:
            assert len(dev.fabrics) == 1 and dev.light.acl.fabrics() == [1]
        else:
            assert len(dev.fabrics) == 0 and dev.light.acl.entries() == [] and dev.window.advertise
            assert dev.sessions.sessions() == []


def test_remove_fabric_keeps_the_session_until_its_response_is_acknowledged():
    w, dev, ctl, r = commissioned_pair()
    lost = []

    def drop(entry):  # the device's first NOCResponse is lost: MRP sends it again
        if entry["src"] == "dev" and not lost:
            lost.append(entry)
            return True
        return False

    w.drop = drop
    request = ctl.send(r.case, InvokeRequest(0, OPCREDS, 0x0A, {0: 1}), w.now)
    w.run_until(lambda: bool(lost))
    assert len(dev.fabrics) == 0
    assert [s.fabric_index for s in dev.sessions.sessions()] == [1]  # kept for the retransmission
    assert dev.sessions.resumption_records() == []  # the records went at once
    w.run_until(lambda: request.done)
    assert request.error is None and request.result[0] == 0
    w.run_for(1000)
    assert dev.sessions.sessions() == [] and dev.window.kind_name == "initial"


def test_unique_id_is_random_kept_across_restarts_and_renewed_by_a_factory_reset():
    w, dev, ctl, r = commissioned_pair()
    unique_id = r.basic["unique_id"]
    assert len(unique_id) == 32 and not unique_id.strip("0123456789ABCDEF")
    assert unique_id != dev.config.serial_number and dev.config.host.hex().upper() not in unique_id
    # The same storage after a restart: the same id, read by the controller over CASE.
    w2 = Wire()
    again = device(w2, dev.storage, seed=12)
    assert again.light.basic.unique_id == unique_id
    w2.add(ctl)
    case = ctl.case(w2, "dev", 0x77)
    assert ctl.read(w2, case, [(0, 0x0028, 0x12)])[(0, 0x0028, 0x12)] == unique_id
    # Another device (other storage, other randomness) has another one.
    assert device(storage=MemoryStorage(), seed=13).light.basic.unique_id not in ("", unique_id)
    # A factory reset clears the data model's context (``micromatter factory-reset``): a new id.
    dm = dev.storage.context("dm")
    for key in list(dm.keys()):
        dm.delete(key)
    renewed = device(storage=dev.storage, seed=14).light.basic.unique_id
    assert renewed != unique_id and len(renewed) == 32
    # A stored value that is not ours is replaced; a configured UniqueID is used as it is and not stored.
    dm.set("uid", b"not a unique id")
    assert device(storage=dev.storage, seed=15).light.basic.unique_id not in ("", renewed)
    storage = MemoryStorage()
    assert device(storage=storage, unique_id="lamp-42").light.basic.unique_id == "lamp-42"
    assert storage.context("dm").get("uid") is None
