"""Group Key Management cluster (0x003F): per-fabric group key sets (set 0 is the IPK) and the group key map.

Commissioning stores the IPK epoch key from AddNOC with ``set_ipk``; CASE
reads it back with ``ipk``.  Key sets persist per fabric.  No Groups cluster
exists on this node, so the group table stays empty."""

from micromatter.datamodel import types as T
from micromatter.datamodel.cluster import Cluster
from micromatter.datamodel.model import Attr, Cmd, WRITABLE, FABRIC_SCOPED, FIXED, FABRIC_COMMAND
from micromatter.datamodel import codec
from micromatter.errors import MatterError
from micromatter.im.acl import ADMINISTER, MANAGE
from micromatter.im import status
from micromatter.im.status import StatusError

TRUST_FIRST = 0
CACHE_AND_SYNC = 1
IPK_KEYSET_ID = 0

GROUP_KEY_MAP = 0x0000

KEY_MAP_ENTRY = T.Struct((T.Field(1, T.GROUP_ID), T.Field(2, T.UINT16)), fabric_scoped=True)
GROUP_INFO = T.Struct(
    (T.Field(1, T.GROUP_ID), T.Field(2, T.List(T.ENDPOINT_NO)), T.Field(3, T.UTF8, T.OPTIONAL)),
    fabric_scoped=True,
)
KEY_SET = T.Struct(
    (
        T.Field(0, T.UINT16),
        T.Field(1, T.ENUM8),
        T.Field(2, T.OCTETS, T.NULLABLE),
        T.Field(3, T.EPOCH_US, T.NULLABLE),
        T.Field(4, T.OCTETS, T.NULLABLE),
        T.Field(5, T.EPOCH_US, T.NULLABLE),
        T.Field(6, T.OCTETS, T.NULLABLE),
        T.Field(7, T.EPOCH_US, T.NULLABLE),
    )
)
_STORED = T.List(KEY_SET)


def _validate_key_set(ks):
    if ks[1] not in (TRUST_FIRST, CACHE_AND_SYNC) or ks[1] == CACHE_AND_SYNC:
        raise StatusError(status.CONSTRAINT_ERROR)  # CacheAndSync needs the feature this node lacks
    if ks.get(2) is None or ks.get(3) is None:
        raise StatusError(status.INVALID_COMMAND)
    last = -1
    for key_tag in (2, 4, 6):
        key, start = ks.get(key_tag), ks.get(key_tag + 1)
        if (key is None) != (start is None):
            raise StatusError(status.INVALID_COMMAND)
        if key is None:
            last = None
            continue
        if last is None:
            raise StatusError(status.INVALID_COMMAND)  # epoch key 2 without key 1
        if len(key) != 16:
            raise StatusError(status.CONSTRAINT_ERROR)
        if start <= last and key_tag != 2:
            raise StatusError(status.INVALID_COMMAND)
        last = start


