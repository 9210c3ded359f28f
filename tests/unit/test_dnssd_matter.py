"""Matter DNS-SD registrations, checked against the Matter spec's discovery examples."""

from support import raises

from micromatter.dnssd import matter, wire
from micromatter.dnssd.responder import Responder

N = wire.name
# Matter Core spec, operational discovery: compressed fabric id 2906-C908-D115-D362 and node id
# 8FC7-7724-01CD-0696 give the instance name 2906C908D115D362-8FC7772401CD0696; the host B75AFB458ECD.
CFID = b"\x29\x06\xc9\x08\xd1\x15\xd3\x62"
NODE = 0x8FC7772401CD0696


def test_operational_instance_name_from_the_spec_example():
    assert matter.operational_instance_name(CFID, NODE) == "2906C908D115D362-8FC7772401CD0696"
    assert matter.operational_instance_name(0x2906C908D115D362, b"\x8f\xc7\x77\x24\x01\xcd\x06\x96") == (
        "2906C908D115D362-8FC7772401CD0696")
    assert matter.operational_instance_name(1, 2) == "0000000000000001-0000000000000002"
    assert matter.host_label(b"\xb7\x5a\xfb\x45\x8e\xcd") == "B75AFB458ECD"
    assert matter.host_label(bytes(range(8))) == "0001020304050607"


def test_operational_service():
    s = matter.operational_service(CFID, NODE, session_idle_ms=500, session_active_ms=300,
                                   session_active_threshold_ms=4000)
    assert s.instance_name == N("2906C908D115D362-8FC7772401CD0696._matter._tcp.local")
    assert s.type_name == N("_matter._tcp.local")
    assert s.subtype_names == (N("_I2906C908D115D362._sub._matter._tcp.local"),)
    assert s.txt == (b"SII=500", b"SAI=300", b"SAT=4000")
    assert s.port == 5540
    bare = matter.operational_service(CFID, NODE, port=5541)
    assert bare.txt == () and bare.port == 5541


def test_commissionable_service_fields():
    s = matter.commissionable_service(
        b"\xdd\x20\x0c\x20\xd2\x5a\xe5\xf7", 840, vendor_id=0xFFF1, product_id=0x8000, device_type=0x0100,
        device_name="Kitchen light", pairing_hint=33, pairing_instruction="Press the button",
        session_idle_ms=5000, session_active_ms=300, tcp=0, rotating_id=b"\x01\xab",
    )
    assert s.instance_name == N("DD200C20D25AE5F7._matterc._udp.local")
    assert s.txt == (b"D=840", b"VP=65521+32768", b"CM=1", b"DT=256", b"DN=Kitchen light", b"RI=01AB", b"PH=33",
                     b"PI=Press the button", b"SII=5000", b"SAI=300", b"T=0")
    subs = [n[0] for n in s.subtype_names]
    assert subs == [b"_L840", b"_S3", b"_V65521", b"_T256", b"_CM"]
    assert all(n[1:] == (b"_sub", b"_matterc", b"_udp", b"local") for n in s.subtype_names)


def test_commissioning_mode_and_optional_vendor():
    off = matter.commissionable_service("0011223344556677", 3840, commissioning_mode=matter.CM_OFF)
    assert off.txt == (b"D=3840", b"CM=0")
    assert [n[0] for n in off.subtype_names] == [b"_L3840", b"_S15"]
    enhanced = matter.commissionable_service("0011223344556677", 0, vendor_id=0xFFF1,
                                             commissioning_mode=matter.CM_ENHANCED)
    assert enhanced.txt == (b"D=0", b"VP=65521", b"CM=2")
    assert [n[0] for n in enhanced.subtype_names] == [b"_L0", b"_S0", b"_V65521", b"_CM"]


def test_field_limits():
    iid = bytes(8)
    bad = (
        dict(discriminator=4096), dict(discriminator=-1), dict(vendor_id=0x10000), dict(product_id=1),
        dict(vendor_id=1, product_id=0x10000), dict(commissioning_mode=3), dict(device_name="x" * 33),
        dict(pairing_instruction="x" * 129), dict(session_idle_ms=3600001), dict(session_active_ms=-1),
        dict(session_active_threshold_ms=0x10000), dict(icd=2), dict(rotating_id=bytes(51)),
        dict(device_type=1 << 32),
    )
    for kw in bad:
        args = dict(discriminator=3840)
        args.update(kw)
        raises(matter.ServiceFieldError, matter.commissionable_service, iid, **args)
    matter.commissionable_service(iid, 4095, device_name="x" * 32, session_idle_ms=3600000)
    raises(matter.ServiceFieldError, matter.commissionable_service, bytes(7), 3840)
    raises(matter.ServiceFieldError, matter.operational_service, CFID, 1 << 64)
    raises(matter.ServiceFieldError, matter.operational_service, CFID[:7], 1)
    raises(matter.ServiceFieldError, matter.host_label, bytes(7))
    raises(wire.DnsEncodeError, matter.operational_service, CFID, 1, port=0)


def test_controller_style_resolution_of_the_operational_name():
    # What the CHIP resolver does after PASE: ANY for the instance name (QU, ephemeral port), then AAAA
    # for the SRV target; one answer must carry SRV and the addresses together.
    r = Responder(b"\xb7\x5a\xfb\x45\x8e\xcd", ["10.77.0.1"], ["fe80::1"], probe=False)
    r.register(matter.operational_service(CFID, NODE), 0)
    r.start(0)
    for _ in range(10):
        due = r.next_deadline()
        if due is None:
            break
        r.on_timer(due)
    w = wire.Writer()
    w.begin(0, 0)
    w.question(N("2906C908D115D362-8FC7772401CD0696._matter._tcp.local"), wire.TYPE_ANY, unicast=True)
    ((packet, dest),) = r.on_packet(w.finish(), ("fe80::2", 41000, 0, 2), 10000)
    m = wire.parse(packet)
    srv = [rec for rec in m.answers if rec.rtype == wire.TYPE_SRV][0]
    assert srv.rdata == (0, 0, 5540, N("B75AFB458ECD.local"))
    assert sorted(rec.rtype for rec in m.additionals) == [wire.TYPE_A, wire.TYPE_AAAA]
    # Browsing the fabric's subtype finds the node.
    w.begin(0, 0)
    w.question(N("_I2906C908D115D362._sub._matter._tcp.local"), wire.TYPE_PTR)
    ((packet, dest),) = r.on_packet(w.finish(), ("10.77.0.2", 5353), 10000)
    assert [rec.rdata[0] for rec in wire.parse(packet).answers] == [b"2906C908D115D362-8FC7772401CD0696"]
