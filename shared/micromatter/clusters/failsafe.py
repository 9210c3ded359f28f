"""The commissioning fail-safe: a timer armed by ArmFailSafe, and the undo list it runs when it expires.

Whatever a commissioner changes under the fail-safe (a NOC, a network, the
regulatory config) registers an undo function with ``on_rollback``; when the
timer expires or ArmFailSafe(0) disarms it, the undos run newest first.
CommissioningComplete commits instead: the undos are dropped.
"""

from micromatter import log
from micromatter.im import status
from micromatter.im.status import StatusError

MAX_ROLLBACKS = 16


class FailSafe:
    def __init__(self, max_cumulative_s=900):
        self.max_cumulative_s = max_cumulative_s
        self.armed = False
        self.fabric_index = 0  # the fabric that armed it (0: a PASE commissioner before AddNOC)
        self.deadline_ms = None
        self._cumulative_deadline_ms = None
        self._rollbacks = []
        self.listeners = []  # called with ("expired" | "committed") after the fact
        self.noc_added = False  # set by AddNOC/UpdateNOC (the commissioning code) while armed

    def arm(self, now_ms, seconds, fabric_index):
        """Arm or re-arm for ``seconds`` (capped by the cumulative limit); 0 expires it now."""
        if seconds == 0:
            if self.armed:
                self.expire()
            return
        if not self.armed:
            self.armed = True
            self.fabric_index = fabric_index
            self._cumulative_deadline_ms = now_ms + self.max_cumulative_s * 1000
        self.deadline_ms = min(now_ms + seconds * 1000, self._cumulative_deadline_ms)

    def on_rollback(self, undo):
        """Register ``undo()`` to run if the fail-safe expires.  Ignored when it is not armed."""
        if not self.armed:
            return False
        if len(self._rollbacks) >= MAX_ROLLBACKS:
            raise StatusError(status.RESOURCE_EXHAUSTED, message="fail-safe rollback list full")
        self._rollbacks.append(undo)
        return True

    def expire(self):
        """Roll back everything done under the fail-safe, newest first, and disarm."""
        undos = self._rollbacks
        self._reset()
        while undos:
            undo = undos.pop()
            try:
                undo()
            except Exception as e:  # one failing undo must not keep the others from running
                log.error("failsafe", "rollback failed: " + repr(e))
        self._tell("expired")

    def commit(self):
        """CommissioningComplete: keep everything, disarm."""
        self._reset()
        self._tell("committed")

    def _reset(self):
        self.armed = False
        self.fabric_index = 0
        self.deadline_ms = None
        self._cumulative_deadline_ms = None
        self._rollbacks = []
        self.noc_added = False

    def _tell(self, what):
        for listener in self.listeners:
            listener(what)

    def next_deadline(self):
        return self.deadline_ms

    def poll(self, now_ms):
        if self.armed and now_ms >= self.deadline_ms:
            self.expire()
