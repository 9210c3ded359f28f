"""Descriptor cluster (0x001D): what an endpoint is (device types) and holds (server/client clusters, parts).

Every value is derived from the node's structure, so nothing is stored."""

from micromatter.datamodel import types as T
from micromatter.datamodel.cluster import Cluster
from micromatter.datamodel.model import Attr, FIXED

DEVICE_TYPE = T.Struct((T.Field(0, T.DEVTYPE_ID), T.Field(1, T.UINT16)))


class Descriptor(Cluster):
    ID = 0x001D
    REVISION = 2
    ATTRIBUTES = (
        Attr(0x0000, "device_type_list", T.List(DEVICE_TYPE), FIXED),
        Attr(0x0001, "server_list", T.List(T.CLUSTER_ID), FIXED),
        Attr(0x0002, "client_list", T.List(T.CLUSTER_ID), FIXED),
        Attr(0x0003, "parts_list", T.List(T.ENDPOINT_NO), FIXED),
    )

    def __init__(self, client_clusters=()):
        Cluster.__init__(self)
        self.client_list = list(client_clusters)

    @property
    def device_type_list(self):
        return [{0: d, 1: r} for d, r in self.endpoint.device_types]

    @property
    def server_list(self):
        return [c.ID for c in self.endpoint.clusters]

    @property
    def parts_list(self):
        # The root endpoint lists every other endpoint; this flat node has no deeper composition.
        if self.endpoint.id != 0:
            return []
        return [e.id for e in self.node.endpoints if e.id != 0]
