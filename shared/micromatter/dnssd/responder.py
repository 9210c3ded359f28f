"""The mDNS responder (RFC 6762) for DNS-SD services (RFC 6763), sans-I/O.

Packets, their source address and the time go in; a list of
``(packet bytes, destination)`` comes out, where the destination is
``MULTICAST`` (the mDNS groups 224.0.0.251 / ff02::fb, port 5353) or the
``source`` object of the query to answer by unicast, handed back untouched
so the loop can ``sendto`` it.  Timers: call ``on_timer(now)`` once
``now >= next_deadline()``.

Behaviour: probing (three QU ANY probes 250 ms apart, conflicts reported in
``conflicts``, no tie-breaking), announcements (``announce_count``, 1 s then
doubling), answers to PTR/SRV/TXT/A/AAAA/ANY questions with the RFC 6763
additional records, NSEC for types a unique name does not have, known-answer
suppression, at most one multicast of a record per second, unicast replies to
QU questions and legacy unicast replies (source port != 5353: the query id and
question echoed, TTL <= 10 s, no cache-flush bit), goodbyes (TTL 0) on
``unregister``, ``set_addresses`` and ``stop``.
"""

from micromatter.compat import const
from micromatter.errors import DnsError
from micromatter.dnssd import wire
from micromatter.dnssd.address import ipv4_bytes, ipv6_bytes
from micromatter.dnssd.wire import Record, name, name_key

MULTICAST = "multicast"
MDNS_PORT = const(5353)
HOST = const(0)  # the handle of the host's address records in ``conflicts``

HOST_TTL = const(120)  # records that hold a host name or address (RFC 6762 section 10)
OTHER_TTL = const(4500)
LEGACY_TTL = const(10)

_PROBE_INTERVAL = const(250)
_PROBES = const(3)
_MIN_MULTICAST_INTERVAL = const(1000)

_STOPPED = const(0)
_PROBING = const(1)
_ANNOUNCING = const(2)
_READY = const(3)
_CONFLICT = const(4)

_SERVICES = (b"_services", b"_dns-sd", b"_udp", b"local")


class TableFullError(DnsError):
    """No room for another service or address (tables are sized at construction)."""


class UnknownServiceError(DnsError):
    """A handle that is not registered."""


class Service:
    """One DNS-SD registration: instance ``<instance>.<service_type>.local``, port and TXT.

    ``txt`` entries are ``"KEY=value"`` strings or bytes; ``subtypes`` are
    labels such as ``"_L3840"`` (published as ``_L3840._sub.<service_type>``)."""

    def __init__(self, instance, service_type, port, txt=(), subtypes=(), domain="local"):
        self.type_name = name(service_type) + name(domain)
        self.instance_name = name((instance,) + self.type_name)
        self.subtype_names = tuple(name((sub, b"_sub") + self.type_name) for sub in subtypes)
        if not isinstance(port, int) or not 0 < port <= 0xFFFF:
            raise wire.DnsEncodeError("port out of range")
        self.port = port
        entries = []
        for e in txt:
            if isinstance(e, str):
                e = e.encode()
            if not isinstance(e, (bytes, bytearray)) or len(e) > 255:
                raise wire.DnsEncodeError("a TXT entry is text or bytes of at most 255 bytes")
            entries.append(bytes(e))
        self.txt = tuple(entries)


class _Entry:
    """The records of one registration (or of the host) and their probe/announce schedule."""

    def __init__(self, records, unique_names):
        self.records = records
        self.keys = [name_key(r.name) for r in records]
        self.unique_names = unique_names
        self.unique = [name_key(n) for n in unique_names]
        self.last_multicast = [None] * len(records)
        self.state = _STOPPED
        self.step = 0
        self.due = None
        self.announced = False  # sent at least once: needs a goodbye


def _has_same(records, record):
    """True if one of ``records`` says what ``record`` says (a loop, not ``any()``: no generator per call)."""
    for r in records:
        if r.same_data(record):
            return True
    return False


def _port_of(source):
    if isinstance(source, (tuple, list)):
        return source[1]
    if isinstance(source, (bytes, bytearray)) and len(source) >= 4:  # a raw sockaddr (MicroPython)
        return source[2] << 8 | source[3]
    return None


