"""Fake sockets for the socket set-up and UDP loop tests on both runtimes: a ``socket`` module stand-in whose
sockets record every call (failures on demand), endpoints that record what they are given, a clock, and the
log lines a block writes."""

from micromatter import log

AF_INET = 2
AF_INET6 = 10


class FakeSocket:
    """Records options, bind address, blocking mode, datagrams sent (``sent``: ``(data, peer)``) and close."""

    def __init__(self, module, family, name=None):
        self.module = module
        self.family = family
        self.name = name
        self.options = []
        self.bound = None
        self.blocking = True
        self.sent = []
        self.closed = False

    def setsockopt(self, level, option, value):
        self.module.check("setsockopt", self, (level, option))
        self.options.append((level, option, value))

    def bind(self, address):
        self.module.check("bind", self, address)
        self.bound = address

    def setblocking(self, flag):
        self.blocking = flag

    def sendto(self, data, peer):
        self.module.check("sendto", self, peer)
        self.sent.append((bytes(data), peer))

    def close(self):
        self.closed = True
        self.module.check("close", self, None)


class FakeSocketModule:
    """What ``UdpSockets`` uses of a ``socket`` module.  ``refuse(operation, sock, argument)`` returning True
    makes that call raise ``OSError``; ``ipv6=False`` is a module without ``AF_INET6``."""

    AF_INET = AF_INET
    SOCK_DGRAM = 2
    SOL_SOCKET = 1
    SO_REUSEADDR = 2

    def __init__(self, refuse=None, ipv6=True):
        self.refuse = refuse
        if ipv6:
            self.AF_INET6 = AF_INET6
        self.created = []
        self.lookups = []

    def check(self, operation, sock, argument):
        if self.refuse is not None and self.refuse(operation, sock, argument):
            raise OSError(98, operation + " refused")

    def socket(self, family, kind):
        assert kind == self.SOCK_DGRAM
        self.check("socket", None, family)
        s = FakeSocket(self, family)
        self.created.append(s)
        return s

    def getaddrinfo(self, host, port, family=0, kind=0):
        """lwIP's answer for a numeric host: one entry, the address a tuple."""
        self.lookups.append((host, port, family, kind))
        return [(family, kind, 0, "", (host, port))]


class Output:
    """An endpoint's output: datagrams ``(data, peer)`` and events."""

    def __init__(self, messages=(), events=()):
        self.messages = list(messages)
        self.events = list(events)


class Clock:
    def __init__(self, now=1000):
        self.now = now

    def __call__(self):
        return self.now


class Endpoint:
    """Records datagrams (``(bytes, length, peer, now)``) and timer calls; answers each datagram with
    ``reply(data, peer)`` (an ``Output`` or None) and is due at ``deadline`` (``on_timer`` returns ``timer_out``
    and clears it unless ``stay_due``)."""

    def __init__(self, reply=None, deadline=None, timer_out=None, stay_due=False):
        self.reply, self.deadline, self.timer_out, self.stay_due = reply, deadline, timer_out, stay_due
        self.datagrams, self.timer_calls = [], []

    def on_datagram(self, data, length, peer, now_ms):
        self.datagrams.append((bytes(memoryview(data)[:length]), length, peer, now_ms))
        return self.reply(bytes(memoryview(data)[:length]), peer) if self.reply is not None else None

    def next_deadline(self):
        return self.deadline

    def on_timer(self, now_ms):
        self.timer_calls.append(now_ms)
        if not self.stay_due:
            self.deadline = None
        return self.timer_out


class Logged:
    """The log lines written inside a ``with`` block, at every level."""

    def __enter__(self):
        self.level, self.lines = log.level, []
        log.set_level(log.DEBUG)
        log.set_sink(self.lines.append)
        return self.lines

    def __exit__(self, *exc):
        log.set_sink(None)
        log.set_level(self.level)
