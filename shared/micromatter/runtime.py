"""The device runtime both ports share: options, configuration, the node between a UDP loop's sockets, and
what the device prints.

A port's entry point (``micromatter_mp.device``, ``micromatter_cpython.device``) parses its arguments with
``parse_args``, builds a ``Device`` over its ``Port``, its network helpers (``net``: interface, addresses,
sockets, sends) and its ``UdpLoop``, runs the loop until a stop request, then calls ``Device.stop``.  What
stays in the ports is what differs between runtimes: sockets and multicast options, where addresses come
from, signals, the asyncio plumbing.

``DeviceRunner`` is the adapter between ``micromatter.node.Node`` (outputs as ``(channel, data, address)``)
and the loop's endpoint interface (``on_datagram(data, length, peer, now_ms)``, ``next_deadline()``,
``on_timer(now_ms)``, outputs with ``messages`` and ``events``): Matter datagrams go back to the loop, mDNS
ones straight to the mDNS sockets (``MULTICAST``: the group of each socket).  After every node call the node's
events are printed, one ``EVENT {json}`` line each on stdout (what the interop harness reads) and one log line
each (what a person reads), and the QR code is drawn when the device comes up uncommissioned.
"""

import json
import sys

from micromatter import log, onboarding
from micromatter.commissioning.attestation import AttestationMaterial, DevelopmentAuthority
from micromatter.commissioning.config import DeviceConfig
from micromatter.dnssd.address import address_text, ipv4_bytes, ipv6_bytes
from micromatter.errors import MatterError
from micromatter.node import MATTER, MDNS, Node
from micromatter.udpsockets import is_loopback

DEFAULT_PORT = 5540
DEFAULT_PASSCODE = 20202021
DEFAULT_DISCRIMINATOR = 3840
DEFAULT_VENDOR_ID = 0xFFF1
DEFAULT_PRODUCT_ID = 0x8000
ADDRESS_CHECK_MS = 10000  # how often the interface's addresses are read again
MDNS_MODES = ("on", "loopback", "off")
MAX_COMMAND = 64  # characters of a control line that are looked at
_TAG = "device"

USAGE = """usage: device [options]
  --storage DIR          storage directory (default: device-storage)
  --port N               Matter UDP port (default 5540)
  --passcode N           setup passcode (default 20202021)
  --discriminator N      12-bit discriminator (default 3840)
  --vendor-id N          vendor id (default 0xFFF1)
  --product-id N         product id (default 0x8000)
  --interface NAME       network interface for mDNS and addresses (default: the first one up, not lo)
  --ipv4 A / --ipv6 A    extra addresses to advertise (repeatable)
  --mdns on|loopback|off mDNS on the interface, on lo only (nothing leaves the host), or none (default on)
  --credentials DIR      test PAA and CD-signing keys a development device makes its DAC from
  --attestation DIR      provisioned dac.der, pai.der, cd.der, dac_key.pem (instead of --credentials)
  --mdns-probe on|off    probe names before announcing them (RFC 6762 8.1; default off: like connectedhomeip,
                         answer at once, so controllers find a restarted device without ~750 ms of probes)
  --session-not-found on|off  answer messages on unknown sessions with SessionNotFound (default on)
  --heap-stats           track heap figures after every node call (EVENT heap on request and at stop)
  --control-stdin        read commands from stdin: 'stop' (or end of input), 'heap'
  --max-seconds S        stop by itself after S seconds (0: never)
  --host HEX             the 6- or 8-byte MAC/EUI-64 for the mDNS host name (default: the interface's)
  --log-level L          debug|info|warning|error (default info)
  --no-banner            do not draw the QR code"""


class OptionsError(MatterError):
    """A command line the device cannot run with (``usage`` is set when help was asked for)."""

    def __init__(self, message, usage=False):
        super().__init__(message)
        self.usage = usage


def _int(text, name):
    try:
        return int(text, 0)
    except ValueError:
        raise OptionsError("%s takes a number, not %r" % (name, text))


