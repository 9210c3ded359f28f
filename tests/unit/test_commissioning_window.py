"""Commissioning windows through the Node: OpenCommissioningWindow and its statuses, the basic window, timeouts,
RevokeCommissioning, the attempt limit, and what mDNS says meanwhile."""

from micromatter.clusters import administrator_commissioning as ac
from micromatter.crypto import spake2p
from micromatter.dnssd import wire as dns
from micromatter.im import messages as msg
from micromatter.im import status
from commissioner import PASSCODE, Commissioner, CommissioningError, Wire, device
from support import port, raises

ADMIN = 0x003C
GENERAL = 0x0030
OTHER_PASSCODE = 11223344


def commissioned():
    w = Wire()
    dev = device(w)
    ctl = Commissioner()
    w.add(ctl)
    r = ctl.commission(w, "dev", PASSCODE, 0x77)
    return w, dev, ctl, r.case


def window_fields(passcode=OTHER_PASSCODE, timeout=180, discriminator=0x456, iterations=1000, salt=b"S" * 16):
    verifier = spake2p.PasscodeVerifier.from_passcode(port().crypto, passcode, salt, iterations).encode()
    return {0: timeout, 1: verifier, 2: discriminator, 3: iterations, 4: salt}


def changed(fields, tag, value):
    out = dict(fields)
    out[tag] = value
    return out


def open_window(w, ctl, case, fields, timed=True):
    r = ctl.invoke(w, case, 0, ADMIN, 0, fields, timed_ms=5000 if timed else None)
    assert isinstance(r, msg.CommandStatus), r
    return r.status, r.cluster_status


def txt_of(w, since, service):
    found = None
    for t, src, data, dest in w.mdns[since:]:
        m = dns.parse(data)
        for r in m.answers + m.additionals:
            if r.rtype == dns.TYPE_TXT and r.ttl and service in dns.name_text(r.name):
                found = [e.decode() for e in r.rdata]
    return found


def events(dev, name):
    return [e for e in dev.events if e["event"] == name]


def test_open_commissioning_window_statuses():
    w, dev, ctl, case = commissioned()
    fields = window_fields()
    assert open_window(w, ctl, case, fields, timed=False) == (status.NEEDS_TIMED_INTERACTION, None)
    for bad in (changed(fields, 0, 179), changed(fields, 0, 901), changed(fields, 2, 0x1000)):
        assert open_window(w, ctl, case, bad) == (status.INVALID_COMMAND, None)
    bad_point = fields[1][:32] + b"\x04" + bytes(64)
    for bad in (changed(fields, 1, fields[1][:96]), changed(fields, 1, bad_point), changed(fields, 3, 999),
                changed(fields, 4, b"S" * 15)):
        assert open_window(w, ctl, case, bad) == (status.FAILURE, ac.PAKE_PARAMETER_ERROR)
    assert not dev.window.is_open
    # The fail-safe armed by an administrator keeps windows shut.
    assert ctl.invoke(w, case, 0, GENERAL, 0, {0: 30, 1: 0})[0] == 0
    assert open_window(w, ctl, case, fields) == (status.FAILURE, ac.BUSY)
    assert ctl.invoke(w, case, 0, GENERAL, 0, {0: 0, 1: 0})[0] == 0
    assert open_window(w, ctl, case, fields) == (status.SUCCESS, None)
    assert open_window(w, ctl, case, fields) == (status.FAILURE, ac.BUSY)
    assert dev.window.kind_name == "enhanced" and dev.window.discriminator == 0x456
    v = ctl.read(w, case, [(0, ADMIN, 0), (0, ADMIN, 1), (0, ADMIN, 2), (0, ADMIN, 0xFFFC)])
    assert (v[(0, ADMIN, 0)], v[(0, ADMIN, 1)], v[(0, ADMIN, 2)], v[(0, ADMIN, 0xFFFC)]) == (1, 1, 0xFFF1, 1)


