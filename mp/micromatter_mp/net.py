"""The MicroPython port's network helpers for the device runtime: interfaces, sockets, multicast, addresses.

Unix port (Linux): addresses and interface facts come from ``/sys/class/net`` and ``/proc`` text
(``micromatter.ifaddrs``): the port has no ``ioctl`` or ``getifaddrs``.  Its ``socket`` module takes and gives
raw ``sockaddr`` bytes and lacks most option constants, so the Linux values are spelled out here: IPv6
multicast join is level 41 option 20 with a 20-byte ``ipv6_mreq``; IPv4 uses level 0 (no ``IPPROTO_IP``
constant) with a 12-byte ``ip_mreqn`` naming the interface by index.

ESP32 (untested on hardware here): addresses from ``network``; IPv4 multicast with an 8-byte ``ip_mreq``
(lwIP), peers as ``(host, port)`` tuples.
"""

import os
import socket
import struct
import sys

from micromatter import log
from micromatter.errors import MatterError
from micromatter_mp.loop import family_of, udp_sockets  # noqa: F401  (family_of is part of this interface)

AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6
UNIX = sys.platform == "linux"

IPPROTO_IP = 0
IPPROTO_IPV6 = 41
IP_MULTICAST_IF = 32
IP_MULTICAST_TTL = 33
IPV6_V6ONLY = 26
IPV6_MULTICAST_IF = 17
IPV6_MULTICAST_HOPS = 18
IPV6_JOIN_GROUP = 20
MDNS_PORT = 5353
MDNS_GROUP4 = b"\xe0\x00\x00\xfb"  # 224.0.0.251
MDNS_GROUP6 = b"\xff\x02" + bytes(13) + b"\xfb"  # ff02::fb
_LOOPBACK6 = bytes(15) + b"\x01"
_MAPPED = bytes(10) + b"\xff\xff"
_TAG = "net"


def read_file(path, binary=False):
    with open(path, "rb" if binary else "r") as f:
        return f.read()


class NetworkInterfaces:
    """The board's station interface through ``network`` (the ``LinuxInterfaces`` interface): one interface,
    ``wlan``, with its IPv4 address, IPv6 addresses where the firmware has ``ipconfig('addr6')``, and MAC."""

    NAME = "wlan"

    def _nic(self):
        import network

        return network.WLAN(network.STA_IF)

    def names(self):
        return [self.NAME]

    def exists(self, name):
        return name == self.NAME

    def ifindex(self, name):
        return 0

    def mac(self, name):
        return bytes(self._nic().config("mac"))

    def addresses(self, name):
        from micromatter.dnssd.address import ipv4_bytes, ipv6_bytes

        nic = self._nic()
        if not nic.isconnected():
            return [], []
        v4 = [ipv4_bytes(nic.ifconfig()[0])]
        v6 = []
        try:
            for entry in nic.ipconfig("addr6"):
                v6.append(ipv6_bytes((entry[0] if isinstance(entry, tuple) else entry).split("%")[0]))
        except (AttributeError, ValueError, OSError, TypeError, MatterError):
            pass
        return v4, v6

    def choose(self):
        return self.NAME if self._nic().isconnected() else None


if UNIX:  # the /proc parser is imported where it is used: an ESP32 has no /proc (8 KB of heap from .mpy)
    from micromatter.ifaddrs import LinuxInterfaces

    interfaces = LinuxInterfaces(read_file, os.listdir)
else:
    interfaces = NetworkInterfaces()


def sockaddr4(address, port):
    """A raw ``sockaddr_in`` (Linux layout) for 4 address bytes."""
    return struct.pack("<H", AF_INET) + struct.pack(">H", port) + bytes(address) + bytes(8)


def sockaddr6(address, port, scope_id=0):
    """A raw ``sockaddr_in6`` (Linux layout) for 16 address bytes."""
    return struct.pack("<H", AF_INET6) + struct.pack(">H", port) + bytes(4) + bytes(address) + \
        struct.pack("<I", scope_id)


