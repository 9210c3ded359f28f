"""Administrator Commissioning cluster (0x003C): opening a commissioning window on a commissioned node.

The window state lives here; opening the window for PASE (verifier, salt,
discriminator, advertising) is the onboarding code's job, reached through the
``on_open(timeout_s, verifier, discriminator, iterations, salt, fabric_index, vendor_id)``,
``on_open_basic(timeout_s, fabric_index, vendor_id)`` (the Basic feature: the device's own
passcode) and ``on_revoke()`` hooks.  ``window_closed()`` is what that code calls back."""

from micromatter.datamodel import types as T
from micromatter.datamodel.cluster import Cluster
from micromatter.datamodel.model import Attr, Cmd, NULLABLE, TIMED
from micromatter.im.acl import ADMINISTER
from micromatter.im import status
from micromatter.im.status import StatusError

# CommissioningWindowStatusEnum
WINDOW_NOT_OPEN = 0
ENHANCED_WINDOW_OPEN = 1
BASIC_WINDOW_OPEN = 2

# Cluster-specific status codes
BUSY = 2
PAKE_PARAMETER_ERROR = 3
WINDOW_NOT_OPEN_STATUS = 4

WINDOW_STATUS = 0x0000

FEATURE_BASIC = 0x1

VERIFIER_LENGTH = 97  # w0 (32) | L (65)


class AdministratorCommissioning(Cluster):
    ID = 0x003C
    REVISION = 1
    FEATURES = FEATURE_BASIC
    ATTRIBUTES = (
        Attr(WINDOW_STATUS, "window_status", T.ENUM8),
        Attr(0x0001, "admin_fabric_index", T.FABRIC_INDEX, NULLABLE),
        Attr(0x0002, "admin_vendor_id", T.VENDOR_ID, NULLABLE),
    )
    COMMANDS = (
        Cmd(
            0x00,
            "cmd_open_commissioning_window",
            T.Struct(
                (
                    T.Field(0, T.UINT16),
                    T.Field(1, T.OCTETS),
                    T.Field(2, T.UINT16),
                    T.Field(3, T.UINT32),
                    T.Field(4, T.OCTETS),
                )
            ),
            invoke=ADMINISTER,
            flags=TIMED,
        ),
        Cmd(0x01, "cmd_open_basic_commissioning_window", T.Struct((T.Field(0, T.UINT16),)), invoke=ADMINISTER,
            flags=TIMED),
        Cmd(0x02, "cmd_revoke_commissioning", invoke=ADMINISTER, flags=TIMED),
    )

    def __init__(self, on_open=None, on_revoke=None, vendor_id_of=None, min_timeout_s=180, max_timeout_s=900):
        Cluster.__init__(self)
        self.window_status = WINDOW_NOT_OPEN
        self.admin_fabric_index = None
        self.admin_vendor_id = None
        self.on_open = on_open
        self.on_revoke = on_revoke
        self.on_open_basic = None
        self.vendor_id_of = vendor_id_of  # fabric index -> the fabric's admin vendor id
        self.min_timeout_s = min_timeout_s
        self.max_timeout_s = max_timeout_s
        self.failsafe = None  # a FailSafe: no window while it is armed

    def cmd_open_commissioning_window(self, fields, ctx):
        timeout, verifier, discriminator, iterations, salt = fields[0], fields[1], fields[2], fields[3], fields[4]
        if self.window_status != WINDOW_NOT_OPEN or (self.failsafe is not None and self.failsafe.armed):
            raise StatusError(status.FAILURE, BUSY)
        if not self.min_timeout_s <= timeout <= self.max_timeout_s or discriminator > 0xFFF:
            raise StatusError(status.INVALID_COMMAND)
        if len(verifier) != VERIFIER_LENGTH or not 1000 <= iterations <= 100000 or not 16 <= len(salt) <= 32:
            raise StatusError(status.FAILURE, PAKE_PARAMETER_ERROR)
        if self.on_open is None:
            raise StatusError(status.FAILURE)
        fabric = ctx.subject.fabric_index
        vendor = self.vendor_id_of(fabric) if self.vendor_id_of is not None else None
        self.on_open(timeout, bytes(verifier), discriminator, iterations, bytes(salt), fabric, vendor)
        self._set(ENHANCED_WINDOW_OPEN, fabric, vendor)

    def cmd_open_basic_commissioning_window(self, fields, ctx):
        timeout = fields[0]
        if self.window_status != WINDOW_NOT_OPEN or (self.failsafe is not None and self.failsafe.armed):
            raise StatusError(status.FAILURE, BUSY)
        if not self.min_timeout_s <= timeout <= self.max_timeout_s:
            raise StatusError(status.INVALID_COMMAND)
        if self.on_open_basic is None:
            raise StatusError(status.FAILURE)
        fabric = ctx.subject.fabric_index
        vendor = self.vendor_id_of(fabric) if self.vendor_id_of is not None else None
        self.on_open_basic(timeout, fabric, vendor)
        self._set(BASIC_WINDOW_OPEN, fabric, vendor)

    def cmd_revoke_commissioning(self, fields, ctx):
        if self.window_status == WINDOW_NOT_OPEN:
            raise StatusError(status.FAILURE, WINDOW_NOT_OPEN_STATUS)
        if self.on_revoke is not None:
            self.on_revoke()
        self.window_closed()

    def window_closed(self):
        self._set(WINDOW_NOT_OPEN, None, None)

    def _set(self, window, fabric, vendor):
        self.window_status = window
        self.admin_fabric_index = fabric
        self.admin_vendor_id = vendor
        self.changed(None)
