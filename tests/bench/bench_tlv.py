"""TLV and header codec figures on this runtime: a walk over a realistic payload and the message path's headers."""

import benchlib
from micromatter import message, tlv


def _report():
    """A ~200-byte interaction-model-like payload: nested structures, ints of every width, byte strings, a list."""
    w = tlv.TlvWriter(bytearray(256))
    w.start_struct(None)
    w.uint(0, 0x12345678)  # subscription id
    w.start_array(1)
    for i in range(3):
        w.start_struct(None)
        w.start_struct(1)
        w.uint(0, 0x5A5A0000 + i)  # data version
        w.start_list(1)  # attribute path
        w.uint(2, 1)  # endpoint
        w.uint(3, 0x0006)  # cluster
        w.uint(4, i)  # attribute
        w.end_container()
        w.bytes(2, bytes(range(i * 8, i * 8 + 24)))
        w.end_container()
        w.end_container()
    w.end_container()
    w.bytes(2, bytes(32))
    w.str(3, "kitchen light")
    w.bool(4, False)
    w.int(5, -3000)
    w.uint(0xFF, 12)  # interaction model revision
    w.end_container()
    return bytes(w.buf[: w.pos])


def _walk(r, take_views):
    """Visit every element; decode ints/bools in place; optionally take a memoryview of each string."""
    count = 0
    while True:
        while r.next():
            count += 1
            kind = r.type
            if kind >= tlv.STRUCT:
                r.enter()
            elif take_views and (kind == tlv.BYTES or kind == tlv.UTF8):
                r.view()
        if not r.depth:
            return count
        r.exit()


def run(emit):
    data = _report()
    r = tlv.TlvReader(data)
    elements = _walk(r, False)

    def walk():
        r.reset(data)
        _walk(r, False)

    def walk_views():
        r.reset(data)
        _walk(r, True)

    def find():
        r.reset(data)
        r.next()
        r.enter()
        r.find(0xFF)
        r.find(4)

    emit("tlv_walk", benchlib.time_per_op_us(walk, 200), "us", bytes=len(data), elements=elements)
    emit("tlv_walk_alloc", benchlib.alloc_per_op_bytes(walk, 200), "B/op", bytes=len(data))
    emit("tlv_walk_views", benchlib.time_per_op_us(walk_views, 200), "us", bytes=len(data))
    emit("tlv_walk_views_alloc", benchlib.alloc_per_op_bytes(walk_views, 200), "B/op", bytes=len(data))
    emit("tlv_find_two_tags", benchlib.time_per_op_us(find, 200), "us", bytes=len(data))
    emit("tlv_decode_python", benchlib.time_per_op_us(lambda: tlv.decode(data), 100), "us", bytes=len(data))

    out = bytearray(256)
    w = tlv.TlvWriter(out)
    blob = data[:32]

    def write():
        w.reset(out)
        w.start_struct(None)
        w.uint(0, 0x12345678)
        w.start_list(1)
        w.uint(2, 1)
        w.uint(3, 6)
        w.uint(4, 0)
        w.end_container()
        w.bytes(2, blob)
        w.end_container()

    emit("tlv_write_small_struct", benchlib.time_per_op_us(write, 200), "us")
    emit("tlv_write_small_struct_alloc", benchlib.alloc_per_op_bytes(write, 200), "B/op")

    # The message path: header and protocol header of a CASE-session message with a source node id and an ack.
    buf = bytearray(64)
    h = message.MessageHeader()
    h.session_id = 0x1234
    h.counter = 0x0ABCDEF0
    h.source_node_id = bytes(range(1, 9))
    p = message.ProtocolHeader()
    p.initiator = True
    p.reliable = True
    p.ack_counter = 0x01020304
    p.opcode = 0x08
    p.exchange_id = 0x4321
    p.protocol_id = 1
    n = h.encode(buf)
    p.encode(buf, n)
    rh = message.MessageHeader()
    rp = message.ProtocolHeader()
    out = bytearray(64)

    def headers():
        k = rh.decode(buf)
        k += rp.decode(buf, k)
        m = rh.encode(out)
        rp.encode(out, m)

    emit("headers_decode_encode", benchlib.time_per_op_us(headers, 500), "us", bytes=n + p.length())
    emit("headers_decode_encode_alloc", benchlib.alloc_per_op_bytes(headers, 500), "B/op")
