"""udpsockets: raw Linux ``sockaddr_in``/``sockaddr_in6`` bytes (the unix port's address form) built to the
kernel's layout, the family and loopback questions asked of peers in both forms (raw bytes and tuples); which
sockets a device opens (Matter dual-stack or per family, loopback only, mDNS on one interface), the options and
membership requests they get, and that nothing stays open when a step fails, over a fake ``socket`` module with
Linux's option numbers (the unix port's) and the tuple address form."""

import sys

from micromatter.dnssd.address import AddressError, ipv4_bytes, ipv6_bytes
from micromatter.udpsockets import (MDNS_GROUP4, MDNS_GROUP6, MDNS_PORT, UdpSockets, is_ipv4, is_loopback,
                                    raw_sockaddr)
from micromatter_mp.net import UnixSockets
from netkit import AF_INET, AF_INET6, FakeSocketModule, Logged
from support import raises, unhex

LOOPBACK = ("127.0.0.1", "127.9.8.7", "::1", "::ffff:127.0.0.1")
NOT_LOOPBACK = ("10.77.0.2", "fd00:77::2", "fe80::1", "::ffff:10.0.0.1", "::", "0.0.0.0", "128.0.0.1",
                "126.255.255.255", "::2", "::ffff:128.0.0.1")


def raw(host, port=5540):
    return raw_sockaddr(ipv6_bytes(host) if ":" in host else ipv4_bytes(host), port)


def tuple_form(host, port=5540):
    return (host, port, 0, 0) if ":" in host else (host, port)


def test_raw_sockaddrs_have_the_linux_layout():
    # sockaddr_in: sin_family (host order), sin_port (network order), sin_addr, 8 zero bytes
    assert raw_sockaddr(b"\x0a\x4d\x00\x01", 5540) == unhex("0200 15a4 0a4d0001 0000000000000000")
    # sockaddr_in6: sin6_family, sin6_port, sin6_flowinfo, sin6_addr, sin6_scope_id (host order)
    scope = (7).to_bytes(4, sys.byteorder)
    assert raw_sockaddr(ipv6_bytes("fd00:77::1"), 5353, 7) == \
        unhex("0a00 14e9 00000000 fd000077000000000000000000000001") + scope
    assert len(raw_sockaddr(bytes(16), 0)) == 28 and raw_sockaddr(bytes(16), 0)[24:] == bytes(4)
    assert raw_sockaddr(bytearray(4), 65535)[2:4] == b"\xff\xff" and len(raw_sockaddr(bytes(4), 0)) == 16


def test_raw_sockaddrs_refuse_what_is_not_an_address_or_a_port():
    for address in (b"\x7f\x00\x00", "127.0.0.1", bytes(5), bytes(15), bytes(17), None, 5):
        raises(AddressError, raw_sockaddr, address, 1)
    for port in (-1, 65536, "5540", None, 1.5):
        raises(AddressError, raw_sockaddr, bytes(4), port)
        raises(AddressError, raw_sockaddr, bytes(16), port)


def test_ipv4_peers_in_both_forms():
    assert is_ipv4(raw("10.77.0.2")) and is_ipv4(("10.77.0.2", 5540)) and is_ipv4(bytearray(raw("1.2.3.4")))
    for peer in (raw("fd00:77::2"), raw("::ffff:10.0.0.1"), ("fd00:77::2", 5540, 0, 0), ("::1", 5540),
                 ("10.77.0.2", 5540, 0, 0), b"", b"\x02", b"\x02\x01", None, 5540, (), ("10.0.0.1",),
                 (b"10.0.0.1", 1), [("10.0.0.1", 1)]):
        assert not is_ipv4(peer), peer


def test_loopback_peers_in_both_forms():
    for host in LOOPBACK:
        assert is_loopback(raw(host)) and is_loopback(tuple_form(host)), host
        assert is_loopback(bytearray(raw(host))), host
    for host in NOT_LOOPBACK:
        assert not is_loopback(raw(host)) and not is_loopback(tuple_form(host)), host
    assert is_loopback(("::1%lo", 5540, 0, 1)) and not is_loopback(("fe80::1%veth0", 5540, 0, 2))


