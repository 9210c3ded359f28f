"""The base of every cluster instance: schema look-ups, default attribute storage, data versions, change
notification and persistence.

A cluster class declares ``ID``, ``REVISION``, ``FEATURES``, ``ATTRIBUTES``
and ``COMMANDS``; the default ``read``/``write`` keep each attribute's value
in the instance attribute its ``Attr`` names, and a command calls the method
its ``Cmd`` names as ``method(fields, ctx)``.  Handlers answer a path with a
status by raising ``StatusError``.
"""

from micromatter.datamodel import model as M
from micromatter.datamodel.types import FABRIC_INDEX_TAG
from micromatter.im import status
from micromatter.im.status import StatusError

_schemas = {}


class _Schema:
    """Per-class tables computed once: attributes by id (globals included), commands by id, id lists."""

    def __init__(self, cls):
        attrs = list(cls.ATTRIBUTES) + list(M.GLOBAL_ATTRIBUTES)
        attrs.sort(key=lambda a: a.id)
        self.attributes = tuple(attrs)
        self.attribute_ids = [a.id for a in attrs]
        self.by_attr = {}
        for a in attrs:
            self.by_attr[a.id] = a
        self.by_event = {}
        for e in cls.EVENTS:
            self.by_event[e.id] = e
        self.by_cmd = {}
        accepted = []
        generated = []
        for c in cls.COMMANDS:
            self.by_cmd[c.id] = c
            accepted.append(c.id)
            if c.response_id is not None and c.response_id not in generated:
                generated.append(c.response_id)
        accepted.sort()
        generated.sort()
        self.accepted = accepted
        self.generated = generated


def schema(cls):
    s = _schemas.get(cls)
    if s is None:
        s = _schemas[cls] = _Schema(cls)
    return s


class Cluster:
    ID = 0
    REVISION = 1
    FEATURES = 0
    ATTRIBUTES = ()
    COMMANDS = ()
    EVENTS = ()

    def __init__(self):
        self.endpoint = None  # set by Endpoint.add
        self.data_version = 0
        self.schema = schema(type(self))

    # --- schema ------------------------------------------------------------

    def attribute(self, attr_id):
        return self.schema.by_attr.get(attr_id)

    def attributes(self):
        return self.schema.attributes

    def command(self, cmd_id):
        return self.schema.by_cmd.get(cmd_id)

    def event(self, event_id):
        return self.schema.by_event.get(event_id)

    def emit(self, event_id, fields, now_ms, fabric_index=None):
        """Record one of this cluster's events in the node's event log; returns its event number."""
        node = self.node
        if node is None:
            return None
        return node.events.emit(self, self.schema.by_event[event_id], fields, now_ms, fabric_index)

    @property
    def node(self):
        return self.endpoint.node if self.endpoint is not None else None

    # --- life cycle --------------------------------------------------------

    def attached(self):
        """Called once the cluster is on a node (after persisted values were restored)."""

    def restore(self, attr, value):
        """Put back a persisted value at start-up (default: the instance attribute)."""
        setattr(self, attr.name, value)

    # --- attribute access ------------------------------------------------

    def read(self, attr, ctx):
        aid = attr.id
        if aid >= M.GENERATED_COMMAND_LIST:
            if aid == M.CLUSTER_REVISION:
                return self.REVISION
            if aid == M.FEATURE_MAP:
                return self.FEATURES
            if aid == M.ATTRIBUTE_LIST:
                return self.schema.attribute_ids
            if aid == M.ACCEPTED_COMMAND_LIST:
                return self.schema.accepted
            if aid == M.GENERATED_COMMAND_LIST:
                return self.schema.generated
        return getattr(self, attr.name)

    def write(self, attr, value, ctx):
        """Store a decoded, type-checked value.  For a fabric-scoped list, ``value`` holds the accessing
        fabric's entries only (FabricIndex already set) and replaces them."""
        if attr.flags & M.FABRIC_SCOPED:
            fabric = ctx.subject.fabric_index
            kept = [e for e in getattr(self, attr.name) if e.get(FABRIC_INDEX_TAG) != fabric]
            value = kept + list(value)
        self.set(attr, value)

    def append(self, attr, item, ctx):
        """One list item appended by a chunked write (ListIndex null)."""
        if attr.flags & M.FABRIC_SCOPED:
            fabric = ctx.subject.fabric_index
            current = [e for e in self.read(attr, ctx) if e.get(FABRIC_INDEX_TAG) == fabric]
        else:
            current = list(self.read(attr, ctx))
        max_items = attr.type.max_items
        if max_items is not None and len(current) >= max_items:
            raise StatusError(status.RESOURCE_EXHAUSTED)
        current.append(item)
        self.write(attr, current, ctx)

    def set(self, attr, value):
        """Change a value from the application or a handler: stores, persists if flagged, reports."""
        setattr(self, attr.name, value)
        if attr.flags & M.PERSIST:
            self.save(attr, value)
        self.changed(attr.id)

    def set_by_id(self, attr_id, value):
        self.set(self.schema.by_attr[attr_id], value)

    def save(self, attr, value):
        node = self.node
        if node is not None:
            node.save_attribute(self, attr, value)

    def changed(self, attr_id=None):
        """Bump the data version and tell the node (subscriptions) what changed (None: the whole cluster)."""
        self.data_version = (self.data_version + 1) & 0xFFFFFFFF
        node = self.node
        if node is not None:
            node.notify(self.endpoint.id, self.ID, attr_id)

    # --- commands ----------------------------------------------------------

    def invoke(self, cmd, fields, ctx):
        """Run a command; returns None (success), or the response struct for ``cmd.response_id``."""
        return getattr(self, cmd.name)(fields, ctx)

    # --- timers ------------------------------------------------------------

    def next_deadline(self):
        """The time (ms) this cluster wants ``poll`` called at, or None."""
        return None

    def poll(self, now_ms):
        pass
