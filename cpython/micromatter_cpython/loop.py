"""The CPython port's UDP loop: ``micromatter.udploop.UdpLoopCore`` watching its sockets with the event loop's
``add_reader``.

A ready socket is drained (a bounded burst) with ``recvfrom_into`` straight into the endpoint's own receive
buffer when it has one (``ExchangeManager.rx``), else into the loop's.  IPv4 peers (2-tuples) are sent to as
IPv4-mapped addresses on a dual-stack IPv6 socket.  Tables, timers, sending and the serving task are the core's
(the twin of ``micromatter_mp.loop``).
"""

import asyncio
import socket

from micromatter import log
from micromatter.udploop import MAX_BURST, MAX_DATAGRAM, UdpLoopCore
from micromatter_cpython import net


class UdpLoop(UdpLoopCore):
    """Sockets and timer sources driven by asyncio.  ``clock()`` gives monotonic ms (the port's ``now_ms``);
    ``on_event(event)`` receives the outputs' events."""

    def __init__(self, clock, on_event=None):
        UdpLoopCore.__init__(self, clock, net.sockets, asyncio, on_event)
        self._rx = bytearray(MAX_DATAGRAM)  # for endpoints without a receive buffer of their own

    def _watch(self, entry):
        rx = getattr(entry.endpoint, "rx", None)
        buffer = rx if isinstance(rx, bytearray) and len(rx) >= MAX_DATAGRAM else self._rx
        entry.watcher = entry.sock.fileno()
        asyncio.get_running_loop().add_reader(entry.watcher, self._readable, entry, buffer)

    def _unwatch(self, entry):
        asyncio.get_running_loop().remove_reader(entry.watcher)

    def _readable(self, entry, buffer):
        sock = entry.sock
        for _ in range(MAX_BURST):
            try:
                n, peer = sock.recvfrom_into(buffer)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:  # e.g. an ICMP error reported on the socket
                log.info("loop", "receive failed: %r" % e)
                break
            self.receive(entry, buffer, n, peer)
        self._wake.set()

    def _sendto(self, sock, data, peer):
        if sock.family == socket.AF_INET6 and len(peer) == 2:
            peer = ("::ffff:" + peer[0], peer[1], 0, 0)  # IPv4 on the dual-stack socket
        sock.sendto(data, peer)
