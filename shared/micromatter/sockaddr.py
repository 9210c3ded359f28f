"""Socket addresses in the two forms the runtimes' ``socket`` modules use, and what a peer's says about itself.

The unix MicroPython port takes and gives raw Linux ``sockaddr`` bytes (``sockaddr_in``: family, port, 4 address
bytes, 8 zero bytes; ``sockaddr_in6``: family, port, flow info, 16 address bytes, scope id); CPython and an
ESP32 use tuples (``(host, port)``, ``(host, port, flow, scope)``).  The loop and the device runtime ask the same
questions of both (which family, is it loopback), so the answers live here, once, with no ``socket`` import.
"""

import struct

from micromatter.compat import const
from micromatter.dnssd.address import AddressError, ipv4_bytes, ipv6_bytes

LINUX_AF_INET = const(2)  # the family field of a raw sockaddr, little-endian in its first two bytes
LINUX_AF_INET6 = const(10)
_LOOPBACK6 = bytes(15) + b"\x01"
_MAPPED = bytes(10) + b"\xff\xff"


def _head(family, port):
    if not isinstance(port, int) or not 0 <= port <= 0xFFFF:
        raise AddressError("a UDP port is 0..65535")
    return bytes((family, 0, port >> 8, port & 0xFF))


def _address(address, length):
    if not isinstance(address, (bytes, bytearray, memoryview)) or len(address) != length:
        raise AddressError("a raw sockaddr takes %d address bytes" % length)
    return bytes(address)


def raw4(address, port):
    """A raw ``sockaddr_in`` (Linux layout, 16 bytes) for 4 address bytes."""
    return _head(LINUX_AF_INET, port) + _address(address, 4) + bytes(8)


def raw6(address, port, scope_id=0):
    """A raw ``sockaddr_in6`` (Linux layout, 28 bytes) for 16 address bytes; ``scope_id`` in host order."""
    return _head(LINUX_AF_INET6, port) + bytes(4) + _address(address, 16) + struct.pack("@I", scope_id)


def is_ipv4(address):
    """True for an IPv4 peer: a raw ``sockaddr_in`` or a ``(host, port)`` tuple with a dotted host (IPv6 peers
    are ``sockaddr_in6`` bytes, 4-tuples or hosts with colons)."""
    if isinstance(address, (bytes, bytearray)):
        return len(address) >= 2 and address[0] == LINUX_AF_INET and address[1] == 0
    return isinstance(address, tuple) and len(address) == 2 and isinstance(address[0], str) and \
        ":" not in address[0]


def is_loopback(peer):
    """True for a peer in 127.0.0.0/8 or ``::1`` (IPv4-mapped loopback too), in either form; False for
    anything that is not a peer address."""
    if isinstance(peer, (bytes, bytearray)):
        if is_ipv4(peer):
            return len(peer) >= 8 and peer[4] == 127
        if len(peer) < 24:
            return False
        address = bytes(peer[8:24])
    elif isinstance(peer, tuple) and peer and isinstance(peer[0], str):
        try:
            if is_ipv4(peer):
                return ipv4_bytes(peer[0])[0] == 127
            address = ipv6_bytes(peer[0])
        except AddressError:
            return False
    else:
        return False
    return address == _LOOPBACK6 or (address[:12] == _MAPPED and address[12] == 127)
