"""An ESP32's UDP sockets (lwIP), for ``micromatter_mp.net`` on a board: addresses as ``getaddrinfo`` gives them,
IPv4 mDNS only, joined with lwIP's 8-byte ``ip_mreq`` (the group and the interface address, 0.0.0.0 for the
default interface).  Not verified on hardware; the unix port never loads it."""

import socket

from micromatter.dnssd.address import address_text
from micromatter.udpsockets import MDNS_GROUP4, UdpSockets


class LwipSockets(UdpSockets):
    MDNS_IPV6 = False
    IPPROTO_IP = 0
    IP_ADD_MEMBERSHIP = socket.IP_ADD_MEMBERSHIP
    IPPROTO_IPV6 = 41  # as on the unix port (not checked on lwIP: a refusal means a separate IPv4 socket)
    IPV6_V6ONLY = 26

    def sockaddr(self, family, address, port, scope_id=0):
        return self.module.getaddrinfo(address_text(address), port, family, self.module.SOCK_DGRAM)[0][-1]

    def join_mdns(self, sock, family, ifindex):
        sock.setsockopt(self.IPPROTO_IP, self.IP_ADD_MEMBERSHIP, MDNS_GROUP4 + bytes(4))
