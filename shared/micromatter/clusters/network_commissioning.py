"""Network Commissioning cluster (0x0031) for an interface that is already connected.

The node is on the network before commissioning starts (Ethernet, or Wi-Fi
configured out of band), so the cluster reports that one network as
connected and answers the Wi-Fi commands with the statuses a controller
expects, without scanning or reconnecting."""

from micromatter.datamodel import types as T
from micromatter.datamodel.cluster import Cluster
from micromatter.datamodel.model import Attr, Cmd, WRITABLE, NULLABLE, FIXED
from micromatter.im.acl import ADMINISTER
from micromatter.im import status
from micromatter.im.status import StatusError

FEATURE_WIFI = 0x1
FEATURE_ETHERNET = 0x4

# NetworkCommissioningStatusEnum
SUCCESS = 0
OUT_OF_RANGE = 1
BOUNDS_EXCEEDED = 2
NETWORK_ID_NOT_FOUND = 3
UNKNOWN_ERROR = 12

NETWORKS = 0x0001
INTERFACE_ENABLED = 0x0004

NETWORK_INFO = T.Struct((T.Field(0, T.OCTETS), T.Field(1, T.BOOL)))

_COMMON = (
    Attr(0x0000, "max_networks", T.UINT8, FIXED, read=ADMINISTER),
    Attr(NETWORKS, "networks", T.List(NETWORK_INFO), read=ADMINISTER),
    Attr(INTERFACE_ENABLED, "interface_enabled", T.BOOL, WRITABLE, write=ADMINISTER),
    Attr(0x0005, "last_networking_status", T.ENUM8, NULLABLE, read=ADMINISTER),
    Attr(0x0006, "last_network_id", T.OCTETS, NULLABLE, read=ADMINISTER),
    Attr(0x0007, "last_connect_error_value", T.INT32, NULLABLE, read=ADMINISTER),
)

_CONFIG_RESPONSE = T.Struct((T.Field(0, T.ENUM8), T.Field(1, T.UTF8, T.OPTIONAL), T.Field(2, T.UINT8, T.OPTIONAL)))
_BREADCRUMB = T.Field(1, T.UINT64, T.OPTIONAL)


class _NetworkCommissioning(Cluster):
    ID = 0x0031
    REVISION = 1

    def __init__(self, network_id):
        Cluster.__init__(self)
        self.network_id = bytes(network_id)
        self.max_networks = 1
        self.networks = [{0: self.network_id, 1: True}]
        self.interface_enabled = True
        self.last_networking_status = None
        self.last_network_id = None
        self.last_connect_error_value = None


class EthernetNetworkCommissioning(_NetworkCommissioning):
    """The Ethernet-like interface: attributes only, no commands."""

    FEATURES = FEATURE_ETHERNET
    ATTRIBUTES = _COMMON

    def __init__(self, network_id=b"eth0"):
        _NetworkCommissioning.__init__(self, network_id)


