"""DNS message codec for mDNS and DNS-SD (RFC 1035, 6762, 6763).

Names are tuples of labels (bytes), e.g. ``(b"_matterc", b"_udp", b"local")``:
labels may hold any byte, dots included, and compare case-insensitively
through ``name_key``.  Decoding follows compression pointers only backwards
(each jump lands before the start of the part that holds the pointer), which
rules out loops; names are capped at 255 bytes.  Any malformed input raises
``DnsFormatError``.  The writer compresses names, works in one preallocated
buffer and rolls back a record that does not fit (``MessageFullError``).
"""

from array import array

from micromatter.compat import const
from micromatter.errors import DnsError


class DnsFormatError(DnsError):
    """A received DNS message is malformed (truncated, bad pointer, bad lengths)."""


class DnsEncodeError(DnsError):
    """A name or record cannot be encoded (label or name too long, bad rdata)."""


class MessageFullError(DnsEncodeError):
    """The record does not fit in the message buffer; the message is as it was before it."""


TYPE_A = const(1)
TYPE_PTR = const(12)
TYPE_TXT = const(16)
TYPE_AAAA = const(28)
TYPE_SRV = const(33)
TYPE_OPT = const(41)
TYPE_NSEC = const(47)
TYPE_ANY = const(255)

CLASS_IN = const(1)
CLASS_ANY = const(255)

FLAG_RESPONSE = const(0x8000)  # QR
FLAG_AUTHORITATIVE = const(0x0400)  # AA
FLAG_TRUNCATED = const(0x0200)  # TC
# The top bit of a question's class asks for a unicast response (QU); of a record's class, cache flush.
UNICAST_RESPONSE = const(0x8000)
CACHE_FLUSH = const(0x8000)

SECTION_ANSWER = const(0)
SECTION_AUTHORITY = const(1)
SECTION_ADDITIONAL = const(2)

_MAX_NAME = const(255)
_HEADER = const(12)
_MAX_TARGETS = const(128)  # compression targets kept per message; names past them are written in full
_MAX_LABELS = const(256)  # steps of one name comparison: labels (at most 127) and pointers


# --- names -----------------------------------------------------------------


def name(text):
    """A name (tuple of label bytes) from dotted text or from a sequence of labels."""
    if isinstance(text, tuple):
        labels = text
    elif isinstance(text, list):
        labels = tuple(text)
    elif isinstance(text, (str, bytes, bytearray)):
        if isinstance(text, str):
            text = text.encode()
        if text.endswith(b"."):
            text = text[:-1]
        labels = tuple(text.split(b".")) if text else ()
    else:
        raise DnsEncodeError("a name is text or a sequence of labels")
    total = 1
    out = []
    for label in labels:
        if isinstance(label, str):
            label = label.encode()
        elif not isinstance(label, (bytes, bytearray)):
            raise DnsEncodeError("a label is text or bytes")
        if not 0 < len(label) < 64:
            raise DnsEncodeError("label length")
        total += len(label) + 1
        out.append(bytes(label))
    if total > _MAX_NAME:
        raise DnsEncodeError("name longer than 255 bytes")
    return tuple(out)


def name_key(labels):
    """The case-folded form of a name for comparisons (ASCII only, as DNS does)."""
    return tuple(label.lower() for label in labels)


def name_text(labels):
    """Dotted text of a name, for logs (dots inside labels are not escaped)."""
    return ".".join(label.decode() if _is_text(label) else repr(label) for label in labels) + "."


def _is_text(label):
    try:
        label.decode()
    except UnicodeError:
        return False
    return True


# --- decoded items -------------------------------------------------------------


class Question:
    """A question: ``name`` (labels), ``qtype``, ``qclass`` (without the QU bit), ``unicast`` (QU)."""

    def __init__(self, name, qtype, qclass=CLASS_IN, unicast=False):
        self.name = name
        self.qtype = qtype
        self.qclass = qclass
        self.unicast = unicast

    def __repr__(self):
        return "Question(%s, %d%s)" % (name_text(self.name), self.qtype, ", QU" if self.unicast else "")


class Record:
    """A resource record; ``rdata`` is typed by ``rtype``:

    A, AAAA: address bytes; PTR: a name; SRV: (priority, weight, port, target);
    TXT: tuple of byte strings; NSEC: (next name, sorted tuple of types);
    anything else: the raw bytes."""

    def __init__(self, name, rtype, rdata, ttl=120, rclass=CLASS_IN, cache_flush=False):
        self.name = name
        self.rtype = rtype
        self.rdata = rdata
        self.ttl = ttl
        self.rclass = rclass
        self.cache_flush = cache_flush

    def identity(self):
        """(name key, type, rdata key): equal for records that say the same thing.  Cached: a
        record's name, type and data are not changed after it is built."""
        key = getattr(self, "_identity", None)
        if key is None:
            key = self._identity = (name_key(self.name), self.rtype, rdata_key(self.rtype, self.rdata))
        return key

    def same_data(self, other):
        """True if ``other`` has this record's name, type and data (names compared case-insensitively)."""
        return self.rtype == other.rtype and self.identity() == other.identity()

    def __repr__(self):
        return "Record(%s, %d, %r, ttl=%d%s)" % (
            name_text(self.name), self.rtype, self.rdata, self.ttl, ", flush" if self.cache_flush else "")


