"""IP addresses as the bytes A and AAAA records carry, from text or bytes, and back to text.

The core cannot use ``socket.inet_pton`` (a runtime module), and the node
loop hands addresses over as the text its sockets report (``"10.77.0.1"``,
``"fe80::1%veth0"``): this turns them into 4 or 16 bytes, and bytes into
RFC 5952 text for log and event lines.
"""

from micromatter.dnssd.wire import DnsEncodeError


class AddressError(DnsEncodeError):
    """Text that is not an IPv4 or IPv6 address."""


def _given_bytes(address, length, what):
    """``address`` as bytes if it is bytes-like of ``length``, None if it is text; ``AddressError`` otherwise."""
    if isinstance(address, str):
        return None
    if not isinstance(address, (bytes, bytearray, memoryview)) or len(address) != length:
        raise AddressError("an %s address is text or %d bytes" % (what, length))
    return bytes(address)


def ipv4_bytes(address):
    """4 bytes from dotted-quad text (or 4 bytes as they are)."""
    given = _given_bytes(address, 4, "IPv4")
    if given is not None:
        return given
    parts = address.split(".")
    if len(parts) != 4:
        raise AddressError("not an IPv4 address")
    out = bytearray(4)
    for i in range(4):
        p = parts[i]
        if not p or len(p) > 3 or not p.isdigit() or (len(p) > 1 and p[0] == "0"):
            raise AddressError("not an IPv4 address")
        value = int(p)
        if value > 255:
            raise AddressError("not an IPv4 address")
        out[i] = value
    return bytes(out)


def _hex_group(text):
    if not 0 < len(text) <= 4:
        raise AddressError("not an IPv6 address")
    value = 0
    for c in text:
        d = "0123456789abcdef".find(c.lower())
        if d < 0:
            raise AddressError("not an IPv6 address")
        value = value << 4 | d
    return value


def ipv6_bytes(address):
    """16 bytes from IPv6 text (``::`` shorthand, a ``%zone`` suffix and a dotted IPv4 tail allowed)."""
    given = _given_bytes(address, 16, "IPv6")
    if given is not None:
        return given
    zone = address.find("%")
    if zone >= 0:
        address = address[:zone]
    tail = b""
    last_colon = address.rfind(":")
    if "." in address[last_colon + 1:]:
        tail = ipv4_bytes(address[last_colon + 1:])
        address = address[:last_colon + 1] + "0:0"
    halves = address.split("::")
    if len(halves) > 2:
        raise AddressError("not an IPv6 address")
    groups = []
    for half in halves:
        groups.append([_hex_group(g) for g in half.split(":")] if half else [])
    if len(halves) == 2:
        missing = 8 - len(groups[0]) - len(groups[1])
        if missing < 1:
            raise AddressError("not an IPv6 address")
        words = groups[0] + [0] * missing + groups[1]
    else:
        words = groups[0]
    if len(words) != 8:
        raise AddressError("not an IPv6 address")
    out = bytearray(16)
    for i in range(8):
        out[2 * i] = words[i] >> 8
        out[2 * i + 1] = words[i] & 0xFF
    if tail:
        out[12:16] = tail
    return bytes(out)


def ipv4_text(address):
    """The dotted-quad text of a 4-byte address."""
    address = ipv4_bytes(address)
    return "%d.%d.%d.%d" % (address[0], address[1], address[2], address[3])


def ipv6_text(address):
    """The RFC 5952 text of a 16-byte address (longest zero run of two or more groups as ``::``)."""
    address = ipv6_bytes(address)
    groups = [(address[i] << 8) | address[i + 1] for i in range(0, 16, 2)]
    best, best_len, i = -1, 1, 0
    while i < 8:
        if groups[i] == 0:
            j = i
            while j < 8 and groups[j] == 0:
                j += 1
            if j - i > best_len:
                best, best_len = i, j - i
            i = j
        else:
            i += 1
    if best < 0:
        return ":".join("%x" % g for g in groups)
    head = ":".join("%x" % g for g in groups[:best])
    tail = ":".join("%x" % g for g in groups[best + best_len:])
    return head + "::" + tail


def address_text(address):
    """Text for a 4- or 16-byte address (``AddressError`` for anything else)."""
    if isinstance(address, (bytes, bytearray, memoryview)) and len(address) == 4:
        return ipv4_text(address)
    return ipv6_text(address)