def test_what_is_not_a_peer_is_not_loopback():
    for peer in (None, 127, "127.0.0.1", b"", b"\x02\x00\x15\xa4\x7f", raw("::1")[:23], (), ("127.0.0.1",),
                 ("localhost", 1), ("", 1), ("127.0.0.256", 1), (127, 1), ("::1::", 1, 0, 0), [("127.0.0.1", 1)]):
        assert not is_loopback(peer), peer


IPPROTO_IP, IPPROTO_IPV6 = 0, 41
SO_REUSE = (1, 2)  # SOL_SOCKET, SO_REUSEADDR of the fake module


class LinuxNumbers(UnixSockets):
    """The unix port's option numbers (Linux's: the expectations below spell them out) with the tuple address
    form, so that the expected addresses read as text."""

    sockaddr = UdpSockets.sockaddr


def make(refuse=None, ipv6=True, cls=LinuxNumbers):
    module = FakeSocketModule(refuse, ipv6)
    return cls(module), module


def test_sockaddr_is_the_tuple_form_and_families_follow_the_peer():
    s, _ = make()
    assert s.sockaddr(AF_INET, b"\x0a\x4d\x00\x01", 5540) == ("10.77.0.1", 5540)
    assert s.sockaddr(AF_INET6, MDNS_GROUP6, 5353, 7) == ("ff02::fb", 5353, 0, 7)
    assert s.family_of(("10.77.0.1", 5540)) == AF_INET and s.family_of(("::1", 5540, 0, 0)) == AF_INET6
    assert s.family_of(b"\x02\x00\x15\xa4\x0a\x4d\x00\x01" + bytes(8)) == AF_INET  # a raw sockaddr_in
    assert (s.AF_INET, s.AF_INET6, s.HAS_IPV6) == (AF_INET, AF_INET6, True)
    s, _ = make(ipv6=False)
    assert s.AF_INET6 is None and s.HAS_IPV6 is False


def test_one_dual_stack_socket_where_the_system_allows():
    s, module = make()
    [(family, sock)] = s.udp_sockets(5540)
    assert family == AF_INET6 and sock is module.created[0] and len(module.created) == 1
    assert sock.options == [(IPPROTO_IPV6, 26, 0)] and sock.bound == ("::", 5540, 0, 0) and not sock.blocking


def test_an_ipv6_and_an_ipv4_socket_when_v6only_cannot_be_cleared():
    s, module = make(lambda op, sock, arg: op == "setsockopt" and arg == (IPPROTO_IPV6, 26))
    pairs = s.udp_sockets(5540)
    assert [f for f, x in pairs] == [AF_INET6, AF_INET]
    assert pairs[1][1].bound == ("0.0.0.0", 5540) and not pairs[0][1].blocking and not pairs[1][1].blocking
    assert not [x for x in module.created if x.closed]


def test_ipv4_alone_when_ipv6_fails_or_is_missing():
    with Logged() as lines:
        s, module = make(lambda op, sock, arg: op == "bind" and len(arg) == 4)
        pairs = s.udp_sockets(5540)
    assert [f for f, x in pairs] == [AF_INET] and module.created[0].closed and not pairs[0][1].closed
    assert [x for x in lines if x.startswith("W net: no IPv6 socket")]
    s, module = make(ipv6=False)
    assert [f for f, x in s.udp_sockets(5540)] == [AF_INET] and len(module.created) == 1


def test_ipv6_alone_when_the_separate_ipv4_socket_cannot_be_bound():
    def refuse(op, sock, arg):
        return (op == "setsockopt" and arg == (IPPROTO_IPV6, 26)) or (op == "bind" and len(arg) == 2)

    with Logged() as lines:
        s, module = make(refuse)
        pairs = s.udp_sockets(5540)
    assert [f for f, x in pairs] == [AF_INET6] and module.created[1].closed and not module.created[0].closed
    assert [x for x in lines if x.startswith("I net: no separate IPv4 socket")]


def test_no_socket_at_all_is_an_error_with_nothing_left_open():
    s, module = make(lambda op, sock, arg: op == "bind")
    raises(OSError, s.udp_sockets, 5540)
    assert len(module.created) == 2 and all(x.closed for x in module.created)
    s, module = make(lambda op, sock, arg: op == "socket")
    raises(OSError, s.udp_sockets, 5540)


