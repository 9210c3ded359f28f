"""An interface's addresses from the text of Linux's ``/proc`` files.

The unix MicroPython port has no ``getifaddrs``, ``ioctl`` or ``if_nametoindex``; Linux publishes the same
facts as text: ``/proc/net/if_inet6`` (IPv6 addresses with interface index and flags), ``/proc/net/fib_trie``
(the local IPv4 addresses) and ``/proc/net/route`` (which interface each IPv4 network is on).  The runtime
reads the files (the core opens nothing) and these pure functions parse them, so both ports and the tests
share one parser.  Addresses come out as bytes (4 or 16), the form the mDNS responder takes.
"""

from micromatter.errors import MatterError

# /proc/net/if_inet6 flags (linux/if_addr.h): addresses that cannot be used yet or any more
IFA_F_DADFAILED = 0x08
IFA_F_TENTATIVE = 0x40
_UNUSABLE = IFA_F_DADFAILED | IFA_F_TENTATIVE
SCOPE_GLOBAL = 0x00
SCOPE_HOST = 0x10
SCOPE_LINK = 0x20
MAX_LINES = 4096  # more than any real table; the parsers stop there


class IfaddrsError(MatterError):
    """A /proc line that does not have the documented shape."""


class Inet6Address:
    """One line of ``/proc/net/if_inet6``: ``address`` (16 bytes), ``ifindex``, ``prefix``, ``scope``,
    ``flags``, ``interface`` (its name)."""

    def __init__(self, address, ifindex, prefix, scope, flags, interface):
        self.address = address
        self.ifindex = ifindex
        self.prefix = prefix
        self.scope = scope
        self.flags = flags
        self.interface = interface

    @property
    def usable(self):
        return not self.flags & _UNUSABLE


def _lines(text):
    lines = text.split("\n")
    return lines[:MAX_LINES]


def parse_if_inet6(text):
    """Every address of ``/proc/net/if_inet6`` as an ``Inet6Address``; ``IfaddrsError`` on a malformed line."""
    out = []
    for line in _lines(text):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 6 or len(parts[0]) != 32:
            raise IfaddrsError("not an if_inet6 line: %r" % line[:80])
        try:
            address = bytes(int(parts[0][i:i + 2], 16) for i in range(0, 32, 2))
            out.append(Inet6Address(address, int(parts[1], 16), int(parts[2], 16), int(parts[3], 16),
                                    int(parts[4], 16), parts[5]))
        except ValueError:
            raise IfaddrsError("not an if_inet6 line: %r" % line[:80])
    return out


def ipv6_addresses(text, interface):
    """The usable IPv6 addresses of ``interface`` (16 bytes each): global and unique-local ones first, then
    link-local ones; host-scope (``::1``) only for the loopback interface."""
    found = [a for a in parse_if_inet6(text) if a.interface == interface and a.usable]
    found.sort(key=lambda a: (a.scope == SCOPE_LINK, a.address))
    return [a.address for a in found]


def ifindex(text, interface):
    """The interface index of ``interface`` from ``/proc/net/if_inet6``, or None if it has no IPv6 address."""
    for a in parse_if_inet6(text):
        if a.interface == interface:
            return a.ifindex
    return None


def _dotted(text):
    parts = text.split(".")
    if len(parts) != 4:
        return None
    try:
        values = [int(p) for p in parts]
    except ValueError:
        return None
    for v in values:
        if not 0 <= v <= 255:
            return None
    return bytes(values)


def local_ipv4(fib_trie):
    """The local (``/32 host LOCAL``) IPv4 addresses in ``/proc/net/fib_trie``, each once, in table order."""
    out = []
    last = None
    for line in _lines(fib_trie):
        s = line.strip()
        if s.startswith("|-- "):
            last = _dotted(s[4:].strip())
        elif s.startswith("/32 host LOCAL") and last is not None:
            if last not in out:
                out.append(last)
            last = None
    return out


