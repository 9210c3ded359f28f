"""On/Off cluster (0x0006) with the Lighting feature: the light's state.

OnOff is persisted, and StartUpOnOff decides it at boot.  OnTime and
OffWaitTime count down in tenths of a second while the node is polled.  The
application hears every change through ``on_change(on)``."""

from micromatter.datamodel import types as T
from micromatter.datamodel.cluster import Cluster
from micromatter.datamodel.model import Attr, Cmd, WRITABLE, PERSIST, NULLABLE
from micromatter.im.acl import MANAGE
from micromatter.im import status
from micromatter.im.status import StatusError

FEATURE_LIGHTING = 0x1

ON_OFF = 0x0000
GLOBAL_SCENE_CONTROL = 0x4000
ON_TIME = 0x4001
OFF_WAIT_TIME = 0x4002
START_UP_ON_OFF = 0x4003

_TICK_MS = 100


class OnOff(Cluster):
    ID = 0x0006
    REVISION = 6
    FEATURES = FEATURE_LIGHTING
    ATTRIBUTES = (
        Attr(ON_OFF, "on_off", T.BOOL, PERSIST),
        Attr(GLOBAL_SCENE_CONTROL, "global_scene_control", T.BOOL),
        Attr(ON_TIME, "on_time", T.UINT16, WRITABLE),
        Attr(OFF_WAIT_TIME, "off_wait_time", T.UINT16, WRITABLE),
        Attr(START_UP_ON_OFF, "start_up_on_off", T.ENUM8, WRITABLE | NULLABLE | PERSIST, write=MANAGE, limits=(0, 2)),
    )
    COMMANDS = (
        Cmd(0x00, "cmd_off"),
        Cmd(0x01, "cmd_on"),
        Cmd(0x02, "cmd_toggle"),
        Cmd(0x40, "cmd_off_with_effect", T.Struct((T.Field(0, T.ENUM8), T.Field(1, T.ENUM8)))),
        Cmd(0x41, "cmd_on_with_recall_global_scene"),
        Cmd(
            0x42,
            "cmd_on_with_timed_off",
            T.Struct((T.Field(0, T.BITMAP8), T.Field(1, T.UINT16), T.Field(2, T.UINT16))),
        ),
    )

    def __init__(self, on_change=None):
        Cluster.__init__(self)
        self.on_off = False
        self.global_scene_control = True
        self.on_time = 0
        self.off_wait_time = 0
        self.start_up_on_off = None
        self.on_change = on_change
        self._tick_at = None  # next countdown tick (ms), None when nothing counts down
        self._last_ms = 0

    def attached(self):
        mode = self.start_up_on_off
        if mode is not None:
            on = self.on_off if mode > 2 else (mode == 1 or (mode == 2 and not self.on_off))
            if on != self.on_off:
                self.set_by_id(ON_OFF, on)
        if self.on_change is not None:
            self.on_change(self.on_off)

    def switch(self, on, now_ms=None):
        """Set the light (from a command or the application)."""
        if now_ms is not None:
            self._last_ms = now_ms
        if on == self.on_off:
            return
        self.set_by_id(ON_OFF, on)
        if self.on_change is not None:
            self.on_change(on)
        self._schedule()

    def _set_timer(self, attr_id, value):
        if getattr(self, self.attribute(attr_id).name) != value:
            self.set_by_id(attr_id, value)

    def _schedule(self):
        counting = (self.on_off and self.on_time > 0) or (not self.on_off and self.off_wait_time > 0)
        if not counting:
            self._tick_at = None
        elif self._tick_at is None:
            self._tick_at = self._last_ms + _TICK_MS

    # --- commands -------------------------------------------------------------

    def cmd_off(self, fields, ctx):
        self._set_timer(ON_TIME, 0)
        self.switch(False, ctx.now_ms)

    def cmd_on(self, fields, ctx):
        if self.on_time == 0:
            self._set_timer(OFF_WAIT_TIME, 0)
        self._set_timer(GLOBAL_SCENE_CONTROL, True)
        self.switch(True, ctx.now_ms)

    def cmd_toggle(self, fields, ctx):
        if self.on_off:
            self.cmd_off(fields, ctx)
        else:
            self.cmd_on(fields, ctx)

    def cmd_off_with_effect(self, fields, ctx):
        if fields[0] > 1:
            raise StatusError(status.CONSTRAINT_ERROR)
        self._set_timer(GLOBAL_SCENE_CONTROL, False)
        self.cmd_off(fields, ctx)

    def cmd_on_with_recall_global_scene(self, fields, ctx):
        if self.global_scene_control:
            return
        self._set_timer(GLOBAL_SCENE_CONTROL, True)
        if self.on_time == 0:
            self._set_timer(OFF_WAIT_TIME, 0)
        self.switch(True, ctx.now_ms)

    def cmd_on_with_timed_off(self, fields, ctx):
        control, on_time, off_wait = fields[0], fields[1], fields[2]
        if on_time > 0xFFFE or off_wait > 0xFFFE or control & 0xFE:
            raise StatusError(status.CONSTRAINT_ERROR)
        self._last_ms = ctx.now_ms
        if control & 1 and not self.on_off:
            return  # AcceptOnlyWhenOn
        if self.off_wait_time > 0 and not self.on_off:
            self._set_timer(OFF_WAIT_TIME, min(self.off_wait_time, off_wait))
        else:
            self._set_timer(ON_TIME, max(self.on_time, on_time))
            self._set_timer(OFF_WAIT_TIME, off_wait)
            self.switch(True)
        self._schedule()

    def write(self, attr, value, ctx):
        self._last_ms = ctx.now_ms
        Cluster.write(self, attr, value, ctx)
        self._schedule()

    # --- the tenths-of-a-second countdown -----------------------------------

    def next_deadline(self):
        return self._tick_at

    def poll(self, now_ms):
        """Apply every tenth of a second elapsed since the last tick at once (however late the poll)."""
        if self._tick_at is None or now_ms < self._tick_at:
            return
        ticks = (now_ms - self._tick_at) // _TICK_MS + 1
        self._last_ms = self._tick_at + (ticks - 1) * _TICK_MS
        self._tick_at = None
        if self.on_off and self.on_time > 0:
            self._set_timer(ON_TIME, max(0, self.on_time - ticks))
            if self.on_time == 0:
                self._set_timer(OFF_WAIT_TIME, 0)
                self.switch(False)
        elif not self.on_off and self.off_wait_time > 0:
            self._set_timer(OFF_WAIT_TIME, max(0, self.off_wait_time - ticks))
        self._schedule()
