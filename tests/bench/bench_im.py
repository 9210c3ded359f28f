"""Interaction model figures: a wildcard Read of the whole light (all chunks) and an Invoke Toggle, time and heap
per interaction, the heap the light's data model and engine hold, and the message codecs alone (decode of each
request the device takes and of a report chunk a controller takes; encode of requests into a reused writer)."""

import benchlib
from micromatter.storage import MemoryStorage
from micromatter.clusters.light import build_light
from micromatter.im.engine import Engine
from micromatter.im.acl import Subject, CASE
from micromatter.im import messages as msg
from micromatter.im.paths import AttributePath, CommandPath, DataVersionFilter, EventPath
from micromatter.tlv import TlvWriter

SUBJECT = Subject(CASE, 1, 0x1122, session=object())
READ = msg.ReadRequest([AttributePath()]).encode()
TOGGLE_REQUEST = msg.InvokeRequest([msg.CommandData(CommandPath(1, 6, 2), None)])
TOGGLE = TOGGLE_REQUEST.encode()
ACK = msg.StatusResponse(0).encode()
PATHS = [AttributePath(1, 6, 0), AttributePath(0, 0x28, None), AttributePath(None, 0x1D, 3)]
FILTERS = [DataVersionFilter(1, 6, 0x12345678)]
READ3 = msg.ReadRequest(PATHS, [EventPath(0, 0x28, 0)], [(None, 5)], True, FILTERS)
SUBSCRIBE = msg.SubscribeRequest(1, 60, PATHS, keep_subscriptions=True)
WRITE = msg.WriteRequest([msg.AttributeData(AttributePath(0, 0x28, 5), "kitchen", data_version=3)])


def _light():
    light = build_light(storage=MemoryStorage())
    light.acl.add_admin(1, 0x1122)
    return light, Engine(light.node, light.acl)


def _read_whole(engine):
    reply = engine.on_request("r", SUBJECT, msg.READ_REQUEST, READ, 0)
    chunks = 1
    while reply.expect_reply:
        reply = engine.on_request("r", SUBJECT, msg.STATUS_RESPONSE, ACK, 0)
        chunks += 1
    return chunks


def run(emit):
    light, engine = _light()
    chunks = _read_whole(engine)
    emit("im_read_whole_light", benchlib.time_per_op_us(lambda: _read_whole(engine), 20), "us", chunks=chunks)
    emit("im_read_whole_light_alloc", benchlib.alloc_per_op_bytes(lambda: _read_whole(engine), 5), "B/op")
    toggle = lambda: engine.on_request("i", SUBJECT, msg.INVOKE_REQUEST, TOGGLE, 0)  # noqa: E731
    emit("im_invoke_toggle", benchlib.time_per_op_us(toggle, 200), "us")
    emit("im_invoke_toggle_alloc", benchlib.alloc_per_op_bytes(toggle, 50), "B/op")
    emit("im_light_heap", _light_heap(), "B")
    _codecs(emit, engine)


def _codecs(emit, engine):
    chunk = engine.on_request("c", SUBJECT, msg.READ_REQUEST, READ, 0).payload
    decoders = (
        ("invoke_toggle", msg.decode_invoke_request, TOGGLE),
        ("read_3_paths", msg.decode_read_request, READ3.encode()),
        ("subscribe", msg.decode_subscribe_request, SUBSCRIBE.encode()),
        ("write", msg.decode_write_request, WRITE.encode()),
        ("status_response", msg.decode_status_response, ACK),
        ("report_chunk", msg.decode_report_data, bytes(chunk)),
    )
    for name, decode, data in decoders:
        one = lambda: decode(data)  # noqa: E731
        emit("im_decode_" + name, benchlib.time_per_op_us(one, 200), "us", bytes=len(data))
        emit("im_decode_" + name + "_alloc", benchlib.alloc_per_op_bytes(one, 50), "B/op")
    w = TlvWriter(bytearray(1024))
    for name, message in (("invoke_toggle", TOGGLE_REQUEST), ("read_3_paths", READ3), ("subscribe", SUBSCRIBE)):
        def one(message=message):
            w.reset(w.buf)
            message.encode(w)

        emit("im_encode_" + name, benchlib.time_per_op_us(one, 200), "us")
        emit("im_encode_" + name + "_alloc", benchlib.alloc_per_op_bytes(one, 50), "B/op", includes="getvalue bytes")


def _light_heap():
    before = benchlib.heap_used()
    if before is None:
        return None
    keep = _light()
    after = benchlib.heap_used()
    del keep
    return after - before
