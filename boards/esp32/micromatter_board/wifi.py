"""Wi-Fi station bring-up on an ESP32 and what the node needs from the interface (MAC, addresses).

``network`` exists only on boards, so it is imported inside the functions (and can be passed in by tests).
The wait for a connection is bounded; a board that cannot join its network says so and stops instead of
advertising a device nobody can reach.
"""

import time

from micromatter.dnssd.address import ipv4_bytes, ipv6_bytes
from micromatter.errors import MatterError

CONNECT_TIMEOUT_MS = 30000
POLL_MS = 100


class WifiError(MatterError):
    """The station did not join the configured network in time (wrong password, no such SSID, out of range)."""


def connect(ssid, password, hostname=None, timeout_ms=CONNECT_TIMEOUT_MS, network=None):
    """The station interface (``network.WLAN``), connected to ``ssid``; ``WifiError`` after ``timeout_ms``."""
    if network is None:
        import network
    if hostname:
        try:
            network.hostname(hostname)
        except (AttributeError, ValueError, OSError):
            pass  # older firmware: the default name stays
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if wlan.isconnected():
        return wlan
    wlan.connect(ssid, password)
    start = time.ticks_ms()
    while not wlan.isconnected():
        if time.ticks_diff(time.ticks_ms(), start) > timeout_ms:
            status = wlan.status()
            wlan.disconnect()
            raise WifiError("not connected to %r after %d ms (status %r)" % (ssid, timeout_ms, status))
        time.sleep_ms(POLL_MS)
    return wlan


def mac(wlan):
    """The interface's 6-byte MAC: the node's mDNS host name is made of it."""
    return bytes(wlan.config("mac"))


def _ipv6_list(wlan):
    """The IPv6 addresses the firmware reports (``ipconfig("addr6")``, MicroPython 1.24+ where the port
    enables IPv6); [] where it does not: the node then advertises IPv4 only."""
    try:
        entries = wlan.ipconfig("addr6")
    except (AttributeError, ValueError, OSError, TypeError):
        return []
    out = []
    for entry in entries or ():
        text = entry[0] if isinstance(entry, tuple) else entry
        try:
            out.append(ipv6_bytes(text))
        except (MatterError, AttributeError):
            pass
    return out


def addresses(wlan):
    """``(ipv4, ipv6)``: lists of address bytes (4 and 16 bytes) of the connected interface."""
    ipv4 = []
    text = wlan.ifconfig()[0]
    if text and text != "0.0.0.0":
        ipv4.append(ipv4_bytes(text))
    return ipv4, _ipv6_list(wlan)


class BoardInterface:
    """The board's one network interface in the shape of ``micromatter_mp.net.interfaces`` (what the device
    runtime asks the unix port's ``/proc`` view): ``names``, ``exists``, ``choose``, ``addresses``, ``mac``,
    ``ifindex``, over a connected ``network.WLAN`` (or anything with its ``ifconfig``/``config``)."""

    NAME = "wlan"

    def __init__(self, wlan):
        self.wlan = wlan

    def names(self):
        return [self.NAME]

    def exists(self, name):
        return name == self.NAME

    def choose(self):
        return self.NAME

    def ifindex(self, name):
        return 0  # lwIP joins multicast groups by the interface's address, not an index

    def mac(self, name):
        return mac(self.wlan)

    def addresses(self, name):
        return addresses(self.wlan)
