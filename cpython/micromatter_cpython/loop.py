"""The CPython port's UDP loop: ``micromatter.udploop.UdpLoopCore`` watching its sockets with the event loop's
``add_reader``.

A ready socket is drained (a bounded burst) with ``recvfrom_into`` straight into the endpoint's own receive
buffer when it has one (``ExchangeManager.rx``).  IPv4 peers (2-tuples) are sent to as IPv4-mapped addresses on
a dual-stack IPv6 socket.  Tables, timers, sending and the serving task are the core's (the twin of
``micromatter_mp.loop``).
"""

import asyncio
import socket

from micromatter import log
from micromatter.udploop import MAX_BURST, MAX_DATAGRAM, Socket, UdpLoopCore
from micromatter_cpython import net


class _Socket(Socket):
    def __init__(self, sock, endpoint, family):
        Socket.__init__(self, sock, endpoint, family)
        rx = getattr(endpoint, "rx", None)
        self.buffer = rx if isinstance(rx, bytearray) and len(rx) >= MAX_DATAGRAM else bytearray(MAX_DATAGRAM)


class UdpLoop(UdpLoopCore):
    """Sockets and timer sources driven by asyncio.  ``clock()`` gives monotonic ms (the port's ``now_ms``);
    ``on_event(event)`` receives the outputs' events."""

    def __init__(self, clock, on_event=None):
        UdpLoopCore.__init__(self, clock, net.sockets, asyncio, on_event)

    def _entry(self, sock, endpoint, family):
        return _Socket(sock, endpoint, family)

    def _watch(self, entry):
        entry.watcher = entry.sock.fileno()
        asyncio.get_running_loop().add_reader(entry.watcher, self._readable, entry)

    def _unwatch(self, entry):
        asyncio.get_running_loop().remove_reader(entry.watcher)

    def _readable(self, entry):
        sock = entry.sock
        buf = entry.buffer
        for _ in range(MAX_BURST):
            try:
                n, peer = sock.recvfrom_into(buf)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:  # e.g. an ICMP error reported on the socket
                log.info("loop", "receive failed: %r" % e)
                break
            self.receive(entry, buf, n, peer)
        self._wake.set()

    def _sendto(self, sock, data, peer):
        if sock.family == socket.AF_INET6 and len(peer) == 2:
            peer = ("::ffff:" + peer[0], peer[1], 0, 0)  # IPv4 on the dual-stack socket
        sock.sendto(data, peer)
