"""The light's GPIO: the On/Off attribute drives a pin, Identify blinks it.

The node reports what the user sees as events (``onoff`` with ``value``, ``identify`` with ``seconds``);
``Light.on_event`` turns them into pin levels.  ``pin_class`` is ``machine.Pin`` on a board (imported only
there); tests pass a stand-in with ``value(level)`` and run under the unix port (``asyncio.sleep_ms`` and
``time.ticks_ms`` are MicroPython's).
"""

import asyncio
import time

BLINK_HALF_PERIOD_MS = 500  # Identify: 1 Hz, as the spec's visible indication suggests
MAX_IDENTIFY_S = 600


class Light:
    """A lamp (or LED) on GPIO ``pin``, lit at a high level unless ``active_low``."""

    def __init__(self, pin, active_low=False, pin_class=None):
        if pin_class is None:
            from machine import Pin as pin_class
        self.pin = pin_class(pin, pin_class.OUT)
        self.active_low = bool(active_low)
        self.on = False
        self._blink_until = 0  # identify deadline (ms) while a blink task runs
        self._task = None
        self.set(False)

    def _level(self, lit):
        self.pin.value(1 if bool(lit) != self.active_low else 0)

    def set(self, on):
        """Show the On/Off attribute (unless blinking: the state is shown again when Identify ends)."""
        self.on = bool(on)
        if self._task is None:
            self._level(self.on)

    def identify(self, seconds):
        """Blink for ``seconds`` (0 stops); runs as an asyncio task on the node's loop."""
        seconds = max(0, min(int(seconds), MAX_IDENTIFY_S))
        self._blink_until = time.ticks_ms() + seconds * 1000
        if seconds and self._task is None:
            self._task = asyncio.create_task(self._blink())

    async def _blink(self):
        lit = not self.on
        try:
            while time.ticks_diff(self._blink_until, time.ticks_ms()) > 0:
                self._level(lit)
                lit = not lit
                await asyncio.sleep_ms(BLINK_HALF_PERIOD_MS)
        finally:
            self._task = None
            self._level(self.on)

    def on_event(self, event):
        """Follow a node event dict; other events are ignored."""
        kind = event.get("event")
        if kind == "onoff":
            self.set(event.get("value"))
        elif kind == "identify":
            self.identify(event.get("seconds") or 0)