def rdata_key(rtype, rdata):
    """A comparable form of typed rdata (names case-folded)."""
    if rtype == TYPE_PTR:
        return name_key(rdata)
    if rtype == TYPE_SRV:
        return (rdata[0], rdata[1], rdata[2], name_key(rdata[3]))
    if rtype == TYPE_NSEC:
        return (name_key(rdata[0]), tuple(rdata[1]))
    if rtype == TYPE_TXT:
        return tuple(bytes(s) for s in rdata) or (b"",)  # no strings means one empty string (RFC 6763)
    return bytes(rdata)


class Message:
    """A whole decoded message (``parse``)."""

    def __init__(self, ident, flags):
        self.id = ident
        self.flags = flags
        self.questions = []
        self.answers = []
        self.authorities = []
        self.additionals = []

    @property
    def is_response(self):
        return bool(self.flags & FLAG_RESPONSE)


# --- decoding --------------------------------------------------------------------


class Reader:
    """Reads a message section by section, so a responder can stop early.

    After construction: ``id``, ``flags`` and the four counts; then call
    ``question()`` ``qdcount`` times, then ``record()`` for the other sections."""

    def __init__(self, data):
        if len(data) < _HEADER:
            raise DnsFormatError("shorter than a DNS header")
        self.data = data
        self.id = data[0] << 8 | data[1]
        self.flags = data[2] << 8 | data[3]
        self.qdcount = data[4] << 8 | data[5]
        self.ancount = data[6] << 8 | data[7]
        self.nscount = data[8] << 8 | data[9]
        self.arcount = data[10] << 8 | data[11]
        self.pos = _HEADER

    def read_name(self, pos):
        """(labels, position after the name as stored at ``pos``)."""
        data = self.data
        n = len(data)
        labels = []
        total = 1
        end = -1
        limit = pos
        while True:
            if pos >= n:
                raise DnsFormatError("name runs past the end")
            length = data[pos]
            if length == 0:
                pos += 1
                break
            kind = length & 0xC0
            if kind == 0xC0:
                if pos + 1 >= n:
                    raise DnsFormatError("truncated pointer")
                target = (length & 0x3F) << 8 | data[pos + 1]
                if end < 0:
                    end = pos + 2
                if target >= limit:
                    raise DnsFormatError("compression pointer does not point backwards")
                pos = limit = target
                continue
            if kind:
                raise DnsFormatError("reserved label type")
            pos += 1
            if pos + length > n:
                raise DnsFormatError("label runs past the end")
            total += length + 1
            if total > _MAX_NAME:
                raise DnsFormatError("name longer than 255 bytes")
            labels.append(bytes(data[pos:pos + length]))
            pos += length
        return tuple(labels), (pos if end < 0 else end)

    def _u16(self, pos):
        return self.data[pos] << 8 | self.data[pos + 1]

    def question(self):
        labels, pos = self.read_name(self.pos)
        if pos + 4 > len(self.data):
            raise DnsFormatError("truncated question")
        qtype = self._u16(pos)
        qclass = self._u16(pos + 2)
        self.pos = pos + 4
        return Question(labels, qtype, qclass & 0x7FFF, bool(qclass & UNICAST_RESPONSE))

    def record(self):
        labels, pos = self.read_name(self.pos)
        data = self.data
        if pos + 10 > len(data):
            raise DnsFormatError("truncated record header")
        rtype = self._u16(pos)
        rclass = self._u16(pos + 2)
        ttl = (self._u16(pos + 4) << 16) | self._u16(pos + 6)
        rdlen = self._u16(pos + 8)
        start = pos + 10
        end = start + rdlen
        if end > len(data):
            raise DnsFormatError("rdata runs past the end")
        self.pos = end
        return Record(labels, rtype, self._rdata(rtype, start, end), ttl, rclass & 0x7FFF, bool(rclass & CACHE_FLUSH))

    def _rdata(self, rtype, start, end):
        data = self.data
        rdlen = end - start
        if rtype == TYPE_A or rtype == TYPE_AAAA:
            if rdlen != (4 if rtype == TYPE_A else 16):
                raise DnsFormatError("address length")
            return bytes(data[start:end])
        if rtype == TYPE_PTR:
            target, after = self.read_name(start)
            if after != end:
                raise DnsFormatError("PTR rdata length")
            return target
        if rtype == TYPE_SRV:
            if rdlen < 7:
                raise DnsFormatError("SRV rdata length")
            target, after = self.read_name(start + 6)
            if after != end:
                raise DnsFormatError("SRV rdata length")
            return (self._u16(start), self._u16(start + 2), self._u16(start + 4), target)
        if rtype == TYPE_TXT:
            strings = []
            pos = start
            while pos < end:
                length = data[pos]
                pos += 1
                if pos + length > end:
                    raise DnsFormatError("TXT string runs past the rdata")
                strings.append(bytes(data[pos:pos + length]))
                pos += length
            return tuple(strings)
        if rtype == TYPE_NSEC:
            next_name, pos = self.read_name(start)
            if pos > end:
                raise DnsFormatError("NSEC rdata length")
            types = []
            last_window = -1
            while pos < end:
                if pos + 2 > end:
                    raise DnsFormatError("truncated NSEC window")
                window = data[pos]
                length = data[pos + 1]
                pos += 2
                if window <= last_window or not 1 <= length <= 32 or pos + length > end:
                    raise DnsFormatError("bad NSEC bitmap")
                last_window = window
                for i in range(length):
                    byte = data[pos + i]
                    for bit in range(8):
                        if byte & (0x80 >> bit):
                            types.append(window << 8 | i << 3 | bit)
                pos += length
            return (next_name, tuple(types))
        return bytes(data[start:end])