class WiFiNetworkCommissioning(_NetworkCommissioning):
    """A Wi-Fi station already joined to ``ssid``."""

    FEATURES = FEATURE_WIFI
    ATTRIBUTES = _COMMON + (
        Attr(0x0002, "scan_max_time_seconds", T.UINT8, FIXED),
        Attr(0x0003, "connect_max_time_seconds", T.UINT8, FIXED),
    )
    COMMANDS = (
        Cmd(
            0x00,
            "cmd_scan_networks",
            T.Struct((T.Field(0, T.OCTETS, T.OPTIONAL | T.NULLABLE), T.Field(1, T.UINT64, T.OPTIONAL))),
            0x01,
            T.Struct((T.Field(0, T.ENUM8), T.Field(1, T.UTF8, T.OPTIONAL))),
            ADMINISTER,
        ),
        Cmd(
            0x02,
            "cmd_add_or_update_wifi_network",
            T.Struct((T.Field(0, T.OCTETS), T.Field(1, T.OCTETS), T.Field(2, T.UINT64, T.OPTIONAL))),
            0x05,
            _CONFIG_RESPONSE,
            ADMINISTER,
        ),
        Cmd(0x04, "cmd_remove_network", T.Struct((T.Field(0, T.OCTETS), _BREADCRUMB)), 0x05, _CONFIG_RESPONSE, ADMINISTER),
        Cmd(
            0x06,
            "cmd_connect_network",
            T.Struct((T.Field(0, T.OCTETS), _BREADCRUMB)),
            0x07,
            T.Struct((T.Field(0, T.ENUM8), T.Field(1, T.UTF8, T.OPTIONAL), T.Field(2, T.INT32, T.NULLABLE))),
            ADMINISTER,
        ),
        Cmd(
            0x08,
            "cmd_reorder_network",
            T.Struct((T.Field(0, T.OCTETS), T.Field(1, T.UINT8), T.Field(2, T.UINT64, T.OPTIONAL))),
            0x05,
            _CONFIG_RESPONSE,
            ADMINISTER,
        ),
    )

    def __init__(self, ssid, failsafe=None):
        _NetworkCommissioning.__init__(self, ssid)
        self.failsafe = failsafe
        self.scan_max_time_seconds = 10
        self.connect_max_time_seconds = 20

    def _need_failsafe(self):
        if self.failsafe is None or not self.failsafe.armed:
            raise StatusError(status.FAILSAFE_REQUIRED)

    def _breadcrumb(self, value):
        if value is None:
            return
        gc = self.node.cluster(0, 0x0030) if self.node is not None else None
        if gc is not None:
            gc.set_breadcrumb(value)

    def _result(self, code, network_id, breadcrumb=None, index=None):
        self.last_networking_status = code
        self.last_network_id = network_id
        self.changed(0x0005)
        if code == SUCCESS:
            self._breadcrumb(breadcrumb)
        out = {0: code}
        if index is not None and code == SUCCESS:
            out[2] = index
        return out

    def cmd_scan_networks(self, fields, ctx):
        # Scanning would drop the connection this node runs on: report that no scan was made.
        return {0: UNKNOWN_ERROR, 1: "scan unsupported while connected"}

    def cmd_add_or_update_wifi_network(self, fields, ctx):
        self._need_failsafe()
        ssid, creds = fields[0], fields[1]
        if not 1 <= len(ssid) <= 32 or len(creds) > 64:
            return self._result(OUT_OF_RANGE, None)
        if bytes(ssid) != self.network_id:
            return self._result(BOUNDS_EXCEEDED, None)
        return self._result(SUCCESS, self.network_id, fields.get(2), 0)

    def cmd_remove_network(self, fields, ctx):
        self._need_failsafe()
        if bytes(fields[0]) != self.network_id or not self.networks:
            return self._result(NETWORK_ID_NOT_FOUND, None)
        saved = self.networks

        def undo():
            self.set_by_id(NETWORKS, saved)

        self.failsafe.on_rollback(undo)
        self.set_by_id(NETWORKS, [])
        return self._result(SUCCESS, self.network_id, fields.get(1), 0)

    def cmd_connect_network(self, fields, ctx):
        self._need_failsafe()
        if bytes(fields[0]) != self.network_id or not self.networks:
            out = self._result(NETWORK_ID_NOT_FOUND, None)
        else:
            out = self._result(SUCCESS, self.network_id, fields.get(1))
        out[2] = None
        return out

    def cmd_reorder_network(self, fields, ctx):
        self._need_failsafe()
        if bytes(fields[0]) != self.network_id or not self.networks:
            return self._result(NETWORK_ID_NOT_FOUND, None)
        if fields[1] >= len(self.networks):
            return self._result(OUT_OF_RANGE, None)
        return self._result(SUCCESS, self.network_id, fields.get(2), 0)
