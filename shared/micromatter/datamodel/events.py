"""The node's event log: a bounded buffer of recent events with numbers that never repeat.

Event numbers must grow across reboots, so the log reserves numbers in
blocks and stores the end of the current block before using it (one flash
write per ``RESERVE`` events).  When the buffer is full the oldest event of
the lowest priority present goes first, so critical events outlive info ones.
"""

from micromatter.compat import const

RESERVE = const(1000)
_KEY = "evnum"


class EventRecord:
    def __init__(self, number, endpoint_id, cluster_id, event, time_ms, fields, fabric_index):
        self.number = number
        self.endpoint_id = endpoint_id
        self.cluster_id = cluster_id
        self.event = event
        self.time_ms = time_ms
        self.fields = fields
        self.fabric_index = fabric_index


class EventLog:
    def __init__(self, capacity=16, storage=None):
        self.capacity = capacity
        self.storage = storage
        self.records = []
        self.listeners = []  # listener(record) after each event
        self.next_number = 0
        self._reserved = 0
        if storage is not None:
            data = storage.get(_KEY)
            if data is not None and len(data) == 8:
                self.next_number = self._reserved = int.from_bytes(data, "little")

    def emit(self, cluster, event, fields, now_ms, fabric_index=None):
        number = self.next_number
        if number >= self._reserved:
            self._reserved = number + RESERVE
            if self.storage is not None:
                self.storage.set(_KEY, self._reserved.to_bytes(8, "little"))
        self.next_number = number + 1
        if len(self.records) >= self.capacity:
            self._evict()
        record = EventRecord(number, cluster.endpoint.id, cluster.ID, event, now_ms, fields, fabric_index)
        self.records.append(record)
        for listener in self.listeners:
            listener(record)
        return number

    def _evict(self):
        lowest = None
        for i in range(len(self.records)):
            if lowest is None or self.records[i].event.priority < self.records[lowest].event.priority:
                lowest = i
        self.records.pop(lowest)
