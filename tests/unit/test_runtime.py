"""runtime: the device's options, EVENT and log lines, the node between a loop's endpoints (a whole commissioning
through the adapter), and ``Device`` over a fake network, loop and clock: sockets, mDNS routing, addresses,
control lines, loopback mode, stop."""

import asyncio
import json
import sys

from micromatter import log, onboarding, runtime
from micromatter.commissioning.attestation import DevelopmentAuthority
from micromatter.ifaddrs import LinuxInterfaces
from micromatter.node import MATTER, MDNS, Node
from micromatter.runtime import (AddressWatcher, Deadline, Device, DeviceRunner, OptionsError, options_from,
                                 parse_args)
from micromatter.storage import MemoryStorage
from micromatter.udploop import UdpLoopCore
from micromatter.udpsockets import UdpSockets
from certs_vectors import credential
from commissioner import PASSCODE, Commissioner, DeviceCtx, Wire, device_config
from netkit import AF_INET, AF_INET6, FakeSocketModule
from support import IS_MICROPYTHON, raises
from test_ifaddrs import FakeHost


def test_options_defaults_and_values():
    o = parse_args([])
    assert (o.port, o.passcode, o.discriminator, o.vendor_id, o.product_id) == (5540, 20202021, 3840, 0xFFF1,
                                                                               0x8000)
    assert o.mdns == "on" and o.interface is None and o.ipv4 == [] and not o.heap_stats and o.max_seconds == 0
    o = parse_args(["--storage", "d", "--port=5541", "--passcode", "11223344", "--discriminator", "0xF00",
                    "--vendor-id", "0xFFF2", "--product-id", "32769", "--interface", "veth-dev", "--ipv4",
                    "10.0.0.1", "--ipv4", "10.0.0.2", "--ipv6", "fd00::1", "--mdns", "loopback", "--heap-stats",
                    "--control-stdin", "--max-seconds", "30", "--host", "02:00:00:00:00:01", "--log-level", "debug",
                    "--credentials", "c", "--no-banner", "--session-not-found", "off", "--mdns-probe", "on"])
    assert (o.storage, o.port, o.passcode, o.discriminator, o.vendor_id, o.product_id) == (
        "d", 5541, 11223344, 0xF00, 0xFFF2, 0x8001)
    assert o.interface == "veth-dev" and o.ipv4 == ["10.0.0.1", "10.0.0.2"] and o.ipv6 == ["fd00::1"]
    assert o.mdns == "loopback" and o.heap_stats and o.control_stdin and o.max_seconds == 30
    assert o.host == b"\x02\x00\x00\x00\x00\x01" and o.log_level == "debug" and o.credentials == "c" and o.no_banner
    assert o.session_not_found == "off" and parse_args([]).session_not_found == "on"
    assert o.mdns_probe == "on" and parse_args([]).mdns_probe == "off"


def test_bad_options():
    for argv in (["--bogus"], ["--port"], ["--port", "x"], ["--mdns", "maybe"], ["--log-level", "loud"],
                 ["--heap-stats=1"], ["--max-seconds", "-1"], ["--host", "0102"], ["--host", "zz0000000000"],
                 ["--session-not-found", "no"], ["--mdns-probe", "yes"], ["storage"]):
        e = raises(OptionsError, parse_args, argv)
        assert not e.usage, argv
    assert raises(OptionsError, parse_args, ["--port", "1", "--help"]).usage
    errors = []
    assert options_from(["--help"], errors.append) == (None, 0) and "--storage DIR" in errors[-1]
    assert options_from(["--nope"], errors.append) == (None, 2) and "--nope" in errors[-1]
    o, status = options_from(["--port", "7"], errors.append)
    assert status is None and o.port == 7