def parse(data):
    """A ``Message`` with every section decoded; ``DnsFormatError`` on malformed input."""
    reader = Reader(data)
    message = Message(reader.id, reader.flags)
    for _ in range(reader.qdcount):
        message.questions.append(reader.question())
    for section, count in (
        (message.answers, reader.ancount),
        (message.authorities, reader.nscount),
        (message.additionals, reader.arcount),
    ):
        for _ in range(count):
            section.append(reader.record())
    return message


# --- encoding --------------------------------------------------------------------


def _same_name(buf, at, labels, first):
    """True if the name written at ``buf[at]`` (labels, then a pointer or the root) is ``labels[first:]``,
    ASCII case-insensitively.  Pointers only go back in a message we wrote, so the walk ends."""
    n = len(labels)
    i = first
    for _ in range(_MAX_LABELS):
        size = buf[at]
        if size >= 0xC0:
            at = ((size & 0x3F) << 8) | buf[at + 1]
            continue
        if i == n:
            return size == 0
        label = labels[i]
        if size != len(label):
            return False
        at += 1
        for k in range(size):
            a = buf[at + k]
            b = label[k]
            if a != b and (a ^ b != 0x20 or not 0x41 <= (a & 0xDF) <= 0x5A):
                return False
        at += size
        i += 1
    return False