# option -> (attribute, kind): "int", "str", "list" (repeatable), "flag"
_OPTIONS = {
    "--storage": ("storage", "str"),
    "--port": ("port", "int"),
    "--passcode": ("passcode", "int"),
    "--discriminator": ("discriminator", "int"),
    "--vendor-id": ("vendor_id", "int"),
    "--product-id": ("product_id", "int"),
    "--interface": ("interface", "str"),
    "--ipv4": ("ipv4", "list"),
    "--ipv6": ("ipv6", "list"),
    "--mdns": ("mdns", "str"),
    "--credentials": ("credentials", "str"),
    "--attestation": ("attestation", "str"),
    "--mdns-probe": ("mdns_probe", "str"),
    "--session-not-found": ("session_not_found", "str"),
    "--heap-stats": ("heap_stats", "flag"),
    "--control-stdin": ("control_stdin", "flag"),
    "--max-seconds": ("max_seconds", "int"),
    "--host": ("host", "str"),
    "--log-level": ("log_level", "str"),
    "--no-banner": ("no_banner", "flag"),
}

LOG_LEVELS = {"debug": log.DEBUG, "info": log.INFO, "warning": log.WARNING, "error": log.ERROR}


class Options:
    """The device's command-line options (see ``USAGE``), with their defaults."""

    def __init__(self):
        self.storage = "device-storage"
        self.port = DEFAULT_PORT
        self.passcode = DEFAULT_PASSCODE
        self.discriminator = DEFAULT_DISCRIMINATOR
        self.vendor_id = DEFAULT_VENDOR_ID
        self.product_id = DEFAULT_PRODUCT_ID
        self.interface = None
        self.ipv4 = []
        self.ipv6 = []
        self.mdns = "on"
        self.credentials = None
        self.attestation = None
        self.mdns_probe = "off"
        self.session_not_found = "on"
        self.heap_stats = False
        self.control_stdin = False
        self.max_seconds = 0
        self.host = None
        self.log_level = "info"
        self.no_banner = False


def parse_args(argv):
    """``Options`` from a list of arguments (``--name value`` or ``--name=value``); ``OptionsError`` for an
    unknown option, a missing or bad value, or ``--help`` (with ``usage`` set)."""
    o = Options()
    i = 0
    n = len(argv)
    while i < n:
        arg = argv[i]
        i += 1
        if arg in ("-h", "--help"):
            raise OptionsError(USAGE, True)
        value = None
        if arg.startswith("--") and "=" in arg:
            arg, value = arg.split("=", 1)
        spec = _OPTIONS.get(arg)
        if spec is None:
            raise OptionsError("unknown option %r" % arg)
        attr, kind = spec
        if kind == "flag":
            if value is not None:
                raise OptionsError("%s takes no value" % arg)
            setattr(o, attr, True)
            continue
        if value is None:
            if i >= n:
                raise OptionsError("%s needs a value" % arg)
            value = argv[i]
            i += 1
        if kind == "int":
            setattr(o, attr, _int(value, arg))
        elif kind == "list":
            getattr(o, attr).append(value)
        else:
            setattr(o, attr, value)
    if o.mdns not in MDNS_MODES:
        raise OptionsError("--mdns takes on, loopback or off")
    for name, value in (("--session-not-found", o.session_not_found), ("--mdns-probe", o.mdns_probe)):
        if value not in ("on", "off"):
            raise OptionsError("%s takes on or off" % name)
    if o.log_level not in LOG_LEVELS:
        raise OptionsError("--log-level takes debug, info, warning or error")
    if o.max_seconds < 0:
        raise OptionsError("--max-seconds must not be negative")
    if o.host is not None:
        o.host = _host_bytes(o.host)
    return o


def options_from(argv=None, write_error=None):
    """``(options, None)``, or ``(None, exit status)`` after writing the error or the usage text (to stderr by
    default): 0 for ``--help``, 2 for a bad command line.  ``argv`` defaults to the process's arguments."""
    if argv is None:
        argv = sys.argv[1:]
    if write_error is None:
        write_error = sys.stderr.write
    try:
        return parse_args(argv), None
    except OptionsError as e:
        write_error(str(e) + "\n")
        return None, 0 if e.usage else 2


def _host_bytes(text):
    digits = text.replace(":", "").replace("-", "")
    if len(digits) not in (12, 16):
        raise OptionsError("--host takes 6 or 8 bytes in hex")
    try:
        return bytes(int(digits[i:i + 2], 16) for i in range(0, len(digits), 2))
    except ValueError:
        raise OptionsError("--host takes 6 or 8 bytes in hex")


# --- attestation material ------------------------------------------------------------------------------

