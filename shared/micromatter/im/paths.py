"""Request paths of the Interaction Model and their expansion against a node.

A field left as None is a wildcard.  Concrete paths that name something
missing are answered with a status (UNSUPPORTED_ENDPOINT/CLUSTER/ATTRIBUTE/
COMMAND); wildcard paths silently expand to what exists.
"""

from micromatter.im import status
from micromatter.im.status import StatusError

# ``list_index`` of an attribute path: absent (the whole attribute) or null (append one item).
WHOLE = -1
APPEND = None


class AttributePath:
    def __init__(self, endpoint=None, cluster=None, attribute=None, node=None, list_index=WHOLE):
        self.endpoint = endpoint
        self.cluster = cluster
        self.attribute = attribute
        self.node = node
        self.list_index = list_index

    def is_concrete(self):
        return self.endpoint is not None and self.cluster is not None and self.attribute is not None

    def __eq__(self, other):
        return (
            isinstance(other, AttributePath)
            and self.endpoint == other.endpoint
            and self.cluster == other.cluster
            and self.attribute == other.attribute
            and self.node == other.node
            and self.list_index == other.list_index
        )

    def __repr__(self):
        return "AttributePath(%r, %r, %r, node=%r, list_index=%r)" % (
            self.endpoint,
            self.cluster,
            self.attribute,
            self.node,
            self.list_index,
        )

    def matches(self, endpoint_id, cluster_id, attr_id):
        """True if the concrete path endpoint/cluster/attribute (attribute None: any) falls under this path."""
        return (
            (self.endpoint is None or self.endpoint == endpoint_id)
            and (self.cluster is None or self.cluster == cluster_id)
            and (self.attribute is None or attr_id is None or self.attribute == attr_id)
        )


class CommandPath:
    def __init__(self, endpoint=None, cluster=None, command=None):
        self.endpoint = endpoint
        self.cluster = cluster
        self.command = command

    def is_concrete(self):
        return self.endpoint is not None and self.cluster is not None and self.command is not None

    def __eq__(self, other):
        return (
            isinstance(other, CommandPath)
            and self.endpoint == other.endpoint
            and self.cluster == other.cluster
            and self.command == other.command
        )

    def __repr__(self):
        return "CommandPath(%r, %r, %r)" % (self.endpoint, self.cluster, self.command)


class EventPath:
    def __init__(self, endpoint=None, cluster=None, event=None, node=None, urgent=None):
        self.endpoint = endpoint
        self.cluster = cluster
        self.event = event
        self.node = node
        self.urgent = urgent

    def is_concrete(self):
        return self.endpoint is not None and self.cluster is not None and self.event is not None

    def __eq__(self, other):
        return (
            isinstance(other, EventPath)
            and self.endpoint == other.endpoint
            and self.cluster == other.cluster
            and self.event == other.event
            and self.node == other.node
            and self.urgent == other.urgent
        )


class DataVersionFilter:
    def __init__(self, endpoint, cluster, version, node=None):
        self.endpoint = endpoint
        self.cluster = cluster
        self.version = version
        self.node = node

    def __eq__(self, other):
        return (
            isinstance(other, DataVersionFilter)
            and self.endpoint == other.endpoint
            and self.cluster == other.cluster
            and self.version == other.version
            and self.node == other.node
        )


def resolve_cluster(node, endpoint_id, cluster_id):
    """The cluster instance at a concrete endpoint/cluster, or StatusError(UNSUPPORTED_ENDPOINT/CLUSTER)."""
    endpoint = node.endpoint(endpoint_id)
    if endpoint is None:
        raise StatusError(status.UNSUPPORTED_ENDPOINT)
    cluster = endpoint.cluster(cluster_id)
    if cluster is None:
        raise StatusError(status.UNSUPPORTED_CLUSTER)
    return cluster


def resolve_attribute(node, path):
    """(cluster, attr) of a concrete attribute path, or StatusError."""
    cluster = resolve_cluster(node, path.endpoint, path.cluster)
    attr = cluster.attribute(path.attribute)
    if attr is None:
        raise StatusError(status.UNSUPPORTED_ATTRIBUTE)
    return cluster, attr


def resolve_command(node, path):
    """(cluster, cmd) of a concrete command path, or StatusError."""
    cluster = resolve_cluster(node, path.endpoint, path.cluster)
    cmd = cluster.command(path.command)
    if cmd is None:
        raise StatusError(status.UNSUPPORTED_COMMAND)
    return cluster, cmd


def expand_clusters(node, path):
    """Yield every existing cluster under a (possibly wildcard) path's endpoint and cluster, in endpoint,
    cluster order; the caller walks their attributes (``path_attributes``).  Clusters, not (cluster, attr)
    pairs: a wildcard read of a whole node would make one pair per attribute."""
    for endpoint in node.endpoints:
        if path.endpoint is not None and path.endpoint != endpoint.id:
            continue
        for cluster in endpoint.clusters:
            if path.cluster is None or path.cluster == cluster.ID:
                yield cluster


def path_attributes(cluster, path):
    """The attributes of ``cluster`` a path names: all of them (a wildcard), the one it names, or none."""
    if path.attribute is None:
        return cluster.attributes()
    attr = cluster.attribute(path.attribute)
    return () if attr is None else (attr,)
