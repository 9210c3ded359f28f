"""An ESP32's network helpers for ``micromatter_mp.net`` (the unix port never loads them): the station
interface through ``network``, and lwIP's UDP sockets: addresses as ``getaddrinfo`` gives them, IPv4 mDNS only,
joined with lwIP's 8-byte ``ip_mreq`` (the group and the interface address, 0.0.0.0 for the default
interface).  Not verified on hardware."""

import socket

from micromatter.dnssd.address import address_text, ipv4_bytes, ipv6_bytes
from micromatter.errors import MatterError
from micromatter.udpsockets import MDNS_GROUP4, UdpSockets


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


class LwipSockets(UdpSockets):
    """lwIP's sockets: ``getaddrinfo`` tuples, IPv4 mDNS only, the 8-byte ``ip_mreq``."""

    MDNS_IPV6 = False
    IPPROTO_IP = 0
    IP_ADD_MEMBERSHIP = socket.IP_ADD_MEMBERSHIP
    IPPROTO_IPV6 = 41  # as on the unix port (not checked on lwIP: a refusal means a separate IPv4 socket)
    IPV6_V6ONLY = 26

    def sockaddr(self, family, address, port, scope_id=0):
        return self.module.getaddrinfo(address_text(address), port, family, self.module.SOCK_DGRAM)[0][-1]

    def join_mdns(self, sock, family, ifindex):
        sock.setsockopt(self.IPPROTO_IP, self.IP_ADD_MEMBERSHIP, MDNS_GROUP4 + bytes(4))
