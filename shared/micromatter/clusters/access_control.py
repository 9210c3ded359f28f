"""Access Control cluster (0x001F): the ACL as a fabric-scoped list attribute, validated and persisted.

The ``AccessControl`` table (``micromatter.im.acl``) is the truth the engine
checks; this cluster exposes it, writes it per fabric and stores each fabric's
entries under its own storage key."""

from micromatter.datamodel import types as T
from micromatter.datamodel.cluster import Cluster
from micromatter.datamodel.model import Attr, WRITABLE, FABRIC_SCOPED, FIXED
from micromatter.datamodel import codec
from micromatter.errors import MatterError
from micromatter.im.acl import ADMINISTER, Entry
from micromatter.im import status
from micromatter.im.status import StatusError

ACL = 0x0000

TARGET = T.Struct(
    (
        T.Field(0, T.CLUSTER_ID, T.NULLABLE),
        T.Field(1, T.ENDPOINT_NO, T.NULLABLE),
        T.Field(2, T.DEVTYPE_ID, T.NULLABLE),
    )
)
ENTRY = T.Struct(
    (
        T.Field(1, T.ENUM8, T.SENSITIVE),
        T.Field(2, T.ENUM8, T.SENSITIVE),
        T.Field(3, T.List(T.UINT64), T.NULLABLE | T.SENSITIVE),
        T.Field(4, T.List(TARGET), T.NULLABLE | T.SENSITIVE),
    ),
    fabric_scoped=True,
)
_STORED = T.List(ENTRY)


def entry_to_struct(e):
    return {
        1: e.privilege,
        2: e.auth_mode,
        3: list(e.subjects) if e.subjects else None,
        4: [{0: c, 1: ep, 2: d} for c, ep, d in e.targets] if e.targets else None,
        254: e.fabric_index,
    }


def struct_to_entry(s):
    targets = s.get(4) or ()
    try:
        targets = tuple((t.get(0), t.get(1), t.get(2)) for t in targets)
    except AttributeError:
        raise StatusError(status.CONSTRAINT_ERROR)
    return Entry(s[254], s[1], s[2], s.get(3) or (), targets)


class AccessControlCluster(Cluster):
    ID = 0x001F
    REVISION = 1
    ATTRIBUTES = (
        Attr(ACL, "acl", T.List(ENTRY), WRITABLE | FABRIC_SCOPED, read=ADMINISTER, write=ADMINISTER),
        Attr(0x0002, "subjects_per_entry", T.UINT16, FIXED),
        Attr(0x0003, "targets_per_entry", T.UINT16, FIXED),
        Attr(0x0004, "entries_per_fabric", T.UINT16, FIXED),
    )

    def __init__(self, acl, storage=None):
        Cluster.__init__(self)
        self.table = acl
        self.storage = storage
        acl.listeners.append(self._acl_changed)

    @property
    def subjects_per_entry(self):
        return self.table.subjects_per_entry

    @property
    def targets_per_entry(self):
        return self.table.targets_per_entry

    @property
    def entries_per_fabric(self):
        return self.table.entries_per_fabric

    def attached(self):
        self.load()

    def read(self, attr, ctx):
        if attr.id == ACL:
            return [entry_to_struct(e) for e in self.table.entries()]
        return Cluster.read(self, attr, ctx)

    def write(self, attr, value, ctx):
        entries = [struct_to_entry(s) for s in value]
        self.table.replace_fabric(ctx.subject.fabric_index, entries)

    def append(self, attr, item, ctx):
        self.table.add(struct_to_entry(item))

    # --- persistence -----------------------------------------------------

    def _acl_changed(self, fabric_index):
        if self.storage is not None:
            key = "acl%d" % fabric_index
            entries = [entry_to_struct(e) for e in self.table.entries(fabric_index)]
            if entries:
                self.storage.set(key, codec.encode_value(_STORED, entries))
            else:
                self.storage.delete(key)
        self.changed(ACL)

    def load(self):
        """Restore every fabric's entries from storage (a corrupt record is dropped)."""
        if self.storage is None:
            return
        for key in self.storage.keys():
            if not key.startswith("acl"):
                continue
            try:
                fabric_index = int(key[3:])
                data = self.storage.get(key)
                entries = [struct_to_entry(s) for s in codec.decode_value(_STORED, data)]
                self.table.replace_fabric(fabric_index, entries, notify=False)
            except (MatterError, ValueError, KeyError, TypeError):
                self.storage.delete(key)
