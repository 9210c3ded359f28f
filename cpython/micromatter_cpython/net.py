"""The CPython twin's network helpers for the device runtime (the same interface as ``micromatter_mp.net``).

Interface facts come from ``/sys/class/net`` and ``/proc`` through ``micromatter.ifaddrs`` (one parser for
both runtimes); sockets are the standard library's, peers ``(host, port[, flow, scope])`` tuples.
"""

import ipaddress
import os
import socket
import struct

from micromatter import log
from micromatter.ifaddrs import LinuxInterfaces
from micromatter_cpython.loop import family_of, udp_sockets  # noqa: F401  (family_of is part of this interface)

AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6
MDNS_PORT = 5353
MDNS_GROUP4 = "224.0.0.251"
MDNS_GROUP6 = "ff02::fb"
_TAG = "net"


def read_file(path, binary=False):
    with open(path, "rb" if binary else "r") as f:
        return f.read()


interfaces = LinuxInterfaces(read_file, os.listdir)


def is_loopback(peer):
    """True for a peer in 127.0.0.0/8 or ::1 (IPv4-mapped loopback too)."""
    try:
        address = ipaddress.ip_address(peer[0].split("%", 1)[0])
    except (ValueError, IndexError, AttributeError):
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def sendto(sock, data, peer):
    if sock.family == AF_INET6 and len(peer) == 2:
        peer = ("::ffff:" + peer[0], peer[1], 0, 0)  # IPv4 on a dual-stack socket
    sock.sendto(data, peer)


def _bound(family, host, port, v6only=None, reuse=False):
    s = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if reuse:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if v6only is not None:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
        s.bind((host, port))
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
    return [(AF_INET6, _bound(AF_INET6, "::1", port, v6only=True)), (AF_INET, _bound(AF_INET, "127.0.0.1", port))]


def mdns_sockets(interface, ifindex):
    """The mDNS sockets on ``interface`` as ``(family, socket, group address)``: port 5353 with
    SO_REUSEADDR, 224.0.0.251 and ff02::fb joined on that interface, multicast sent out of it (TTL/hops
    255).  A family that cannot be set up is left out with a log line."""
    out = []
    try:
        s4 = _bound(AF_INET, "0.0.0.0", MDNS_PORT, reuse=True)
        try:
            s4.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                          socket.inet_aton(MDNS_GROUP4) + bytes(4) + struct.pack("@i", ifindex))
            s4.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, bytes(8) + struct.pack("@i", ifindex))
            s4.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
        except OSError:
            s4.close()
            raise
        out.append((AF_INET, s4, (MDNS_GROUP4, MDNS_PORT)))
    except OSError as e:
        log.warning(_TAG, "no IPv4 mDNS on %s: %r" % (interface, e))
    try:
        s6 = _bound(AF_INET6, "::", MDNS_PORT, v6only=True, reuse=True)
        try:
            s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP,
                          socket.inet_pton(AF_INET6, MDNS_GROUP6) + struct.pack("@I", ifindex))
            s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
            s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        except OSError:
            s6.close()
            raise
        out.append((AF_INET6, s6, (MDNS_GROUP6, MDNS_PORT, 0, ifindex)))
    except OSError as e:
        log.warning(_TAG, "no IPv6 mDNS on %s: %r" % (interface, e))
    return out