PAA_FOR_VENDOR = {0xFFF1: "test-paa-fff1"}
PAA_OTHER = "test-paa-novid"
CD_SIGNING_KEY = "test-cd-signing-key.pem"


def attestation_source(options, read_file):
    """What the device attests with: ``AttestationMaterial`` from ``--attestation DIR`` (``dac.der``,
    ``pai.der``, ``cd.der``, ``dac_key.pem`` as ``tools/make_attestation.py`` writes them), else a
    ``DevelopmentAuthority`` from the test PAA of the vendor and the test CD-signing key in ``--credentials
    DIR``; None without either.  ``read_file(path, binary)`` is the runtime's file reader."""
    if options.attestation:
        from micromatter.certs import keys  # a key file only here: a board's DAC key comes from its storage

        d = options.attestation.rstrip("/") + "/"
        key = keys.parse_private_key_pem(read_file(d + "dac_key.pem", False))[0]
        return AttestationMaterial(read_file(d + "dac.der", True), read_file(d + "pai.der", True),
                                   read_file(d + "cd.der", True), key)
    if options.credentials:
        d = options.credentials.rstrip("/") + "/"
        paa = PAA_FOR_VENDOR.get(options.vendor_id, PAA_OTHER)
        return DevelopmentAuthority.from_pem(read_file(d + paa + "-cert.pem", False),
                                             read_file(d + paa + "-key.pem", False),
                                             read_file(d + CD_SIGNING_KEY, False))
    return None


def make_config(crypto, options, attestation, host=None, ipv4=(), ipv6=()):
    """The node's ``DeviceConfig`` for these options (the passcode becomes a verifier and is dropped)."""
    return DeviceConfig.from_passcode(
        crypto, options.passcode, options.discriminator, vendor_id=options.vendor_id,
        product_id=options.product_id, port=options.port, host=host, ipv4=tuple(ipv4), ipv6=tuple(ipv6),
        attestation=attestation)


# --- what the device prints -------------------------------------------------------------------------------

def plain(value):
    """``value`` with bytes as hex and tuples as lists: what ``json.dumps`` takes on both runtimes."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "".join("%02x" % b for b in bytes(value))
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def write_line(text):
    """``text`` as one line on stdout, flushed at once: a harness or a person reads the lines as they come."""
    sys.stdout.write(text + "\n")
    try:
        sys.stdout.flush()
    except (AttributeError, OSError):  # a MicroPython build whose stdout has no flush
        pass


def event_line(event):
    """The ``EVENT {json}`` line of one node event."""
    return "EVENT " + json.dumps(plain(event))


def _node_id(value):
    return "0x%016X" % value if isinstance(value, int) else str(value)


def describe(event):
    """One line a person reads for a node event (None: not worth a line)."""
    kind = event.get("event")
    g = event.get
    if kind == "online":
        state = "commissioned on %d fabric(s)" % g("fabrics", 0) if g("commissioned") else "not commissioned"
        return "online on UDP port %s, %s; manual pairing code %s" % (
            g("port"), state, onboarding.format_manual_code(g("manual_code") or ""))
    if kind == "window":
        if g("state") == "open":
            return "commissioning window open (%s, discriminator %s)" % (g("kind"), g("discriminator"))
        return "commissioning window closed (%s)" % g("reason")
    if kind == "session":
        text = "session %s (%s), id %s" % (g("kind"), g("role"), g("session"))
        if g("fabric_index") is not None:
            text += ", fabric %s, peer node %s" % (g("fabric_index"), g("peer"))
        return text
    if kind == "pase_failed":
        return "PASE failed: status %s (%s)" % (g("status"), g("error"))
    if kind == "case_failed":
        return "CASE failed: status %s (%s)" % (g("status"), g("error"))
    if kind == "commissioned":
        return "commissioned: fabric %s committed" % g("fabric_index")
    if kind == "fabrics":
        listed = ", ".join("%s: fabric %s node %s vendor 0x%04X" % (
            f.get("index"), _node_id(f.get("fabric_id")), _node_id(f.get("node_id")), f.get("vendor_id") or 0)
            for f in g("fabrics") or ())
        return "fabrics: %s%s" % (g("count"), " (" + listed + ")" if listed else "")
    if kind == "failsafe":
        return "fail-safe %s" % g("state")
    if kind == "onoff":
        return "light %s" % ("on" if g("value") else "off")
    if kind == "identify":
        return "identify for %s s" % g("seconds")
    if kind == "stopped":
        return "stopped"
    if kind == "heap":
        return "heap: " + ", ".join("%s %s" % (k, v) for k, v in event.items() if k != "event")
    if kind == "addresses":
        return "addresses: %s" % ", ".join(g("ipv4", []) + g("ipv6", []))
    return None


def banner(event, ink_dark=False):
    """The lines shown when the device comes up uncommissioned: QR code, its payload and the manual code."""
    qr_text = event.get("qr_code")
    manual = event.get("manual_code")
    if not qr_text or not manual:
        return []
    from micromatter import qrcode  # 12 KB of heap that only an uncommissioned start needs, once

    lines = [qrcode.render(qrcode.encode(qr_text, "M"), ink_dark=ink_dark), "QR code payload: " + qr_text,
             "Manual pairing code: %s (%s)" % (onboarding.format_manual_code(manual), manual)]
    return lines


# --- the node on a UDP loop --------------------------------------------------------------------------------

class _Output:
    """What a loop endpoint returns: Matter datagrams for the loop to send (events are printed already)."""

    def __init__(self, messages):
        self.messages = messages
        self.events = ()


_NOTHING = _Output(())


def _exact(data, length):
    """The datagram as bytes of its own length: MicroPython's ``recvfrom`` gives exactly that already (no copy);
    CPython's loop hands over its reused receive buffer and the length."""
    if isinstance(data, bytes) and len(data) == length:
        return data
    return bytes(memoryview(data)[:length])


