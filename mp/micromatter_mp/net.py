"""The MicroPython port's network helpers for the device runtime: interfaces, sockets, multicast.

Which sockets a device opens is ``micromatter.udpsockets`` (both ports); this is what the port's ``socket``
module forces.  Unix port (Linux): addresses and interface facts come from ``/sys/class/net`` and ``/proc``
text (``micromatter.ifaddrs``): the port has no ``ioctl`` or ``getifaddrs``.  Its ``socket`` module takes and
gives raw ``sockaddr`` bytes and lacks most option constants, so the Linux values are spelled out here: IPv6
multicast join is level 41 option 20 with a 20-byte ``ipv6_mreq``; IPv4 uses level 0 (no ``IPPROTO_IP``
constant) with a 12-byte ``ip_mreqn`` naming the interface by index.

ESP32 (untested on hardware here): addresses from ``network``; sockets from ``micromatter_mp.lwip`` (IPv4
multicast with an 8-byte ``ip_mreq``, peers as ``(host, port)`` tuples).
"""

import os
import socket
import sys

from micromatter.errors import MatterError
from micromatter.udpsockets import UdpSockets, raw_sockaddr

AF_INET = socket.AF_INET
AF_INET6 = getattr(socket, "AF_INET6", None)
UNIX = sys.platform == "linux"


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
else:  # an ESP32: lwIP's sockets, a module the unix port never loads
    from micromatter_mp.lwip import LwipSockets

    interfaces = NetworkInterfaces()
    sockets = LwipSockets(socket)
matter_sockets = sockets.udp_sockets
mdns_sockets = sockets.mdns_sockets
