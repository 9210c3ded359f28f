"""The data model of the micromatter light: the root node on endpoint 0 and an On/Off Light on endpoint 1.

``build_light`` wires the clusters to one ACL, one fail-safe and one storage
context and returns a ``Light`` holding the node and the pieces other layers
hook into (commissioning: ACL, fail-safe, key sets, credentials shells)."""

from micromatter.datamodel.node import Node, Endpoint
from micromatter.im.acl import AccessControl
from micromatter.clusters.failsafe import FailSafe
from micromatter.clusters.descriptor import Descriptor
from micromatter.clusters.basic_information import BasicInformation
from micromatter.clusters.access_control import AccessControlCluster
from micromatter.clusters.general_commissioning import GeneralCommissioning
from micromatter.clusters.network_commissioning import EthernetNetworkCommissioning, WiFiNetworkCommissioning
from micromatter.clusters.group_key_management import GroupKeyManagement
from micromatter.clusters.operational_credentials import OperationalCredentials
from micromatter.clusters.administrator_commissioning import AdministratorCommissioning, WINDOW_NOT_OPEN
from micromatter.clusters.identify import Identify
from micromatter.clusters.on_off import OnOff

DEVICE_TYPE_ROOT_NODE = 0x0016
DEVICE_TYPE_ON_OFF_LIGHT = 0x0100
ROOT_NODE_REVISION = 2
ON_OFF_LIGHT_REVISION = 3


class Light:
    """The pieces of the light's data model, by role."""

    def __init__(self, node, acl, failsafe, basic, general_commissioning, network, group_keys, credentials,
                 admin_commissioning, identify, on_off):
        self.node = node
        self.acl = acl
        self.failsafe = failsafe
        self.basic = basic
        self.general_commissioning = general_commissioning
        self.network = network
        self.group_keys = group_keys
        self.credentials = credentials
        self.admin_commissioning = admin_commissioning
        self.identify = identify
        self.on_off = on_off

    def remove_fabric(self, fabric_index):
        """Drop a fabric's data-model state: its ACL entries and group keys (RemoveFabric, fail-safe undo).
        The engine's ``remove_fabric`` drops its subscriptions."""
        self.acl.remove_fabric(fabric_index)
        self.group_keys.remove_fabric(fabric_index)


def build_light(storage=None, random_u32=None, basic=None, wifi_ssid=None, credentials_delegate=None,
                on_change=None, on_identify=None, max_fabrics=5):
    """A light node.  ``storage``: a Storage context for persisted attributes, the ACL and key sets;
    ``wifi_ssid``: a Wi-Fi interface joined to that SSID (default: an Ethernet-like interface);
    ``max_fabrics``: the fabrics the ACL holds entries for (the node's SupportedFabrics)."""
    acl = AccessControl(max_fabrics=max_fabrics)
    failsafe = FailSafe()
    basic = basic if basic is not None else BasicInformation()
    general = GeneralCommissioning(failsafe)
    if wifi_ssid is not None:
        network = WiFiNetworkCommissioning(wifi_ssid, failsafe)
    else:
        network = EthernetNetworkCommissioning()
    group_keys = GroupKeyManagement(storage)
    credentials = OperationalCredentials(credentials_delegate)
    admin = AdministratorCommissioning()
    admin.failsafe = failsafe
    general.window_open = lambda: admin.window_status != WINDOW_NOT_OPEN
    identify = Identify(on_identify=on_identify)
    on_off = OnOff(on_change=on_change)

    node = Node(storage, random_u32)
    root = Endpoint(0, ((DEVICE_TYPE_ROOT_NODE, ROOT_NODE_REVISION),))
    root.add(
        Descriptor(),
        basic,
        AccessControlCluster(acl, storage),
        general,
        network,
        admin,
        credentials,
        group_keys,
    )
    light = Endpoint(1, ((DEVICE_TYPE_ON_OFF_LIGHT, ON_OFF_LIGHT_REVISION),))
    light.add(Descriptor(), identify, on_off)
    node.add(root)
    node.add(light)
    return Light(node, acl, failsafe, basic, general, network, group_keys, credentials, admin, identify, on_off)