class MdnsEndpoint:
    """The loop endpoint of the mDNS sockets: datagrams to ``Node.on_mdns``; no timers of its own (the
    node's timers, mDNS included, run from the Matter endpoint)."""

    def __init__(self, runner):
        self.runner = runner

    def on_datagram(self, data, length, peer, now_ms):
        return self.runner.call_mdns(data, length, peer, now_ms)

    def next_deadline(self):
        return None

    def on_timer(self, now_ms):
        return _NOTHING


class DeviceRunner:
    """``node`` between a loop and the outside: ``send_matter(data, peer)`` for Matter datagrams produced
    outside a loop callback (start, address changes, stop); ``send_mdns(data, destination)`` for every mDNS
    datagram (``MULTICAST`` or a source address); ``write_line(text)`` prints a line on stdout (flushed);
    ``accept(peer)`` filters sources (None: all); ``heap`` (optional) has ``after_call()`` and ``report()``;
    ``on_event(event)`` (optional) sees every event after it is printed (a board drives its GPIO with it)."""

    def __init__(self, node, send_matter, send_mdns, write_line, accept=None, heap=None, show_banner=True,
                 on_event=None):
        self.node = node
        self.send_matter = send_matter
        self.send_mdns = send_mdns
        self.write_line = write_line
        self.accept = accept
        self.heap = heap
        self.show_banner = show_banner
        self.on_event = on_event
        self.mdns = MdnsEndpoint(self)
        self.dropped = 0

    # --- routing ----------------------------------------------------------------------------------------

    def _route(self, outs, direct):
        messages = []
        for channel, data, address in outs:
            if channel == MATTER:
                if direct:
                    self.send_matter(data, address)
                else:
                    messages.append((data, address))
            elif channel == MDNS:
                self.send_mdns(data, address)
        self.flush_events()
        if self.heap is not None:
            self.heap.after_call()
        return messages

    def flush_events(self):
        """Print what the node has to say: an EVENT line and a log line per event."""
        events = self.node.events
        if not events:
            return
        for event in events.take():
            self.print_event(event)

    def print_event(self, event):
        self.write_line(event_line(event))
        text = describe(event)
        if text is not None:
            log.info(_TAG, text)
        if event.get("event") == "online" and self.show_banner and not event.get("commissioned"):
            for line in banner(event):
                self.write_line(line)
        if self.on_event is not None:
            self.on_event(event)

    # --- the Matter endpoint -------------------------------------------------------------------------------

    def on_datagram(self, data, length, peer, now_ms):
        if self.accept is not None and not self.accept(peer):
            self.dropped += 1
            return _NOTHING
        outs = self.node.on_datagram(_exact(data, length), peer, now_ms)
        return _Output(self._route(outs, False))

    def next_deadline(self):
        return self.node.next_deadline()

    def on_timer(self, now_ms):
        return _Output(self._route(self.node.poll(now_ms), False))

    def call_mdns(self, data, length, peer, now_ms):
        if self.accept is not None and not self.accept(peer):
            self.dropped += 1
            return _NOTHING
        self._route(self.node.on_mdns(_exact(data, length), peer, now_ms), True)
        return _NOTHING

    # --- outside the loop ------------------------------------------------------------------------------

    def start(self, now_ms):
        self._route(self.node.start(now_ms), True)

    def set_addresses(self, ipv4, ipv6, now_ms):
        """New interface addresses (bytes): the node re-announces; an ``addresses`` event is printed."""
        self._route(self.node.set_addresses(ipv4, ipv6, now_ms), True)
        self.print_event({"event": "addresses", "ipv4": [address_text(a) for a in ipv4],
                          "ipv6": [address_text(a) for a in ipv6]})

    def report_heap(self, reason):
        """Print an EVENT ``heap`` line with the runtime's figures (nothing without a ``heap``)."""
        if self.heap is None:
            return
        event = {"event": "heap", "reason": reason}
        event.update(self.heap.report())
        self.print_event(event)

    def stop(self, now_ms):
        """CloseSession to peers, mDNS goodbyes, records stored (``Node.stop``), all sent directly."""
        try:
            outs = self.node.stop(now_ms)
        except MatterError as e:
            log.error(_TAG, "stop failed: %r" % e)
            outs = []
        self._route(outs, True)


