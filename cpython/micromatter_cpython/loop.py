"""The CPython port's UDP loop: sockets and timers around sans-I/O endpoints, on asyncio.

The twin of ``micromatter_mp.loop`` with the same interface: sockets are watched with the event loop's
``add_reader``; a ready socket is drained (a bounded burst) with ``recvfrom_into`` straight into the
endpoint's own receive buffer when it has one (``ExchangeManager.rx``), each datagram fed to its endpoint
and the output sent at once.  One task sleeps until the earliest ``next_deadline()`` of the endpoints and
timer sources, woken early whenever a datagram may have moved it.

An endpoint has ``on_datagram(data, length, peer, now_ms)``, ``next_deadline()`` and ``on_timer(now_ms)``;
outputs have ``messages`` (``(data, address)`` pairs) and ``events`` (handed to ``on_event``).  Replies go
out on the socket the datagram came in on, timer output on the endpoint's socket of the destination's
family.  Bounded throughout: datagram size, burst, sleep, send failures (logged and dropped; MRP
retransmits), and ``stop()`` ends ``run()`` cleanly.
"""

import asyncio
import socket

from micromatter import log

MAX_DATAGRAM = 1280
MAX_BURST = 16
MAX_SLEEP_MS = 60000
MAX_TIMER_ROUNDS = 8
_TAG = "loop"


def family_of(address):
    """``AF_INET`` or ``AF_INET6`` for a peer address tuple."""
    if isinstance(address, tuple) and len(address) == 2:
        return socket.AF_INET
    return socket.AF_INET6


def udp_sockets(port, host="::"):
    """Non-blocking UDP sockets bound to ``port``, as ``(family, socket)`` pairs: one dual-stack IPv6 socket
    where the system allows, else an IPv6 and an IPv4 one (or whichever of the two exists)."""
    sockets = []
    dual = False
    if socket.has_ipv6:
        s6 = None
        try:
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            try:
                s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                dual = True
            except OSError:
                pass
            s6.bind((host, port))
            s6.setblocking(False)
            sockets.append((socket.AF_INET6, s6))
        except OSError as e:
            if s6 is not None:
                s6.close()
            dual = False
            log.warning(_TAG, "no IPv6 socket: %r" % e)
    if not dual:
        s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s4.bind(("0.0.0.0", port))
            s4.setblocking(False)
            sockets.append((socket.AF_INET, s4))
        except OSError as e:
            s4.close()
            if not sockets:
                raise
            log.info(_TAG, "no separate IPv4 socket (%r)" % e)
    return sockets


class _Socket:
    def __init__(self, sock, endpoint, family):
        self.sock = sock
        self.endpoint = endpoint
        self.family = family
        rx = getattr(endpoint, "rx", None)
        self.buffer = rx if isinstance(rx, bytearray) and len(rx) >= MAX_DATAGRAM else bytearray(MAX_DATAGRAM)
        self.watched = False


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
        self._loop = None
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

    def add_socket(self, sock, endpoint, family=None):
        """Feed datagrams of ``sock`` (made non-blocking) to ``endpoint``, which also becomes a timer source."""
        sock.setblocking(False)
        entry = _Socket(sock, endpoint, family if family is not None else sock.family)
        self._sockets.append(entry)
        self.add_timer(endpoint)
        if self._running:
            self._watch(entry)
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
        self._loop = asyncio.get_running_loop()
        self._running = True
        for entry in self._sockets:
            self._watch(entry)
        timer = asyncio.ensure_future(self._timer())
        try:
            await self._stopped.wait()
        finally:
            self._running = False
            for entry in self._sockets:
                if entry.watched:
                    self._loop.remove_reader(entry.sock.fileno())
                    entry.watched = False
            timer.cancel()
            try:
                await timer
            except asyncio.CancelledError:
                pass

    def stop(self):
        self._running = False
        self._stopped.set()
        self._wake.set()

    def close(self):
        """Close every socket (after ``run`` returned)."""
        for entry in self._sockets:
            entry.sock.close()
        self._sockets = []

    def _watch(self, entry):
        self._loop.add_reader(entry.sock.fileno(), self._readable, entry)
        entry.watched = True

    def _readable(self, entry):
        sock = entry.sock
        buf = entry.buffer
        for _ in range(MAX_BURST):
            try:
                n, peer = sock.recvfrom_into(buf)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:  # e.g. an ICMP error reported on the socket
                log.info(_TAG, "receive failed: %r" % e)
                break
            self.received += 1
            try:
                out = entry.endpoint.on_datagram(buf, n, peer, self.clock())
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
                for source in list(self._timers):
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
                await asyncio.sleep(0.001)
                continue
            best = None
            for source in self._timers:
                d = _deadline(source)
                if d is not None and (best is None or d < best):
                    best = d
            wait = MAX_SLEEP_MS if best is None else max(0, min(MAX_SLEEP_MS, best - self.clock()))
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), wait / 1000)
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
            if sock.family == socket.AF_INET6 and len(peer) == 2:
                peer = ("::ffff:" + peer[0], peer[1], 0, 0)  # IPv4 on the dual-stack socket
            try:
                sock.sendto(data, peer)
                self.sent += 1
            except OSError as e:  # full buffer, unreachable: dropped, MRP retransmits
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
                    fallback = e.sock
        return fallback


def _deadline(source):
    try:
        return source.next_deadline()
    except Exception as e:
        log.error(_TAG, "next_deadline failed: %r" % e)
        return None
