"""The running port's network helpers for the device (``micromatter_mp.net`` on MicroPython,
``micromatter_cpython.net`` on CPython): the core's peer questions asked of the peers this runtime's
``getaddrinfo``/``recvfrom`` really give, socket families, the addresses ``bind``/``sendto`` take (raw sockaddr
bytes on the unix port, tuples on CPython, ``getaddrinfo``'s answer on an ESP32), and the ESP32's helpers
(``micromatter_mp.espnet``: mDNS set-up over a fake lwIP ``socket`` module, the station interface over a fake
``network`` module) on both runtimes."""

import socket

from micromatter.dnssd.address import ipv4_bytes, ipv6_bytes
from micromatter.udpsockets import LOOPBACK4, MDNS_GROUP4, MDNS_GROUP6, UdpSockets, is_loopback, raw_sockaddr
from micromatter_mp.espnet import LwipSockets, NetworkInterfaces
from micromatter_mp.net import UnixSockets
from netkit import AF_INET, FakeSocketModule
from support import IS_MICROPYTHON
from test_udpsockets import LOOPBACK, NOT_LOOPBACK

if IS_MICROPYTHON:
    from micromatter_mp import net
else:
    from micromatter_cpython import net


def peer(host, port):
    """A peer address as the runtime's ``recvfrom`` gives it (raw sockaddr bytes on the unix port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.getaddrinfo(host, port, family, socket.SOCK_DGRAM)[0][-1]


def test_loopback_peers():
    for host in LOOPBACK:
        assert is_loopback(peer(host, 5540)), host
    for host in NOT_LOOPBACK:
        assert not is_loopback(peer(host, 5540)), host


def test_families():
    assert net.sockets.family_of(peer("10.77.0.2", 1)) == net.AF_INET
    assert net.sockets.family_of(peer("fd00:77::2", 1)) == net.AF_INET6
    assert net.AF_INET == socket.AF_INET and net.AF_INET6 == socket.AF_INET6
    assert net.sockets.AF_INET == socket.AF_INET and net.sockets.AF_INET6 == socket.AF_INET6
    assert isinstance(net.sockets, UdpSockets) and net.matter_sockets == net.sockets.udp_sockets


def test_socket_addresses_are_the_ones_the_runtime_gives():
    s = net.sockets
    assert s.sockaddr(socket.AF_INET, ipv4_bytes("10.77.0.1"), 5540) == peer("10.77.0.1", 5540)
    assert s.sockaddr(socket.AF_INET6, ipv6_bytes("fd00:77::1"), 5353) == peer("fd00:77::1", 5353)
    assert s.sockaddr(socket.AF_INET, MDNS_GROUP4, 5353) == peer("224.0.0.251", 5353)
    group = s.sockaddr(socket.AF_INET6, MDNS_GROUP6, 5353, 7)
    if IS_MICROPYTHON:  # the unix port: raw sockaddr_in6 with the scope id in its last 4 bytes
        assert isinstance(s, UnixSockets)
        assert bytes(raw_sockaddr(LOOPBACK4, 5540)) == bytes(peer("127.0.0.1", 5540))
        assert len(group) == 28 and group[8:24] == MDNS_GROUP6 and group == raw_sockaddr(MDNS_GROUP6, 5353, 7)
        assert group[:24] == bytes(peer("ff02::fb", 5353))[:24]
    else:
        assert group == ("ff02::fb", 5353, 0, 7)


def test_unix_port_sockets_take_raw_sockaddrs():
    s = UnixSockets(FakeSocketModule())
    assert s.sockaddr(AF_INET, LOOPBACK4, 5540) == raw_sockaddr(LOOPBACK4, 5540)
    assert s.sockaddr(s.AF_INET6, MDNS_GROUP6, 5353, 3) == raw_sockaddr(MDNS_GROUP6, 5353, 3)
    [(family, sock)] = s.udp_sockets(5540)
    assert family == s.AF_INET6 and sock.bound == raw_sockaddr(bytes(16), 5540) and sock.options == [(41, 26, 0)]


def test_an_esp32_joins_ipv4_mdns_with_lwips_membership_request():
    module = FakeSocketModule()
    s = LwipSockets(module)
    out = s.mdns_sockets("wlan", 0)
    assert [(f, g) for f, x, g in out] == [(AF_INET, ("224.0.0.251", 5353))]  # no ff02::fb on lwIP here
    sock = out[0][1]
    # SO_REUSEADDR, then ip_mreq: the group and the interface address (0.0.0.0: the default interface)
    assert sock.options == [(1, 2, 1), (0, s.IP_ADD_MEMBERSHIP, MDNS_GROUP4 + bytes(4))]
    assert sock.bound == ("0.0.0.0", 5353) and not sock.blocking and len(module.created) == 1
    assert ("0.0.0.0", 5353, AF_INET, module.SOCK_DGRAM) in module.lookups
    [(family, sock)] = s.udp_sockets(5540)
    assert family == s.AF_INET6 and sock.bound == ("::", 5540)
    assert module.lookups[-1] == ("::", 5540, s.AF_INET6, module.SOCK_DGRAM)


class FakeWlan:
    """``network.WLAN(STA_IF)`` as a station reports itself (MicroPython's ``network`` module)."""

    connected = True
    addr6 = [("fe80::1:2%wlan0", 0, 0), "2001:db8::5"]

    def __init__(self, interface):
        assert interface == FakeNetwork.STA_IF

    def isconnected(self):
        return FakeWlan.connected

    def ifconfig(self):
        return ("192.168.1.40", "255.255.255.0", "192.168.1.1", "192.168.1.1")

    def config(self, name):
        assert name == "mac"
        return b"\x02\x00\x00\x00\x00\x07"

    def ipconfig(self, name):
        if FakeWlan.addr6 is None:
            raise ValueError("no IPv6 in this firmware")
        return FakeWlan.addr6


class FakeNetwork:
    STA_IF = 0
    WLAN = FakeWlan


def test_an_esp32_station_interface_through_network():
    import sys

    saved = sys.modules.get("network")
    sys.modules["network"] = FakeNetwork
    try:
        nics = NetworkInterfaces()
        assert nics.names() == ["wlan"] and nics.exists("wlan") and not nics.exists("eth0")
        assert nics.choose() == "wlan" and nics.ifindex("wlan") == 0
        assert nics.mac("wlan") == b"\x02" + bytes(4) + b"\x07"
        v4, v6 = nics.addresses("wlan")
        assert v4 == [ipv4_bytes("192.168.1.40")] and v6 == [ipv6_bytes("fe80::1:2"), ipv6_bytes("2001:db8::5")]
        FakeWlan.addr6 = None  # a firmware without IPv6: IPv4 only
        assert nics.addresses("wlan") == ([ipv4_bytes("192.168.1.40")], [])
        FakeWlan.connected = False
        assert nics.addresses("wlan") == ([], []) and nics.choose() is None
    finally:
        FakeWlan.connected, FakeWlan.addr6 = True, [("fe80::1:2%wlan0", 0, 0), "2001:db8::5"]
        if saved is None:
            del sys.modules["network"]
        else:
            sys.modules["network"] = saved
