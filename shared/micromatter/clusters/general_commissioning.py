"""General Commissioning cluster (0x0030): the fail-safe, the breadcrumb and the regulatory config.

The ``FailSafe`` it drives is shared with the clusters that change things
during commissioning (Operational Credentials, Network Commissioning, Access
Control via the commissioning code), which register their undos with it.
"""

from micromatter.datamodel import types as T
from micromatter.datamodel.cluster import Cluster
from micromatter.datamodel.model import Attr, Cmd, WRITABLE, FIXED, FABRIC_COMMAND
from micromatter.im.acl import ADMINISTER, PASE, CASE
from micromatter.im import status
from micromatter.im.status import StatusError
from micromatter.clusters.failsafe import FailSafe

# CommissioningErrorEnum
OK = 0
VALUE_OUTSIDE_RANGE = 1
INVALID_AUTHENTICATION = 2
NO_FAIL_SAFE = 3
BUSY_WITH_OTHER_ADMIN = 4

# RegulatoryLocationTypeEnum
INDOOR = 0
OUTDOOR = 1
INDOOR_OUTDOOR = 2

BREADCRUMB = 0x0000

_ERROR_RESPONSE = T.Struct((T.Field(0, T.ENUM8), T.Field(1, T.UTF8)))


class GeneralCommissioning(Cluster):
    ID = 0x0030
    REVISION = 1
    ATTRIBUTES = (
        Attr(BREADCRUMB, "breadcrumb", T.UINT64, WRITABLE, write=ADMINISTER),
        Attr(0x0001, "basic_commissioning_info", T.Struct((T.Field(0, T.UINT16), T.Field(1, T.UINT16))), FIXED),
        Attr(0x0002, "regulatory_config", T.ENUM8),
        Attr(0x0003, "location_capability", T.ENUM8, FIXED),
        Attr(0x0004, "supports_concurrent_connection", T.BOOL, FIXED),
    )
    COMMANDS = (
        Cmd(
            0x00,
            "cmd_arm_fail_safe",
            T.Struct((T.Field(0, T.UINT16), T.Field(1, T.UINT64))),
            0x01,
            _ERROR_RESPONSE,
            ADMINISTER,
        ),
        Cmd(
            0x02,
            "cmd_set_regulatory_config",
            T.Struct((T.Field(0, T.ENUM8), T.Field(1, T.UTF8), T.Field(2, T.UINT64))),
            0x03,
            _ERROR_RESPONSE,
            ADMINISTER,
        ),
        Cmd(0x04, "cmd_commissioning_complete", T.EMPTY, 0x05, _ERROR_RESPONSE, ADMINISTER, FABRIC_COMMAND),
    )

    def __init__(self, failsafe=None, location_capability=INDOOR_OUTDOOR, expiry_length_s=60):
        Cluster.__init__(self)
        self.failsafe = failsafe if failsafe is not None else FailSafe()
        self.failsafe.listeners.append(self._failsafe_event)
        self.breadcrumb = 0
        self.basic_commissioning_info = {0: expiry_length_s, 1: self.failsafe.max_cumulative_s}
        self.regulatory_config = location_capability
        self.location_capability = location_capability
        self.supports_concurrent_connection = True
        self.country_code = "XX"
        self.on_commissioning_complete = None  # hook: called with the fabric index
        self.window_open = None  # hook: True while a commissioning window is open (ArmFailSafe over CASE waits)

    def set_breadcrumb(self, value):
        if value != self.breadcrumb:
            self.set_by_id(BREADCRUMB, value)

    def _failsafe_event(self, what):
        self.set_breadcrumb(0)

    def cmd_arm_fail_safe(self, fields, ctx):
        fs = self.failsafe
        fabric = ctx.subject.fabric_index
        # Armed by someone else: another fabric, or (while no NOC is in) a session that is not the commissioner's.
        if fs.armed and fs.fabric_index != fabric and not (fs.fabric_index == 0 and ctx.subject.auth_mode == PASE):
            return {0: BUSY_WITH_OTHER_ADMIN, 1: "armed by another fabric"}
        if not fs.armed and ctx.subject.auth_mode == CASE and self.window_open is not None and self.window_open():
            return {0: BUSY_WITH_OTHER_ADMIN, 1: "commissioning window open"}
        if not fs.armed and fields[0] == 0:
            return {0: OK, 1: ""}
        fs.arm(ctx.now_ms, fields[0], fabric)
        if fields[0] != 0:
            self.set_breadcrumb(fields[1])
        return {0: OK, 1: ""}

    def cmd_set_regulatory_config(self, fields, ctx):
        config, country = fields[0], fields[1]
        if config > INDOOR_OUTDOOR or len(country) != 2:
            raise StatusError(status.CONSTRAINT_ERROR)
        if self.location_capability != INDOOR_OUTDOOR and config != self.location_capability:
            return {0: VALUE_OUTSIDE_RANGE, 1: "location capability"}
        old = (self.regulatory_config, self.country_code)

        def undo():
            self.country_code = old[1]
            self.set_by_id(0x0002, old[0])

        self.failsafe.on_rollback(undo)
        self.country_code = country
        if config != self.regulatory_config:
            self.set_by_id(0x0002, config)
        self.set_breadcrumb(fields[2])
        return {0: OK, 1: ""}

    def cmd_commissioning_complete(self, fields, ctx):
        fs = self.failsafe
        if ctx.subject.auth_mode == PASE:
            return {0: INVALID_AUTHENTICATION, 1: "needs CASE"}
        if not fs.armed:
            return {0: NO_FAIL_SAFE, 1: ""}
        if fs.fabric_index not in (0, ctx.subject.fabric_index):
            return {0: INVALID_AUTHENTICATION, 1: "other fabric"}
        fs.commit()
        if self.on_commissioning_complete is not None:
            self.on_commissioning_complete(ctx.subject.fabric_index)
        return {0: OK, 1: ""}

    def next_deadline(self):
        return self.failsafe.next_deadline()

    def poll(self, now_ms):
        self.failsafe.poll(now_ms)