def is_loopback(peer):
    """True for a raw sockaddr from 127.0.0.0/8 or ::1 (IPv4-mapped loopback too)."""
    if isinstance(peer, tuple):
        host = peer[0]
        return host.startswith("127.") or host in ("::1", "::ffff:127.0.0.1")
    peer = bytes(peer)
    if len(peer) >= 8 and peer[0] == AF_INET and peer[1] == 0:
        return peer[4] == 127
    if len(peer) >= 24:
        addr = peer[8:24]
        return addr == _LOOPBACK6 or (addr[:12] == _MAPPED and addr[12] == 127)
    return False


def sendto(sock, data, peer):
    sock.sendto(data, peer)


def _bound(family, address, port, v6only=None, reuse=False):
    s = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if reuse:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if v6only is not None:
            s.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 1 if v6only else 0)
        s.bind(sockaddr6(address, port) if family == AF_INET6 else sockaddr4(address, port))
        s.setblocking(False)
    except OSError:
        s.close()
        raise
    return s


def matter_sockets(port, loopback=False):
    """The Matter UDP sockets as ``(family, socket)``: dual-stack on every address (``loop.udp_sockets``), or
    with ``loopback`` one bound to ``::1`` and one to ``127.0.0.1``."""
    if not loopback:
        return udp_sockets(port)
    return [(AF_INET6, _bound(AF_INET6, _LOOPBACK6, port, v6only=True)),
            (AF_INET, _bound(AF_INET, b"\x7f\x00\x00\x01", port))]


def mdns_sockets(interface, ifindex):
    """The mDNS sockets on ``interface`` as ``(family, socket, group sockaddr)``: port 5353 with
    SO_REUSEADDR, the groups 224.0.0.251 and ff02::fb joined on that interface, multicast sent out of it
    (TTL/hops 255, RFC 6762 section 11).  A family that cannot be set up is left out with a log line."""
    out = []
    if not UNIX:
        return _esp32_mdns_sockets()
    mreqn = MDNS_GROUP4 + bytes(4) + struct.pack("<i", ifindex)
    try:
        s4 = _bound(AF_INET, bytes(4), MDNS_PORT, reuse=True)
        try:
            s4.setsockopt(IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
            s4.setsockopt(IPPROTO_IP, IP_MULTICAST_IF, bytes(8) + struct.pack("<i", ifindex))
            s4.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, 255)
        except OSError:
            s4.close()
            raise
        out.append((AF_INET, s4, sockaddr4(MDNS_GROUP4, MDNS_PORT)))
    except OSError as e:
        log.warning(_TAG, "no IPv4 mDNS on %s: %r" % (interface, e))
    try:
        s6 = _bound(AF_INET6, bytes(16), MDNS_PORT, v6only=True, reuse=True)
        try:
            s6.setsockopt(IPPROTO_IPV6, IPV6_JOIN_GROUP, MDNS_GROUP6 + struct.pack("<I", ifindex))
            s6.setsockopt(IPPROTO_IPV6, IPV6_MULTICAST_IF, struct.pack("<I", ifindex))
            s6.setsockopt(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255)
        except OSError:
            s6.close()
            raise
        out.append((AF_INET6, s6, sockaddr6(MDNS_GROUP6, MDNS_PORT, ifindex)))
    except OSError as e:
        log.warning(_TAG, "no IPv6 mDNS on %s: %r" % (interface, e))
    return out


def _esp32_mdns_sockets():
    """IPv4 mDNS with lwIP: ``ip_mreq`` is the group and the interface address (0.0.0.0: the default)."""
    s = socket.socket(AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(socket.getaddrinfo("0.0.0.0", MDNS_PORT)[0][-1])
        s.setsockopt(IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, MDNS_GROUP4 + bytes(4))
        s.setblocking(False)
    except OSError as e:
        s.close()
        log.warning(_TAG, "no mDNS socket: %r" % e)
        return []
    return [(AF_INET, s, ("224.0.0.251", MDNS_PORT))]