class Responder:
    """Answers for one host name and up to ``max_services`` services on one link.

    ``host`` is the host label (``"AABBCCDDEEFF"``) or the MAC / EUI-64 bytes it
    is made from (upper-case hex, as Matter requires).  ``random_bytes`` (the
    port's) spreads the first probe over 0-250 ms; without it probing starts at once."""

    def __init__(self, host, ipv4=(), ipv6=(), max_services=4, max_addresses=8, buffer_size=1440,
                 probe=True, announce_count=3, random_bytes=None):
        if isinstance(host, (bytes, bytearray)):
            host = "".join("%02X" % b for b in host)
        self.host_name = name((host, "local"))
        self._host_key = name_key(self.host_name)
        self.max_services = max_services
        self.max_addresses = max_addresses
        self.probe = probe
        self.announce_count = max(2, announce_count)
        self._random_bytes = random_bytes
        self._writer = wire.Writer(buffer_size)
        self._services = {}
        self._next_handle = 1
        self._running = False
        self.conflicts = []
        self._host = _Entry([], [self.host_name])
        self._set_host_records(ipv4, ipv6)
        self._rebuild()

    # --- registrations -----------------------------------------------------------

    def _set_host_records(self, ipv4, ipv6):
        records = [Record(self.host_name, wire.TYPE_A, ipv4_bytes(a), HOST_TTL, cache_flush=True) for a in ipv4]
        records += [Record(self.host_name, wire.TYPE_AAAA, ipv6_bytes(a), HOST_TTL, cache_flush=True) for a in ipv6]
        if len(records) > self.max_addresses:
            raise TableFullError("too many addresses")
        entry = self._host
        entry.records = records
        entry.keys = [name_key(r.name) for r in records]
        entry.last_multicast = [None] * len(records)

    def _service_records(self, service):
        instance = service.instance_name
        records = [
            Record(service.type_name, wire.TYPE_PTR, instance, OTHER_TTL),
            Record(instance, wire.TYPE_SRV, (0, 0, service.port, self.host_name), HOST_TTL, cache_flush=True),
            Record(instance, wire.TYPE_TXT, service.txt, OTHER_TTL, cache_flush=True),
            Record(_SERVICES, wire.TYPE_PTR, service.type_name, OTHER_TTL),
        ]
        for sub in service.subtype_names:
            records.append(Record(sub, wire.TYPE_PTR, instance, OTHER_TTL))
        return records

    def _rebuild(self):
        self._entry_list = [self._host] + [self._services[h] for h in sorted(self._services)]
        names = {}
        for entry in self._entry_list:
            for key in entry.keys:
                names[key] = True
            for key in entry.unique:
                names[key] = True
        self._names = names

    def _entries(self):
        return self._entry_list

    def register(self, service, now_ms):
        """Add a service; it is probed and announced once the responder runs.  Returns its handle."""
        if len(self._services) >= self.max_services:
            raise TableFullError("too many services")
        key = name_key(service.instance_name)
        for entry in self._services.values():
            if entry.unique[0] == key:
                raise DnsError("instance name already registered")
        entry = _Entry(self._service_records(service), [service.instance_name])
        entry.service = service
        handle = self._next_handle
        self._next_handle += 1
        self._services[handle] = entry
        self._rebuild()
        if self._running:
            self._schedule(entry, now_ms)
        return handle

    def unregister(self, handle, now_ms):
        """Remove a service; returns the goodbye packets (TTL 0) if it was announced."""
        entry = self._services.pop(handle, None)
        if entry is None:
            raise UnknownServiceError("unknown handle")
        if handle in self.conflicts:
            self.conflicts.remove(handle)
        self._rebuild()
        out = []
        if entry.announced:
            self._goodbye(entry.records, out)
        return out

    def set_addresses(self, ipv4, ipv6, now_ms):
        """Replace the host's addresses: goodbyes for the removed ones, announcements of the new set."""
        old = self._host.records
        self._set_host_records(ipv4, ipv6)
        self._rebuild()
        out = []
        if self._host.announced:
            gone = [r for r in old if not any(r.same_data(n) for n in self._host.records)]
            self._goodbye(gone, out)
        if self._running and self._host.state in (_ANNOUNCING, _READY):
            self._host.state = _ANNOUNCING
            self._host.step = 0
            self._host.due = now_ms
        return out

    # --- running --------------------------------------------------------------------

    def start(self, now_ms):
        """Begin probing and announcing the host and every registered service."""
        self._running = True
        for entry in self._entries():
            self._schedule(entry, now_ms)

    def stop(self, now_ms):
        """Goodbyes for everything announced; the responder then stays silent until ``start``."""
        out = []
        records = []
        for entry in self._entries():
            if entry.announced:
                records += entry.records
            entry.state = _STOPPED
            entry.due = None
            entry.announced = False
        self._goodbye(records, out)
        self._running = False
        return out

    def _schedule(self, entry, now_ms):
        if self.probe:
            delay = self._random_bytes(1)[0] % _PROBE_INTERVAL if self._random_bytes else 0
            entry.state = _PROBING
            entry.due = now_ms + delay
        else:
            entry.state = _ANNOUNCING
            entry.due = now_ms
        entry.step = 0

    def next_deadline(self):
        """The time (ms) by which ``on_timer`` should run, or None when nothing is pending."""
        due = None
        for entry in self._entries():
            if entry.due is not None and (due is None or entry.due < due):
                due = entry.due
        return due

    def on_timer(self, now_ms):
        """Send the probes and announcements that are due."""
        out = []
        for entry in self._entries():
            if entry.due is None or entry.due > now_ms:
                continue
            if entry.state == _PROBING:
                if entry.step < _PROBES:
                    self._send_probe(entry, out)
                    entry.step += 1
                    entry.due = now_ms + _PROBE_INTERVAL
                    continue
                entry.state = _ANNOUNCING
                entry.step = 0
            if entry.state == _ANNOUNCING:
                extra = self._host.records if entry is not self._host else ()
                self._send(entry.records, extra, MULTICAST, out, now_ms=now_ms)
                entry.announced = True
                entry.step += 1
                if entry.step >= self.announce_count:
                    entry.state = _READY
                    entry.due = None
                else:
                    entry.due = now_ms + 1000 * (1 << (entry.step - 1))
            else:
                entry.due = None
        return out

    def _send_probe(self, entry, out):
        w = self._writer
        w.begin(0, 0)
        try:
            for owner in entry.unique_names:
                w.question(owner, wire.TYPE_ANY, unicast=True)
            for record in entry.records:
                if record.cache_flush:
                    w.record(wire.SECTION_AUTHORITY, record, cache_flush=False)
        except wire.MessageFullError:
            pass
        out.append((w.finish(), MULTICAST))

    # --- answering --------------------------------------------------------------------

    def on_packet(self, data, source, now_ms):
        """Handle one received mDNS packet; returns the packets to send."""
        try:
            return self._on_packet(data, source, now_ms)
        except DnsError:
            return []  # malformed or unanswerable: an mDNS responder drops it

    def _on_packet(self, data, source, now_ms):
        reader = wire.Reader(data)
        if reader.flags & 0x780F:  # opcode or rcode not zero: not for us (RFC 6762 section 18)
            return []
        if reader.flags & wire.FLAG_RESPONSE:
            self._check_conflicts(reader)
            return []
        if not self._running:
            return []
        questions = [reader.question() for _ in range(reader.qdcount)]
        port = _port_of(source)
        legacy = port is not None and port != MDNS_PORT
        answers = []
        answered = []
        all_unicast = True
        for q in questions:
            found = self._answer(q, answers)
            if found:
                answered.append(q)
                all_unicast = all_unicast and q.unicast
        if not answers:
            return []
        known = [reader.record() for _ in range(reader.ancount)]
        if known:
            answers = [a for a in answers if not any(k.same_data(a) and k.ttl * 2 >= a.ttl for k in known)]
            if not answers:
                return []
        additionals = self._additionals(answers)
        out = []
        if legacy:
            self._send(answers, additionals, source, out, ident=reader.id, questions=answered, legacy=True)
        elif all_unicast:
            self._send(answers, additionals, source, out)
        else:
            answers = self._rate_limited(answers, now_ms)
            if answers:
                self._send(answers, additionals, MULTICAST, out, now_ms=now_ms)
        return out

    def _answer(self, question, answers):
        """Append our answers to ``question``; True if we own the name (even with no record to give)."""
        if question.qclass not in (wire.CLASS_IN, wire.CLASS_ANY):
            return False
        key = name_key(question.name)
        if key not in self._names:
            return False
        found = False
        unique_entry = None
        for entry in self._entries():
            if entry.state not in (_ANNOUNCING, _READY):
                continue
            if key in entry.unique:
                unique_entry = entry
            for i in range(len(entry.records)):
                if entry.keys[i] != key:
                    continue
                record = entry.records[i]
                if question.qtype in (wire.TYPE_ANY, record.rtype):
                    found = True
                    if not _has_same(answers, record):
                        answers.append(record)
        if not found and unique_entry is not None:
            types = [r.rtype for r, k in zip(unique_entry.records, unique_entry.keys) if k == key]
            types.append(wire.TYPE_NSEC)
            nsec = Record(question.name, wire.TYPE_NSEC, (question.name, tuple(sorted(set(types)))), HOST_TTL,
                          cache_flush=True)
            answers.append(nsec)
            found = True
        return found

    def _ready_records(self, key, rtype):
        out = []
        for entry in self._entries():
            if entry.state not in (_ANNOUNCING, _READY):
                continue
            for i in range(len(entry.records)):
                if entry.keys[i] == key and entry.records[i].rtype == rtype:
                    out.append(entry.records[i])
        return out

    def _additionals(self, answers):
        """RFC 6763 section 12: SRV, TXT and addresses for PTR answers; addresses for SRV and address answers.
        Names are compared through the records' cached ``identity()`` keys."""
        extra = []
        for a in answers:
            name_key_, rtype, data_key = a.identity()
            if rtype == wire.TYPE_PTR and name_key_ != _SERVICES:  # _SERVICES is its own (lower-case) key
                self._add_new(extra, answers, self._ready_records(data_key, wire.TYPE_SRV))
                self._add_new(extra, answers, self._ready_records(data_key, wire.TYPE_TXT))
                self._add_new(extra, answers, self._host_addresses())
            elif rtype == wire.TYPE_SRV and data_key[3] == self._host_key:
                self._add_new(extra, answers, self._host_addresses())
            elif rtype in (wire.TYPE_A, wire.TYPE_AAAA):
                self._add_new(extra, answers, self._host_addresses())
        return extra

    def _add_new(self, extra, answers, records):
        for r in records:
            if not _has_same(answers, r) and not _has_same(extra, r):
                extra.append(r)

    def _host_addresses(self):
        if self._host.state in (_ANNOUNCING, _READY):
            return self._host.records
        return ()

    def _rate_limited(self, answers, now_ms):
        kept = []
        for a in answers:
            last = self._last_multicast(a)
            if last is None or now_ms - last >= _MIN_MULTICAST_INTERVAL:
                kept.append(a)
        return kept

    def _last_multicast(self, record):
        for entry in self._entries():
            for i in range(len(entry.records)):
                if entry.records[i] is record:
                    return entry.last_multicast[i]
        return None

    def _mark_multicast(self, record, now_ms):
        for entry in self._entries():
            for i in range(len(entry.records)):
                if entry.records[i] is record:
                    entry.last_multicast[i] = now_ms

    def _check_conflicts(self, reader):
        """While probing, a response holding one of our unique names with other data is a conflict."""
        probing = [e for e in self._entries() if e.state == _PROBING]
        if not probing:
            return
        for _ in range(reader.qdcount):
            reader.question()
        for _ in range(reader.ancount + reader.nscount + reader.arcount):
            record = reader.record()
            key = name_key(record.name)
            for entry in probing:
                if entry.state != _PROBING or key not in entry.unique:
                    continue
                if record.rtype == wire.TYPE_NSEC:
                    continue
                if not any(record.same_data(r) for r in entry.records):
                    entry.state = _CONFLICT
                    entry.due = None
                    handle = HOST if entry is self._host else self._handle_of(entry)
                    if handle not in self.conflicts:
                        self.conflicts.append(handle)

    def _handle_of(self, entry):
        for handle in self._services:
            if self._services[handle] is entry:
                return handle
        return None

    # --- output ----------------------------------------------------------------------

    def _goodbye(self, records, out):
        remaining = []
        for entry in self._entries():
            if entry.announced:
                remaining += entry.records
        # A shared record another registration still publishes (the service-type PTR) stays.
        gone = [r for r in records if not any(r.same_data(k) for k in remaining if k is not r)]
        if gone:
            self._send(gone, (), MULTICAST, out, ttl=0)

    def _send(self, answers, additionals, dest, out, ident=0, questions=(), legacy=False, ttl=None, now_ms=None):
        """Write answers (then additionals while they fit) into as many packets as needed."""
        w = self._writer
        cap = LEGACY_TTL if legacy else None

        def begin():
            w.begin(ident, wire.FLAG_RESPONSE | wire.FLAG_AUTHORITATIVE)
            for q in questions:
                w.question(q.name, q.qtype, q.qclass)

        def put(section, record):
            t = record.ttl if ttl is None else ttl
            if cap is not None and t > cap:
                t = cap
            w.record(section, record, ttl=t, cache_flush=False if legacy else None)

        begin()
        written = 0
        for record in answers:
            try:
                put(wire.SECTION_ANSWER, record)
            except wire.MessageFullError:
                if written:
                    out.append((w.finish(), dest))
                    begin()
                    written = 0
                try:
                    put(wire.SECTION_ANSWER, record)
                except wire.MessageFullError:
                    continue  # larger than an empty packet: cannot be sent
            written += 1
            if now_ms is not None and dest is MULTICAST:
                self._mark_multicast(record, now_ms)
        for record in additionals:
            try:
                put(wire.SECTION_ADDITIONAL, record)
            except wire.MessageFullError:
                break
            written += 1
        if written:
            out.append((w.finish(), dest))