class GroupKeyManagement(Cluster):
    ID = 0x003F
    REVISION = 1
    ATTRIBUTES = (
        Attr(GROUP_KEY_MAP, "group_key_map", T.List(KEY_MAP_ENTRY), WRITABLE | FABRIC_SCOPED, write=MANAGE),
        Attr(0x0001, "group_table", T.List(GROUP_INFO), FABRIC_SCOPED),
        Attr(0x0002, "max_groups_per_fabric", T.UINT16, FIXED),
        Attr(0x0003, "max_group_keys_per_fabric", T.UINT16, FIXED),
    )
    COMMANDS = (
        Cmd(0x00, "cmd_key_set_write", T.Struct((T.Field(0, KEY_SET),)), invoke=ADMINISTER, flags=FABRIC_COMMAND),
        Cmd(
            0x01,
            "cmd_key_set_read",
            T.Struct((T.Field(0, T.UINT16),)),
            0x02,
            T.Struct((T.Field(0, KEY_SET),)),
            ADMINISTER,
            FABRIC_COMMAND,
        ),
        Cmd(0x03, "cmd_key_set_remove", T.Struct((T.Field(0, T.UINT16),)), invoke=ADMINISTER, flags=FABRIC_COMMAND),
        Cmd(
            0x04,
            "cmd_key_set_read_all_indices",
            T.EMPTY,
            0x05,
            T.Struct((T.Field(0, T.List(T.UINT16)),)),
            ADMINISTER,
            FABRIC_COMMAND,
        ),
    )

    def __init__(self, storage=None, max_groups_per_fabric=4, max_group_keys_per_fabric=3):
        Cluster.__init__(self)
        self.storage = storage
        self.group_key_map = []
        self.group_table = []
        self.max_groups_per_fabric = max_groups_per_fabric
        self.max_group_keys_per_fabric = max_group_keys_per_fabric
        self._key_sets = {}  # fabric index -> [key set struct]

    # --- the API commissioning and CASE use ----------------------------------

    def set_ipk(self, fabric_index, epoch_key, start_time=0):
        """Store the IPK epoch key of a fabric (AddNOC's IPKValue) as key set 0."""
        self._put(fabric_index, {0: IPK_KEYSET_ID, 1: TRUST_FIRST, 2: bytes(epoch_key), 3: start_time,
                                 4: None, 5: None, 6: None, 7: None})

    def ipk(self, fabric_index):
        """The IPK epoch key of a fabric (the newest epoch key of key set 0), or None."""
        ks = self._find(fabric_index, IPK_KEYSET_ID)
        if ks is None:
            return None
        for tag in (6, 4, 2):
            if ks.get(tag) is not None:
                return ks[tag]
        return None

    def key_sets(self, fabric_index):
        return list(self._key_sets.get(fabric_index, ()))

    def remove_fabric(self, fabric_index):
        self._key_sets.pop(fabric_index, None)
        self.group_key_map = [e for e in self.group_key_map if e[254] != fabric_index]
        self._save(fabric_index)
        self.changed(GROUP_KEY_MAP)

    # --- key sets ----------------------------------------------------------------

    def _find(self, fabric_index, keyset_id):
        for ks in self._key_sets.get(fabric_index, ()):
            if ks[0] == keyset_id:
                return ks
        return None

    def _put(self, fabric_index, ks):
        sets = self._key_sets.setdefault(fabric_index, [])
        for i in range(len(sets)):
            if sets[i][0] == ks[0]:
                sets[i] = ks
                break
        else:
            if len(sets) >= self.max_group_keys_per_fabric:
                raise StatusError(status.RESOURCE_EXHAUSTED)
            sets.append(ks)
        self._save(fabric_index)

    def _save(self, fabric_index):
        if self.storage is None:
            return
        key = "gk%d" % fabric_index
        sets = self._key_sets.get(fabric_index)
        if sets:
            self.storage.set(key, codec.encode_value(_STORED, sets))
        else:
            self.storage.delete(key)

    def attached(self):
        if self.storage is None:
            return
        for key in self.storage.keys():
            if not key.startswith("gk"):
                continue
            try:
                self._key_sets[int(key[2:])] = codec.decode_value(_STORED, self.storage.get(key))
            except (MatterError, ValueError, KeyError, TypeError):
                self.storage.delete(key)

    def cmd_key_set_write(self, fields, ctx):
        ks = fields[0]
        _validate_key_set(ks)
        for tag in (2, 4, 6):
            if ks.get(tag) is not None:
                ks[tag] = bytes(ks[tag])
        self._put(ctx.subject.fabric_index, ks)

    def cmd_key_set_read(self, fields, ctx):
        ks = self._find(ctx.subject.fabric_index, fields[0])
        if ks is None:
            raise StatusError(status.NOT_FOUND)
        out = dict(ks)
        out[2] = out[4] = out[6] = None  # keys are never read back
        return {0: out}

    def cmd_key_set_remove(self, fields, ctx):
        fabric = ctx.subject.fabric_index
        if fields[0] == IPK_KEYSET_ID:
            raise StatusError(status.INVALID_COMMAND)
        ks = self._find(fabric, fields[0])
        if ks is None:
            raise StatusError(status.NOT_FOUND)
        self._key_sets[fabric].remove(ks)
        self._save(fabric)
        kept = [e for e in self.group_key_map if not (e[254] == fabric and e[2] == fields[0])]
        if len(kept) != len(self.group_key_map):
            self.set_by_id(GROUP_KEY_MAP, kept)

    def cmd_key_set_read_all_indices(self, fields, ctx):
        return {0: [ks[0] for ks in self._key_sets.get(ctx.subject.fabric_index, ())]}

    # --- the group key map -------------------------------------------------------

    def write(self, attr, value, ctx):
        if attr.id == GROUP_KEY_MAP:
            self._check_map(value, ctx.subject.fabric_index)
        Cluster.write(self, attr, value, ctx)

    def _check_map(self, entries, fabric):
        seen = []
        if len(entries) > self.max_groups_per_fabric:
            raise StatusError(status.RESOURCE_EXHAUSTED)
        for e in entries:
            if e[2] == IPK_KEYSET_ID or not 1 <= e[1] <= 0xFFFF:
                raise StatusError(status.CONSTRAINT_ERROR)
            if self._find(fabric, e[2]) is None:
                raise StatusError(status.NOT_FOUND)
            if e[1] in seen:
                raise StatusError(status.CONSTRAINT_ERROR)
            seen.append(e[1])