def test_an_enhanced_window_is_advertised_with_cm2_and_closes_at_its_timeout():
    w, dev, ctl, case = commissioned()
    mark = len(w.mdns)
    assert open_window(w, ctl, case, window_fields(discriminator=0x456, timeout=180)) == (status.SUCCESS, None)
    w.run_for(5000)
    txt = txt_of(w, mark, "_matterc._udp")
    assert "CM=2" in txt and "D=1110" in txt
    opened = events(dev, "window")[-1]
    assert (opened["state"], opened["kind"], opened["discriminator"]) == ("open", "enhanced", 0x456)
    w.run_for(176000)
    assert not dev.window.is_open and events(dev, "window")[-1]["reason"] == "timeout"
    assert dev.light.admin_commissioning.window_status == ac.WINDOW_NOT_OPEN
    assert dev.light.admin_commissioning.admin_fabric_index is None
    other = Commissioner("ctl2", seed=9, fabric_id=0xB0B)
    w.add(other)
    raises(CommissioningError, other.pase, w, "dev", OTHER_PASSCODE)  # closed: PASE is refused


def test_revoke_commissioning_closes_the_window_and_expires_the_failsafe():
    w, dev, ctl, case = commissioned()
    r = ctl.invoke(w, case, 0, ADMIN, 2, timed_ms=5000)
    assert (r.status, r.cluster_status) == (status.FAILURE, ac.WINDOW_NOT_OPEN_STATUS)
    assert open_window(w, ctl, case, window_fields()) == (status.SUCCESS, None)
    other = Commissioner("ctl2", seed=9, fabric_id=0xB0B)
    w.add(other)
    other.commission(w, "dev", OTHER_PASSCODE, 0x99, steps="noc")  # half-way, under the fail-safe
    assert len(dev.fabrics) == 2 and dev.light.failsafe.armed
    r = ctl.invoke(w, case, 0, ADMIN, 2, timed_ms=5000)
    assert r.status == status.SUCCESS
    assert not dev.window.is_open and not dev.light.failsafe.armed and len(dev.fabrics) == 1
    assert events(dev, "window")[-1]["reason"] == "revoked" and dev.sessions.get_pase_session() is None


def test_a_basic_window_uses_the_device_passcode():
    w, dev, ctl, case = commissioned()
    mark = len(w.mdns)
    r = ctl.invoke(w, case, 0, ADMIN, 1, {0: 100}, timed_ms=5000)
    assert r.status == status.INVALID_COMMAND
    r = ctl.invoke(w, case, 0, ADMIN, 1, {0: 200}, timed_ms=5000)
    assert r.status == status.SUCCESS and dev.window.kind_name == "basic"
    assert dev.light.admin_commissioning.window_status == ac.BASIC_WINDOW_OPEN
    w.run_for(3000)
    txt = txt_of(w, mark, "_matterc._udp")
    assert "CM=1" in txt and "D=3840" in txt
    other = Commissioner("ctl2", seed=9, fabric_id=0xB0B)
    w.add(other)
    other.commission(w, "dev", PASSCODE, 0x99)
    assert len(dev.fabrics) == 2 and not dev.window.is_open


def test_arm_failsafe_from_an_admin_is_refused_while_a_commissioner_holds_it():
    w, dev, ctl, case = commissioned()
    assert open_window(w, ctl, case, window_fields()) == (status.SUCCESS, None)
    other = Commissioner("ctl2", seed=9, fabric_id=0xB0B)
    w.add(other)
    other.commission(w, "dev", OTHER_PASSCODE, 0x99, steps="pase")
    assert not dev.window.advertise  # one commissioner at a time: withdrawn while PASE lives
    assert ctl.invoke(w, case, 0, GENERAL, 0, {0: 30, 1: 0})[0] == 4  # BusyWithOtherAdmin
    w.run_for(61000)  # the commissioner gives up: the fail-safe PASE armed expires
    assert dev.sessions.get_pase_session() is None and dev.window.is_open and dev.window.advertise


def test_twenty_failed_attempts_close_the_window():
    w, dev, ctl, case = commissioned()
    assert open_window(w, ctl, case, window_fields(timeout=900)) == (status.SUCCESS, None)
    other = Commissioner("ctl2", seed=9, fabric_id=0xB0B)
    w.add(other)
    for _ in range(20):
        raises(CommissioningError, other.pase, w, "dev", OTHER_PASSCODE + 1)
    assert not dev.window.is_open and events(dev, "window")[-1]["reason"] == "too many failed attempts"
    assert len(events(dev, "pase_failed")) == 20
    raises(CommissioningError, other.pase, w, "dev", OTHER_PASSCODE)