def test_an_entry_points_arguments_and_lines_by_default():
    saved = sys.argv[:]
    sys.argv[:] = ["device", "--port", "9", "--mdns", "off"]
    try:
        o, status = options_from()  # the process's arguments after its name
    finally:
        sys.argv[:] = saved
    assert status is None and (o.port, o.mdns) == (9, "off")
    if IS_MICROPYTHON:
        return  # the unix port's sys.stdout cannot be replaced: the line protocol is checked by tests/host
    import io

    out, stdout = io.StringIO(), sys.stdout
    sys.stdout = out
    try:
        runtime.write_line("EVENT {}")
        runtime.write_line("two")
    finally:
        sys.stdout = stdout
    assert out.getvalue() == "EVENT {}\ntwo\n"


def test_event_lines_are_json_with_bytes_as_hex():
    line = runtime.event_line({"event": "x", "b": b"\x01\xff", "t": (1, (2, b"")), "d": {"k": bytearray(b"\x10")}})
    assert line.startswith("EVENT ")
    assert json.loads(line[6:]) == {"event": "x", "b": "01ff", "t": [1, [2, ""]], "d": {"k": "10"}}


def test_describe_one_line_per_event():
    d = runtime.describe
    assert d({"event": "online", "port": 5540, "commissioned": False, "manual_code": "34970112332"}) == \
        "online on UDP port 5540, not commissioned; manual pairing code 3497-011-2332"
    assert "commissioned on 2 fabric(s)" in d({"event": "online", "port": 1, "commissioned": True, "fabrics": 2,
                                               "manual_code": "34970112332"})
    assert d({"event": "session", "kind": "CASE-resumed", "role": "responder", "session": 7, "fabric_index": 1,
              "peer": "000000000001B669"}) == \
        "session CASE-resumed (responder), id 7, fabric 1, peer node 000000000001B669"
    assert d({"event": "session", "kind": "PASE", "role": "responder", "session": 3}) == \
        "session PASE (responder), id 3"
    assert d({"event": "fabrics", "count": 1, "fabrics": [{"index": 1, "fabric_id": 1, "node_id": 0x77,
                                                           "vendor_id": 0xFFF1}]}) == \
        "fabrics: 1 (1: fabric 0x0000000000000001 node 0x0000000000000077 vendor 0xFFF1)"
    assert d({"event": "window", "state": "closed", "reason": "commissioned"}) == \
        "commissioning window closed (commissioned)"
    assert d({"event": "onoff", "value": True}) == "light on"
    assert d({"event": "pase_failed", "status": 2, "error": "ConfirmationError"}) == \
        "PASE failed: status 2 (ConfirmationError)"
    assert d({"event": "something-new"}) is None
    for kind in ("commissioned", "case_failed", "failsafe", "identify", "stopped", "heap", "addresses"):
        assert isinstance(d({"event": kind}), str), kind


def test_banner_is_the_qr_code_of_the_payload():
    lines = runtime.banner({"qr_code": "MT:Y.K90AFN00KA0648G00", "manual_code": "34970112332"})
    assert lines[1] == "QR code payload: MT:Y.K90AFN00KA0648G00"
    assert lines[2] == "Manual pairing code: 3497-011-2332 (34970112332)"
    rows = lines[0].split("\n")
    assert len(rows) == (25 + 8 + 1) // 2 and all(len(r) == 25 + 8 for r in rows)  # version 2: 25 modules
    assert runtime.banner({"qr_code": None, "manual_code": None}) == []


class Lines:
    def __init__(self):
        self.lines = []

    def __call__(self, text):
        self.lines.append(text)

    def events(self, kind=None):
        out = [json.loads(x[6:]) for x in self.lines if x.startswith("EVENT ")]
        return [e for e in out if kind is None or e["event"] == kind]