def test_loopback_mode_binds_one_socket_per_family_to_loopback():
    s, module = make()
    pairs = s.udp_sockets(5540, loopback=True)
    assert [f for f, x in pairs] == [AF_INET6, AF_INET]
    s6, s4 = pairs[0][1], pairs[1][1]
    assert s6.bound == ("::1", 5540, 0, 0) and s6.options == [(IPPROTO_IPV6, 26, 1)]
    assert s4.bound == ("127.0.0.1", 5540) and s4.options == [] and not s4.blocking and not s6.blocking
    # the IPv4 one cannot be bound: the IPv6 one is closed again
    s, module = make(lambda op, sock, arg: op == "bind" and arg == ("127.0.0.1", 5540))
    raises(OSError, s.udp_sockets, 5540, True)
    assert len(module.created) == 2 and all(x.closed for x in module.created)


def test_bound_closes_its_socket_when_any_step_fails():
    for step in ("setsockopt", "bind"):
        s, module = make(lambda op, sock, arg: op == step)
        raises(OSError, s.bound, AF_INET6, bytes(16), 5353, True, True)
        assert module.created[0].closed, step
    s, module = make()
    sock = s.bound(AF_INET, bytes(4), 5353, reuse=True)
    assert sock.options == [(1, 2, 1)] and sock.bound == ("0.0.0.0", 5353) and not sock.blocking
    s, module = make(ipv6=False)
    raises(OSError, s.bound, s.AF_INET6, bytes(16), 1)


def test_mdns_sockets_join_the_groups_on_the_interface():
    s, module = make()
    out = s.mdns_sockets("veth-a", 7)
    assert [(f, g) for f, x, g in out] == [(AF_INET, ("224.0.0.251", MDNS_PORT)),
                                           (AF_INET6, ("ff02::fb", MDNS_PORT, 0, 7))]
    s4, s6 = out[0][1], out[1][1]
    index = (7).to_bytes(4, sys.byteorder)  # a C int in host order
    # ip_mreqn: the group, no local address, the interface index; multicast out of that interface, TTL 255
    assert s4.options == [SO_REUSE + (1,), (IPPROTO_IP, 35, MDNS_GROUP4 + bytes(4) + index),
                          (IPPROTO_IP, 32, bytes(8) + index), (IPPROTO_IP, 33, 255)]
    assert s4.bound == ("0.0.0.0", 5353) and not s4.blocking
    # ipv6_mreq: the group and the interface index; an IPv6-only socket, multicast out of it, hops 255
    assert s6.options == [SO_REUSE + (1,), (IPPROTO_IPV6, 26, 1), (IPPROTO_IPV6, 20, MDNS_GROUP6 + index),
                          (IPPROTO_IPV6, 17, 7), (IPPROTO_IPV6, 18, 255)]
    assert s6.bound == ("::", 5353, 0, 0) and not s6.blocking
    assert MDNS_GROUP4 == b"\xe0\x00\x00\xfb" and MDNS_GROUP6 == b"\xff\x02" + bytes(13) + b"\xfb"


def test_an_mdns_family_that_cannot_join_is_left_out_and_closed():
    with Logged() as lines:
        s, module = make(lambda op, sock, arg: op == "setsockopt" and arg == (IPPROTO_IPV6, 20))
        out = s.mdns_sockets("veth-a", 3)
    assert [f for f, x, g in out] == [AF_INET] and module.created[1].closed and not module.created[0].closed
    assert [x for x in lines if x.startswith("W net: no IPv6 mDNS on veth-a")]
    with Logged() as lines:
        s, module = make(lambda op, sock, arg: op == "bind")
        assert s.mdns_sockets("eth0", 2) == [] and all(x.closed for x in module.created)
    assert len([x for x in lines if "mDNS on eth0" in x]) == 2


def test_ipv4_mdns_only_where_the_port_cannot_join_ff02_fb():
    class NoMdns6(LinuxNumbers):
        MDNS_IPV6 = False

    s, module = make(cls=NoMdns6)
    assert [f for f, x, g in s.mdns_sockets("wlan", 0)] == [AF_INET] and len(module.created) == 1
    s, module = make(ipv6=False)
    assert [f for f, x, g in s.mdns_sockets("wlan", 0)] == [AF_INET] and len(module.created) == 1
