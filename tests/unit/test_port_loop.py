"""The running port's ``UdpLoop`` (``micromatter_mp.loop`` / ``micromatter_cpython.loop``) over real UDP sockets
bound to loopback: what stays in each port, watching and reading its sockets (a burst per wake-up; CPython reads
into the endpoint's own receive buffer) and sending to an IPv4 peer from a dual-stack IPv6 socket.  Nothing
leaves 127.0.0.1; the run is bounded by a deadline."""

import asyncio

from micromatter.udpsockets import LOOPBACK4, is_ipv4, is_loopback
from netkit import Endpoint, Output
from support import IS_MICROPYTHON, Rng, port

if IS_MICROPYTHON:
    from micromatter_mp import net
    from micromatter_mp.loop import UdpLoop
else:
    from micromatter_cpython import net
    from micromatter_cpython.loop import UdpLoop

MAPPED_LOOPBACK = bytes(10) + b"\xff\xff" + LOOPBACK4  # ::ffff:127.0.0.1
LIMIT_MS = 5000


def bind_server(sockets):
    """An IPv4 socket on 127.0.0.1 and a free port (tried from a seeded range: the unix port's sockets do
    not say which port an ephemeral bind got)."""
    rng = Rng(port().now_ms() & 0xFFFF)
    for _ in range(20):
        number = 40000 + rng.below(20000)
        try:
            return sockets.bound(sockets.AF_INET, LOOPBACK4, number), number
        except OSError:
            continue
    raise AssertionError("no free port on 127.0.0.1")


class Server(Endpoint):
    """Answers every datagram with b"re:" + it, on the socket it came in on."""

    def __init__(self):
        Endpoint.__init__(self, lambda data, peer: Output([(b"re:" + data, peer)]))
        self.rx = bytearray(1280)  # an ExchangeManager's receive buffer: CPython's loop reads into it
        self.buffers = []

    def on_datagram(self, data, length, peer, now_ms):
        self.buffers.append(data is self.rx if not IS_MICROPYTHON else isinstance(data, bytes) and len(data) == length)
        return Endpoint.on_datagram(self, data, length, peer, now_ms)


def test_the_ports_loop_reads_and_answers_real_datagrams():
    sockets = net.sockets
    now_ms = port().now_ms
    events = []
    loop = UdpLoop(now_ms, events.append)
    server = Server()
    server_sock, number = bind_server(sockets)
    loop.add_socket(server_sock, server, sockets.AF_INET)
    target = sockets.sockaddr(sockets.AF_INET, LOOPBACK4, number)  # a 2-tuple on CPython: sent IPv4-mapped

    class Client(Endpoint):
        def on_datagram(self, data, length, peer, now):
            Endpoint.on_datagram(self, data, length, peer, now)
            if len(self.datagrams) == 3:
                loop.stop()
            return Output((), [("answer", bytes(memoryview(data)[:length]))])

    start = now_ms()
    client = Client(deadline=start, timer_out=Output([(b"one", target), (b"two", target), (b"three", target)]))
    client_sock = sockets.bound(sockets.AF_INET6, MAPPED_LOOPBACK, 0, v6only=False)  # dual-stack
    loop.add_socket(client_sock, client, sockets.AF_INET6)
    timed_out = []
    guard = Endpoint(deadline=start + LIMIT_MS)
    guard.on_timer = lambda now: timed_out.append(now) or loop.stop()
    loop.add_timer(guard)
    try:
        asyncio.run(loop.run())
    finally:
        loop.close()
    assert not timed_out, "no answers within %d ms: %r" % (LIMIT_MS, client.datagrams)
    assert [d for d, n, p, t in server.datagrams] == [b"one", b"two", b"three"]
    assert server.buffers == [True] * 3  # CPython: in the endpoint's rx; MicroPython: bytes of their own length
    assert [d for d, n, p, t in client.datagrams] == [b"re:one", b"re:two", b"re:three"]
    assert events == [("answer", b"re:one"), ("answer", b"re:two"), ("answer", b"re:three")]
    for d, n, p, t in server.datagrams:
        assert is_ipv4(p) and is_loopback(p) and start <= t  # an IPv4 peer, as the IPv4 socket sees it
    for d, n, p, t in client.datagrams:
        assert not is_ipv4(p) and is_loopback(p)  # ::ffff:127.0.0.1, as the dual-stack socket sees it
    assert (loop.received, loop.sent, loop.send_errors) == (6, 6, 0)
    if not IS_MICROPYTHON:
        assert loop._sockets == [] and server_sock.fileno() == -1  # closed
