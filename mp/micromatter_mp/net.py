"""The MicroPython port's network helpers for the device runtime: interfaces, sockets, multicast.

Which sockets a device opens is ``micromatter.udpsockets`` (both ports); this is what the port's ``socket``
module forces.  Unix port (Linux): addresses and interface facts come from ``/sys/class/net`` and ``/proc``
text (``micromatter.ifaddrs``): the port has no ``ioctl`` or ``getifaddrs``.  Its ``socket`` module takes and
gives raw ``sockaddr`` bytes and lacks most option constants, so the Linux values are spelled out here: IPv6
multicast join is level 41 option 20 with a 20-byte ``ipv6_mreq``; IPv4 uses level 0 (no ``IPPROTO_IP``
constant) with a 12-byte ``ip_mreqn`` naming the interface by index.

ESP32 (untested on hardware here): ``micromatter_mp.espnet`` (addresses from ``network``; IPv4 multicast with an
8-byte ``ip_mreq``, peers as ``(host, port)`` tuples).
"""

import os
import socket
import sys

from micromatter.udpsockets import UdpSockets, raw_sockaddr

AF_INET = socket.AF_INET
AF_INET6 = getattr(socket, "AF_INET6", None)
UNIX = sys.platform == "linux"


def read_file(path, binary=False):
    with open(path, "rb" if binary else "r") as f:
        return f.read()


if UNIX:

    class UnixSockets(UdpSockets):
        """The unix port's sockets: raw ``sockaddr`` bytes and Linux's option numbers."""

        IPPROTO_IP = 0  # Linux values: the unix port's socket module has no constants for them
        IPPROTO_IPV6 = 41
        IP_ADD_MEMBERSHIP = socket.IP_ADD_MEMBERSHIP
        IP_MULTICAST_IF = 32
        IP_MULTICAST_TTL = 33
        IPV6_V6ONLY = 26
        IPV6_JOIN_GROUP = 20
        IPV6_MULTICAST_IF = 17
        IPV6_MULTICAST_HOPS = 18

        def sockaddr(self, family, address, port, scope_id=0):
            return raw_sockaddr(address, port, scope_id)

    from micromatter.ifaddrs import LinuxInterfaces  # where it is used: an ESP32 has no /proc (8 KB from .mpy)

    interfaces = LinuxInterfaces(read_file, os.listdir)
    sockets = UnixSockets(socket)
else:  # an ESP32: its station interface and lwIP's sockets, a module the unix port never loads
    from micromatter_mp.espnet import LwipSockets, NetworkInterfaces

    interfaces = NetworkInterfaces()
    sockets = LwipSockets(socket)
matter_sockets = sockets.udp_sockets
mdns_sockets = sockets.mdns_sockets
