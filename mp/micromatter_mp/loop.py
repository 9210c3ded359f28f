"""The MicroPython port's UDP loop: ``micromatter.udploop.UdpLoopCore`` with a reader task per socket.

MicroPython's asyncio has no datagram endpoints, so each socket gets a task that waits on asyncio's own IO
queue (``yield core._io_queue.queue_read(sock)``, as ``asyncio.StreamReader`` does: the same ``select.poll``
the scheduler sleeps in) and reads a bounded burst of datagrams with ``recvfrom`` (bytes of their own length:
no copy).  Tables, timers, sending and the serving task are the core's (the twin of ``micromatter_cpython.loop``).
"""

import asyncio
from asyncio import core

from micromatter.udploop import MAX_BURST, MAX_DATAGRAM, UdpLoopCore
from micromatter_mp import net


class UdpLoop(UdpLoopCore):
    """Sockets and timer sources driven by asyncio.  ``clock()`` gives monotonic ms (the port's ``now_ms``);
    ``on_event(event)`` receives the outputs' events."""

    def __init__(self, clock, on_event=None):
        UdpLoopCore.__init__(self, clock, net.sockets, asyncio, on_event)

    def _watch(self, entry):
        entry.watcher = asyncio.create_task(self._reader(entry))

    def _unwatch(self, entry):
        entry.watcher.cancel()

    async def _reader(self, entry):
        sock = entry.sock
        while self._running:
            yield core._io_queue.queue_read(sock)
            for _ in range(MAX_BURST):
                try:
                    data, peer = sock.recvfrom(MAX_DATAGRAM)
                except OSError:  # EAGAIN: drained
                    break
                self.receive(entry, data, len(data), peer)
            self._wake.set()
