"""The MicroPython port's UDP loop: sockets and timers around sans-I/O endpoints, on asyncio.

MicroPython's asyncio has no datagram endpoints, so each socket gets a task that waits on asyncio's own IO
queue (``yield core._io_queue.queue_read(sock)``, as ``asyncio.StreamReader`` does: the same ``select.poll``
the scheduler sleeps in), reads a bounded burst of datagrams with ``recvfrom``, feeds each to its endpoint
and sends what comes back.  One more task sleeps until the earliest ``next_deadline()`` of the endpoints
and timer sources, woken early (an ``asyncio.Event``) whenever a datagram may have moved it.

An endpoint (``micromatter.exchange.ExchangeManager``; later the mDNS responder behind an adapter) has
``on_datagram(data, length, peer, now_ms)``, ``next_deadline()`` and ``on_timer(now_ms)``; the last two also
make any other timer source.  Outputs have ``messages`` (``(data, address)`` pairs) and ``events`` (handed
to ``on_event``).  Replies go out on the socket the datagram came in on; timer output on the endpoint's
socket of the destination's family.  Everything is bounded: datagram size, burst, sleep, send failures
(logged and dropped: UDP is best effort and MRP retransmits), and ``stop()`` ends ``run()`` cleanly.
"""

import asyncio
import socket
from asyncio import core

from micromatter import log

MAX_DATAGRAM = 1280
MAX_BURST = 16  # datagrams read per wake-up before other tasks get a turn
MAX_SLEEP_MS = 60000  # the timer task looks again at least this often
MAX_TIMER_ROUNDS = 8  # timer calls in a row before yielding to the readers
IPPROTO_IPV6 = 41  # Linux values; the unix port's socket module has no constants for them
IPV6_V6ONLY = 26
_AF_INET_RAW = 2  # sockaddr families as they appear in raw addresses (Linux layout)
_TAG = "loop"


def family_of(address):
    """``socket.AF_INET`` or ``AF_INET6`` for a peer address: a raw sockaddr (unix port) or a tuple."""
    if isinstance(address, (bytes, bytearray)):
        if len(address) >= 2 and address[0] == _AF_INET_RAW and address[1] == 0:
            return socket.AF_INET
        return socket.AF_INET6
    if isinstance(address, tuple) and len(address) == 2 and ":" not in address[0]:
        return socket.AF_INET
    return socket.AF_INET6


def udp_sockets(port, host="::"):
    """Non-blocking UDP sockets bound to ``port``, as ``(family, socket)`` pairs: one dual-stack IPv6 socket
    where the runtime allows, else an IPv6 and an IPv4 one (or whichever of the two exists)."""
    sockets = []
    dual = False
    try:
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            s6.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0)
            dual = True
        except OSError:
            pass
        s6.bind(socket.getaddrinfo(host, port, socket.AF_INET6, socket.SOCK_DGRAM)[0][-1])
        s6.setblocking(False)
        sockets.append((socket.AF_INET6, s6))
    except OSError as e:
        log.warning(_TAG, "no IPv6 socket: %r" % e)
    if not dual:
        try:
            s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s4.bind(socket.getaddrinfo("0.0.0.0", port, socket.AF_INET, socket.SOCK_DGRAM)[0][-1])
            s4.setblocking(False)
            sockets.append((socket.AF_INET, s4))
        except OSError as e:
            if not sockets:
                raise
            log.info(_TAG, "no separate IPv4 socket (%r): the IPv6 one is dual-stack" % e)
    return sockets


class _Socket:
    def __init__(self, sock, endpoint, family):
        self.sock = sock
        self.endpoint = endpoint
        self.family = family
        self.task = None