class Writer:
    """Builds one message in a preallocated buffer.  Sections must be written in order.

    ``begin()`` starts a message; ``question()``, then ``record()`` per section;
    ``finish()`` returns the bytes.  Names are compressed against earlier ones."""

    def __init__(self, size=1460):
        self.buf = bytearray(size)
        # Where the names written so far start, one entry per label (compression targets): names are
        # compressed by comparing with the buffer itself, so a message costs no heap for its names.
        self._targets = array("H", bytes(2 * _MAX_TARGETS))
        self._target_count = 0
        self._transaction_targets = 0
        self.begin()

    def begin(self, ident=0, flags=FLAG_RESPONSE | FLAG_AUTHORITATIVE):
        buf = self.buf
        buf[0] = ident >> 8 & 0xFF
        buf[1] = ident & 0xFF
        buf[2] = flags >> 8 & 0xFF
        buf[3] = flags & 0xFF
        self.counts = [0, 0, 0, 0]
        self._section = -1
        self.pos = _HEADER
        self._target_count = 0

    @property
    def empty(self):
        """True while no question or record was written since ``begin``."""
        return self.pos == _HEADER

    def _need(self, n):
        if self.pos + n > len(self.buf):
            raise MessageFullError("message buffer full")

    def _put16(self, value):
        if not 0 <= value <= 0xFFFF:
            raise DnsEncodeError("16-bit field out of range")
        self._need(2)
        self.buf[self.pos] = value >> 8 & 0xFF
        self.buf[self.pos + 1] = value & 0xFF
        self.pos += 2

    def _put_bytes(self, data):
        n = len(data)
        self._need(n)
        self.buf[self.pos:self.pos + n] = data
        self.pos += n

    def _put_name(self, labels, compress=True):
        complete = self._target_count  # targets of earlier names: this one is not whole until written
        for i in range(len(labels)):
            if compress:
                target = self._find(labels, i, complete)
                if target >= 0:
                    self._put16(0xC000 | target)
                    return
                if self.pos < 0x4000 and self._target_count < _MAX_TARGETS:
                    self._targets[self._target_count] = self.pos
                    self._target_count += 1
            label = labels[i]
            if not 0 < len(label) < 64:
                raise DnsEncodeError("label length")
            self._need(1 + len(label))
            self.buf[self.pos] = len(label)
            self.pos += 1
            self._put_bytes(label)
        self._need(1)
        self.buf[self.pos] = 0
        self.pos += 1

    def _find(self, labels, first, count):
        """The offset of a name among the first ``count`` targets that equals ``labels[first:]`` (ASCII
        case-insensitively), or -1."""
        buf = self.buf
        size = len(labels[first])
        targets = self._targets
        for t in range(count):
            at = targets[t]
            if buf[at] == size and _same_name(buf, at, labels, first):
                return at
        return -1

    def _transaction(self):
        self._transaction_targets = self._target_count
        return self.pos

    def _rollback(self, pos):
        self._target_count = self._transaction_targets
        self.pos = pos

    def question(self, labels, qtype, qclass=CLASS_IN, unicast=False):
        if self._section >= 0:
            raise DnsEncodeError("questions come before records")
        start = self._transaction()
        try:
            self._put_name(labels)
            self._put16(qtype)
            self._put16(qclass | (UNICAST_RESPONSE if unicast else 0))
        except DnsError:
            self._rollback(start)
            raise
        self.counts[0] += 1

    def record(self, section, record, ttl=None, cache_flush=None):
        """Append ``record`` to ``section`` (SECTION_*); ``ttl`` / ``cache_flush`` override the record's."""
        if section < self._section or section not in (SECTION_ANSWER, SECTION_AUTHORITY, SECTION_ADDITIONAL):
            raise DnsEncodeError("sections are written in order")
        start = self._transaction()
        try:
            self._put_name(record.name)
            self._put16(record.rtype)
            flush = record.cache_flush if cache_flush is None else cache_flush
            self._put16(record.rclass | (CACHE_FLUSH if flush else 0))
            ttl = record.ttl if ttl is None else ttl
            if not 0 <= ttl <= 0xFFFFFFFF:
                raise DnsEncodeError("TTL out of range")
            self._put16(ttl >> 16 & 0xFFFF)
            self._put16(ttl & 0xFFFF)
            length_at = self.pos
            self._put16(0)
            self._put_rdata(record.rtype, record.rdata)
            rdlen = self.pos - length_at - 2
            self.buf[length_at] = rdlen >> 8
            self.buf[length_at + 1] = rdlen & 0xFF
        except DnsError:
            self._rollback(start)
            raise
        except (TypeError, ValueError, IndexError):
            self._rollback(start)
            raise DnsEncodeError("rdata does not match the record type")
        self._section = section
        self.counts[1 + section] += 1

    def _put_rdata(self, rtype, rdata):
        if rtype == TYPE_A or rtype == TYPE_AAAA:
            if len(rdata) != (4 if rtype == TYPE_A else 16):
                raise DnsEncodeError("address length")
            self._put_bytes(rdata)
        elif rtype == TYPE_PTR:
            self._put_name(rdata)
        elif rtype == TYPE_SRV:
            self._put16(rdata[0])
            self._put16(rdata[1])
            self._put16(rdata[2])
            self._put_name(rdata[3])
        elif rtype == TYPE_TXT:
            if not rdata:
                rdata = (b"",)  # RFC 6763: a TXT record holds at least one (empty) string
            for s in rdata:
                if len(s) > 255:
                    raise DnsEncodeError("TXT string longer than 255 bytes")
                self._need(1 + len(s))
                self.buf[self.pos] = len(s)
                self.pos += 1
                self._put_bytes(s)
        elif rtype == TYPE_NSEC:
            self._put_name(rdata[0], False)  # RFC 4034: the next name is never compressed
            types = sorted(rdata[1])
            i = 0
            while i < len(types):
                window = types[i] >> 8
                bitmap = bytearray(32)
                used = 0
                while i < len(types) and types[i] >> 8 == window:
                    low = types[i] & 0xFF
                    bitmap[low >> 3] |= 0x80 >> (low & 7)
                    used = (low >> 3) + 1
                    i += 1
                self._need(2 + used)
                self.buf[self.pos] = window
                self.buf[self.pos + 1] = used
                self.pos += 2
                self._put_bytes(bitmap[:used])
        else:
            self._put_bytes(rdata)

    def finish(self):
        """The message bytes (a copy: the buffer is reused by the next ``begin``)."""
        buf = self.buf
        for i in range(4):
            buf[4 + 2 * i] = self.counts[i] >> 8
            buf[5 + 2 * i] = self.counts[i] & 0xFF
        return bytes(memoryview(buf)[:self.pos])
