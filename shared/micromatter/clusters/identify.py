"""Identify cluster (0x0003): a countdown during which the light shows itself.

The device learns of it through ``on_identify(seconds)`` (0 when it ends) and
``on_effect(effect, variant)``; the countdown is kept as a deadline and
IdentifyTime is computed from the request time."""

from micromatter.datamodel import types as T
from micromatter.datamodel.cluster import Cluster
from micromatter.datamodel.model import Attr, Cmd, WRITABLE, FIXED
from micromatter.im.acl import MANAGE
from micromatter.im import status
from micromatter.im.status import StatusError

TYPE_NONE = 0
TYPE_LIGHT_OUTPUT = 1

_EFFECTS = (0, 1, 2, 11, 254, 255)


class Identify(Cluster):
    ID = 0x0003
    REVISION = 4
    ATTRIBUTES = (
        Attr(0x0000, "identify_time", T.UINT16, WRITABLE),
        Attr(0x0001, "identify_type", T.ENUM8, FIXED),
    )
    COMMANDS = (
        Cmd(0x00, "cmd_identify", T.Struct((T.Field(0, T.UINT16),)), invoke=MANAGE),
        Cmd(0x40, "cmd_trigger_effect", T.Struct((T.Field(0, T.ENUM8), T.Field(1, T.ENUM8))), invoke=MANAGE),
    )

    def __init__(self, identify_type=TYPE_LIGHT_OUTPUT, on_identify=None, on_effect=None):
        Cluster.__init__(self)
        self.identify_type = identify_type
        self.on_identify = on_identify
        self.on_effect = on_effect
        self._until = None

    def remaining(self, now_ms):
        if self._until is None or now_ms >= self._until:
            return 0
        return (self._until - now_ms + 999) // 1000

    def read(self, attr, ctx):
        if attr.id == 0:
            return self.remaining(ctx.now_ms)
        return Cluster.read(self, attr, ctx)

    def start(self, seconds, now_ms):
        was = self._until is not None
        self._until = now_ms + seconds * 1000 if seconds else None
        if was != (self._until is not None) or seconds:
            self.changed(0)
        if self.on_identify is not None:
            self.on_identify(seconds)

    def write(self, attr, value, ctx):
        if attr.id == 0:
            self.start(value, ctx.now_ms)
        else:
            Cluster.write(self, attr, value, ctx)

    def cmd_identify(self, fields, ctx):
        self.start(fields[0], ctx.now_ms)

    def cmd_trigger_effect(self, fields, ctx):
        if fields[0] not in _EFFECTS:
            raise StatusError(status.CONSTRAINT_ERROR)
        if self.on_effect is not None:
            self.on_effect(fields[0], fields[1])

    def next_deadline(self):
        return self._until

    def poll(self, now_ms):
        if self._until is not None and now_ms >= self._until:
            self.start(0, now_ms)
