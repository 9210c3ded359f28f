"""Node figures on this runtime: the device's CPU time for a whole commissioning (PASE, attestation, CSR, root,
AddNOC, CASE, CommissioningComplete: every ``on_datagram``/``poll`` of the device Node, as our commissioner
drives it over the fake wire), the same for a second fabric through an enhanced window, a toggle over CASE,
and on MicroPython the heap the Node holds with two fabrics (``gc.mem_alloc`` after the controllers are gone
and the collector ran, minus what is left once the Node is dropped too), plus its start-up heap."""

import gc

import benchlib
from commissioner import PASSCODE, Commissioner, Wire, device
from micromatter import log

OTHER_PASSCODE = 11223344


class Timed:
    """Wraps the device Node for the wire: counts the CPU time of its calls."""

    def __init__(self, node):
        self.node = node
        self.address = "dev"
        self.us = 0
        self.calls = 0

    def _time(self, method, *args):
        start = benchlib._now_us()
        out = method(*args)
        self.us += benchlib._diff_us(benchlib._now_us(), start)
        self.calls += 1
        return out

    def on_datagram(self, data, source, now_ms):
        return self._time(self.node.on_datagram, data, source, now_ms)

    def on_mdns(self, data, source, now_ms):
        return self._time(self.node.on_mdns, data, source, now_ms)

    def poll(self, now_ms):
        return self._time(self.node.poll, now_ms)

    def next_deadline(self):
        return self.node.next_deadline()


def _commission_twice():
    """(device timer, wire, node, first commissioner's CASE session, first µs, second µs, toggle µs)."""
    w = Wire()
    node = device()
    timed = Timed(node)
    w.add(timed, "dev")
    w.take("dev", node.start(0))
    a = Commissioner("ctl", seed=21)
    w.add(a)
    r = a.commission(w, "dev", PASSCODE, 0x77)
    first = timed.us
    a.open_window(w, r.case, OTHER_PASSCODE, 0x321)
    b = Commissioner("ctl2", seed=22, fabric_id=0xB0B, node_id=0x2233)
    w.add(b)
    mark = timed.us
    b.commission(w, "dev", OTHER_PASSCODE, 0x99)
    second = timed.us - mark
    w.run_for(5000)
    mark = timed.us
    a.invoke(w, r.case, 1, 6, 2)
    toggle = timed.us - mark
    if len(node.fabrics) != 2:
        raise AssertionError("the benchmark commissioning failed")
    return w, node, first, second, toggle, timed.calls


def run(emit):
    level = log.level
    log.set_level(log.WARNING)
    try:
        _run(emit)
    finally:
        log.set_level(level)


def _run(emit):
    _commission_twice()  # warm-up: imports, attestation material, verifier
    best = None
    for _ in range(3):
        w, node, first, second, toggle, calls = _commission_twice()
        if best is None or first < best[0]:
            best = (first, second, toggle, calls)
    emit("node_commissioning_device_cpu", best[0] / 1000, "ms", rounds=3,
         note="device Node only: PASE, Basic Information read, ArmFailSafe, chain, attestation, CSR, root, AddNOC, "
              "CASE, CommissioningComplete")
    emit("node_second_fabric_device_cpu", best[1] / 1000, "ms", note="through OpenCommissioningWindow (enhanced)")
    emit("node_toggle_device_cpu", best[2] / 1000, "ms", note="InvokeRequest On/Off Toggle over CASE, response")
    if not benchlib.IS_MICROPYTHON:
        return
    # Heap held by the Node with two fabrics: everything else of the run (wire, controllers) is garbage once
    # ``_kept_node`` returns.
    gc.collect()
    before = gc.mem_alloc()
    node = _kept_node()
    gc.collect()
    emit("node_heap_two_fabrics", gc.mem_alloc() - before, "B",
         note="gc.mem_alloc held by a started Node with two committed fabrics, their CASE sessions and records")
    node = None
    gc.collect()
    before = gc.mem_alloc()
    node = device()
    node.start(0)
    gc.collect()
    emit("node_heap_started", gc.mem_alloc() - before, "B", note="a started, uncommissioned Node")


def _kept_node():
    return _commission_twice()[1]
