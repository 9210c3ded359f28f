"""The CPython twin's network helpers for the device runtime (the same interface as ``micromatter_mp.net``).

Which sockets a device opens is ``micromatter.udpsockets`` (both ports); the standard library's ``socket``
module gives it its option constants, and its sockets take the address tuples that class builds.  Interface
facts come from ``/sys/class/net`` and ``/proc`` through ``micromatter.ifaddrs`` (one parser for both runtimes).
"""

import os
import socket

from micromatter.ifaddrs import LinuxInterfaces
from micromatter.udpsockets import UdpSockets

AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6


def read_file(path, binary=False):
    with open(path, "rb" if binary else "r") as f:
        return f.read()


interfaces = LinuxInterfaces(read_file, os.listdir)


class Sockets(UdpSockets):
    """The standard library's sockets: its own option constants."""

    HAS_IPV6 = socket.has_ipv6
    IPPROTO_IP = socket.IPPROTO_IP
    IPPROTO_IPV6 = socket.IPPROTO_IPV6
    IP_ADD_MEMBERSHIP = socket.IP_ADD_MEMBERSHIP
    IP_MULTICAST_IF = socket.IP_MULTICAST_IF
    IP_MULTICAST_TTL = socket.IP_MULTICAST_TTL
    IPV6_V6ONLY = socket.IPV6_V6ONLY
    IPV6_JOIN_GROUP = socket.IPV6_JOIN_GROUP
    IPV6_MULTICAST_IF = socket.IPV6_MULTICAST_IF
    IPV6_MULTICAST_HOPS = socket.IPV6_MULTICAST_HOPS


sockets = Sockets(socket)
matter_sockets = sockets.udp_sockets
mdns_sockets = sockets.mdns_sockets
