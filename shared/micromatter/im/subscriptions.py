"""Subscriptions: what a subscriber asked for, what changed since its last report, and when to report.

A subscription reports changes no sooner than its min interval after the
previous report, and an empty keep-alive report at its max interval if nothing
changed.  Changes are kept as a bounded list of concrete paths; past that
bound the whole subscription is reported again.
"""

from micromatter.compat import const

MAX_DIRTY = const(8)

# What the publisher may choose as MaxInterval at most (spec: SUBSCRIPTION_MAX_INTERVAL_PUBLISHER_LIMIT).
PUBLISHER_LIMIT_S = const(3600)


def choose_max_interval(floor_s, ceiling_s, preferred_s=None):
    """The MaxInterval to grant: the ceiling the subscriber asked for, or ``preferred_s`` kept within
    [floor, max(ceiling, 60 minutes)]."""
    if preferred_s is None:
        return ceiling_s
    upper = max(ceiling_s, PUBLISHER_LIMIT_S)
    return min(max(preferred_s, floor_s), upper)


def event_matches(path, record):
    """True if an event record falls under a (possibly wildcard) event path."""
    return (
        (path.endpoint is None or path.endpoint == record.endpoint_id)
        and (path.cluster is None or path.cluster == record.cluster_id)
        and (path.event is None or path.event == record.event.id)
    )


class Subscription:
    def __init__(self, subscription_id, subject, attribute_paths, event_paths, fabric_filtered, min_interval_s,
                 max_interval_s):
        self.id = subscription_id
        self.subject = subject
        self.attribute_paths = attribute_paths
        self.event_paths = event_paths
        self.fabric_filtered = fabric_filtered
        self.min_interval_s = min_interval_s
        self.max_interval_s = max_interval_s
        self.active = False  # True once the SubscribeResponse went out
        self.last_report_ms = 0
        self.dirty = []
        self.all_dirty = False
        self.in_flight = None  # the report interaction awaiting the subscriber's StatusResponse
        self.event_next = 0  # the first event number not reported yet
        self.events_dirty = False

    def mark(self, endpoint_id, cluster_id, attr_id):
        """Record a change if one of the subscribed paths covers it; True if it did."""
        for p in self.attribute_paths:
            if p.matches(endpoint_id, cluster_id, attr_id):
                break
        else:
            return False
        if self.all_dirty:
            return True
        key = (endpoint_id, cluster_id, attr_id)
        for d in self.dirty:
            if d == key or (d[0] == endpoint_id and d[1] == cluster_id and d[2] is None):
                return True
        if len(self.dirty) >= MAX_DIRTY:
            self.all_dirty = True
            self.dirty = []
        else:
            self.dirty.append(key)
        return True

    def has_changes(self):
        return self.all_dirty or bool(self.dirty) or self.events_dirty

    def wants_event(self, record):
        for p in self.event_paths:
            if event_matches(p, record):
                return True
        return False

    def take_changes(self):
        """The changed paths to report now (None: everything subscribed), clearing them."""
        if self.all_dirty:
            self.all_dirty = False
            return None
        out = self.dirty
        self.dirty = []
        return out

    def deadline(self):
        """When this subscription next needs a report (ms), or None while one is in flight / not active."""
        if not self.active or self.in_flight is not None:
            return None
        keep_alive = self.last_report_ms + self.max_interval_s * 1000
        if self.has_changes():
            return min(self.last_report_ms + self.min_interval_s * 1000, keep_alive)
        return keep_alive