def _route_u32(text):
    """A /proc/net/route field: the address bytes in memory order, printed as one hex number."""
    v = int(text, 16)
    return bytes(((v >> 0) & 255, (v >> 8) & 255, (v >> 16) & 255, (v >> 24) & 255))


def interface_networks(route, interface):
    """The ``(network, mask)`` pairs (4 bytes each) that ``/proc/net/route`` puts on ``interface``, the default
    route left out."""
    out = []
    for line in _lines(route)[1:]:
        parts = line.split()
        if len(parts) < 8 or parts[0] != interface:
            continue
        try:
            network, mask = _route_u32(parts[1]), _route_u32(parts[7])
        except ValueError:
            raise IfaddrsError("not a route line: %r" % line[:80])
        if mask != b"\x00\x00\x00\x00":
            out.append((network, mask))
    return out


def ipv4_addresses(fib_trie, route, interface):
    """The IPv4 addresses of ``interface``: the local addresses that fall into one of its routed networks
    (``127.0.0.1`` for ``lo``, which has no route in the main table).  Multicast networks never match a local
    address."""
    local = local_ipv4(fib_trie)
    if interface == "lo":
        return [a for a in local if a == b"\x7f\x00\x00\x01"]
    nets = interface_networks(route, interface)
    out = []
    for a in local:
        for network, mask in nets:
            if all((a[i] & mask[i]) == network[i] for i in range(4)):
                out.append(a)
                break
    return out


def parse_mac(text):
    """``aa:bb:cc:dd:ee:ff`` (``/sys/class/net/IF/address``) as 6 bytes; ``IfaddrsError`` otherwise."""
    parts = text.strip().split(":")
    if len(parts) != 6:
        raise IfaddrsError("not a MAC address: %r" % text[:40])
    try:
        return bytes(int(p, 16) for p in parts)
    except ValueError:
        raise IfaddrsError("not a MAC address: %r" % text[:40])


class LinuxInterfaces:
    """The interfaces of a Linux host (or of the network namespace the process runs in), through the
    runtime's ``read_text(path)`` and ``listdir(path)``: ``/sys/class/net`` and the ``/proc`` files above."""

    def __init__(self, read_text, listdir):
        self.read_text = read_text
        self.listdir = listdir

    def names(self):
        return sorted(self.listdir("/sys/class/net"))

    def _sys(self, name, leaf):
        return self.read_text("/sys/class/net/%s/%s" % (name, leaf)).strip()

    def exists(self, name):
        return name in self.names()

    def ifindex(self, name):
        try:
            return int(self._sys(name, "ifindex"))
        except ValueError:
            raise IfaddrsError("no interface index for %s" % name)

    def mac(self, name):
        """The interface's MAC (6 bytes), or None when it has none (``lo``, tunnels)."""
        try:
            mac = parse_mac(self._sys(name, "address"))
        except IfaddrsError:
            return None
        return None if mac == bytes(6) else mac

    def is_up(self, name):
        """Administratively and operationally usable (veth pairs and some drivers report ``unknown``)."""
        return self._sys(name, "operstate") in ("up", "unknown")

    def addresses(self, name):
        """``(ipv4, ipv6)``: the interface's addresses as lists of bytes."""
        v6 = ipv6_addresses(self.read_text("/proc/net/if_inet6"), name)
        v4 = ipv4_addresses(self.read_text("/proc/net/fib_trie"), self.read_text("/proc/net/route"), name)
        return v4, v6

    def choose(self):
        """The interface a device serves on when none is named: the first (by name) that is up and has an
        address other than a link-local one, else the first up with any address; never ``lo``.  None when
        there is none."""
        fallback = None
        for name in self.names():
            if name == "lo" or not self.is_up(name):
                continue
            v4, v6 = self.addresses(name)
            if v4 or [a for a in v6 if a[0] != 0xFE]:
                return name
            if v6 and fallback is None:
                fallback = name
        return fallback
