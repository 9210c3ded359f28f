"""The commissioning window: when the device accepts PASE, with which verifier, and how it is advertised.

Three kinds of window (Matter Core spec 5.4, 11.19):

- **initial**: an uncommissioned device, with its own verifier, open until commissioning completes
  (no timeout: a device with no fabric has nothing else to do); advertised with CM=1.  It opens
  again when the last fabric is removed.
- **basic**: OpenBasicCommissioningWindow from an administrator: the device's own verifier for
  180..900 s, CM=1, WindowStatus BasicWindowOpen.
- **enhanced**: OpenCommissioningWindow from an administrator: the verifier, salt, iterations and
  discriminator it brings, 180..900 s, CM=2, WindowStatus EnhancedWindowOpen.

While a PASE session from the window lives the commissionable advertisement is withdrawn (one
commissioner at a time; others are answered Busy); it comes back if that session ends (fail-safe
expiry) while the window is still open.  The window closes on its timeout, on CommissioningComplete,
on RevokeCommissioning and after 20 failed PASE attempts.  ``on_change(window)`` tells the node to
update the advertisement (``advertise``/``commissioning_mode``/``discriminator``) and report it.
"""

from micromatter import log
from micromatter.clusters import administrator_commissioning as ac
from micromatter.compat import const
from micromatter.crypto import spake2p
from micromatter.dnssd.matter import CM_BASIC, CM_ENHANCED, CM_OFF
from micromatter.errors import MatterError
from micromatter.im import status
from micromatter.im.status import StatusError

CLOSED = const(0)
INITIAL = const(1)
BASIC = const(2)
ENHANCED = const(3)
KIND_NAMES = ("closed", "initial", "basic", "enhanced")
_TAG = "window"


class CommissioningWindow:
    """Drives the ``PaseResponder`` (``pase``) and the Administrator Commissioning cluster (``admin``) for
    a device whose own discriminator is ``discriminator``.  ``clock()`` gives the node's current time
    (ms): the cluster's hooks do not carry it."""

    def __init__(self, pase, admin, discriminator, clock, on_change=None):
        self.pase = pase
        self.admin = admin
        self.device_discriminator = discriminator
        self.clock = clock
        self.on_change = on_change
        self.kind = CLOSED
        self.deadline_ms = None
        self.discriminator = discriminator
        self.pase_active = False  # a PASE session from this window lives: not advertised meanwhile
        self.closed_reason = None
        admin.on_open = self._on_open_enhanced
        admin.on_revoke = self._on_revoke
        admin.on_open_basic = self._on_open_basic

    # --- state ------------------------------------------------------------------------------------

    @property
    def is_open(self):
        return self.kind != CLOSED

    @property
    def advertise(self):
        """True while the commissionable service should be published."""
        return self.kind != CLOSED and not self.pase_active

    @property
    def commissioning_mode(self):
        """CM of the commissionable TXT record: 2 for an enhanced window, 1 otherwise, 0 when closed."""
        if self.kind == CLOSED:
            return CM_OFF
        return CM_ENHANCED if self.kind == ENHANCED else CM_BASIC

    @property
    def kind_name(self):
        return KIND_NAMES[self.kind]

    def _changed(self):
        if self.on_change is not None:
            self.on_change(self)

    # --- opening ---------------------------------------------------------------------------------------

    def open_initial(self, now_ms):
        """The uncommissioned device's window (its own verifier, no timeout)."""
        self.pase.open_window(now_ms)
        self._opened(INITIAL, None, self.device_discriminator)

    def _opened(self, kind, deadline_ms, discriminator):
        self.kind = kind
        self.deadline_ms = deadline_ms
        self.discriminator = discriminator
        self.pase_active = False
        self.closed_reason = None
        log.info(_TAG, "%s window open (discriminator %d)" % (KIND_NAMES[kind], discriminator))
        self._changed()

    def _check_can_open(self):
        if self.kind == ENHANCED or self.kind == BASIC:
            raise StatusError(status.FAILURE, ac.BUSY)
        if self.admin.failsafe is not None and self.admin.failsafe.armed:
            raise StatusError(status.FAILURE, ac.BUSY)
        if self.pase_active:
            raise StatusError(status.FAILURE, ac.BUSY)

    def _on_open_enhanced(self, timeout_s, verifier, discriminator, iterations, salt, fabric_index, vendor_id):
        """The cluster's OpenCommissioningWindow hook (arguments checked for ranges by the shell)."""
        if not fabric_index:
            raise StatusError(status.FAILURE, ac.PAKE_PARAMETER_ERROR)  # over PASE: no fabric to open it for
        self._check_can_open()
        try:
            v = spake2p.PasscodeVerifier.decode(verifier)
        except MatterError:
            raise StatusError(status.FAILURE, ac.PAKE_PARAMETER_ERROR)
        now = self.clock()
        self.pase.open_window(now, v, salt, iterations)
        self._opened(ENHANCED, now + timeout_s * 1000, discriminator)

    def _on_open_basic(self, timeout_s, fabric_index, vendor_id):
        """The cluster's OpenBasicCommissioningWindow hook."""
        if not fabric_index:
            raise StatusError(status.FAILURE, ac.PAKE_PARAMETER_ERROR)
        self._check_can_open()
        now = self.clock()
        self.pase.open_window(now)
        self._opened(BASIC, now + timeout_s * 1000, self.device_discriminator)

    # --- closing ---------------------------------------------------------------------------------------

    def close(self, reason):
        """Stop accepting PASE (an established PASE session is left to the fail-safe)."""
        if self.kind == CLOSED:
            return
        was = self.kind
        self.pase.close_window()
        self.kind = CLOSED
        self.deadline_ms = None
        self.discriminator = self.device_discriminator
        self.pase_active = False
        self.closed_reason = reason
        log.info(_TAG, "%s window closed: %s" % (KIND_NAMES[was], reason))
        if was != INITIAL and self.admin.window_status != ac.WINDOW_NOT_OPEN:
            self.admin.window_closed()
        self._changed()

    def _on_revoke(self):
        """RevokeCommissioning: the fail-safe expires (reverting what it covered) and the window closes."""
        fs = self.admin.failsafe
        if fs is not None and fs.armed:
            fs.expire()
        self.close("revoked")

    # --- PASE --------------------------------------------------------------------------------------------

    def pase_established(self):
        if self.kind != CLOSED and not self.pase_active:
            self.pase_active = True
            self._changed()

    def pase_ended(self):
        """The window's PASE session is gone (fail-safe expiry, commissioner left): advertise again."""
        if self.pase_active:
            self.pase_active = False
            if self.kind != CLOSED:
                self._changed()

    # --- time --------------------------------------------------------------------------------------------

    def next_deadline(self):
        return self.deadline_ms if self.kind != CLOSED else None

    def poll(self, now_ms):
        if self.kind != CLOSED and self.deadline_ms is not None and now_ms >= self.deadline_ms:
            self.close("timeout")