class UdpLoop:
    """Sockets and timer sources driven by asyncio.  ``clock()`` gives monotonic ms (the port's
    ``now_ms``); ``on_event(event)`` receives the outputs' events."""

    def __init__(self, clock, on_event=None):
        self.clock = clock
        self.on_event = on_event
        self._sockets = []
        self._timers = []
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._running = False
        self.sent = 0
        self.received = 0
        self.send_errors = 0

    # --- set-up -----------------------------------------------------------------------------

    def open_udp(self, port, endpoint, host="::"):
        """Bind ``port`` (dual-stack, see ``udp_sockets``) for ``endpoint``; the sockets."""
        sockets = udp_sockets(port, host)
        for family, sock in sockets:
            self.add_socket(sock, endpoint, family)
        return [sock for family, sock in sockets]

    def add_socket(self, sock, endpoint, family=socket.AF_INET6):
        """Feed datagrams of ``sock`` (non-blocking; of ``family``: MicroPython sockets do not say) to
        ``endpoint``, which also becomes a timer source."""
        entry = _Socket(sock, endpoint, family)
        self._sockets.append(entry)
        self.add_timer(endpoint)
        if self._running:
            entry.task = asyncio.create_task(self._reader(entry))
        return entry

    def add_timer(self, source):
        """Call ``source.on_timer(now_ms)`` at ``source.next_deadline()`` and send its output."""
        if source not in self._timers:
            self._timers.append(source)
        self._wake.set()

    def wake(self):
        """Something changed a deadline outside the loop (an application send): look again."""
        self._wake.set()

    # --- running ------------------------------------------------------------------------------

    async def run(self):
        """Serve until ``stop()``."""
        self._running = True
        for entry in self._sockets:
            entry.task = asyncio.create_task(self._reader(entry))
        timer = asyncio.create_task(self._timer())
        try:
            await self._stopped.wait()
        finally:
            self._running = False
            timer.cancel()
            for entry in self._sockets:
                if entry.task is not None:
                    entry.task.cancel()
                    entry.task = None
            await asyncio.sleep_ms(0)  # let the cancelled tasks finish

    def stop(self):
        self._running = False
        self._stopped.set()
        self._wake.set()

    def close(self):
        """Close every socket (after ``run`` returned)."""
        for entry in self._sockets:
            try:
                entry.sock.close()
            except OSError:
                pass
        self._sockets = []

    async def _reader(self, entry):
        sock = entry.sock
        while self._running:
            yield core._io_queue.queue_read(sock)
            for _ in range(MAX_BURST):
                try:
                    data, peer = sock.recvfrom(MAX_DATAGRAM)
                except OSError:  # EAGAIN: drained
                    break
                self.received += 1
                try:
                    out = entry.endpoint.on_datagram(data, len(data), peer, self.clock())
                except Exception as e:  # a bug must not stop the loop
                    log.error(_TAG, "endpoint failed on a datagram: %r" % e)
                    continue
                self._deliver(entry, out)
            self._wake.set()

    async def _timer(self):
        while self._running:
            rounds = 0
            while rounds < MAX_TIMER_ROUNDS:
                now = self.clock()
                due = False
                for source in self._timers:
                    d = _deadline(source)
                    if d is not None and d <= now:
                        due = True
                        try:
                            out = source.on_timer(now)
                        except Exception as e:
                            log.error(_TAG, "timer failed: %r" % e)
                            continue
                        self._deliver(None, out, source)
                if not due:
                    break
                rounds += 1
            if rounds >= MAX_TIMER_ROUNDS:  # a source that stays due: let the readers in, never spin
                await asyncio.sleep_ms(1)
                continue
            best = None
            for source in self._timers:
                d = _deadline(source)
                if d is not None and (best is None or d < best):
                    best = d
            wait = MAX_SLEEP_MS if best is None else max(0, min(MAX_SLEEP_MS, best - self.clock()))
            self._wake.clear()
            try:
                await asyncio.wait_for_ms(self._wake.wait(), wait)
            except asyncio.TimeoutError:
                pass

    # --- output --------------------------------------------------------------------------------

    def _deliver(self, entry, out, source=None):
        if out is None:
            return
        for data, peer in out.messages:
            sock = self._socket_for(entry, source, peer)
            if sock is None:
                self.send_errors += 1
                continue
            try:
                sock.sendto(data, peer)
                self.sent += 1
            except OSError as e:
                self.send_errors += 1
                log.warning(_TAG, "send failed: %r" % e)
        for event in out.events:
            if self.on_event is not None:
                try:
                    self.on_event(event)
                except Exception as e:
                    log.error(_TAG, "event handler failed: %r" % e)

    def _socket_for(self, entry, source, peer):
        family = family_of(peer)
        if entry is not None and (entry.family == family or entry.family == socket.AF_INET6):
            return entry.sock
        endpoint = entry.endpoint if entry is not None else source
        fallback = None
        for e in self._sockets:
            if e.endpoint is endpoint:
                if e.family == family:
                    return e.sock
                if fallback is None and e.family == socket.AF_INET6:
                    fallback = e.sock  # dual-stack: IPv4-mapped addresses go out on it
        return fallback


def _deadline(source):
    try:
        return source.next_deadline()
    except Exception as e:
        log.error(_TAG, "next_deadline failed: %r" % e)
        return None

