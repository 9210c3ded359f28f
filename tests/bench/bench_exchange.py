"""Exchange-layer figures on this runtime: a secure message in, an IM response out, through the exchanges.

A controller session sends an encrypted InvokeRequest (On/Off Toggle) on a new exchange; the device's
``ExchangeManager`` decrypts it in its receive buffer, opens the exchange, hands it to the IM engine (a
minimal IM handler as the node will bind it), seals the InvokeResponse with the piggybacked ack into a
retransmission entry; the controller's standalone ack then frees entry and exchange.  Figures after warm-up:

- ``exchange_invoke_device``: time in the device's two ``on_datagram`` calls per interaction (request, ack);
- ``exchange_invoke_round``: the whole interaction including the controller's encode/decode (0 B itself);
- ``exchange_invoke_alloc``: heap bytes per interaction (MicroPython ``gc.mem_alloc``; CPython tracemalloc);
  on MicroPython 96 B of it are the exchange layer's (the payload view for the handler, the output pair and
  its view) and 128 B the session core's ``is_peer_active`` (an ``array('q')`` read allocates a long int);
- ``exchange_engine_only``/``_alloc``: the IM engine's ``on_request`` alone, for the exchange layer's share;
- ``exchange_manager_heap``: the heap an ``ExchangeManager`` holds (buffers, tables, MRP pool).
"""


import benchlib
from micromatter.clusters.light import build_light
from micromatter.exchange import ExchangeManager, ProtocolHandler
from micromatter.im import messages as msg
from micromatter.im import status
from micromatter.im.acl import CASE, Subject
from micromatter.im.engine import Engine
from micromatter.im.paths import CommandPath
from micromatter.message import ProtocolHeader
from micromatter.securechannel.opcodes import STANDALONE_ACK
from micromatter.storage import MemoryStorage
from sessionkit import Clockless, pair

TOGGLE = msg.InvokeRequest([msg.CommandData(CommandPath(1, 6, 2), None)]).encode()
CONTROLLER_NODE = 0x2222
PEER = ("fd00::2", 5540, 0, 0)


class ImHandler(ProtocolHandler):
    """The IM protocol (0x0001) on the exchanges, as the node binds the sans-I/O engine."""

    protocol_id = msg.PROTOCOL_ID

    def __init__(self, engine):
        self.engine = engine
        self._session = None
        self._subject = None

    def _subject_of(self, session):
        if session is not self._session:
            self._session = session
            self._subject = Subject(CASE, session.fabric_index, session.peer_node_id, session.peer_cats, session)
        return self._subject

    def on_message(self, exchange, protocol_id, opcode, payload, now_ms):
        if protocol_id != msg.PROTOCOL_ID:
            exchange.close(now_ms)
            return
        reply = self.engine.on_request(exchange, self._subject_of(exchange.session), opcode, payload, now_ms)
        if reply is None:
            exchange.close(now_ms)
        else:
            exchange.send(reply.opcode, reply.payload, now_ms, expect_reply=reply.expect_reply)

    def on_exchange_closed(self, exchange, reason):
        self.engine.on_exchange_closed(exchange)

    def busy_reply(self):
        return (msg.PROTOCOL_ID, msg.STATUS_RESPONSE, msg.StatusResponse(status.BUSY).encode())


class Interaction:
    """The device (exchange layer + IM) and a controller session talking to it over preallocated buffers."""

    def __init__(self):
        device, d, controller, c = pair()
        self.light = build_light(storage=MemoryStorage())
        self.light.acl.add_admin(1, CONTROLLER_NODE)
        self.engine = Engine(self.light.node, self.light.acl)
        self.exchanges = ExchangeManager(device, Clockless(5))
        self.exchanges.register(ImHandler(self.engine))
        self.controller = controller
        self.c = c
        self.response = bytearray(1280)
        self.header = ProtocolHeader()
        self.xid = 1
        self.device_us = 0

    def one(self):
        """Request in, response out, ack in: one whole Invoke."""
        p = self.header
        p.initiator = True
        p.reliable = True
        p.ack_counter = None
        p.protocol_id = msg.PROTOCOL_ID
        p.opcode = msg.INVOKE_REQUEST
        self.xid = (self.xid + 1) & 0xFFFF
        p.exchange_id = self.xid
        buf = self.exchanges.rx  # where the loop receives (recvfrom_into; MicroPython copies recvfrom's bytes)
        n = 8 + p.encode(buf, 8)
        end = n + len(TOGGLE)
        buf[n:end] = TOGGLE
        length = self.c.encode(buf, end, 1)
        t0 = benchlib._now_us()
        out = self.exchanges.on_datagram(buf, length, PEER, 1)
        t1 = benchlib._now_us()
        data = out.messages[0][0]
        size = len(data)
        self.response[0:size] = data
        r = self.controller.decode(self.response, size, 1)
        if r.protocol.opcode != msg.INVOKE_RESPONSE or r.protocol.ack_counter is None:
            raise AssertionError("no InvokeResponse with a piggybacked ack")
        p.reliable = False
        p.ack_counter = r.header.counter
        p.protocol_id = 0
        p.opcode = STANDALONE_ACK
        n = 8 + p.encode(buf, 8)
        length = self.c.encode(buf, n, 1)
        t2 = benchlib._now_us()
        self.exchanges.on_datagram(buf, length, PEER, 1)
        self.device_us += benchlib._diff_us(t1, t0) + benchlib._diff_us(benchlib._now_us(), t2)


def run(emit):
    it = Interaction()
    for _ in range(20):
        it.one()
    if it.exchanges.exchanges() or it.exchanges.mrp.in_use():
        raise AssertionError("exchanges left after acknowledged interactions")
    n = 300
    it.device_us = 0
    round_us = benchlib.time_per_op_us(it.one, n, warmup=0)
    emit("exchange_invoke_device", it.device_us / n, "us", request="InvokeRequest Toggle", messages_in=2,
         messages_out=1)
    emit("exchange_invoke_round", round_us, "us", includes="controller encode/decode")
    emit("exchange_invoke_alloc", benchlib.alloc_per_op_bytes(it.one, 200, warmup=5), "B/op",
         measure="gc.mem_alloc delta" if benchlib.IS_MICROPYTHON else "tracemalloc")
    subject = Subject(CASE, 1, CONTROLLER_NODE, (), it.c)
    engine = it.engine
    only = lambda: engine.on_request("x", subject, msg.INVOKE_REQUEST, TOGGLE, 1)  # noqa: E731
    emit("exchange_engine_only", benchlib.time_per_op_us(only, n, warmup=5), "us")
    emit("exchange_engine_only_alloc", benchlib.alloc_per_op_bytes(only, 200, warmup=5), "B/op")
    device, d, controller, c = pair()
    emit("exchange_manager_heap", benchlib.heap_of(lambda: ExchangeManager(device, Clockless(9))), "B",
         exchanges=16, retransmission_entries=8)