class AddressWatcher:
    """A loop timer source that reads the interface's addresses every ``ADDRESS_CHECK_MS`` and tells the node
    when they changed.  ``read()`` returns ``(ipv4, ipv6)`` lists of bytes."""

    def __init__(self, runner, read, current, clock, interval_ms=ADDRESS_CHECK_MS):
        self.runner = runner
        self.read = read
        self.current = current
        self.interval_ms = interval_ms
        self.deadline = clock() + interval_ms

    def next_deadline(self):
        return self.deadline

    def on_timer(self, now_ms):
        self.deadline = now_ms + self.interval_ms
        try:
            found = self.read()
        except (OSError, MatterError) as e:
            log.warning(_TAG, "cannot read the interface's addresses: %r" % e)
            return _NOTHING
        if (found[0] or found[1]) and found != self.current:  # an interface with no address keeps its last set
            self.current = found
            self.runner.set_addresses(found[0], found[1], now_ms)
        return _NOTHING


class Deadline:
    """A loop timer source calling ``action()`` once, at ``at_ms``."""

    def __init__(self, at_ms, action):
        self.at_ms = at_ms
        self.action = action

    def next_deadline(self):
        return self.at_ms

    def on_timer(self, now_ms):
        self.at_ms = None
        self.action()
        return _NOTHING


