"""ifaddrs: interface addresses from Linux /proc and /sys text (samples captured from a network namespace with a
veth pair, as the interop kit makes), malformed lines, interface choice."""

from micromatter import ifaddrs
from micromatter.ifaddrs import IfaddrsError, LinuxInterfaces
from support import raises, unhex

IF_INET6 = """fd000078000000000000000000000001 02 40 00 82   veth-a
00000000000000000000000000000001 01 80 10 80       lo
fe800000000000009808b3fffebb66c0 02 40 20 80   veth-a
fe800000000000000000000000000099 02 40 20 c0   veth-a
20010db8000000000000000000000005 03 40 00 88   eth9
"""

FIB_TRIE = """Main:
  +-- 0.0.0.0/0 3 0 5
     +-- 10.78.0.0/24 2 0 2
        +-- 10.78.0.0/31 1 0 0
           |-- 10.78.0.0
              /24 link UNICAST
           |-- 10.78.0.1
              /32 host LOCAL
        |-- 10.78.0.255
           /32 link BROADCAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     |-- 192.168.5.7
        /32 host LOCAL
     |-- 224.0.0.0
        /4 link UNICAST
Local:
  +-- 0.0.0.0/0 3 0 5
     +-- 10.78.0.0/24 2 0 2
        +-- 10.78.0.0/31 1 0 0
           |-- 10.78.0.0
              /24 link UNICAST
           |-- 10.78.0.1
              /32 host LOCAL
"""

