"""Onboarding and discovery figures: QR encode and render, mDNS parse and answer (time and heap)."""

import benchlib
from micromatter import onboarding, qrcode
from micromatter.dnssd import matter, wire
from micromatter.dnssd.responder import Responder


def _ready_responder():
    r = Responder(b"\xb7\x5a\xfb\x45\x8e\xcd", ["10.77.0.1"], ["fe80::1", "fd00:77::1"], probe=False)
    r.register(matter.commissionable_service(bytes(range(8)), 3840, 0xFFF1, 0x8000), 0)
    r.register(matter.operational_service(0x2906C908D115D362, 0x8FC7772401CD0696), 0)
    r.start(0)
    for _ in range(10):
        due = r.next_deadline()
        if due is None:
            break
        r.on_timer(due)
    return r


def _query(name, qtype, unicast):
    w = wire.Writer()
    w.begin(0, 0)
    w.question(wire.name(name), qtype, unicast=unicast)
    return w.finish()


def run(emit):
    payload = onboarding.SetupPayload(20202021, 3840, 0xFFF1, 0x8000)
    emit("onboarding_qr_and_manual", benchlib.time_per_op_us(lambda: (payload.qr_code(), payload.manual_code()), 50),
         "us")
    text = payload.qr_code()
    emit("qr_encode_v2m", benchlib.time_per_op_us(lambda: qrcode.encode(text, "M"), 3, warmup=1), "us")
    symbol = qrcode.encode(text, "M")
    emit("qr_render_half_blocks", benchlib.time_per_op_us(lambda: qrcode.render(symbol), 10, warmup=1), "us")

    r = _ready_responder()
    # A query for someone else's service: the common case on a busy link.
    foreign = _query("_googlecast._tcp.local", wire.TYPE_PTR, False)
    emit("mdns_foreign_query", benchlib.time_per_op_us(lambda: r.on_packet(foreign, ("10.77.0.2", 5353), 0), 200),
         "us")
    emit("mdns_foreign_query_alloc",
         benchlib.alloc_per_op_bytes(lambda: r.on_packet(foreign, ("10.77.0.2", 5353), 0), 50), "B/op")
    resolve = _query("2906C908D115D362-8FC7772401CD0696._matter._tcp.local", wire.TYPE_ANY, True)
    source = ("fe80::2", 41000, 0, 2)
    emit("mdns_resolve_answer", benchlib.time_per_op_us(lambda: r.on_packet(resolve, source, 0), 50), "us")
    emit("mdns_resolve_answer_alloc", benchlib.alloc_per_op_bytes(lambda: r.on_packet(resolve, source, 0), 20),
         "B/op")
    answer = r.on_packet(resolve, source, 0)[0][0]
    emit("mdns_parse_answer", benchlib.time_per_op_us(lambda: wire.parse(answer), 100), "us", size=len(answer))
    emit("responder_heap", _responder_heap(), "B")


def _responder_heap():
    before = benchlib.heap_used()
    if before is None:
        return None
    keep = _ready_responder()
    after = benchlib.heap_used()
    del keep
    return after - before