class RunnerOnWire:
    """A ``DeviceRunner`` shaped like a node for ``commissioner.Wire``: what the loop would send comes back as
    outputs; mDNS datagrams and direct sends are collected the same way."""

    def __init__(self, runner):
        self.runner = runner
        self.direct = []
        runner.send_matter = lambda data, peer: self.direct.append((MATTER, data, peer))
        runner.send_mdns = lambda data, dest: self.direct.append((MDNS, data, dest))

    def _outs(self, output):
        outs = [(MATTER, data, peer) for data, peer in output.messages] + self.direct
        self.direct = []
        return outs

    def on_datagram(self, data, source, now_ms):
        return self._outs(self.runner.on_datagram(bytearray(data) + b"junk", len(data), source, now_ms))

    def poll(self, now_ms):
        return self._outs(self.runner.on_timer(now_ms))

    def next_deadline(self):
        return self.runner.next_deadline()

    def start(self, now_ms):
        self.runner.start(now_ms)
        return self._outs(runtime._NOTHING)


class Calls:
    def __init__(self):
        self.count = 0

    def after_call(self):
        self.count += 1

    def report(self):
        return {"alloc": 1234, "calls": self.count}


def test_a_commissioning_through_the_runner():
    w = Wire()
    config = device_config()
    payload = config.setup_payload(PASSCODE)
    config.qr_code, config.manual_code = payload.qr_code(), payload.manual_code()
    node = Node(DeviceCtx(11), MemoryStorage(), config)
    lines = Lines()
    heap = Calls()
    runner = DeviceRunner(node, None, None, lines, heap=heap)
    dev = RunnerOnWire(runner)
    w.add(dev, "dev")
    w.take("dev", dev.start(w.now))
    online = lines.events("online")[0]
    assert online["commissioned"] is False and online["qr_code"] == node.config.qr_code
    assert "QR code payload: " + node.config.qr_code in lines.lines  # the banner for an uncommissioned device
    w.run_for(3000)
    assert w.mdns and all(dest == "multicast" for t, src, data, dest in w.mdns)  # probes and announcements
    ctl = Commissioner()
    w.add(ctl)
    result = ctl.commission(w, "dev", PASSCODE, 0x77)
    assert result.steps[-1] == "complete"
    kinds = [e["kind"] for e in lines.events("session")]
    assert kinds == ["PASE", "CASE-new"], kinds
    assert lines.events("commissioned")[0]["fabric_index"] == 1 and lines.events("fabrics")[-1]["count"] == 1
    assert heap.count > 10  # after every node call
    runner.report_heap("request")
    assert lines.events("heap") == [{"event": "heap", "reason": "request", "alloc": 1234, "calls": heap.count}]
    runner.stop(w.now)
    assert lines.events("stopped") and dev.direct  # CloseSession and goodbyes, sent directly
    assert [c for c, d, a in dev.direct if c == MATTER] and [c for c, d, a in dev.direct if c == MDNS]


class FakeSocket:
    """A socket that records what is sent on it (``sent``: ``(name, data, peer)``); one peer is unreachable."""

    def __init__(self, name, sent):
        self.name = name
        self.sent = sent

    def sendto(self, data, peer):
        if peer == ("10.9.9.9", 1):
            raise OSError(101, "unreachable")
        self.sent.append((self.name, data, peer))

    def close(self):
        pass


class FakeLoop(UdpLoopCore):
    """The loop core itself (socket choice, sending, counters), never run: ``Device`` uses its tables and
    sends."""

    def __init__(self):
        UdpLoopCore.__init__(self, lambda: 0, UdpSockets(FakeSocketModule()), asyncio)
        self.stopped = 0
        self.closed = False

    @property
    def table(self):
        return [(e.sock.name, e.endpoint, e.family) for e in self._sockets]

    @property
    def timers(self):
        return self._timers

    def stop(self):
        UdpLoopCore.stop(self)
        self.stopped += 1

    def close(self):
        self.closed = True


HOST = {"lo": (1, "00:00:00:00:00:00", "unknown"), "veth-a": (2, "9a:08:b3:bb:66:c0", "up")}
CREDENTIALS = {"creds/" + n: credential(n) for n in ("test-paa-fff1-cert.pem", "test-paa-fff1-key.pem",
                                                      "test-paa-novid-cert.pem", "test-paa-novid-key.pem",
                                                      "test-cd-signing-key.pem")}


