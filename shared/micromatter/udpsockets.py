"""UDP sockets for a device, for both ports: the address forms the runtimes' ``socket`` modules use, what a
peer's address says (family, loopback), and which sockets a device opens: Matter on every address (one
dual-stack socket where the runtime allows, else one per family) or on loopback only, mDNS on one interface,
nothing left open when a step fails half-way.

Addresses: the unix MicroPython port takes and gives raw Linux ``sockaddr`` bytes (``sockaddr_in``: family,
port, 4 address bytes, 8 zero bytes; ``sockaddr_in6``: family, port, flow info, 16 address bytes, scope id);
CPython and an ESP32 use tuples (``(host, port)``, ``(host, port, flow, scope)``).  The loop and the device
runtime ask the same questions of both, answered here with no ``socket`` import.  A port's ``net`` module
subclasses ``UdpSockets`` with only what its ``socket`` module forces: the address form ``bind`` takes and the
option numbers (the unix port has no constants for most of them; an ESP32's lwIP takes another membership
request).  Addresses are given here as bytes (4 or 16).
"""

import struct

from micromatter import log
from micromatter.compat import const
from micromatter.dnssd.address import AddressError, ipv4_bytes, ipv4_text, ipv6_bytes, ipv6_text

MDNS_PORT = const(5353)
MDNS_GROUP4 = b"\xe0\x00\x00\xfb"  # 224.0.0.251
MDNS_GROUP6 = b"\xff\x02" + bytes(13) + b"\xfb"  # ff02::fb
ANY4 = bytes(4)
ANY6 = bytes(16)
LOOPBACK4 = b"\x7f\x00\x00\x01"
LOOPBACK6 = bytes(15) + b"\x01"
_LINUX_AF_INET = const(2)  # a raw sockaddr's family field, little-endian in its first two bytes
_LINUX_AF_INET6 = const(10)
_MAPPED = bytes(10) + b"\xff\xff"
_TAG = "net"


def raw_sockaddr(address, port, scope_id=0):
    """A raw Linux ``sockaddr_in`` (16 bytes) for 4 address bytes, or ``sockaddr_in6`` (28 bytes, ``scope_id``
    in host order) for 16."""
    if not isinstance(address, (bytes, bytearray, memoryview)) or len(address) not in (4, 16) or \
            not isinstance(port, int) or not 0 <= port <= 0xFFFF:
        raise AddressError("a raw sockaddr takes 4 or 16 address bytes and a port 0..65535")
    if len(address) == 4:
        return bytes((_LINUX_AF_INET, 0, port >> 8, port & 0xFF)) + bytes(address) + bytes(8)
    return bytes((_LINUX_AF_INET6, 0, port >> 8, port & 0xFF)) + bytes(4) + bytes(address) + \
        struct.pack("@I", scope_id)


def is_ipv4(address):
    """True for an IPv4 peer: a raw ``sockaddr_in`` or a ``(host, port)`` tuple with a dotted host (IPv6 peers
    are ``sockaddr_in6`` bytes, 4-tuples or hosts with colons)."""
    if isinstance(address, (bytes, bytearray)):
        return len(address) >= 2 and address[0] == _LINUX_AF_INET and address[1] == 0
    return isinstance(address, tuple) and len(address) == 2 and isinstance(address[0], str) and \
        ":" not in address[0]


def is_loopback(peer):
    """True for a peer in 127.0.0.0/8 or ``::1`` (IPv4-mapped loopback too), in either form; False for
    anything that is not a peer address."""
    if isinstance(peer, (bytes, bytearray)):
        if is_ipv4(peer):
            return len(peer) >= 8 and peer[4] == 127
        if len(peer) < 24:
            return False
        address = bytes(peer[8:24])
    elif isinstance(peer, tuple) and peer and isinstance(peer[0], str):
        try:
            if is_ipv4(peer):
                return ipv4_bytes(peer[0])[0] == 127
            address = ipv6_bytes(peer[0])
        except AddressError:
            return False
    else:
        return False
    return address == LOOPBACK6 or (address[:12] == _MAPPED and address[12] == 127)


