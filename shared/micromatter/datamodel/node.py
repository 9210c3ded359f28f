"""The node: endpoints of cluster instances, change listeners, timers and persisted attributes.

The node is the data model the IM engine walks; it knows nothing of
messages.  Attribute changes are announced to ``listeners`` as
``listener(endpoint_id, cluster_id, attribute_id_or_None)``.
"""

from micromatter.datamodel import model as M
from micromatter.datamodel import codec
from micromatter.datamodel.events import EventLog
from micromatter.errors import MatterError
from micromatter.tlv import TlvWriter


class Context:
    """What a handler may know of the request it serves: the node, the subject, the time, and whether
    the read is fabric-filtered or the write/invoke is timed."""

    def __init__(self, node, subject, now_ms, fabric_filtered=True, timed=False):
        self.node = node
        self.subject = subject
        self.now_ms = now_ms
        self.fabric_filtered = fabric_filtered
        self.timed = timed


class Endpoint:
    """An endpoint: its id, its device types ((id, revision), ...) and its clusters in id order."""

    def __init__(self, id, device_types):
        self.id = id
        self.device_types = tuple(device_types)
        self.device_type_ids = tuple(d[0] for d in device_types)
        self.clusters = []
        self.node = None

    def add(self, *clusters):
        for c in clusters:
            c.endpoint = self
            self.clusters.append(c)
        self.clusters.sort(key=lambda c: c.ID)
        if self.node is not None:
            for c in clusters:
                self.node._attach(c)
        return self

    def cluster(self, cluster_id):
        for c in self.clusters:
            if c.ID == cluster_id:
                return c
        return None


class Node:
    """The whole data model of a device.

    ``storage``: a ``micromatter.storage.Storage`` context for persisted
    attributes (None keeps them in memory only).  ``random_u32``: a function
    giving initial data versions (the spec wants them random).  ``events``: the node's event log."""

    def __init__(self, storage=None, random_u32=None, event_capacity=16):
        self.endpoints = []
        self.listeners = []
        self.storage = storage
        self._random_u32 = random_u32
        self._counter = 0
        self._writer = None  # reused to encode persisted values
        self.events = EventLog(event_capacity, storage)

    def add(self, endpoint):
        endpoint.node = self
        self.endpoints.append(endpoint)
        self.endpoints.sort(key=lambda e: e.id)
        for c in endpoint.clusters:
            self._attach(c)
        return endpoint

    def endpoint(self, endpoint_id):
        for e in self.endpoints:
            if e.id == endpoint_id:
                return e
        return None

    def cluster(self, endpoint_id, cluster_id):
        e = self.endpoint(endpoint_id)
        return e.cluster(cluster_id) if e is not None else None

    def _attach(self, cluster):
        if self._random_u32 is not None:
            cluster.data_version = self._random_u32() & 0xFFFFFFFF
        else:
            self._counter += 1
            cluster.data_version = self._counter
        self._restore(cluster)
        cluster.attached()

    # --- change notification -----------------------------------------------

    def notify(self, endpoint_id, cluster_id, attr_id):
        for listener in self.listeners:
            listener(endpoint_id, cluster_id, attr_id)

    # --- timers ----------------------------------------------------------------

    def next_deadline(self):
        best = None
        for e in self.endpoints:
            for c in e.clusters:
                d = c.next_deadline()
                if d is not None and (best is None or d < best):
                    best = d
        return best

    def poll(self, now_ms):
        for e in self.endpoints:
            for c in e.clusters:
                d = c.next_deadline()
                if d is not None and d <= now_ms:
                    c.poll(now_ms)

    # --- persistence -----------------------------------------------------------

    @staticmethod
    def _key(cluster, attr):
        return "a%x_%x_%x" % (cluster.endpoint.id, cluster.ID, attr.id)

    def save_attribute(self, cluster, attr, value):
        if self.storage is not None:
            if self._writer is None:
                self._writer = TlvWriter()
            self.storage.set(self._key(cluster, attr), codec.encode_value(attr.type, value, False, self._writer))

    def _restore(self, cluster):
        if self.storage is None:
            return
        for attr in cluster.attributes():
            if not attr.flags & M.PERSIST:
                continue
            try:
                data = self.storage.get(self._key(cluster, attr))
            except KeyError:
                data = None
            if data is None:
                continue
            try:
                value = codec.decode_value(attr.type, data, attr.flags & M.NULLABLE)
            except MatterError:
                continue  # a corrupt record falls back to the default value
            cluster.restore(attr, value)