class FakeNet:
    """The port's ``net`` as ``Device`` uses it: interfaces, the two socket sets, files."""

    def __init__(self):
        h = FakeHost(HOST)
        self.interfaces = LinuxInterfaces(h.read, h.listdir)
        self.sent = []
        self.joined = None

    def matter_sockets(self, port, loopback):
        return [(AF_INET6, FakeSocket("m6-lo" if loopback else "m6", self.sent))]

    def mdns_sockets(self, interface, ifindex):
        self.joined = (interface, ifindex)
        return [(AF_INET, FakeSocket("d4", self.sent), ("224.0.0.251", 5353)),
                (AF_INET6, FakeSocket("d6", self.sent), ("ff02::fb", 5353, 0, ifindex))]

    def read_file(self, path, binary=False):
        return CREDENTIALS[path]


class FakePort(DeviceCtx):
    def __init__(self, seed=5):
        DeviceCtx.__init__(self, seed)
        self.now = 1000
        self.storage = MemoryStorage()

    def now_ms(self):
        return self.now

    def open_storage(self, location):
        self.location = location
        return self.storage


def open_device(*argv):
    port, net, loop, lines = FakePort(), FakeNet(), FakeLoop(), Lines()
    level = log.level
    device = Device(port, net, loop, parse_args(list(argv)), lines, Calls())
    try:
        device.open(port.now)
    finally:
        log.set_level(level)
    return device, port, net, loop, lines


def test_device_opens_its_sockets_on_the_chosen_interface():
    device, port, net, loop, lines = open_device("--storage", "st", "--ipv6", "fd00::9", "--no-banner")
    assert device.interface == "veth-a" and net.joined == ("veth-a", 2) and port.location == "st"
    assert device.node.exchanges.session_not_found is True and device.node.mdns.probe is False
    assert [(s, f) for s, e, f in loop.table] == [("m6", AF_INET6), ("d4", AF_INET), ("d6", AF_INET6)]
    assert loop.table[0][1] is device.runner and loop.table[1][1] is device.runner.mdns
    assert [t for t in loop.timers if isinstance(t, AddressWatcher)]
    assert not [t for t in loop.timers if isinstance(t, Deadline)]  # no --max-seconds
    online = lines.events("online")[0]
    assert online["commissioned"] is False and not [x for x in lines.lines if x.startswith("QR code")]
    config = device.node.config
    assert config.host == b"\x9a\x08\xb3\xbb\x66\xc0"  # the interface's MAC names the mDNS host
    assert config.ipv4 == (b"\x0a\x4e\x00\x01",) and b"\xfd" + bytes(14) + b"\x09" in config.ipv6
    assert onboarding.parse(online["qr_code"]).passcode == PASSCODE
    assert device.node.config.attestation is None  # neither --credentials nor --attestation

    runner = device.runner
    device._send_mdns(b"announce", "multicast")
    assert net.sent[-2:] == [("d4", b"announce", ("224.0.0.251", 5353)), ("d6", b"announce", ("ff02::fb", 5353, 0, 2))]
    device._send_mdns(b"u4", ("10.78.0.2", 5353))
    device._send_mdns(b"u6", ("fe80::2", 5353, 0, 2))
    assert net.sent[-2:] == [("d4", b"u4", ("10.78.0.2", 5353)), ("d6", b"u6", ("fe80::2", 5353, 0, 2))]
    device._send_matter(b"m", ("10.78.0.2", 5540))  # IPv4 peers go out on the dual-stack socket
    assert net.sent[-1] == ("m6", b"m", ("10.78.0.2", 5540))
    device._send_matter(b"lost", ("10.9.9.9", 1))  # a send error is counted, not raised
    assert loop.send_errors == 1 and loop.sent == len(net.sent)

    assert device.command("heap\n") is False and lines.events("heap")[-1]["reason"] == "request"
    assert device.command("what\n") is False and device.command("\n") is False and loop.stopped == 0
    assert device.command("stop\n") is True and loop.stopped == 1
    assert device.command("") is True and loop.stopped == 2  # the end of input
    port.now += 500
    device.stop(port.now)
    assert lines.events("stopped") and lines.events("heap")[-1]["reason"] == "stop" and loop.closed


