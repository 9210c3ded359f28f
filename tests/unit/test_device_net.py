"""The running port's network helpers for the device (``micromatter_mp.net`` on MicroPython,
``micromatter_cpython.net`` on CPython): peer address forms, loopback filtering, socket families, and the mDNS
group addresses in the form each runtime's ``sendto`` takes."""

import socket

from support import IS_MICROPYTHON, skip

if IS_MICROPYTHON:
    from micromatter_mp import net
else:
    from micromatter_cpython import net


def peer(host, port):
    """A peer address as the runtime's ``recvfrom`` gives it (raw sockaddr bytes on the unix port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.getaddrinfo(host, port, family, socket.SOCK_DGRAM)[0][-1]


def test_loopback_peers():
    for host in ("127.0.0.1", "127.9.8.7", "::1", "::ffff:127.0.0.1"):
        assert net.is_loopback(peer(host, 5540)), host
    for host in ("10.77.0.2", "fd00:77::2", "fe80::1", "::ffff:10.0.0.1", "::", "0.0.0.0", "128.0.0.1"):
        assert not net.is_loopback(peer(host, 5540)), host


def test_families():
    assert net.family_of(peer("10.77.0.2", 1)) == net.AF_INET
    assert net.family_of(peer("fd00:77::2", 1)) == net.AF_INET6
    assert net.AF_INET == socket.AF_INET and net.AF_INET6 == socket.AF_INET6


def test_raw_sockaddrs_match_the_unix_port():
    if not IS_MICROPYTHON:
        skip("CPython sockets take address tuples: no raw sockaddr is built")
    assert bytes(net.sockaddr4(b"\x0a\x4d\x00\x01", 5540)) == bytes(peer("10.77.0.1", 5540))
    assert bytes(net.sockaddr6(b"\xfd\x00\x00\x77" + bytes(11) + b"\x01", 5353)) == bytes(peer("fd00:77::1", 5353))
    group = net.sockaddr6(net.MDNS_GROUP6, 5353, 7)
    assert len(group) == 28 and group[24:] == b"\x07\x00\x00\x00" and group[8:24] == net.MDNS_GROUP6
    assert net.sockaddr4(net.MDNS_GROUP4, 5353) == bytes(peer("224.0.0.251", 5353))
