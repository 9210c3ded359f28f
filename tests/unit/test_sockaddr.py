"""sockaddr: raw Linux ``sockaddr_in``/``sockaddr_in6`` bytes (the unix port's address form) built to the
kernel's layout, and the family and loopback questions asked of peers in both forms (raw bytes and tuples)."""

import sys

from micromatter.dnssd.address import AddressError, ipv4_bytes, ipv6_bytes
from micromatter.sockaddr import LINUX_AF_INET, LINUX_AF_INET6, is_ipv4, is_loopback, raw4, raw6
from support import raises, unhex

LOOPBACK = ("127.0.0.1", "127.9.8.7", "::1", "::ffff:127.0.0.1")
NOT_LOOPBACK = ("10.77.0.2", "fd00:77::2", "fe80::1", "::ffff:10.0.0.1", "::", "0.0.0.0", "128.0.0.1",
                "126.255.255.255", "::2", "::ffff:128.0.0.1")


def raw(host, port=5540):
    return raw6(ipv6_bytes(host), port) if ":" in host else raw4(ipv4_bytes(host), port)


def tuple_form(host, port=5540):
    return (host, port, 0, 0) if ":" in host else (host, port)


def test_raw_sockaddrs_have_the_linux_layout():
    # sockaddr_in: sin_family (host order), sin_port (network order), sin_addr, 8 zero bytes
    assert raw4(b"\x0a\x4d\x00\x01", 5540) == unhex("0200 15a4 0a4d0001 0000000000000000")
    assert (LINUX_AF_INET, LINUX_AF_INET6) == (2, 10)
    # sockaddr_in6: sin6_family, sin6_port, sin6_flowinfo, sin6_addr, sin6_scope_id (host order)
    scope = (7).to_bytes(4, sys.byteorder)
    assert raw6(ipv6_bytes("fd00:77::1"), 5353, 7) == \
        unhex("0a00 14e9 00000000 fd000077000000000000000000000001") + scope
    assert len(raw6(bytes(16), 0)) == 28 and raw6(bytes(16), 0)[24:] == bytes(4)
    assert raw4(bytearray(4), 65535)[2:4] == b"\xff\xff"


def test_raw_sockaddrs_refuse_what_is_not_an_address_or_a_port():
    raises(AddressError, raw4, b"\x7f\x00\x00", 1)
    raises(AddressError, raw4, "127.0.0.1", 1)
    raises(AddressError, raw6, bytes(4), 1)
    raises(AddressError, raw6, None, 1)
    for port in (-1, 65536, "5540", None, 1.5):
        raises(AddressError, raw4, bytes(4), port)
        raises(AddressError, raw6, bytes(16), port)


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
