"""The UDP loop both ports run: sockets and timer sources around sans-I/O endpoints, on the runtime's asyncio.

``UdpLoopCore`` holds the socket and timer tables, runs the timers that are due and sleeps until the next
deadline, sends every output on the right socket and serves until ``stop()``.  The runtime comes in as
arguments: ``sockets`` (a ``micromatter.udpsockets.UdpSockets``: the families, the sockets ``open_udp`` binds)
and ``aio`` (the runtime's ``asyncio`` module; the loop uses what both have: ``Event``, ``create_task``,
``sleep``, ``wait_for``, ``TimeoutError``, ``CancelledError``).  A port's ``UdpLoop`` (``micromatter_mp.loop``,
``micromatter_cpython.loop``) adds only how a socket is watched and read (``_watch``/``_unwatch``: MicroPython
a task per socket on asyncio's IO queue, CPython the event loop's ``add_reader``) and, on CPython, the address
form ``sendto`` takes (``_sendto``).

Endpoints (the device's ``runtime.DeviceRunner`` and its mDNS endpoint; an ``ExchangeManager`` in the test
peers) have ``on_datagram(data, length, peer, now_ms)``, ``next_deadline()`` and ``on_timer(now_ms)``; the
last two also make any other timer source.  Outputs have ``messages`` (``(data, address)`` pairs) and
``events`` (handed to ``on_event``).  A reply goes out on the socket its datagram came in on; other output on
a socket of the same endpoint for the destination's family (a dual-stack IPv6 socket takes IPv4 too).
Bounded throughout: datagram size, burst, sleep, timer rounds; a failed send is counted and logged, never
raised (UDP is best effort and MRP retransmits); an exception from an endpoint is logged, never stops the loop.
"""

from micromatter import log
from micromatter.compat import const

MAX_DATAGRAM = const(1280)
MAX_BURST = const(16)  # datagrams read per wake-up before other tasks get a turn
MAX_SLEEP_MS = const(60000)  # the timer task looks again at least this often
MAX_TIMER_ROUNDS = const(8)  # timer calls in a row before yielding to the readers
_TAG = "loop"


class Socket:
    """One socket of a loop: the endpoint its datagrams go to, its family (MicroPython sockets do not say it)
    and ``watcher``, whatever the port keeps while it watches the socket (a task, a file descriptor)."""

    def __init__(self, sock, endpoint, family):
        self.sock = sock
        self.endpoint = endpoint
        self.family = family
        self.watcher = None


def _deadline(source):
    try:
        return source.next_deadline()
    except Exception as e:  # a bug in one source must not stop the loop
        log.error(_TAG, "next_deadline failed: %r" % e)
        return None


