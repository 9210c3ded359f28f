"""udploop: the loop both ports run, over fake sockets and a fake clock: datagrams to their endpoint and
replies on the socket they came in on, timer output on the endpoint's socket of the peer's family, the timer
schedule (due sources, sleep, a source that stays due), counted send failures, endpoint bugs that never stop the
loop, and ``run`` under the runtime's own asyncio (watching, timers, stop)."""

import asyncio

from micromatter.udploop import MAX_SLEEP_MS, MAX_TIMER_ROUNDS, UdpLoopCore
from micromatter.udpsockets import UdpSockets, raw_sockaddr
from netkit import AF_INET, AF_INET6, Clock, Endpoint, FakeSocket, FakeSocketModule, Logged, Output
from support import port

P4 = ("10.77.0.2", 5540)
P6 = ("fd00:77::2", 5540, 0, 0)


class Loop(UdpLoopCore):
    """The core with a watch that only records (the ports' read real sockets)."""

    def __init__(self, clock=None, module=None, on_event=None):
        self.module = module or FakeSocketModule()
        UdpLoopCore.__init__(self, clock or Clock(), UdpSockets(self.module), asyncio, on_event)
        self.watched = []
        self.unwatched = []

    def _watch(self, entry):
        entry.watcher = len(self.watched) + 1
        self.watched.append(entry.sock)

    def _unwatch(self, entry):
        self.unwatched.append(entry.sock)

    def sock(self, family, name, endpoint):
        s = FakeSocket(self.module, family, name)
        return self.add_socket(s, endpoint, family)


def echo(data, peer):
    return Output([(b"re:" + data, peer)], [("echo", data)])


def test_a_datagram_goes_to_its_endpoint_and_the_reply_out_on_its_socket():
    events = []
    clock = Clock(5000)
    loop = Loop(clock, on_event=events.append)
    ep = Endpoint(echo)
    e6 = loop.sock(AF_INET6, "m6", ep)
    e4 = loop.sock(AF_INET, "m4", ep)
    loop.receive(e6, bytearray(b"hello, padding"), 5, P4)  # the length counts, not the buffer
    assert ep.datagrams == [(b"hello", 5, P4, 5000)]
    assert e6.sock.sent == [(b"re:hello", P4)] and e4.sock.sent == []  # dual-stack: it answers IPv4 too
    loop.receive(e4, b"v4", 2, P4)
    assert e4.sock.sent == [(b"re:v4", P4)]
    assert events == [("echo", b"hello"), ("echo", b"v4")]
    assert (loop.received, loop.sent, loop.send_errors) == (2, 2, 0)


def test_output_for_another_family_goes_out_on_the_endpoints_socket_for_it():
    loop = Loop()
    ep = Endpoint(lambda data, peer: Output([(b"to6", P6), (b"to4", P4)]))
    e4 = loop.sock(AF_INET, "d4", ep)
    e6 = loop.sock(AF_INET6, "d6", ep)
    loop.receive(e4, b"q", 1, P4)
    assert e4.sock.sent == [(b"to4", P4)] and e6.sock.sent == [(b"to6", P6)]


def test_sends_outside_a_datagram_pick_the_socket_of_the_peers_family():
    loop = Loop()
    matter, mdns, other = Endpoint(), Endpoint(), Endpoint()
    m6 = loop.sock(AF_INET6, "m6", matter).sock
    d4 = loop.sock(AF_INET, "d4", mdns).sock
    d6 = loop.sock(AF_INET6, "d6", mdns).sock
    assert loop.socket_for(matter, P4) is m6 and loop.socket_for(matter, P6) is m6  # dual-stack
    assert loop.socket_for(matter, P4, dual=False) is None and loop.socket_for(other, P6) is None
    assert loop.socket_for(mdns, P4, dual=False) is d4 and loop.socket_for(mdns, P6) is d6
    raw = raw_sockaddr(b"\x0a\x4d\x00\x02", 5353)  # the unix port's peers are raw sockaddr bytes
    assert loop.socket_for(mdns, raw) is d4 and loop.socket_for(mdns, raw_sockaddr(bytes(16), 5353)) is d6
    loop.send(mdns, b"a", raw)
    loop.send(matter, b"b", P4)
    loop.send(matter, b"c", P4, dual=False)  # no IPv4 socket and no dual-stack use: counted, not sent
    loop.send(other, b"d", P6)
    assert d4.sent == [(b"a", raw)] and m6.sent == [(b"b", P4)]
    assert (loop.sent, loop.send_errors) == (2, 2)


def test_a_failed_send_is_counted_and_logged_never_raised():
    module = FakeSocketModule(lambda op, sock, arg: op == "sendto" and arg == P6)
    loop = Loop(module=module)
    ep = Endpoint(lambda data, peer: Output([(b"x", P6), (b"y", P4)]))
    entry = loop.sock(AF_INET6, "m6", ep)
    with Logged() as lines:
        loop.receive(entry, b"q", 1, P6)
    assert entry.sock.sent == [(b"y", P4)] and (loop.sent, loop.send_errors) == (1, 1)
    assert [x for x in lines if x.startswith("W loop: send failed")]