class UdpSockets:
    """The device's socket set-up over the runtime's ``socket`` module (``socket_module``).  The port gives
    what that module does not say the same way: the option levels and names below (the unix port has no
    constants for most: it spells out Linux's), ``HAS_IPV6`` (False also without ``AF_INET6``), ``MDNS_IPV6``
    (the port can join ff02::fb) and, unless its sockets take tuples, ``sockaddr``."""

    HAS_IPV6 = True
    MDNS_IPV6 = True
    IPPROTO_IP = IPPROTO_IPV6 = None
    IP_ADD_MEMBERSHIP = IP_MULTICAST_IF = IP_MULTICAST_TTL = None
    IPV6_V6ONLY = IPV6_JOIN_GROUP = IPV6_MULTICAST_IF = IPV6_MULTICAST_HOPS = None

    def __init__(self, socket_module):
        self.module = socket_module
        self.AF_INET = socket_module.AF_INET
        self.AF_INET6 = getattr(socket_module, "AF_INET6", None)
        if self.AF_INET6 is None:
            self.HAS_IPV6 = False

    def family_of(self, address):
        """``AF_INET`` or ``AF_INET6`` for a peer address in either form (``is_ipv4``)."""
        return self.AF_INET if is_ipv4(address) else self.AF_INET6

    def sockaddr(self, family, address, port, scope_id=0):
        """The address ``bind`` and ``sendto`` take for 4 or 16 address bytes: ``(host, port)`` or ``(host,
        port, flow, scope_id)``."""
        if family == self.AF_INET:
            return (ipv4_text(address), port)
        return (ipv6_text(address), port, 0, scope_id)

    def socket(self, family):
        if family is None:
            raise OSError(97, "no IPv6 here")  # EAFNOSUPPORT
        return self.module.socket(family, self.module.SOCK_DGRAM)

    def join_mdns(self, sock, family, ifindex):
        """Join the mDNS group of ``family`` on interface ``ifindex`` (an ``ip_mreqn`` / ``ipv6_mreq`` naming
        it by index) and send multicast out of it with TTL/hops 255 (RFC 6762 section 11)."""
        index = struct.pack("@i", ifindex)  # a C int in host order
        if family == self.AF_INET:
            sock.setsockopt(self.IPPROTO_IP, self.IP_ADD_MEMBERSHIP, MDNS_GROUP4 + ANY4 + index)
            sock.setsockopt(self.IPPROTO_IP, self.IP_MULTICAST_IF, ANY4 + ANY4 + index)
            sock.setsockopt(self.IPPROTO_IP, self.IP_MULTICAST_TTL, 255)
        else:
            sock.setsockopt(self.IPPROTO_IPV6, self.IPV6_JOIN_GROUP, MDNS_GROUP6 + index)
            sock.setsockopt(self.IPPROTO_IPV6, self.IPV6_MULTICAST_IF, ifindex)
            sock.setsockopt(self.IPPROTO_IPV6, self.IPV6_MULTICAST_HOPS, 255)

    def bound(self, family, address, port, v6only=None, reuse=False):
        """A non-blocking UDP socket of ``family`` bound to ``address`` and ``port`` (``SO_REUSEADDR`` with
        ``reuse``; ``IPV6_V6ONLY`` set to ``v6only`` unless None); closed again if any step fails."""
        s = self.socket(family)
        try:
            if reuse:
                s.setsockopt(self.module.SOL_SOCKET, self.module.SO_REUSEADDR, 1)
            if v6only is not None:
                s.setsockopt(self.IPPROTO_IPV6, self.IPV6_V6ONLY, 1 if v6only else 0)
            s.bind(self.sockaddr(family, address, port))
            s.setblocking(False)
        except OSError:
            s.close()
            raise
        return s

    def udp_sockets(self, port, loopback=False):
        """Sockets bound to ``port`` on every address, as ``(family, socket)``: one dual-stack IPv6 socket
        where the runtime allows, else an IPv6 and an IPv4 one (or whichever of the two exists); with
        ``loopback`` one bound to ``::1`` and one to ``127.0.0.1`` (the Matter sockets of ``--mdns loopback``)."""
        if loopback:
            s6 = self.bound(self.AF_INET6, LOOPBACK6, port, v6only=True)
            try:
                s4 = self.bound(self.AF_INET, LOOPBACK4, port)
            except OSError:
                s6.close()
                raise
            return [(self.AF_INET6, s6), (self.AF_INET, s4)]
        sockets = []
        dual = False
        if self.HAS_IPV6:
            s6 = None
            try:
                s6 = self.socket(self.AF_INET6)
                try:
                    s6.setsockopt(self.IPPROTO_IPV6, self.IPV6_V6ONLY, 0)
                    dual = True
                except OSError:
                    pass
                s6.bind(self.sockaddr(self.AF_INET6, ANY6, port))
                s6.setblocking(False)
                sockets.append((self.AF_INET6, s6))
            except OSError as e:
                if s6 is not None:
                    s6.close()
                dual = False
                log.warning(_TAG, "no IPv6 socket: %r" % e)
        if not dual:
            try:
                sockets.append((self.AF_INET, self.bound(self.AF_INET, ANY4, port)))
            except OSError as e:
                if not sockets:
                    raise
                log.info(_TAG, "no separate IPv4 socket (%r): the IPv6 one serves both" % e)
        return sockets

    def mdns_sockets(self, interface, ifindex):
        """The mDNS sockets on ``interface`` as ``(family, socket, group address)``: port 5353 with
        SO_REUSEADDR (other responders share it), the group joined on that interface.  A family that cannot be
        set up is left out with a log line."""
        out = []
        for family, any_address, group, v6only in ((self.AF_INET, ANY4, MDNS_GROUP4, None),
                                                   (self.AF_INET6, ANY6, MDNS_GROUP6, True)):
            if family == self.AF_INET6 and not (self.HAS_IPV6 and self.MDNS_IPV6):
                continue
            try:
                s = self.bound(family, any_address, MDNS_PORT, v6only=v6only, reuse=True)
                try:
                    self.join_mdns(s, family, ifindex)
                except OSError:
                    s.close()
                    raise
                out.append((family, s, self.sockaddr(family, group, MDNS_PORT, ifindex)))
            except OSError as e:
                log.warning(_TAG, "no %s mDNS on %s: %r" % ("IPv4" if family == self.AF_INET else "IPv6",
                                                            interface, e))
        return out