def test_device_attestation_from_credentials_and_a_deadline():
    device, port, net, loop, lines = open_device("--credentials", "creds", "--max-seconds", "5", "--interface",
                                                 "veth-a", "--vendor-id", "0xFFF2")
    a = device.node.config.attestation
    assert isinstance(a, DevelopmentAuthority)
    assert a.paa == DevelopmentAuthority.from_pem(CREDENTIALS["creds/test-paa-novid-cert.pem"],
                                                  CREDENTIALS["creds/test-paa-novid-key.pem"],
                                                  CREDENTIALS["creds/test-cd-signing-key.pem"]).paa
    deadline = [t for t in loop.timers if isinstance(t, Deadline)][0]
    assert deadline.next_deadline() == port.now + 5000
    deadline.on_timer(port.now + 5000)
    assert loop.stopped == 1 and deadline.next_deadline() is None
    assert "QR code payload: " + lines.events("online")[0]["qr_code"] in lines.lines


def test_loopback_mode_serves_loopback_peers_only():
    device, port, net, loop, lines = open_device("--mdns", "loopback")
    assert device.interface == "lo" and net.joined == ("lo", 1)
    assert loop.table[0][0] == "m6-lo" and not [t for t in loop.timers if isinstance(t, AddressWatcher)]
    assert device.node.config.ipv4 == (b"\x7f\x00\x00\x01",)
    assert device.node.config.host is None  # lo has no MAC: a random host name
    runner = device.runner
    assert runner.on_datagram(b"\x00" * 30, 30, ("10.78.0.2", 5540), port.now).messages == ()
    assert runner.mdns.on_datagram(b"\x00" * 30, 30, ("fe80::2", 5353, 0, 2), port.now).messages == ()
    assert runner.dropped == 2
    runner.on_datagram(b"\x00" * 30, 30, ("127.0.0.1", 5540), port.now)  # garbage, but looked at
    assert runner.dropped == 2


def test_mdns_off_and_unknown_interface():
    device, port, net, loop, lines = open_device("--mdns", "off", "--session-not-found", "off")
    assert net.joined is None and [s for s, e, f in loop.table] == ["m6"]
    assert device.node.exchanges.session_not_found is False
    e = raises(OptionsError, open_device, "--interface", "wlan7")
    assert "wlan7" in str(e) and "veth-a" in str(e)
    port, loop = FakePort(), FakeLoop()
    level = log.level
    try:
        device = Device(port, FakeNet(), loop, parse_args(["--interface", "wlan7"]), Lines())
        assert device.start(port.now) is False and loop.closed and device.node is None  # logged, not raised
    finally:
        log.set_level(level)


class Recorder:
    def __init__(self):
        self.calls = []

    def set_addresses(self, v4, v6, now_ms):
        self.calls.append((v4, v6, now_ms))


def test_address_watcher_tells_the_node_about_changes_only():
    state = {"found": ([b"\x01\x02\x03\x04"], [])}
    r = Recorder()
    w = AddressWatcher(r, lambda: state["found"], ([b"\x01\x02\x03\x04"], []), lambda: 100, interval_ms=1000)
    assert w.next_deadline() == 1100
    w.on_timer(1100)
    assert r.calls == [] and w.next_deadline() == 2100
    state["found"] = ([b"\x01\x02\x03\x05"], [b"\xfe" * 16])
    w.on_timer(2100)
    assert r.calls == [([b"\x01\x02\x03\x05"], [b"\xfe" * 16], 2100)]
    state["found"] = ([], [])  # the interface lost every address: the last set stays advertised
    w.on_timer(3100)
    assert len(r.calls) == 1

    def broken():
        raise OSError(2, "gone")

    w.read = broken
    w.on_timer(4100)
    assert len(r.calls) == 1 and w.next_deadline() == 5100
