"""Interaction model figures: a wildcard Read of the whole light (all chunks) and an Invoke Toggle, time and heap
per interaction, plus the heap the light's data model and engine hold."""

import benchlib
from micromatter.storage import MemoryStorage
from micromatter.clusters.light import build_light
from micromatter.im.engine import Engine
from micromatter.im.acl import Subject, CASE
from micromatter.im import messages as msg
from micromatter.im.paths import AttributePath, CommandPath

SUBJECT = Subject(CASE, 1, 0x1122, session=object())
READ = msg.ReadRequest([AttributePath()]).encode()
TOGGLE = msg.InvokeRequest([msg.CommandData(CommandPath(1, 6, 2), None)]).encode()
ACK = msg.StatusResponse(0).encode()


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


def _light_heap():
    before = benchlib.heap_used()
    if before is None:
        return None
    keep = _light()
    after = benchlib.heap_used()
    del keep
    return after - before