ROUTE = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
veth-a\t00004E0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
veth-a\t000000E0\t00000000\t0001\t0\t0\t0\t000000F0\t0\t0\t0
eth9\t00000000\t0105A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth9\t0005A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
"""


def test_if_inet6_lines():
    rows = ifaddrs.parse_if_inet6(IF_INET6)
    assert len(rows) == 5
    r = rows[0]
    assert r.address == unhex("fd000078000000000000000000000001") and r.ifindex == 2 and r.prefix == 64
    assert r.scope == ifaddrs.SCOPE_GLOBAL and r.flags == 0x82 and r.interface == "veth-a" and r.usable
    assert rows[1].scope == ifaddrs.SCOPE_HOST and rows[1].interface == "lo"
    assert not rows[3].usable  # 0xc0: tentative (DAD not done)
    assert ifaddrs.parse_if_inet6("") == [] and ifaddrs.parse_if_inet6("\n\n") == []


def test_ipv6_addresses_of_one_interface_global_first_tentative_left_out():
    assert ifaddrs.ipv6_addresses(IF_INET6, "veth-a") == [unhex("fd000078000000000000000000000001"),
                                                          unhex("fe800000000000009808b3fffebb66c0")]
    assert ifaddrs.ipv6_addresses(IF_INET6, "lo") == [unhex("00000000000000000000000000000001")]
    assert ifaddrs.ipv6_addresses(IF_INET6, "wlan0") == []
    assert ifaddrs.ifindex(IF_INET6, "eth9") == 3 and ifaddrs.ifindex(IF_INET6, "veth-a") == 2
    assert ifaddrs.ifindex(IF_INET6, "wlan0") is None


def test_malformed_if_inet6_lines_are_refused():
    for bad in ("fd00 02 40 00 80 veth-a", "zz000078000000000000000000000001 02 40 00 80 veth-a",
                "fd000078000000000000000000000001 02 40 00 veth-a", "fd000078000000000000000000000001 0x 40 00 80 a"):
        raises(IfaddrsError, ifaddrs.parse_if_inet6, bad)


def test_ipv4_addresses_from_fib_trie_and_route():
    assert ifaddrs.local_ipv4(FIB_TRIE) == [b"\x0a\x4e\x00\x01", b"\x7f\x00\x00\x01", b"\xc0\xa8\x05\x07"]
    assert ifaddrs.interface_networks(ROUTE, "veth-a") == [(b"\x0a\x4e\x00\x00", b"\xff\xff\xff\x00"),
                                                           (b"\xe0\x00\x00\x00", b"\xf0\x00\x00\x00")]
    assert ifaddrs.ipv4_addresses(FIB_TRIE, ROUTE, "veth-a") == [b"\x0a\x4e\x00\x01"]
    # the default route (mask 0) does not claim every local address for eth9
    assert ifaddrs.ipv4_addresses(FIB_TRIE, ROUTE, "eth9") == [b"\xc0\xa8\x05\x07"]
    assert ifaddrs.ipv4_addresses(FIB_TRIE, ROUTE, "lo") == [b"\x7f\x00\x00\x01"]
    assert ifaddrs.ipv4_addresses(FIB_TRIE, ROUTE, "wlan0") == []
    assert ifaddrs.ipv4_addresses("", "", "veth-a") == []
    raises(IfaddrsError, ifaddrs.interface_networks, ROUTE + "veth-a\tnothex\t0\t0\t0\t0\t0\t00FFFFFF\n", "veth-a")


def test_mac():
    assert ifaddrs.parse_mac("9a:08:b3:bb:66:c0\n") == unhex("9a08b3bb66c0")
    for bad in ("9a:08:b3:bb:66", "9a:08:b3:bb:66:zz", "", "9a:08:b3:bb:66:c0:01"):
        raises(IfaddrsError, ifaddrs.parse_mac, bad)


class FakeHost:
    """/sys/class/net and /proc as a dict of path -> text."""

    def __init__(self, interfaces, inet6=IF_INET6, fib=FIB_TRIE, route=ROUTE):
        self.files = {"/proc/net/if_inet6": inet6, "/proc/net/fib_trie": fib, "/proc/net/route": route}
        for name, (index, mac, state) in interfaces.items():
            base = "/sys/class/net/%s/" % name
            self.files[base + "ifindex"] = "%d\n" % index
            self.files[base + "address"] = mac + "\n"
            self.files[base + "operstate"] = state + "\n"
        self.names = list(interfaces)

    def read(self, path):
        if path not in self.files:
            raise OSError(2, path)
        return self.files[path]

    def listdir(self, path):
        assert path == "/sys/class/net"
        return list(self.names)


def host(**interfaces):
    h = FakeHost(interfaces)
    return LinuxInterfaces(h.read, h.listdir)


def test_linux_interfaces():
    li = host(lo=(1, "00:00:00:00:00:00", "unknown"), **{"veth-a": (2, "9a:08:b3:bb:66:c0", "up"),
                                                        "eth9": (3, "02:00:00:00:00:09", "down")})
    assert li.names() == ["eth9", "lo", "veth-a"] and li.exists("veth-a") and not li.exists("wlan0")
    assert li.ifindex("veth-a") == 2 and li.mac("veth-a") == unhex("9a08b3bb66c0") and li.mac("lo") is None
    assert li.is_up("veth-a") and li.is_up("lo") and not li.is_up("eth9")
    assert li.addresses("veth-a") == ([b"\x0a\x4e\x00\x01"], [unhex("fd000078000000000000000000000001"),
                                                              unhex("fe800000000000009808b3fffebb66c0")])
    assert li.choose() == "veth-a"  # eth9 is down, lo never


def test_choose_prefers_an_interface_with_more_than_a_link_local_address():
    h = FakeHost({"a0": (5, "02:00:00:00:00:05", "up"), "b1": (6, "02:00:00:00:00:06", "up")},
                 inet6="fe800000000000000000000000000005 05 40 20 80 a0\n"
                       "fd000000000000000000000000000006 06 40 00 80 b1\n", fib="", route="")
    assert LinuxInterfaces(h.read, h.listdir).choose() == "b1"
    h = FakeHost({"a0": (5, "02:00:00:00:00:05", "up")}, inet6="fe800000000000000000000000000005 05 40 20 80 a0\n",
                 fib="", route="")
    assert LinuxInterfaces(h.read, h.listdir).choose() == "a0"  # only link-local: still usable
    h = FakeHost({"lo": (1, "00:00:00:00:00:00", "unknown")}, fib="", route="")
    assert LinuxInterfaces(h.read, h.listdir).choose() is None