class Device:
    """One device process: the node, its sockets on ``loop`` and its timers, from ``options``.

    ``port``: the runtime's ``Port``; ``net``: the runtime's network helpers (``micromatter_mp.net``,
    ``micromatter_cpython.net``: ``interfaces``, ``matter_sockets``, ``mdns_sockets``, ``read_file``);
    ``loop``: its ``UdpLoop`` (a ``micromatter.udploop.UdpLoopCore``: it also sends); ``heap``: optional figures
    (``after_call()``, ``report()``).  ``open(now_ms)`` binds, starts the node and prints ``online``; the
    port then runs the loop until a stop request and calls ``stop(now_ms)``.  A board gives its ``config`` (a
    ``DeviceConfig``: it has a verifier, not a passcode) and ``storage`` instead of the options' passcode and
    storage directory, and ``on_event`` for its GPIO (``micromatter_mp.device.run_board``)."""

    def __init__(self, port, net, loop, options, write_line, heap=None, config=None, storage=None, on_event=None):
        self.port = port
        self.net = net
        self.loop = loop
        self.options = options
        self.write_line = write_line
        self.heap = heap
        self.config = config
        self.storage = storage
        self.on_event = on_event
        self.interface = None
        self.node = None
        self.runner = None
        self.mdns = []  # (socket, group address)

    def _extra_addresses(self):
        try:
            return [ipv4_bytes(a) for a in self.options.ipv4], [ipv6_bytes(a) for a in self.options.ipv6]
        except MatterError as e:
            raise OptionsError("bad --ipv4/--ipv6 address: %s" % e)

    def _addresses(self):
        v4, v6 = self.net.interfaces.addresses(self.interface) if self.interface else ([], [])
        x4, x6 = self._extra_addresses()
        return v4 + [a for a in x4 if a not in v4], v6 + [a for a in x6 if a not in v6]

    def open(self, now_ms):
        o = self.options
        net = self.net
        log.set_level(LOG_LEVELS[o.log_level])
        loopback = o.mdns == "loopback"
        interfaces = net.interfaces
        if loopback:
            self.interface = "lo"
        elif o.interface:
            if not interfaces.exists(o.interface):
                raise OptionsError("no interface %r here (%s)" % (o.interface, ", ".join(interfaces.names())))
            self.interface = o.interface
        else:
            self.interface = interfaces.choose()
            if self.interface is None:
                log.warning(_TAG, "no network interface up: Matter on UDP only, no mDNS")
        ipv4, ipv6 = self._addresses()
        host = o.host
        if host is None and self.interface and not loopback:
            host = interfaces.mac(self.interface)
        config = self.config
        if config is None:
            attestation = attestation_source(o, net.read_file)
            if attestation is None:
                log.warning(_TAG, "no attestation material (--credentials or --attestation): commissioners will "
                                  "refuse the device")
            config = make_config(self.port.crypto, o, attestation, host, ipv4, ipv6)
        storage = self.storage if self.storage is not None else self.port.open_storage(o.storage)
        self.node = Node(self.port, storage, config)
        self.node.exchanges.session_not_found = o.session_not_found == "on"
        self.node.mdns.probe = o.mdns_probe == "on"
        self.runner = DeviceRunner(self.node, self._send_matter, self._send_mdns, self.write_line,
                                   is_loopback if loopback else None, self.heap, not o.no_banner, self.on_event)
        for family, sock in net.matter_sockets(o.port, loopback):
            self.loop.add_socket(sock, self.runner, family)
        if o.mdns != "off" and self.interface:
            for family, sock, group in net.mdns_sockets(self.interface, interfaces.ifindex(self.interface)):
                self.mdns.append((sock, group))
                self.loop.add_socket(sock, self.runner.mdns, family)
            if not self.mdns:
                log.warning(_TAG, "no mDNS socket could be opened: controllers will not discover the device")
        if self.interface and not loopback:
            self.loop.add_timer(AddressWatcher(self.runner, self._addresses, (ipv4, ipv6), self.port.now_ms))
        if o.max_seconds:
            self.loop.add_timer(Deadline(now_ms + o.max_seconds * 1000, self.loop.stop))
        log.info(_TAG, "interface %s, addresses %s, mDNS %s, storage %s" % (
            self.interface, ", ".join(address_text(a) for a in ipv4 + ipv6) or "none",
            o.mdns if self.mdns else "off", o.storage))
        self.runner.start(now_ms)
        return self.runner

    def _send_matter(self, data, peer):
        self.loop.send(self.runner, data, peer)

    def _send_mdns(self, data, destination):
        if isinstance(destination, str):  # MULTICAST (peers are tuples or raw sockaddr bytes)
            for sock, group in self.mdns:
                self.loop.sendto(sock, data, group)
        else:  # a querier's address: the mDNS socket of its family (the IPv6 one is IPv6-only)
            self.loop.send(self.runner.mdns, data, destination, False)

    def start(self, now_ms):
        """``open`` for a process's entry point: True, or False after logging why the device cannot run (a
        socket that cannot be bound, a bad address, unreadable attestation files) with everything closed."""
        try:
            self.open(now_ms)
            return True
        except (OSError, MatterError) as e:
            log.error(_TAG, "cannot start: %r" % e)
            self.loop.close()
            return False

    def command(self, line):
        """One control line (``--control-stdin``): ``stop`` or the end of input ("") stops the loop, ``heap``
        prints the heap figures.  True when the device is stopping."""
        if not line:
            log.info(_TAG, "stdin closed: stopping")
            self.loop.stop()
            return True
        text = line[:MAX_COMMAND].strip()
        if text == "stop":
            self.loop.stop()
            return True
        if text == "heap":
            self.runner.report_heap("request")
        elif text:
            log.warning(_TAG, "unknown command %r" % text)
        return False

    def stop(self, now_ms):
        """``Node.stop`` (CloseSession, goodbyes, records), the last heap figures, then the sockets closed."""
        if self.runner is not None:
            self.runner.stop(now_ms)
            self.runner.report_heap("stop")
        self.loop.close()