class UdpLoopCore:
    """Sockets and timer sources around sans-I/O endpoints.  ``clock()`` gives monotonic ms (the port's
    ``now_ms``); ``sockets`` is the port's ``UdpSockets``; ``aio`` its ``asyncio``; ``on_event(event)``
    receives the outputs' events.  A port implements ``_watch(entry)`` (start feeding ``receive``; keep what
    it needs in ``entry.watcher``) and ``_unwatch(entry)``."""

    def __init__(self, clock, sockets, aio, on_event=None):
        self.clock = clock
        self.sockets = sockets
        self.aio = aio
        self.on_event = on_event
        self.AF_INET = sockets.AF_INET
        self.AF_INET6 = sockets.AF_INET6
        self._sockets = []
        self._timers = []
        self._wake = aio.Event()
        self._stopped = aio.Event()
        self._running = False
        self.sent = 0
        self.received = 0
        self.send_errors = 0

    # --- set-up -----------------------------------------------------------------------------------------

    def open_udp(self, port, endpoint):
        """Bind ``port`` on every address (``UdpSockets.udp_sockets``: dual-stack where the runtime allows) for
        ``endpoint``; the sockets."""
        sockets = self.sockets.udp_sockets(port)
        for family, sock in sockets:
            self.add_socket(sock, endpoint, family)
        return [sock for family, sock in sockets]

    def add_socket(self, sock, endpoint, family):
        """Feed the datagrams of ``sock`` (non-blocking, of ``family``) to ``endpoint``, which also becomes a
        timer source; the socket's entry."""
        entry = Socket(sock, endpoint, family)
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

    # --- running ------------------------------------------------------------------------------------------

    async def run(self):
        """Serve until ``stop()``.  On the way out no socket is watched any more and the timer task has ended;
        the sockets stay open until ``close()``."""
        aio = self.aio
        self._running = True
        for entry in self._sockets:
            self._watch(entry)
        timer = aio.create_task(self._timer())
        try:
            await self._stopped.wait()
        finally:
            self._running = False
            for entry in self._sockets:
                if entry.watcher is not None:
                    self._unwatch(entry)
                    entry.watcher = None
            timer.cancel()
            try:
                await timer
            except aio.CancelledError:
                pass
            await aio.sleep(0)  # cancelled watcher tasks (MicroPython's) finish before the sockets close

    async def _timer(self):
        aio = self.aio
        while self._running:
            wait = self.run_timers()
            if wait is None:  # a source that stays due: let the readers in, never spin
                await aio.sleep(0.001)
                continue
            self._wake.clear()
            try:
                await aio.wait_for(self._wake.wait(), wait / 1000)
            except aio.TimeoutError:
                pass

    def stop(self):
        """End ``run()`` cleanly."""
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

    # --- what the port's tasks call ---------------------------------------------------------------------

    def receive(self, entry, data, length, peer):
        """One datagram (``data[:length]``) read from ``entry``'s socket: to its endpoint, the output sent."""
        self.received += 1
        try:
            out = entry.endpoint.on_datagram(data, length, peer, self.clock())
        except Exception as e:  # a bug must not stop the loop
            log.error(_TAG, "endpoint failed on a datagram: %r" % e)
            return
        self._deliver(entry, out)

    def run_timers(self):
        """Call every timer source that is due (again while some are, ``MAX_TIMER_ROUNDS`` rounds at most);
        the ms to sleep until the next deadline (at most ``MAX_SLEEP_MS``), or None when a source stays due:
        the port then yields briefly to its readers instead of spinning."""
        timers = self._timers
        for _ in range(MAX_TIMER_ROUNDS):
            now = self.clock()
            due = False
            for i in range(len(timers)):  # by index: a source may add a timer meanwhile
                source = timers[i]
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
        else:
            return None
        best = None
        for source in timers:
            d = _deadline(source)
            if d is not None and (best is None or d < best):
                best = d
        if best is None:
            return MAX_SLEEP_MS
        return max(0, min(MAX_SLEEP_MS, best - self.clock()))

    # --- output -------------------------------------------------------------------------------------------

    def _deliver(self, entry, out, source=None):
        if out is None:
            return
        family_of = self.sockets.family_of
        for data, peer in out.messages:
            if entry is not None and (entry.family == self.AF_INET6 or entry.family == family_of(peer)):
                self.sendto(entry.sock, data, peer)  # a reply, on the socket its request came in on
            else:
                self.send(entry.endpoint if entry is not None else source, data, peer)
        for event in out.events:
            if self.on_event is not None:
                try:
                    self.on_event(event)
                except Exception as e:
                    log.error(_TAG, "event handler failed: %r" % e)

    def socket_for(self, endpoint, peer, dual=True):
        """The socket of ``endpoint`` for ``peer``'s family; with ``dual`` an IPv6 socket also takes an IPv4
        peer (dual-stack); None when the endpoint has none."""
        family = self.sockets.family_of(peer)
        fallback = None
        for e in self._sockets:
            if e.endpoint is endpoint:
                if e.family == family:
                    return e.sock
                if dual and fallback is None and e.family == self.AF_INET6:
                    fallback = e.sock
        return fallback

    def send(self, endpoint, data, peer, dual=True):
        """Send ``data`` to ``peer`` on ``endpoint``'s socket for it (``socket_for``); a missing socket or a
        failed send is counted in ``send_errors``."""
        sock = self.socket_for(endpoint, peer, dual)
        if sock is None:
            self.send_errors += 1
            return
        self.sendto(sock, data, peer)

    def sendto(self, sock, data, peer):
        """``sock.sendto`` counted: a failure (full buffer, unreachable) is logged and dropped."""
        try:
            self._sendto(sock, data, peer)
            self.sent += 1
        except OSError as e:
            self.send_errors += 1
            log.warning(_TAG, "send failed: %r" % e)

    def _sendto(self, sock, data, peer):
        sock.sendto(data, peer)