def test_endpoint_and_handler_bugs_are_logged_and_the_loop_goes_on():
    def boom(*args):
        raise ValueError("bug")

    events = []

    def on_event(event):
        events.append(event)
        if event == "bad":
            raise KeyError(event)

    clock = Clock(100)
    loop = Loop(clock, on_event=on_event)
    broken = Endpoint(boom)
    entry = loop.sock(AF_INET6, "m6", broken)
    bad_deadline = Endpoint()
    bad_deadline.next_deadline = boom
    bad_timer = Endpoint(deadline=50)
    bad_timer.on_timer = boom
    fine = Endpoint(deadline=60, timer_out=Output([(b"t", P4)], ["bad", "good"]))
    for source in (bad_deadline, bad_timer, fine):
        loop.add_timer(source)
    with Logged() as lines:
        loop.receive(entry, b"q", 1, P4)
        assert entry.sock.sent == [] and loop.received == 1
        loop.run_timers()
    assert fine.timer_calls == [100] and entry.sock.sent == [] and events == ["bad", "good"]
    assert loop.send_errors == 1  # ``fine`` has no socket of its own
    for text in ("endpoint failed on a datagram", "next_deadline failed", "timer failed", "event handler failed"):
        assert [x for x in lines if text in x], text


def test_the_timers_run_when_due_and_the_loop_sleeps_until_the_next_deadline():
    clock = Clock(1000)
    loop = Loop(clock)
    assert loop.run_timers() == MAX_SLEEP_MS  # nothing to wait for: look again after a while
    a = Endpoint(deadline=1030, timer_out=Output([(b"a", P4)]))
    b = Endpoint(deadline=1200)
    entry = loop.sock(AF_INET6, "m6", a)
    loop.add_timer(b)
    loop.add_timer(b)  # once only
    assert loop.run_timers() == 30 and a.timer_calls == [] and b.timer_calls == []
    clock.now = 1030
    assert loop.run_timers() == 170 and a.timer_calls == [1030] and entry.sock.sent == [(b"a", P4)]
    clock.now = 1500
    assert loop.run_timers() == MAX_SLEEP_MS and b.timer_calls == [1500]
    b.deadline = 1000 + 10 * MAX_SLEEP_MS
    assert loop.run_timers() == MAX_SLEEP_MS
    b.deadline = 1400  # overdue: called at once
    late = Endpoint(deadline=1499)
    late.on_timer = lambda now: None  # stays "due" without output: called once a round
    loop.add_timer(late)
    assert loop.run_timers() is None  # still due after every round: the port yields instead of spinning
    assert b.timer_calls == [1500, 1500]


def test_a_source_that_stays_due_is_called_a_bounded_number_of_times():
    clock = Clock(10)
    loop = Loop(clock)
    stuck = Endpoint(deadline=0, stay_due=True)
    loop.add_timer(stuck)
    assert loop.run_timers() is None and len(stuck.timer_calls) == MAX_TIMER_ROUNDS
    stuck.stay_due = False
    stuck.timer_calls = []
    assert loop.run_timers() == MAX_SLEEP_MS and len(stuck.timer_calls) == 1


def test_sockets_open_close_and_a_late_socket_is_watched_while_running():
    module = FakeSocketModule(lambda op, sock, arg: op == "close" and sock.name == "bad")
    loop = Loop(module=module)
    ep = Endpoint()
    socks = loop.open_udp(5540, ep)
    assert [s.bound for s in socks] == [("::", 5540, 0, 0)] and loop.watched == []
    loop._running = True
    late = loop.sock(AF_INET, "bad", ep)
    assert loop.watched == [late.sock] and late.watcher == 1
    loop._running = False
    loop.close()
    assert socks[0].closed and late.sock.closed and loop.socket_for(ep, P6) is None


def test_run_serves_until_stop_under_the_runtimes_asyncio():
    now_ms = port().now_ms
    loop = Loop(now_ms)
    start = now_ms()
    tick = ep = Endpoint(echo, deadline=start + 30, timer_out=Output([(b"tick", P6)]))
    first = loop.sock(AF_INET6, "m6", ep)

    class Stopper(Endpoint):
        def on_timer(self, now):
            Endpoint.on_timer(self, now)
            loop.sock(AF_INET, "late", ep)  # added while running: watched at once
            loop.stop()
            return None

    stopper = Stopper(deadline=start + 60)
    loop.add_timer(stopper)
    guard = Endpoint(deadline=start + 5000)  # the test's bound: stops a loop that never stops by itself
    guard.on_timer = lambda now: loop.stop()
    loop.add_timer(guard)
    asyncio.run(loop.run())
    assert stopper.timer_calls and stopper.timer_calls[0] - start < 5000
    assert tick.timer_calls and tick.timer_calls[0] >= start + 30 and stopper.timer_calls[0] >= start + 60
    assert tick.timer_calls[0] <= stopper.timer_calls[0]
    late = loop._sockets[1]
    assert loop.watched == [first.sock, late.sock] and loop.unwatched == [first.sock, late.sock]
    assert first.watcher is None and late.watcher is None and first.sock.sent == [(b"tick", P6)]
    assert loop._running is False
    asyncio.run(loop.run())  # stopped already: returns at once
